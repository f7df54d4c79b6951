//! Reading one page of a list answer.
//!
//! The API's answers vary: `meta.total` is a string, an int or absent; lists can be missing; a 200
//! can carry an HTML page, an empty body or cut-off JSON. This module turns a body into records or
//! into an error that says what was wrong, without trusting any of it.

use crate::vocab::page::{record_id, Page, Record};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Why a 200 answer could not be read as a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BadPage {
    /// Empty body, HTML, cut-off or otherwise invalid JSON: worth retrying.
    NotJson(String),
    /// A 200 with no list: an empty body, `{}` or an object without the list key (or with it
    /// null; some endpoints answer an empty list this way). An empty page once confirmed.
    Empty(String),
    /// Valid JSON the connector cannot use without losing records: a list key holding neither a
    /// list nor an object of records, an item that is not a record, a record nested deeper than
    /// [`MAX_DEPTH`]. Asking again would not help: the stream fails, never COMPLETE.
    Unusable(String),
}

/// How deep a record may nest (the record itself is level 1): deeper ones fail their stream,
/// since the Python tools downstream cannot read such a line.
pub(crate) const MAX_DEPTH: usize = 64;

impl std::fmt::Display for BadPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadPage::NotJson(s) | BadPage::Empty(s) | BadPage::Unusable(s) => f.write_str(s),
        }
    }
}

/// Replaces MySQL zero dates by null, anywhere in the record: the parsed-value twin of
/// `null_zero_dates_raw`, which the tests check it against.
#[cfg(test)]
pub(crate) fn null_zero_dates(v: &mut Value) {
    match v {
        Value::String(s) if crate::rules::datetime::is_zero_date(s) => *v = Value::Null,
        Value::Array(a) => a.iter_mut().for_each(null_zero_dates),
        Value::Object(o) => o.values_mut().for_each(null_zero_dates),
        _ => {}
    }
}

/// The record text with MySQL zero dates (`"0000-00-00"`, `"0000-00-00 00:00:00"`) as values
/// replaced by `null`. Borrowed, without work, when there are none.
pub(crate) fn null_zero_dates_raw(text: &str) -> Cow<'_, str> {
    if !text.contains("\"0000-00-00") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("\"0000-00-00") {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let token = [
            "\"0000-00-00 00:00:00\"",
            "\"0000-00-00T00:00:00\"",
            "\"0000-00-00\"",
        ]
        .into_iter()
        .find(|t| tail.starts_with(t));
        // A value, not a key: what follows is `,`, `}` or `]`.
        let is_value = token.is_some_and(|t| {
            matches!(
                tail[t.len()..].trim_start().chars().next(),
                Some(',') | Some('}') | Some(']')
            )
        });
        match token {
            Some(t) if is_value && !out.ends_with('\\') => {
                out.push_str("null");
                rest = &tail[t.len()..];
            }
            _ => {
                out.push('"');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Reads `meta.total` whether it is a string, a number or absent.
pub(crate) fn meta_total(obj: &Map<String, Value>) -> Option<u64> {
    match obj.get("meta")?.get("total")? {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// What a body starts with, for messages: never more than a short, printable prefix.
pub(crate) fn describe_body(body: &[u8]) -> String {
    if body.is_empty() {
        return "an empty body".into();
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(80)]);
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let kind = if clean.trim_start().starts_with('<') {
        "HTML/XML"
    } else {
        "text"
    };
    format!("{kind} starting '{}' ({} bytes)", clean.trim(), body.len())
}

/// Parses a page. `page_key` must be present; `extra_keys` are taken when present (and left out
/// of [`Page::extra`] when not). Records stay
/// JSON text. A list may come as an object whose values are the records (PHP's `json_encode` of
/// an array with gaps in its keys); anything else that is not a list of records is
/// [`BadPage::Unusable`].
pub(crate) fn parse_page(
    body: &[u8],
    page_key: &str,
    extra_keys: &[&str],
) -> Result<Page, BadPage> {
    let not_json = |why: String| {
        BadPage::NotJson(format!(
            "the answer is not a JSON object ({why}); got {}",
            describe_body(body)
        ))
    };
    let text = std::str::from_utf8(body).map_err(|e| not_json(e.to_string()))?;
    // A byte order mark before the JSON (some proxies add one) is not part of the answer.
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(BadPage::Empty(format!(
            "the answer has no '{page_key}' list (an empty body)"
        )));
    }
    let top: BTreeMap<String, &RawValue> =
        serde_json::from_str(text).map_err(|e| not_json(e.to_string()))?;
    let total = match top.get("meta") {
        Some(m) => serde_json::from_str::<Value>(m.get())
            .ok()
            .and_then(|meta| {
                let mut o = Map::new();
                o.insert("meta".into(), meta);
                meta_total(&o)
            }),
        None => None,
    };
    let take = |key: &str| match top.get(key) {
        Some(raw) => take_list(key, raw),
        None => Ok(None),
    };
    let main = take(page_key)?.ok_or_else(|| {
        BadPage::Empty(format!(
            "the answer has no '{page_key}' list; got {}",
            describe_body(body)
        ))
    })?;
    // A sideload the answer does not carry (or carries as null) is left out, not taken as an
    // empty list: an API that ignored the `include=` is told apart from one with nothing to add.
    let mut extra = Vec::with_capacity(extra_keys.len());
    for k in extra_keys {
        if let Some(list) = take(k)? {
            extra.push((k.to_string(), list));
        }
    }
    Ok(Page { main, extra, total })
}

/// What kind of JSON value a text starts, for messages.
fn json_kind(text: &str) -> &'static str {
    match text.trim_start().as_bytes().first() {
        Some(b'{') => "an object",
        Some(b'[') => "a list",
        Some(b'"') => "a string",
        Some(b't') | Some(b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

/// The records of one list key: a list, or an object whose values are records (in key order:
/// numeric keys by value, then the others by text). `None` when the key is null.
fn take_list(key: &str, raw: &RawValue) -> Result<Option<Vec<Record>>, BadPage> {
    let text = raw.get();
    let items: Vec<(String, Record)> = match text.trim_start().as_bytes().first() {
        Some(b'n') => return Ok(None),
        Some(b'[') => serde_json::from_str::<Vec<Record>>(text)
            .map_err(|e| BadPage::NotJson(format!("the answer's '{key}' list: {e}")))?
            .into_iter()
            .enumerate()
            .map(|(i, r)| (format!("item {i}"), r))
            .collect(),
        Some(b'{') => {
            let map: BTreeMap<String, Record> = serde_json::from_str(text)
                .map_err(|e| BadPage::NotJson(format!("the answer's '{key}' object: {e}")))?;
            let mut items: Vec<(String, Record)> = map.into_iter().collect();
            items.sort_by(|(a, _), (b, _)| {
                let n = |k: &str| k.parse::<u64>().ok();
                (n(a).is_none(), n(a), a).cmp(&(n(b).is_none(), n(b), b))
            });
            items
                .into_iter()
                .map(|(k, r)| (format!("key {}", crate::vocab::json::json_string(&k)), r))
                .collect()
        }
        _ => {
            return Err(BadPage::Unusable(format!(
                "the answer's '{key}' is {}, not a list of records",
                json_kind(text)
            )))
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (at, r) in items {
        if !r.get().trim_start().starts_with('{') {
            return Err(BadPage::Unusable(format!(
                "{at} of the answer's '{key}' is {}, not a record",
                json_kind(r.get())
            )));
        }
        if nested_deeper_than(r.get(), MAX_DEPTH) {
            let id = record_id(&r);
            return Err(BadPage::Unusable(format!(
                "record {} ({at} of '{key}') is nested deeper than {MAX_DEPTH} levels; \
                 the tools downstream cannot read it",
                crate::vocab::json::json_string(&id)
            )));
        }
        out.push(r);
    }
    Ok(Some(out))
}

/// True when a JSON text nests objects and lists deeper than `max` levels (the value itself is
/// level 1). Brackets inside strings do not count.
pub(crate) fn nested_deeper_than(text: &str, max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for b in text.bytes() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// The message an error answer carries, from any of the API's three error shapes, shortened.
pub(crate) fn error_message(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let msg = if let Some(m) = v.get("message").and_then(Value::as_str) {
        m.to_string()
    } else if let Some(errs) = v.get("errors").and_then(Value::as_array) {
        let parts: Vec<String> = errs
            .iter()
            .filter_map(|e| match e {
                Value::String(s) => Some(s.clone()),
                Value::Object(o) => {
                    let title = o.get("title").and_then(Value::as_str).unwrap_or("");
                    let detail = o.get("detail").and_then(Value::as_str).unwrap_or("");
                    let t = [title, detail]
                        .iter()
                        .filter(|s| !s.is_empty())
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(": ");
                    (!t.is_empty()).then_some(t)
                }
                _ => None,
            })
            .collect();
        if parts.is_empty() {
            return None;
        }
        parts.join("; ")
    } else {
        return None;
    };
    let clean: String = msg.chars().filter(|c| !c.is_control()).take(200).collect();
    Some(clean)
}

#[cfg(test)]
#[path = "response_tests.rs"]
mod tests;
