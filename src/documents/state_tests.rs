use super::*;

fn t(s: &str) -> Instant {
    parse_instant(s, 0).unwrap()
}

#[test]
fn roundtrip() {
    let st = StreamState {
        cursor: Some(t("2024-01-01T00:00:00Z")),
        cursor_ids: vec!["3".into()],
        resume: Some(Resume::Ranges(vec![
            IdRange {
                after: Some("77".into()),
                below: Some("500".into()),
            },
            IdRange {
                after: Some("900".into()),
                below: None,
            },
        ])),
        pass_max: Some(t("2024-02-01T00:00:00Z")),
        pass_max_ids: vec!["9".into()],
        pass_start: Some(t("2024-01-15T00:00:00Z")),
        seen: Some(baseline(&["1", "2", "3", "7", "a-uuid"])),
        delivered: baseline(&["8", "9", "11", "b-uuid"]).ids,
        ahead: Some(t("2024-02-02T00:00:00Z")),
    };
    let back = StreamState::from_value("contacts", &st.to_value(), Some("udate")).unwrap();
    assert_eq!(back, st);
}

fn baseline(list: &[&str]) -> Baseline {
    let mut ids = crate::rules::id_set::IdSet::default();
    for id in list {
        ids.insert(id);
    }
    Baseline::new(ids, t("2024-03-01T00:00:00Z"))
}

/// The baseline of deletions is kept in the state; a damaged one is refused with a way out.
#[test]
fn a_baseline_round_trips_and_a_damaged_one_is_refused() {
    let st = StreamState {
        seen: Some(baseline(&["5", "6", "9"])),
        ..StreamState::default()
    };
    let v = st.to_value();
    assert_eq!(v["seen"]["count"], 3);
    assert_eq!(StreamState::from_value("tags", &v, None).unwrap(), st);
    for (damage, want) in [
        (json!({"seen": 3}), "must be an object"),
        (json!({"seen": {"runs": "", "count": 0}}), "has no 'at'"),
        (
            json!({"seen": {"at": "2024-01-01T00:00:00Z", "count": 0}}),
            "no 'runs'",
        ),
        (
            json!({"seen": {"at": "2024-01-01T00:00:00Z", "runs": "*", "count": 0}}),
            "not base64",
        ),
        (
            json!({"seen": {"at": "2024-01-01T00:00:00Z", "runs": "", "count": 0, "ids": [1]}}),
            "must be strings",
        ),
        (
            json!({"seen": {"at": "2024-01-01T00:00:00Z", "runs": "", "count": 0, "ids": "x"}}),
            "must be a list",
        ),
        (
            json!({"seen": {"at": "nope", "runs": "", "count": 0}}),
            "not a timestamp",
        ),
    ] {
        let err = StreamState::from_value("tags", &damage, None)
            .unwrap_err()
            .0;
        assert!(
            err.contains(want) && err.contains("tags"),
            "{damage}: {err}"
        );
    }
    let mut wrong_count = v.clone();
    wrong_count["seen"]["count"] = json!(4);
    let err = StreamState::from_value("tags", &wrong_count, None)
        .unwrap_err()
        .0;
    assert!(err.contains("remove 'seen'"), "{err}");
}

#[test]
fn no_record_at_the_cursor_twice_and_none_missed() {
    let mut st = StreamState::default();
    assert!(st.wants(Some(t("2024-01-01T00:00:00Z")), "1", None, 0));
    st.saw(t("2024-01-01T00:00:00Z"), "1");
    st.saw(t("2024-01-02T00:00:00Z"), "2");
    st.saw(t("2024-01-02T00:00:00Z"), "3");
    st.finish_pass();
    assert_eq!(st.cursor, Some(t("2024-01-02T00:00:00Z")));
    assert!(!st.wants(Some(t("2024-01-02T00:00:00Z")), "2", None, 0));
    assert!(
        !st.wants(Some(t("2024-01-02T00:00:00Z")), "3", None, 0),
        "every id tied at the cursor is remembered, not only the first"
    );
    assert_eq!(st.cursor_ids, vec!["2", "3"]);
    assert!(
        st.wants(Some(t("2024-01-02T00:00:00Z")), "4", None, 0),
        "a new record at the same second is not missed"
    );
    assert!(st.wants(Some(t("2024-01-02T00:00:01Z")), "2", None, 0));
    assert!(!st.wants(Some(t("2024-01-01T23:00:00Z")), "5", None, 0));
    assert!(
        st.wants(Some(t("2024-01-01T23:00:00Z")), "5", None, 7200),
        "lookback re-reads"
    );
    assert!(
        st.wants(None, "6", None, 0),
        "records without a cursor are kept"
    );
}

#[test]
fn the_cursor_stops_at_the_pass_start() {
    let mut st = StreamState {
        pass_start: Some(t("2024-05-01T00:00:00Z")),
        ..Default::default()
    };
    st.saw(t("2024-04-01T00:00:00Z"), "1");
    st.saw(t("2024-05-02T00:00:00Z"), "2"); // changed while the pass ran
    st.finish_pass();
    assert_eq!(st.cursor, Some(t("2024-05-01T00:00:00Z")));
    assert!(st.cursor_ids.is_empty());
    assert!(
        st.wants(Some(t("2024-05-01T12:00:00Z")), "7", None, 0),
        "a record changed during the pass is read again"
    );
    let mut quiet = StreamState {
        pass_start: Some(t("2024-05-01T00:00:00Z")),
        ..Default::default()
    };
    quiet.saw(t("2024-04-01T00:00:00Z"), "1");
    quiet.finish_pass();
    assert_eq!(
        quiet.cursor,
        Some(t("2024-04-01T00:00:00Z")),
        "nothing changed meanwhile: the exact cursor"
    );
}

#[test]
fn start_date_floor() {
    let st = StreamState::default();
    let floor = Some(t("2024-01-01T00:00:00Z"));
    assert!(!st.wants(Some(t("2023-12-31T00:00:00Z")), "1", floor, 0));
    assert!(st.wants(Some(t("2024-01-01T00:00:00Z")), "1", floor, 0));
}

#[test]
fn an_offset_resume_point_keeps_the_last_ids_delivered() {
    let v = json!({"resume": {"offset": 298, "last_ids": ["296", "297", "298"]}});
    let st = StreamState::from_value("tags", &v, None).unwrap();
    assert_eq!(
        st.resume,
        Some(Resume::OffsetAfter(
            298,
            vec!["296".into(), "297".into(), "298".into()]
        ))
    );
    assert_eq!(st.to_value()["resume"], v["resume"]);
    for bad in [json!("x"), json!([1]), json!(vec!["a"; 101])] {
        let v = json!({"resume": {"offset": 1, "last_ids": bad}});
        let e = StreamState::from_value("tags", &v, None).unwrap_err();
        assert!(e.0.contains("last_ids"), "{}", e.0);
    }
}

#[test]
fn input_forms() {
    let list = r#"[{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"tags"},"stream_state":{"resume":{"offset":100}}}}},
                   {"type":"STREAM","stream":{"stream_descriptor":{"name":"deals"},"stream_state":{}}}]"#;
    let m = parse_state_input(list).unwrap();
    assert_eq!(m.len(), 2);
    assert_eq!(
        StreamState::from_value("tags", &m["tags"], None)
            .unwrap()
            .resume,
        Some(Resume::Offset(100))
    );
    let old = StreamState::from_value("contacts", &json!({"resume": {"id_greater": "42"}}), None)
        .unwrap();
    assert_eq!(
        old.resume,
        Some(Resume::Ranges(vec![IdRange {
            after: Some("42".into()),
            below: None
        }]))
    );
    let legacy =
        parse_state_input(r#"{"contacts": {"udate": "2024-01-01T00:00:00-05:00"}}"#).unwrap();
    let st = StreamState::from_value("contacts", &legacy["contacts"], Some("udate")).unwrap();
    assert_eq!(st.cursor, Some(t("2024-01-01T05:00:00Z")));
    let singer = parse_state_input(r#"{"bookmarks": {"deals": {"mdate": "2024-01-01"}}}"#).unwrap();
    assert!(singer.contains_key("deals"));
}

/// singer-io's tap-activecampaign keeps each bookmark as a bare string.
#[test]
fn bare_string_bookmarks_of_tap_activecampaign() {
    let m = parse_state_input(
        r#"{"currently_syncing": null, "bookmarks": {"contacts": "2025-01-01T00:00:00.000000Z", "configs": "2020-07-21T16:36:36.000000Z"}}"#,
    )
    .unwrap();
    let st = StreamState::from_value("contacts", &m["contacts"], Some("udate")).unwrap();
    assert_eq!(st.cursor, Some(t("2025-01-01T00:00:00Z")));
    assert!(st.cursor_ids.is_empty() && st.resume.is_none());
    assert!(!st.wants(Some(t("2024-12-31T23:59:59Z")), "1", None, 0));
    assert!(
        st.wants(Some(t("2025-01-01T00:00:00Z")), "1", None, 0),
        "as the tap does, a record at the bookmark is read again"
    );
    let none = StreamState::from_value("configs", &m["configs"], None).unwrap();
    assert_eq!(
        none,
        StreamState::default(),
        "no cursor: the bookmark is unused"
    );
    let e = StreamState::from_value("contacts", &json!("soon"), Some("udate")).unwrap_err();
    assert!(
        e.0.contains("'contacts'") && e.0.contains("bookmark"),
        "{e}"
    );
}

#[test]
fn bad_state_is_named() {
    assert!(parse_state_input("{")
        .unwrap_err()
        .0
        .contains("not valid JSON"));
    assert!(parse_state_input("5")
        .unwrap_err()
        .0
        .contains("must be a JSON list"));
    assert!(parse_state_input(r#"[{"type":"BOGUS"}]"#)
        .unwrap_err()
        .0
        .contains("unknown type"));
    let e = StreamState::from_value("tags", &json!({"cursor": "yesterday"}), None).unwrap_err();
    assert!(e.0.contains("'tags'") && e.0.contains("cursor"), "{e}");
    let e = StreamState::from_value("tags", &json!({"resume": {"offset": -1}}), None).unwrap_err();
    assert!(e.0.contains("offset"));
    assert!(StreamState::from_value("tags", &json!([1]), None).is_err());
    assert!(StreamState::from_value("tags", &json!(5), Some("udate")).is_err());
    assert!(StreamState::from_value(
        "contacts",
        &json!({"resume": {"ranges": [{"after": "x"}]}}),
        None
    )
    .is_err());
}

/// The state rules: ties at the maximum, merging at the cursor, the pass-start cap, lookback.
mod boundaries {
    use crate::documents::state::{parse_state_input, Resume, StreamState};
    use crate::test_support::t;
    use crate::vocab::page::IdRange;
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
        let ok =
            StreamState::from_value("tags", &json!({"cursor_ids": ids(10_000)}), None).unwrap();
        assert_eq!(ok.cursor_ids.len(), 10_000);
        let e =
            StreamState::from_value("tags", &json!({"cursor_ids": ids(10_001)}), None).unwrap_err();
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
            StreamState::from_value("contacts", &json!({"resume": {"id_greater": ""}}), None)
                .is_err()
        );
        assert!(StreamState::from_value(
            "contacts",
            &json!({"resume": {"id_greater": "12a"}}),
            None
        )
        .is_err());
        let n = StreamState::from_value("contacts", &json!({"resume": {"id_greater": 42}}), None)
            .unwrap();
        assert_eq!(
            n.resume,
            Some(Resume::Ranges(vec![IdRange {
                after: Some("42".into()),
                below: None
            }]))
        );
        assert!(
            StreamState::from_value("contacts", &json!({"resume": {"id_greater": -1}}), None)
                .is_err()
        );
        assert!(
            StreamState::from_value("contacts", &json!({"resume": {"id_greater": 1.5}}), None)
                .is_err()
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
}

/// A partial pass moves only its mark, never the cursor, and never past its own start; a complete
/// pass clears the mark; a partial pass delivers past the mark.
#[test]
fn partial_passes_move_the_mark_and_complete_ones_the_cursor() {
    let mut st = StreamState {
        cursor: Some(t("2024-01-01T00:00:00Z")),
        ..StreamState::default()
    };
    st.pass_start = Some(t("2024-01-05T00:00:00Z"));
    st.saw(t("2024-01-09T00:00:00Z"), "7");
    st.finish_partial_pass();
    assert_eq!(st.cursor, Some(t("2024-01-01T00:00:00Z")));
    assert_eq!(
        st.ahead,
        Some(t("2024-01-05T00:00:00Z")),
        "not past the pass start"
    );
    assert!(!st.wants_partial(Some(t("2024-01-04T00:00:00Z")), "1", None, 0));
    assert!(st.wants_partial(Some(t("2024-01-06T00:00:00Z")), "1", None, 0));
    assert!(
        st.wants_partial(Some(t("2024-01-04T23:00:00Z")), "1", None, 3600),
        "the overlap"
    );
    assert!(
        st.wants(Some(t("2024-01-04T00:00:00Z")), "1", None, 0),
        "a sweep still wants it"
    );
    // An older partial pass does not move the mark back.
    st.saw(t("2024-01-03T00:00:00Z"), "8");
    st.finish_partial_pass();
    assert_eq!(st.ahead, Some(t("2024-01-05T00:00:00Z")));
    st.saw(t("2024-01-06T00:00:00Z"), "9");
    st.finish_pass();
    assert_eq!(
        (st.ahead, st.cursor),
        (None, Some(t("2024-01-06T00:00:00Z")))
    );
    let mut fresh = StreamState::default();
    fresh.saw(t("2024-01-06T00:00:00Z"), "9");
    fresh.finish_partial_pass();
    assert_eq!(
        fresh.ahead,
        Some(t("2024-01-06T00:00:00Z")),
        "no cursor yet: the mark moves"
    );
}

/// Ids delivered since the last complete pass: only those it did not see are kept, and a
/// complete pass compares the union; with no baseline, the delivered ids alone.
#[test]
fn delivered_ids_join_the_baseline_a_complete_pass_compares() {
    let mut st = StreamState {
        seen: Some(baseline(&["1", "2", "3"])),
        ..StreamState::default()
    };
    for id in ["2", "4", "x"] {
        st.delivered(id);
    }
    assert_eq!(st.delivered, baseline(&["4", "x"]).ids, "only new ids");
    let held = st.take_held_ids().unwrap();
    assert_eq!(held.ids, baseline(&["1", "2", "3", "4", "x"]).ids);
    assert_eq!(st.delivered.len(), 0, "taken out of the state");
    let mut fresh = StreamState::default();
    assert!(
        fresh.take_held_ids().is_none(),
        "nothing delivered, no baseline"
    );
    fresh.delivered("7");
    assert_eq!(fresh.take_held_ids().unwrap().ids, baseline(&["7"]).ids);
    // A malformed delivered set names the field and the fix.
    let bad = json!({"delivered": {"runs": "!!", "count": 1}});
    let e = StreamState::from_value("deals", &bad, None).unwrap_err();
    assert!(
        e.0.contains("delivered") && e.0.contains("remove 'delivered'"),
        "{}",
        e.0
    );
}

/// Another connector's state for a stream of the same name reads as no state; it is named in a
/// warning. This connector's own forms (its keys, a Singer bookmark on the cursor field, a bare
/// bookmark string, an empty object) are not.
#[test]
fn a_foreign_state_is_warned_about() {
    let foreign = json!({"updated_at": "2024-01-01T00:00:00Z"});
    let w = foreign_state_warning("contacts", &foreign, Some("udate")).unwrap();
    assert!(w.contains("stream 'contacts'"), "{w}");
    assert!(w.contains("(found `updated_at`)"), "{w}");
    assert!(w.contains("read from the start"), "{w}");
    // It still parses (as no state): the warning is what tells the user.
    let st = StreamState::from_value("contacts", &foreign, Some("udate")).unwrap();
    assert_eq!(st, StreamState::default());
    for ours in [
        json!({}),
        json!({"udate": "2024-01-01T00:00:00Z"}),
        json!("2024-01-01T00:00:00Z"),
        json!({"cursor": "2024-01-01T00:00:00Z", "cursor_ids": []}),
        json!({"seen": null, "other": 1}),
    ] {
        assert_eq!(
            foreign_state_warning("contacts", &ours, Some("udate")),
            None,
            "{ours}"
        );
    }
    // A stream without a cursor: a bookmark-looking key is foreign too.
    assert!(foreign_state_warning("tags", &json!({"udate": "x"}), None).is_some());
}
