use super::*;
use serde_json::Value;
use std::borrow::Cow;

/// Primary keys come out as strings: a top-level numeric `id` is quoted; string, null, nested and
/// look-alike ids are left as they are, and nothing else in the text changes.
#[test]
fn numeric_ids_become_strings() {
    for (text, want) in [
        (r#"{"id":333}"#, r#"{"id":"333"}"#),
        (
            r#"{"name": "x", "id" : 12 , "n": 5}"#,
            r#"{"name": "x", "id" : "12" , "n": 5}"#,
        ),
        (r#"{"id":-1.5e3}"#, r#"{"id":"-1.5e3"}"#),
        (
            r#"{"links": {"id": 7}, "s": "\"id\": 9", "id": 18446744073709551616}"#,
            r#"{"links": {"id": 7}, "s": "\"id\": 9", "id": "18446744073709551616"}"#,
        ),
        (
            r#"{"a": [{"id": 1}], "id": "4"}"#,
            r#"{"a": [{"id": 1}], "id": "4"}"#,
        ),
        (r#"{"x": "id", "id": null}"#, r#"{"x": "id", "id": null}"#),
        (r#"{"x": 1}"#, r#"{"x": 1}"#),
        (r#"{"x": "\\", "id": 2}"#, r#"{"x": "\\", "id": "2"}"#),
    ] {
        let got = string_id_raw(text);
        assert_eq!(got, want, "{text}");
        let parsed: Value = serde_json::from_str(&got).unwrap();
        assert!(!parsed["id"].is_number(), "{got}");
        assert_eq!(matches!(got, Cow::Borrowed(_)), text == want, "{text}");
    }
}

/// A record's id is found by scanning, so records serde_json will not take apart (a lone
/// surrogate in any string, a number out of range) keep theirs; ids of other types are "".
#[test]
fn ids_of_records_serde_json_refuses() {
    let id = |t: &str| record_id(&serde_json::value::RawValue::from_string(t.into()).unwrap());
    assert_eq!(id(r#"{"s": "\ud800", "id": "7"}"#), "7");
    assert_eq!(id(r#"{"n": 1e400, "id": 8}"#), "8");
    assert_eq!(id(r#"{"id": "a\"b"}"#), "a\"b");
    assert_eq!(id(r#"{"x": {"id": "1"}, "id" : -3.5}"#), "-3.5");
    for none in [
        r#"{"id": null}"#,
        r#"{"id": {"a": 1}}"#,
        r#"{"id": [1]}"#,
        r#"{"x": 1}"#,
        r#"{"id": true}"#,
    ] {
        assert_eq!(id(none), "", "{none}");
    }
}
