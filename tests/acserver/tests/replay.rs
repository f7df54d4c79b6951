//! The replay: a small server answers each list path with the API reference's
//! documented example answer (tests/fixtures/api-examples, source and repairs in its
//! manifest.json), the component reads every stream that has one through the wasmtime CLI, and
//! every documented record must come out, valid (Draft 7) against the schema the connector
//! discovers, and through a validating Singer target (meltanolabs-target-csv, built on the
//! Meltano SDK, which checks every record against its SCHEMA).

mod common;
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::PathBuf;

const KEY: &str = "replay-key-d0c5";

fn fixtures() -> PathBuf {
    repo().join("tests/fixtures/api-examples")
}

fn manifest() -> Value {
    let text = std::fs::read_to_string(fixtures().join("manifest.json")).expect("manifest");
    serde_json::from_str(&text).expect("manifest JSON")
}

/// The documented answer of each path (`/tags`, …), as served.
fn answers() -> BTreeMap<String, Value> {
    let m = manifest();
    m["fixtures"]
        .as_object()
        .expect("fixtures")
        .iter()
        .map(|(path, f)| {
            let file = fixtures().join(f["file"].as_str().expect("file"));
            let text = std::fs::read_to_string(&file).expect("fixture");
            (
                path.clone(),
                serde_json::from_str(&text).expect("fixture JSON"),
            )
        })
        .collect()
}

/// The same answer with every list emptied: a page past the documented one.
fn emptied(body: &Value) -> Value {
    let mut b = body.clone();
    if let Some(o) = b.as_object_mut() {
        for v in o.values_mut().filter(|v| v.is_array()) {
            *v = Value::Array(vec![]);
        }
    }
    b
}

/// Serves the documented answers on a loopback port: the first page of a list path is its
/// example, any later page (offset or id_greater past 0) the example with its lists emptied,
/// anything else 404. One request per connection.
fn replay_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("port").port();
    let answers = answers();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let head = String::from_utf8_lossy(&buf).to_string();
            let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
            let (path, query) = target.split_once('?').unwrap_or((&target, ""));
            let path = path.strip_prefix("/api/3").unwrap_or(path);
            let later = query.split('&').any(|kv| {
                kv.split_once('=').is_some_and(|(k, v)| {
                    (k == "offset" || k == "id_greater") && v.parse::<u64>().is_ok_and(|n| n > 0)
                })
            });
            let (status, body) = match answers.get(path) {
                Some(b) if later => (200, emptied(b)),
                Some(b) => (200, b.clone()),
                None => (404, serde_json::json!({"message": "No Result found"})),
            };
            let body = body.to_string();
            let _ = write!(
                conn,
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// Every documented record of every stream that has one: stream → ids (as strings).
fn documented() -> BTreeMap<String, Vec<String>> {
    let m = manifest();
    let answers = answers();
    let mut out = BTreeMap::new();
    for (path, f) in m["fixtures"].as_object().expect("fixtures") {
        for (stream, key) in f["streams"].as_object().into_iter().flatten() {
            let key = key.as_str().expect("key");
            let ids = answers[path][key]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| match &r["id"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            out.insert(stream.clone(), ids);
        }
    }
    out
}

/// The replay config: contact children page their own lists (each has its own example).
fn replay_config(base: &str) -> String {
    serde_json::json!({"api_url": base, "api_key": KEY, "requests_per_second": 50,
        "max_attempts": 2, "account_timezone": "-05:00", "sideload_contact_children": false})
    .to_string()
}

#[test]
fn every_documented_record_is_delivered_and_valid_against_the_discovered_schema() {
    let _g = serial();
    let want = documented();
    assert!(want.len() >= 38, "{} streams with examples", want.len());
    let base = replay_server();
    let s = Scratch::new("replay");
    let c = s.write("c.json", &replay_config(&base));
    let disc = wasmtime(&s, &["discover", "--config", &c]);
    assert_eq!(disc.code, 0, "discover: {}", disc.stderr);
    std::fs::write(s.dir.join("discover.jsonl"), &disc.stdout).expect("save");
    let streams: Vec<&str> = want.keys().map(String::as_str).collect();
    let cat = s.write("cat.json", &catalog(&streams, false));
    let run = wasmtime(&s, &["read", "--config", &c, "--catalog", &cat]);
    assert_eq!(run.code, 0, "read: {}", run.stderr);
    assert!(!run.stdout.contains(KEY) && !run.stderr.contains(KEY));
    std::fs::write(s.dir.join("read.jsonl"), &run.stdout).expect("save");
    let got = ids_by_stream(&run.messages());
    for (stream, ids) in &want {
        assert_exactly(stream, ids.clone(), got.get(stream));
    }
    let total: usize = want.values().map(Vec::len).sum();
    let (ok, text) = run_tool(
        &venv_bin("csv", "python"),
        &[
            &repo()
                .join("tests/python/validate_records.py")
                .display()
                .to_string(),
            &s.dir.join("discover.jsonl").display().to_string(),
            &s.dir.join("read.jsonl").display().to_string(),
        ],
        None,
    );
    assert!(
        ok,
        "records invalid against the discovered schemas:\n{text}"
    );
    let counts: BTreeMap<String, usize> = serde_json::from_str(text.trim()).expect("counts JSON");
    assert_eq!(counts.values().sum::<usize>(), total, "{counts:?}");
    eprintln!(
        "replay: {total} documented records of {} streams, all valid",
        want.len()
    );
}

#[test]
fn the_documented_records_pass_a_validating_singer_target() {
    let _g = serial();
    let want = documented();
    let base = replay_server();
    let s = Scratch::new("replay-singer");
    let c = s.write("c.json", &replay_config(&base));
    let disc = wasmtime(&s, &["--config", &c, "--discover"]);
    assert_eq!(disc.code, 0, "{}", disc.stderr);
    let mut singer: Value = serde_json::from_str(&disc.stdout).expect("Singer catalog");
    for e in singer["streams"].as_array_mut().expect("streams") {
        let name = e["stream"].as_str().unwrap_or("").to_string();
        e["metadata"][0]["metadata"]["selected"] = Value::Bool(want.contains_key(&name));
        e["metadata"][0]["metadata"]["replication-method"] = Value::from("FULL_TABLE");
    }
    let cat = s.write("catalog.json", &singer.to_string());
    let run = wasmtime(&s, &["--config", &c, "--catalog", &cat]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let messages = s.dir.join("singer.jsonl");
    std::fs::write(&messages, &run.stdout).expect("save");
    let out = s.dir.join("csv");
    std::fs::create_dir_all(&out).expect("dir");
    let cfg = s.dir.join("csv.json");
    std::fs::write(
        &cfg,
        serde_json::json!({"output_path": out, "validate_records": true}).to_string(),
    )
    .expect("config");
    let (ok, text) = run_tool(
        &venv_bin("csv", "target-csv"),
        &["--config", &cfg.display().to_string()],
        Some(&messages),
    );
    let tail: Vec<&str> = text.lines().rev().take(25).collect();
    assert!(
        ok,
        "target-csv refused the documented records:\n{}",
        tail.join("\n")
    );
    // The target does validate: the same messages with one id of the wrong type are refused.
    let bad = s.dir.join("singer-bad.jsonl");
    let mut corrupted = false;
    let lines: Vec<String> = run
        .stdout
        .lines()
        .map(|l| match serde_json::from_str::<Value>(l) {
            Ok(mut m) if !corrupted && m["type"] == "RECORD" => {
                corrupted = true;
                m["record"]["id"] = serde_json::json!({"not": "a string"});
                m.to_string()
            }
            _ => l.to_string(),
        })
        .collect();
    std::fs::write(&bad, lines.join("\n")).expect("save");
    let bad_out = s.dir.join("csv-bad");
    std::fs::create_dir_all(&bad_out).expect("dir");
    let bad_cfg = s.dir.join("csv-bad.json");
    std::fs::write(
        &bad_cfg,
        serde_json::json!({"output_path": bad_out, "validate_records": true}).to_string(),
    )
    .expect("config");
    let (refused, why) = run_tool(
        &venv_bin("csv", "target-csv"),
        &["--config", &bad_cfg.display().to_string()],
        Some(&bad),
    );
    assert!(
        corrupted && !refused,
        "target-csv accepted an id of the wrong type"
    );
    assert!(
        why.contains("not of type") || why.contains("ValidationError"),
        "{why}"
    );
    // One CSV per stream, a header and one row per documented record.
    for (stream, ids) in &want {
        let file = std::fs::read_dir(&out)
            .expect("csv dir")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    n.starts_with(&format!("{stream}.")) || n.starts_with(&format!("{stream}-"))
                })
            })
            .unwrap_or_else(|| panic!("no CSV for {stream}: {text}"));
        let text = std::fs::read_to_string(&file).expect("csv");
        let rows = csv_rows(&text);
        assert_eq!(rows, ids.len() + 1, "{stream}: {}", file.display());
    }
}

/// Rows of a CSV text (quoted fields may hold newlines).
fn csv_rows(text: &str) -> usize {
    let (mut rows, mut quoted) = (0, false);
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '\n' if !quoted => rows += 1,
            _ => {}
        }
    }
    rows
}
