use super::*;
use serde_json::Value;

#[test]
fn a_fixed_stream_is_typed_by_its_schema_and_its_misfits_are_counted_once() {
    let mut t = Typing::default();
    let out = t.convert(
        "contacts",
        r#"{"id":"1","sentcnt":"4","udate":"2023-09-01T09:39:31-05:00"}"#,
    );
    let v: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["sentcnt"], 4);
    assert_eq!(t.report("contacts"), None);
    let out = t.convert(
        "contacts",
        r#"{"id":"2","sentcnt":"","bounced_hard":"0.5"}"#,
    );
    let v: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v[ORIGINALS]["bounced_hard"], "0.5");
    let warning = t.report("contacts").expect("a warning");
    assert!(
        warning.starts_with("contacts: 2 values did not fit"),
        "{warning}"
    );
    assert!(warning.contains(ORIGINALS), "{warning}");
    assert_eq!(t.report("contacts"), None, "reported once");
    assert_eq!(t.report("deals"), None, "a stream with no record");
}

#[test]
fn a_stream_without_a_fixed_schema_passes_through() {
    let mut t = Typing::default();
    let record = r#"{"id":"1","fields":[{"id":"plan","value":"7"}],"n":"5"}"#;
    assert_eq!(t.convert("custom_object_plans", record), record);
}

#[test]
fn a_declared_custom_object_gets_typed_columns_from_its_fields() {
    let definition = serde_json::json!({"fields": [
        {"id": "seats", "type": "number", "labels": {"singular": "Seats"}},
        {"id": "renewal-date", "type": "date", "labels": {"singular": "Renewal Date"}}
    ]});
    let schema = crate::api::schemas::custom_object_schema(&definition);
    let mut t = Typing::default();
    t.declare("custom_object_subscription", &schema);
    let out = t.convert(
        "custom_object_subscription",
        r#"{"id":"u1","fields":[{"id":"seats","value":"12"},{"id":"renewal-date","value":"2024-02-30"}]}"#,
    );
    let v: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["custom_field_seats"], 12);
    assert_eq!(v["custom_field_renewal-date"], Value::Null);
    assert_eq!(v[ORIGINALS]["custom_field_renewal-date"], "2024-02-30");
    assert!(t.report("custom_object_subscription").is_some());
}
