use super::*;
use crate::api::custom_fields::owner_of;

fn table(stream: &str, fields: &[&str], records: &[&str]) -> ValueTable {
    let fields: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
    let mut t = ValueTable::new(owner_of(stream).expect("an owner"), &fields);
    for r in records {
        t.add(r);
    }
    t
}

#[test]
fn a_page_s_field_values_are_attached_to_their_contacts() {
    let t = table(
        "contacts",
        &["1", "3", "4"],
        &[
            r#"{"contact":"5","field":"1","value":"Red","id":"1"}"#,
            r#"{"contact":"5","field":"3","value":"||Sports||Travel||","id":"2"}"#,
            r#"{"contact":6,"field":4,"value":"2024-02-29","id":"3"}"#,
            r#"{"contact":6,"field":99,"value":"not declared","id":"4"}"#,
            r#"not json"#,
            r#"{"field":"1","value":"no contact"}"#,
        ],
    );
    assert_eq!((t.values, t.unreadable), (3, 2));
    assert_eq!(
        t.apply(r#"{"id":"5","email":"a@b"}"#.into(), "5"),
        r#"{"id":"5","email":"a@b","custom_field_1":"Red","custom_field_3":"||Sports||Travel||","custom_field_4":null}"#
    );
    let six: Value = serde_json::from_str(&t.apply(r#"{"id":"6"}"#.into(), "6")).expect("JSON");
    assert_eq!(six["custom_field_4"], "2024-02-29");
    assert_eq!(six["custom_field_1"], Value::Null);
    assert_eq!(
        t.apply("[1]".into(), "5"),
        "[1]",
        "not an object: as it was"
    );
    let ids = vec!["1".to_string()];
    assert_eq!(
        attach("{}", &ids, &[]).as_deref(),
        Some(r#"{"custom_field_1":null}"#)
    );
}

#[test]
fn deal_and_account_values_come_by_their_own_keys_as_sent() {
    let deals = table(
        "deals",
        &["1", "2", "5"],
        &[
            r#"{"id":"3","dealCustomFieldMetumId":1,"dealId":1,"customFieldId":1,"fieldValue":"test title"}"#,
            r#"{"id":"4","dealId":1,"customFieldId":2,"fieldValue":["Option 1","Option 3"]}"#,
            r#"{"id":"5","dealCustomFieldMetumId":5,"dealId":"1","fieldValue":125000,"fieldCurrency":"USD"}"#,
            r#"{"id":"6","dealId":2,"customFieldId":1,"fieldValue":"old"}"#,
            r#"{"id":"7","dealId":2,"customFieldId":1,"fieldValue":"new"}"#,
        ],
    );
    let one: Value = serde_json::from_str(&deals.apply(r#"{"id":"1"}"#.into(), "1")).expect("JSON");
    assert_eq!(one["custom_field_1"], "test title");
    assert_eq!(
        one["custom_field_2"],
        serde_json::json!(["Option 1", "Option 3"])
    );
    assert_eq!(
        one["custom_field_5"], 125000,
        "the field id from the metum id"
    );
    let two: Value = serde_json::from_str(&deals.apply(r#"{"id":"2"}"#.into(), "2")).expect("JSON");
    assert_eq!(
        two["custom_field_1"], "new",
        "a later value replaces an earlier one"
    );
    assert_eq!(deals.values, 4);
    let accounts = table(
        "accounts",
        &["1"],
        &[r#"{"id":"1","customerAccountId":"9","accountCustomFieldMetumId":1,"fieldValue":"x"}"#],
    );
    assert!(accounts
        .apply(r#"{"id":"9"}"#.into(), "9")
        .ends_with(r#""custom_field_1":"x"}"#));
}

#[test]
fn a_custom_object_record_fills_its_columns_from_its_own_list() {
    let ids: Vec<String> = ["plan", "renewal-date", "seats"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let record = r#"{"id":"u1","fields":[{"id":"plan","value":"Pro"},{"id":"seats","value":12}]}"#;
    let v: Value =
        serde_json::from_str(&attach_own_fields(record, &ids).expect("object")).expect("JSON");
    assert_eq!(v["custom_field_plan"], "Pro");
    assert_eq!(v["custom_field_seats"], 12);
    assert_eq!(v["custom_field_renewal-date"], Value::Null);
    assert_eq!(v["fields"][0]["id"], "plan", "the list stays");
}
