//! Custom field values pivoted onto their records: each owner's values (from a page's sideload
//! or from the values' own list), kept as the API sent them, and written as one column per
//! declared field.

use crate::api::custom_fields::{id_text, Owner, COLUMN_PREFIX};
use serde_json::Value;
use std::collections::HashMap;

/// The values of the declared fields, by owner id: (field's place in the declared list, the
/// value's JSON text as sent). The typing on the way out converts them to their column's type.
#[derive(Debug)]
pub(crate) struct ValueTable {
    owner: &'static Owner,
    fields: Vec<String>,
    place: HashMap<String, u32>,
    by_owner: HashMap<Box<str>, Vec<(u32, Box<str>)>>,
    /// Values of declared fields held.
    pub(crate) values: usize,
    /// Value records without an owner id or a field id (the API's shape changed): counted so a
    /// read can say so instead of leaving columns null without a word.
    pub(crate) unreadable: usize,
}

impl ValueTable {
    /// An empty table for `owner`'s declared `fields` (their ids).
    pub(crate) fn new(owner: &'static Owner, fields: &[String]) -> ValueTable {
        ValueTable {
            owner,
            fields: fields.to_vec(),
            place: fields
                .iter()
                .enumerate()
                .map(|(i, f)| (f.clone(), i as u32))
                .collect(),
            by_owner: HashMap::new(),
            values: 0,
            unreadable: 0,
        }
    }

    /// The kind of record the values belong to.
    pub(crate) fn owner(&self) -> &'static Owner {
        self.owner
    }

    /// Takes one value record's text (`{"dealId": 3, "customFieldId": 1, "fieldValue": …}`);
    /// a value of a field that is not declared is left out. A later value of the same owner and
    /// field replaces the earlier one.
    pub(crate) fn add(&mut self, text: &str) {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            self.unreadable += 1;
            return;
        };
        let first = |keys: &[&str]| keys.iter().find_map(|k| id_text(&v[*k]));
        let (Some(owner), Some(field)) =
            (first(self.owner.owner_keys), first(self.owner.field_keys))
        else {
            self.unreadable += 1;
            return;
        };
        let Some(&place) = self.place.get(&field) else {
            return;
        };
        let value = v[self.owner.value_key].to_string().into_boxed_str();
        let of_owner = self.by_owner.entry(owner.into_boxed_str()).or_default();
        match of_owner.iter_mut().find(|(p, _)| *p == place) {
            Some(slot) => slot.1 = value,
            None => {
                of_owner.push((place, value));
                self.values += 1;
            }
        }
    }

    /// The record's text with its columns ([`attach`]); the text as it was if it is not an object.
    pub(crate) fn apply(&self, record: String, owner_id: &str) -> String {
        let values = self.by_owner.get(owner_id).map_or(&[][..], Vec::as_slice);
        attach(&record, &self.fields, values).unwrap_or(record)
    }
}

/// A custom object record's text with its columns: each declared field's value from the
/// record's own `fields` list (`[{"id": "plan", "value": "Pro"}]`), null where it has none.
pub(crate) fn attach_own_fields(record: &str, fields: &[String]) -> Option<String> {
    let v: Value = serde_json::from_str(record).ok()?;
    let values: Vec<(u32, Box<str>)> = v["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| {
            let i = fields.iter().position(|id| f["id"].as_str() == Some(id))?;
            Some((i as u32, f["value"].to_string().into_boxed_str()))
        })
        .collect();
    attach(record, fields, &values)
}

/// A record's text with the columns of `fields` appended: each field's value from `values`
/// (its place in `fields`, the value's JSON text), null where the record has none. The record's
/// own text is kept as it is. `None` when the text is not a JSON object.
pub(crate) fn attach(
    record: &str,
    fields: &[String],
    values: &[(u32, Box<str>)],
) -> Option<String> {
    let body = record.trim_end().strip_suffix('}')?;
    if !body.trim_start().starts_with('{') {
        return None;
    }
    let mut out = String::with_capacity(record.len() + fields.len() * 32);
    out.push_str(body);
    let mut first = body.trim() == "{";
    for (i, id) in fields.iter().enumerate() {
        if !first {
            out.push(',');
        }
        first = false;
        let value = values
            .iter()
            .find(|(p, _)| *p as usize == i)
            .map_or("null", |(_, v)| v);
        out.push('"');
        out.push_str(COLUMN_PREFIX);
        out.push_str(id);
        out.push_str("\":");
        out.push_str(value);
    }
    out.push('}');
    Some(out)
}

#[cfg(test)]
#[path = "field_values_tests.rs"]
mod tests;
