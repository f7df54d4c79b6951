//! The ecosystems' own conformance checkers, run as their users run them, against the
//! test server and the README's wrapper script: `singer-check-tap` (singer-tools 0.4.1,
//! `.venv/singertools`), airbyte-cdk 7.39.1's standard source tests (`SourceTestSuiteBase`,
//! `.venv/cdk`, through the adapter in tests/airbyte_standard/) with a negative control that
//! must fail, and `pyab validate` (PyAirbyte 0.71.3, `.venv/pyairbyte`). Also the three Singer
//! faults the issue found, through the wrapper: no catalog, relative paths, errors on stdout.

mod common;
use ac_test_server::Server;
use common::*;
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output};

const KEY: &str = "conformance-key-5d21";

/// A test server and a folder holding the README's wrapper, the component and `config.json`.
fn setup(name: &str) -> (Server, Scratch) {
    let srv = TestServer::new(KEY, 21, 120).start();
    let s = Scratch::new(name);
    install_wrapper(&s.dir);
    std::fs::write(
        s.dir.join("config.json"),
        config(&srv.base_url(), KEY, 50.0),
    )
    .expect("config");
    (srv, s)
}

/// Stdout and stderr of a finished command, checked never to show the key.
fn texts(what: &str, out: &Output) -> (String, String) {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stdout.contains(KEY) && !stderr.contains(KEY),
        "{what}: the API key was printed"
    );
    (stdout, stderr)
}

/// Runs `program args` in `dir` and returns its stdout and stderr, asserting it succeeded.
fn succeeds(dir: &Path, program: &Path, args: &[&str], env: &[(&str, &str)]) -> (String, String) {
    let out = Command::new(program)
        .current_dir(dir)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    let (stdout, stderr) = texts(&format!("{} {args:?}", program.display()), &out);
    assert!(
        out.status.success(),
        "{} {args:?} failed ({}):\n{}\n{}",
        program.display(),
        out.status,
        last_lines(&stdout, 60),
        last_lines(&stderr, 30)
    );
    (stdout, stderr)
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The number before `label` on a line of singer-check-tap's summary, per phase.
fn counts(report: &str, label: &str) -> Vec<u64> {
    report
        .lines()
        .filter_map(|l| l.trim().strip_suffix(label))
        .filter_map(|n| n.trim().parse().ok())
        .collect()
}

#[test]
fn singer_check_tap_passes_both_phases() {
    let (srv, s) = setup("sct");
    // singer-check-tap's own main() through tests/python/singer_check_tap.py, which only makes
    // it wait for its reader thread before reading the summary (a race of the checker).
    let python = venv_bin("singertools", "python");
    let launcher = repo().join("tests/python/singer_check_tap.py");
    let launcher = launcher.to_str().expect("a UTF-8 path");
    let args = [
        launcher,
        "--tap",
        "./source-activecampaign",
        "--config",
        "config.json",
    ];
    let (report, _) = succeeds(&s.dir, &python, &args, &[]);
    assert_eq!(
        report.matches("The output is valid.").count(),
        2,
        "{report}"
    );
    assert!(
        report.contains("--config config.json --state singer-check-tap-data/state.json"),
        "the second phase passes the first phase's state by a relative path:\n{report}"
    );
    let streams = srv.with_dataset(|d| d.stream_names().len());
    let total: usize = srv.with_dataset(|d| d.stream_names().iter().map(|n| d.ids(n).len()).sum());
    let want = format!("messages for {streams} streams.");
    assert_eq!(report.matches(&want).count(), 2, "{want}\n{report}");
    let records = counts(&report, "record messages");
    assert_eq!(records.len(), 2, "{report}");
    assert_eq!(
        records[0], total as u64,
        "phase 1 delivers every record once"
    );
    assert!(
        records[1] < records[0],
        "phase 2 is incremental: {records:?}"
    );
    assert!(counts(&report, "state messages").iter().all(|n| *n > 0));
}

/// Singer fault 2: relative paths mean the caller's directory, in both protocols.
#[test]
fn the_readme_wrapper_opens_relative_paths_from_the_callers_directory() {
    let (_srv, s) = setup("relative");
    let work = s.dir.join("work");
    std::fs::create_dir_all(work.join("st")).expect("dirs");
    std::fs::copy(s.dir.join("config.json"), work.join("config.json")).expect("config");
    let bookmarks = json!({"bookmarks": {"tags": {}}});
    std::fs::write(work.join("st/state.json"), bookmarks.to_string()).expect("state");
    let singer = json!({"streams": [{"tap_stream_id": "tags", "stream": "tags", "schema": {},
        "metadata": [{"breadcrumb": [], "metadata": {"selected": true}}]}]});
    std::fs::write(work.join("catalog.json"), singer.to_string()).expect("catalog");
    std::fs::write(work.join("airbyte.json"), catalog(&["tags"], false)).expect("catalog");
    let wrapper = s.dir.join("source-activecampaign");
    for args in [
        &[
            "--config",
            "config.json",
            "--catalog",
            "catalog.json",
            "--state",
            "st/state.json",
        ][..],
        &[
            "--config=./config.json",
            "--properties",
            "../work/catalog.json",
        ],
        &[
            "read",
            "--config",
            "config.json",
            "--catalog",
            "airbyte.json",
        ],
        &["check", "--config", "../work/config.json"],
    ] {
        let (out, _) = succeeds(&work, &wrapper, args, &[]);
        assert!(
            out.contains("\"RECORD\"") || out.contains("SUCCEEDED"),
            "{args:?}: {out}"
        );
    }
}

/// Singer faults 1 and 3 through the wrapper: no catalog syncs; input errors leave stdout empty.
#[test]
fn singer_mode_keeps_stdout_for_singer_messages() {
    let (_srv, s) = setup("singer-stdout");
    let none = json!({"streams": [{"tap_stream_id": "tags", "schema": {},
        "metadata": [{"breadcrumb": [], "metadata": {"selected": false}}]}]});
    std::fs::write(s.dir.join("none.json"), none.to_string()).expect("catalog");
    let wrapper = s.dir.join("source-activecampaign");
    for (args, want) in [
        (
            &["--config", "config.json", "--catalog", "missing.json"][..],
            "cannot open the catalog file",
        ),
        (
            &["--config", "config.json", "--catalog", "none.json"],
            "selects no stream",
        ),
        (&["--config", "missing.json"], "cannot open the config file"),
        (
            &["--config", "missing.json", "--discover"],
            "cannot open the config file",
        ),
    ] {
        let out = Command::new(&wrapper)
            .current_dir(&s.dir)
            .args(args)
            .output()
            .expect("run the wrapper");
        let (stdout, stderr) = texts(&format!("{args:?}"), &out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stdout, "", "{args:?}: stdout carries only Singer messages");
        assert!(
            stderr.contains(want) && stderr.contains("config_error"),
            "{args:?}: {stderr}"
        );
    }
    let (out, _) = succeeds(&s.dir, &wrapper, &["--config", "config.json"], &[]);
    for line in out.lines() {
        let m: Value = serde_json::from_str(line).expect("a JSON line");
        let t = m["type"].as_str().unwrap_or("");
        assert!(["SCHEMA", "RECORD", "STATE"].contains(&t), "{line}");
    }
    assert!(
        out.contains("\"stream\":\"contacts\""),
        "no catalog: every stream"
    );
}

/// Runs airbyte-cdk's standard source tests with `AC_BREAK=broken`; returns (exit ok, outcome
/// of each test: `PASSED test_spec`, `FAILED test_basic_read`, ...).
fn standard_suite(root: &Path, wrapper: &Path, broken: &str) -> (bool, Vec<String>) {
    let suite = repo().join("tests/airbyte_standard");
    let out = Command::new(venv_bin("cdk", "python"))
        .current_dir(root)
        .args(["-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA"])
        // The image tests build a Docker image from metadata.yaml: the component ships as a
        // wasm file, so there is no image to build.
        .args(["-k", "not test_docker_image"])
        .arg(&suite)
        .env("AC_CONNECTOR", wrapper)
        .env("AC_CONNECTOR_ROOT", root)
        .env("AC_BREAK", broken)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run pytest");
    let (stdout, _) = texts(&format!("standard tests AC_BREAK={broken}"), &out);
    let outcomes = stdout
        .lines()
        .filter(|l| l.starts_with("PASSED ") || l.starts_with("FAILED "))
        .map(|l| {
            let (outcome, rest) = l.split_once(' ').unwrap_or((l, ""));
            let test = rest.rsplit("::").next().unwrap_or(rest);
            let test = test.split(['[', ' ']).next().unwrap_or(test);
            format!("{outcome} {test}")
        })
        .collect();
    if out.status.success() == broken.is_empty() {
        (out.status.success(), outcomes)
    } else {
        panic!(
            "standard tests AC_BREAK={broken:?}:\n{}",
            last_lines(&stdout, 80)
        )
    }
}

#[test]
fn airbyte_standard_tests_pass_and_fail_on_broken_output() {
    let (srv, s) = setup("cdk");
    let root = s.dir.join("source-activecampaign-root");
    std::fs::create_dir_all(root.join("secrets")).expect("root");
    std::fs::copy(
        repo().join("tests/airbyte_standard/acceptance-test-config.yml"),
        root.join("acceptance-test-config.yml"),
    )
    .expect("acceptance-test-config.yml");
    let base = srv.base_url();
    std::fs::write(root.join("secrets/config.json"), config(&base, KEY, 50.0)).expect("config");
    std::fs::write(
        root.join("secrets/invalid_config.json"),
        config(&base, "refused-key", 50.0),
    )
    .expect("invalid config");
    let wrapper = s.dir.join("source-activecampaign");

    let (ok, outcomes) = standard_suite(&root, &wrapper, "");
    assert!(ok);
    let mut want: Vec<String> = [
        "test_basic_read",
        "test_check",
        "test_check",
        "test_config_matches_spec",
        "test_discover",
        "test_fail_read_with_bad_catalog",
        "test_spec",
    ]
    .iter()
    .map(|t| format!("PASSED {t}"))
    .collect();
    let mut have = outcomes.clone();
    have.sort();
    want.sort();
    assert_eq!(have, want, "every standard test runs and passes");

    // The negative control: the same suite, the output altered, must fail where it should.
    for (broken, test) in [("secret", "test_spec"), ("record", "test_basic_read")] {
        let (ok, outcomes) = standard_suite(&root, &wrapper, broken);
        assert!(!ok, "AC_BREAK={broken}");
        let failed: Vec<&String> = outcomes
            .iter()
            .filter(|o| o.starts_with("FAILED"))
            .collect();
        assert_eq!(failed, vec![&format!("FAILED {test}")], "AC_BREAK={broken}");
    }
}

#[test]
fn pyab_validate_passes() {
    let (srv, s) = setup("pyab");
    let pyab = venv_bin("pyairbyte", "pyab");
    // PyAirbyte 0.71.3's `validate` turns the path into a `Path`, which drops a leading `./`, and
    // then looks `source-activecampaign` up on PATH; an absolute path is taken as it is.
    let wrapper = s.dir.join("source-activecampaign");
    let wrapper = wrapper.to_str().expect("a UTF-8 path");
    let env = [("AIRBYTE_OFFLINE_MODE", "1"), ("DO_NOT_TRACK", "1")];
    let args = [
        "validate",
        "--connector",
        wrapper,
        "--config",
        "config.json",
    ];
    let (out, err) = succeeds(&s.dir, &pyab, &args, &env);
    assert!(out.contains("Running connector check"), "{out}");
    assert!(err.contains("Connection check succeeded"), "{err}");
    std::fs::write(
        s.dir.join("refused.json"),
        config(&srv.base_url(), "nope", 50.0),
    )
    .expect("cfg");
    let refused = Command::new(&pyab)
        .current_dir(&s.dir)
        .args([
            "validate",
            "--connector",
            wrapper,
            "--config",
            "refused.json",
        ])
        .envs(env)
        .output()
        .expect("run pyab");
    assert!(
        !refused.status.success(),
        "pyab validate must fail with a refused key"
    );
}
