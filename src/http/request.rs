//! Building the path and query of each page request.

use crate::api::streams::{Paging, ServerFilter, StreamDef};
use crate::vocab::page::{IdRange, PAGE_LIMIT};

/// Where one page request starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Position {
    /// Offset paging: records skipped.
    Offset(u64),
    /// Keyset paging inside an id range.
    Keyset(IdRange),
    /// The top page of an open id range (`orders[id]=DESC`, ids past `after`): its records are
    /// delivered, and its lowest id bounds the rest of the range, which keyset paging then
    /// splits into bounded ranges read in parallel (no probe request, no empty page at the end).
    Top(IdRange),
}

impl Position {
    /// The first page of a stream.
    pub(crate) fn start(def: &StreamDef) -> Position {
        match def.paging {
            Paging::Offset => Position::Offset(0),
            Paging::Keyset => Position::Keyset(IdRange {
                after: None,
                below: None,
            }),
        }
    }
}

/// Percent-encodes a query component (everything but RFC 3986 unreserved characters).
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Path and query of one page: `{api_path}/{path}?limit=100&…`. `since` is the server-side filter
/// value, already in the form the API expects.
/// `include` lists sideloads to request with the page (contacts: `fieldValues`, …).
pub(crate) fn page_path(
    api_path: &str,
    def: &StreamDef,
    pos: &Position,
    since: Option<&str>,
    include: &[String],
    newest_first: Option<&str>,
) -> String {
    let mut q: Vec<(String, String)> = vec![("limit".into(), PAGE_LIMIT.to_string())];
    match pos {
        Position::Offset(o) => {
            q.push(("offset".into(), o.to_string()));
            if let Some(field) = newest_first {
                q.push((format!("orders[{field}]"), "DESC".into()));
            } else if def.orders_by_id() {
                q.push(("orders[id]".into(), "ASC".into()));
            }
        }
        // A top page is a keyset page read from its range's highest id down.
        Position::Keyset(r) | Position::Top(r) => {
            let order = if matches!(pos, Position::Top(_)) {
                "DESC"
            } else {
                "ASC"
            };
            q.push(("orders[id]".into(), order.into()));
            if let Some(id) = &r.after {
                q.push(("id_greater".into(), id.clone()));
            }
            if let Some(id) = &r.below {
                q.push(("id_less".into(), id.clone()));
            }
        }
    }
    if !include.is_empty() {
        q.push(("include".into(), include.join(",")));
    }
    if let Some(v) = since {
        match def.filter {
            ServerFilter::UpdatedAfter => q.push(("filters[updated_after]".into(), v.into())),
            ServerFilter::After => q.push(("after".into(), v.into())),
            ServerFilter::None => {}
        }
    }
    let query: Vec<String> = q
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    format!("{api_path}/{}?{}", def.path, query.join("&"))
}

/// Refuses anything but a path below the account's API: no absolute URL (a `links` value from a
/// response), no other host, no escape with `..` or control characters. The transport sets the
/// scheme and host from the config; this keeps every request there.
pub(crate) fn on_account_host(api_path: &str, path_and_query: &str) -> Result<(), String> {
    let path = path_and_query.split('?').next().unwrap_or("");
    let ok = path_and_query.starts_with(&format!("{api_path}/"))
        && !path_and_query.contains("://")
        && !path.split('/').any(|seg| seg == "..")
        && !path_and_query
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '#' || c == '@' || c == '\\');
    if ok {
        Ok(())
    } else {
        Err(format!("refused a request outside the account's API ({}): requests go only to the configured api_url host", path_and_query.chars().take(100).collect::<String>()))
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
