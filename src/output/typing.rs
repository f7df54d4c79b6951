//! Records typed on their way out: each stream's values converted to the types its schema
//! declares ([`crate::rules::values`]), with a count per stream of the values that did not fit.
//! The one place records are typed: the engine reads cursors from the API's own text before.

use crate::api::custom_fields::{column, declared_fields, with_columns};
use crate::api::schemas::schema_for;
use crate::rules::values::{convert, Kinds, ORIGINALS};
use serde_json::Value;
use std::borrow::Cow;

/// Each stream's declared kinds (built on its first record) and its count of misfits.
#[derive(Debug, Default)]
pub(crate) struct Typing {
    streams: Vec<(String, Kinds, u64)>,
}

impl Typing {
    /// The record's text with its values in their declared types.
    pub(crate) fn convert<'a>(&mut self, stream: &str, record: &'a str) -> Cow<'a, str> {
        let i = match self.streams.iter().position(|(s, _, _)| s == stream) {
            Some(i) => i,
            None => {
                let kinds = Kinds::from_schema(&schema_for(stream));
                self.streams.push((stream.to_string(), kinds, 0));
                self.streams.len() - 1
            }
        };
        let (_, kinds, misfits) = &mut self.streams[i];
        let typed = convert(kinds, record);
        *misfits += typed.misfits as u64;
        typed.text
    }

    /// Types `stream` by its built-in schema plus the custom field columns `schema` declares
    /// (a read's catalog), whatever else that schema says.
    pub(crate) fn declare(&mut self, stream: &str, schema: &Value) {
        let columns: Vec<(String, Value)> = declared_fields(schema)
            .into_iter()
            .map(|id| {
                let name = column(&id);
                let s = schema["properties"][&name].clone();
                (name, s)
            })
            .collect();
        let kinds = Kinds::from_schema(&with_columns(schema_for(stream), &columns));
        self.streams.retain(|(s, _, _)| s != stream);
        self.streams.push((stream.to_string(), kinds, 0));
    }

    /// The warning for a stream whose values did not all fit (once: the count restarts).
    pub(crate) fn report(&mut self, stream: &str) -> Option<String> {
        let (_, _, misfits) = self.streams.iter_mut().find(|(s, _, _)| s == stream)?;
        let n = std::mem::take(misfits);
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
