//! A page of records as the API sent them, and the slices of the id space that keyset paging
//! walks: the shapes every layer above speaks of.

use serde_json::value::RawValue;
use serde_json::Value;
use std::borrow::Cow;

/// Records per page: the API's maximum.
pub(crate) const PAGE_LIMIT: u64 = 100;

/// A slice of the id space walked by keyset paging: ids greater than `after` and less than
/// `below` (either end open when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IdRange {
    /// Exclusive lower bound: the last id read.
    pub(crate) after: Option<String>,
    /// Exclusive upper bound.
    pub(crate) below: Option<String>,
}

/// One record as the API sent it: its JSON text, checked but not taken apart, so it can be passed
/// on without being rebuilt (the hot path of a read).
pub(crate) type Record = Box<RawValue>;

/// One page, split by list key.
#[derive(Debug, Default)]
pub(crate) struct Page {
    /// Records under the paging key, in answer order.
    pub(crate) main: Vec<Record>,
    /// Records under other requested keys (sideloads), by key.
    pub(crate) extra: Vec<(String, Vec<Record>)>,
    /// `meta.total` when the answer gives a usable one.
    pub(crate) total: Option<u64>,
}

/// The raw text of a record's top-level `id` value: a string with its quotes, a number or
/// literal token, or the first character of an object or list. Found by scanning the text, so a
/// record that serde_json will not take apart (a lone surrogate in any string, a number out of
/// range) still has its id.
fn top_level_id(text: &str) -> Option<&str> {
    let b = text.as_bytes();
    let string_end = |mut i: usize| {
        i += 1;
        while i < b.len() && b[i] != b'"' {
            i += if b[i] == b'\\' { 2 } else { 1 };
        }
        i
    };
    let skip_ws = |mut j: usize| {
        while b.get(j).is_some_and(u8::is_ascii_whitespace) {
            j += 1;
        }
        j
    };
    let (mut depth, mut i) = (0usize, 0usize);
    while i < b.len() {
        match b[i] {
            b'"' => {
                let start = i;
                i = string_end(i);
                let j = skip_ws(i + 1);
                if depth == 1 && b.get(start..=i) == Some(&b"\"id\""[..]) && b.get(j) == Some(&b':')
                {
                    let j = skip_ws(j + 1);
                    let end = match b.get(j)? {
                        b'"' => string_end(j) + 1,
                        b'{' | b'[' => j + 1,
                        _ => (j..b.len())
                            .find(|&k| !(b[k].is_ascii_alphanumeric() || b"-+.".contains(&b[k])))
                            .unwrap_or(b.len()),
                    };
                    return text.get(j..end);
                }
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The record text with a top-level numeric `id` written as a string (`"id": 333` becomes
/// `"id": "333"`): primary keys come out as strings in every stream, as the API sends them almost
/// everywhere, so deduplication downstream never sees `333` and `"333"` as two rows. Borrowed,
/// without work, when the id is already a string or absent.
pub(crate) fn string_id_raw(text: &str) -> Cow<'_, str> {
    match top_level_id(text) {
        Some(v) if v.starts_with(|c: char| c.is_ascii_digit() || c == '-') => {
            let j = v.as_ptr() as usize - text.as_ptr() as usize;
            let k = j + v.len();
            Cow::Owned(format!("{}\"{v}\"{}", &text[..j], &text[k..]))
        }
        _ => Cow::Borrowed(text),
    }
}

/// The `id` of a record, as text ("" when it has none, or it is null, an object or a list): a
/// string's value, or a number as written.
pub(crate) fn record_id(r: &RawValue) -> String {
    match top_level_id(r.get()) {
        Some(v) if v.starts_with('"') => serde_json::from_str::<String>(v).unwrap_or_default(),
        Some(v) if v.starts_with(|c: char| c.is_ascii_digit() || c == '-') => v.to_string(),
        _ => String::new(),
    }
}

/// An `id` value as text: ids are strings, sometimes numbers ("" when absent or another type).
pub(crate) fn id_text(id: Option<&Value>) -> String {
    match id {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
#[path = "page_tests.rs"]
mod tests;
