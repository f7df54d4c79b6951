//! Switches (off by default) for behaviours the plain server does not show: date filters read in
//! the account's zone whatever zone the value names, and record links that point at a listener
//! which must never be contacted.

use crate::query::Query;
use serde_json::Value;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// The date filter parameters the server applies.
const DATE_FILTERS: &[&str] = &[
    "filters[updated_after]",
    "filters[updated_before]",
    "filters[created_after]",
    "filters[created_before]",
    "after",
];

/// The value without its zone designator (`Z`, `±HH:MM`, `±HHMM`, `±HH` after the time), so the
/// server reads its wall-clock digits in the account's zone. `updated_after` is documented as a
/// date, and the zone the API reads it in is not documented; this is the reading that makes a
/// UTC value name a later instant for an account west of UTC.
pub fn without_zone(v: &str) -> &str {
    let s = v.trim();
    // Only a value with a time part has a zone (the date's own '-' are in its first 10 bytes).
    if s.len() <= 10 || !s.is_char_boundary(10) {
        return s;
    }
    if let Some(cut) = s.strip_suffix(['Z', 'z']) {
        return cut;
    }
    match s[10..].rfind(['+', '-']) {
        Some(i) => &s[..10 + i],
        None => s,
    }
}

/// Rewrites the date filters of a query to their zone-less form (see [`without_zone`]).
pub fn zone_blind(q: &mut Query) {
    for (k, v) in q.pairs.iter_mut() {
        if DATE_FILTERS.contains(&k.as_str()) {
            *v = without_zone(v).to_string();
        }
    }
}

/// The host part of every record link (`links` values and other URLs) the server serves.
pub const LINK_ORIGIN: &str = "https://acct.api-us1.com";

/// Replaces the link origin in every string of an answer by `to` (e.g. the egress listener's
/// `http://127.0.0.1:PORT`).
pub fn relink(v: &mut Value, to: &str) {
    match v {
        Value::String(s) if s.contains(LINK_ORIGIN) => *s = s.replace(LINK_ORIGIN, to),
        Value::Array(a) => a.iter_mut().for_each(|x| relink(x, to)),
        Value::Object(o) => o.values_mut().for_each(|x| relink(x, to)),
        _ => {}
    }
}

/// A loopback listener that accepts and counts connections (and answers nothing): record links
/// point at it, and a client that follows a link shows up in its count.
pub struct EgressListener {
    port: u16,
    count: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl EgressListener {
    /// Listens on 127.0.0.1 with an OS-chosen port.
    pub fn start() -> std::io::Result<EgressListener> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        let port = listener.local_addr()?.port();
        let count = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (Arc::clone(&count), Arc::clone(&stop));
        let accept = std::thread::Builder::new()
            .name("ac-egress".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    if s.load(Ordering::SeqCst) {
                        break;
                    }
                    if conn.is_ok() {
                        c.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })?;
        Ok(EgressListener {
            port,
            count,
            stop,
            accept: Some(accept),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

impl Drop for EgressListener {
    fn drop(&mut self) {
        if let Some(h) = self.accept.take() {
            self.stop.store(true, Ordering::SeqCst);
            // Wake the blocking accept (this last connection is not counted).
            if std::net::TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], self.port))).is_ok() {
                let _ = h.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn zones_are_dropped_from_times_only() {
        for (v, want) in [
            ("2024-03-05T10:11:12Z", "2024-03-05T10:11:12"),
            ("2024-03-05T10:11:12-05:00", "2024-03-05T10:11:12"),
            ("2024-03-05T10:11:12.5+0530", "2024-03-05T10:11:12.5"),
            ("2024-03-05 10:11:12", "2024-03-05 10:11:12"),
            ("2024-03-05", "2024-03-05"),
            ("é", "é"),
        ] {
            assert_eq!(without_zone(v), want, "{v}");
        }
        let mut q = Query::parse("filters%5Bupdated_after%5D=2024-03-05T10:11:12Z&limit=100");
        zone_blind(&mut q);
        assert_eq!(q.get("filters[updated_after]"), Some("2024-03-05T10:11:12"));
        assert_eq!(q.get("limit"), Some("100"));
    }

    #[test]
    fn links_move_and_connections_count() {
        let mut v =
            json!({"links": {"deals": "https://acct.api-us1.com/api/3/contacts/5/deals"}, "n": 1});
        relink(&mut v, "http://127.0.0.1:9");
        assert_eq!(
            v["links"]["deals"],
            "http://127.0.0.1:9/api/3/contacts/5/deals"
        );
        let l = EgressListener::start().expect("listen");
        assert_eq!(l.connections(), 0);
        let _c =
            std::net::TcpStream::connect(l.url().trim_start_matches("http://")).expect("connect");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while l.connections() == 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(l.connections(), 1);
    }
}
