//! JSON schemas of the streams: the fixed ones live in `schemas.json` (one entry per stream,
//! reviewed against what the API sends), custom objects are built from their schema definitions.

use crate::api::custom_fields::{object_columns, with_columns};
use crate::rules::values::ORIGINALS;
use serde_json::{json, Map, Value};

/// The schema file, embedded.
const SCHEMAS: &str = include_str!("schemas.json");

/// All fixed-stream schemas, by stream name.
pub(crate) fn all() -> Map<String, Value> {
    match serde_json::from_str::<Value>(SCHEMAS) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// The schema of a fixed stream; a permissive object schema if the stream has none (a test
/// guarantees every stream has one).
pub(crate) fn schema_for(stream: &str) -> Value {
    all().remove(stream).unwrap_or_else(|| json!({"type": "object", "additionalProperties": true, "required": ["id"], "properties": {"id": {"type": "string"}}}))
}

/// JSON schema types for a custom object field type.
fn custom_field_type(kind: &str) -> Value {
    match kind {
        "number" | "currency" => json!(["number", "null"]),
        "boolean" => json!(["boolean", "null"]),
        "multiselect" => json!(["array", "null"]),
        _ => json!(["string", "null"]),
    }
}

/// The record schema of a custom object, from its schema definition (`customObjects/schemas`).
/// Records keep the API's shape (`fields` is a list of `{id, value}`); the field ids and the value
/// types come from the definition.
pub(crate) fn custom_object_schema(definition: &Value) -> Value {
    let fields = definition
        .get("fields")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let ids: Vec<Value> = fields.iter().filter_map(|f| f.get("id").cloned()).collect();
    let mut types: Vec<Value> = fields
        .iter()
        .map(|f| custom_field_type(f.get("type").and_then(Value::as_str).unwrap_or("text")))
        .collect();
    types.sort_by_key(|t| t.to_string());
    types.dedup();
    let value_schema = if types.is_empty() {
        json!({})
    } else {
        json!({"anyOf": types.iter().map(|t| json!({"type": t})).collect::<Vec<_>>()})
    };
    let schema = json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": true,
        "required": ["id"],
        "properties": {
            "id": {"type": "string"},
            "externalId": {"type": ["string", "null"]},
            "schemaId": {"type": ["string", "null"]},
            "fields": {"type": ["array", "null"], "items": {"type": "object", "additionalProperties": true,
                "properties": {"id": {"type": "string", "enum": ids}, "value": value_schema}}},
            "relationships": {"type": ["object", "null"], "additionalProperties": {"type": ["array", "null"], "items": {"type": "string"}}},
            "createdTimestamp": {"type": ["string", "null"], "format": "date-time", "airbyte_type": "timestamp_with_timezone"},
            "updatedTimestamp": {"type": ["string", "null"], "format": "date-time", "airbyte_type": "timestamp_with_timezone"},
            (ORIGINALS): {"type": ["object", "null"], "additionalProperties": true,
                "description": "The values of this record that did not fit their declared type, whole, as the API sent them (field name to value); their columns are null."}
        }
    });
    // Each field also as a column of its own (the `fields` list stays as the API sends it).
    with_columns(schema, &object_columns(definition))
}

#[cfg(test)]
#[path = "schemas_tests.rs"]
mod tests;
