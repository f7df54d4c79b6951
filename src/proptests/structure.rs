//! Generated whole documents (JSON trees of the parsers' own keys, valid documents damaged):
//! config, catalog, state, API answers, timestamps, command lines, URLs. None may panic, every
//! refusal must say something, and the key never appears in an error. Seeded per run (see mod.rs).

use super::gen::share;
use crate::api::catalog::parse_configured_catalog;
use crate::api::streams::fixed_streams;
use crate::commands::cli::parse_args;
use crate::documents::config::{parse_base_url, Config};
use crate::documents::state::{parse_state_input, StreamState};
use crate::http::response::{error_message, parse_page};
use crate::http::retry::next_random;
use crate::rules::datetime::{parse_instant, parse_offset};
use serde_json::{json, Map, Value};

const SECRET: &str = "SECRET-KEY-93f1c";

struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        next_random(&mut self.0)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn text(&mut self) -> String {
        const PIECES: &[&str] = &[
            "",
            "a",
            "0",
            "-1",
            "1e309",
            "2024-01-01",
            "2024-13-45T25:61:61+99:99",
            "0000-00-00",
            "http://",
            "https://x.api-us1.com",
            "/api/3",
            "é",
            "東京",
            "\u{0}",
            "\"",
            "\\",
            "{",
            "[",
            "%",
            "@",
            "?",
            "#",
            " ",
            "\n",
            "99999999999999999999",
            SECRET,
        ];
        let n = self.below(4);
        (0..n).map(|_| self.pick(PIECES).to_string()).collect()
    }
    fn value(&mut self, depth: u32) -> Value {
        const KEYS: &[&str] = &[
            "api_url",
            "api_key",
            "requests_per_second",
            "start_date",
            "account_timezone",
            "lookback_window_seconds",
            "max_attempts",
            "streams",
            "stream",
            "name",
            "sync_mode",
            "cursor_field",
            "type",
            "state",
            "stream_descriptor",
            "stream_state",
            "cursor",
            "cursor_ids",
            "resume",
            "offset",
            "id_greater",
            "pass_max",
            "global",
            "stream_states",
            "data",
            "bookmarks",
            "contacts",
            "fieldValues",
            "meta",
            "total",
            "id",
            "message",
            "errors",
            "title",
            "detail",
            "udate",
            "catalog",
        ];
        match if depth > 3 {
            self.below(5)
        } else {
            self.below(8)
        } {
            0 => Value::Null,
            1 => Value::Bool(self.below(2) == 0),
            2 => json!(self.next() as i64 >> self.below(64)),
            3 => json!((self.next() as f64) / 1e9 - 9e9),
            4 => Value::String(self.text()),
            5 | 6 => {
                let mut m = Map::new();
                for _ in 0..self.below(5) {
                    let k = self.pick(KEYS).to_string();
                    let v = self.value(depth + 1);
                    m.insert(k, v);
                }
                Value::Object(m)
            }
            _ => Value::Array((0..self.below(4)).map(|_| self.value(depth + 1)).collect()),
        }
    }
    /// A valid document, then maybe damaged: truncated, a byte changed, or a subtree replaced.
    fn mutate(&mut self, valid: &Value) -> String {
        let mut v = valid.clone();
        if self.below(3) == 0 {
            replace_random(self, &mut v);
        }
        let mut s = v.to_string();
        match self.below(4) {
            0 if !s.is_empty() => {
                let cut = self.below(s.len() as u64) as usize;
                s = String::from_utf8_lossy(&s.as_bytes()[..cut]).into_owned();
            }
            1 if !s.is_empty() => {
                let mut b = s.into_bytes();
                let i = self.below(b.len() as u64) as usize;
                b[i] = self.next() as u8;
                s = String::from_utf8_lossy(&b).into_owned();
            }
            _ => {}
        }
        s
    }
}

fn replace_random(g: &mut Gen, v: &mut Value) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            let keys: Vec<String> = m.keys().cloned().collect();
            let k = g.pick(&keys).clone();
            if g.below(2) == 0 {
                m.insert(k, g.value(2));
            } else if let Some(child) = m.get_mut(&k) {
                replace_random(g, child);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            let i = g.below(a.len() as u64) as usize;
            replace_random(g, &mut a[i]);
        }
        _ => *v = g.value(2),
    }
}

fn input(g: &mut Gen, valid: &[Value]) -> String {
    match g.below(3) {
        0 => g.value(0).to_string(),
        1 => g.text(),
        _ => {
            let doc = g.pick(valid).clone();
            g.mutate(&doc)
        }
    }
}

#[test]
fn config_parser() {
    let (mut seeded, _seed) = super::gen::start("config_parser");
    let mut g = Gen(seeded.next());
    let valid = [
        json!({"api_url": "https://a.api-us1.com", "api_key": SECRET, "requests_per_second": 4, "start_date": "2024-01-01", "account_timezone": "-05:00"}),
    ];
    let (mut ok, mut err) = (0, 0);
    for _ in 0..super::gen::cases() {
        let text = input(&mut g, &valid);
        let key = serde_json::from_str::<Value>(&text).ok().and_then(|v| {
            v.get("api_key")
                .and_then(Value::as_str)
                .map(|k| k.trim().to_string())
        });
        match Config::parse(&text) {
            Ok(c) => {
                ok += 1;
                assert!(c.requests_per_second > 0.0 && c.max_attempts >= 1);
            }
            Err(e) => {
                err += 1;
                assert!(!e.0.is_empty());
                if let Some(k) = key.filter(|k| k.len() >= 4) {
                    assert!(!e.0.contains(&k), "key in error: {e}");
                }
            }
        }
    }
    assert!(ok > share(100) && err > share(100), "ok {ok} err {err}");
}

#[test]
fn state_parser() {
    let (mut seeded, _seed) = super::gen::start("state_parser");
    let mut g = Gen(seeded.next());
    let valid = [
        json!([{"type": "STREAM", "stream": {"stream_descriptor": {"name": "contacts"}, "stream_state": {"cursor": "2024-01-01T00:00:00Z", "cursor_ids": ["1"], "resume": {"id_greater": "7"}, "pass_max": "2024-02-01T00:00:00Z"}}}]),
        json!({"tags": {"resume": {"offset": 300}}, "deals": {"mdate": "2024-01-01"}}),
        json!([{"type": "GLOBAL", "global": {"stream_states": [{"stream_descriptor": {"name": "tags"}, "stream_state": {}}]}}]),
    ];
    let mut accepted = 0;
    for _ in 0..super::gen::cases() {
        match parse_state_input(&input(&mut g, &valid)) {
            Ok(map) => {
                for (name, v) in map {
                    match StreamState::from_value(&name, &v, Some("udate")) {
                        Ok(st) => {
                            accepted += 1;
                            // What was read can be written and read back unchanged.
                            let back = StreamState::from_value(&name, &st.to_value(), None)
                                .expect("roundtrip");
                            assert_eq!(back.resume, st.resume);
                            assert_eq!(back.cursor, st.cursor);
                        }
                        Err(e) => assert!(!e.0.is_empty()),
                    }
                }
            }
            Err(e) => assert!(!e.0.is_empty()),
        }
    }
    assert!(accepted > share(100), "accepted {accepted}");
}

#[test]
fn catalog_parser() {
    let (mut seeded, _seed) = super::gen::start("catalog_parser");
    let mut g = Gen(seeded.next());
    let known = fixed_streams();
    let valid = [
        json!({"streams": [{"stream": {"name": "contacts"}, "sync_mode": "incremental", "cursor_field": ["udate"]}, {"stream": {"name": "tags"}, "sync_mode": "full_refresh"}]}),
    ];
    let mut ok = 0;
    for _ in 0..super::gen::cases() {
        match parse_configured_catalog(&input(&mut g, &valid), &known) {
            Ok(sel) => {
                ok += 1;
                assert!(sel.iter().all(|s| known.iter().any(|d| d.name == s.name)));
            }
            Err(e) => assert!(!e.is_empty()),
        }
    }
    assert!(ok > share(100), "ok {ok}");
}

fn has_zero_date(v: &Value) -> bool {
    match v {
        Value::String(s) => crate::rules::datetime::is_zero_date(s),
        Value::Array(a) => a.iter().any(has_zero_date),
        Value::Object(o) => o.values().any(has_zero_date),
        _ => false,
    }
}

#[test]
fn page_parser() {
    let (mut seeded, _seed) = super::gen::start("page_parser");
    let mut g = Gen(seeded.next());
    let valid = [
        json!({"contacts": [{"id": "1", "udate": "2024-01-01T00:00:00-05:00", "bounced_date": "0000-00-00"}], "fieldValues": [{"id": "3"}], "meta": {"total": "1"}}),
        json!({"errors": [{"status": 403, "title": "Forbidden", "detail": "no"}]}),
        json!({"message": "No Result found"}),
    ];
    for _ in 0..super::gen::cases() {
        let body = input(&mut g, &valid);
        if let Ok(p) = parse_page(body.as_bytes(), "contacts", &["fieldValues"]) {
            for r in &p.main {
                let text = crate::http::response::null_zero_dates_raw(r.get());
                // Valid JSON by the grammar (which allows numbers beyond f64, such as 1e309,
                // that serde_json's Value refuses and the record passes on verbatim).
                let raw: Box<serde_json::value::RawValue> =
                    serde_json::from_str(&text).expect("records stay valid JSON");
                assert!(raw.get().starts_with('{'));
                if let Ok(v) = serde_json::from_str::<Value>(&text) {
                    assert!(v.is_object());
                    assert!(!has_zero_date(&v), "{v}");
                }
            }
        }
        if let Some(m) = error_message(body.as_bytes()) {
            assert!(m.chars().count() <= 200 && !m.chars().any(char::is_control));
        }
    }
    // Raw bytes too: not even UTF-8.
    for _ in 0..super::gen::cases() {
        let bytes: Vec<u8> = (0..g.below(64)).map(|_| g.next() as u8).collect();
        assert!(parse_page(&bytes, "contacts", &[]).is_err() || bytes.starts_with(b"{"));
        let _ = error_message(&bytes);
    }
}

#[test]
fn timestamp_parser() {
    let (mut seeded, _seed) = super::gen::start("timestamp_parser");
    let mut g = Gen(seeded.next());
    let mut parsed = 0;
    for _ in 0..super::gen::cases() {
        let y = 1900 + g.below(300);
        let s = match g.below(4) {
            0 => g.text(),
            1 => format!(
                "{y:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}",
                g.below(14),
                g.below(33),
                g.below(26),
                g.below(62),
                g.below(62),
                g.pick(&["Z", "-05:00", "+0530", "", "+99:00", ".123456789Z"])
            ),
            2 => format!(
                "{y:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                1 + g.below(12),
                1 + g.below(28),
                g.below(24),
                g.below(60),
                g.below(60)
            ),
            _ => {
                let mut b: Vec<u8> = format!("{y:04}-06-15T12:30:45-05:00").into_bytes();
                let i = g.below(b.len() as u64) as usize;
                b[i] = g.next() as u8;
                String::from_utf8_lossy(&b).into_owned()
            }
        };
        if let Some(t) = parse_instant(&s, -300) {
            parsed += 1;
            // The stored form reads back to the same instant.
            assert_eq!(parse_instant(&t.to_rfc3339(), 0), Some(t), "{s}");
        }
        let _ = parse_offset(&s);
    }
    assert!(parsed > share(1000), "parsed {parsed}");
}

#[test]
fn command_line_and_url_parsers() {
    let (mut seeded, _seed) = super::gen::start("command_line_and_url_parsers");
    let mut g = Gen(seeded.next());
    const WORDS: &[&str] = &[
        "spec",
        "check",
        "discover",
        "read",
        "--config",
        "--catalog",
        "--state",
        "--config=",
        "--help",
        "-h",
        "x.json",
        "",
        "--bogus",
        "=",
        "/data/c.json",
    ];
    for _ in 0..super::gen::cases() {
        let args: Vec<String> = (0..g.below(7)).map(|_| g.pick(WORDS).to_string()).collect();
        if let Err(e) = parse_args(&args) {
            assert!(!e.is_empty());
        }
        let url = format!(
            "{}{}{}",
            g.pick(&["https://", "http://", "", "ftp://", "HTTPS://"]),
            g.text(),
            g.pick(&["", "/api/3", ":8080", "@evil.com", "/?k=v", "127.0.0.1"])
        );
        match parse_base_url(&url) {
            Ok(b) => {
                assert!(b.api_path.ends_with("/api/3"));
                assert!(!b.authority.contains('@') && !b.authority.contains('?'));
                assert!(
                    b.scheme == "https" || crate::rules::address::is_loopback_host(&b.host),
                    "{url}"
                );
            }
            Err(e) => assert!(e.0.contains("api_url")),
        }
    }
}
