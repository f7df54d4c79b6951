//! The README's Meltano project and PyAirbyte snippet, run for real with the pinned tools
//! of `.venv/meltano` (Meltano 4.4.1) and `.venv/pyairbyte` (airbyte 0.71.3), made by
//! `tests/python/setup_venv.sh` (`make pyenv`). The files come out of README.md (the fenced block
//! after each `<!-- test: NAME … -->` marker), so the README shows exactly what runs here. Each tool
//! syncs twice against the test server, with records changed in between: the first run must land
//! every record of every stream, the second exactly the changed records of incremental streams
//! (and everything of the streams without a cursor).

mod common;
use ac_test_server::Server;
use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};

const KEY: &str = "eco-key-7f3a11";

fn server(contacts: usize) -> Server {
    TestServer::new(KEY, 97, contacts).start()
}

/// Fails with the command's last output lines unless it succeeded.
fn must_succeed(what: &str, out: &Output) -> String {
    succeeded(what, out, KEY)
}

/// The same changes for both tools: updates and inserts in server-filtered (contacts, deals),
/// client-filtered (contact_tags, campaigns) and cursorless (tags) streams. Returns the changed ids
/// by connector stream name.
fn change(srv: &Server) -> BTreeMap<String, BTreeSet<String>> {
    srv.with_dataset(|d| {
        [
            ("contacts", 5, 3),
            ("deals", 2, 1),
            ("contact_tags", 3, 2),
            ("campaigns", 1, 1),
            ("tags", 2, 1),
        ]
        .iter()
        .map(|(stream, touch, insert)| {
            let mut ids: BTreeSet<String> = d.touch(stream, *touch).into_iter().collect();
            ids.extend(d.insert(stream, *insert));
            (stream.to_string(), ids)
        })
        .collect()
    })
}

/// [`change`], plus the unchanged records the second run delivers again by design (the overlap
/// of event-time cursors and of cursors without a zone; see `overlap_after_first_read`).
fn with_overlap(srv: &Server) -> BTreeMap<String, BTreeSet<String>> {
    let overlap = overlap_after_first_read(srv, 5);
    let mut changed = change(srv);
    for (stream, ids) in overlap {
        changed.entry(stream).or_default().extend(ids);
    }
    changed
}

/// Every stream of the server: connector name → ids now.
fn server_ids(srv: &Server) -> BTreeMap<String, BTreeSet<String>> {
    srv.with_dataset(|d| {
        d.stream_names()
            .iter()
            .map(|n| (connector_name(n), d.ids(n).into_iter().collect()))
            .collect()
    })
}

/// Asserts each stream holds exactly the server's ids (each once).
fn assert_all_rows(what: &str, srv: &Server, loaded: &BTreeMap<String, Vec<String>>) {
    let want = server_ids(srv);
    let extra: Vec<&String> = loaded.keys().filter(|k| !want.contains_key(*k)).collect();
    assert!(
        extra.is_empty(),
        "{what}: streams the server does not have: {extra:?}"
    );
    for (stream, ids) in want {
        assert_exactly(
            &format!("{what} {stream}"),
            ids.into_iter().collect(),
            loaded.get(&stream),
        );
    }
}

/// Asserts what the second run carried: the changed records of incremental streams, every record
/// of the others.
fn assert_second_run(
    what: &str,
    srv: &Server,
    incremental: &BTreeSet<String>,
    changed: &BTreeMap<String, BTreeSet<String>>,
    carried: &BTreeMap<String, Vec<String>>,
) {
    for (stream, all) in server_ids(srv) {
        let got = carried.get(&stream).cloned().unwrap_or_default();
        let unique: BTreeSet<String> = got.iter().cloned().collect();
        assert_eq!(unique.len(), got.len(), "{what} {stream}: duplicates");
        let want = if incremental.contains(&stream) {
            changed.get(&stream).cloned().unwrap_or_default()
        } else {
            all
        };
        assert_eq!(
            unique,
            want,
            "{what} {stream}: the second run must carry {}",
            if incremental.contains(&stream) {
                "exactly the changed records"
            } else {
                "every record (no cursor)"
            }
        );
    }
    assert!(
        incremental.contains("contacts") && !incremental.contains("tags"),
        "{what}: contacts are incremental, tags are not: {incremental:?}"
    );
}

#[test]
fn readme_blocks_are_found() {
    assert!(readme_block("source-activecampaign")
        .contains("exec \"${WASMTIME:-wasmtime}\" run -S http --dir /::/ --env PWD=\"$PWD\""));
    let meltano = readme_block("meltano.yml");
    assert!(meltano.contains("name: tap-activecampaign-wasm"));
    // Without api_url the first `meltano run` fails: the project sets it.
    assert!(
        meltano.contains("    config:\n      api_url: https://myaccount.api-us1.com"),
        "{meltano}"
    );
    assert!(readme_block("pyairbyte.py").contains("local_executable=\"./source-activecampaign\""));
}

/// `meltano run` twice with the README's project: full, then incremental from Meltano's own state.
#[test]
fn meltano_runs_the_readme_project_full_then_incremental() {
    let _g = serial();
    let meltano = venv_bin("meltano", "meltano");
    let srv = server(150);
    let s = Scratch::new("meltano");
    let root = s.dir.join("project");
    std::fs::create_dir_all(root.join(".meltano/loaders")).expect("project dir");
    std::fs::write(root.join("meltano.yml"), readme_block("meltano.yml")).expect("meltano.yml");
    install_wrapper(&root);
    // Meltano installs target-jsonl (the README's pip_url) on the first run; its venv is kept in
    // .venv/meltano-plugins so later test runs reuse it (Meltano checks its fingerprint).
    let keep = repo().join(".venv/meltano-plugins/target-jsonl");
    std::fs::create_dir_all(&keep).expect("plugin cache dir");
    std::os::unix::fs::symlink(&keep, root.join(".meltano/loaders/target-jsonl")).expect("link");

    let meltano_cmd = |args: &[&str], out_dir: &Path| -> Output {
        Command::new(&meltano)
            .current_dir(&root)
            .args(args)
            .env("MELTANO_SEND_ANONYMOUS_USAGE_STATS", "false")
            .env("MELTANO_CLI_DISABLE_VERSION_CHECK", "true")
            .env("TAP_ACTIVECAMPAIGN_WASM_API_URL", srv.base_url())
            .env("TAP_ACTIVECAMPAIGN_WASM_API_KEY", KEY)
            .env("TAP_ACTIVECAMPAIGN_WASM_REQUESTS_PER_SECOND", "50")
            // Every run complete, so the second carries exactly the changes (between sweeps,
            // between sweeps, contact tags changed in place would wait: between_sweeps.rs).
            .env("TAP_ACTIVECAMPAIGN_WASM_FULL_SWEEP_HOURS", "0")
            .env("TARGET_JSONL_DESTINATION_PATH", out_dir)
            .env_remove("VIRTUAL_ENV")
            .output()
            .expect("start meltano")
    };
    let loaded = |dir: &Path| -> BTreeMap<String, Vec<String>> {
        let out = Command::new(venv_bin("jsonl", "python"))
            .arg(repo().join("tests/python/singer_check.py"))
            .arg("jsonl")
            .arg(dir)
            .output()
            .expect("python");
        serde_json::from_str(&must_succeed("singer_check.py", &out)).expect("ids JSON")
    };
    let run = |n: usize| -> BTreeMap<String, Vec<String>> {
        let dir = s.dir.join(format!("output{n}"));
        std::fs::create_dir_all(&dir).expect("output dir");
        let out = meltano_cmd(&["run", "tap-activecampaign-wasm", "target-jsonl"], &dir);
        must_succeed(&format!("meltano run #{n}"), &out);
        loaded(&dir)
    };

    let first = run(1);
    assert_all_rows("meltano run #1", &srv, &first);
    let state_of = || -> Value {
        let out = meltano_cmd(
            &[
                "state",
                "get",
                "dev:tap-activecampaign-wasm-to-target-jsonl",
            ],
            &s.dir,
        );
        serde_json::from_str(must_succeed("meltano state get", &out).trim()).expect("state JSON")
    };
    let st = state_of();
    assert!(
        st["singer_state"]["bookmarks"]["contacts"]["cursor"].is_string(),
        "Meltano keeps the bookmarks: {st}"
    );

    let changed = with_overlap(&srv);
    let second = run(2);
    let s2 = Scratch::new("meltano-disc");
    let cfg = s2.write("c.json", &config(&srv.base_url(), KEY, 50.0));
    let disc = wasmtime(&s2, &["--config", &cfg, "--discover"]);
    assert_eq!(disc.code, 0, "{}", disc.stderr);
    let catalog: Value = serde_json::from_str(&disc.stdout).expect("Singer catalog");
    let incremental: BTreeSet<String> = catalog["streams"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["replication_method"] == "INCREMENTAL")
        .filter_map(|e| e["stream"].as_str().map(String::from))
        .collect();
    assert_second_run("meltano run #2", &srv, &incremental, &changed, &second);
    assert_ne!(state_of(), st, "the second run moved Meltano's state on");
}

/// The README's PyAirbyte snippet with PyAirbyte's defaults (every stream incremental), twice.
#[test]
fn pyairbyte_runs_the_readme_snippet_full_then_incremental() {
    let _g = serial();
    let python = venv_bin("pyairbyte", "python");
    let srv = server(150);
    let s = Scratch::new("pyairbyte");
    // Every read complete (see the Meltano test).
    std::fs::write(
        s.dir.join("config.json"),
        complete_config(&srv.base_url(), KEY, 50.0),
    )
    .expect("config");
    std::fs::write(s.dir.join("pyairbyte.py"), readme_block("pyairbyte.py")).expect("snippet");
    install_wrapper(&s.dir);
    let read = |n: usize| -> BTreeMap<String, u64> {
        let out = Command::new(&python)
            .current_dir(&s.dir)
            .arg("pyairbyte.py")
            .env("AIRBYTE_OFFLINE_MODE", "1")
            .env("DO_NOT_TRACK", "1")
            .env_remove("VIRTUAL_ENV")
            .output()
            .expect("start python");
        let text = must_succeed(&format!("PyAirbyte read #{n}"), &out);
        // PyAirbyte maps every declared type to a column type, without a guess.
        let said = format!("{text}{}", String::from_utf8_lossy(&out.stderr));
        let warned: Vec<&str> = said
            .lines()
            .filter(|l| l.contains("Could not determine airbyte type"))
            .collect();
        assert!(
            warned.is_empty(),
            "PyAirbyte read #{n} warned about {} types:\n{}",
            warned.len(),
            warned
                .iter()
                .take(10)
                .copied()
                .collect::<Vec<_>>()
                .join("\n")
        );
        // The snippet prints "<stream> <rows in the cache>" per stream.
        text.lines()
            .filter_map(|l| {
                let (name, count) = l.rsplit_once(' ')?;
                Some((name.to_string(), count.trim().parse().ok()?))
            })
            .collect()
    };
    let rows = |since_ms: u128| -> BTreeMap<String, (Vec<String>, Vec<String>)> {
        let out = Command::new(&python)
            .arg(repo().join("tests/python/pyairbyte_rows.py"))
            .arg(s.dir.join(".cache/default_cache/default_cache.duckdb"))
            .arg(since_ms.to_string())
            .output()
            .expect("python");
        let v: Value =
            serde_json::from_str(&must_succeed("pyairbyte_rows.py", &out)).expect("rows JSON");
        let ids = |x: &Value| -> Vec<String> {
            x.as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| i.as_str().map(String::from))
                .collect()
        };
        v.as_object()
            .expect("object")
            .iter()
            .map(|(k, x)| (k.clone(), (ids(&x["ids"]), ids(&x["since"]))))
            .collect()
    };
    let now_ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis()
    };
    let all_rows = |r: &BTreeMap<String, (Vec<String>, Vec<String>)>| {
        r.iter()
            .map(|(k, v)| (k.clone(), v.0.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    let printed_match = |printed: &BTreeMap<String, u64>,
                         r: &BTreeMap<String, (Vec<String>, Vec<String>)>| {
        let want: BTreeMap<String, u64> = r
            .iter()
            .map(|(k, v)| (k.clone(), v.0.len() as u64))
            .collect();
        assert_eq!(printed, &want, "the snippet's counts are the cache's rows");
    };

    let printed = read(1);
    let r1 = rows(0);
    assert_all_rows("PyAirbyte read #1", &srv, &all_rows(&r1));
    printed_match(&printed, &r1);
    // Typed columns in the cache: numbers, dates and date-times are not text.
    let cfg = s.write("c-discover.json", &config(&srv.base_url(), KEY, 50.0));
    let disc = wasmtime(&s, &["discover", "--config", &cfg]);
    assert_eq!(disc.code, 0, "{}", disc.stderr);
    let catalog = s.dir.join("discover.jsonl");
    std::fs::write(&catalog, &disc.stdout).expect("save");
    let cache = s.dir.join(".cache/default_cache/default_cache.duckdb");
    let (types, text, custom) = column_types("pyairbyte", &cache, "main", &catalog);
    let want = [
        ("contacts.sentcnt", "BIGINT"),
        ("contacts.udate", "TIMESTAMP"),
        ("contacts.created_timestamp", "TIMESTAMP"),
        ("contacts.rating_tstamp", "DATE"),
        ("deals.value", "BIGINT"),
        ("contacts.id", "VARCHAR"),
        ("tasks.relid", "VARCHAR"),
        ("contacts.custom_field_3", "JSON"),
        ("contacts.custom_field_4", "DATE"),
        ("contacts.custom_field_8", "TIMESTAMP"),
        ("deals.custom_field_3", "DATE"),
        ("deals.custom_field_4", "TIMESTAMP"),
        ("deals.custom_field_8", "JSON"),
        ("accounts.custom_field_11", "DECIMAL(38,9)"),
        // A custom object's fields are columns too (`renewal-date` as the cache names it).
        ("custom_object_subscription.custom_field_plan", "VARCHAR"),
        (
            "custom_object_subscription.custom_field_seats",
            "DECIMAL(38,9)",
        ),
        (
            "custom_object_subscription.custom_field_renewal_date",
            "DATE",
        ),
    ];
    assert_typed_columns("PyAirbyte's cache", &types, &text, &want);
    assert_custom_columns("PyAirbyte's cache", &srv, &custom);

    let changed = with_overlap(&srv);
    std::thread::sleep(std::time::Duration::from_millis(5));
    let between = now_ms();
    let printed = read(2);
    let r2 = rows(between);
    assert_all_rows("PyAirbyte read #2", &srv, &all_rows(&r2));
    printed_match(&printed, &r2);
    let s2 = Scratch::new("pyairbyte-disc");
    let cfg = s2.write("c.json", &config(&srv.base_url(), KEY, 50.0));
    let disc = wasmtime(&s2, &["discover", "--config", &cfg]);
    assert_eq!(disc.code, 0, "{}", disc.stderr);
    let incremental: BTreeSet<String> = disc.of_type("CATALOG")[0]["catalog"]["streams"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|x| x["default_cursor_field"].is_array())
        .filter_map(|x| x["name"].as_str().map(String::from))
        .collect();
    let carried: BTreeMap<String, Vec<String>> =
        r2.iter().map(|(k, v)| (k.clone(), v.1.clone())).collect();
    assert_second_run("PyAirbyte read #2", &srv, &incremental, &changed, &carried);
}

/// The README's wrapper where cron or Airflow runs it: no wasmtime on PATH and the component
/// elsewhere. It exits 127 as is, and works with `WASMTIME` and `SOURCE_ACTIVECAMPAIGN_WASM`.
#[test]
fn the_wrapper_finds_wasmtime_and_the_component_through_its_variables() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new("wrapper");
    let script = s.dir.join("source-activecampaign");
    std::fs::write(&script, readme_block("source-activecampaign")).expect("script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let wasmtime_bin = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("wasmtime"))
        .find(|p| p.is_file())
        .expect("wasmtime on the test's PATH (make tools)");
    let run = |vars: &[(&str, &Path)]| -> Output {
        let mut c = Command::new(&script);
        c.arg("spec").env("PATH", "/usr/bin:/bin");
        for (k, v) in vars {
            c.env(k, v);
        }
        c.output().expect("run the wrapper")
    };
    let bare = run(&[]);
    assert_eq!(
        bare.status.code(),
        Some(127),
        "no wasmtime on PATH: exit 127"
    );
    let out = run(&[
        ("WASMTIME", &wasmtime_bin),
        ("SOURCE_ACTIVECAMPAIGN_WASM", &component()),
    ]);
    let text = must_succeed("the wrapper with WASMTIME", &out);
    let first: Value = serde_json::from_str(text.lines().next().unwrap_or("")).expect("JSON");
    assert_eq!(first["type"], "SPEC", "{text}");
}

/// What the README says of PyAirbyte's DuckDB cache and deletions: a deleted contact stays in the
/// cache as a row of nulls with `_ab_cdc_deleted_at` set, and `len()` counts it; the README's
/// filter leaves exactly the server's contacts.
#[test]
fn pyairbyte_keeps_a_deleted_row_as_nulls_as_the_readme_says() {
    let _g = serial();
    let python = venv_bin("pyairbyte", "python");
    let srv = server(40);
    let s = Scratch::new("pyairbyte-deleted");
    std::fs::write(
        s.dir.join("config.json"),
        complete_config(&srv.base_url(), KEY, 50.0),
    )
    .expect("config");
    install_wrapper(&s.dir);
    std::fs::write(
        s.dir.join("read.py"),
        r#"import json
import airbyte as ab
source = ab.get_source("source-activecampaign", config=json.load(open("config.json")),
                       local_executable="./source-activecampaign")
source.select_streams(["contacts"])
print(len(source.read().streams["contacts"]))
"#,
    )
    .expect("read.py");
    std::fs::write(
        s.dir.join("rows.py"),
        r#"import json, sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
rows = con.execute("select cast(id as varchar), email, _ab_cdc_deleted_at from main.contacts").fetchall()
live = con.execute("select cast(id as varchar) from main.contacts where _ab_cdc_deleted_at is null").fetchall()
print(json.dumps({"rows": [[r[0], r[1], r[2] is not None] for r in rows], "live": sorted(r[0] for r in live)}))
"#,
    )
    .expect("rows.py");
    let py = |args: &[&str]| -> String {
        let out = Command::new(&python)
            .current_dir(&s.dir)
            .args(args)
            .env("AIRBYTE_OFFLINE_MODE", "1")
            .env("DO_NOT_TRACK", "1")
            .env_remove("VIRTUAL_ENV")
            .output()
            .expect("start python");
        must_succeed(&format!("python {args:?}"), &out)
    };
    // PyAirbyte prints its progress on stdout too: the count is the last line.
    let count = |text: &str| -> usize {
        let last = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        last.trim()
            .parse()
            .unwrap_or_else(|_| panic!("no count at the end of: {}", tail(text)))
    };
    let before = srv.with_dataset(|d| d.ids("contacts")).len();
    assert_eq!(count(&py(&["read.py"])), before);
    let gone = srv.with_dataset(|d| d.delete_contacts(2));
    assert_eq!(
        count(&py(&["read.py"])),
        before,
        "len() counts the deleted rows"
    );
    let cache = s.dir.join(".cache/default_cache/default_cache.duckdb");
    let v: Value =
        serde_json::from_str(&py(&["rows.py", cache.to_str().expect("path")])).expect("rows JSON");
    for id in &gone {
        let row = v["rows"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r[0] == id.as_str())
            .unwrap_or_else(|| panic!("deleted contact {id} is not kept: {v}"));
        assert_eq!(
            (&row[1], &row[2]),
            (&Value::Null, &Value::Bool(true)),
            "{row}"
        );
    }
    let mut want = srv.with_dataset(|d| d.ids("contacts"));
    want.sort_by_key(|i| i.parse::<u64>().unwrap_or(0));
    let mut live: Vec<String> = v["live"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(String::from))
        .collect();
    live.sort_by_key(|i| i.parse::<u64>().unwrap_or(0));
    assert_eq!(
        live, want,
        "the README's filter leaves the server's contacts"
    );
}
