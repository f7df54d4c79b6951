//! The state rules: ties at the maximum, merging at the cursor, the pass-start cap, lookback.

use super::t;
use crate::request::IdRange;
use crate::state::{parse_state_input, Resume, StreamState};
use serde_json::json;

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

/// The caps on saved ids hold exactly: 10,000 ids at one instant are kept, the 10,001st is not
/// (a pathological account cannot make the state grow without bound).
#[test]
fn id_lists_stop_at_ten_thousand() {
    let c = t("2024-03-01T00:00:00Z");
    let mut st = StreamState::default();
    for i in 0..10_001 {
        st.saw(c, &i.to_string());
    }
    assert_eq!(st.pass_max_ids.len(), 10_000);
    assert_eq!(st.pass_max_ids.last().map(String::as_str), Some("9999"));
    st.finish_pass();
    assert_eq!(st.cursor_ids.len(), 10_000);
    let mut full = StreamState {
        cursor: Some(c),
        cursor_ids: (0..9_999).map(|i| i.to_string()).collect(),
        ..Default::default()
    };
    full.saw(c, "a");
    full.saw(c, "b");
    full.finish_pass();
    assert_eq!(full.cursor_ids.len(), 10_000);
    assert_eq!(full.cursor_ids.last().map(String::as_str), Some("a"));
}

/// Saved state is read back only within its limits: 10,000 ids, 1,000 ranges, ids under 40 digits.
#[test]
fn state_input_limits_are_exact() {
    let ids = |n: usize| json!((0..n).map(|i| i.to_string()).collect::<Vec<_>>());
    let ok = StreamState::from_value("tags", &json!({"cursor_ids": ids(10_000)}), None).unwrap();
    assert_eq!(ok.cursor_ids.len(), 10_000);
    let e = StreamState::from_value("tags", &json!({"cursor_ids": ids(10_001)}), None).unwrap_err();
    assert!(e.0.contains("'cursor_ids'") && e.0.contains("10000"), "{e}");

    let ranges = |n: usize| json!({"resume": {"ranges": vec![json!({"after": "1"}); n]}});
    let ok = StreamState::from_value("contacts", &ranges(1000), None).unwrap();
    assert!(matches!(ok.resume, Some(Resume::Ranges(r)) if r.len() == 1000));
    let e = StreamState::from_value("contacts", &ranges(1001), None).unwrap_err();
    assert!(e.0.contains("1000 ranges"), "{e}");

    let id = |n: usize| json!({"resume": {"id_greater": "9".repeat(n)}});
    assert!(StreamState::from_value("contacts", &id(39), None).is_ok());
    assert!(StreamState::from_value("contacts", &id(40), None).is_err());
    assert!(
        StreamState::from_value("contacts", &json!({"resume": {"id_greater": ""}}), None).is_err()
    );
    assert!(
        StreamState::from_value("contacts", &json!({"resume": {"id_greater": "12a"}}), None)
            .is_err()
    );
    let n =
        StreamState::from_value("contacts", &json!({"resume": {"id_greater": 42}}), None).unwrap();
    assert_eq!(
        n.resume,
        Some(Resume::Ranges(vec![IdRange {
            after: Some("42".into()),
            below: None
        }]))
    );
    assert!(
        StreamState::from_value("contacts", &json!({"resume": {"id_greater": -1}}), None).is_err()
    );
    assert!(
        StreamState::from_value("contacts", &json!({"resume": {"id_greater": 1.5}}), None).is_err()
    );
}

/// A state error prints as its text (it reaches the user through the CLI).
#[test]
fn state_errors_print_their_text() {
    let e = StreamState::from_value("tags", &json!({"cursor": 5}), None).unwrap_err();
    assert_eq!(e.to_string(), e.0);
    assert!(
        e.0.contains("'cursor' must be a timestamp string, found a number"),
        "{e}"
    );
}

/// The older state forms: LEGACY items in a list (with or without `data`), and a single object
/// that is either `{"data": {...}}`, `{"type": "LEGACY", "data": {...}}` or keyed by stream.
#[test]
fn legacy_state_forms_take_exactly_the_streams() {
    let keys = |text: &str| -> Vec<String> {
        parse_state_input(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .into_keys()
            .collect()
    };
    assert_eq!(
        keys(r#"[{"type": "LEGACY", "data": {"tags": {}, "deals": {}}}]"#),
        ["deals", "tags"]
    );
    assert_eq!(keys(r#"[{"type": "LEGACY", "tags": {}}]"#), ["tags"]);
    assert_eq!(keys(r#"[{"tags": {}}]"#), ["tags"]);
    assert_eq!(
        keys(r#"[{"state": {"data": {"data": {}, "tags": {}}}}]"#),
        ["tags"]
    );
    assert_eq!(keys(r#"{"data": {"tags": {}}}"#), ["tags"]);
    assert_eq!(
        keys(r#"{"type": "LEGACY", "data": {"tags": {}}}"#),
        ["tags"]
    );
    assert_eq!(
        keys(r#"{"data": {"tags": {}}, "deals": {}}"#),
        ["data", "deals"]
    );
    assert_eq!(
        keys(r#"{"type": "OTHER", "data": {"tags": {}}}"#),
        ["data", "type"]
    );
    assert_eq!(keys(r#"{"data": 5}"#), ["data"]);
    let e = parse_state_input(r#"[{"type": "LEGACY", "data": 5}]"#).unwrap_err();
    assert!(e.0.contains("state item 0 is not an object"), "{e}");
}
