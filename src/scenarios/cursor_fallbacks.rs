//! Cursors from evidence: a stream whose documented records carry another field reads
//! its cursor from an ordered list of fields (the first present wins), says so in the catalog,
//! and a read whose records carry none of them says so once per stream (LOG WARN, summary).

use crate::test_support::ok;
use crate::test_support::reads::*;

/// Campaign records: one with `updated_timestamp`, one with only `mdate` (the documented shape),
/// one with neither.
fn campaigns_answer(_: &str) -> Result<HttpResponse, String> {
    ok(json!({"campaigns": [
        {"id": "1", "updated_timestamp": "2024-01-02T00:00:00-05:00", "mdate": "2023-01-01T00:00:00-05:00"},
        {"id": "2", "mdate": "2024-01-05T00:00:00-05:00"},
        {"id": "3", "name": "no dates"},
    ], "meta": {"total": "3"}}))
}

/// One incremental campaigns read from `state`: (delivered ids, last state, WARN lines, summary).
fn read_campaigns(
    state: StreamState,
) -> (Vec<u64>, Value, Vec<String>, crate::engine::ReadSummary) {
    let cfg = client_config(json!({}));
    let mut fake = Fake::new(SECOND / 100, campaigns_answer);
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let s = read(
        &mut client,
        &cfg,
        vec![job_of("campaigns", true, state)],
        &mut sink,
    );
    let lines: Vec<Value> = sink
        .0
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let last_state = lines
        .iter()
        .rfind(|v| v["type"] == "STATE")
        .map(|v| v["state"]["stream"]["stream_state"].clone())
        .unwrap_or(Value::Null);
    let warns = lines
        .iter()
        .filter(|v| v["type"] == "LOG" && v["log"]["level"] == "WARN")
        .filter_map(|v| v["log"]["message"].as_str().map(String::from))
        .collect();
    (ids(&sink.0, "campaigns"), last_state, warns, s)
}

/// The first cursor field present wins; the state's cursor is the latest of them; the next
/// read cuts on either field; the record with neither is delivered each time, and each read says
/// so once (LOG WARN naming the fields, and the summary's count).
#[test]
fn the_first_cursor_field_present_wins_and_a_record_without_any_is_reported_once() {
    let (got, state, warns, s) = read_campaigns(StreamState::default());
    assert_eq!(got, [1, 2, 3]);
    assert_eq!(state["cursor"], "2024-01-05T05:00:00Z", "{state}");
    assert_eq!(warns.len(), 1, "{warns:?}");
    assert!(
        warns[0].starts_with("campaigns: 1 of 3 records carry none of the cursor fields (updated_timestamp, then mdate)"),
        "{warns:?}"
    );
    assert_eq!(s.streams[0].uncursored, 1);
    let saved = StreamState::from_value("campaigns", &state, Some("updated_timestamp")).unwrap();
    let (again, _, warns, s) = read_campaigns(saved);
    assert_eq!(again, [3], "only the record without a cursor comes again");
    assert_eq!(warns.len(), 1, "{warns:?}");
    assert_eq!(s.streams[0].uncursored, 1);
}

/// Full refresh takes no record apart, so it has nothing to warn about; a stream whose records
/// all carry the cursor gives no warning either.
#[test]
fn no_warning_without_missing_cursors() {
    let cfg = client_config(json!({}));
    let mut fake = Fake::new(SECOND / 100, campaigns_answer);
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let s = read(
        &mut client,
        &cfg,
        vec![job_of("campaigns", false, StreamState::default())],
        &mut sink,
    );
    assert_eq!(s.streams[0].uncursored, 0);
    assert!(!sink.0.iter().any(|l| l.contains("cursor fields")));
    let mut fake = Fake::new(SECOND / 100, list("fieldValues", 150));
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let s = read(
        &mut client,
        &cfg,
        vec![job_of(
            "contact_custom_field_values",
            true,
            StreamState::default(),
        )],
        &mut sink,
    );
    assert_eq!(
        (s.streams[0].records, s.streams[0].uncursored),
        (150, 0),
        "{s:?}"
    );
    assert!(!sink.0.iter().any(|l| l.contains("cursor fields")));
}

/// The catalog states the fields a stream's cursor is read from, in order; streams with one
/// cursor field say nothing more.
#[test]
fn the_catalog_states_the_cursor_fields() {
    let streams = crate::api::catalog::discovered_streams(&fixed_streams(), &[]);
    let of = |n: &str| streams.iter().find(|s| s["name"] == n).cloned().unwrap();
    let c = of("campaigns");
    assert_eq!(c["default_cursor_field"], json!(["updated_timestamp"]));
    assert_eq!(
        c["json_schema"]["description"],
        "Cursor: the first of updated_timestamp, mdate that a record carries."
    );
    assert_eq!(
        of("lists")["json_schema"]["description"],
        "Cursor: the first of updated_timestamp, udate that a record carries."
    );
    assert!(of("deals")["json_schema"].get("description").is_none());
}
