//! Margins end to end, with the test server reading date filters in the account's zone
//! (`filters_in_account_zone`: a UTC `filters[updated_after]` value names an instant five hours
//! later on this -05:00 account), so the connector's one-day server-filter margin is needed:
//! incremental reads with `lookback_window_seconds` and with a valid `start_date`, exact id sets.

mod common;
use ac_test_server::{parse_instant_ms, Server};
use common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const KEY: &str = "margins-key-5afe7y";

/// The server-filtered streams (contacts and deals by `filters[updated_after]`, activities by
/// `after`) and their cursor fields.
const STREAMS: &[(&str, &str)] = &[
    ("contacts", "udate"),
    ("deals", "mdate"),
    ("activities", "tstamp"),
];

fn zone_server(seed: u64, contacts: usize) -> Server {
    TestServer::new(KEY, seed, contacts)
        .with(|c| c.filters_in_account_zone = true)
        .start()
}

fn margin_config(base: &str, extra: Value) -> String {
    let mut v = json!({"api_url": base, "api_key": KEY, "requests_per_second": 50, "account_timezone": "-05:00"});
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    v.to_string()
}

fn names() -> Vec<&'static str> {
    STREAMS.iter().map(|(n, _)| *n).collect()
}

/// Epoch ms of each record's cursor, by id (None: no parsable cursor).
fn cursors(srv: &Server, stream: &str, field: &str) -> Vec<(String, Option<i64>)> {
    srv.with_dataset(|d| d.records(stream))
        .iter()
        .map(|r| {
            let id = r["id"].as_str().unwrap_or("").to_string();
            (id, r[field].as_str().and_then(|s| parse_instant_ms(s).ok()))
        })
        .collect()
}

/// The last STATE of each stream.
fn last_states(run: &Run) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for m in run.of_type("STATE") {
        if let Some(n) = m["state"]["stream"]["stream_descriptor"]["name"].as_str() {
            out.insert(n.to_string(), m["state"].clone());
        }
    }
    out
}

fn read(s: &Scratch, cfg: &str, cat: &str, state: Option<&str>) -> Run {
    let mut args = vec!["read", "--config", cfg, "--catalog", cat];
    if let Some(st) = state {
        args.extend(["--state", st]);
    }
    let run = wasmtime(s, &args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run
}

#[test]
fn lookback_and_the_server_filter_margin_end_to_end() {
    let _g = serial();
    let srv = zone_server(41, 400);
    let s = Scratch::new("margins-lb");
    let cat = s.write("cat.json", &catalog(&names(), true));
    let plain = s.write("c.json", &margin_config(&srv.base_url(), json!({})));

    // First read: everything.
    let first = read(&s, &plain, &cat, None);
    let got = ids_by_stream(&first.messages());
    for (name, _) in STREAMS {
        assert_exactly(name, srv.with_dataset(|d| d.ids(name)), got.get(*name));
    }
    let states = last_states(&first);
    let state = s.write(
        "state.json",
        &Value::Array(states.values().cloned().collect()).to_string(),
    );

    // Updates after the first read: their cursors are seconds after the saved cursor, inside the
    // five hours a UTC filter value overshoots by on this server.
    let mut touched: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    srv.with_dataset(|d| {
        for (name, _) in STREAMS {
            touched.insert(name, d.touch(name, 6));
        }
    });

    // Second read, no lookback configured: exactly what is past the cursor (ties at the cursor
    // only for ids not delivered with it), which includes every touched record; activities (an
    // event-time cursor) keep the stream table's one-hour overlap.
    let second = read(&s, &plain, &cat, Some(&state));
    let got = ids_by_stream(&second.messages());
    for (name, field) in STREAMS {
        let st = &states[*name]["stream"]["stream_state"];
        let c = parse_instant_ms(st["cursor"].as_str().unwrap_or("")).expect("a cursor");
        let at_cursor: Vec<String> = st["cursor_ids"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let want: Vec<String> = cursors(&srv, name, field)
            .into_iter()
            .filter(|(id, t)| match t {
                None => true,
                Some(t) if EVENT_TIME_STREAMS.contains(name) => *t >= c - 3_600_000,
                Some(t) => *t > c || (*t == c && !at_cursor.contains(id)),
            })
            .map(|(id, _)| id)
            .collect();
        for id in &touched[name] {
            assert!(want.contains(id), "{name}: touched {id} must be expected");
        }
        assert_exactly(name, want, got.get(*name));
    }

    // The same state with a 30-day lookback: everything updated since 30 days before the cursor,
    // including records older than the server-filter margin (the filter must go back too).
    let lookback_s: i64 = 30 * 86_400;
    let lb = s.write(
        "lb.json",
        &margin_config(
            &srv.base_url(),
            json!({"lookback_window_seconds": lookback_s}),
        ),
    );
    let third = read(&s, &lb, &cat, Some(&state));
    let got = ids_by_stream(&third.messages());
    let mut beyond_margin = 0;
    for (name, field) in STREAMS {
        let st = &states[*name]["stream"]["stream_state"];
        let c = parse_instant_ms(st["cursor"].as_str().unwrap_or("")).expect("a cursor");
        let from = c - lookback_s * 1000;
        let all = cursors(&srv, name, field);
        let want: Vec<String> = all
            .iter()
            .filter(|(_, t)| t.is_none_or(|t| t >= from))
            .map(|(id, _)| id.clone())
            .collect();
        beyond_margin += all
            .iter()
            .filter(|(_, t)| t.is_some_and(|t| t >= from && t < c - 2 * 86_400_000))
            .count();
        assert!(
            want.len() < all.len(),
            "{name}: the lookback must not cover everything"
        );
        assert_exactly(name, want, got.get(*name));
    }
    assert!(
        beyond_margin >= 3,
        "only {beyond_margin} records between the lookback and the filter margin"
    );
}

#[test]
fn start_date_end_to_end() {
    let _g = serial();
    let srv = zone_server(43, 400);
    let s = Scratch::new("margins-sd");
    let cat = s.write("cat.json", &catalog(&names(), true));
    // A start date equal to a contact's own update time (RFC 3339 at -05:00), and the same day
    // as a bare date (midnight in the account's zone).
    let mut contacts: Vec<(i64, String)> = srv
        .with_dataset(|d| d.records("contacts"))
        .iter()
        .filter_map(|r| {
            let u = r["udate"].as_str()?;
            Some((parse_instant_ms(u).ok()?, u.to_string()))
        })
        .collect();
    contacts.sort();
    let (_, median) = contacts[contacts.len() / 2].clone();
    for start in [median.clone(), median[..10].to_string()] {
        let from = parse_instant_ms(&start).expect("start date parses");
        let c = s.write(
            "c.json",
            &margin_config(&srv.base_url(), json!({"start_date": start})),
        );
        let run = read(&s, &c, &cat, None);
        let got = ids_by_stream(&run.messages());
        for (name, field) in STREAMS {
            let all = cursors(&srv, name, field);
            let want: Vec<String> = all
                .iter()
                .filter(|(_, t)| t.is_none_or(|t| t >= from))
                .map(|(id, _)| id.clone())
                .collect();
            assert!(
                !want.is_empty() && want.len() < all.len(),
                "{name}: start date {start} must split the stream ({} of {})",
                want.len(),
                all.len()
            );
            assert_exactly(name, want, got.get(*name));
        }
    }
}
