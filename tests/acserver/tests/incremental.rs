//! End to end: every stream valid against its schema, incremental reads, resume after a
//! kill, per-stream isolation.

mod common;
use ac_test_server::{Dataset, Server};
use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const KEY: &str = "incr-key-51c0ffee";

fn server(contacts: usize, disabled: Vec<String>) -> Server {
    TestServer::new(KEY, 23, contacts)
        .with(|c| c.disabled_features = disabled)
        .start()
}

/// Unchanged records an incremental read delivers again by design: those inside the overlap
/// before the saved cursor. Event-time cursors overlap by an hour; a cursor value without a zone
/// is read at UTC-12:00, 7 hours after this account's -05:00 reading, so it stays after the
/// cursor for 7 hours longer.
fn overlap_ids(srv: &Server, stream: &str, field: &str, state: &Value) -> BTreeSet<String> {
    const EVENT_TIME: [&str; 6] = [
        "activities",
        "email_activities",
        "sms",
        "contact_emails",
        "deal_activities",
        "contact_conversions",
    ];
    let Some(cursor) = state["stream"]["stream_state"]["cursor"].as_str() else {
        return BTreeSet::new();
    };
    let c = ac_test_server::parse_instant_ms(cursor).unwrap_or(i64::MAX) / 1000;
    let lookback = if EVENT_TIME.contains(&stream) {
        3600
    } else {
        0
    };
    let server_name = srv
        .with_dataset(|d| d.stream_names())
        .into_iter()
        .find(|n| connector_name(n) == stream)
        .unwrap_or_default();
    srv.with_dataset(|d| d.records(&server_name))
        .into_iter()
        .filter(|r| {
            let Some(v) = r[field].as_str() else {
                return false;
            };
            let Ok(ms) = ac_test_server::parse_instant_ms(v) else {
                return false;
            };
            let zoned = v.get(10..).is_some_and(|t| t.contains(['Z', '+', '-']));
            let at = ms / 1000 + if zoned { 0 } else { 7 * 3600 };
            if lookback > 0 {
                at >= c - lookback
            } else {
                at > c
            }
        })
        .filter_map(|r| r["id"].as_str().map(String::from))
        .collect()
}

#[test]
fn discover_offers_all_streams_and_custom_objects() {
    let _g = serial();
    let srv = server(20, vec![]);
    let s = Scratch::new("disc3");
    let cfg = s.write("c.json", &complete_config(&srv.base_url(), KEY, 50.0));
    let streams = discover_streams(&s, &cfg);
    let names: BTreeSet<String> = streams
        .iter()
        .filter_map(|x| x["name"].as_str().map(String::from))
        .collect();
    let want: BTreeSet<String> = srv
        .with_dataset(|d| d.stream_names())
        .iter()
        .map(|n| connector_name(n))
        .collect();
    assert_eq!(names, want);
    let customs = names
        .iter()
        .filter(|n| n.starts_with("custom_object_"))
        .count();
    assert!(customs >= 2, "custom objects: {customs}");
    assert!(names.len() >= 59 + customs);
    for st in &streams {
        let inc = st["supported_sync_modes"]
            .as_array()
            .is_some_and(|m| m.iter().any(|x| x == "incremental"));
        assert_eq!(inc, st["default_cursor_field"].is_array(), "{}", st["name"]);
        assert_eq!(
            st["source_defined_primary_key"],
            serde_json::json!([["id"]])
        );
    }
}

#[test]
fn full_then_incremental_read_delivers_exactly_the_changes() {
    let _g = serial();
    let srv = server(500, vec![]);
    let s = Scratch::new("incr");
    let cfg = s.write("c.json", &complete_config(&srv.base_url(), KEY, 50.0));
    let streams = discover_streams(&s, &cfg);
    let cat = s.write("cat.json", &incremental_catalog(&streams));

    let first = wasmtime(&s, &["read", "--config", &cfg, "--catalog", &cat]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let msgs = first.messages();
    // Every record valid against its stream's schema; every stream exactly the server's records.
    let schemas: BTreeMap<String, Value> = streams
        .iter()
        .map(|x| {
            (
                x["name"].as_str().unwrap_or("").to_string(),
                x["json_schema"].clone(),
            )
        })
        .collect();
    for m in msgs.iter().filter(|m| m["type"] == "RECORD") {
        let stream = m["record"]["stream"].as_str().unwrap_or("");
        validate(&schemas[stream], &m["record"]["data"], stream)
            .unwrap_or_else(|e| panic!("invalid record: {e}"));
    }
    let got = ids_by_stream(&msgs);
    for name in srv.with_dataset(|d| d.stream_names()) {
        assert_exactly(
            &name,
            srv.with_dataset(|d| d.ids(&name)),
            got.get(&connector_name(&name)),
        );
    }
    // Zero dates arrive as null.
    assert!(
        !first.stdout.contains("0000-00-00"),
        "zero dates must become null"
    );

    // Change the data: updates and inserts in server-filtered and client-filtered streams.
    let mut changed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    srv.with_dataset(|d| {
        for (stream, touch, insert) in [
            ("contacts", 7, 3),
            ("deals", 2, 1),
            ("contact_tags", 4, 2),
            ("campaigns", 1, 0),
            ("activities", 2, 1),
            ("custom_object:support-ticket", 1, 1),
        ] {
            let mut ids: BTreeSet<String> = d.touch(stream, touch).into_iter().collect();
            ids.extend(d.insert(stream, insert));
            changed.insert(connector_name(stream), ids);
        }
    });
    let mut states = BTreeMap::new();
    merge_states(&mut states, &msgs);
    let st = s.write("state.json", &state_text(&states));
    let second = wasmtime(
        &s,
        &["read", "--config", &cfg, "--catalog", &cat, "--state", &st],
    );
    assert_eq!(second.code, 0, "{}", second.stderr);
    let got = ids_by_stream(&second.messages());
    for st in &streams {
        let name = st["name"].as_str().unwrap_or("");
        let incremental = st["default_cursor_field"].is_array();
        let have: Vec<String> = got.get(name).cloned().unwrap_or_default();
        let unique: BTreeSet<String> = have.iter().cloned().collect();
        assert_eq!(
            unique.len(),
            have.len(),
            "{name}: duplicates in the incremental read"
        );
        if incremental {
            let mut want = changed.get(name).cloned().unwrap_or_default();
            let field = st["default_cursor_field"][0].as_str().unwrap_or("");
            want.extend(overlap_ids(&srv, name, field, &states[name]));
            assert_eq!(
                unique, want,
                "{name}: the incremental read must deliver exactly the changed records (and those in the overlap)"
            );
        } else {
            let all: BTreeSet<String> = srv.with_dataset(|d| d.ids(name)).into_iter().collect();
            assert_eq!(unique, all, "{name}: full refresh re-reads everything");
        }
    }
    // With full_sweep_hours 0 every sync is a sweep: no server filter (between sweeps deals and
    // contacts are filtered: src/scenarios/planning.rs), and the children (field values, tags,
    // lists) ride on one pass over all contacts, cheaper than paging their own lists.
    let filtered = |p: &str| {
        srv.requests()
            .iter()
            .filter(|r| r.path.contains(p) && r.path.contains("updated_after"))
            .count()
    };
    assert!(srv.requests().iter().any(|r| r.path.contains("/deals?")));
    assert_eq!(filtered("/deals?"), 0);
    assert_eq!(filtered("/contacts?"), 0);
    assert!(
        !srv.requests()
            .iter()
            .any(|r| r.path.contains("/contactTags?")),
        "children came with contacts"
    );
    // Contacts alone, between sweeps (the default full_sweep_hours; the state's last complete
    // pass is minutes old): the server filters them.
    let alone = s.write("alone.json", &catalog(&["contacts"], true));
    let between = s.write("between.json", &config(&srv.base_url(), KEY, 50.0));
    let third = wasmtime(
        &s,
        &[
            "read",
            "--config",
            &between,
            "--catalog",
            &alone,
            "--state",
            &st,
        ],
    );
    assert_eq!(third.code, 0, "{}", third.stderr);
    assert!(
        filtered("/contacts?") >= 1,
        "contacts alone are filtered by the server"
    );
    let got: BTreeSet<String> = ids_by_stream(&third.messages())
        .remove("contacts")
        .unwrap_or_default()
        .into_iter()
        .collect();
    assert_eq!(&got, changed.get("contacts").expect("contacts changed"));
}

/// Runs a read and kills it after `lines` lines of output; returns what it printed.
fn read_killed_after(s: &Scratch, args: &[&str], lines: usize) -> (Vec<Value>, bool) {
    let mut child = Command::new("wasmtime")
        .arg("run")
        .arg("-S")
        .arg("http")
        .arg("--dir")
        .arg(format!("{}::/data", s.dir.display()))
        .arg(component())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("wasmtime");
    let out = child.stdout.take().expect("stdout");
    let mut msgs = Vec::new();
    let mut killed = false;
    for line in BufReader::new(out).lines() {
        let Ok(line) = line else { break };
        if let Ok(v) = serde_json::from_str::<Value>(&line) {
            msgs.push(v);
        }
        if msgs.len() >= lines {
            let _ = child.kill();
            killed = true;
            break;
        }
    }
    let status = child.wait().expect("wait");
    (msgs, killed || !status.success())
}

#[test]
fn a_read_killed_five_times_and_resumed_loses_nothing() {
    let _g = serial();
    let srv = server(800, vec![]);
    let s = Scratch::new("resume");
    let cfg = s.write("c.json", &complete_config(&srv.base_url(), KEY, 40.0));
    let streams = discover_streams(&s, &cfg);
    let cat = s.write("cat.json", &incremental_catalog(&streams));
    let mut states: BTreeMap<String, Value> = BTreeMap::new();
    let mut all: Vec<Value> = Vec::new();
    let mut kills = 0;
    // Kill points spread over the run: after 300, 500, 800, 1100… messages of each run.
    for (i, budget) in [300usize, 500, 800, 1100, 1400, 1800, 2500, 4000, 1_000_000]
        .iter()
        .enumerate()
    {
        let mut args = vec!["read", "--config", &cfg, "--catalog", &cat];
        let st;
        if !states.is_empty() {
            st = s.write(&format!("state{i}.json"), &state_text(&states));
            args.extend(["--state", st.as_str()]);
        }
        let (msgs, killed) = read_killed_after(&s, &args, *budget);
        merge_states(&mut states, &msgs);
        all.extend(msgs);
        if !killed {
            break;
        }
        kills += 1;
    }
    assert!(kills >= 5, "only {kills} kills happened");
    // The kills interrupted passes (not only gaps between streams): resumes started mid-list.
    let resumed_mid_list = srv
        .requests()
        .iter()
        .filter(|r| {
            r.path.contains("id_greater=")
                || (r.path.contains("offset=") && !r.path.contains("offset=0"))
        })
        .count();
    assert!(resumed_mid_list > 0);
    assert!(all.iter().any(
        |m| m["type"] == "STATE" && m["state"]["stream"]["stream_state"]["resume"].is_object()
    ));
    let got = ids_by_stream(&all);
    for name in srv.with_dataset(|d| d.stream_names()) {
        let want: BTreeSet<String> = srv.with_dataset(|d| d.ids(&name)).into_iter().collect();
        let have = got.get(&connector_name(&name)).cloned().unwrap_or_default();
        let unique: BTreeSet<String> = have.iter().cloned().collect();
        assert_eq!(unique, want, "{name}: every record at least once");
        let extra = have.len() - unique.len();
        assert!(extra <= 100 * kills, "{name}: {extra} repeated deliveries over {kills} resumes (more than a page per resume)");
        let mut counts: BTreeMap<&String, usize> = BTreeMap::new();
        for id in &have {
            *counts.entry(id).or_default() += 1;
        }
        let worst = counts.values().max().copied().unwrap_or(0);
        assert!(
            worst <= kills + 1,
            "{name}: a record was delivered {worst} times"
        );
    }
}

#[test]
fn an_account_without_the_accounts_feature_syncs_everything_else() {
    let _g = serial();
    let srv = server(50, vec!["accounts".into()]);
    let s = Scratch::new("noacc");
    let cfg = s.write("c.json", &complete_config(&srv.base_url(), KEY, 50.0));
    let run = wasmtime(&s, &["read", "--config", &cfg]);
    assert_failed_cleanly(&run, "a read with a failed stream");
    let errors: Vec<Value> = run
        .of_type("TRACE")
        .into_iter()
        .filter(|m| m["trace"]["type"] == "ERROR")
        .collect();
    let failed: BTreeSet<String> = errors
        .iter()
        .filter_map(|e| {
            e["trace"]["error"]["stream_descriptor"]["name"]
                .as_str()
                .map(String::from)
        })
        .collect();
    assert!(
        failed.contains("accounts"),
        "accounts not named: {failed:?}"
    );
    assert!(errors
        .iter()
        .all(|e| e["trace"]["error"]["failure_type"] == "config_error"));
    assert!(run.stderr.contains("accounts") && run.stderr.contains("FAILED"));
    let got = ids_by_stream(&run.messages());
    for name in srv.with_dataset(|d| d.stream_names()) {
        let cname = connector_name(&name);
        if !failed.contains(&cname) {
            assert_exactly(&cname, srv.with_dataset(|d| d.ids(&name)), got.get(&cname));
        }
    }
    assert!(
        failed.iter().all(|f| f.starts_with("account")),
        "only account streams may fail: {failed:?}"
    );
}

#[test]
fn bad_state_and_catalog_are_refused_clearly() {
    let _g = serial();
    let srv = server(5, vec![]);
    let s = Scratch::new("badstate");
    let cfg = s.write("c.json", &complete_config(&srv.base_url(), KEY, 50.0));
    let cat = s.write("cat.json", &catalog(&["contacts"], true));
    for (text, want) in [
        ("{oops", "not valid JSON"),
        (
            r#"[{"type":"STREAM","stream":{"stream_descriptor":{"name":"martians"},"stream_state":{}}}]"#,
            "unknown stream 'martians'",
        ),
        (
            r#"[{"type":"STREAM","stream":{"stream_descriptor":{"name":"contacts"},"stream_state":{"cursor":"last tuesday"}}}]"#,
            "not a timestamp",
        ),
    ] {
        let st = s.write("st.json", text);
        let run = wasmtime(
            &s,
            &["read", "--config", &cfg, "--catalog", &cat, "--state", &st],
        );
        assert_failed_cleanly(&run, text);
        assert!(run.stderr.contains(want), "{text}: {}", run.stderr);
        assert!(run.of_type("RECORD").is_empty());
    }
    let bad = s.write(
        "bad.json",
        r#"{"streams":[{"stream":{"name":"contacts"},"sync_mode":"sideways"}]}"#,
    );
    let run = wasmtime(&s, &["read", "--config", &cfg, "--catalog", &bad]);
    assert_failed_cleanly(&run, "an unknown sync_mode");
    assert!(run.stderr.contains("sync_mode"));
}

/// Records that change while a read runs (behind pages already read, or ahead of them) are
/// delivered by that read or the next one: no update is lost to the moving cursor.
#[test]
fn changes_during_a_read_are_not_lost() {
    let _g = serial();
    let srv = server(1_500, vec![]);
    let s = Scratch::new("during");
    let cfg = s.write("c.json", &complete_config(&srv.base_url(), KEY, 30.0));
    let streams = discover_streams(&s, &cfg);
    let cat = s.write("cat.json", &incremental_catalog(&streams));
    // First sync, with changes landing mid-read: early contacts (read already) and late ones.
    let changed = std::sync::Arc::new(std::sync::Mutex::new(
        BTreeMap::<String, BTreeSet<String>>::new(),
    ));
    let log = changed.clone();
    srv.mutate_after(
        25,
        Box::new(move |d: &mut Dataset| {
            let mut m = log.lock().unwrap_or_else(|e| e.into_inner());
            for stream in ["contacts", "deals", "contact_tags", "activities"] {
                let mut ids: BTreeSet<String> = d.touch(stream, 6).into_iter().collect();
                ids.extend(d.insert(stream, 2));
                m.insert(stream.to_string(), ids);
            }
        }),
    );
    let first = wasmtime(&s, &["read", "--config", &cfg, "--catalog", &cat]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let msgs = first.messages();
    let mut states = BTreeMap::new();
    merge_states(&mut states, &msgs);
    let st = s.write("state.json", &state_text(&states));
    let second = wasmtime(
        &s,
        &["read", "--config", &cfg, "--catalog", &cat, "--state", &st],
    );
    assert_eq!(second.code, 0, "{}", second.stderr);
    let changed = changed.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(!changed.is_empty(), "the mutation ran");
    let (a, b) = (ids_by_stream(&msgs), ids_by_stream(&second.messages()));
    let cursor_of = |stream: &str| {
        streams
            .iter()
            .find(|x| x["name"] == stream)
            .and_then(|x| x["default_cursor_field"][0].as_str())
            .unwrap_or("")
            .to_string()
    };
    let delivered: Vec<Value> = msgs
        .iter()
        .chain(second.messages().iter())
        .filter(|m| m["type"] == "RECORD")
        .cloned()
        .collect();
    for (stream, ids) in &changed {
        let latest: BTreeSet<String> = b
            .get(stream)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .collect();
        let first_ids: BTreeSet<String> = a
            .get(stream)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .collect();
        let cursor = cursor_of(stream);
        for id in ids {
            // The changed version (the server's clock for changes starts in 2025; generated data
            // is older) must arrive in one of the two reads.
            let got_change = delivered.iter().any(|m| {
                m["record"]["stream"] == stream.as_str()
                    && m["record"]["data"]["id"] == id.as_str()
                    && m["record"]["data"][&cursor]
                        .as_str()
                        .is_some_and(|c| c.starts_with("2025"))
            });
            assert!(
                got_change,
                "{stream} {id} changed during the first read and its change was never delivered"
            );
        }
        // Every record of the server at least once over the two reads.
        let all: BTreeSet<String> = srv.with_dataset(|d| d.ids(stream)).into_iter().collect();
        let union: BTreeSet<String> = first_ids.union(&latest).cloned().collect();
        assert!(all.is_subset(&union), "{stream}: records missing");
    }
    // Changed contacts that the first read had already passed must come in the second read.
    let contacts_second: BTreeSet<String> = b
        .get("contacts")
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .collect();
    assert!(
        !contacts_second.is_empty(),
        "the second read delivers the contacts changed during the first"
    );
}
