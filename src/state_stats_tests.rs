//! STATE `sourceStats.recordCount` over whole multi-page reads: each STATE counts the records of
//! its stream since that stream's previous STATE (Airbyte's CDK resets its counter at every STATE,
//! and the platform compares each count with what the destination committed for that state).

use crate::config::Config;
use crate::connector::read;
use crate::test_support::{ok, Fake, Lines};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// `key=value` from a request path's query.
fn query(path: &str, key: &str) -> Option<String> {
    path.split_once('?')?
        .1
        .split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")).map(String::from))
}

/// An account where every list has `n` records with ids 1..=n, answering offset and keyset pages.
fn account(n: u64) -> impl FnMut(&str) -> Result<crate::engine::HttpResponse, String> {
    move |path: &str| {
        let key = path
            .trim_start_matches("/api/3/")
            .split(['?', '/'])
            .next()
            .unwrap_or("")
            .to_string();
        if key == "users" && path.contains("/me") {
            return ok(json!({"user": {"id": "1", "username": "u"}}));
        }
        let num = |k: &str| query(path, k).and_then(|v| v.parse::<u64>().ok());
        let ids: Vec<u64> = if query(path, "orders%5Bid%5D").as_deref() == Some("DESC") {
            vec![n]
        } else if let Some(after) = num("id_greater") {
            (after + 1..num("id_less").unwrap_or(n + 1).min(n + 1))
                .take(100)
                .collect()
        } else if query(path, "orders%5Bid%5D").is_some() {
            (1..num("id_less").unwrap_or(n + 1).min(n + 1))
                .take(100)
                .collect()
        } else {
            let off = num("offset").unwrap_or(0);
            (off + 1..=n).take(100).collect()
        };
        let recs: Vec<Value> = ids
            .iter()
            .map(|i| json!({"id": i.to_string(), "udate": format!("2024-01-01T00:{:02}:{:02}Z", i / 60 % 60, i % 60), "mdate": "2024-02-01T00:00:00Z", "updated_timestamp": "2024-03-01 00:00:00"}))
            .collect();
        ok(json!({key: recs, "meta": {"total": n.to_string()}}))
    }
}

/// Every STATE's count, checked against the RECORDs of its stream since its previous STATE.
fn check_counts(lines: &[String]) -> BTreeMap<String, (u64, u64)> {
    let mut since: BTreeMap<String, u64> = BTreeMap::new();
    let mut seen: BTreeMap<String, (u64, u64)> = BTreeMap::new(); // records, states
    for l in lines {
        let v: Value = serde_json::from_str(l).unwrap();
        match v["type"].as_str() {
            Some("RECORD") => {
                let s = v["record"]["stream"].as_str().unwrap().to_string();
                *since.entry(s.clone()).or_default() += 1;
                seen.entry(s).or_default().0 += 1;
            }
            Some("STATE") => {
                let s = v["state"]["stream"]["stream_descriptor"]["name"]
                    .as_str()
                    .unwrap()
                    .to_string();
                let count = v["state"]["sourceStats"]["recordCount"].as_f64().unwrap();
                let want = since.insert(s.clone(), 0).unwrap_or(0);
                assert_eq!(count, want as f64, "{s}: STATE {l}");
                seen.entry(s).or_default().1 += 1;
            }
            _ => {}
        }
    }
    seen
}

#[test]
fn each_state_counts_the_records_since_the_streams_previous_state() {
    let cfg = Config::parse(
        r#"{"api_url": "http://127.0.0.1:9", "api_key": "k", "requests_per_second": 50}"#,
    )
    .unwrap();
    let catalog = json!({"streams": [
        {"stream": {"name": "contacts"}, "sync_mode": "incremental"},
        {"stream": {"name": "tags"}, "sync_mode": "full_refresh"},
        {"stream": {"name": "deals"}, "sync_mode": "incremental"},
        {"stream": {"name": "addresses"}, "sync_mode": "incremental"},
    ]})
    .to_string();
    let mut t = Fake::new(1_000_000, account(450));
    let mut sink = Lines::default();
    read(&mut t, &mut sink, &cfg, Some(&catalog), None).unwrap();
    let seen = check_counts(&sink.0);
    for s in ["contacts", "tags", "deals", "addresses"] {
        let (records, states) = seen[s];
        assert_eq!(records, 450, "{s}");
        assert!(states >= 5, "{s}: a STATE per page, {states}");
    }
}
