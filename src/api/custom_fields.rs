//! Custom fields as columns: a contact's field values (the `fieldValues` its page carries) become
//! top-level columns, one per custom field of the account, named from the field's id (which never
//! changes; a label can) and typed by the field's type.

use serde_json::{json, Map, Value};

/// A custom field column's name: this prefix and the field's id.
pub(crate) const COLUMN_PREFIX: &str = "custom_field_";

/// The answer key of the field values a page carries (`include=fieldValues`).
pub(crate) const FIELD_VALUES: &str = "fieldValues";

/// The field values' sideload, from the stream table: the row that rides on its parent with
/// `include=fieldValues`. The parent is the stream whose records carry the columns.
pub(crate) fn field_values_sideload() -> Option<crate::api::streams::Sideload> {
    crate::api::streams::fixed_streams()
        .into_iter()
        .find_map(|d| d.rides_on.filter(|s| s.include == FIELD_VALUES))
}

/// The stream whose records carry custom field columns (contacts, by the stream table).
pub(crate) fn columns_stream() -> &'static str {
    field_values_sideload().map_or("", |s| s.parent)
}

/// The column of the field with this id.
pub(crate) fn column(id: &str) -> String {
    format!("{COLUMN_PREFIX}{id}")
}

/// The field id of a custom field column, if `name` is one.
pub(crate) fn field_of(name: &str) -> Option<&str> {
    name.strip_prefix(COLUMN_PREFIX)
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

/// The JSON schema of a column for an ActiveCampaign field type (contacts: text, textarea, date,
/// datetime, dropdown, radio, checkbox, listbox, hidden; deals and accounts add multiselect,
/// number, currency). Multi-value types are lists of strings; an unknown type is a string.
pub(crate) fn type_schema(kind: &str) -> Value {
    match kind {
        "date" => json!({"type": ["string", "null"], "format": "date"}),
        "datetime" => json!({"type": ["string", "null"], "format": "date-time",
            "airbyte_type": "timestamp_with_timezone"}),
        "checkbox" | "listbox" | "multiselect" => {
            json!({"type": ["array", "null"], "items": {"type": "string"}})
        }
        "number" | "currency" => json!({"type": ["number", "null"]}),
        _ => json!({"type": ["string", "null"]}),
    }
}

/// Which custom fields become columns (config `custom_field_columns`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Choice {
    /// Every field of the account (the default).
    All,
    /// None: the records keep the API's shape.
    Nothing,
    /// The fields named here, by id or personalization tag (without `%`, any case).
    Only(Vec<String>),
}

impl Choice {
    /// Whether the field with this id and personalization tag is chosen.
    fn takes(&self, id: &str, tag: &str) -> bool {
        match self {
            Choice::All => true,
            Choice::Nothing => false,
            Choice::Only(names) => names.iter().any(|n| {
                n == id || (!tag.is_empty() && n.trim_matches('%').eq_ignore_ascii_case(tag))
            }),
        }
    }
}

/// The columns of a contact's custom fields, from the `/fields` records: (name, schema), in the
/// fields' order. The schema states the label (`title`), the id, the type and the tag.
pub(crate) fn contact_columns(fields: &[Value], choice: &Choice) -> Vec<(String, Value)> {
    fields
        .iter()
        .filter_map(|f| {
            let id = match &f["id"] {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return None,
            };
            let kind = f["type"].as_str().unwrap_or("");
            let tag = f["perstag"].as_str().unwrap_or("");
            if field_of(&column(&id)).is_none() || !choice.takes(&id, tag) {
                return None;
            }
            let label = f["title"].as_str().unwrap_or("");
            let mut schema = type_schema(kind);
            schema["title"] = json!(label);
            schema["description"] = json!(format!(
                "Custom field {id} ({}){}",
                if kind.is_empty() { "text" } else { kind },
                if tag.is_empty() {
                    String::new()
                } else {
                    format!(", personalization tag %{tag}%")
                }
            ));
            Some((column(&id), schema))
        })
        .collect()
}

/// A stream schema with these columns added to its properties.
pub(crate) fn with_columns(mut schema: Value, columns: &[(String, Value)]) -> Value {
    if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        for (name, s) in columns {
            props.insert(name.clone(), s.clone());
        }
    }
    schema
}

/// The columns of a custom object's fields, from its schema definition (`fields`: id, type,
/// `labels.singular`): the ids are the object's own, fixed at creation.
pub(crate) fn object_columns(definition: &Value) -> Vec<(String, Value)> {
    definition["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| {
            let id = f["id"].as_str().filter(|id| !id.is_empty())?;
            let kind = f["type"].as_str().unwrap_or("text");
            let mut schema = type_schema(kind);
            schema["title"] = f["labels"]["singular"].clone();
            schema["description"] = json!(format!("Custom object field {id} ({kind})"));
            Some((column(id), schema))
        })
        .collect()
}

/// The field ids of the columns a custom object's schema declares (any id, not only digits).
pub(crate) fn declared_object_fields(schema: &Value) -> Vec<String> {
    schema["properties"]
        .as_object()
        .map(|p| {
            p.keys()
                .filter_map(|k| k.strip_prefix(COLUMN_PREFIX))
                .filter(|id| !id.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// A custom object record's text with its columns: each declared field's value from the
/// record's own `fields` list (`[{"id": "plan", "value": "Pro"}]`), null where it has none.
pub(crate) fn attach_own_fields(record: &str, fields: &[String]) -> Option<String> {
    let v: Value = serde_json::from_str(record).ok()?;
    let mut values = Map::new();
    for f in v["fields"].as_array().into_iter().flatten() {
        if let Some(id) = f["id"].as_str() {
            values.insert(id.to_string(), f["value"].clone());
        }
    }
    attach(record, fields, Some(&Value::Object(values)))
}

/// The field ids a stream schema declares columns for (a configured catalog's contacts schema).
pub(crate) fn declared_fields(schema: &Value) -> Vec<String> {
    schema["properties"]
        .as_object()
        .map(|p| {
            p.keys()
                .filter_map(|k| field_of(k))
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// Each contact's field values on a page (contact id → field id → value as sent), from the
/// `fieldValues` records the page carries (`include=fieldValues`).
pub(crate) fn values_by_contact<'a>(
    field_values: impl Iterator<Item = &'a str>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for text in field_values {
        let Ok(fv) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        let (Some(contact), Some(field)) = (id_text(&fv["contact"]), id_text(&fv["field"])) else {
            continue;
        };
        let of_contact = out.entry(contact).or_insert_with(|| json!({}));
        of_contact[field] = fv["value"].clone();
    }
    out
}

/// The custom field columns of one page's contacts: the declared fields and each contact's values
/// on the page. Memory is one page's field values.
pub(crate) struct PageColumns<'a> {
    fields: &'a [String],
    by_contact: Map<String, Value>,
}

impl<'a> PageColumns<'a> {
    /// The columns of `fields` for the contacts of a page carrying these field values.
    pub(crate) fn new<'v>(
        fields: &'a [String],
        field_values: impl Iterator<Item = &'v str>,
    ) -> Self {
        PageColumns {
            fields,
            by_contact: values_by_contact(field_values),
        }
    }

    /// The contact's text with its columns ([`attach`]); the text as it was if it is not an object.
    pub(crate) fn apply(&self, record: String, contact: &str) -> String {
        attach(&record, self.fields, self.by_contact.get(contact)).unwrap_or(record)
    }
}

/// An id sent as text or as a number, as text.
fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A record's text with the columns of `fields` appended: each field's value from `values`
/// (field id → the value as the API sent it), null where the record has none. The values stay
/// as sent (the output's typing converts them to their column's type); the record's own text is
/// kept as it is. `None` when the text is not a JSON object.
pub(crate) fn attach(record: &str, fields: &[String], values: Option<&Value>) -> Option<String> {
    let body = record.trim_end().strip_suffix('}')?;
    if !body.trim_start().starts_with('{') {
        return None;
    }
    let mut out = String::with_capacity(record.len() + fields.len() * 32);
    out.push_str(body);
    let mut first = body.trim() == "{";
    for id in fields {
        if !first {
            out.push(',');
        }
        first = false;
        let value = values.and_then(|v| v.get(id)).unwrap_or(&Value::Null);
        out.push_str(&format!("\"{}\":{value}", column(id)));
    }
    out.push('}');
    Some(out)
}

#[cfg(test)]
#[path = "custom_fields_tests.rs"]
mod tests;
