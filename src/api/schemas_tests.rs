use super::*;
use crate::api::streams::fixed_streams;

#[test]
fn every_fixed_stream_has_a_schema_with_an_id() {
    let all = all();
    for d in fixed_streams() {
        let s = all
            .get(&d.name)
            .unwrap_or_else(|| panic!("no schema for {}", d.name));
        assert_eq!(s["type"], "object", "{}", d.name);
        assert!(s["properties"]["id"].is_object(), "{} has no id", d.name);
        // Every record the API sends has an id; a record without one is not a record.
        assert_eq!(s["required"], json!(["id"]), "{} must require id", d.name);
        if let Some(c) = &d.cursor {
            assert!(
                s["properties"][c].is_object(),
                "{} lacks its cursor {c}",
                d.name
            );
        }
    }
    assert_eq!(
        all.len(),
        fixed_streams().len(),
        "schemas.json has entries for unknown streams"
    );
}

#[test]
fn custom_object_schema_from_definition() {
    let def = json!({"fields": [{"id": "n", "type": "number"}, {"id": "t", "type": "text"}]});
    let s = custom_object_schema(&def);
    assert_eq!(s["required"], json!(["id"]));
    assert_eq!(
        s["properties"]["fields"]["items"]["properties"]["id"]["enum"],
        json!(["n", "t"])
    );
    assert_eq!(
        s["properties"]["fields"]["items"]["properties"]["value"]["anyOf"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}
