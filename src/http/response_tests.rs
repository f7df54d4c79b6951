use super::*;
use serde_json::json;

#[test]
fn total_in_every_shape() {
    for (body, want) in [
        (json!({"meta": {"total": "6"}}), Some(6)),
        (json!({"meta": {"total": 3}}), Some(3)),
        (json!({"meta": {}}), None),
        (json!({}), None),
        (json!({"meta": {"total": "many"}}), None),
    ] {
        assert_eq!(meta_total(body.as_object().unwrap()), want, "{body}");
    }
}

#[test]
fn page_with_sideloads_and_zero_dates() {
    let body = json!({"fields": [{"id": "1", "cdate": "0000-00-00 00:00:00", "nested": {"d": "0000-00-00"}}],
        "fieldOptions": [{"id": "7"}], "meta": {"total": "1"}}).to_string();
    let p = parse_page(body.as_bytes(), "fields", &["fieldOptions", "fieldRels"]).unwrap();
    assert_eq!(p.main.len(), 1);
    let rec: Value = serde_json::from_str(&null_zero_dates_raw(p.main[0].get())).unwrap();
    assert_eq!(rec["cdate"], Value::Null);
    assert_eq!(rec["nested"]["d"], Value::Null);
    assert_eq!(record_id(&p.main[0]), "1");
    assert_eq!(p.extra[0].1.len(), 1);
    assert_eq!(
        p.extra.len(),
        1,
        "fieldRels is not in the answer: left out, not empty"
    );
    assert_eq!(p.total, Some(1));
}

#[test]
fn bad_bodies() {
    for empty in [
        &b""[..],
        b" \n",
        b"{}",
        br#"{"meta": {"total": "0"}}"#,
        br#"{"x": null}"#,
    ] {
        assert!(
            matches!(parse_page(empty, "x", &[]), Err(BadPage::Empty(_))),
            "{}",
            String::from_utf8_lossy(empty)
        );
    }
    assert!(matches!(
        parse_page(b"<html>502</html>", "x", &[]),
        Err(BadPage::NotJson(_))
    ));
    assert!(matches!(
        parse_page(b"{\"x\": [", "x", &[]),
        Err(BadPage::NotJson(_))
    ));
    assert!(matches!(
        parse_page(b"[]", "x", &[]),
        Err(BadPage::NotJson(_))
    ));
    assert!(matches!(
        parse_page(b"null", "x", &[]),
        Err(BadPage::NotJson(_))
    ));
    let e = parse_page(b"<html><body>Bad Gateway</body></html>", "x", &[]).unwrap_err();
    assert!(e.to_string().contains("HTML"), "{e}");
}

/// An item of a list that is not a record cannot be used: the page is unusable, naming the key,
/// the item and its type (never a shorter list).
#[test]
fn items_that_are_not_records_make_the_page_unusable() {
    for (body, want) in [
        (
            r#"{"x": [1, {"id": "1"}]}"#,
            "item 0 of the answer's 'x' is a number",
        ),
        (
            r#"{"x": [{"id": "1"}, null]}"#,
            "item 1 of the answer's 'x' is null",
        ),
        (
            r#"{"x": [{"id": "1"}, "2"]}"#,
            "item 1 of the answer's 'x' is a string",
        ),
        (
            r#"{"x": {"0": {"id": "1"}, "1": []}}"#,
            "key \"1\" of the answer's 'x' is a list",
        ),
    ] {
        match parse_page(body.as_bytes(), "x", &[]) {
            Err(BadPage::Unusable(why)) => assert!(why.contains(want), "{why} / {want}"),
            other => panic!("{body}: {other:?}"),
        }
    }
}

/// PHP's `json_encode` writes an array with gaps in its keys as an object: read as the list,
/// in key order (numeric keys by value), for the main list and for sideloads alike.
#[test]
fn lists_written_as_objects_are_read_in_key_order() {
    let body = r#"{"tags": {"10": {"id": "c"}, "2": {"id": "b"}, "0": {"id": "a"}},
        "contactTags": {"5": {"id": "7"}, "1": {"id": "6"}}, "fieldValues": {}, "meta": {"total": "3"}}"#;
    let p = parse_page(body.as_bytes(), "tags", &["contactTags", "fieldValues"]).unwrap();
    let ids = |v: &[Record]| v.iter().map(|r| record_id(r)).collect::<Vec<_>>();
    assert_eq!(ids(&p.main), ["a", "b", "c"]);
    assert_eq!(p.extra[0].0, "contactTags");
    assert_eq!(ids(&p.extra[0].1), ["6", "7"]);
    assert!(p.extra[1].1.is_empty());
    assert_eq!(p.total, Some(3));
    // Keys that are not numbers follow the numeric ones, by text.
    let p = parse_page(
        br#"{"x": {"b": {"id": "3"}, "1": {"id": "1"}, "a": {"id": "2"}}}"#,
        "x",
        &[],
    )
    .unwrap();
    assert_eq!(ids(&p.main), ["1", "2", "3"]);
}

/// A list key holding a string, a number or a boolean fails the page with the key and the type,
/// for the main list and for a sideload; null counts as no list.
#[test]
fn list_keys_that_hold_no_list() {
    for (body, key, kind) in [
        (r#"{"tags": "none"}"#, "tags", "a string"),
        (r#"{"tags": 0}"#, "tags", "a number"),
        (r#"{"tags": true}"#, "tags", "a boolean"),
        (
            r#"{"tags": [], "contactTags": "x"}"#,
            "contactTags",
            "a string",
        ),
        (
            r#"{"tags": [{"id": "1"}], "contactTags": 12.5}"#,
            "contactTags",
            "a number",
        ),
    ] {
        match parse_page(body.as_bytes(), "tags", &["contactTags"]) {
            Err(BadPage::Unusable(why)) => {
                assert!(why.contains(&format!("'{key}' is {kind}")), "{why}")
            }
            other => panic!("{body}: {other:?}"),
        }
    }
    assert!(matches!(
        parse_page(br#"{"tags": null}"#, "tags", &[]),
        Err(BadPage::Empty(_))
    ));
    let p = parse_page(
        br#"{"tags": [], "contactTags": null}"#,
        "tags",
        &["contactTags"],
    )
    .unwrap();
    assert!(p.extra.is_empty(), "a null sideload is not there");
    let p = parse_page(
        br#"{"tags": [], "contactTags": []}"#,
        "tags",
        &["contactTags"],
    )
    .unwrap();
    assert_eq!(p.extra.len(), 1, "an empty sideload is there");
    assert!(p.extra[0].1.is_empty());
}

/// A record nested past the bound is unusable, named by its id; one at the bound is kept, and
/// brackets inside strings do not count.
#[test]
fn the_depth_bound() {
    let nest = |levels: usize| {
        // The record is level 1; `levels - 1` lists inside it.
        format!(
            r#"{{"id": "42", "deep": {}1{}}}"#,
            "[".repeat(levels - 1),
            "]".repeat(levels - 1)
        )
    };
    let at_bound = format!(r#"{{"x": [{}]}}"#, nest(MAX_DEPTH));
    assert_eq!(
        parse_page(at_bound.as_bytes(), "x", &[])
            .unwrap()
            .main
            .len(),
        1
    );
    for levels in [MAX_DEPTH + 1, 5_000] {
        let body = format!(r#"{{"x": [{{"id": "1"}}, {}]}}"#, nest(levels));
        match parse_page(body.as_bytes(), "x", &[]) {
            Err(BadPage::Unusable(why)) => {
                assert!(why.contains(r#"record "42" (item 1 of 'x')"#), "{why}");
                assert!(why.contains("deeper than 64 levels"), "{why}");
            }
            other => panic!("{levels}: {other:?}"),
        }
    }
    let brackets = format!(
        r#"{{"x": [{{"id": "1", "s": "{}\"{}"}}]}}"#,
        "[".repeat(100),
        "{".repeat(100)
    );
    assert_eq!(
        parse_page(brackets.as_bytes(), "x", &[])
            .unwrap()
            .main
            .len(),
        1
    );
    assert!(nested_deeper_than("[[]]", 1));
    assert!(!nested_deeper_than("[[]]", 2));
    assert!(!nested_deeper_than(r#"["\\", []]"#, 2));
    assert!(nested_deeper_than(r#"["\\", [[]]]"#, 2));
}

#[test]
fn a_page_of_several_megabytes_with_odd_values() {
    // 100 records of ~60 KB each: non-ASCII, nulls, zero dates, links as {} and [].
    let big = "Zoë 東京 ".repeat(5_000);
    let recs: Vec<Value> = (0..100)
        .map(|i| serde_json::json!({"id": i.to_string(), "note": big, "x": null, "d": "0000-00-00", "links": if i % 2 == 0 { serde_json::json!({}) } else { serde_json::json!([]) }}))
        .collect();
    let body = serde_json::json!({"contacts": recs, "meta": {"total": 100}}).to_string();
    assert!(body.len() > 5_000_000);
    let p = parse_page(body.as_bytes(), "contacts", &[]).unwrap();
    assert_eq!(p.main.len(), 100);
    assert_eq!(p.total, Some(100));
    let v: Value = serde_json::from_str(&null_zero_dates_raw(p.main[7].get())).unwrap();
    assert_eq!(v["d"], Value::Null);
    assert!(v["note"].as_str().unwrap().starts_with("Zoë 東京"));
}

#[test]
fn zero_dates_in_text() {
    assert_eq!(
        null_zero_dates_raw(r#"{"a":"0000-00-00","b":"0000-00-00 00:00:00" , "c":["0000-00-00"]}"#),
        r#"{"a":null,"b":null , "c":[null]}"#
    );
    // Not values: a key, part of a longer string, an escaped quote.
    for same in [
        r#"{"0000-00-00":1}"#,
        r#"{"a":"0000-00-00x"}"#,
        r#"{"a":"say \"0000-00-00\" ok"}"#,
    ] {
        assert_eq!(null_zero_dates_raw(same), same);
    }
}

#[test]
fn error_shapes() {
    assert_eq!(
        error_message(br#"{"message":"No Result found"}"#).as_deref(),
        Some("No Result found")
    );
    assert_eq!(
        error_message(br#"{"errors":[{"status":403,"title":"Forbidden","detail":"You do not have permission to view lists."}]}"#).as_deref(),
        Some("Forbidden: You do not have permission to view lists.")
    );
    assert_eq!(
        error_message(br#"{"errors":["a","b"]}"#).as_deref(),
        Some("a; b")
    );
    assert_eq!(error_message(b"<html>"), None);
}

/// Reading answers: zero dates on parsed values and on raw text (each checked against the
/// other), ids, totals, body descriptions and error messages at their limits.
mod boundaries {
    use crate::http::response::{
        describe_body, error_message, meta_total, null_zero_dates, null_zero_dates_raw, parse_page,
        BadPage,
    };
    use crate::vocab::page::{id_text, record_id};
    use serde_json::{json, Value};

    /// Zero dates become null at any depth, as values only; other strings stay.
    #[test]
    fn zero_dates_on_values() {
        let mut v = json!({"a": "0000-00-00", "b": ["0000-00-00 00:00:00", "x", {"c": "0000-00-00T00:00:00"}],
            "d": "0000-00-01", "e": 5, "0000-00-00": "kept"});
        null_zero_dates(&mut v);
        assert_eq!(
            v,
            json!({"a": null, "b": [null, "x", {"c": null}], "d": "0000-00-01", "e": 5, "0000-00-00": "kept"})
        );
        let mut s = json!("0000-00-00");
        null_zero_dates(&mut s);
        assert_eq!(s, Value::Null);
    }

    /// The text rewrite agrees with the value rewrite on awkward records.
    #[test]
    fn zero_dates_raw_agree_with_values() {
        for text in [
            r#"{"a":"0000-00-00","b":[ "0000-00-00" ,"0000-00-00 00:00:00"],"c":{"d":"0000-00-00T00:00:00"}}"#,
            r#"{"0000-00-00":"0000-00-00","x":"0000-00-00 00:00:00x"}"#,
            r#"{"a":"\"0000-00-00\"","b":"0000-00-00"}"#,
            r#"{"a":"0000-00-00 00:00","b":"0000-00-00"  }"#,
            r#"["0000-00-00","0000-00-00"]"#,
            r#"{"a":"no dates here"}"#,
        ] {
            let mut want: Value = serde_json::from_str(text).unwrap();
            null_zero_dates(&mut want);
            let got: Value = serde_json::from_str(&null_zero_dates_raw(text)).unwrap();
            assert_eq!(got, want, "{text}");
        }
    }

    /// Ids as text: strings as they are, numbers printed, anything else (or none) empty.
    #[test]
    fn ids_as_text() {
        assert_eq!(id_text(Some(&json!("12"))), "12");
        assert_eq!(id_text(Some(&json!(12))), "12");
        assert_eq!(id_text(Some(&json!(true))), "");
        assert_eq!(id_text(None), "");
        let p = parse_page(
            br#"{"x": [{"id": 7}, {"name": "n"}, {"id": null}]}"#,
            "x",
            &[],
        )
        .unwrap();
        let ids: Vec<String> = p.main.iter().map(|r| record_id(r)).collect();
        assert_eq!(ids, ["7", "", ""]);
    }

    /// Totals: whole numbers, numeric strings, non-negative floats; nothing else.
    #[test]
    fn totals() {
        let total = |v: Value| meta_total(json!({ "meta": { "total": v } }).as_object().unwrap());
        assert_eq!(total(json!(0)), Some(0));
        assert_eq!(total(json!(" 12 ")), Some(12));
        assert_eq!(total(json!(12.0)), Some(12));
        assert_eq!(total(json!(-1)), None);
        assert_eq!(total(json!(-1.5)), None);
        assert_eq!(total(json!(null)), None);
        let p = parse_page(br#"{"x": [], "meta": {"total": "3"}}"#, "x", &[]).unwrap();
        assert_eq!(p.total, Some(3));
        let p = parse_page(br#"{"x": [], "meta": "odd"}"#, "x", &[]).unwrap();
        assert_eq!(p.total, None);
    }

    /// A body described for a message: kind, the first 80 bytes made printable, and its length.
    #[test]
    fn bodies_described() {
        assert_eq!(describe_body(b""), "an empty body");
        assert_eq!(
            describe_body(b"  <html>x"),
            "HTML/XML starting '<html>x' (9 bytes)"
        );
        assert_eq!(describe_body(b"a\nb\tc"), "text starting 'a b c' (5 bytes)");
        let long = "y".repeat(100);
        assert_eq!(
            describe_body(long.as_bytes()),
            format!("text starting '{}' (100 bytes)", "y".repeat(80))
        );
        let e = parse_page(b"\xff\xfe", "x", &[]).unwrap_err();
        assert!(
            matches!(&e, BadPage::NotJson(m) if m.contains("not a JSON object") && m.contains("(2 bytes)")),
            "{e}"
        );
        let e = parse_page(br#"{"y": []}"#, "x", &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the answer has no 'x' list; got text starting '{\"y\": []}' (9 bytes)"
        );
    }

    /// Error messages: every shape, empty parts skipped, control characters dropped, 200 characters.
    #[test]
    fn error_messages_at_their_limits() {
        assert_eq!(
            error_message(br#"{"errors":[{"title":"T"}]}"#).as_deref(),
            Some("T")
        );
        assert_eq!(
            error_message(br#"{"errors":[{"detail":"D"}]}"#).as_deref(),
            Some("D")
        );
        assert_eq!(error_message(br#"{"errors":[{"status":1}, 5]}"#), None);
        assert_eq!(error_message(br#"{"errors":[]}"#), None);
        assert_eq!(error_message(br#"{"other":1}"#), None);
        assert_eq!(
            error_message(br#"{"message":"a\nb"}"#).as_deref(),
            Some("ab")
        );
        let long = format!(r#"{{"message":"{}"}}"#, "é".repeat(300));
        assert_eq!(error_message(long.as_bytes()), Some("é".repeat(200)));
    }
}
