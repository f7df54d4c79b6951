//! The fits with the pipelines people run — `make sync`, the Airbyte protocol models,
//! Singer targets — and connector.json.

mod common;
use ac_test_server::Server;
use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const KEY: &str = "pipe-key-c0ffee42";

fn server(contacts: usize) -> Server {
    TestServer::new(KEY, 31, contacts).start()
}

fn lines_ids(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| v["id"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn connector_json_names_the_built_component_and_the_interface() {
    let text = std::fs::read_to_string(repo().join("connector.json")).expect("connector.json");
    let c: Value = serde_json::from_str(&text).expect("connector.json is JSON");
    let path = repo().join(c["component"].as_str().expect("component path"));
    assert_eq!(
        std::fs::canonicalize(&path).ok(),
        std::fs::canonicalize(component()).ok(),
        "connector.json must name the built component"
    );
    assert_eq!(c["wit"]["world"], "source");
    let wit = std::fs::read_to_string(repo().join(c["wit"]["path"].as_str().expect("wit path")))
        .expect("wit file");
    assert!(wit.contains(&format!(
        "package {};",
        c["wit"]["package"].as_str().unwrap_or("?")
    )));
    for f in ["spec", "check", "discover", "read"] {
        assert!(wit.contains(&format!("{f}: func(")), "WIT lacks {f}");
    }
    assert_eq!(c["rate_limit"]["requests_per_second"], 5);
}

#[test]
fn two_make_syncs_first_full_then_incremental() {
    let _g = serial();
    let srv = server(400);
    let s = Scratch::new("sync");
    let cfg = s.dir.join("config.json");
    std::fs::write(&cfg, complete_config(&srv.base_url(), KEY, 50.0)).expect("config");
    let out = s.dir.join("out");
    let sync = || {
        let o = Command::new("bash")
            .arg(repo().join("scripts/sync.sh"))
            .arg(component())
            .arg(&cfg)
            .arg(&out)
            .output()
            .expect("bash");
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
        )
    };
    let (ok, text) = sync();
    assert!(ok, "{text}");
    assert!(text.contains("mode: full"), "{text}");
    assert!(text.contains("total:"), "the summary is shown: {text}");
    let mut contacts = lines_ids(&out.join("streams/contacts.jsonl"));
    contacts.sort();
    let mut want = srv.with_dataset(|d| d.ids("contacts"));
    want.sort();
    assert_eq!(contacts, want);
    assert!(
        !text.contains(KEY)
            && !std::fs::read_to_string(out.join("read.log"))
                .unwrap_or_default()
                .contains(KEY)
    );

    let changed: BTreeSet<String> = srv.with_dataset(|d| {
        let mut ids: BTreeSet<String> = d.touch("contacts", 3).into_iter().collect();
        ids.extend(d.insert("contacts", 2));
        ids
    });
    let (ok, text) = sync();
    assert!(ok, "{text}");
    assert!(text.contains("mode: incremental"), "{text}");
    let after = lines_ids(&out.join("streams/contacts.jsonl"));
    let appended: BTreeSet<String> = after[contacts.len()..].iter().cloned().collect();
    assert_eq!(
        appended, changed,
        "the second sync appends exactly the changed contacts"
    );
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("state.json")).expect("state"))
            .expect("state JSON");
    assert!(state.as_array().map_or(0, Vec::len) >= 59);
    assert_loadable_lines(&out, 2);
    // Each run's messages and log are kept; read.log is the latest run's.
    for n in [1, 2] {
        assert!(
            out.join(format!("messages-{n}.jsonl")).exists(),
            "messages-{n}.jsonl"
        );
        assert!(out.join(format!("read-{n}.log")).exists(), "read-{n}.log");
    }
    let log = std::fs::read_to_string(out.join("read.log")).expect("read.log");
    assert!(log.contains("run 2, messages in messages-2.jsonl"), "{log}");
}

/// Every line of every stream file carries the columns docs/files.md names: `_ab_extracted_at`
/// (ms), `_ab_run` (1..=runs), `_ab_seq` (rising within a run) and `_ab_cdc_deleted_at`.
fn assert_loadable_lines(out: &Path, runs: u64) {
    let mut last_seq: BTreeMap<u64, u64> = BTreeMap::new();
    for e in std::fs::read_dir(out.join("streams"))
        .expect("streams")
        .flatten()
    {
        let text = std::fs::read_to_string(e.path()).expect("stream file");
        for line in text.lines() {
            let v: Value = serde_json::from_str(line).expect("a JSON line");
            let run = v["_ab_run"].as_u64().unwrap_or(0);
            assert!((1..=runs).contains(&run), "{line}");
            assert!(v["_ab_extracted_at"].as_u64().is_some(), "{line}");
            assert!(v.get("_ab_cdc_deleted_at").is_some(), "{line}");
            let seq = v["_ab_seq"].as_u64().unwrap_or(0);
            assert!(seq > 0, "{line}");
            let at = last_seq.entry(run * 1_000_000_000 + seq).or_default();
            *at += 1;
            assert_eq!(*at, 1, "run {run} seq {seq} twice");
        }
    }
}

/// `make sync` interrupted with Ctrl-C (SIGINT to its process group, as a terminal sends it)
/// keeps the state it reached; the rerun continues from it and the files end up holding every
/// contact of the account.
#[test]
fn an_interrupted_make_sync_continues_on_its_rerun() {
    use std::os::unix::process::CommandExt;
    let _g = serial();
    let srv = Server::start(
        ac_test_server::ServerConfig {
            api_key: KEY.into(),
            rate_limit_per_sec: None,
            latency_ms: 5,
            ..ac_test_server::ServerConfig::default()
        },
        ac_test_server::Dataset::generate(33, 3_000),
    )
    .expect("server");
    let s = Scratch::new("sync-interrupted");
    let cfg = s.dir.join("config.json");
    // 8 requests a second: the read lasts long enough for Ctrl-C to land inside it on a busy machine.
    std::fs::write(&cfg, complete_config(&srv.base_url(), KEY, 8.0)).expect("config");
    let out = s.dir.join("out");
    let sync = || {
        let mut c = Command::new("bash");
        c.arg(repo().join("scripts/sync.sh"))
            .arg(component())
            .arg(&cfg)
            .arg(&out);
        c
    };
    let mut c = sync();
    // Ctrl-C as a terminal sends it: a runner that starts tests in the background (`cmd &` in a
    // script) leaves SIGINT ignored, and the sync would inherit that; reset it in the child.
    // SAFETY: signal() is async-signal-safe, and the closure only calls it before exec.
    unsafe {
        c.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            Ok(())
        });
    }
    let mut child = c
        .process_group(0)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("bash");
    let t = std::time::Instant::now();
    let state_has_contacts = || {
        std::fs::read_to_string(out.join("state.json")).is_ok_and(|s| s.contains("\"contacts\""))
    };
    while !state_has_contacts() {
        assert!(
            child.try_wait().expect("wait").is_none(),
            "the sync ended before Ctrl-C"
        );
        assert!(t.elapsed().as_secs() < 120, "no contacts state saved");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let group = format!("-{}", child.id());
    let sent = Command::new("kill")
        .args(["-INT", "--", &group])
        .status()
        .expect("kill");
    assert!(sent.success());
    let status = child.wait().expect("wait");
    assert!(!status.success(), "interrupted: {status}");
    let total = srv.with_dataset(|d| d.ids("contacts")).len();
    let first = lines_ids(&out.join("streams/contacts.jsonl")).len();
    assert!(
        first < total,
        "interrupted before the end ({first} of {total})"
    );
    let o = sync().output().expect("bash");
    let text =
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{text}");
    assert!(
        text.contains("mode: incremental"),
        "the rerun continues: {text}"
    );
    let all = lines_ids(&out.join("streams/contacts.jsonl"));
    assert!(
        all.len() - first < total,
        "the rerun did not start over: {} lines after {first}",
        all.len() - first
    );
    let have: BTreeSet<String> = all.into_iter().collect();
    let want: BTreeSet<String> = srv
        .with_dataset(|d| d.ids("contacts"))
        .into_iter()
        .collect();
    assert_eq!(have, want);
    assert_loadable_lines(&out, 2);
}

#[test]
fn every_message_validates_with_airbyte_protocol_models() {
    let _g = serial();
    let srv = server(300);
    let s = Scratch::new("abmodels");
    let cfg = s.write("c.json", &config(&srv.base_url(), KEY, 50.0));
    let bad = s.write("bad.json", &config(&srv.base_url(), "not-the-key", 50.0));
    let mut files = Vec::new();
    let mut save = |name: &str, run: &Run| {
        std::fs::write(s.dir.join(name), &run.stdout).expect("save output");
        files.push(s.dir.join(name).display().to_string());
    };
    save("spec.jsonl", &wasmtime(&s, &["spec"]));
    save("check.jsonl", &wasmtime(&s, &["check", "--config", &cfg]));
    save(
        "check-bad.jsonl",
        &wasmtime(&s, &["check", "--config", &bad]),
    );
    let disc = wasmtime(&s, &["discover", "--config", &cfg]);
    save("discover.jsonl", &disc);
    let full = wasmtime(&s, &["read", "--config", &cfg]);
    assert_eq!(full.code, 0, "{}", full.stderr);
    save("read.jsonl", &full);
    // An incremental read from the full read's state, and a read with a failing stream and a
    // failed run: their STATE, TRACE ERROR and LOG messages must validate too.
    let streams = disc.of_type("CATALOG")[0]["catalog"]["streams"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = streams
        .iter()
        .filter(|x| x["default_cursor_field"].is_array())
        .filter_map(|x| x["name"].as_str())
        .collect();
    let cat = s.write("cat.json", &catalog(&names, true));
    let first = wasmtime(&s, &["read", "--config", &cfg, "--catalog", &cat]);
    let states: Vec<Value> = first
        .of_type("STATE")
        .into_iter()
        .map(|m| m["state"].clone())
        .collect();
    let st = s.write("state.json", &Value::Array(states).to_string());
    save(
        "read-incremental.jsonl",
        &wasmtime(
            &s,
            &["read", "--config", &cfg, "--catalog", &cat, "--state", &st],
        ),
    );
    srv.set_failing_paths(vec!["tags".into()]);
    let retry_cfg = s.write("r.json", &serde_json::json!({"api_url": srv.base_url(), "api_key": KEY, "max_attempts": 2, "requests_per_second": 50}).to_string());
    save(
        "read-failing.jsonl",
        &wasmtime(
            &s,
            &[
                "read",
                "--config",
                &retry_cfg,
                "--catalog",
                &s.write("t.json", &catalog(&["tags", "users"], false)),
            ],
        ),
    );
    save(
        "read-bad-key.jsonl",
        &wasmtime(&s, &["read", "--config", &bad]),
    );
    // --strict: also refuse keys the models do not know (they accept them silently).
    let mut args = vec![
        "--strict",
        "--require",
        "SPEC,CONNECTION_STATUS,CATALOG,RECORD,STATE,LOG,TRACE",
    ];
    let script = repo()
        .join("tests/python/validate_airbyte.py")
        .display()
        .to_string();
    let mut all = vec![script.as_str()];
    all.append(&mut args);
    all.extend(files.iter().map(String::as_str));
    let (ok, text) = run_tool(&venv_bin("airbyte", "python"), &all, None);
    assert!(ok, "airbyte-protocol-models rejected a message:\n{text}");
    assert!(text.contains("validated"), "{text}");
}

#[test]
fn singer_syncs_land_in_target_jsonl_and_target_duckdb() {
    let _g = serial();
    let srv = server(300);
    let s = Scratch::new("singer");
    let cfg = s.write("c.json", &complete_config(&srv.base_url(), KEY, 50.0));
    let disc = wasmtime(&s, &["--config", &cfg, "--discover"]);
    assert_eq!(disc.code, 0, "{}", disc.stderr);
    let cat = s.write("catalog.json", &select_all(&disc.stdout));
    let singer_catalog: Value = serde_json::from_str(&disc.stdout).expect("catalog");
    let incremental: BTreeSet<String> = singer_catalog["streams"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|x| x["replication_method"] == "INCREMENTAL")
        .filter_map(|x| x["stream"].as_str().map(String::from))
        .collect();
    assert!(incremental.contains("contacts") && !incremental.contains("tags"));

    let jsonl = venv_bin("jsonl", "target-jsonl");
    let duckdb = venv_bin("duckdb", "target-duckdb");
    let db = s.dir.join("warehouse.duckdb");
    std::fs::write(
        s.dir.join("duckdb.json"),
        serde_json::json!({"path": db, "default_target_schema": "activecampaign"}).to_string(),
    )
    .expect("config");
    let sync = |run: usize, state: Option<&str>| -> PathBuf {
        let mut args = vec!["--config", cfg.as_str(), "--catalog", cat.as_str()];
        if let Some(st) = state {
            args.extend(["--state", st]);
        }
        let out = wasmtime(&s, &args);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(!out.stdout.contains(KEY) && !out.stderr.contains(KEY));
        // SCHEMA comes before a stream's first RECORD.
        let mut announced = BTreeSet::new();
        for m in out.messages() {
            match m["type"].as_str() {
                Some("SCHEMA") => {
                    announced.insert(m["stream"].as_str().unwrap_or("").to_string());
                }
                Some("RECORD") => assert!(
                    announced.contains(m["stream"].as_str().unwrap_or("")),
                    "RECORD before SCHEMA"
                ),
                _ => {}
            }
        }
        let messages = s.dir.join(format!("singer{run}.jsonl"));
        std::fs::write(&messages, &out.stdout).expect("save");
        let dir = s.dir.join(format!("jsonl{run}"));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(
            s.dir.join("jsonl.json"),
            serde_json::json!({"destination_path": dir}).to_string(),
        )
        .expect("config");
        let (ok, text) = run_tool(
            &jsonl,
            &["--config", &s.dir.join("jsonl.json").display().to_string()],
            Some(&messages),
        );
        assert!(ok, "target-jsonl failed: {text}");
        // The target echoes the last state: that is what the next sync resumes from.
        let last_state = text
            .lines()
            .rfind(|l| l.starts_with('{'))
            .unwrap_or("{}")
            .to_string();
        std::fs::write(s.dir.join(format!("state{run}.json")), &last_state).expect("state");
        let (ok, text) = run_tool(
            &duckdb,
            &["--config", &s.dir.join("duckdb.json").display().to_string()],
            Some(&messages),
        );
        assert!(ok, "target-duckdb failed: {text}");
        dir
    };
    let loaded = |dir: &Path| -> BTreeMap<String, Vec<String>> {
        let (ok, text) = run_tool(
            &venv_bin("jsonl", "python"),
            &[
                &repo()
                    .join("tests/python/loaded_ids.py")
                    .display()
                    .to_string(),
                "jsonl",
                &dir.display().to_string(),
            ],
            None,
        );
        assert!(ok, "{text}");
        serde_json::from_str(&text).expect("ids JSON")
    };
    let in_duckdb = || -> BTreeMap<String, Vec<String>> {
        let (ok, text) = run_tool(
            &venv_bin("duckdb", "python"),
            &[
                &repo()
                    .join("tests/python/loaded_ids.py")
                    .display()
                    .to_string(),
                "duckdb",
                &db.display().to_string(),
                "activecampaign",
            ],
            None,
        );
        assert!(ok, "{text}");
        serde_json::from_str(&text).expect("ids JSON")
    };

    let dir1 = sync(1, None);
    // Typed columns in target-duckdb: numbers, dates and date-times are not text.
    let catalog = s.dir.join("singer-catalog.json");
    std::fs::write(&catalog, &disc.stdout).expect("save");
    let (types, text, custom) = column_types("duckdb", &db, "activecampaign", &catalog);
    // target-duckdb's own mapping: integers HUGEINT, date-times TIMESTAMP, lists JSON; a
    // zoneless date-time is text in Singer schemas (RFC 3339 has no zoneless form).
    let want = [
        ("contacts.sentcnt", "HUGEINT"),
        ("contacts.udate", "TIMESTAMP"),
        ("contacts.created_timestamp", "VARCHAR"),
        ("deals.value", "HUGEINT"),
        ("contacts.id", "VARCHAR"),
        ("tasks.relid", "VARCHAR"),
        ("contacts.custom_field_3", "JSON"),
        ("contacts.custom_field_8", "TIMESTAMP"),
        ("deals.custom_field_4", "TIMESTAMP"),
        ("deals.custom_field_8", "JSON"),
        ("accounts.custom_field_10", "DOUBLE"),
    ];
    assert_typed_columns("target-duckdb", &types, &text, &want);
    assert_custom_columns("target-duckdb", &srv, &custom);
    let first = loaded(&dir1);
    let names = srv.with_dataset(|d| d.stream_names());
    for name in &names {
        let stream = connector_name(name);
        assert_exactly(
            &format!("target-jsonl {stream}"),
            srv.with_dataset(|d| d.ids(name)),
            first.get(&stream),
        );
    }
    let db1 = in_duckdb();
    for name in &names {
        let stream = connector_name(name);
        assert_exactly(
            &format!("target-duckdb {stream}"),
            srv.with_dataset(|d| d.ids(name)),
            db1.get(&stream),
        );
    }

    // Unchanged records inside the overlap (event-time cursors, cursors without a zone) come
    // again by design.
    let overlap = overlap_after_first_read(&srv, 5);
    let mut changed: BTreeMap<String, BTreeSet<String>> = srv.with_dataset(|d| {
        ["contacts", "deals", "contact_tags", "tags"]
            .iter()
            .map(|s| {
                let mut ids: BTreeSet<String> = d.touch(s, 3).into_iter().collect();
                ids.extend(d.insert(s, 2));
                (s.to_string(), ids)
            })
            .collect()
    });
    for (stream, ids) in overlap {
        changed.entry(stream).or_default().extend(ids);
    }
    let state = s.dir.join("state1.json").display().to_string();
    let st: Value =
        serde_json::from_str(&std::fs::read_to_string(&state).expect("state")).expect("state JSON");
    assert!(
        st["bookmarks"]["contacts"]["cursor"].is_string(),
        "bookmarks carry the cursor: {st}"
    );
    let sandbox_state = format!(
        "/data/{}",
        Path::new(&state)
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or("")
    );
    let dir2 = sync(2, Some(&sandbox_state));
    let second = loaded(&dir2);
    for name in &names {
        let stream = connector_name(name);
        let got: BTreeSet<String> = second
            .get(&stream)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .collect();
        if incremental.contains(&stream) {
            let want = changed.get(&stream).cloned().unwrap_or_default();
            assert_eq!(
                got, want,
                "{stream}: the incremental Singer sync must load exactly the changed records"
            );
        } else {
            let all: BTreeSet<String> = srv.with_dataset(|d| d.ids(name)).into_iter().collect();
            assert_eq!(got, all, "{stream}: FULL_TABLE reloads everything");
        }
    }
    // The warehouse holds every record once: changed rows were upserted, not duplicated.
    let db2 = in_duckdb();
    for name in &names {
        let stream = connector_name(name);
        assert_exactly(
            &format!("target-duckdb after two syncs {stream}"),
            srv.with_dataset(|d| d.ids(name)),
            db2.get(&stream),
        );
    }
}

/// `make sync`'s sink (scripts/sync_sink.py) on a made-up message stream: records get the
/// columns of docs/files.md, the state is saved, messages go to this run's file, and a warning
/// that holds deletions back is named per stream with its fix. Each text it looks for is the
/// engine's own.
#[test]
fn the_sync_sink_names_what_was_held_back_with_the_fix() {
    let s = Scratch::new("sync-sink");
    std::fs::create_dir_all(s.dir.join("streams")).expect("streams dir");
    let input = [
        r#"{"type":"RECORD","record":{"stream":"tags","data":{"id":"1","tag":"a"},"emitted_at":5}}"#,
        r#"{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"tags"},"stream_state":{"x":1}}}}"#,
        r#"{"type":"LOG","log":{"level":"WARN","message":"tags: 4 of 12 rows would be deleted, more than deletion_guard_share allows; no deletion reported"}}"#,
        r#"{"type":"RECORD","record":{"stream":"tags","data":{"id":"2","_ab_cdc_deleted_at":"2026-01-01T00:00:00Z"},"emitted_at":6}}"#,
    ]
    .join("\n");
    let stdin = s.dir.join("in.jsonl");
    std::fs::write(&stdin, &input).expect("input");
    let sink = repo().join("scripts/sync_sink.py");
    let out = Command::new("python3")
        .arg(&sink)
        .arg(&s.dir)
        .arg("3")
        .stdin(std::fs::File::open(&stdin).expect("stdin"))
        .output()
        .expect("python3");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("  tags: deletion guard: tags: 4 of 12 rows"),
        "{text}"
    );
    assert!(text.contains("fix: check the account; if the rows are really gone, run one sync with deletion_guard_share 1"), "{text}");
    let lines: Vec<Value> = std::fs::read_to_string(s.dir.join("streams/tags.jsonl"))
        .expect("tags file")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(
        lines,
        [
            serde_json::json!({"id": "1", "tag": "a", "_ab_extracted_at": 5, "_ab_run": 3, "_ab_seq": 1, "_ab_cdc_deleted_at": null}),
            serde_json::json!({"id": "2", "_ab_cdc_deleted_at": "2026-01-01T00:00:00Z", "_ab_extracted_at": 6, "_ab_run": 3, "_ab_seq": 2}),
        ]
    );
    assert!(std::fs::read_to_string(s.dir.join("state.json")).is_ok_and(|t| t.contains("\"x\": 1")));
    assert_eq!(
        std::fs::read_to_string(s.dir.join("messages-3.jsonl"))
            .map(|t| t.lines().count())
            .ok(),
        Some(1)
    );
    // The texts the sink looks for (the first string of each row of its HELD table).
    let script = std::fs::read_to_string(&sink).expect("sync_sink.py");
    let engine = ["decision.rs"]
        .iter()
        .map(|f| std::fs::read_to_string(repo().join("src/engine").join(f)).expect("engine source"))
        .collect::<String>();
    let needles: Vec<&str> = script
        .lines()
        .filter_map(|l| l.strip_prefix("    (\"")?.strip_suffix("\","))
        .collect();
    assert!(needles.len() >= 5, "{needles:?}");
    for n in needles {
        assert!(engine.contains(n), "the engine no longer says {n:?}");
    }
}

/// The custom field columns over a field's life: a rename keeps its column (the title follows),
/// a new field's column appears at the next discover and fills, a deleted field's column leaves
/// the next discovered schema and comes null from a read of the older catalog.
#[test]
fn custom_field_columns_follow_fields_added_renamed_and_deleted() {
    let _g = serial();
    let srv = server(120);
    let s = Scratch::new("custom-columns");
    let cfg = s.write("c.json", &config(&srv.base_url(), KEY, 50.0));
    let contacts_schema = || -> Value {
        discover_streams(&s, &cfg)
            .into_iter()
            .find(|x| x["name"] == "contacts")
            .map(|x| x["json_schema"].clone())
            .expect("contacts")
    };
    let read_contacts = |schema: &Value| -> BTreeMap<String, Value> {
        let catalog = serde_json::json!({"streams": [{"stream": {"name": "contacts", "json_schema": schema,
            "supported_sync_modes": ["full_refresh"]}, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}]});
        let cat = s.write("cat.json", &catalog.to_string());
        let run = wasmtime(&s, &["read", "--config", &cfg, "--catalog", &cat]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.records("contacts")
            .into_iter()
            .map(|r| (r["id"].as_str().unwrap_or("").to_string(), r))
            .collect()
    };
    let fields = srv.with_dataset(|d| d.records("contact_custom_fields"));
    let before = contacts_schema();
    for f in &fields {
        let column = format!("custom_field_{}", f["id"].as_str().expect("id"));
        assert_eq!(
            before["properties"][&column]["title"], f["title"],
            "{column}"
        );
    }
    // A rename: the same column, the new label.
    assert!(srv.with_dataset(|d| d.set("contact_custom_fields", "6", "title", "Role".into())));
    let renamed = contacts_schema();
    assert_eq!(renamed["properties"]["custom_field_6"]["title"], "Role");
    // A new field with a value on contact 1: its column appears and fills.
    let id = srv.with_dataset(|d| {
        let id = d.put("contact_custom_fields", serde_json::json!({"title": "Plan", "type": "text",
            "perstag": "PLAN", "cdate": "2024-01-01T00:00:00-05:00", "udate": "2024-01-01T00:00:00-05:00"}));
        d.put("contact_custom_field_values", serde_json::json!({"contact": "1", "field": id.clone(),
            "value": "Pro", "cdate": "2024-01-01T00:00:00-05:00", "udate": "2024-01-01T00:00:00-05:00"}));
        id
    });
    let column = format!("custom_field_{id}");
    assert!(before["properties"].get(&column).is_none());
    let added = contacts_schema();
    assert_eq!(added["properties"][&column]["title"], "Plan");
    let rows = read_contacts(&added);
    assert_eq!(rows["1"][&column], "Pro");
    assert_eq!(rows["2"][&column], Value::Null);
    assert_eq!(rows.len(), 120);
    // Deleted (the field and its values): gone from the next discover; the older catalog's read
    // fills the column with null.
    srv.with_dataset(|d| {
        let values: Vec<String> = d
            .records("contact_custom_field_values")
            .iter()
            .filter(|v| v["field"] == id.as_str())
            .map(|v| v["id"].as_str().unwrap_or("").to_string())
            .collect();
        d.delete_ids("contact_custom_field_values", &values);
        d.delete_ids("contact_custom_fields", std::slice::from_ref(&id));
    });
    assert!(contacts_schema()["properties"].get(&column).is_none());
    let rows = read_contacts(&added);
    assert_eq!(rows["1"][&column], Value::Null);
}

/// The custom field columns of deals and accounts, with the server's values of every field type:
/// from `include=` on their pages, and the same from a join when the server ignores it; a
/// rename keeps the column, a new field appears at the next discover and fills, a deleted one
/// leaves the schema.
#[test]
fn deal_and_account_columns_hold_the_server_values_with_or_without_the_include() {
    let _g = serial();
    let srv = server(120);
    let s = Scratch::new("owner-columns");
    let cfg = s.write("c.json", &config(&srv.base_url(), KEY, 50.0));
    let schemas = || -> BTreeMap<String, Value> {
        discover_streams(&s, &cfg)
            .into_iter()
            .filter(|x| x["name"] == "deals" || x["name"] == "accounts")
            .map(|x| {
                (
                    x["name"].as_str().unwrap_or("").to_string(),
                    x["json_schema"].clone(),
                )
            })
            .collect()
    };
    // Each read's custom columns as a loader's text: {table: {id: {column: text}}}.
    let read = |schemas: &BTreeMap<String, Value>| -> (Value, String) {
        let streams: Vec<Value> = schemas
            .iter()
            .map(|(name, schema)| serde_json::json!({"stream": {"name": name, "json_schema": schema,
                "supported_sync_modes": ["full_refresh"]}, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}))
            .collect();
        let cat = s.write(
            "cat.json",
            &serde_json::json!({"streams": streams}).to_string(),
        );
        let run = wasmtime(&s, &["read", "--config", &cfg, "--catalog", &cat]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let mut custom = serde_json::json!({});
        for table in schemas.keys() {
            let schema = &schemas[table];
            for r in run.records(table) {
                validate(schema, &r, table).unwrap_or_else(|e| panic!("{table}: {e}"));
                let id = r["id"].as_str().unwrap_or("").to_string();
                let mut row = serde_json::Map::new();
                for (k, v) in r.as_object().into_iter().flatten() {
                    let text = match v {
                        Value::Null => continue,
                        Value::String(t) => t.clone(),
                        other => other.to_string(),
                    };
                    if k.starts_with("custom_field_") {
                        row.insert(k.clone(), Value::String(text));
                    }
                    if k == "_ac_originals" {
                        row.insert(k.clone(), v.clone());
                    }
                }
                custom[table.as_str()][id] = Value::Object(row);
            }
        }
        let logs = run
            .of_type("LOG")
            .iter()
            .filter_map(|m| m["log"]["message"].as_str().map(String::from))
            .collect::<Vec<_>>()
            .join("\n");
        (custom, logs)
    };
    let found = schemas();
    let defs = srv.with_dataset(|d| d.records("deal_custom_fields"));
    assert_eq!(defs.len(), 11, "one field of every type");
    for f in &defs {
        let column = format!("custom_field_{}", f["id"].as_str().expect("id"));
        assert_eq!(
            found["deals"]["properties"][&column]["title"], f["fieldLabel"],
            "{column}"
        );
    }
    let kinds: BTreeMap<&str, &Value> = [
        ("3", "date"),
        ("4", "date-time"),
        ("7", "array"),
        ("8", "array"),
        ("10", "number"),
        ("11", "number"),
    ]
    .into_iter()
    .map(|(id, k)| {
        (
            k,
            &found["accounts"]["properties"][format!("custom_field_{id}")],
        )
    })
    .collect();
    assert_eq!(kinds["date"]["format"], "date");
    assert_eq!(kinds["date-time"]["format"], "date-time");
    assert_eq!(kinds["array"]["items"]["type"], "string");
    assert_eq!(
        kinds["number"]["type"],
        serde_json::json!(["number", "null"])
    );

    let (honoured, logs) = read(&found);
    assert!(!logs.contains("ignored include"), "{logs}");
    assert_custom_columns_of(&["deals", "accounts"], "include", &srv, &honoured);
    // The malformed values: null in their columns, whole in the originals.
    for (kind, sent) in ac_test_server::CUSTOM_FIELD_SLIPS {
        for (table, values) in [
            ("deals", "deal_custom_field_values"),
            ("accounts", "account_custom_field_values"),
        ] {
            let owner_key = if table == "deals" {
                "dealId"
            } else {
                "accountId"
            };
            let slip = srv
                .with_dataset(|d| d.records(values))
                .into_iter()
                .find(|v| v["fieldValue"] == *sent)
                .unwrap_or_else(|| panic!("the server's {kind} slip in {values}"));
            let (owner, field) = (
                slip[owner_key].to_string(),
                slip["customFieldId"].to_string(),
            );
            let column = format!("custom_field_{field}");
            assert_eq!(
                honoured[table][&owner].get(&column),
                None,
                "{table} {owner} {column}"
            );
            assert_eq!(
                honoured[table][&owner]["_ac_originals"][&column], *sent,
                "{table} {owner}"
            );
        }
    }
    srv.with_config(|c| c.quirks.ignore_include = vec!["deals".into(), "accounts".into()]);
    let (joined, logs) = read(&found);
    assert!(
        logs.contains("deals: the API ignored include=dealCustomFieldData"),
        "{logs}"
    );
    assert!(
        logs.contains("accounts: the API ignored include=accountCustomFieldData"),
        "{logs}"
    );
    assert_eq!(joined, honoured, "the join gives what the include gives");

    // A rename keeps the column; a new field with a value on deal 12 appears and fills; a
    // deleted field (and its values) leaves the next schema, and an older catalog's read is null.
    assert!(srv.with_dataset(|d| d.set(
        "deal_custom_fields",
        "5",
        "fieldLabel",
        "Plan tier".into()
    )));
    let id = srv.with_dataset(|d| {
        let id = d.put("deal_custom_fields", serde_json::json!({"fieldLabel": "Partner", "fieldType": "text",
            "personalization": "%DEAL_PARTNER%", "createdTimestamp": "2024-01-01 00:00:00", "updatedTimestamp": "2024-01-01 00:00:00"}));
        d.put("deal_custom_field_values", serde_json::json!({"dealId": 12, "customFieldId": id.parse::<u64>().unwrap_or(0),
            "fieldValue": "Acme", "createdTimestamp": "2024-01-01 00:00:00", "updatedTimestamp": "2024-01-01 00:00:00"}));
        id
    });
    let column = format!("custom_field_{id}");
    let later = schemas();
    assert_eq!(
        later["deals"]["properties"]["custom_field_5"]["title"],
        "Plan tier"
    );
    assert_eq!(later["deals"]["properties"][&column]["title"], "Partner");
    let (rows, _) = read(&later);
    assert_eq!(rows["deals"]["12"][&column], "Acme");
    assert_eq!(rows["deals"]["11"].get(&column), None, "no value: null");
    srv.with_dataset(|d| {
        let values: Vec<String> = d
            .records("deal_custom_field_values")
            .iter()
            .filter(|v| v["customFieldId"].to_string().trim_matches('"') == id)
            .map(|v| v["id"].as_str().unwrap_or("").to_string())
            .collect();
        d.delete_ids("deal_custom_field_values", &values);
        d.delete_ids("deal_custom_fields", std::slice::from_ref(&id));
    });
    assert!(schemas()["deals"]["properties"].get(&column).is_none());
    let (rows, _) = read(&later);
    assert_eq!(rows["deals"]["12"].get(&column), None);
}

/// A server that ignores `include=` on contacts: the children that ride on the contacts pages
/// come from their own lists, whole, and the contacts' custom field columns from a join.
#[test]
fn a_server_ignoring_include_on_contacts_loses_nothing() {
    let _g = serial();
    let srv = server(300);
    srv.with_config(|c| c.quirks.ignore_include = vec!["contacts".into()]);
    let s = Scratch::new("contacts-include-ignored");
    let cfg = s.write("c.json", &config(&srv.base_url(), KEY, 50.0));
    let wanted = [
        "contacts",
        "contact_tags",
        "contact_lists",
        "contact_custom_field_values",
    ];
    let streams: Vec<Value> = discover_streams(&s, &cfg)
        .into_iter()
        .filter(|x| wanted.iter().any(|w| x["name"] == *w))
        .map(|x| serde_json::json!({"stream": x, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}))
        .collect();
    assert_eq!(streams.len(), 4);
    let cat = s.write(
        "cat.json",
        &serde_json::json!({"streams": streams}).to_string(),
    );
    let run = wasmtime(&s, &["read", "--config", &cfg, "--catalog", &cat]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for name in wanted {
        let got: BTreeSet<String> = run
            .records(name)
            .iter()
            .filter_map(|r| r["id"].as_str().map(String::from))
            .collect();
        let want: BTreeSet<String> = srv.with_dataset(|d| d.ids(name)).into_iter().collect();
        assert_eq!(got, want, "{name}");
    }
    let mut custom = serde_json::json!({});
    for r in run.records("contacts") {
        let id = r["id"].as_str().unwrap_or("").to_string();
        let row: serde_json::Map<String, Value> = r
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, v)| k.starts_with("custom_field_") && !v.is_null())
            .map(|(k, v)| {
                (
                    k.clone(),
                    Value::String(v.as_str().map_or_else(|| v.to_string(), String::from)),
                )
            })
            .collect();
        custom["contacts"][id] = Value::Object(row);
    }
    assert_custom_columns_of(&["contacts"], "include ignored", &srv, &custom);
    assert!(
        run.stderr.contains("ignored include=contactTags")
            || run.stdout.contains("ignored include=contactTags")
    );
}
