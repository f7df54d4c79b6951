use super::*;

fn contacts() -> &'static Owner {
    owner_of("contacts").expect("contacts have custom fields")
}

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
    let cols = columns(contacts(), &fields(), &Choice::All);
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
    assert!(columns(contacts(), &fields(), &Choice::Nothing).is_empty());
    let only = Choice::Only(vec!["4".into(), "%interests%".into()]);
    let names: Vec<String> = columns(contacts(), &fields(), &only)
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
    let before = columns(contacts(), &fields(), &Choice::All);
    let after = columns(contacts(), &renamed, &Choice::All);
    assert_eq!(before[0].0, after[0].0);
    assert_eq!(after[0].1["title"], "Colour");
}

#[test]
fn the_declared_fields_are_read_back_from_a_schema() {
    let schema = with_columns(
        json!({"properties": {"id": {}, "custom_field_x": {}}}),
        &columns(contacts(), &fields(), &Choice::All),
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
}

#[test]
fn deals_and_accounts_name_their_fields_their_own_way() {
    let deals = owner_of("deals").expect("deals");
    let defs = [
        json!({"id": "1", "fieldLabel": "Tier", "fieldType": "dropdown", "personalization": "%DEAL_TIER%"}),
        json!({"id": 2, "fieldLabel": "Options", "fieldType": "multiselect", "personalization": ""}),
        json!({"id": "3", "fieldLabel": "Amount", "fieldType": "currency"}),
    ];
    let cols = columns(deals, &defs, &Choice::All);
    assert_eq!(cols.len(), 3);
    assert_eq!(cols[0].1["title"], "Tier");
    assert!(cols[0].1["description"]
        .as_str()
        .is_some_and(|d| d.ends_with("personalization tag %DEAL_TIER%")));
    assert_eq!(cols[1].0, "custom_field_2");
    assert_eq!(cols[1].1["items"]["type"], "string");
    assert_eq!(cols[2].1["type"], json!(["number", "null"]));
    // A choice scoped to one owner takes nothing of another.
    let only = Choice::Only(vec![
        "deals.DEAL_TIER".into(),
        "contacts.3".into(),
        "3".into(),
    ]);
    let names: Vec<String> = columns(deals, &defs, &only)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["custom_field_1", "custom_field_3"]);
    let only_contacts = Choice::Only(vec!["contacts.1".into()]);
    assert!(columns(deals, &defs, &only_contacts).is_empty());
    assert_eq!(
        columns(contacts(), &fields(), &only_contacts)[0].0,
        "custom_field_1"
    );
}

#[test]
fn contacts_values_ride_as_the_stream_table_says() {
    let row = crate::api::streams::fixed_streams()
        .into_iter()
        .find_map(|d| d.rides_on.filter(|s| s.include == contacts().values));
    assert_eq!(row, Some(contacts().sideload()));
    for owner in OWNERS {
        let parent = crate::api::streams::fixed_streams()
            .into_iter()
            .any(|d| d.name == owner.stream);
        assert!(parent, "{} is a stream", owner.stream);
        let values = crate::api::streams::fixed_streams()
            .into_iter()
            .any(|d| d.path == owner.values && d.list_key == owner.values);
        assert!(values, "{} is a list of its own", owner.values);
    }
}

#[test]
fn a_name_with_a_dot_is_scoped_only_by_an_owner() {
    let defs = [json!({"id": "5", "title": "Source", "type": "text", "perstag": "LEAD.SOURCE"})];
    let only = Choice::Only(vec!["lead.source".into()]);
    assert_eq!(
        columns(contacts(), &defs, &only).len(),
        1,
        "lead is no owner: the whole name is the tag"
    );
}
