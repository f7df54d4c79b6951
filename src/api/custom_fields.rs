//! Custom fields as columns: the values of a contact's, deal's or account's custom fields become
//! top-level columns of its record, one per custom field of the account, named from the field's
//! id (which never changes; a label can) and typed by the field's type. [`OWNERS`] says where
//! each kind of record keeps its fields and values; [`crate::api::field_values`] pivots values.

use crate::api::streams::Sideload;
use serde_json::{json, Value};

/// A custom field column's name: this prefix and the field's id.
pub(crate) const COLUMN_PREFIX: &str = "custom_field_";

/// Where one kind of record keeps its custom fields and their values, and what those records
/// call things.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Owner {
    /// The stream whose records carry the columns.
    pub(crate) stream: &'static str,
    /// The field definitions' list (its path and answer key).
    pub(crate) fields: &'static str,
    /// A definition's label, type and personalization tag.
    pub(crate) label: &'static str,
    pub(crate) kind: &'static str,
    pub(crate) tag: &'static str,
    /// The values' `include=` name on the owner's pages, which is also their answer key and the
    /// path of their own list.
    pub(crate) values: &'static str,
    /// A value's owner id, field id and value, by the first key present.
    pub(crate) owner_keys: &'static [&'static str],
    pub(crate) field_keys: &'static [&'static str],
    pub(crate) value_key: &'static str,
    /// Whether a page that ignores the `include=` must be expected: the values list is then read
    /// on its own and joined.
    pub(crate) include_may_be_ignored: bool,
}

/// Every kind of record with custom fields. Contacts' `include=fieldValues` is what the stream
/// table's sideload of `contact_custom_field_values` relies on too; `/deals` and `/accounts`
/// are not documented to take theirs, so their pages are checked for it.
pub(crate) const OWNERS: &[Owner] = &[
    Owner {
        stream: "contacts",
        fields: "fields",
        label: "title",
        kind: "type",
        tag: "perstag",
        values: "fieldValues",
        owner_keys: &["contact"],
        field_keys: &["field"],
        value_key: "value",
        include_may_be_ignored: false,
    },
    Owner {
        stream: "deals",
        fields: "dealCustomFieldMeta",
        label: "fieldLabel",
        kind: "fieldType",
        tag: "personalization",
        values: "dealCustomFieldData",
        owner_keys: &["dealId"],
        field_keys: &["customFieldId", "dealCustomFieldMetumId"],
        value_key: "fieldValue",
        include_may_be_ignored: true,
    },
    Owner {
        stream: "accounts",
        fields: "accountCustomFieldMeta",
        label: "fieldLabel",
        kind: "fieldType",
        tag: "personalization",
        values: "accountCustomFieldData",
        owner_keys: &["accountId", "customerAccountId"],
        field_keys: &["customFieldId", "accountCustomFieldMetumId"],
        value_key: "fieldValue",
        include_may_be_ignored: true,
    },
];

/// The owner whose records are `stream`'s.
pub(crate) fn owner_of(stream: &str) -> Option<&'static Owner> {
    OWNERS.iter().find(|o| o.stream == stream)
}

impl Owner {
    /// The values riding on the owner's pages, as the engine asks for a sideload.
    pub(crate) fn sideload(&self) -> Sideload {
        Sideload {
            parent: self.stream,
            include: self.values,
            parent_key: self.owner_keys[0],
        }
    }
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
    /// The fields named here, by id or personalization tag (without `%`, any case), each for
    /// every owner or for one (`deals.12`, `contacts.LEAD_SOURCE`).
    Only(Vec<String>),
}

impl Choice {
    /// Whether the field of `owner` (a stream) with this id and personalization tag is chosen.
    fn takes(&self, owner: &str, id: &str, tag: &str) -> bool {
        let names = match self {
            Choice::All => return true,
            Choice::Nothing => return false,
            Choice::Only(names) => names,
        };
        let tag = tag.trim_matches('%');
        names.iter().any(|n| {
            let name = match n.split_once('.') {
                Some((scope, rest)) if owner_of(scope).is_some() => {
                    if scope != owner {
                        return false;
                    }
                    rest
                }
                _ => n.as_str(),
            };
            name == id || (!tag.is_empty() && name.trim_matches('%').eq_ignore_ascii_case(tag))
        })
    }
}

/// The columns of an owner's custom fields, from its field definitions: (name, schema), in the
/// definitions' order. The schema states the label (`title`), the id, the type and the tag.
pub(crate) fn columns(owner: &Owner, fields: &[Value], choice: &Choice) -> Vec<(String, Value)> {
    fields
        .iter()
        .filter_map(|f| {
            let id = id_text(&f["id"])?;
            let kind = f[owner.kind].as_str().unwrap_or("");
            let tag = f[owner.tag].as_str().unwrap_or("").trim_matches('%');
            if field_of(&column(&id)).is_none() || !choice.takes(owner.stream, &id, tag) {
                return None;
            }
            let label = f[owner.label].as_str().unwrap_or("");
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

/// An id sent as text or as a number, as text.
pub(crate) fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
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

#[cfg(test)]
#[path = "custom_fields_tests.rs"]
mod tests;
