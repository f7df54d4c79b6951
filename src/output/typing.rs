//! Records typed on their way out: each stream's values converted to the types its schema
//! declares ([`crate::rules::values`]), with a count per stream of the values that did not fit.
//! The one place records are typed: the engine reads cursors from the API's own text before.

use crate::api::custom_fields::{column, declared_fields, declared_object_fields, with_columns};
use crate::api::field_values::attach_own_fields;
use crate::api::schemas::schema_for;
use crate::rules::values::{convert, Kinds, ORIGINALS};
use serde_json::Value;
use std::borrow::Cow;

/// How one stream's records are typed.
#[derive(Debug)]
struct Stream {
    name: String,
    kinds: Kinds,
    /// Values that did not fit since the last report.
    misfits: u64,
    /// A custom object's fields that are columns too, from the record's own `fields` list.
    own_fields: Vec<String>,
}

/// Each stream's declared kinds (built on its first record) and its count of misfits.
#[derive(Debug, Default)]
pub(crate) struct Typing {
    streams: Vec<Stream>,
}

impl Typing {
    /// The record's text with its values in their declared types.
    pub(crate) fn convert<'a>(&mut self, stream: &str, record: &'a str) -> Cow<'a, str> {
        let i = match self.streams.iter().position(|s| s.name == stream) {
            Some(i) => i,
            None => {
                self.streams.push(Stream {
                    name: stream.to_string(),
                    kinds: Kinds::from_schema(&schema_for(stream)),
                    misfits: 0,
                    own_fields: Vec::new(),
                });
                self.streams.len() - 1
            }
        };
        let s = &mut self.streams[i];
        if s.own_fields.is_empty() {
            let typed = convert(&s.kinds, record);
            s.misfits += typed.misfits as u64;
            return typed.text;
        }
        let with = attach_own_fields(record, &s.own_fields).unwrap_or_else(|| record.to_string());
        let typed = convert(&s.kinds, &with);
        s.misfits += typed.misfits as u64;
        Cow::Owned(typed.text.into_owned())
    }

    /// Types `stream` by its built-in schema plus the custom field columns `schema` declares
    /// (a read's catalog), whatever else that schema says. A custom object's columns are filled
    /// from its records' own `fields` lists.
    pub(crate) fn declare(&mut self, stream: &str, schema: &Value) {
        let object = crate::api::streams::is_custom_object_stream(stream);
        let ids = if object {
            declared_object_fields(schema)
        } else {
            declared_fields(schema)
        };
        let columns: Vec<(String, Value)> = ids
            .iter()
            .map(|id| {
                let name = column(id);
                let s = schema["properties"][&name].clone();
                (name, s)
            })
            .collect();
        self.streams.retain(|s| s.name != stream);
        self.streams.push(Stream {
            name: stream.to_string(),
            kinds: Kinds::from_schema(&with_columns(schema_for(stream), &columns)),
            misfits: 0,
            own_fields: if object { ids } else { Vec::new() },
        });
    }

    /// The warning for a stream whose values did not all fit (once: the count restarts).
    pub(crate) fn report(&mut self, stream: &str) -> Option<String> {
        let s = self.streams.iter_mut().find(|s| s.name == stream)?;
        let n = std::mem::take(&mut s.misfits);
        (n > 0).then(|| {
            format!(
                "{stream}: {n} values did not fit their declared type; each is null in its column and kept whole, as sent, in {ORIGINALS}"
            )
        })
    }
}

#[cfg(test)]
#[path = "typing_tests.rs"]
mod tests;
