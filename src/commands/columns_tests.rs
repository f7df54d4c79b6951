use super::*;
use serde_json::json;

#[test]
fn a_read_fills_the_columns_its_catalog_declares() {
    let catalog = json!({"streams": [
        {"stream": {"name": "tags", "json_schema": {"properties": {"custom_field_1": {}}}}},
        {"stream": {"name": "contacts", "json_schema": {"properties": {
            "id": {"type": "string"}, "custom_field_3": {"type": ["string", "null"]}}}}}
    ]})
    .to_string();
    let schema = configured(Some(&catalog)).expect("contacts declare a column");
    assert_eq!(declared_fields(&schema), ["3"]);
    let plain = json!({"streams": [{"stream": {"name": "contacts", "json_schema": {"properties": {"id": {}}}}}]});
    assert_eq!(configured(Some(&plain.to_string())), None);
    assert_eq!(configured(None), None);
    assert_eq!(configured(Some("not json")), None);
}

#[test]
fn discovery_declares_a_column_per_chosen_field_of_every_page() {
    use crate::test_support::reads::client_config as client_config_with;
    use crate::test_support::{ok, query, Fake};
    let fields = |path: &str| {
        let offset: u64 = query(path, "offset")
            .and_then(|o| o.parse().ok())
            .unwrap_or(0);
        let ids: Vec<u64> = (offset + 1..=130).take(100).collect();
        let recs: Vec<Value> = ids
            .iter()
            .map(|i| json!({"id": i.to_string(), "title": format!("Field {i}"), "type": if i % 2 == 0 { "date" } else { "text" }, "perstag": format!("F{i}")}))
            .collect();
        ok(json!({"fields": recs, "meta": {"total": "130"}}))
    };
    let mut fake = Fake::new(1_000_000, fields);
    let cfg = client_config_with(json!({}));
    let mut client = crate::engine::Client::new(&mut fake, &cfg);
    let (stream, schema) = discovered(&mut client, &cfg).expect("columns");
    assert_eq!(stream, "contacts");
    let props = &schema["properties"];
    assert_eq!(props["custom_field_130"]["title"], "Field 130");
    assert_eq!(props["custom_field_130"]["format"], "date");
    assert_eq!(props["custom_field_1"]["type"], json!(["string", "null"]));
    assert!(props["sentcnt"].is_object(), "the fixed fields stay");
    assert_eq!(declared_fields(&schema).len(), 130);
    drop(client);
    assert_eq!(fake.starts.len(), 2, "two pages of fields");

    let only = client_config_with(json!({"custom_field_columns": ["F2", "3"]}));
    let mut fake = Fake::new(1_000_000, fields);
    let mut client = crate::engine::Client::new(&mut fake, &only);
    let (_, schema) = discovered(&mut client, &only).expect("columns");
    assert_eq!(declared_fields(&schema), ["2", "3"]);
    let none = client_config_with(json!({"custom_field_columns": "none"}));
    let mut fake = Fake::new(1_000_000, fields);
    let mut client = crate::engine::Client::new(&mut fake, &none);
    assert_eq!(discovered(&mut client, &none), None);
    drop(client);
    assert!(
        fake.starts.is_empty(),
        "no request when the columns are off"
    );
}
