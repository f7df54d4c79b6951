//! Generated documents: configs (each string field generated in turn), Airbyte and Singer
//! catalogs, Airbyte and Singer state, and API list answers.

use super::gen::{cases, start, Gen};
use super::oracle::{self, Expect};
use crate::api::catalog::parse_configured_catalog;
use crate::api::streams::{fixed_streams, StreamDef};
use crate::documents::config::Config;
use crate::documents::state::{parse_state_input, StreamState};
use crate::http::response::{null_zero_dates_raw, parse_page};
use crate::output::singer::selected_streams;
use crate::rules::datetime::Instant;
use crate::vocab::page::record_id;
use serde_json::{json, Map, Value};

const SECRET: &str = "SECRET-KEY-93f1c";

fn valid_config() -> Map<String, Value> {
    json!({"api_url": "https://acme.api-us1.com", "api_key": SECRET, "requests_per_second": 4,
        "start_date": "2024-01-01", "account_timezone": "-05:00", "lookback_window_seconds": 0})
    .as_object()
    .cloned()
    .unwrap_or_default()
}

/// The error names the field and never shows the key.
fn refused_naming(doc: &Map<String, Value>, field: &str) -> String {
    let text = Value::Object(doc.clone()).to_string();
    match Config::parse(&text) {
        Ok(_) => panic!("config must be refused for '{field}': {text}"),
        Err(e) => {
            assert!(
                e.0.contains(&format!("'{field}'")),
                "error must name '{field}': {e} ({text})"
            );
            e.0
        }
    }
}

#[test]
fn config_fields() {
    let (mut g, _seed) = start("config_fields");
    let mut seen = [0usize; 6];
    for _ in 0..cases() {
        let mut doc = valid_config();
        match g.below(6) {
            0 => {
                seen[0] += 1;
                let s = g.offset_text();
                doc.insert("account_timezone".into(), json!(s));
                let text = Value::Object(doc.clone()).to_string();
                match oracle::offset(&s) {
                    Expect::Accept(v) => {
                        let c =
                            Config::parse(&text).unwrap_or_else(|e| panic!("{s:?} refused: {e}"));
                        assert_eq!(c.account_utc_offset_minutes, v, "{s:?}");
                    }
                    Expect::Refuse => {
                        refused_naming(&doc, "account_timezone");
                    }
                    Expect::Either => {
                        if let Err(e) = Config::parse(&text) {
                            assert!(e.0.contains("'account_timezone'"), "{s:?}: {e}");
                        }
                    }
                }
            }
            1 => {
                seen[1] += 1;
                let off = g.below(24 * 60 + 1) as i32 - 12 * 60;
                let tz = format!(
                    "{}{:02}:{:02}",
                    if off < 0 { '-' } else { '+' },
                    off.abs() / 60,
                    off.abs() % 60
                );
                let (s, parts) = g.timestamp_text();
                doc.insert("account_timezone".into(), json!(tz));
                doc.insert("start_date".into(), json!(s));
                let text = Value::Object(doc.clone()).to_string();
                let want = match &parts {
                    Some(p) => oracle::timestamp(p, off as i64),
                    None if oracle::has_non_ascii(&s) => Expect::Refuse,
                    None if s.trim().is_empty() => Expect::Either,
                    None => Expect::Either,
                };
                match want {
                    Expect::Accept(ns) => {
                        let c =
                            Config::parse(&text).unwrap_or_else(|e| panic!("{s:?} refused: {e}"));
                        assert_eq!(c.start_date, Some(Instant(ns)), "start_date {s:?} at {tz}");
                    }
                    Expect::Refuse => {
                        refused_naming(&doc, "start_date");
                    }
                    Expect::Either => {
                        if let Err(e) = Config::parse(&text) {
                            assert!(e.0.contains("'start_date'"), "{s:?}: {e}");
                        }
                    }
                }
            }
            2 => {
                seen[2] += 1;
                let (url, valid) = g.url_text();
                doc.insert("api_url".into(), json!(url));
                let text = Value::Object(doc.clone()).to_string();
                if valid {
                    let c = Config::parse(&text).unwrap_or_else(|e| panic!("{url:?} refused: {e}"));
                    assert_eq!(c.base.api_path, "/api/3");
                    assert_eq!(c.base.scheme, "https");
                    assert!(
                        url.to_ascii_lowercase().contains(&c.base.authority),
                        "{url:?}"
                    );
                } else if oracle::has_non_ascii(&url) {
                    // Non-ASCII inside (Unicode spaces around it are trimmed).
                    refused_naming(&doc, "api_url");
                } else if let Err(e) = Config::parse(&text) {
                    assert!(e.0.contains("'api_url'"), "{url:?}: {e}");
                }
            }
            3 => {
                seen[3] += 1;
                let key = if g.one_in(2) {
                    g.text(12)
                } else {
                    g.mangle(SECRET)
                };
                doc.insert("api_key".into(), json!(key));
                let text = Value::Object(doc.clone()).to_string();
                match oracle::api_key(&key) {
                    Some(k) => {
                        let c =
                            Config::parse(&text).unwrap_or_else(|e| panic!("{key:?} refused: {e}"));
                        assert_eq!(c.api_key.expose(), k);
                    }
                    None => {
                        let e = refused_naming(&doc, "api_key");
                        let t = key.trim();
                        if t.len() >= 4 {
                            assert!(!e.contains(t), "key in error: {e}");
                        }
                    }
                }
            }
            4 => {
                seen[4] += 1;
                let field = *g.pick(&[
                    "requests_per_second",
                    "lookback_window_seconds",
                    "max_attempts",
                    "max_retry_wait_seconds",
                ]);
                let n = format!("{}", 1 + g.below(40));
                let s = if g.one_in(2) { n } else { g.mangle(&n) };
                doc.insert(field.into(), json!(s));
                let text = Value::Object(doc.clone()).to_string();
                match oracle::plain_decimal(&s) {
                    Some(v) if (1.0..=40.0).contains(&v) => {
                        let c = Config::parse(&text)
                            .unwrap_or_else(|e| panic!("{field} {s:?} refused: {e}"));
                        let got = match field {
                            "requests_per_second" => c.requests_per_second,
                            "lookback_window_seconds" => c.lookback_window_seconds as f64,
                            "max_attempts" => c.max_attempts as f64,
                            _ => c.max_retry_wait_seconds as f64,
                        };
                        assert!(
                            (got - v).abs() < 1.0 + 1e-9 && got <= v + 1e-9,
                            "{field} {s:?} -> {got}"
                        );
                    }
                    Some(_) => {}
                    None if oracle::has_non_ascii(&s) => {
                        refused_naming(&doc, field);
                    }
                    None => {
                        if let Err(e) = Config::parse(&text) {
                            assert!(e.0.contains(&format!("'{field}'")), "{s:?}: {e}");
                        }
                    }
                }
            }
            _ => {
                // Several fields at once, any of them any type: no panic, a message that names a
                // field or the document, never the key.
                seen[5] += 1;
                for _ in 0..1 + g.below(4) {
                    let field = *g.pick(&[
                        "api_url",
                        "api_key",
                        "start_date",
                        "account_timezone",
                        "requests_per_second",
                        "sideload_contact_children",
                        "max_attempts",
                    ]);
                    let v = match g.below(4) {
                        0 => json!(g.text(10)),
                        1 => json!(g.offset_text()),
                        2 => json!(g.timestamp_text().0),
                        _ => json!(g.next() as i64 >> g.below(64)),
                    };
                    doc.insert(field.into(), v);
                }
                let mut text = Value::Object(doc.clone()).to_string();
                if g.one_in(4) {
                    text = g.mangle(&text);
                }
                if let Err(e) = Config::parse(&text) {
                    assert!(e.0.contains("config"), "{e}");
                    assert!(!e.0.contains(SECRET), "key in error: {e}");
                }
            }
        }
    }
    assert!(seen.iter().all(|n| *n > cases() / 10), "{seen:?}");
}

/// A stream name: a known one, a known one with an edit (often multibyte), or text.
fn stream_name(g: &mut Gen, known: &[StreamDef]) -> (String, bool) {
    let def = g.pick(known);
    match g.below(4) {
        0 => (g.mangle(&def.name), false),
        1 => (g.text(10), false),
        _ => (def.name.clone(), true),
    }
}

#[test]
fn airbyte_catalog() {
    let (mut g, _seed) = start("airbyte_catalog");
    let known = fixed_streams();
    let mut accepted = 0;
    for _ in 0..cases() {
        let mut entries = Vec::new();
        // Expected selection, or None when the catalog must be refused.
        let mut want: Option<Vec<(String, bool)>> = Some(Vec::new());
        for _ in 0..1 + g.below(4) {
            let (name, is_known) = stream_name(&mut g, &known);
            let def = known.iter().find(|d| d.name == name);
            let (mode, mode_ok, incremental) = match g.below(5) {
                // Incremental on a stream without a cursor is read in full (as Airbyte's CDK).
                0 => (
                    json!("incremental"),
                    true,
                    def.is_some_and(StreamDef::supports_incremental),
                ),
                1 => (json!(g.mangle("full_refresh")), false, false),
                2 => (Value::Null, true, false),
                _ => (json!("full_refresh"), true, false),
            };
            let mut e = json!({"stream": {"name": name, "json_schema": {}}, "sync_mode": mode, "destination_sync_mode": "append"});
            if incremental && g.one_in(3) {
                e["cursor_field"] = json!([def.and_then(|d| d.cursor.clone()).unwrap_or_default()]);
            }
            entries.push(e);
            let is_known = is_known || def.is_some();
            let dup = want
                .as_ref()
                .is_some_and(|w| w.iter().any(|(n, _)| *n == name));
            // The mangled sync_mode can equal a valid one by chance.
            let mode_ok = mode_ok || (mode == json!("full_refresh"));
            want = match want {
                Some(mut w) if is_known && mode_ok && !dup => {
                    w.push((name, incremental && mode == json!("incremental")));
                    Some(w)
                }
                _ => None,
            };
        }
        let text = json!({"streams": entries}).to_string();
        let got = parse_configured_catalog(&text, &known);
        match want {
            Some(w) => {
                accepted += 1;
                let sel = got.unwrap_or_else(|e| panic!("catalog refused: {e}\n{text}"));
                let have: Vec<(String, bool)> =
                    sel.into_iter().map(|s| (s.name, s.incremental)).collect();
                assert_eq!(have, w, "{text}");
            }
            None => {
                let e = got
                    .err()
                    .unwrap_or_else(|| panic!("catalog must be refused: {text}"));
                assert!(e.contains("catalog"), "{e}");
            }
        }
        // The same document damaged at a character boundary: no panic, a message.
        if let Err(e) = parse_configured_catalog(&g.mangle(&text), &known) {
            assert!(!e.is_empty());
        }
    }
    assert!(accepted > cases() / 20, "accepted {accepted}");
}

#[test]
fn singer_catalog() {
    let (mut g, _seed) = start("singer_catalog");
    let known = fixed_streams();
    let mut accepted = 0;
    for _ in 0..cases() {
        let mut entries = Vec::new();
        let mut want: Expect<Vec<(String, bool)>> = Expect::Accept(Vec::new());
        let mut used: Vec<String> = Vec::new();
        for _ in 0..1 + g.below(4) {
            let (name, is_known) = stream_name(&mut g, &known);
            let def = known.iter().find(|d| d.name == name);
            let selected = g.below(3) != 0;
            let in_meta = g.one_in(2);
            let (method, incremental, method_ok) = match g.below(5) {
                0 => (json!("FULL_TABLE"), false, true),
                1 if def.is_some_and(StreamDef::supports_incremental) => {
                    (json!("INCREMENTAL"), true, true)
                }
                2 => (json!(g.mangle("INCREMENTAL")), false, false),
                _ => (json!("FULL_TABLE"), false, true),
            };
            let mut top = json!({"inclusion": "available", "replication-method": method});
            let mut e = json!({"tap_stream_id": name, "stream": name, "schema": {"type": "object"}, "key_properties": ["id"]});
            if incremental {
                let key = def.and_then(|d| d.cursor.clone()).unwrap_or_default();
                top["valid-replication-keys"] = json!([key]);
                e["replication_key"] = json!(key);
            }
            if in_meta {
                top["selected"] = json!(selected);
            } else {
                e["selected"] = json!(selected);
            }
            e["metadata"] = json!([{"breadcrumb": [], "metadata": top}]);
            entries.push(e);
            let dup = used.contains(&name);
            used.push(name.clone());
            let mangled_ok = method == json!("FULL_TABLE") || method == json!("INCREMENTAL");
            want = match want {
                _ if selected && !method_ok && !mangled_ok => Expect::Refuse,
                // A damaged method that came out valid by chance: not judged.
                _ if !method_ok && mangled_ok => Expect::Either,
                Expect::Accept(mut w) if selected && (is_known || def.is_some()) && !dup => {
                    w.push((name, incremental));
                    Expect::Accept(w)
                }
                Expect::Accept(w) if !selected => Expect::Accept(w),
                Expect::Refuse => Expect::Refuse,
                _ => Expect::Either,
            };
        }
        let text = json!({"streams": entries}).to_string();
        let got = selected_streams(&text);
        match want {
            Expect::Accept(w) if !w.is_empty() => {
                accepted += 1;
                let sel = got.unwrap_or_else(|e| panic!("Singer catalog refused: {e}\n{text}"));
                let have: Vec<(String, bool)> =
                    sel.into_iter().map(|s| (s.name, s.incremental)).collect();
                assert_eq!(have, w, "{text}");
            }
            Expect::Accept(_) | Expect::Refuse => {
                let e = got
                    .err()
                    .unwrap_or_else(|| panic!("Singer catalog must be refused: {text}"));
                assert!(e.contains("catalog"), "{e}");
            }
            Expect::Either => {
                if let Err(e) = got {
                    assert!(!e.is_empty());
                }
            }
        }
        if let Err(e) = selected_streams(&g.mangle(&text)) {
            assert!(!e.is_empty());
        }
    }
    assert!(accepted > cases() / 20, "accepted {accepted}");
}

#[test]
fn state_forms() {
    let (mut g, _seed) = start("state_forms");
    let known = fixed_streams();
    let (mut exact, mut refused) = (0, 0);
    for _ in 0..cases() {
        // Distinct names (a later duplicate would win), each with a cursor text.
        let mut streams: Vec<(String, String, Expect<i128>)> = Vec::new();
        for _ in 0..1 + g.below(3) {
            let (name, _) = stream_name(&mut g, &known);
            if streams.iter().any(|(n, _, _)| *n == name) {
                continue;
            }
            let (s, parts) = g.timestamp_text();
            let want = match &parts {
                Some(p) => oracle::timestamp(p, 0),
                None if oracle::has_non_ascii(&s) => Expect::Refuse,
                None => Expect::Either,
            };
            streams.push((name, s, want));
        }
        let form = g.below(4);
        let state_of = |s: &str| {
            if form == 3 {
                json!({"udate": s})
            } else {
                json!({"cursor": s, "cursor_ids": ["1"]})
            }
        };
        let doc = match form {
            0 => json!(streams.iter().map(|(n, s, _)| json!({"type": "STREAM", "stream": {"stream_descriptor": {"name": n}, "stream_state": state_of(s)}})).collect::<Vec<_>>()),
            1 => json!([{"type": "GLOBAL", "global": {"stream_states": streams.iter().map(|(n, s, _)| json!({"stream_descriptor": {"name": n}, "stream_state": state_of(s)})).collect::<Vec<_>>()}}]),
            2 => Value::Object(streams.iter().map(|(n, s, _)| (n.clone(), state_of(s))).collect()),
            _ => json!({"bookmarks": Value::Object(streams.iter().map(|(n, s, _)| (n.clone(), state_of(s))).collect())}),
        };
        let text = doc.to_string();
        let map = parse_state_input(&text).unwrap_or_else(|e| panic!("state refused: {e}\n{text}"));
        // The legacy object form can't carry a stream named "type" or "data" (they are the
        // envelope's keys); every other name arrives as it was written.
        let expected: Vec<&String> = streams
            .iter()
            .map(|(n, _, _)| n)
            .filter(|n| {
                form == 0
                    || form == 1
                    || (n.as_str() != "bookmarks" && n.as_str() != "data" && n.as_str() != "type")
            })
            .collect();
        if expected.len() == streams.len() {
            assert_eq!(
                map.keys().collect::<Vec<_>>().len(),
                expected.len(),
                "{text}"
            );
        }
        for (name, s, want) in &streams {
            let Some(v) = map.get(name) else { continue };
            let got = StreamState::from_value(name, v, Some("udate"));
            match want {
                Expect::Accept(ns) => {
                    exact += 1;
                    let st = got.unwrap_or_else(|e| panic!("cursor {s:?} refused: {e}"));
                    assert_eq!(st.cursor, Some(Instant(*ns)), "cursor {s:?}");
                }
                Expect::Refuse => {
                    refused += 1;
                    let e = got
                        .err()
                        .unwrap_or_else(|| panic!("cursor {s:?} must be refused"));
                    assert!(e.0.contains("state of stream"), "{e}");
                }
                Expect::Either => {}
            }
        }
        if let Ok(map) = parse_state_input(&g.mangle(&text)) {
            for (name, v) in map {
                if let Err(e) = StreamState::from_value(&name, &v, Some("udate")) {
                    assert!(!e.0.is_empty());
                }
            }
        }
    }
    assert!(
        exact > cases() / 4 && refused > super::gen::share(100),
        "exact {exact} refused {refused}"
    );
}

#[test]
fn list_answers() {
    let (mut g, _seed) = start("list_answers");
    for _ in 0..cases() {
        let n = g.below(5);
        let records: Vec<Value> = (0..n)
            .map(|i| {
                let mut r = Map::new();
                r.insert("id".into(), json!((i + 1).to_string()));
                for k in ["udate", "cdate", "email", "name"] {
                    let v = match g.below(4) {
                        0 => json!(g.timestamp_text().0),
                        1 => json!(g.text(12)),
                        2 => json!(g.pick(&[
                            "0000-00-00",
                            "0000-00-00 00:00:00",
                            "0000-00-00T00:00:00"
                        ])),
                        _ => Value::Null,
                    };
                    r.insert(k.into(), v);
                }
                r.insert("links".into(), json!({"self": g.text(8)}));
                Value::Object(r)
            })
            .collect();
        let total = match g.below(3) {
            0 => json!(n.to_string()),
            1 => json!(n),
            _ => json!(g.text(3)),
        };
        let body = json!({"contacts": records, "meta": {"total": total}}).to_string();
        let page =
            parse_page(body.as_bytes(), "contacts", &[]).unwrap_or_else(|e| panic!("{e}: {body}"));
        assert_eq!(page.main.len(), records.len());
        for (raw, want) in page.main.iter().zip(&records) {
            assert_eq!(record_id(raw), want["id"].as_str().unwrap_or(""));
            let got: Value = serde_json::from_str(&null_zero_dates_raw(raw.get()))
                .unwrap_or_else(|e| panic!("{e}: {}", raw.get()));
            assert_eq!(got, oracle::zero_dates_nulled(want), "{body}");
        }
        // Damaged at a character boundary: no panic, and if it still reads, records are objects.
        if let Ok(p) = parse_page(g.mangle(&body).as_bytes(), "contacts", &[]) {
            for r in &p.main {
                assert!(r.get().starts_with('{'));
            }
        }
        let msg = json!({"message": g.text(30)}).to_string();
        if let Some(m) = crate::http::response::error_message(g.mangle(&msg).as_bytes()) {
            assert!(m.chars().count() <= 200 && !m.chars().any(char::is_control));
        }
    }
}
