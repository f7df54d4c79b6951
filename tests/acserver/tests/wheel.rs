//! The wheel (`make wheel`), as a user gets it: built here from the release component with
//! python/build_wheel.py, installed with pip into a fresh virtual environment, and run with no
//! wasmtime CLI on PATH (checked): the Airbyte commands checked by Airbyte's protocol models,
//! the Singer executable by singer-check-tap, Ctrl-C in the middle of a read, the compiled-code
//! cache, PyAirbyte and Meltano installing it by `pip_url`, the README's dlt block loading
//! DuckDB twice (and with streams the account may not read), and the oldest wasmtime of the
//! wheel's range. The environment is kept in target/wheel-test/venv-<wheel hash> (a rerun with the
//! same wheel starts at once; a new wheel gets a new one and the old one is removed).

mod common;
use ac_test_server::{Dataset, Server, ServerConfig};
use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const KEY: &str = "wheel-key-5c2e90";

/// The built wheel and the environment it is installed in.
struct Wheel {
    file: PathBuf,
    hash: String,
    venv: PathBuf,
}

fn work_dir() -> PathBuf {
    repo().join("target/wheel-test")
}

/// Runs a command that must succeed; returns its stdout. Fails naming `what` with its output.
fn must(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what} does not start: {e}"));
    succeeded(what, &out, KEY)
}

/// A new virtual environment at `venv` with `packages` (pip arguments) installed.
fn new_venv(venv: &Path, packages: &[&std::ffi::OsStr], what: &str) {
    must(
        Command::new("python3").arg("-m").arg("venv").arg(venv),
        "python3 -m venv",
    );
    must(
        Command::new(venv.join("bin/python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(packages),
        what,
    );
}

fn wheel() -> &'static Wheel {
    static W: OnceLock<Wheel> = OnceLock::new();
    W.get_or_init(build_and_install)
}

/// Builds the wheel, and a virtual environment with it unless one for this very wheel exists.
fn build_and_install() -> Wheel {
    let root = work_dir();
    let built = must(
        Command::new("python3")
            .arg(repo().join("python/build_wheel.py"))
            .arg(component())
            .arg(root.join("dist")),
        "python/build_wheel.py",
    );
    let file = PathBuf::from(built.trim());
    let hash = must(
        Command::new("python3")
            .args([
                "-c",
                "import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())",
            ])
            .arg(&file),
        "sha256 of the wheel",
    )
    .trim()
    .to_string();
    let venv = root.join(format!("venv-{}", &hash[..16]));
    if !venv.join(".ready").exists() {
        // Environments of other wheels go: each holds dlt and DuckDB (a few hundred MB).
        for e in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            if e.file_name().to_string_lossy().starts_with("venv-") {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
        let requirements = repo().join("tests/python/requirements-wheel.txt");
        new_venv(
            &venv,
            &["-r".as_ref(), requirements.as_os_str(), file.as_os_str()],
            "pip install the wheel",
        );
        must(
            Command::new(venv.join("bin/python")).args(["-m", "pip", "check"]),
            "pip check",
        );
        std::fs::write(venv.join(".ready"), &hash).expect("stamp the environment");
    }
    Wheel { file, hash, venv }
}

/// PATH for the wheel's programs: its environment and the system's, not ~/.cargo/bin.
fn path(w: &Wheel) -> String {
    format!(
        "{}:/usr/local/bin:/usr/bin:/bin",
        w.venv.join("bin").display()
    )
}

/// A program of the wheel's environment, run in `dir` with the wheel's PATH and the test cache.
fn program(w: &Wheel, dir: &Path, name: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(w.venv.join("bin").join(name));
    cmd.current_dir(dir)
        .args(args)
        .env("PATH", path(w))
        .env("SOURCE_ACTIVECAMPAIGN_CACHE_DIR", work_dir().join("cache"))
        .env_remove("VIRTUAL_ENV");
    cmd
}

fn as_run(out: Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn run(w: &Wheel, dir: &Path, name: &str, args: &[&str]) -> Run {
    let out = program(w, dir, name, args)
        .output()
        .unwrap_or_else(|e| panic!("{name} does not start: {e}"));
    let r = as_run(out);
    assert!(
        !r.stdout.contains(KEY) && !r.stderr.contains(KEY),
        "{name} {args:?}: the API key was printed"
    );
    r
}

/// Validates a command's output with Airbyte's protocol models (tests/python/validate_airbyte.py).
fn validate_airbyte(s: &Scratch, name: &str, r: &Run, require: &str) {
    let file = s.dir.join(format!("{name}.jsonl"));
    std::fs::write(&file, &r.stdout).expect("save output");
    let script = repo().join("tests/python/validate_airbyte.py");
    let (ok, text) = run_tool(
        &venv_bin("airbyte", "python"),
        &[
            &script.display().to_string(),
            "--require",
            require,
            &file.display().to_string(),
        ],
        None,
    );
    assert!(ok, "{name}: the protocol models refuse the output:\n{text}");
}

fn server_ids(srv: &Server) -> BTreeMap<String, BTreeSet<String>> {
    srv.with_dataset(|d| {
        d.stream_names()
            .iter()
            .map(|n| (connector_name(n), d.ids(n).into_iter().collect()))
            .collect()
    })
}

#[test]
fn the_environment_has_the_wheel_and_no_wasmtime_cli() {
    let w = wheel();
    let name = w.file.file_name().map(|n| n.to_string_lossy().into_owned());
    assert_eq!(
        name.as_deref(),
        Some("source_activecampaign-0.2.0-py3-none-any.whl"),
        "the wheel's name (the README names it: change both)"
    );
    let which = Command::new("sh")
        .args(["-c", "command -v wasmtime"])
        .env("PATH", path(w))
        .output()
        .expect("sh");
    assert!(
        !which.status.success(),
        "a wasmtime CLI is on the wheel's PATH: {}",
        String::from_utf8_lossy(&which.stdout)
    );
    let installed = must(
        Command::new(w.venv.join("bin/python")).args([
            "-c",
            "import source_activecampaign as s; print(s.COMPONENT)",
        ]),
        "import source_activecampaign",
    );
    let shipped = std::fs::read(installed.trim()).expect("the installed component");
    assert!(
        shipped == std::fs::read(component()).expect("the component"),
        "the wheel holds another component than {}",
        component().display()
    );
    // Reproducible: building again gives the same bytes.
    let again = must(
        Command::new("python3")
            .arg(repo().join("python/build_wheel.py"))
            .arg(component())
            .arg(work_dir().join("dist-again")),
        "python/build_wheel.py again",
    );
    let a = std::fs::read(&w.file).expect("wheel");
    let b = std::fs::read(again.trim()).expect("wheel again");
    assert!(a == b, "two builds of the wheel differ");
    assert_eq!(w.hash.len(), 64);
}

#[test]
fn airbyte_commands_pass_the_protocol_models() {
    let w = wheel();
    let srv = TestServer::new(KEY, 31, 150).start();
    let s = Scratch::new("wheel-airbyte");
    let cfg = complete_config(&srv.base_url(), KEY, 50.0);
    std::fs::write(s.dir.join("config.json"), &cfg).expect("config");
    let ab = "source-activecampaign";
    // Relative paths: the caller's folder, as under the README's wrapper script.
    let spec = run(w, &s.dir, ab, &["spec"]);
    assert_eq!(spec.code, 0, "{}", spec.stderr);
    validate_airbyte(&s, "spec", &spec, "SPEC");
    let check = run(w, &s.dir, ab, &["check", "--config", "config.json"]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert_eq!(
        check.of_type("CONNECTION_STATUS")[0]["connectionStatus"]["status"],
        "SUCCEEDED"
    );
    validate_airbyte(&s, "check", &check, "CONNECTION_STATUS");
    let disc = run(w, &s.dir, ab, &["discover", "--config", "config.json"]);
    assert_eq!(disc.code, 0, "{}", disc.stderr);
    validate_airbyte(&s, "discover", &disc, "CATALOG");
    let streams = disc.of_type("CATALOG")[0]["catalog"]["streams"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    std::fs::write(s.dir.join("catalog.json"), incremental_catalog(&streams)).expect("catalog");
    let args = [
        "read",
        "--config",
        "config.json",
        "--catalog",
        "catalog.json",
    ];
    let read = run(w, &s.dir, ab, &args);
    assert_eq!(read.code, 0, "{}", tail(&read.stderr));
    validate_airbyte(&s, "read", &read, "RECORD,STATE");
    let got = ids_by_stream(&read.messages());
    for (stream, ids) in server_ids(&srv) {
        assert_exactly(&stream, ids.into_iter().collect(), got.get(&stream));
    }
    // A refused key: exit 1 with a FAILED status, as under the CLI; neither key printed.
    let bad = config(&srv.base_url(), "wrong-key-0a9d", 50.0);
    std::fs::write(s.dir.join("bad.json"), bad).expect("bad config");
    let refused = run(w, &s.dir, ab, &["check", "--config", "bad.json"]);
    assert_failed_cleanly(&refused, "check with a wrong key");
    assert!(
        !refused.stdout.contains("wrong-key-0a9d") && !refused.stderr.contains("wrong-key-0a9d")
    );
    // A missing file: the error names the path as the caller gave it, resolved from its folder.
    let missing = run(w, &s.dir, ab, &["check", "--config", "nothere.json"]);
    assert_failed_cleanly(&missing, "check with a missing config");
    let at = s.dir.join("nothere.json").display().to_string();
    assert!(missing.stdout.contains(&at), "{}", missing.stdout);
}

#[test]
fn the_compiled_component_is_cached_by_runtime_version_and_hash() {
    let w = wheel();
    let s = Scratch::new("wheel-cache");
    let cache = s.dir.join("cache");
    let spec = |n: usize| -> Duration {
        let t = Instant::now();
        let out = program(w, &s.dir, "source-activecampaign", &["spec"])
            .env("SOURCE_ACTIVECAMPAIGN_CACHE_DIR", &cache)
            .output()
            .expect("spec");
        let took = t.elapsed();
        assert!(
            out.status.success(),
            "spec #{n}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        took
    };
    let first = spec(1);
    let files: Vec<PathBuf> = std::fs::read_dir(&cache)
        .expect("the cache folder was made")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 1, "one compiled file: {files:?}");
    let name = files[0]
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let digest = must(
        Command::new("python3")
            .args([
                "-c",
                "import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())",
            ])
            .arg(component()),
        "sha256 of the component",
    );
    assert!(
        name.starts_with("wasmtime-51.0.0-") && name.contains(&digest.trim()[..32]),
        "the cache file is keyed by the runtime's version and the component's hash: {name}"
    );
    use std::os::unix::fs::MetadataExt;
    let before = std::fs::metadata(&files[0]).expect("cache file");
    let second = spec(2);
    let after = std::fs::metadata(&files[0]).expect("cache file");
    assert_eq!(
        (before.ino(), before.mtime_nsec()),
        (after.ino(), after.mtime_nsec()),
        "the second start loaded the compiled file instead of compiling again"
    );
    eprintln!("spec: first start {first:?} (compiles), second {second:?} (cached)");
    assert!(second < first, "cached start {second:?} vs first {first:?}");
}

#[test]
fn singer_executable_passes_singer_check_tap() {
    let w = wheel();
    let srv = TestServer::new(KEY, 37, 120).start();
    let s = Scratch::new("wheel-singer");
    std::fs::write(
        s.dir.join("config.json"),
        config(&srv.base_url(), KEY, 50.0),
    )
    .expect("config");
    let tap = w.venv.join("bin/tap-activecampaign").display().to_string();
    let launcher = repo().join("tests/python/singer_check_tap.py");
    let report = must(
        Command::new(venv_bin("singertools", "python"))
            .current_dir(&s.dir)
            .arg(&launcher)
            .args(["--tap", &tap, "--config", "config.json"])
            .env("PATH", path(w))
            .env("SOURCE_ACTIVECAMPAIGN_CACHE_DIR", work_dir().join("cache")),
        "singer-check-tap",
    );
    assert_eq!(
        report.matches("The output is valid.").count(),
        2,
        "{report}"
    );
    let total: usize = server_ids(&srv).values().map(BTreeSet::len).sum();
    assert!(
        report.contains(&format!("{total} record messages")),
        "phase 1 delivers every record ({total}):\n{report}"
    );
}

/// Starts a read in `s` (its config.json and catalog.json, plus `extra` arguments), stdout into
/// out.jsonl and stderr into err.txt.
fn start_read(w: &Wheel, s: &Scratch, extra: &[&str]) -> std::process::Child {
    let out = std::fs::File::create(s.dir.join("out.jsonl")).expect("stdout file");
    let err = std::fs::File::create(s.dir.join("err.txt")).expect("stderr file");
    let mut args = vec![
        "read",
        "--config",
        "config.json",
        "--catalog",
        "catalog.json",
    ];
    args.extend_from_slice(extra);
    program(w, &s.dir, "source-activecampaign", &args)
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .expect("start the read")
}

/// Starts a read, sends `sig` once 15 STATEs are out, and checks the process ends within a
/// second, by that signal, with whole JSON lines on stdout; returns them.
fn interrupt_mid_read(w: &Wheel, s: &Scratch, sig: libc::c_int) -> Vec<Value> {
    let mut child = start_read(w, s, &[]);
    let states = |text: &str| text.matches("\"type\":\"STATE\"").count();
    let waited = Instant::now();
    while states(&std::fs::read_to_string(s.dir.join("out.jsonl")).unwrap_or_default()) < 15 {
        assert!(
            waited.elapsed() < Duration::from_secs(60),
            "no STATE within a minute"
        );
        assert!(
            child.try_wait().ok().flatten().is_none(),
            "the read ended before the signal"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    // SAFETY: kill(2) on the child this test started and still owns (not yet waited for).
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "send signal {sig}");
    let sent = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if sent.elapsed() > Duration::from_secs(5) {
            let _ = child.kill();
            panic!("the read still runs 5 s after signal {sig}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let took = sent.elapsed();
    eprintln!("signal {sig} to exit: {took:?}");
    assert!(took < Duration::from_secs(1), "took {took:?} to stop");
    assert_eq!(
        status.signal(),
        Some(sig),
        "ends by the signal, as the CLI: {status}"
    );
    let text = std::fs::read_to_string(s.dir.join("out.jsonl")).expect("stdout");
    assert!(
        text.ends_with('\n'),
        "stdout ends inside a line: …{}",
        &text[text.len().saturating_sub(80)..]
    );
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn ctrl_c_mid_read_stops_within_a_second_on_whole_lines_and_a_rerun_loses_nothing() {
    let w = wheel();
    let srv = TestServer::new(KEY, 41, 400)
        .with(|c| c.latency_ms = 80)
        .start();
    let s = Scratch::new("wheel-sigint");
    // Sweeps as by default: a rerun reads completed streams incrementally (nothing new), so it
    // completes the interrupted read only if the saved states carry on where it stopped.
    std::fs::write(
        s.dir.join("config.json"),
        config(&srv.base_url(), KEY, 50.0),
    )
    .expect("config");
    let disc = run(
        w,
        &s.dir,
        "source-activecampaign",
        &["discover", "--config", "config.json"],
    );
    assert_eq!(disc.code, 0, "{}", disc.stderr);
    let streams = disc.of_type("CATALOG")[0]["catalog"]["streams"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    std::fs::write(s.dir.join("catalog.json"), incremental_catalog(&streams)).expect("catalog");

    // SIGTERM first (a runner stopping the source): the same prompt, clean end.
    interrupt_mid_read(w, &s, libc::SIGTERM);
    let first = interrupt_mid_read(w, &s, libc::SIGINT);
    let total: usize = server_ids(&srv).values().map(BTreeSet::len).sum();
    let read1 = first.iter().filter(|m| m["type"] == "RECORD").count();
    assert!(
        read1 < total,
        "the read was stopped in the middle ({read1} of {total})"
    );

    let mut saved = BTreeMap::new();
    merge_states(&mut saved, &first);
    std::fs::write(s.dir.join("state.json"), state_text(&saved)).expect("state");
    let mut child = start_read(w, &s, &["--state", "state.json"]);
    let st = child.wait().expect("rerun");
    assert!(
        st.success(),
        "rerun: {}",
        std::fs::read_to_string(s.dir.join("err.txt")).unwrap_or_default()
    );
    let text = std::fs::read_to_string(s.dir.join("out.jsonl")).expect("stdout");
    let second: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let read2 = second.iter().filter(|m| m["type"] == "RECORD").count();
    assert!(
        read2 < total,
        "the rerun carried on, it did not read everything again"
    );
    let mut got = ids_by_stream(&first);
    for (k, v) in ids_by_stream(&second) {
        got.entry(k).or_default().extend(v);
    }
    for (stream, ids) in server_ids(&srv) {
        let have: BTreeSet<String> = got.get(&stream).into_iter().flatten().cloned().collect();
        assert_eq!(
            have, ids,
            "{stream}: the interrupted read and its rerun lost records"
        );
    }
}

/// The README's dlt block, run in `dir` (config.json there) with the wheel's Python.
fn run_dlt(w: &Wheel, dir: &Path, n: usize) {
    must(
        program(w, dir, "python", &["dlt_pipeline.py"])
            .env("DLT_DATA_DIR", dir.join(".dlt"))
            .env("RUNTIME__DLTHUB_TELEMETRY", "false"),
        &format!("the README's dlt block, run #{n}"),
    );
}

/// Problems found comparing the DuckDB tables with the server (tests/python/dlt_check.py).
fn dlt_problems(w: &Wheel, srv: &Server, dir: &Path, when: &str) -> Vec<String> {
    dlt_problems_but(w, srv, dir, when, &BTreeSet::new())
}

/// [`dlt_problems`] for every stream but `skip` (connector names).
fn dlt_problems_but(
    w: &Wheel,
    srv: &Server,
    dir: &Path,
    when: &str,
    skip: &BTreeSet<String>,
) -> Vec<String> {
    // The server's records as the connector delivers them: typed as its discovered schemas say.
    let s = Scratch::new("dlt-schemas");
    let cfg = s.write("c.json", &config(&srv.base_url(), KEY, 50.0));
    let schemas: BTreeMap<String, Value> = discover_streams(&s, &cfg)
        .into_iter()
        .filter_map(|x| Some((x["name"].as_str()?.to_string(), x["json_schema"].clone())))
        .collect();
    let expected: BTreeMap<String, Vec<Value>> = srv.with_dataset(|d| {
        d.stream_names()
            .iter()
            .filter(|n| !skip.contains(&connector_name(n)))
            .map(|n| {
                let name = connector_name(n);
                let schema = schemas.get(&name).cloned().unwrap_or(Value::Null);
                let records = d
                    .records(n)
                    .iter()
                    .map(|r| typed_form(r, &schema))
                    .collect();
                (name, records)
            })
            .collect()
    });
    let file = dir.join(format!("expected-{when}.json"));
    std::fs::write(&file, serde_json::to_string(&expected).expect("JSON")).expect("expected");
    let out = must(
        program(w, dir, "python", &[])
            .arg(repo().join("tests/python/dlt_check.py"))
            .arg(dir.join("activecampaign.duckdb"))
            .arg("activecampaign_data")
            .arg(&file),
        "dlt_check.py",
    );
    let v: Value = serde_json::from_str(&out).expect("dlt_check.py JSON");
    let fields = v["fields"].as_u64().unwrap_or(0);
    assert!(fields > 1000, "{when}: only {fields} fields compared");
    let tables = v["rows"].as_object().map_or(0, |o| o.len());
    assert_eq!(
        tables,
        expected.len(),
        "{when}: one table per stream: {}",
        v["rows"]
    );
    v["problems"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| format!("{when}: {}", p.as_str().unwrap_or_default()))
        .collect()
}

#[test]
fn dlt_block_lands_the_account_then_its_changes_and_deletions() {
    let w = wheel();
    let srv = TestServer::new(KEY, 53, 150).start();
    let s = Scratch::new("wheel-dlt");
    // Every run a complete pass, so the second finds the deletions at once (by default the
    // daily sweep finds them).
    let cfg = complete_config(&srv.base_url(), KEY, 50.0);
    std::fs::write(s.dir.join("config.json"), cfg).expect("config");
    std::fs::write(
        s.dir.join("dlt_pipeline.py"),
        readme_block("dlt_pipeline.py"),
    )
    .expect("dlt_pipeline.py");
    run_dlt(w, &s.dir, 1);
    let mut problems = dlt_problems(w, &srv, &s.dir, "run 1");
    let before = server_ids(&srv);
    srv.with_dataset(|d| {
        for (stream, touch, insert) in [
            ("contacts", 4, 2),
            ("deals", 2, 1),
            ("tags", 1, 1),
            ("contact_tags", 3, 2),
        ] {
            d.touch(stream, touch);
            d.insert(stream, insert);
        }
        assert_eq!(d.delete_contacts(3).len(), 3);
        for (stream, n) in [
            ("deals", 2),
            ("tags", 1),
            ("accounts", 1),
            ("contact_tags", 2),
        ] {
            assert_eq!(d.delete(stream, n).len(), n, "{stream}");
        }
    });
    let after = server_ids(&srv);
    let gone: usize = before
        .iter()
        .map(|(k, ids)| {
            ids.difference(after.get(k).unwrap_or(&BTreeSet::new()))
                .count()
        })
        .sum();
    assert!(gone >= 9, "rows were deleted on the server: {gone}");
    run_dlt(w, &s.dir, 2);
    problems.extend(dlt_problems(w, &srv, &s.dir, "run 2"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The connector's state rides in dlt's: the second run was incremental from the first.
    let state = must(
        program(
            w,
            &s.dir,
            "python",
            &[
                "-c",
                "import dlt, json; p = dlt.attach('activecampaign'); \
             print(json.dumps(sorted(p.state['sources']['activecampaign']['connector_state'])))",
            ],
        )
        .env("DLT_DATA_DIR", s.dir.join(".dlt")),
        "dlt state",
    );
    let names: Vec<String> = serde_json::from_str(state.trim()).expect("state names");
    assert!(names.contains(&"contacts".to_string()), "{names:?}");
    assert_eq!(names.len(), after.len(), "a state per stream: {names:?}");
}

/// A folder under target/wheel-test for this wheel (`<prefix><hash>`), made empty the first
/// time: the same folder for other wheels is removed. What a tool installs there (PyAirbyte's
/// and Meltano's environments of the wheel) is kept for the next run of the same wheel.
fn keyed_dir(w: &Wheel, prefix: &str) -> PathBuf {
    let dir = work_dir().join(format!("{prefix}{}", &w.hash[..16]));
    for e in std::fs::read_dir(work_dir())
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(prefix) && e.path() != dir {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
    std::fs::create_dir_all(&dir).expect("keyed dir");
    dir
}

/// The wheel, copied where the README's blocks expect it: beside them, under its own name.
fn wheel_beside(w: &Wheel, dir: &Path) {
    let name = w.file.file_name().expect("wheel name");
    std::fs::copy(&w.file, dir.join(name)).expect("copy the wheel");
}

/// PATH for a tool of the repository's `.venv/<env>`: that environment and the system's.
fn tool_path(env: &str) -> String {
    let bin = venv_bin(env, "python");
    let bin = bin.parent().expect("bin");
    format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display())
}

#[test]
fn pyairbyte_installs_the_wheel_by_pip_url_and_reads_every_stream() {
    let w = wheel();
    let srv = TestServer::new(KEY, 59, 150).start();
    let s = Scratch::new("wheel-pyairbyte");
    let cfg = complete_config(&srv.base_url(), KEY, 50.0);
    std::fs::write(s.dir.join("config.json"), cfg).expect("config");
    std::fs::write(s.dir.join("snippet.py"), readme_block("pyairbyte-pip.py")).expect("snippet");
    wheel_beside(w, &s.dir);
    // PyAirbyte installs the connector into <AIRBYTE_INSTALL_DIR>/.venv-source-activecampaign.
    let install = keyed_dir(w, "pyairbyte-");
    let out = must(
        Command::new(venv_bin("pyairbyte", "python"))
            .current_dir(&s.dir)
            .arg("snippet.py")
            .env("PATH", tool_path("pyairbyte"))
            .env("AIRBYTE_INSTALL_DIR", &install)
            .env("AIRBYTE_OFFLINE_MODE", "1")
            .env("DO_NOT_TRACK", "1")
            .env("SOURCE_ACTIVECAMPAIGN_CACHE_DIR", work_dir().join("cache"))
            .env_remove("VIRTUAL_ENV"),
        "the README's PyAirbyte pip_url snippet",
    );
    assert!(
        install
            .join(".venv-source-activecampaign/bin/source-activecampaign")
            .exists(),
        "PyAirbyte installed the wheel's executable"
    );
    let printed: BTreeMap<String, usize> = out
        .lines()
        .filter_map(|l| {
            let (name, n) = l.rsplit_once(' ')?;
            Some((name.to_string(), n.trim().parse().ok()?))
        })
        .collect();
    let want: BTreeMap<String, usize> = server_ids(&srv)
        .into_iter()
        .map(|(k, v)| (k, v.len()))
        .collect();
    assert_eq!(
        printed, want,
        "rows per stream in PyAirbyte's cache vs the server"
    );
}

#[test]
fn meltano_installs_the_wheel_by_pip_url_and_runs_full_then_incremental() {
    let w = wheel();
    let meltano = venv_bin("meltano", "meltano");
    let srv = TestServer::new(KEY, 61, 150).start();
    let s = Scratch::new("wheel-meltano");
    let root = s.dir.join("project");
    std::fs::create_dir_all(root.join(".meltano/loaders")).expect("project");
    std::fs::create_dir_all(root.join(".meltano/extractors")).expect("project");
    std::fs::write(root.join("meltano.yml"), readme_block("meltano-pip.yml")).expect("yml");
    wheel_beside(w, &root);
    // Plugin environments kept between test runs (Meltano checks their fingerprint): target-jsonl
    // where the README wrapper's Meltano test keeps it, the extractor per wheel.
    let jsonl = repo().join(".venv/meltano-plugins/target-jsonl");
    std::fs::create_dir_all(&jsonl).expect("plugin cache");
    std::os::unix::fs::symlink(&jsonl, root.join(".meltano/loaders/target-jsonl")).expect("link");
    let tap = keyed_dir(w, "meltano-");
    std::os::unix::fs::symlink(&tap, root.join(".meltano/extractors/tap-activecampaign"))
        .expect("link");
    let meltano_cmd = |args: &[&str], out_dir: &Path| -> String {
        must(
            Command::new(&meltano)
                .current_dir(&root)
                .args(args)
                .env("PATH", tool_path("meltano"))
                .env("MELTANO_SEND_ANONYMOUS_USAGE_STATS", "false")
                .env("MELTANO_CLI_DISABLE_VERSION_CHECK", "true")
                .env("TAP_ACTIVECAMPAIGN_API_URL", srv.base_url())
                .env("TAP_ACTIVECAMPAIGN_API_KEY", KEY)
                .env("TAP_ACTIVECAMPAIGN_REQUESTS_PER_SECOND", "50")
                .env("TARGET_JSONL_DESTINATION_PATH", out_dir)
                .env("SOURCE_ACTIVECAMPAIGN_CACHE_DIR", work_dir().join("cache"))
                .env_remove("VIRTUAL_ENV"),
            &format!("meltano {args:?}"),
        )
    };
    let run = |n: usize| -> BTreeMap<String, Vec<String>> {
        let dir = s.dir.join(format!("output{n}"));
        std::fs::create_dir_all(&dir).expect("output dir");
        meltano_cmd(&["run", "tap-activecampaign", "target-jsonl"], &dir);
        let (ok, out) = run_tool(
            &venv_bin("jsonl", "python"),
            &[
                &repo()
                    .join("tests/python/singer_check.py")
                    .display()
                    .to_string(),
                "jsonl",
                &dir.display().to_string(),
            ],
            None,
        );
        assert!(ok, "singer_check.py: {out}");
        serde_json::from_str(&out).expect("ids JSON")
    };
    let first = run(1);
    for (stream, ids) in server_ids(&srv) {
        assert_exactly(
            &format!("meltano run #1 {stream}"),
            ids.into_iter().collect(),
            first.get(&stream),
        );
    }
    let state_of = || -> Value {
        let text = meltano_cmd(
            &["state", "get", "dev:tap-activecampaign-to-target-jsonl"],
            &s.dir,
        );
        serde_json::from_str(text.trim()).expect("state JSON")
    };
    let st = state_of();
    assert!(
        st["singer_state"]["bookmarks"]["contacts"].is_object(),
        "Meltano keeps the bookmarks: {st}"
    );
    let changed: BTreeSet<String> = srv.with_dataset(|d| {
        let mut ids: BTreeSet<String> = d.touch("contacts", 4).into_iter().collect();
        ids.extend(d.insert("contacts", 2));
        ids
    });
    let second = run(2);
    let contacts: BTreeSet<String> = second
        .get("contacts")
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    assert!(
        changed.is_subset(&contacts),
        "run #2 carries the changed contacts {changed:?}: {contacts:?}"
    );
    let all = server_ids(&srv).get("contacts").map_or(0, BTreeSet::len);
    assert!(
        contacts.len() < all,
        "run #2 is incremental from Meltano's state: {} of {all} contacts",
        contacts.len()
    );
    assert_ne!(state_of(), st, "the second run moved Meltano's state on");
}

/// The oldest wasmtime the wheel allows (`wasmtime>=46.0.1`: the first release with
/// `add_wasi_http`) runs a whole read: the wheel installed beside wasmtime 46.0.1 in an
/// environment of its own (kept per wheel, like the others).
#[test]
fn the_oldest_wasmtime_of_the_range_runs_a_whole_read() {
    let w = wheel();
    let venv = keyed_dir(w, "venv-oldest-");
    if !venv.join(".ready").exists() {
        new_venv(
            &venv,
            &["wasmtime==46.0.1".as_ref(), w.file.as_os_str()],
            "pip install wasmtime 46.0.1 and the wheel",
        );
        std::fs::write(venv.join(".ready"), &w.hash).expect("stamp");
    }
    let version = must(
        Command::new(venv.join("bin/python")).args([
            "-c",
            "import importlib.metadata as m; print(m.version('wasmtime'))",
        ]),
        "wasmtime's version",
    );
    assert_eq!(version.trim(), "46.0.1");
    let srv = TestServer::new(KEY, 67, 120).start();
    let s = Scratch::new("wheel-oldest");
    std::fs::write(
        s.dir.join("config.json"),
        config(&srv.base_url(), KEY, 50.0),
    )
    .expect("config");
    let out = Command::new(venv.join("bin/source-activecampaign"))
        .current_dir(&s.dir)
        .args(["read", "--config", "config.json"])
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", venv.join("bin").display()),
        )
        .env("SOURCE_ACTIVECAMPAIGN_CACHE_DIR", work_dir().join("cache"))
        .output()
        .expect("start the read");
    let r = as_run(out);
    assert_eq!(r.code, 0, "{}", tail(&r.stderr));
    let got = ids_by_stream(&r.messages());
    for (stream, ids) in server_ids(&srv) {
        assert_exactly(&stream, ids.into_iter().collect(), got.get(&stream));
    }
}

/// A stream the account may not read (a plan without Deals: every deal stream answered 403) is
/// a warning, and every other stream loads; a refused key fails the run, naming the problem,
/// without printing the key.
#[test]
fn dlt_loads_the_other_streams_when_some_fail_and_refuses_a_wrong_key() {
    let w = wheel();
    let cfg = ServerConfig {
        api_key: KEY.into(),
        rate_limit_per_sec: None,
        disabled_features: vec!["deals".into()],
        ..ServerConfig::default()
    };
    let srv = Server::start(cfg, Dataset::generate(71, 100)).expect("test server");
    let s = Scratch::new("wheel-dlt-partial");
    let cfg = complete_config(&srv.base_url(), KEY, 50.0);
    std::fs::write(s.dir.join("config.json"), cfg).expect("config");
    std::fs::write(
        s.dir.join("dlt_pipeline.py"),
        readme_block("dlt_pipeline.py"),
    )
    .expect("block");
    let dlt_run = || {
        let out = program(w, &s.dir, "python", &["dlt_pipeline.py"])
            .env("DLT_DATA_DIR", s.dir.join(".dlt"))
            .env("RUNTIME__DLTHUB_TELEMETRY", "false")
            .output()
            .expect("python");
        as_run(out)
    };
    let r = dlt_run();
    assert_eq!(r.code, 0, "{}", tail(&r.stderr));
    let failed: BTreeSet<String> = r
        .stderr
        .lines()
        .filter_map(|l| l.split("activecampaign: stream ").nth(1))
        .filter_map(|l| l.split(" failed, the others load").next())
        .map(String::from)
        .collect();
    let streams = server_ids(&srv).len();
    assert!(
        failed.contains("deals") && failed.len() < streams / 2,
        "the deal streams, and only those, are reported failed: {failed:?}"
    );
    let problems = dlt_problems_but(w, &srv, &s.dir, "with deals refused", &failed);
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    let bad = config(&srv.base_url(), "wrong-key-77c1", 50.0);
    std::fs::write(s.dir.join("config.json"), bad).expect("config");
    let r = dlt_run();
    assert_ne!(r.code, 0, "a refused key fails the run");
    assert!(r.stderr.contains("ConnectorError"), "{}", tail(&r.stderr));
    assert!(!r.stderr.contains("wrong-key-77c1") && !r.stdout.contains("wrong-key-77c1"));
}
