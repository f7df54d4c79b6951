//! Reading one page of a list answer.
//!
//! The API's answers vary: `meta.total` is a string, an int or absent; lists can be missing; a 200
//! can carry an HTML page, an empty body or cut-off JSON. This module turns a body into records or
//! into an error that says what was wrong, without trusting any of it.

use crate::datetime::is_zero_date;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// One record as the API sent it: its JSON text, checked but not taken apart, so it can be passed
/// on without being rebuilt (the hot path of a read).
pub type Record = Box<RawValue>;

/// One page, split by list key.
#[derive(Debug, Default)]
pub struct Page {
    /// Records under the paging key, in answer order.
    pub main: Vec<Record>,
    /// Records under other requested keys (sideloads), by key.
    pub extra: Vec<(String, Vec<Record>)>,
    /// `meta.total` when the answer gives a usable one.
    pub total: Option<u64>,
}

/// Why a 200 answer could not be read as a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadPage {
    /// Empty body, HTML, cut-off or otherwise invalid JSON: worth retrying.
    NotJson(String),
    /// A 200 with no list: an empty body, `{}` or an object without the list key (some
    /// endpoints answer an empty list this way). An empty page once confirmed.
    Empty(String),
}

impl std::fmt::Display for BadPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadPage::NotJson(s) | BadPage::Empty(s) => f.write_str(s),
        }
    }
}

/// Replaces MySQL zero dates by null, anywhere in the record.
pub fn null_zero_dates(v: &mut Value) {
    match v {
        Value::String(s) if is_zero_date(s) => *v = Value::Null,
        Value::Array(a) => a.iter_mut().for_each(null_zero_dates),
        Value::Object(o) => o.values_mut().for_each(null_zero_dates),
        _ => {}
    }
}

/// The record text with MySQL zero dates (`"0000-00-00"`, `"0000-00-00 00:00:00"`) as values
/// replaced by `null`. Borrowed, without work, when there are none.
pub fn null_zero_dates_raw(text: &str) -> Cow<'_, str> {
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

/// The `id` of a record, as text ("" when it has none).
pub fn record_id(r: &RawValue) -> String {
    #[derive(serde::Deserialize)]
    struct IdOnly {
        #[serde(default)]
        id: Option<Value>,
    }
    id_text(
        serde_json::from_str::<IdOnly>(r.get())
            .ok()
            .and_then(|x| x.id)
            .as_ref(),
    )
}

/// An `id` value as text: ids are strings, sometimes numbers ("" when absent or another type).
pub fn id_text(id: Option<&Value>) -> String {
    match id {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// Reads `meta.total` whether it is a string, a number or absent.
pub fn meta_total(obj: &Map<String, Value>) -> Option<u64> {
    match obj.get("meta")?.get("total")? {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// What a body starts with, for messages: never more than a short, printable prefix.
pub fn describe_body(body: &[u8]) -> String {
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

/// Parses a page. `page_key` must be present; `extra_keys` are taken when present. Records stay
/// JSON text; items that are not objects are dropped.
pub fn parse_page(body: &[u8], page_key: &str, extra_keys: &[&str]) -> Result<Page, BadPage> {
    let not_json = |why: String| {
        BadPage::NotJson(format!(
            "the answer is not a JSON object ({why}); got {}",
            describe_body(body)
        ))
    };
    let text = std::str::from_utf8(body).map_err(|e| not_json(e.to_string()))?;
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
    let take = |key: &str| -> Option<Vec<Record>> {
        let raw = top.get(key)?;
        let list: Vec<Record> = serde_json::from_str(raw.get()).ok()?;
        Some(
            list.into_iter()
                .filter(|r| r.get().trim_start().starts_with('{'))
                .collect(),
        )
    };
    let main = take(page_key).ok_or_else(|| {
        BadPage::Empty(format!(
            "the answer has no '{page_key}' list; got {}",
            describe_body(body)
        ))
    })?;
    let extra = extra_keys
        .iter()
        .map(|k| (k.to_string(), take(k).unwrap_or_default()))
        .collect();
    Ok(Page { main, extra, total })
}

/// The message an error answer carries, from any of the API's three error shapes, shortened.
pub fn error_message(body: &[u8]) -> Option<String> {
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
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn total_in_every_shape() {
        for (body, want) in [
            (json!({"meta": {"total": "6"}}), Some(6)),
            (json!({"meta": {"total": 3}}), Some(3)),
            (json!({"meta": {}}), None),
            (json!({}), None),
            (json!({"meta": {"total": "many"}}), None),
        ] {
            assert_eq!(meta_total(body.as_object().unwrap()), want, "{body}");
        }
    }

    #[test]
    fn page_with_sideloads_and_zero_dates() {
        let body = json!({"fields": [{"id": "1", "cdate": "0000-00-00 00:00:00", "nested": {"d": "0000-00-00"}}],
            "fieldOptions": [{"id": "7"}], "meta": {"total": "1"}}).to_string();
        let p = parse_page(body.as_bytes(), "fields", &["fieldOptions", "fieldRels"]).unwrap();
        assert_eq!(p.main.len(), 1);
        let rec: Value = serde_json::from_str(&null_zero_dates_raw(p.main[0].get())).unwrap();
        assert_eq!(rec["cdate"], Value::Null);
        assert_eq!(rec["nested"]["d"], Value::Null);
        assert_eq!(record_id(&p.main[0]), "1");
        assert_eq!(p.extra[0].1.len(), 1);
        assert!(p.extra[1].1.is_empty());
        assert_eq!(p.total, Some(1));
    }

    #[test]
    fn bad_bodies() {
        for empty in [
            &b""[..],
            b" \n",
            b"{}",
            br#"{"meta": {"total": "0"}}"#,
            br#"{"x": null}"#,
        ] {
            assert!(
                matches!(parse_page(empty, "x", &[]), Err(BadPage::Empty(_))),
                "{}",
                String::from_utf8_lossy(empty)
            );
        }
        assert!(matches!(
            parse_page(b"<html>502</html>", "x", &[]),
            Err(BadPage::NotJson(_))
        ));
        assert!(matches!(
            parse_page(b"{\"x\": [", "x", &[]),
            Err(BadPage::NotJson(_))
        ));
        assert!(matches!(
            parse_page(b"[]", "x", &[]),
            Err(BadPage::NotJson(_))
        ));
        assert!(matches!(
            parse_page(b"null", "x", &[]),
            Err(BadPage::NotJson(_))
        ));
        let e = parse_page(b"<html><body>Bad Gateway</body></html>", "x", &[]).unwrap_err();
        assert!(e.to_string().contains("HTML"), "{e}");
    }

    #[test]
    fn non_objects_in_a_list_are_dropped() {
        let p = parse_page(br#"{"x": [1, {"id": "1"}, null]}"#, "x", &[]).unwrap();
        assert_eq!(p.main.len(), 1);
    }

    #[test]
    fn a_page_of_several_megabytes_with_odd_values() {
        // 100 records of ~60 KB each: non-ASCII, nulls, zero dates, links as {} and [].
        let big = "Zoë 東京 ".repeat(5_000);
        let recs: Vec<Value> = (0..100)
            .map(|i| serde_json::json!({"id": i.to_string(), "note": big, "x": null, "d": "0000-00-00", "links": if i % 2 == 0 { serde_json::json!({}) } else { serde_json::json!([]) }}))
            .collect();
        let body = serde_json::json!({"contacts": recs, "meta": {"total": 100}}).to_string();
        assert!(body.len() > 5_000_000);
        let p = parse_page(body.as_bytes(), "contacts", &[]).unwrap();
        assert_eq!(p.main.len(), 100);
        assert_eq!(p.total, Some(100));
        let v: Value = serde_json::from_str(&null_zero_dates_raw(p.main[7].get())).unwrap();
        assert_eq!(v["d"], Value::Null);
        assert!(v["note"].as_str().unwrap().starts_with("Zoë 東京"));
    }

    #[test]
    fn zero_dates_in_text() {
        assert_eq!(
            null_zero_dates_raw(
                r#"{"a":"0000-00-00","b":"0000-00-00 00:00:00" , "c":["0000-00-00"]}"#
            ),
            r#"{"a":null,"b":null , "c":[null]}"#
        );
        // Not values: a key, part of a longer string, an escaped quote.
        for same in [
            r#"{"0000-00-00":1}"#,
            r#"{"a":"0000-00-00x"}"#,
            r#"{"a":"say \"0000-00-00\" ok"}"#,
        ] {
            assert_eq!(null_zero_dates_raw(same), same);
        }
    }

    #[test]
    fn error_shapes() {
        assert_eq!(
            error_message(br#"{"message":"No Result found"}"#).as_deref(),
            Some("No Result found")
        );
        assert_eq!(
            error_message(br#"{"errors":[{"status":403,"title":"Forbidden","detail":"You do not have permission to view lists."}]}"#).as_deref(),
            Some("Forbidden: You do not have permission to view lists.")
        );
        assert_eq!(
            error_message(br#"{"errors":["a","b"]}"#).as_deref(),
            Some("a; b")
        );
        assert_eq!(error_message(b"<html>"), None);
    }
}
