//! The four operations (spec, check, discover, read) over any transport and sink, shared by the
//! WIT exports and the command line.

use crate::catalog::{discovered_streams, parse_configured_catalog};
use crate::config::Config;
use crate::engine::{
    first_pages, lanes, read as read_jobs, Client, ErrorEvent, Failure, Job, ReadSummary, Sink,
    StreamSummary, Transport,
};
use crate::protocol::{catalog_message, spec_message, FailureType};
use crate::schemas::custom_object_schema;
use crate::state::{parse_state_input, StreamState};
use crate::streams::{custom_object_stream, fixed_streams, StreamDef};
use serde_json::Value;
use std::collections::BTreeMap;

/// The SPEC message.
pub fn spec() -> Value {
    spec_message(crate::config::connection_specification())
}

fn config_failure(message: String) -> Failure {
    Failure {
        kind: FailureType::Config,
        message,
    }
}

/// Parses the config text, as a failure the caller can report.
pub fn load_config(text: &str) -> Result<Config, Failure> {
    Config::parse(text).map_err(|e| config_failure(e.0))
}

/// Result of check: whether the account answered, and what a person should know.
pub fn check(transport: &mut dyn Transport, config: &Config) -> (bool, String) {
    let mut client = Client::new(transport, config);
    match client.verify_key() {
        Ok(resp) => {
            let who = serde_json::from_slice::<Value>(&resp.body)
                .ok()
                .and_then(|v| {
                    v.pointer("/user/username")
                        .and_then(Value::as_str)
                        .map(|s| s.chars().take(80).collect::<String>())
                });
            match who {
                Some(u) => (true, format!("Connected to {} as user '{u}'", config.base.host)),
                None => (false, format!("{} answered users/me without a user; check that 'api_url' is your account's API URL from Settings > Developer", config.base.host)),
            }
        }
        Err(f) => (
            false,
            format!(
                "Could not read {}: {}",
                config
                    .base
                    .display(&format!("{}/users/me", config.base.api_path)),
                f.message
            ),
        ),
    }
}

/// The first page of the custom object schemas (fetched alongside the key check).
const CUSTOM_SCHEMAS_FIRST_PAGE: &str = "customObjects/schemas?limit=100&offset=0";

/// Custom object streams of the account, with their schemas. An account without the feature
/// (403/404) simply has none; an outage (5xx, garbage) leaves them unknown. Either way the
/// failure is returned (for a log line, and for the custom object streams a catalog names).
pub fn custom_object_streams(client: &mut Client) -> (Vec<(StreamDef, Value)>, Option<Failure>) {
    let mut out = Vec::new();
    let mut offset = 0u64;
    loop {
        let resp = match client.get(&format!("customObjects/schemas?limit=100&offset={offset}")) {
            Ok(r) => r,
            Err(f) => return (out, Some(Failure { kind: f.kind, message: format!("custom objects are not readable on this account ({}); their streams are left out", f.message) })),
        };
        let page = match crate::response::parse_page(&resp.body, "schemas", &[]) {
            Ok(p) => p,
            // No list at all: no schemas.
            Err(crate::response::BadPage::Empty(_)) => return (out, None),
            Err(e) => {
                return (
                    out,
                    Some(Failure {
                        kind: FailureType::Transient,
                        message: format!(
                        "custom object schemas could not be read ({e}); their streams are left out"
                    ),
                    }),
                )
            }
        };
        let n = page.main.len() as u64;
        for raw in &page.main {
            let Ok(s) = serde_json::from_str::<Value>(raw.get()) else {
                continue;
            };
            let (Some(id), Some(slug)) = (
                s.get("id").and_then(Value::as_str),
                s.get("slug").and_then(Value::as_str),
            ) else {
                continue;
            };
            out.push((custom_object_stream(slug, id), custom_object_schema(&s)));
        }
        offset += n;
        if n < 100 || page.total.is_some_and(|t| offset >= t) {
            return (out, None);
        }
    }
}

/// Every stream of the account: the fixed ones and one per custom object schema.
pub fn all_streams(client: &mut Client) -> (Vec<StreamDef>, Vec<(String, Value)>, Option<Failure>) {
    let mut defs = fixed_streams();
    let (custom, note) = custom_object_streams(client);
    let mut schemas = Vec::new();
    for (d, s) in custom {
        if !defs.iter().any(|x| x.name == d.name) {
            schemas.push((d.name.clone(), s));
            defs.push(d);
        }
    }
    (defs, schemas, note)
}

/// The CATALOG message.
pub fn discover(transport: &mut dyn Transport, config: &Config) -> Result<Value, Failure> {
    let mut client = Client::new(transport, config);
    client.prefetch(CUSTOM_SCHEMAS_FIRST_PAGE);
    // The key must work before a catalog means anything.
    client.verify_key()?;
    let (defs, schemas, _note) = all_streams(&mut client);
    Ok(catalog_message(discovered_streams(&defs, &schemas)))
}

/// A stream to read in a mode, with its saved state.
fn job(def: StreamDef, incremental: bool, saved: &BTreeMap<String, Value>) -> Result<Job, Failure> {
    let state = match saved.get(&def.name) {
        Some(v) => StreamState::from_value(&def.name, v, def.cursor.as_deref())
            .map_err(|e| config_failure(e.0))?,
        None => StreamState::default(),
    };
    Ok(Job {
        def,
        incremental,
        state,
    })
}

fn unknown_in_state(name: &str) -> Failure {
    config_failure(format!("the state names unknown stream '{}'; remove it from the state file (or run discover to see this account's streams)", name.chars().take(80).collect::<String>()))
}

/// Reads the configured catalog (every stream in full when there is none) from the saved state.
/// Config, catalog and state problems fail the run before any request; stream failures are in the
/// summary.
pub fn read(
    transport: &mut dyn Transport,
    sink: &mut dyn Sink,
    config: &Config,
    catalog: Option<&str>,
    state: Option<&str>,
) -> Result<ReadSummary, Failure> {
    let saved = match state {
        Some(text) => parse_state_input(text).map_err(|e| config_failure(e.0))?,
        None => Default::default(),
    };
    // Everything that can be checked without the network is checked first.
    let fixed = fixed_streams();
    let mut provisional = fixed.clone();
    let custom_names = |text: &str| -> Vec<String> {
        let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        let v = v.get("catalog").cloned().unwrap_or(v);
        v.get("streams")
            .and_then(Value::as_array)
            .map_or(vec![], |a| {
                a.iter()
                    .filter_map(|s| {
                        s.pointer("/stream/name")
                            .or_else(|| s.get("name"))
                            .and_then(Value::as_str)
                    })
                    .filter(|n| n.starts_with("custom_object_"))
                    .map(String::from)
                    .collect()
            })
    };
    // The fixed streams to read, known before the key check (custom ones need the schemas).
    let mut early: Vec<(String, bool)> = fixed.iter().map(|d| (d.name.clone(), false)).collect();
    if let Some(text) = catalog {
        for n in custom_names(text) {
            provisional.push(StreamDef {
                name: n,
                ..custom_object_stream("", "")
            });
        }
        early = parse_configured_catalog(text, &provisional)
            .map_err(config_failure)?
            .into_iter()
            .map(|s| (s.name, s.incremental))
            .collect();
    }
    for (name, v) in &saved {
        let def = fixed.iter().find(|d| &d.name == name).cloned();
        let def = match def {
            Some(d) => d,
            None if name.starts_with("custom_object_") => custom_object_stream("", ""),
            None => return Err(unknown_in_state(name)),
        };
        StreamState::from_value(name, v, def.cursor.as_deref()).map_err(|e| config_failure(e.0))?;
    }
    let mut client = Client::new(transport, config);
    let wants_custom = match catalog {
        None => true,
        Some(text) => {
            !custom_names(text).is_empty() || saved.keys().any(|k| k.starts_with("custom_object_"))
        }
    };
    if wants_custom {
        // One round trip for the key check and the first schemas page, not two.
        client.prefetch(CUSTOM_SCHEMAS_FIRST_PAGE);
    }
    // The first pages of the first fixed streams begin, as the budget allows, while the key
    // check's answer is on its way; the read takes them over. A slow API would otherwise leave
    // the budget idle for that round trip (a second at 1,000 ms: five requests' worth).
    let mut early_jobs = Vec::new();
    for (name, incremental) in early {
        if let Some(def) = fixed.iter().find(|d| d.name == name) {
            early_jobs.push(job(def.clone(), incremental, &saved)?);
        }
    }
    for path in first_pages(&early_jobs, config, &config.base.api_path, lanes(config)) {
        client.prefetch_full(path);
    }
    client.verify_key().map_err(|f| Failure {
        kind: f.kind,
        message: format!("cannot read {}: {}", config.base.host, f.message),
    })?;
    let mut known = fixed.clone();
    let mut schemas_failure = None;
    if wants_custom {
        let (defs, _, note) = all_streams(&mut client);
        known = defs;
        if let Some(n) = &note {
            sink.log("WARN", &n.message);
        }
        schemas_failure = note;
    }
    // Custom object streams the catalog names but the account did not list (schemas
    // unreadable, or deleted since the catalog was made) fail alone; the others are read.
    let missing: Vec<String> = catalog
        .map(custom_names)
        .unwrap_or_default()
        .into_iter()
        .filter(|n| !known.iter().any(|d| &d.name == n))
        .collect();
    let mut with_missing = known.clone();
    with_missing.extend(missing.iter().map(|n| StreamDef {
        name: n.clone(),
        ..custom_object_stream("", "")
    }));
    let selected: Vec<(String, bool)> = match catalog {
        Some(text) => parse_configured_catalog(text, &with_missing)
            .map_err(config_failure)?
            .into_iter()
            .map(|s| {
                if let Some(n) = &s.note {
                    sink.log("INFO", n);
                }
                (s.name, s.incremental)
            })
            .collect(),
        None => known.iter().map(|d| (d.name.clone(), false)).collect(),
    };
    // A custom object stream's state outlives its schema (gone, or unreadable now): it is kept
    // for when the schema is back, not an error.
    if let Some(name) = saved
        .keys()
        .find(|n| !known.iter().any(|d| &d.name == *n) && !n.starts_with("custom_object_"))
    {
        return Err(unknown_in_state(name));
    }
    let mut unread: Vec<(String, FailureType, String)> = Vec::new();
    let mut jobs = Vec::new();
    for (name, incremental) in selected {
        if missing.contains(&name) {
            let (kind, why) = match &schemas_failure {
                Some(f) => (f.kind, format!("{}; this stream was not read, the other streams were", f.message)),
                None => (FailureType::Config, format!("the account has no custom object schema for stream '{name}' any more (deleted since the catalog was made); run discover and update the catalog")),
            };
            unread.push((name, kind, why));
            continue;
        }
        let Some(def) = known.iter().find(|d| d.name == name).cloned() else {
            continue;
        };
        jobs.push(job(def, incremental, &saved)?);
    }
    let at = client.transport.wall_ms();
    for (name, kind, why) in &unread {
        sink.status(name, "STARTED", at);
        let message = format!("stream '{name}' failed: {why}");
        let error = ErrorEvent {
            stream: Some(name),
            message: &message,
            internal: why,
            kind: *kind,
        };
        sink.error(&error, at);
        sink.status(name, "INCOMPLETE", at);
        sink.progress(&message);
    }
    let mut summary = read_jobs(&mut client, config, jobs, sink);
    summary
        .streams
        .extend(unread.into_iter().map(|(name, kind, why)| StreamSummary {
            name,
            records: 0,
            requests: 0,
            millis: 0,
            failure: Some((kind, why)),
        }));
    Ok(summary)
}

/// The failure class that decides a read's exit: the worst among failed streams.
pub fn worst_failure(summary: &ReadSummary) -> Option<FailureType> {
    let kinds: Vec<FailureType> = summary
        .streams
        .iter()
        .filter_map(|s| s.failure.as_ref().map(|f| f.0))
        .collect();
    [
        FailureType::System,
        FailureType::Config,
        FailureType::Transient,
    ]
    .into_iter()
    .find(|k| kinds.contains(k))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::HttpResponse;
    use crate::test_support::{ok, Fake, Lines};
    use serde_json::json;

    fn cfg() -> Config {
        Config::parse(r#"{"api_url": "http://127.0.0.1:9", "api_key": "SECRETKEY", "requests_per_second": 50}"#).unwrap()
    }

    fn fake(answer: impl FnMut(&str) -> Result<HttpResponse, String> + 'static) -> Fake {
        Fake::new(1000, answer)
    }

    #[test]
    fn check_reports_success_and_rejection() {
        let mut t = fake(|_| ok(json!({"user": {"username": "jdoe", "id": "1"}})));
        let (good, msg) = check(&mut t, &cfg());
        assert!(good, "{msg}");
        let mut t = fake(|_| {
            Ok(HttpResponse {
                status: 403,
                headers: vec![],
                body: br#"{"message":"Forbidden"}"#.to_vec(),
            })
        });
        let (good, msg) = check(&mut t, &cfg());
        assert!(!good);
        assert!(msg.contains("api_key") && msg.contains("403"), "{msg}");
        assert!(!msg.contains("SECRETKEY"));
    }

    #[test]
    fn discover_adds_custom_objects() {
        let mut t = fake(|p| {
            if p.contains("customObjects/schemas") {
                ok(
                    json!({"schemas": [{"id": "abc-1", "slug": "support-ticket", "fields": [{"id": "n", "type": "number"}]}], "meta": {"total": 1}}),
                )
            } else {
                ok(json!({"user": {"username": "u"}}))
            }
        });
        let cat = discover(&mut t, &cfg()).unwrap();
        let streams = cat["catalog"]["streams"].as_array().unwrap();
        assert_eq!(streams.len(), 60);
        assert!(streams
            .iter()
            .any(|s| s["name"] == "custom_object_support_ticket"));
    }

    #[test]
    fn the_key_check_and_the_schemas_share_one_round_trip() {
        // Answers take a second: the schemas request begins before the key check's answer is in,
        // and the read uses its answer instead of asking again.
        let answer = |p: &str| {
            if p.contains("customObjects/schemas") {
                ok(
                    json!({"schemas": [{"id": "abc-1", "slug": "ticket", "fields": []}], "meta": {"total": 1}}),
                )
            } else if p.contains("users/me") {
                ok(json!({"user": {"username": "u"}}))
            } else {
                ok(json!({"records": [{"id": "1"}], "meta": {"total": 1}}))
            }
        };
        let mut t = Fake::new(1_000_000_000, answer);
        let cat = r#"{"streams":[{"stream":{"name":"custom_object_ticket"},"sync_mode":"full_refresh"}]}"#;
        let s = read(&mut t, &mut Lines::default(), &cfg(), Some(cat), None).unwrap();
        assert!(s.streams[0].failure.is_none(), "{:?}", s.streams[0].failure);
        let paths: Vec<&str> = t.starts.iter().map(|(_, p)| p.as_str()).collect();
        assert_eq!(paths.len(), 3, "{paths:?}");
        assert!(paths[0].contains("users/me") && paths[1].contains("customObjects/schemas"));
        assert!(
            t.starts[1].0 < 1_000_000_000,
            "began before the key check's answer"
        );
        // A refused key still fails the read with the key check's error.
        let mut t = Fake::new(1000, |_| {
            Ok(HttpResponse {
                status: 403,
                headers: vec![],
                body: br#"{"message":"Forbidden"}"#.to_vec(),
            })
        });
        let e = read(&mut t, &mut Lines::default(), &cfg(), Some(cat), None).unwrap_err();
        assert_eq!(e.kind, FailureType::Config);
        assert!(e.message.contains("cannot read"), "{}", e.message);
    }

    /// Answers every fixed stream's list with one record, the key check and the schemas.
    fn one_record_each(p: &str) -> Result<HttpResponse, String> {
        let path = p.split('?').next().unwrap_or(p);
        if path.ends_with("users/me") {
            return ok(json!({"user": {"username": "u"}}));
        }
        if path.ends_with("customObjects/schemas") {
            return ok(json!({"schemas": [], "meta": {"total": 0}}));
        }
        match fixed_streams()
            .into_iter()
            .find(|d| path.ends_with(&format!("/{}", d.path)))
        {
            Some(d) => ok(json!({ d.list_key: [{"id": "1"}], "meta": {"total": "1"} })),
            None => Err(format!("no such list: {p}")),
        }
    }

    #[test]
    fn first_pages_begin_while_the_key_check_is_under_way() {
        // A slow API (a second or more per answer): the first pages of the catalog's first
        // streams begin before the key check's answer is in, and the read takes them over
        // instead of asking again.
        let mut t = Fake::new(1_000_000_000, one_record_each);
        let names = ["accounts", "deals", "tags", "lists"];
        let cat = json!({"streams": names.iter().map(|n| json!({"stream": {"name": n}, "sync_mode": "full_refresh"})).collect::<Vec<_>>()}).to_string();
        let s = read(&mut t, &mut Lines::default(), &cfg(), Some(&cat), None).unwrap();
        for st in &s.streams {
            assert!(st.failure.is_none(), "{}: {:?}", st.name, st.failure);
            assert_eq!(st.records, 1, "{}", st.name);
        }
        let paths: Vec<&str> = t.starts.iter().map(|(_, p)| p.as_str()).collect();
        assert!(paths[0].ends_with("users/me"), "{paths:?}");
        assert_eq!(
            paths.len(),
            1 + names.len(),
            "one request per list: {paths:?}"
        );
        let key_answer = 1_000_000_000;
        for (at, p) in &t.starts[1..] {
            assert!(
                *at < key_answer,
                "{p} began at {at} ns, after the key check's answer"
            );
        }
        assert!(
            !paths.iter().any(|p| p.contains("customObjects")),
            "{paths:?}"
        );
    }

    #[test]
    fn a_refused_key_fails_the_read_once_though_pages_began_early() {
        let mut t = Fake::new(1_000_000_000, |_| {
            Ok(HttpResponse {
                status: 401,
                headers: vec![],
                body: br#"{"message":"No Result found for Subscriber with id 0"}"#.to_vec(),
            })
        });
        let mut sink = Lines::default();
        let e = read(&mut t, &mut sink, &cfg(), None, None).unwrap_err();
        assert_eq!(e.kind, FailureType::Config);
        assert!(e.message.contains("cannot read"), "{}", e.message);
        // What began early is bounded by the read's lanes, and nothing was emitted.
        assert!(t.starts.len() <= 2 + 8, "{:?}", t.starts);
        assert!(sink.0.iter().all(|l| !l.contains("\"RECORD\"")));
    }

    #[test]
    fn a_retried_key_check_keeps_the_answers_that_came_meanwhile() {
        // The first key check gets an intermittent 403 and is asked again; the schemas page and
        // the early pages answered during the wait are kept, not lost (the read once waited for
        // such an answer for ever).
        let mut forbidden_once = true;
        let mut t = Fake::new(300_000_000, move |p| {
            if p.ends_with("users/me") && std::mem::take(&mut forbidden_once) {
                return Ok(HttpResponse {
                    status: 403,
                    headers: vec![],
                    body: br#"{"message":"Forbidden"}"#.to_vec(),
                });
            }
            one_record_each(p)
        });
        let s = read(&mut t, &mut Lines::default(), &cfg(), None, None).unwrap();
        assert!(s.streams.iter().all(|st| st.failure.is_none()));
        let keys = t
            .starts
            .iter()
            .filter(|(_, p)| p.ends_with("users/me"))
            .count();
        assert_eq!(keys, 2);
        let schemas = t
            .starts
            .iter()
            .filter(|(_, p)| p.contains("customObjects/schemas"))
            .count();
        assert_eq!(schemas, 1, "{:?}", t.starts);
        let mut seen = std::collections::HashSet::new();
        for (_, p) in &t.starts {
            assert!(
                p.ends_with("users/me") || seen.insert(p.clone()),
                "{p} asked twice"
            );
        }
    }

    #[test]
    fn bad_catalog_and_state_fail_before_any_request() {
        let mut t = fake(|_| ok(json!({})));
        let e = read(
            &mut t,
            &mut Lines::default(),
            &cfg(),
            Some(r#"{"streams":[{"stream":{"name":"nope"}}]}"#),
            None,
        )
        .unwrap_err();
        assert_eq!(e.kind, FailureType::Config);
        let e = read(
            &mut t,
            &mut Lines::default(),
            &cfg(),
            Some(r#"{"streams":[]}"#),
            Some(r#"{"ghost": {}}"#),
        )
        .unwrap_err();
        assert!(e.message.contains("ghost"));
        assert!(t.starts.is_empty());
    }

    #[test]
    fn a_custom_object_schema_outage_fails_only_those_streams() {
        let catalog = r#"{"streams":[{"stream":{"name":"custom_object_ticket"},"sync_mode":"full_refresh"},{"stream":{"name":"tags"},"sync_mode":"full_refresh"}]}"#;
        let answer = |schemas_status: u16| {
            move |p: &str| {
                if p.contains("customObjects/schemas") {
                    Ok(HttpResponse {
                        status: schemas_status,
                        headers: vec![],
                        body: if schemas_status == 200 {
                            br#"{"schemas": [], "meta": {"total": 0}}"#.to_vec()
                        } else {
                            b"<html>503</html>".to_vec()
                        },
                    })
                } else if p.contains("/tags") {
                    ok(json!({"tags": [{"id": "1"}], "meta": {"total": "1"}}))
                } else {
                    ok(json!({"user": {"username": "u"}}))
                }
            }
        };
        for (status, kind) in [(503, FailureType::Transient), (200, FailureType::Config)] {
            let mut t = fake(answer(status));
            let mut sink = Lines::default();
            let s = read(
                &mut t,
                &mut sink,
                &cfg(),
                Some(catalog),
                Some(r#"{"custom_object_ticket": {}}"#),
            )
            .expect("the run goes on");
            let by: BTreeMap<&str, &crate::engine::StreamSummary> =
                s.streams.iter().map(|x| (x.name.as_str(), x)).collect();
            assert!(by["tags"].failure.is_none());
            assert_eq!(by["tags"].records, 1);
            assert_eq!(
                by["custom_object_ticket"].failure.as_ref().map(|f| f.0),
                Some(kind),
                "{status}"
            );
            assert!(sink
                .0
                .iter()
                .any(|l| l.contains("INCOMPLETE") && l.contains("custom_object_ticket")));
            assert_eq!(worst_failure(&s), Some(kind));
        }
    }
}
