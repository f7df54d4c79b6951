//! The discovered catalog (what the connector offers) and the configured catalog (what a run reads).

use crate::api::schemas::schema_for;
use crate::api::streams::{custom_object_stream, is_custom_object_stream, StreamDef};
use crate::vocab::json::{short_json, type_name};
use serde_json::{json, Value};

/// The column that marks a deletion in Airbyte (declared in every stream's schema, as CDC sources
/// do): destinations in `append_dedup` drop the row whose latest record carries it.
pub(crate) const AIRBYTE_DELETED_AT: &str = "_ab_cdc_deleted_at";

/// One Airbyte stream entry of the discovered catalog. Every schema declares the deletion
/// column, nullable, as CDC sources do.
pub(crate) fn airbyte_stream(def: &StreamDef, mut schema: Value) -> Value {
    if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        props.insert(
            AIRBYTE_DELETED_AT.into(),
            json!({"type": ["null", "string"], "format": "date-time"}),
        );
    }
    let mut s = json!({
        "name": def.name,
        "json_schema": schema,
        "supported_sync_modes": if def.supports_incremental() { json!(["full_refresh", "incremental"]) } else { json!(["full_refresh"]) },
        "source_defined_primary_key": [["id"]],
        "is_resumable": true,
    });
    if let Some(c) = &def.cursor {
        s["source_defined_cursor"] = json!(true);
        s["default_cursor_field"] = json!([c]);
    }
    if !def.cursor_else.is_empty() && s["json_schema"].is_object() {
        // A cursor field is a path, so the fallbacks are stated in the schema's description.
        s["json_schema"]["description"] = json!(format!(
            "Cursor: the first of {} that a record carries.",
            def.cursor_fields().join(", ")
        ));
    }
    s
}

/// The discovered catalog's streams.
pub(crate) fn discovered_streams(
    defs: &[StreamDef],
    custom_schemas: &[(String, Value)],
) -> Vec<Value> {
    defs.iter()
        .map(|d| {
            let schema = custom_schemas
                .iter()
                .find(|(n, _)| n == &d.name)
                .map(|(_, s)| s.clone())
                .unwrap_or_else(|| schema_for(&d.name));
            airbyte_stream(d, schema)
        })
        .collect()
}

/// A stream chosen by the configured catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Selected {
    /// Stream name.
    pub(crate) name: String,
    /// Incremental (true) or full refresh.
    pub(crate) incremental: bool,
    /// Whether deletions are emitted: the destination keeps rows from sync to sync (incremental,
    /// or a `*_dedup` destination mode; Singer targets upsert) and can drop them on a deletion
    /// record. A full refresh into an overwritten table needs none.
    pub(crate) deletions: bool,
    /// What the run does differently from what the catalog asked (logged, not refused).
    pub(crate) note: Option<String>,
}

/// Reads a configured catalog. Every stream it names must be one of `known` (the tests' form of
/// the rule; a read goes through [`ReadPlan::new`]).
#[cfg(test)]
pub(crate) fn parse_configured_catalog(
    text: &str,
    known: &[StreamDef],
) -> Result<Vec<Selected>, String> {
    parse_catalog_with(text, |name| known.iter().find(|d| d.name == name).cloned())
}

/// Reads a configured catalog whose streams `def_of` knows (None: an unknown stream).
fn parse_catalog_with(
    text: &str,
    def_of: impl Fn(&str) -> Option<StreamDef>,
) -> Result<Vec<Selected>, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("the catalog is not valid JSON ({e}); pass a configured catalog such as {{\"streams\": [{{\"stream\": {{\"name\": \"contacts\"}}, \"sync_mode\": \"incremental\"}}]}}"))?;
    let v = v.get("catalog").cloned().unwrap_or(v);
    let streams = v.get("streams").and_then(Value::as_array).ok_or_else(|| {
        format!(
            "the catalog must be an object with a 'streams' list, found {}",
            type_name(&v)
        )
    })?;
    let mut out: Vec<Selected> = Vec::new();
    for (i, s) in streams.iter().enumerate() {
        let name = s
            .pointer("/stream/name")
            .or_else(|| s.get("name"))
            .and_then(Value::as_str)
            .ok_or_else(|| format!("catalog stream {i} has no stream.name"))?;
        let def = def_of(name).ok_or_else(|| {
            format!("catalog stream {i} names unknown stream '{}'; run discover to see the streams of this account", name.chars().take(80).collect::<String>())
        })?;
        let mode = match s.get("sync_mode") {
            None | Some(Value::Null) => "full_refresh",
            Some(Value::String(m)) => m.as_str(),
            Some(other) => {
                return Err(format!(
                    "catalog stream '{name}': sync_mode must be a string, found {}",
                    short_json(other)
                ))
            }
        };
        // As Airbyte's CDK does: `incremental` on a stream without a cursor reads it in full
        // (PyAirbyte asks every stream for incremental), and the cursor is source-defined, so a
        // different `cursor_field` is not used. `destination_sync_mode` is the destination's.
        let mut note = None;
        let incremental = match mode {
            "full_refresh" => false,
            "incremental" if def.supports_incremental() => true,
            "incremental" => {
                note = Some(format!(
                    "{name}: incremental asked, but the stream has no cursor; it is read in full"
                ));
                false
            }
            other => {
                return Err(format!(
                "catalog stream '{name}': unknown sync_mode '{}'; use full_refresh or incremental",
                other.chars().take(40).collect::<String>()
            ))
            }
        };
        if let Some(cf) = s.get("cursor_field").and_then(Value::as_array) {
            let asked: Vec<&str> = cf.iter().filter_map(Value::as_str).collect();
            if incremental && !asked.is_empty() && def.cursor.as_deref() != Some(asked[0]) {
                note = Some(format!(
                    "{name}: cursor_field {:?} ignored; the cursor is source-defined ({})",
                    asked,
                    def.cursor.as_deref().unwrap_or("none")
                ));
            }
        }
        let dedup = s
            .get("destination_sync_mode")
            .and_then(Value::as_str)
            .is_some_and(|m| m.ends_with("_dedup"));
        if out.iter().any(|x| x.name == name) {
            return Err(format!("catalog names stream '{name}' twice"));
        }
        out.push(Selected {
            name: name.to_string(),
            incremental,
            deletions: incremental || dedup,
            note,
        });
    }
    Ok(out)
}

/// What a read is asked for, from the configured catalog, parsed once and checked before any
/// request. Custom object streams are checked by name and mode only: their schemas come from
/// the account after the key check, and every custom object stream has the same cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReadPlan {
    /// The streams the catalog selects, in its order; `None`: no catalog, every stream in full.
    selected: Option<Vec<Selected>>,
}

impl ReadPlan {
    /// The plan of a catalog (or of none) over the fixed streams and any custom object stream.
    pub(crate) fn new(catalog: Option<&str>, fixed: &[StreamDef]) -> Result<ReadPlan, String> {
        let Some(text) = catalog else {
            return Ok(ReadPlan { selected: None });
        };
        // A custom object stream is checked as any custom object stream (they share their cursor).
        let selected =
            parse_catalog_with(text, |name| match fixed.iter().find(|d| d.name == name) {
                Some(d) => Some(d.clone()),
                None if is_custom_object_stream(name) => Some(StreamDef {
                    name: name.to_string(),
                    ..custom_object_stream("", "")
                }),
                None => None,
            })?;
        Ok(ReadPlan {
            selected: Some(selected),
        })
    }

    /// Whether the account's custom object schemas are needed: no catalog (every stream), a
    /// catalog naming a custom object stream, or a saved custom object state.
    pub(crate) fn wants_custom<'a>(&self, mut saved: impl Iterator<Item = &'a String>) -> bool {
        match &self.selected {
            None => true,
            Some(s) => {
                s.iter().any(|s| is_custom_object_stream(&s.name))
                    || saved.any(|k| is_custom_object_stream(k))
            }
        }
    }

    /// The streams to read, with their mode, among `known` (the catalog's order, or `known`'s).
    /// A selected stream missing from `known` is in the list too: the caller reports it.
    pub(crate) fn streams(&self, known: &[StreamDef]) -> Vec<Selected> {
        match &self.selected {
            None => known
                .iter()
                .map(|d| Selected {
                    name: d.name.clone(),
                    incremental: false,
                    deletions: false,
                    note: None,
                })
                .collect(),
            Some(s) => s.clone(),
        }
    }

    /// What the read does differently from what the catalog asked, a line per stream.
    pub(crate) fn notes(&self) -> impl Iterator<Item = &str> {
        self.selected
            .iter()
            .flatten()
            .filter_map(|s| s.note.as_deref())
    }
}

#[cfg(test)]
#[path = "catalog_tests.rs"]
mod tests;
