//! Singer catalog metadata: which properties are automatic.

use crate::singer::singer_catalog;
use serde_json::json;

/// `id` and the replication key are `automatic` (a target always gets them); other properties
/// are `available`; a stream without a cursor has only `id` automatic.
#[test]
fn id_and_the_replication_key_are_automatic() {
    let airbyte = json!({"catalog": {"streams": [
        {"name": "deals", "default_cursor_field": ["mdate"],
         "json_schema": {"properties": {"id": {}, "mdate": {}, "title": {}}}},
        {"name": "tags", "json_schema": {"properties": {"id": {}, "mdate": {}}}}
    ]}});
    let c = singer_catalog(&airbyte);
    let inclusion = |stream: usize, prop: &str| {
        c["streams"][stream]["metadata"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["breadcrumb"] == json!(["properties", prop]))
            .map(|m| m["metadata"]["inclusion"].clone())
            .unwrap()
    };
    assert_eq!(inclusion(0, "id"), "automatic");
    assert_eq!(inclusion(0, "mdate"), "automatic");
    assert_eq!(inclusion(0, "title"), "available");
    assert_eq!(inclusion(1, "id"), "automatic");
    assert_eq!(inclusion(1, "mdate"), "available");
    assert_eq!(c["streams"][0]["replication_key"], "mdate");
    assert_eq!(c["streams"][1]["replication_method"], "FULL_TABLE");
}
