use super::*;
use crate::test_support::reads::client_config as client_config_with;
use crate::test_support::{ok, query, Fake};
use serde_json::json;

#[test]
fn a_read_fills_the_columns_its_catalog_declares() {
    let catalog = json!({"streams": [
        {"stream": {"name": "tags", "json_schema": {"properties": {"custom_field_1": {}}}}},
        {"stream": {"name": "contacts", "json_schema": {"properties": {
            "id": {"type": "string"}, "custom_field_3": {"type": ["string", "null"]}}}}},
        {"stream": {"name": "deals", "json_schema": {"properties": {
            "custom_field_1": {"type": ["number", "null"]}, "custom_field_2": {}}}}},
        {"stream": {"name": "accounts", "json_schema": {"properties": {"id": {}}}}}
    ]})
    .to_string();
    let got: Vec<(String, Vec<String>)> = configured(Some(&catalog))
        .into_iter()
        .map(|(s, schema)| (s, declared_fields(&schema)))
        .collect();
    assert_eq!(
        got,
        [
            ("contacts".to_string(), vec!["3".to_string()]),
            ("deals".to_string(), vec!["1".to_string(), "2".to_string()])
        ]
    );
    let plain = json!({"streams": [{"stream": {"name": "contacts", "json_schema": {"properties": {"id": {}}}}}]});
    assert!(configured(Some(&plain.to_string())).is_empty());
    assert!(configured(None).is_empty());
    assert!(configured(Some("not json")).is_empty());
}

/// 130 contact fields (two pages), three deal fields, and accounts without the feature (403).
fn account(path: &str) -> Result<crate::engine::HttpResponse, String> {
    let offset: u64 = query(path, "offset")
        .and_then(|o| o.parse().ok())
        .unwrap_or(0);
    if path.contains("/fields") {
        let ids: Vec<u64> = (offset + 1..=130).take(100).collect();
        let recs: Vec<Value> = ids
            .iter()
            .map(|i| json!({"id": i.to_string(), "title": format!("Field {i}"), "type": if i % 2 == 0 { "date" } else { "text" }, "perstag": format!("F{i}")}))
            .collect();
        return ok(json!({"fields": recs, "meta": {"total": "130"}}));
    }
    if path.contains("/dealCustomFieldMeta") {
        return ok(json!({"dealCustomFieldMeta": [
            {"id": "1", "fieldLabel": "Tier", "fieldType": "dropdown", "personalization": "%DEAL_TIER%"},
            {"id": "2", "fieldLabel": "Seats", "fieldType": "number", "personalization": "%DEAL_SEATS%"},
            {"id": "3", "fieldLabel": "Topics", "fieldType": "multiselect", "personalization": ""}
        ], "meta": {"total": 3}}));
    }
    Ok(crate::engine::HttpResponse {
        status: 403,
        headers: vec![],
        body: br#"{"message":"You do not have permission"}"#.to_vec(),
    })
}

fn discover_with(config: Value) -> (Vec<(String, Value)>, usize) {
    let cfg = client_config_with(config);
    let mut fake = Fake::new(1_000_000, account);
    let mut client = crate::engine::Client::new(&mut fake, &cfg);
    let found = discovered(&mut client, &cfg);
    drop(client);
    (found, fake.starts.len())
}

#[test]
fn discovery_declares_a_column_per_chosen_field_of_every_owner() {
    let (found, requests) = discover_with(json!({"max_attempts": 1}));
    let names: Vec<&str> = found.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        names,
        ["contacts", "deals"],
        "accounts' fields cannot be read"
    );
    let props = &found[0].1["properties"];
    assert_eq!(props["custom_field_130"]["title"], "Field 130");
    assert_eq!(props["custom_field_130"]["format"], "date");
    assert_eq!(props["custom_field_1"]["type"], json!(["string", "null"]));
    assert!(props["sentcnt"].is_object(), "the fixed fields stay");
    assert_eq!(declared_fields(&found[0].1).len(), 130);
    let deals = &found[1].1["properties"];
    assert_eq!(deals["custom_field_1"]["title"], "Tier");
    assert_eq!(deals["custom_field_2"]["type"], json!(["number", "null"]));
    assert_eq!(deals["custom_field_3"]["items"]["type"], "string");
    assert!(deals["value"].is_object(), "the fixed fields stay");
    assert_eq!(
        requests, 4,
        "two pages of contact fields, one of deal fields, one refused"
    );

    let (found, _) =
        discover_with(json!({"custom_field_columns": ["F2", "3", "deals.%DEAL_SEATS%"]}));
    let got: Vec<(String, Vec<String>)> = found
        .iter()
        .map(|(s, schema)| (s.clone(), declared_fields(schema)))
        .collect();
    assert_eq!(
        got,
        [
            (
                "contacts".to_string(),
                vec!["2".to_string(), "3".to_string()]
            ),
            ("deals".to_string(), vec!["2".to_string(), "3".to_string()])
        ]
    );
    let (found, requests) = discover_with(json!({"custom_field_columns": "none"}));
    assert!(found.is_empty());
    assert_eq!(requests, 0, "no request when the columns are off");
}
