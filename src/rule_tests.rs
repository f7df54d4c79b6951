//! Tests that pin the exact numbers and boundaries of the sync rules: margins, ties and windows
//! that a one-character change would break without any other test noticing (each was a surviving
//! mutant in the audit of issue 13; `make mutants` checks the rest).
//!
//! State rules are tested on `StreamState` directly; the rules that live in the engine's planning
//! (server filter value, pass start) through `engine::read` on the scripted transport.

use crate::config::Config;
use crate::datetime::{parse_instant, parse_offset, Instant};
use crate::engine::tests::{Fake, Lines};
use crate::engine::{read, Client, HttpResponse, Job};
use crate::limiter::Limiter;
use crate::state::StreamState;
use crate::streams::fixed_streams;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::rc::Rc;

const SECOND: u64 = 1_000_000_000;

fn t(s: &str) -> Instant {
    parse_instant(s, 0).unwrap()
}

// ---- StreamState: ties at the maximum, merging at the cursor, the pass-start cap, lookback ----

/// Every id tied at the highest cursor value of a pass is remembered, not only the first: a
/// record tied at the new cursor must not be delivered again by the next pass.
#[test]
fn every_id_tied_at_the_pass_maximum_is_kept() {
    let mut st = StreamState::default();
    st.saw(t("2024-01-02T00:00:00Z"), "2");
    st.saw(t("2024-01-02T00:00:00Z"), "3");
    st.saw(t("2024-01-01T00:00:00Z"), "1");
    st.saw(t("2024-01-02T00:00:00Z"), "3");
    assert_eq!(st.pass_max, Some(t("2024-01-02T00:00:00Z")));
    assert_eq!(st.pass_max_ids, vec!["2", "3"]);
    st.finish_pass();
    assert_eq!(st.cursor_ids, vec!["2", "3"]);
    assert!(!st.wants(Some(t("2024-01-02T00:00:00Z")), "3", None, 0));
}

/// A pass whose maximum equals the old cursor adds its ids to the ones already there; a pass
/// whose maximum is behind the old cursor changes nothing.
#[test]
fn a_pass_ending_at_the_cursor_merges_its_ids() {
    let c = t("2024-03-01T00:00:00Z");
    let mut st = StreamState {
        cursor: Some(c),
        cursor_ids: vec!["1".into()],
        ..Default::default()
    };
    st.saw(c, "2");
    st.saw(c, "1");
    st.finish_pass();
    assert_eq!(st.cursor, Some(c));
    assert_eq!(st.cursor_ids, vec!["1", "2"]);
    assert!(
        !st.wants(Some(c), "2", None, 0),
        "id 2 was delivered at the cursor"
    );

    st.saw(t("2024-02-01T00:00:00Z"), "9");
    st.finish_pass();
    assert_eq!(
        st.cursor,
        Some(c),
        "an older maximum never moves the cursor back"
    );
    assert_eq!(st.cursor_ids, vec!["1", "2"]);
}

/// A pass whose maximum is exactly the pass start is capped like a later one: the cursor is the
/// pass start and no ids are kept at it (the start is cut to whole seconds, so a record at that
/// second may still change within it and must be read again).
#[test]
fn a_maximum_at_exactly_the_pass_start_is_capped() {
    let s = t("2024-05-01T00:00:00Z");
    let mut st = StreamState {
        pass_start: Some(s),
        ..Default::default()
    };
    st.saw(s, "4");
    st.finish_pass();
    assert_eq!(st.cursor, Some(s));
    assert!(st.cursor_ids.is_empty(), "{:?}", st.cursor_ids);
    assert!(st.wants(Some(s), "4", None, 0));
    assert_eq!(st.pass_start, None, "the pass start ends with its pass");
}

/// The lookback window includes its lower boundary: `lookback_window_seconds` = N re-reads
/// everything at or after cursor - N.
#[test]
fn the_lookback_window_includes_its_boundary() {
    let c = t("2024-03-01T00:00:00Z");
    let st = StreamState {
        cursor: Some(c),
        cursor_ids: vec!["1".into()],
        ..Default::default()
    };
    assert!(st.wants(Some(t("2024-02-29T23:00:00Z")), "5", None, 3600));
    assert!(!st.wants(Some(t("2024-02-29T22:59:59Z")), "5", None, 3600));
    assert!(
        st.wants(Some(c), "1", None, 3600),
        "lookback re-reads the cursor's own ids"
    );
    assert!(!st.wants(Some(c), "1", None, 0));
    assert!(st.wants(Some(c), "2", None, 0));
    assert!(!st.wants(Some(t("2024-02-29T23:59:59Z")), "2", None, 0));
}

// ---- Limiter: the safety margin and the one-second window ----

/// The spacing between starts is 1/rps plus exactly the safety margin (3 %): at 5/s, 206 ms.
#[test]
fn the_spacing_carries_the_safety_margin() {
    assert_eq!(Limiter::new(5.0).interval_ns(), 206_000_000);
    assert_eq!(Limiter::new(1.0).interval_ns(), 1_030_000_000);
    assert_eq!(Limiter::new(0.5).interval_ns(), 2_060_000_000);
    assert_eq!(
        Limiter::new(2.5).interval_ns(),
        515_000_000,
        "2.5/s is 2 whole requests"
    );
    assert_eq!(Limiter::new(f64::NAN).interval_ns(), 1_030_000_000);
    assert_eq!(Limiter::new(0.0).interval_ns(), 1_030_000_000);
    assert_eq!(Limiter::new(-3.0).interval_ns(), 1_030_000_000);
}

/// `RateLimit-Remaining: 0` is explained by our own starts only when they fill the one second up
/// to the request's start; our starts before that second don't count, nor do later ones.
#[test]
fn only_our_starts_in_the_second_before_count() {
    let mut l = Limiter::new(5.0);
    for s in [0, 206_000_000, 412_000_000, 618_000_000] {
        l.started(s);
    }
    l.started(1_500_000_000);
    // In (0.5 s, 1.5 s] we started 2 requests; in the two seconds before, 5.
    assert!(l.exhausted(1_500_000_000, Some(5), 1_600_000_000));
    assert_eq!(l.next_slot(), 2_600_000_000, "held one second from now");

    let mut l = Limiter::new(5.0);
    for s in [
        500_000_001,
        706_000_000,
        912_000_000,
        1_118_000_000,
        1_500_000_000,
    ] {
        l.started(s);
    }
    // Exactly five in (0.5 s, 1.5 s]: ours explain it.
    assert!(!l.exhausted(1_500_000_000, Some(5), 1_600_000_000));
    assert_eq!(l.next_slot(), 1_706_000_000);

    let mut l = Limiter::new(5.0);
    for s in [
        500_000_000,
        706_000_000,
        912_000_000,
        1_118_000_000,
        1_500_000_000,
    ] {
        l.started(s);
    }
    // A start exactly one second earlier is outside the window: four of ours.
    assert!(l.exhausted(1_500_000_000, Some(5), 1_600_000_000));

    let mut l = Limiter::new(5.0);
    for s in [0, 206_000_000, 412_000_000, 618_000_000, 824_000_000] {
        l.started(s);
    }
    // Starts after the request that got the answer don't explain it.
    assert!(l.exhausted(412_000_000, Some(5), 900_000_000));
    // Without a known limit, an empty budget always pauses.
    let mut l = Limiter::new(5.0);
    l.started(0);
    assert!(l.exhausted(0, None, 100));
}

/// Old starts are forgotten only after two seconds: an answer can come back more than a second
/// after its request began, and the starts before that request must still be counted.
#[test]
fn starts_are_remembered_for_two_seconds() {
    let mut l = Limiter::new(5.0);
    for s in [
        100_000_000,
        306_000_000,
        512_000_000,
        718_000_000,
        924_000_000,
    ] {
        l.started(s);
    }
    l.started(2_050_000_000);
    // The answer to the start at 0.924 s arrives at 2.1 s: our five starts explain it.
    assert!(!l.exhausted(924_000_000, Some(5), 2_100_000_000));
    l.started(2_950_000_000);
    // Two seconds after them, those five starts are forgotten: nothing of ours explains it.
    assert!(l.exhausted(924_000_000, Some(5), 3_000_000_000));
}

// ---- Offsets ----

/// UTC offsets run from -14:00 to +14:00 (Kiribati); anything further is a typo.
#[test]
fn utc_offsets_stop_at_fourteen_hours() {
    assert_eq!(parse_offset("+14:00"), Some(840));
    assert_eq!(parse_offset("-14:00"), Some(-840));
    assert_eq!(parse_offset("+15:00"), None);
    assert_eq!(parse_offset("-23:00"), None);
    assert_eq!(parse_offset("+05:60"), None);
    assert_eq!(parse_offset("+05:59"), Some(359));
    assert_eq!(parse_offset("+0545"), Some(345));
    assert_eq!(parse_offset("-3"), Some(-180));
    assert_eq!(parse_offset("z"), Some(0));
    assert_eq!(parse_offset(""), None);
}

// ---- The engine: the server filter value and the pass start ----

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
