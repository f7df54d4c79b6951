use super::*;
use serde_json::json;

fn kinds() -> Kinds {
    Kinds::from_schema(&json!({"properties": {
        "id": {"type": "string"},
        "sentcnt": {"type": ["integer", "null"]},
        "value": {"type": ["number", "null"]},
        "birthday": {"type": ["string", "null"], "format": "date"},
        "udate": {"type": ["string", "null"], "format": "date-time", "airbyte_type": "timestamp_with_timezone"},
        "created_timestamp": {"type": ["string", "null"], "format": "date-time", "airbyte_type": "timestamp_without_timezone"},
        "outcomeId": {"type": ["string", "null"]},
        "mixed": {"anyOf": [{"type": "string"}, {"type": "number"}]},
        "links": {"type": ["object", "array", "null"]},
        "interests": {"type": ["array", "null"], "items": {"type": "string"}},
        "owner": {"type": ["object", "null"]},
        "isDisabled": {"type": ["boolean", "null"]},
        "_ac_originals": {"type": ["object", "null"]}
    }}))
}

fn typed(record: &str) -> (Value, usize) {
    let t = convert(&kinds(), record);
    let v: Value = serde_json::from_str(&t.text).expect("the converted record is JSON");
    (v, t.misfits)
}

#[test]
fn the_declared_kinds_come_from_the_schema() {
    let k = kinds();
    assert_eq!(k.get("sentcnt"), Some(Kind::Integer));
    assert_eq!(k.get("value"), Some(Kind::Number));
    assert_eq!(k.get("birthday"), Some(Kind::Date));
    assert_eq!(k.get("udate"), Some(Kind::DateTime { zoned: true }));
    assert_eq!(
        k.get("created_timestamp"),
        Some(Kind::DateTime { zoned: false })
    );
    assert_eq!(k.get("outcomeId"), Some(Kind::Text));
    assert_eq!(k.get("mixed"), None);
    assert_eq!(k.get("links"), None);
    assert_eq!(k.get(ORIGINALS), None);
}

#[test]
fn fitting_values_become_their_type_in_place() {
    let (v, misfits) = typed(
        r#"{"id":"7","sentcnt":"12","value":"945951.50","outcomeId":91,"udate":"2023-09-01T09:39:31-05:00","mixed":"x"}"#,
    );
    assert_eq!(misfits, 0);
    assert_eq!(
        v,
        json!({"id": "7", "sentcnt": 12, "value": 945951.50, "outcomeId": "91",
               "udate": "2023-09-01T09:39:31-05:00", "mixed": "x"})
    );
    // The number keeps its digits as sent (no float round trip).
    let t = convert(&kinds(), r#"{"value":"945951.50"}"#);
    assert_eq!(t.text, r#"{"value":945951.50}"#);
}

#[test]
fn a_record_that_already_fits_is_the_same_text() {
    let record = r#"{"id": "7", "sentcnt": 12, "udate": "2023-09-01T09:39:31Z", "birthday": null, "other": "12"}"#;
    let t = convert(&kinds(), record);
    assert!(matches!(t.text, Cow::Borrowed(_)), "{:?}", t.text);
    assert_eq!(t.text, record);
    assert_eq!(t.misfits, 0);
}

#[test]
fn each_kind_of_misfit_is_null_in_its_column_and_whole_in_the_originals() {
    let cases = [
        ("sentcnt", json!("")),
        ("sentcnt", json!("0.5")),
        ("sentcnt", json!("12a")),
        ("sentcnt", json!(true)),
        ("sentcnt", json!(1.5)),
        ("value", json!("")),
        ("value", json!("1,5")),
        ("value", json!("NaN")),
        ("birthday", json!("2023-02-30")),
        ("birthday", json!("2023-13-01")),
        ("birthday", json!("2023-9-01")),
        ("udate", json!("2023-09-01 09:39:31")),
        ("udate", json!("2023-09-01T25:00:00-05:00")),
        ("udate", json!("yesterday")),
        ("created_timestamp", json!("2023-09-01T09:39:31-05:00")),
        ("created_timestamp", json!("2023-02-29 10:00:00")),
    ];
    for (field, value) in cases {
        let record = json!({"id": "1", field: value}).to_string();
        let (v, misfits) = typed(&record);
        assert_eq!(misfits, 1, "{record}");
        assert_eq!(v[field], Value::Null, "{record}");
        assert_eq!(v[ORIGINALS], json!({field: value}), "{record}");
        assert_eq!(v["id"], "1");
    }
}

#[test]
fn the_values_that_fit_each_kind() {
    let fits = [
        ("sentcnt", json!("-3")),
        ("sentcnt", json!(0)),
        ("value", json!("1e3")),
        ("value", json!(-2.25)),
        ("birthday", json!("2024-02-29")),
        ("udate", json!("2021-04-16T15:08:25.783751329Z")),
        ("udate", json!("2023-09-01 09:39:31+0200")),
        ("udate", json!("2016-01-01T12:00:00-00:00")),
        ("udate", json!("2023-09-01T09:39-05:00")),
        ("created_timestamp", json!("2021-04-08 11:17:44")),
        ("created_timestamp", json!("2021-04-08T11:17:44.5")),
    ];
    for (field, value) in fits {
        let record = json!({field: value}).to_string();
        let (v, misfits) = typed(&record);
        assert_eq!(misfits, 0, "{record}: {v}");
        assert!(v.get(ORIGINALS).is_none(), "{record}");
        assert!(!v[field].is_null(), "{record}");
    }
}

#[test]
fn several_misfits_share_one_originals_column_and_the_order_of_fields_holds() {
    let t = convert(
        &kinds(),
        r#"{"z":"1","sentcnt":"","a\"b":2,"birthday":"2023-02-30","value":"3"}"#,
    );
    assert_eq!(t.misfits, 2);
    assert_eq!(
        t.text,
        r#"{"z":"1","sentcnt":null,"a\"b":2,"birthday":null,"value":3,"_ac_originals":{"sentcnt":"","birthday":"2023-02-30"}}"#
    );
}

#[test]
fn text_that_is_not_an_object_or_a_stream_without_kinds_is_left_alone() {
    for text in [r#"[1,2]"#, "not json", r#"{"sentcnt":"1"} trailing"#] {
        let t = convert(&kinds(), text);
        assert_eq!((t.text.as_ref(), t.misfits), (text, 0));
    }
    let t = convert(&Kinds::default(), r#"{"sentcnt":"1"}"#);
    assert_eq!(t.text, r#"{"sentcnt":"1"}"#);
}

#[test]
fn an_integer_too_large_for_64_bits_is_kept_whole() {
    let (v, misfits) = typed(r#"{"sentcnt":"123456789012345678901234"}"#);
    assert_eq!(misfits, 1);
    assert_eq!(v[ORIGINALS]["sentcnt"], "123456789012345678901234");
}

#[test]
fn a_multi_value_field_becomes_a_list_of_its_values() {
    for (sent, want) in [
        (json!("||Sports||Travel||"), json!(["Sports", "Travel"])),
        (json!("Sports"), json!(["Sports"])),
        (json!(""), json!([])),
        (json!(["Music"]), json!(["Music"])),
    ] {
        let (v, misfits) = typed(&json!({"interests": sent}).to_string());
        assert_eq!((v["interests"].clone(), misfits), (want, 0), "{sent}");
    }
    let (v, misfits) = typed(r#"{"interests":5}"#);
    assert_eq!((v["interests"].clone(), misfits), (Value::Null, 1));
    assert_eq!(kinds().get("interests"), Some(Kind::List));
}

#[test]
fn an_empty_php_array_is_an_empty_object_and_a_0_1_flag_a_boolean() {
    let (v, misfits) = typed(r#"{"owner":[ ],"isDisabled":1}"#);
    assert_eq!((v, misfits), (json!({"owner": {}, "isDisabled": true}), 0));
    let (v, misfits) = typed(r#"{"owner":{"id":"1"},"isDisabled":"0"}"#);
    assert_eq!(
        (v, misfits),
        (json!({"owner": {"id": "1"}, "isDisabled": false}), 0)
    );
    let (v, misfits) = typed(r#"{"isDisabled":false}"#);
    assert_eq!((v, misfits), (json!({"isDisabled": false}), 0));
    let (v, misfits) = typed(r#"{"owner":["x"],"isDisabled":2}"#);
    assert_eq!(misfits, 2);
    assert_eq!(v[ORIGINALS], json!({"owner": ["x"], "isDisabled": 2}));
}

#[test]
fn a_text_field_carries_any_value_sent_there_as_its_json_text() {
    let (v, misfits) =
        typed(r#"{"outcomeId":91,"id":["Email","Café visit"],"value":"1","owner":null}"#);
    assert_eq!(v["outcomeId"], "91");
    assert_eq!(
        v["id"], r#"["Email","Café visit"]"#,
        "a list, whole, as text"
    );
    let (v, _) = typed(r#"{"outcomeId":{"a":1},"id":true}"#);
    assert_eq!(v["outcomeId"], r#"{"a":1}"#);
    assert_eq!(v["id"], "true");
    assert_eq!(misfits, 0);
}
