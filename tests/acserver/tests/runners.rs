//! Through wasmtime: what Meltano, PyAirbyte and the Airbyte platform really send and
//! expect — Singer discovery in short lines and with options it does not use, a PyAirbyte-style
//! catalog (every stream incremental, its own cursor_field and destination_sync_mode), per-STATE
//! record counts over a multi-page read, and a state file written by singer-io's
//! tap-activecampaign (bare-string bookmarks).

mod common;
use ac_test_server::Server;
use common::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

const KEY: &str = "runner-key-9b1d";

fn server(contacts: usize) -> Server {
    TestServer::new(KEY, 91, contacts).start()
}

/// `2025-01-01T00:00:00.000000Z`, the way singer-io's tap-activecampaign writes a bookmark.
fn singer_io_bookmark(epoch: i64) -> String {
    let (days, secs) = (epoch.div_euclid(86_400), epoch.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000000Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[test]
fn bookmark_format_is_singer_ios() {
    assert_eq!(singer_io_bookmark(0), "1970-01-01T00:00:00.000000Z");
    assert_eq!(
        singer_io_bookmark(1_735_689_599),
        "2024-12-31T23:59:59.000000Z"
    );
    assert_eq!(
        singer_io_bookmark(951_782_400),
        "2000-02-29T00:00:00.000000Z"
    );
}

/// Meltano reads the tap's output line by line through asyncio (64 KiB a line at most), and once
/// it holds state runs discovery as `--config F --state F --discover`.
#[test]
fn singer_discovery_fits_meltano() {
    let _g = serial();
    let srv = server(20);
    let s = Scratch::new("run-disc");
    let cfg = s.write("c.json", &config(&srv.base_url(), KEY, 50.0));
    let plain = wasmtime(&s, &["--config", &cfg, "--discover"]);
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    assert!(
        plain.stdout.len() > 65_536,
        "the catalog is bigger than one asyncio line ({} bytes)",
        plain.stdout.len()
    );
    let longest = plain.stdout.lines().map(str::len).max().unwrap_or(0);
    assert!(longest < 65_536 / 4, "longest line {longest} bytes");
    let catalog: Value = serde_json::from_str(&plain.stdout).expect("one JSON document");
    let streams = catalog["streams"].as_array().expect("streams");
    assert_eq!(
        streams.len(),
        srv.with_dataset(|d| d.stream_names()).len(),
        "every stream"
    );

    let st = s.write(
        "state.json",
        r#"{"bookmarks": {"contacts": {"cursor": "2024-01-01T00:00:00Z"}}}"#,
    );
    let cat = s.write("cat.json", &plain.stdout);
    for args in [
        vec!["--config", &cfg, "--state", &st, "--discover"],
        vec![
            "--config",
            &cfg,
            "--catalog",
            &cat,
            "--state",
            &st,
            "--discover",
        ],
        vec!["--discover", "--properties", &cat, "--config", &cfg],
    ] {
        let run = wasmtime(&s, &args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, plain.stdout, "{args:?}: the same catalog");
    }
}

/// The configured catalog PyAirbyte sends with its defaults: every stream incremental, the
/// stream's default cursor as cursor_field, destination_sync_mode overwrite. Streams without a
/// cursor are read in full (as Airbyte's CDK does), a different cursor_field is not used, and
/// each STATE counts the records since its stream's previous STATE.
#[test]
fn pyairbyte_catalog_is_read_and_each_state_counts_its_own_records() {
    let _g = serial();
    let srv = server(450);
    let s = Scratch::new("run-pyab");
    let cfg = s.write("c.json", &config(&srv.base_url(), KEY, 50.0));
    let disc = wasmtime(&s, &["discover", "--config", &cfg]);
    assert_eq!(disc.code, 0, "{}", disc.stderr);
    let streams = disc.of_type("CATALOG")[0]["catalog"]["streams"]
        .as_array()
        .cloned()
        .expect("streams");
    let configured: Vec<Value> = streams
        .iter()
        .map(|st| {
            let cursor = if st["name"] == "deals" {
                json!(["cdate"]) // a user-given cursor: ignored, the cursor is source-defined
            } else {
                st.get("default_cursor_field").cloned().unwrap_or(json!([]))
            };
            json!({"stream": st, "sync_mode": "incremental", "cursor_field": cursor,
                   "destination_sync_mode": "overwrite", "primary_key": [["id"]]})
        })
        .collect();
    let cat = s.write("cat.json", &json!({"streams": configured}).to_string());
    let run = wasmtime(&s, &["read", "--config", &cfg, "--catalog", &cat]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let msgs = run.messages();
    let got = ids_by_stream(&msgs);
    for name in srv.with_dataset(|d| d.stream_names()) {
        assert_exactly(
            &name,
            srv.with_dataset(|d| d.ids(&name)),
            got.get(&connector_name(&name)),
        );
    }
    let logs: Vec<String> = run
        .of_type("LOG")
        .iter()
        .filter_map(|m| m["log"]["message"].as_str().map(String::from))
        .collect();
    assert!(
        logs.iter()
            .any(|l| l.starts_with("tags:") && l.contains("read in full")),
        "the full read of a cursorless stream is said"
    );
    assert!(logs
        .iter()
        .any(|l| l.starts_with("deals:") && l.contains("ignored")));

    // recordCount: the stream's RECORDs since its previous STATE, over the whole read.
    let mut since: BTreeMap<String, u64> = BTreeMap::new();
    let mut states: BTreeMap<String, u64> = BTreeMap::new();
    let mut counted: BTreeMap<String, u64> = BTreeMap::new();
    for m in &msgs {
        match m["type"].as_str() {
            Some("RECORD") => {
                *since
                    .entry(m["record"]["stream"].as_str().unwrap_or("").to_string())
                    .or_default() += 1
            }
            Some("STATE") => {
                let name = m["state"]["stream"]["stream_descriptor"]["name"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                let count = m["state"]["sourceStats"]["recordCount"]
                    .as_f64()
                    .expect("recordCount");
                let want = since.insert(name.clone(), 0).unwrap_or(0);
                assert_eq!(count, want as f64, "{name}: {m}");
                *states.entry(name.clone()).or_default() += 1;
                *counted.entry(name).or_default() += want;
            }
            _ => {}
        }
    }
    assert!(
        since.values().all(|n| *n == 0),
        "every record is behind a STATE: {since:?}"
    );
    for (name, ids) in &got {
        assert_eq!(counted.get(name), Some(&(ids.len() as u64)), "{name}");
    }
    assert!(states["contacts"] >= 5, "contacts were read in pages");
    assert!(states["contact_tags"] >= 3);
}

/// A state file written by singer-io's tap-activecampaign resumes incrementally.
#[test]
fn tap_activecampaign_state_with_bare_string_bookmarks_resumes() {
    let _g = serial();
    let srv = server(300);
    let s = Scratch::new("run-bare");
    let cfg = s.write("c.json", &config(&srv.base_url(), KEY, 50.0));
    let disc = wasmtime(&s, &["--config", &cfg, "--discover"]);
    assert_eq!(disc.code, 0, "{}", disc.stderr);
    let mut catalog: Value = serde_json::from_str(&disc.stdout).expect("catalog");
    let wanted = ["contacts", "deals", "tags"];
    // Every stream is selected-by-default, so the others are deselected explicitly, as Meltano
    // does (its rules start from `!*.*`).
    for e in catalog["streams"].as_array_mut().expect("streams") {
        let selected = wanted.contains(&e["stream"].as_str().unwrap_or(""));
        e["metadata"][0]["metadata"]["selected"] = json!(selected);
    }
    let cat = s.write("cat.json", &catalog.to_string());
    // Everything the server holds changed at or before now(); what changes next is later.
    let bookmark = singer_io_bookmark(srv.with_dataset(|d| d.now()) + 1);
    let mut changed: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    srv.with_dataset(|d| {
        for (stream, touch, insert) in [("contacts", 4, 2), ("deals", 3, 1)] {
            let mut ids: BTreeSet<String> = d.touch(stream, touch).into_iter().collect();
            ids.extend(d.insert(stream, insert));
            changed.insert(stream, ids);
        }
    });
    let state = json!({"currently_syncing": null, "bookmarks": {
        "contacts": bookmark, "deals": bookmark, "tags": bookmark, "campaigns": bookmark}});
    let st = s.write("state.json", &state.to_string());
    let run = wasmtime(&s, &["--config", &cfg, "--catalog", &cat, "--state", &st]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut got: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut last_state = Value::Null;
    for m in run.messages() {
        match m["type"].as_str() {
            Some("RECORD") => {
                got.entry(m["stream"].as_str().unwrap_or("").to_string())
                    .or_default()
                    .insert(m["record"]["id"].as_str().unwrap_or("").to_string());
            }
            Some("STATE") => last_state = m["value"].clone(),
            _ => {}
        }
    }
    for (stream, want) in &changed {
        assert_eq!(
            got.get(*stream).cloned().unwrap_or_default(),
            *want,
            "{stream}: only what changed after the bookmark"
        );
    }
    let tags: BTreeSet<String> = srv.with_dataset(|d| d.ids("tags")).into_iter().collect();
    assert_eq!(got.get("tags"), Some(&tags), "tags have no cursor: full");
    assert!(
        last_state["bookmarks"]["contacts"]["cursor"].is_string(),
        "{last_state}"
    );
    assert_eq!(
        last_state["bookmarks"]["campaigns"], bookmark,
        "a stream not synced keeps its bookmark as it was"
    );
}
