//! The engine's planning rules, through `engine::read` on the scripted transport: the server
//! filter value and the pass start.

use super::{t, SECOND};
use crate::config::Config;
use crate::datetime::parse_instant;
use crate::engine::tests::{Fake, Lines};
use crate::engine::{read, Client, HttpResponse, Job};
use crate::state::StreamState;
use crate::streams::fixed_streams;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::rc::Rc;

/// A `Date` the scripted server sends with every answer.
const SERVER_DATE: &str = "Fri, 01 Mar 2024 12:00:00 GMT";

/// Runs one incremental `deals` read (cursor `mdate`, server filter `filters[updated_after]`,
/// one short page) and returns the paths requested and the last state written.
fn deals_pass(extra_config: Value, state: StreamState, mdates: &[&str]) -> (Vec<String>, Value) {
    let mut cfg =
        json!({"api_url": "http://127.0.0.1:1", "api_key": "k", "requests_per_second": 5});
    for (k, v) in extra_config.as_object().unwrap() {
        cfg[k] = v.clone();
    }
    let cfg = Config::parse(&cfg.to_string()).unwrap();
    let recs: Vec<Value> = mdates
        .iter()
        .enumerate()
        .map(|(i, d)| json!({"id": (i + 1).to_string(), "mdate": d}))
        .collect();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let log = seen.clone();
    let mut fake = Fake::new(SECOND, move |p: &str| {
        log.borrow_mut().push(p.to_string());
        Ok(HttpResponse {
            status: 200,
            headers: vec![("date".into(), SERVER_DATE.into())],
            body: json!({"deals": recs, "meta": {"total": recs.len().to_string()}})
                .to_string()
                .into_bytes(),
        })
    });
    let job = Job {
        def: fixed_streams()
            .into_iter()
            .find(|d| d.name == "deals")
            .unwrap(),
        incremental: true,
        state,
    };
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let summary = read(&mut client, &cfg, vec![job], &mut sink);
    assert!(summary.streams[0].failure.is_none(), "{:?}", summary);
    let last_state = sink
        .0
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["type"] == "STATE")
        .last()
        .map(|v| v["state"]["stream"]["stream_state"].clone())
        .unwrap();
    let paths = seen.borrow().clone();
    (paths, last_state)
}

/// The `filters[updated_after]` value of a requested path, decoded.
fn updated_after(path: &str) -> Option<String> {
    let q = path.split_once('?')?.1;
    q.split('&').find_map(|kv| {
        kv.strip_prefix("filters%5Bupdated_after%5D=")
            .map(|v| v.replace("%3A", ":").replace("%2B", "+"))
    })
}

/// The server filter starts one day before the cursor less the lookback window, so a server that
/// reads the value in another zone still returns everything; the cursor does the exact cut.
#[test]
fn the_server_filter_overlaps_by_the_lookback_and_one_day() {
    let state = StreamState {
        cursor: Some(t("2024-03-01T00:00:00Z")),
        ..Default::default()
    };
    let (paths, _) = deals_pass(json!({}), state.clone(), &["2024-03-01T01:00:00Z"]);
    assert_eq!(paths.len(), 1, "{paths:?}");
    assert_eq!(
        updated_after(&paths[0]).as_deref(),
        Some("2024-02-29T00:00:00Z"),
        "{}",
        paths[0]
    );
    let (paths, _) = deals_pass(
        json!({"lookback_window_seconds": 7200}),
        state,
        &["2024-03-01T01:00:00Z"],
    );
    assert_eq!(
        updated_after(&paths[0]).as_deref(),
        Some("2024-02-28T22:00:00Z"),
        "{}",
        paths[0]
    );
    // Without a cursor, start_date (less the day) is the server filter.
    let (paths, _) = deals_pass(
        json!({"start_date": "2024-02-10T00:00:00Z"}),
        StreamState::default(),
        &["2024-03-01T01:00:00Z"],
    );
    assert_eq!(
        updated_after(&paths[0]).as_deref(),
        Some("2024-02-09T00:00:00Z"),
        "{}",
        paths[0]
    );
    // A full pass (no cursor, no start_date) has no server filter.
    let (paths, _) = deals_pass(json!({}), StreamState::default(), &["2024-03-01T01:00:00Z"]);
    assert_eq!(updated_after(&paths[0]), None, "{}", paths[0]);
}

/// The pass start is the first answer's `Date` less the time since the pass's first request
/// (rounded up to whole seconds) and a further 5 s: with records newer than that, the cursor stops
/// exactly there.
#[test]
fn the_pass_start_takes_off_the_elapsed_time_and_five_seconds() {
    let date = parse_instant("2024-03-01T12:00:00Z", 0).unwrap();
    let (paths, state) = deals_pass(
        json!({}),
        StreamState {
            cursor: Some(t("2024-03-01T00:00:00Z")),
            ..Default::default()
        },
        &["2024-03-01T06:00:00Z", "2024-03-01T13:00:00Z"],
    );
    assert_eq!(paths.len(), 1);
    let cursor = parse_instant(state["cursor"].as_str().unwrap(), 0).unwrap();
    // The scripted answer takes 1 to 3 whole seconds, by path.
    let behind_s = (date.0 - cursor.0) / 1_000_000_000;
    assert_eq!((date.0 - cursor.0) % 1_000_000_000, 0);
    // 5 s margin plus the 1 to 3 s the answer took.
    assert!(
        (6..=8).contains(&behind_s),
        "cursor {} is {behind_s} s before the Date",
        cursor.to_rfc3339()
    );
    assert_eq!(state["cursor_ids"], json!([]));
}

/// A config for the client tests.
fn client_config(extra: Value) -> Config {
    let mut cfg =
        json!({"api_url": "http://127.0.0.1:1", "api_key": "k", "requests_per_second": 5});
    for (k, v) in extra.as_object().unwrap() {
        cfg[k] = v.clone();
    }
    Config::parse(&cfg.to_string()).unwrap()
}

/// An answer with a status and headers.
fn answer(status: u16, headers: &[(&str, &str)]) -> Result<HttpResponse, String> {
    Ok(HttpResponse {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: b"{}".to_vec(),
    })
}

/// `RateLimit-Remaining: 0` that our own starts don't explain holds the next start for a second.
#[test]
fn an_empty_budget_used_by_others_holds_the_next_request() {
    let cfg = client_config(json!({}));
    let mut fake = Fake::new(10_000_000, |_: &str| {
        answer(
            200,
            &[("ratelimit-remaining", " 0 "), ("ratelimit-limit", "5")],
        )
    });
    let mut client = Client::new(&mut fake, &cfg);
    client.get("tags").unwrap();
    client.get("tags").unwrap();
    drop(client);
    let (first, second) = (fake.starts[0].0, fake.starts[1].0);
    assert!(
        second >= first + SECOND,
        "second start {second} ns, first {first} ns: no pause"
    );
    let mut fake = Fake::new(10_000_000, |_: &str| {
        answer(200, &[("ratelimit-remaining", "3")])
    });
    let mut client = Client::new(&mut fake, &cfg);
    client.get("tags").unwrap();
    client.get("tags").unwrap();
    drop(client);
    assert_eq!(
        fake.starts[1].0 - fake.starts[0].0,
        206_000_000,
        "only the spacing"
    );
}

/// A slow answer is awaited in one wait, not polled.
#[test]
fn a_slow_answer_is_not_polled() {
    let cfg = client_config(json!({}));
    let mut fake = Fake::new(30 * SECOND, |_: &str| answer(200, &[]));
    let mut client = Client::new(&mut fake, &cfg);
    client.get("tags").unwrap();
    drop(client);
    assert_eq!(fake.waits, 1);
}

/// Retries stop at `max_attempts`, however much waiting time is left, and at
/// `max_retry_wait_seconds`, however many attempts are left.
#[test]
fn retries_stop_at_either_bound() {
    let cfg = client_config(json!({"max_attempts": 2, "max_retry_wait_seconds": 86_400}));
    let mut fake = Fake::new(1_000_000, |_: &str| answer(503, &[]));
    let mut client = Client::new(&mut fake, &cfg);
    let e = client.get("tags").unwrap_err();
    assert!(
        e.message.starts_with("gave up after 2 attempts"),
        "{}",
        e.message
    );
    assert_eq!(client.requests(), 2);

    let cfg = client_config(json!({"max_attempts": 50, "max_retry_wait_seconds": 3}));
    let mut fake = Fake::new(1_000_000, |_: &str| answer(429, &[("retry-after", "2")]));
    let mut client = Client::new(&mut fake, &cfg);
    let e = client.get("tags").unwrap_err();
    // 2 s waited after the first 429; another 2 s would pass the 3 s budget.
    assert_eq!(client.requests(), 2, "{}", e.message);
    assert!(e.message.contains("429"), "{}", e.message);
}
