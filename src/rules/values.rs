//! A record's values turned into the types its schema declares: integer and number strings into
//! JSON numbers, numbers in text fields into text, dates and date-times checked as sent (never
//! shifted). A value that does not fit (`""` or `"0.5"` in an integer, `"2023-02-30"`) goes out as
//! null in its column and whole, as sent, under [`ORIGINALS`]: nothing is lost.
//!
//! Cheap by design: only the top level is taken apart (values stay raw JSON text), and a record
//! whose values already fit comes back as the same text.

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

/// The column of a record's values that did not fit their declared type (field → value as sent).
pub(crate) const ORIGINALS: &str = "_ac_originals";

/// What a top-level field is declared as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `integer`: a JSON integer, or a string of one.
    Integer,
    /// `number`: a JSON number, or a string of one.
    Number,
    /// `string` with `format: date`: `YYYY-MM-DD`, a real calendar day.
    Date,
    /// `string` with `format: date-time`; `zoned` when the values carry their zone
    /// (`timestamp_with_timezone`), else they carry none.
    DateTime { zoned: bool },
    /// `string` (no format): a JSON number is quoted (an identifier sent as a number).
    Text,
    /// `array` of strings: a multi-value field's `||Sports||Travel||` becomes `["Sports", "Travel"]`.
    List,
    /// `object`: PHP's empty array `[]` becomes `{}` (an empty map, as the API means it).
    Object,
    /// `boolean`: a 0/1 flag, as a number or a string, becomes `false`/`true`.
    Boolean,
}

/// The declared kinds of a stream's top-level fields, by name (hashed: a contact has some 60
/// fields, and a lookup per field per record is the converter's main cost).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Kinds(HashMap<String, Kind>);

impl Kinds {
    /// The kinds a JSON schema declares for its top-level properties. Fields of any other or of
    /// a mixed type (`anyOf`, objects, arrays) are left alone.
    pub(crate) fn from_schema(schema: &Value) -> Kinds {
        Kinds(
            schema
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter(|(name, _)| name.as_str() != ORIGINALS)
                .filter_map(|(name, field)| Some((name.clone(), kind_of(field)?)))
                .collect(),
        )
    }

    /// The kind of `field`, if declared.
    fn get(&self, field: &str) -> Option<Kind> {
        self.0.get(field).copied()
    }
}

/// The kind a field's schema declares: its one non-null type, and the format of a string.
fn kind_of(field: &Value) -> Option<Kind> {
    let types: Vec<&str> = match field.get("type")? {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return None,
    };
    let non_null: Vec<&str> = types.into_iter().filter(|t| *t != "null").collect();
    match (
        non_null.as_slice(),
        field.get("format").and_then(Value::as_str),
    ) {
        (["integer"], _) => Some(Kind::Integer),
        (["number"], _) => Some(Kind::Number),
        (["string"], Some("date")) => Some(Kind::Date),
        (["string"], Some("date-time")) => Some(Kind::DateTime {
            zoned: field.get("airbyte_type").and_then(Value::as_str)
                != Some("timestamp_without_timezone"),
        }),
        (["string"], None) => Some(Kind::Text),
        (["array"], _) if field["items"]["type"] == "string" => Some(Kind::List),
        (["object"], _) => Some(Kind::Object),
        (["boolean"], _) => Some(Kind::Boolean),
        _ => None,
    }
}

/// A record after conversion: its text, and how many of its values did not fit.
#[derive(Debug, PartialEq)]
pub(crate) struct Typed<'a> {
    /// The record's JSON text (the input itself when nothing changed).
    pub(crate) text: Cow<'a, str>,
    /// Values put under [`ORIGINALS`] (their columns are null).
    pub(crate) misfits: usize,
}

/// What one value becomes.
enum Fit {
    /// Fits as it is.
    Keep,
    /// Fits once rewritten as this JSON text.
    As(String),
    /// Does not fit: null in its column, whole in the originals.
    Misfit,
}

/// Converts a record's top-level values to the kinds declared. Text that is not a JSON object,
/// or a stream without declared kinds, comes back unchanged.
pub(crate) fn convert<'a>(kinds: &Kinds, record: &'a str) -> Typed<'a> {
    let unchanged = |text| Typed { text, misfits: 0 };
    if kinds.0.is_empty() {
        return unchanged(Cow::Borrowed(record));
    }
    let Ok(entries) = top_level(record) else {
        return unchanged(Cow::Borrowed(record));
    };
    let fits: Vec<Fit> = entries
        .iter()
        .map(|(name, raw)| match kinds.get(name) {
            Some(kind) => fit(kind, raw.get()),
            None => Fit::Keep,
        })
        .collect();
    if fits.iter().all(|f| matches!(f, Fit::Keep)) {
        return unchanged(Cow::Borrowed(record));
    }
    let (mut out, mut originals, mut misfits) =
        (String::with_capacity(record.len() + 16), String::new(), 0);
    out.push('{');
    for (i, ((name, raw), f)) in entries.iter().zip(&fits).enumerate() {
        if i > 0 {
            out.push(',');
        }
        let unescaped = matches!(name, Cow::Owned(_));
        push_key(&mut out, name, unescaped);
        out.push(':');
        match f {
            Fit::Keep => out.push_str(raw.get()),
            Fit::As(text) => out.push_str(text),
            Fit::Misfit => {
                out.push_str("null");
                originals.push_str(if misfits == 0 { "" } else { "," });
                push_key(&mut originals, name, unescaped);
                originals.push(':');
                originals.push_str(raw.get());
                misfits += 1;
            }
        }
    }
    if misfits > 0 {
        out.push_str(&format!(",\"{ORIGINALS}\":{{{originals}}}"));
    }
    out.push('}');
    Typed {
        text: Cow::Owned(out),
        misfits,
    }
}

/// Appends a key as JSON text: a key that had no escapes in the record (`unescaped` false: the
/// record's own text) goes out as it came; an unescaped one is escaped again.
fn push_key(buf: &mut String, name: &str, unescaped: bool) {
    if unescaped {
        buf.push_str(&json_key(name));
    } else {
        buf.push('"');
        buf.push_str(name);
        buf.push('"');
    }
}

/// A key as JSON text.
fn json_key(name: &str) -> String {
    serde_json::to_string(name).unwrap_or_else(|_| "\"\"".to_string())
}

/// The fit of one raw JSON value to `kind`.
fn fit(kind: Kind, raw: &str) -> Fit {
    if raw == "null" {
        return Fit::Keep;
    }
    // A string's text, borrowed unless it has escapes (most values have none).
    let text: Option<Cow<str>> = match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) if !inner.contains('\\') => Some(Cow::Borrowed(inner)),
        Some(_) => serde_json::from_str::<String>(raw).ok().map(Cow::Owned),
        None => None,
    };
    let number = raw.starts_with(|c: char| c == '-' || c.is_ascii_digit());
    match (kind, text) {
        // Text carries text: a number, list, object or flag sent there goes out as its JSON text.
        (Kind::Text, None) => Fit::As(json_key(raw)),
        (Kind::Text, _) => Fit::Keep,
        (Kind::Integer, None) if number && is_integer(raw) => Fit::Keep,
        (Kind::Integer, Some(s)) if is_integer(&s) => match s.parse::<i64>() {
            Ok(n) => Fit::As(n.to_string()),
            Err(_) => Fit::Misfit,
        },
        (Kind::Number, None) if number => Fit::Keep,
        (Kind::Number, Some(s)) if is_number(&s) => Fit::As(s.into_owned()),
        (Kind::Date, Some(s)) if is_date(&s) => Fit::Keep,
        (Kind::DateTime { zoned }, Some(s)) if is_date_time(&s, zoned) => Fit::Keep,
        (Kind::List, Some(s)) => Fit::As(list(&s)),
        (Kind::List, None) if raw.starts_with('[') => Fit::Keep,
        (Kind::Object, None) if raw.starts_with('{') => Fit::Keep,
        (Kind::Object, None) if is_empty_list(raw) => Fit::As("{}".to_string()),
        (Kind::Boolean, None) if raw == "true" || raw == "false" => Fit::Keep,
        (Kind::Boolean, _) if raw == "0" || raw == "\"0\"" => Fit::As("false".to_string()),
        (Kind::Boolean, _) if raw == "1" || raw == "\"1\"" => Fit::As("true".to_string()),
        _ => Fit::Misfit,
    }
}

/// `[]`, with any white space inside.
fn is_empty_list(raw: &str) -> bool {
    raw.strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .is_some_and(|inner| inner.trim().is_empty())
}

/// The values of a multi-value field as a JSON list: `||a||b||` (the API's form), or one value.
fn list(s: &str) -> String {
    let items: Vec<&str> = s.split("||").filter(|x| !x.is_empty()).collect();
    serde_json::to_string(&items).unwrap_or_else(|_| "[]".to_string())
}

/// `-?digits`, at most 18 digits (fits an i64), no sign-only or empty text.
fn is_integer(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty() && digits.len() <= 18 && digits.bytes().all(|b| b.is_ascii_digit())
}

/// A JSON number literal (so it can go out as it was sent, digit for digit), finite.
fn is_number(s: &str) -> bool {
    let b = s.as_bytes();
    let starts = b.first().is_some_and(|&c| c == b'-' || c.is_ascii_digit());
    starts
        && serde_json::from_str::<serde_json::Number>(s)
            .is_ok_and(|n| n.as_f64().is_some_and(f64::is_finite))
}

/// `YYYY-MM-DD` of a real calendar day.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Some(y), Some(m), Some(d)) = (num(&b[0..4]), num(&b[5..7]), num(&b[8..10])) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    y > 0 && (1..=days).contains(&d)
}

/// A date, `T` or a space, `HH:MM[:SS[.fraction]]`, then a zone (`Z`, `±HH:MM`, `±HHMM`) when
/// `zoned`, none otherwise.
fn is_date_time(s: &str, zoned: bool) -> bool {
    let b = s.as_bytes();
    if b.len() < 16 || !is_date(&s[..10]) || !(b[10] == b'T' || b[10] == b' ') {
        return false;
    }
    let clock_end = b[11..]
        .iter()
        .position(|&c| !(c.is_ascii_digit() || c == b':' || c == b'.'))
        .map_or(b.len(), |p| p + 11);
    if !is_clock(&s[11..clock_end]) {
        return false;
    }
    let zone = &s[clock_end..];
    match zone.as_bytes() {
        [] => !zoned,
        [b'Z'] => zoned,
        [sign, rest @ ..] if *sign == b'+' || *sign == b'-' => zoned && is_offset(rest),
        _ => false,
    }
}

/// `HH:MM`, `HH:MM:SS` or `HH:MM:SS.fraction`, each part in range.
fn is_clock(s: &str) -> bool {
    let (hms, frac) = s.split_once('.').unwrap_or((s, "0"));
    let parts: Vec<Option<u32>> = hms
        .split(':')
        .map(|p| (p.len() == 2).then(|| num(p.as_bytes())).flatten())
        .collect();
    let ok_frac = !frac.is_empty() && frac.bytes().all(|c| c.is_ascii_digit());
    match parts.as_slice() {
        [Some(h), Some(m)] => *h < 24 && *m < 60 && frac == "0",
        [Some(h), Some(m), Some(sec)] => *h < 24 && *m < 60 && *sec <= 60 && ok_frac,
        _ => false,
    }
}

/// `HH:MM` or `HHMM` of an offset, up to 23:59.
fn is_offset(b: &[u8]) -> bool {
    let (h, m) = match b {
        [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => (num(&[*h1, *h2]), num(&[*m1, *m2])),
        _ => return false,
    };
    matches!((h, m), (Some(h), Some(m)) if h < 24 && m < 60)
}

/// ASCII digits as a number.
fn num(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// A key, borrowed from the record's text unless it has escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// A JSON object's top-level entries in their order, values as raw text.
fn top_level(record: &str) -> Result<Vec<(Cow<'_, str>, &RawValue)>, serde_json::Error> {
    struct Entries;
    impl<'de> Visitor<'de> for Entries {
        type Value = Vec<(Cow<'de, str>, &'de RawValue)>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(64);
            while let Some((Key(k), v)) = map.next_entry::<Key<'de>, &'de RawValue>()? {
                out.push((k, v));
            }
            Ok(out)
        }
    }
    let mut de = serde_json::Deserializer::from_str(record);
    let entries = (&mut de).deserialize_map(Entries)?;
    de.end()?;
    Ok(entries)
}

#[cfg(test)]
#[path = "values_tests.rs"]
mod tests;
