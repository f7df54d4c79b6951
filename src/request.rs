//! Building the path and query of each page request.

use crate::streams::{Paging, ServerFilter, StreamDef};

/// Records per page: the API's maximum.
pub const PAGE_LIMIT: u64 = 100;

/// A slice of the id space walked by keyset paging: ids greater than `after` and less than
/// `below` (either end open when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdRange {
    /// Exclusive lower bound: the last id read.
    pub after: Option<String>,
    /// Exclusive upper bound.
    pub below: Option<String>,
}

/// Where one page request starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    /// Offset paging: records skipped.
    Offset(u64),
    /// Keyset paging inside an id range.
    Keyset(IdRange),
    /// The newest record alone (`orders[id]=DESC&limit=1`): tells how far the id space goes, so
    /// keyset paging can split it into ranges read in parallel.
    Newest,
}

impl Position {
    /// The first page of a stream.
    pub fn start(def: &StreamDef) -> Position {
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
pub fn encode(s: &str) -> String {
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
pub fn page_path(
    api_path: &str,
    def: &StreamDef,
    pos: &Position,
    since: Option<&str>,
    include: &[String],
) -> String {
    let limit = if *pos == Position::Newest {
        1
    } else {
        PAGE_LIMIT
    };
    let mut q: Vec<(String, String)> = vec![("limit".into(), limit.to_string())];
    match pos {
        Position::Newest => q.push(("orders[id]".into(), "DESC".into())),
        Position::Offset(o) => {
            q.push(("offset".into(), o.to_string()));
            if def.orders_by_id() {
                q.push(("orders[id]".into(), "ASC".into()));
            }
        }
        Position::Keyset(r) => {
            q.push(("orders[id]".into(), "ASC".into()));
            if let Some(id) = &r.after {
                q.push(("id_greater".into(), id.clone()));
            }
            if let Some(id) = &r.below {
                q.push(("id_less".into(), id.clone()));
            }
        }
    }
    if !include.is_empty() && *pos != Position::Newest {
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
pub fn on_account_host(api_path: &str, path_and_query: &str) -> Result<(), String> {
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
mod tests {
    use super::*;
    use crate::streams::fixed_streams;

    fn def(name: &str) -> StreamDef {
        fixed_streams()
            .into_iter()
            .find(|d| d.name == name)
            .unwrap()
    }

    #[test]
    fn offset_page() {
        let p = page_path("/api/3", &def("tags"), &Position::Offset(200), None, &[]);
        assert_eq!(p, "/api/3/tags?limit=100&offset=200");
    }

    #[test]
    fn offset_pages_ask_for_id_order_where_documented() {
        let p = page_path("/api/3", &def("lists"), &Position::Offset(99), None, &[]);
        assert_eq!(p, "/api/3/lists?limit=100&offset=99&orders%5Bid%5D=ASC");
        let p = page_path(
            "/api/3",
            &def("email_activities"),
            &Position::Offset(0),
            None,
            &[],
        );
        assert!(p.ends_with("orders%5Bid%5D=ASC"), "{p}");
        let p = page_path(
            "/api/3",
            &def("contact_lists"),
            &Position::Offset(0),
            None,
            &[],
        );
        assert!(!p.contains("orders"), "{p}");
    }

    #[test]
    fn keyset_page_with_filter() {
        let p = page_path(
            "/api/3",
            &def("contacts"),
            &Position::Keyset(IdRange {
                after: Some("42".into()),
                below: Some("90".into()),
            }),
            Some("2024-01-01T00:00:00Z"),
            &["fieldValues".into(), "contactTags".into()],
        );
        assert_eq!(p, "/api/3/contacts?limit=100&orders%5Bid%5D=ASC&id_greater=42&id_less=90&include=fieldValues%2CcontactTags&filters%5Bupdated_after%5D=2024-01-01T00%3A00%3A00Z");
    }

    #[test]
    fn newest_probe() {
        let p = page_path(
            "/api/3",
            &def("contacts"),
            &Position::Newest,
            None,
            &["fieldValues".into()],
        );
        assert_eq!(p, "/api/3/contacts?limit=1&orders%5Bid%5D=DESC");
    }

    #[test]
    fn filters_only_where_supported() {
        let p = page_path(
            "/api/3",
            &def("tags"),
            &Position::Offset(0),
            Some("2024"),
            &[],
        );
        assert!(!p.contains("2024"));
        let p = page_path(
            "/api/3",
            &def("activities"),
            &Position::Offset(0),
            Some("2024"),
            &[],
        );
        assert!(p.ends_with("&after=2024"));
    }

    #[test]
    fn only_the_accounts_api() {
        assert!(on_account_host("/api/3", "/api/3/tags?limit=100&offset=0").is_ok());
        for bad in [
            "https://evil.example.com/api/3/tags",
            "/api/3/https://evil.example.com/",
            "/other",
            "/api/3/../admin",
            "//evil.example.com/api/3/x",
            "/api/3/x@evil",
            "/api/3/x y",
        ] {
            assert!(on_account_host("/api/3", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn encoding() {
        assert_eq!(encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }
}
