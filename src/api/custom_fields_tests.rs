use super::*;

fn fields() -> Vec<Value> {
    vec![
        json!({"id": "1", "title": "Favorite Color", "type": "dropdown", "perstag": "FAVORITE_COLOR"}),
        json!({"id": "3", "title": "Interests", "type": "checkbox", "perstag": "INTERESTS"}),
        json!({"id": "4", "title": "Birthday", "type": "date", "perstag": "BIRTHDAY"}),
        json!({"id": 8, "title": "Last Demo", "type": "datetime", "perstag": ""}),
        json!({"id": "9", "title": "Odd", "type": "somethingnew"}),
        json!({"title": "no id"}),
    ]
}

#[test]
fn each_field_is_a_column_named_by_its_id_with_its_label_and_type() {
    let cols = contact_columns(&fields(), &Choice::All);
    let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "custom_field_1",
            "custom_field_3",
            "custom_field_4",
            "custom_field_8",
            "custom_field_9"
        ]
    );
    let by = |n: &str| {
        cols.iter()
            .find(|(c, _)| c == n)
            .map(|(_, s)| s.clone())
            .expect(n)
    };
    assert_eq!(by("custom_field_1")["title"], "Favorite Color");
    assert_eq!(by("custom_field_1")["type"], json!(["string", "null"]));
    assert!(by("custom_field_1")["description"]
        .as_str()
        .is_some_and(|d| d.contains("%FAVORITE_COLOR%")));
    assert_eq!(by("custom_field_3")["type"], json!(["array", "null"]));
    assert_eq!(by("custom_field_3")["items"]["type"], "string");
    assert_eq!(by("custom_field_4")["format"], "date");
    assert_eq!(by("custom_field_8")["format"], "date-time");
    assert_eq!(
        by("custom_field_9")["type"],
        json!(["string", "null"]),
        "an unknown type is text"
    );
}

#[test]
fn the_choice_takes_all_none_or_fields_by_id_or_tag() {
    assert!(contact_columns(&fields(), &Choice::Nothing).is_empty());
    let only = Choice::Only(vec!["4".into(), "%interests%".into()]);
    let names: Vec<String> = contact_columns(&fields(), &only)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["custom_field_3", "custom_field_4"]);
}

#[test]
fn a_renamed_field_keeps_its_column() {
    let mut renamed = fields();
    renamed[0]["title"] = json!("Colour");
    renamed[0]["perstag"] = json!("COLOUR");
    let before = contact_columns(&fields(), &Choice::All);
    let after = contact_columns(&renamed, &Choice::All);
    assert_eq!(before[0].0, after[0].0);
    assert_eq!(after[0].1["title"], "Colour");
}

#[test]
fn a_page_s_field_values_are_attached_to_their_contacts() {
    let fv = [
        r#"{"contact":"5","field":"1","value":"Red","id":"1"}"#,
        r#"{"contact":"5","field":"3","value":"||Sports||Travel||","id":"2"}"#,
        r#"{"contact":6,"field":4,"value":"2024-02-29","id":"3"}"#,
        r#"not json"#,
    ];
    let by = values_by_contact(fv.iter().copied());
    let ids = vec!["1".to_string(), "3".to_string(), "4".to_string()];
    let five = attach(r#"{"id":"5","email":"a@b"}"#, &ids, by.get("5")).expect("object");
    assert_eq!(
        five,
        r#"{"id":"5","email":"a@b","custom_field_1":"Red","custom_field_3":"||Sports||Travel||","custom_field_4":null}"#
    );
    let six: Value =
        serde_json::from_str(&attach(r#"{"id":"6"}"#, &ids, by.get("6")).expect("object"))
            .expect("JSON");
    assert_eq!(six["custom_field_4"], "2024-02-29");
    assert_eq!(six["custom_field_1"], Value::Null);
    assert_eq!(
        attach("{}", &ids[..1], None).as_deref(),
        Some(r#"{"custom_field_1":null}"#)
    );
    assert_eq!(attach("[1]", &ids, None), None);
}

#[test]
fn the_declared_fields_are_read_back_from_a_schema() {
    let schema = with_columns(
        json!({"properties": {"id": {}, "custom_field_x": {}}}),
        &contact_columns(&fields(), &Choice::All),
    );
    assert_eq!(declared_fields(&schema), ["1", "3", "4", "8", "9"]);
}

#[test]
fn a_custom_object_s_fields_are_columns_filled_from_its_own_list() {
    let definition = json!({"fields": [
        {"id": "plan", "type": "text", "labels": {"singular": "Plan"}},
        {"id": "seats", "type": "number", "labels": {"singular": "Seats"}},
        {"id": "renewal-date", "type": "date", "labels": {"singular": "Renewal Date"}},
        {"id": "", "type": "text"}
    ]});
    let cols = object_columns(&definition);
    let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "custom_field_plan",
            "custom_field_seats",
            "custom_field_renewal-date"
        ]
    );
    assert_eq!(cols[1].1["type"], json!(["number", "null"]));
    assert_eq!(cols[2].1["format"], "date");
    assert_eq!(cols[2].1["title"], "Renewal Date");
    let schema = with_columns(json!({"properties": {"id": {}}}), &cols);
    let ids = declared_object_fields(&schema);
    assert_eq!(ids, ["plan", "renewal-date", "seats"]);
    let record = r#"{"id":"u1","fields":[{"id":"plan","value":"Pro"},{"id":"seats","value":12}]}"#;
    let v: Value =
        serde_json::from_str(&attach_own_fields(record, &ids).expect("object")).expect("JSON");
    assert_eq!(v["custom_field_plan"], "Pro");
    assert_eq!(v["custom_field_seats"], 12);
    assert_eq!(v["custom_field_renewal-date"], Value::Null);
    assert_eq!(v["fields"][0]["id"], "plan", "the list stays");
}
