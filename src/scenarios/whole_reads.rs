//! The engine's unit tests: whole reads against a scripted transport.

use crate::api::streams::fixed_streams;
use crate::documents::config::Config;
use crate::documents::state::{Resume, StreamState};
use crate::engine::*;
use crate::failure::FailureType;
use crate::http::request::IdRange;
use crate::http::retry::SECOND;
use crate::test_support::{config, job, ok, query, records, Fake, Lines};
use serde_json::json;
use serde_json::Value;
use std::collections::BTreeMap;

/// A list endpoint over `n` records with ids 1..=n, offset paging.
fn list(key: &'static str, n: u64) -> impl FnMut(&str) -> Result<HttpResponse, String> {
    move |path: &str| {
        let off: u64 = query(path, "offset")
            .and_then(|o| o.parse().ok())
            .unwrap_or(0);
        let recs: Vec<Value> = (off + 1..=n.min(off + 100)).map(|i| json!({"id": i.to_string(), "udate": format!("2024-01-01T00:00:{:02}Z", i % 60)})).collect();
        ok(json!({key: recs, "meta": {"total": n.to_string()}}))
    }
}

#[test]
fn pages_until_short_page_and_uses_total() {
    let mut fake = Fake::new(300_000_000, list("tags", 250));
    let cfg = config(5.0);
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let s = read(&mut client, &cfg, vec![job("tags")], &mut sink);
    assert_eq!(s.requests, 3);
    assert_eq!(s.streams[0].records, 250);
    let ids = records(&sink.0, "tags");
    assert_eq!(ids.len(), 250);
    assert_eq!(
        ids.iter().collect::<std::collections::BTreeSet<_>>().len(),
        250
    );
    assert!(s.streams[0].failure.is_none());
}

#[test]
fn a_list_ends_on_a_short_page_not_on_the_count() {
    // Pages at offsets 0, 99, 198 overlap by one record: 198 records end on the second
    // (short) page, 200 need a third.
    for (n, want) in [(198, 2), (200, 3)] {
        let mut fake = Fake::new(1, list("tags", n));
        let cfg = config(5.0);
        let mut client = Client::new(&mut fake, &cfg);
        let mut sink = Lines::default();
        let s = read(&mut client, &cfg, vec![job("tags")], &mut sink);
        assert_eq!(s.requests, want, "{n} records");
        assert_eq!(records(&sink.0, "tags").len() as u64, n);
    }
}

#[test]
fn rate_budget_holds_across_parallel_streams() {
    let mut fake = Fake::new(1_000_000_000, |p: &str| {
        let key = p
            .split('/')
            .nth(3)
            .unwrap_or("")
            .split('?')
            .next()
            .unwrap_or("")
            .to_string();
        ok(json!({key: [{"id": "1"}], "meta": {"total": "1"}}))
    });
    let cfg = config(5.0);
    let jobs: Vec<Job> = [
        "tags", "users", "lists", "groups", "goals", "sms", "forms", "scores", "segments",
        "webhooks",
    ]
    .iter()
    .map(|n| job(n))
    .collect();
    let mut client = Client::new(&mut fake, &cfg);
    let s = read(&mut client, &cfg, jobs, &mut Lines::default());
    assert_eq!(s.requests, 10);
    let starts: Vec<u64> = fake.starts.iter().map(|s| s.0).collect();
    assert!(crate::http::limiter::max_in_window(&starts, SECOND) <= 5);
    // Latency overlapped: 10 requests of 1–3 s finish in about 10/5 s + 3 s, not 20 s.
    assert!(s.millis < 5_500, "{}", s.millis);
}

#[test]
fn with_every_lane_busy_the_loop_waits_instead_of_spinning() {
    let mut fake = Fake::new(5_000_000_000, |p: &str| {
        let key = p
            .split('/')
            .nth(3)
            .unwrap_or("")
            .split('?')
            .next()
            .unwrap_or("")
            .to_string();
        ok(json!({key: [{"id": "1"}], "meta": {"total": "1"}}))
    });
    let cfg = config(100.0);
    let jobs: Vec<Job> = fixed_streams()
        .into_iter()
        .filter(|d| d.path != "fields")
        .take(45)
        .map(|d| Job {
            def: d,
            incremental: false,
            state: StreamState::default(),
        })
        .collect();
    let mut client = Client::new(&mut fake, &cfg);
    let s = read(&mut client, &cfg, jobs, &mut Lines::default());
    assert!(s.streams.iter().all(|x| x.failure.is_none()));
    assert!(
        fake.waits < 200,
        "{} waits for {} requests",
        fake.waits,
        s.requests
    );
}

#[test]
fn transient_failures_are_retried_and_nothing_is_lost() {
    let mut inner = list("tags", 150);
    let mut n = 0;
    let mut fake = Fake::new(1, move |p: &str| {
        n += 1;
        match n {
            1 => Ok(HttpResponse {
                status: 503,
                headers: vec![],
                body: b"<html>busy</html>".to_vec(),
            }),
            2 => Ok(HttpResponse {
                status: 200,
                headers: vec![],
                body: b"{\"tags\": [".to_vec(),
            }),
            3 => Err("connection reset".into()),
            4 => Ok(HttpResponse {
                status: 429,
                headers: vec![("retry-after".into(), "2".into())],
                body: vec![],
            }),
            _ => inner(p),
        }
    });
    let cfg = config(5.0);
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let s = read(&mut client, &cfg, vec![job("tags")], &mut sink);
    assert!(s.streams[0].failure.is_none(), "{:?}", s.streams[0].failure);
    assert_eq!(records(&sink.0, "tags").len(), 150);
    assert_eq!(s.requests, 6);
}

#[test]
fn a_failing_stream_is_isolated_and_named() {
    let mut fake = Fake::new(1, |p: &str| {
        if p.contains("/accounts") {
            Ok(HttpResponse {
                status: 403,
                headers: vec![],
                body: br#"{"errors":[{"status":403,"title":"Forbidden"}]}"#.to_vec(),
            })
        } else {
            ok(json!({"tags": [{"id": "1"}], "meta": {"total": "1"}}))
        }
    });
    let cfg = config(50.0);
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let s = read(
        &mut client,
        &cfg,
        vec![job("accounts"), job("tags")],
        &mut sink,
    );
    let acc = &s.streams[0];
    assert_eq!(acc.name, "accounts");
    assert_eq!(
        acc.failure.as_ref().map(|f| f.kind),
        Some(FailureType::Config)
    );
    assert!(s.streams[1].failure.is_none());
    assert!(sink
        .0
        .iter()
        .any(|l| l.contains("\"ERROR\"") && l.contains("accounts")));
}

#[test]
fn keyset_paging_and_state_resume() {
    let answer = |p: &str| {
        let after: u64 = query(p, "id_greater")
            .and_then(|o| o.parse().ok())
            .unwrap_or(0);
        let recs: Vec<Value> = (after + 1..=230u64.min(after + 100))
            .map(|i| json!({"id": i.to_string(), "udate": "2024-01-01T00:00:00-05:00"}))
            .collect();
        ok(json!({"contacts": recs, "meta": {"total": "230"}}))
    };
    let mut fake = Fake::new(1, answer);
    let cfg = config(5.0);
    let st = StreamState {
        resume: Some(Resume::Ranges(vec![IdRange {
            after: Some("100".into()),
            below: None,
        }])),
        ..Default::default()
    };
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let s = read(
        &mut client,
        &cfg,
        vec![Job {
            def: job("contacts").def,
            incremental: true,
            state: st,
        }],
        &mut sink,
    );
    assert_eq!(s.streams[0].records, 130);
    assert!(fake.starts[0].1.contains("id_greater=100"));
    let last_state: Value = sink
        .0
        .iter()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["type"] == "STATE")
        .unwrap();
    assert_eq!(
        last_state["state"]["stream"]["stream_state"]["cursor"],
        "2024-01-01T05:00:00Z"
    );
    assert!(last_state["state"]["stream"]["stream_state"]
        .get("resume")
        .is_none());
}

#[test]
fn fields_family_shares_one_request() {
    let mut fake = Fake::new(1, |_p: &str| {
        ok(
            json!({"fields": [{"id": "1"}], "fieldOptions": [{"id": "5"}, {"id": "6"}], "fieldRels": [{"id": "9"}], "meta": {"total": "1"}}),
        )
    });
    let cfg = config(5.0);
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let jobs = vec![
        job("contact_custom_fields"),
        job("contact_custom_field_options"),
        job("contact_custom_field_rels"),
    ];
    let s = read(&mut client, &cfg, jobs, &mut sink);
    assert_eq!(s.requests, 1);
    let by: BTreeMap<String, u64> = s
        .streams
        .iter()
        .map(|x| (x.name.clone(), x.records))
        .collect();
    assert_eq!(by["contact_custom_field_options"], 2);
    assert_eq!(by["contact_custom_field_rels"], 1);
}

#[test]
fn a_big_offset_list_is_paged_in_parallel_and_emitted_in_order() {
    let mut fake = Fake::new(1_000_000_000, list("tags", 1_050));
    let cfg = config(5.0);
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let s = read(&mut client, &cfg, vec![job("tags")], &mut sink);
    assert_eq!(s.requests, 11);
    let ids: Vec<u64> = records(&sink.0, "tags")
        .iter()
        .map(|i| i.parse().unwrap())
        .collect();
    assert_eq!(
        ids,
        (1..=1050).collect::<Vec<u64>>(),
        "every record once, in order"
    );
    // Offsets in the state only move forward.
    let offsets: Vec<u64> = sink
        .0
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["state"]["stream"]["stream_state"]["resume"]["offset"].as_u64())
        .collect();
    assert!(offsets.windows(2).all(|w| w[0] < w[1]), "{offsets:?}");
    // 11 requests at 5/s with up to 3 s latency: far less than 11 sequential round trips.
    assert!(s.millis < 10_000, "{}", s.millis);
    let starts: Vec<u64> = fake.starts.iter().map(|s| s.0).collect();
    assert!(crate::http::limiter::max_in_window(&starts, SECOND) <= 5);
}

/// A contacts endpoint over the given ids with keyset paging and `include=contactTags`.
fn contacts_answer(ids: Vec<u64>) -> impl FnMut(&str) -> Result<HttpResponse, String> {
    move |p: &str| {
        let after: u64 = query(p, "id_greater")
            .and_then(|o| o.parse().ok())
            .unwrap_or(0);
        let below: u64 = query(p, "id_less")
            .and_then(|o| o.parse().ok())
            .unwrap_or(u64::MAX);
        let mut page: Vec<u64> = ids
            .iter()
            .copied()
            .filter(|&i| i > after && i < below)
            .take(100)
            .collect();
        if p.contains("orders%5Bid%5D=DESC") {
            page = ids.iter().copied().max().into_iter().collect();
        }
        let total = ids.iter().filter(|&&i| i > after && i < below).count();
        let recs: Vec<Value> = page
            .iter()
            .map(|i| json!({"id": i.to_string(), "udate": "2024-01-01T00:00:00Z"}))
            .collect();
        let mut body = json!({"contacts": recs, "meta": {"total": total.to_string()}});
        if query(p, "include").is_some_and(|v| v.contains("contactTags")) {
            body["contactTags"] = json!(page
                .iter()
                .map(|i| json!({"id": format!("t{i}"), "contact": i.to_string()}))
                .collect::<Vec<_>>());
        }
        ok(body)
    }
}

#[test]
fn contacts_split_into_parallel_id_ranges_and_carry_their_children() {
    // Ids with gaps, denser at the start: every one must arrive exactly once.
    let ids: Vec<u64> = (1..=900)
        .chain((901..=6000).filter(|i| i % 3 == 0))
        .collect();
    let mut fake = Fake::new(1_000_000_000, contacts_answer(ids.clone()));
    let cfg = config(5.0);
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let s = read(
        &mut client,
        &cfg,
        vec![job("contacts"), job("contact_tags")],
        &mut sink,
    );
    assert!(
        s.streams.iter().all(|x| x.failure.is_none()),
        "{:?}",
        s.streams
    );
    let mut got: Vec<u64> = records(&sink.0, "contacts")
        .iter()
        .map(|i| i.parse().unwrap())
        .collect();
    got.sort();
    assert_eq!(got, ids);
    assert_eq!(
        records(&sink.0, "contact_tags").len(),
        ids.len(),
        "children came with their contacts"
    );
    let pages = (ids.len() as u64).div_ceil(100);
    assert!(
        s.requests <= pages + lanes(&cfg) as u64,
        "{} requests for {pages} pages",
        s.requests
    );
    assert!(
        fake.starts.iter().all(|(_, p)| p.contains("/contacts?")),
        "no separate contactTags requests"
    );
    assert!(
        fake.starts.iter().any(|(_, p)| p.contains("id_less=")),
        "ranges were used"
    );
    // About requests ÷ rate plus a few round trips (first page, probe, uneven ranges), not
    // pages × latency (≈ 52 s here).
    assert!(
        s.millis < (s.requests * 1000 / 5 + 12_000),
        "{} ms for {} requests",
        s.millis,
        s.requests
    );
}

#[test]
fn rate_limiting_uses_waiting_time_not_attempts() {
    let mut n = 0;
    let mut fake = Fake::new(1, move |_p: &str| {
        n += 1;
        if n <= 5 {
            Ok(HttpResponse {
                status: 429,
                headers: vec![("retry-after".into(), "1".into())],
                body: vec![],
            })
        } else {
            ok(json!({"tags": [{"id": "1"}], "meta": {"total": "1"}}))
        }
    });
    let cfg = Config::parse(&json!({"api_url": "http://127.0.0.1:1", "api_key": "k", "max_attempts": 2, "max_retry_wait_seconds": 60}).to_string()).unwrap();
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let s = read(&mut client, &cfg, vec![job("tags")], &mut sink);
    assert!(s.streams[0].failure.is_none(), "{:?}", s.streams[0].failure);
    assert_eq!(records(&sink.0, "tags").len(), 1);
    // …but the wait is bounded.
    let mut fake = Fake::new(1, |_p: &str| {
        Ok(HttpResponse {
            status: 429,
            headers: vec![("retry-after".into(), "30".into())],
            body: vec![],
        })
    });
    let mut client = Client::new(&mut fake, &cfg);
    let s = read(&mut client, &cfg, vec![job("tags")], &mut Lines::default());
    assert_eq!(
        s.streams[0].failure.as_ref().map(|f| f.kind),
        Some(FailureType::Transient)
    );
}

#[test]
fn a_host_that_does_not_resolve_fails_at_once() {
    let mut fake = Fake::typed(1, |_p: &str| {
        Err(TransportError::Permanent(
            "the host name does not resolve (DNS error); check 'api_url'".into(),
        ))
    });
    let cfg = config(50.0);
    let mut client = Client::new(&mut fake, &cfg);
    let e = client.get("users/me").unwrap_err();
    assert_eq!(e.kind, FailureType::Config);
    assert!(e.message.contains("does not resolve"));
    assert_eq!(fake.starts.len(), 1, "not retried");
    let mut fake = Fake::new(1, |_p: &str| Err("connection refused".to_string()));
    let mut client = Client::new(&mut fake, &cfg);
    assert!(client.get("users/me").is_err());
    assert!(fake.starts.len() > 1, "refused connections are retried");
}

#[test]
fn a_request_off_the_accounts_api_is_refused_not_sent() {
    let mut fake = Fake::new(1, |_p: &str| ok(json!({"user": {"username": "u"}})));
    let cfg = config(50.0);
    let mut client = Client::new(&mut fake, &cfg);
    let e = client.get("../../evil").unwrap_err();
    assert_eq!(e.kind, FailureType::System);
    assert!(e.message.contains("refused"), "{}", e.message);
    let e = client
        .get("https://evil.example.com/api/3/users/me")
        .unwrap_err();
    assert!(e.message.contains("refused"));
    assert!(fake.starts.is_empty(), "nothing was sent");
}

#[test]
fn a_server_ignoring_offsets_is_caught() {
    let mut fake = Fake::new(1, |_p: &str| {
        let recs: Vec<Value> = (1..=100).map(|i| json!({"id": i.to_string()})).collect();
        ok(json!({"tags": recs}))
    });
    let cfg = config(50.0);
    let mut client = Client::new(&mut fake, &cfg);
    let s = read(&mut client, &cfg, vec![job("tags")], &mut Lines::default());
    assert_eq!(s.requests, 2);
    assert_eq!(
        s.streams[0].failure.as_ref().map(|f| f.kind),
        Some(FailureType::System)
    );
}
