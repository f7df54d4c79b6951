//! The four operations (spec, check, discover, read) over any transport and sink, shared by the
//! WIT exports and the command line.

use crate::api::catalog::{discovered_streams, parse_configured_catalog};
use crate::api::schemas::custom_object_schema;
use crate::api::streams::{custom_object_stream, fixed_streams, StreamDef};
use crate::documents::config::Config;
use crate::documents::state::{parse_state_input, StreamState};
use crate::engine::{
    first_pages, lanes, read as read_jobs, Client, ErrorEvent, Job, ReadSummary, Sink,
    StreamSummary, Transport,
};
use crate::failure::{Failure, FailureType};
use crate::output::airbyte::{catalog_message, spec_message};
use serde_json::Value;
use std::collections::BTreeMap;

/// The SPEC message.
pub(crate) fn spec() -> Value {
    spec_message(crate::documents::config::connection_specification())
}

fn config_failure(message: String) -> Failure {
    Failure {
        kind: FailureType::Config,
        message,
    }
}

/// Parses the config text, as a failure the caller can report.
pub(crate) fn load_config(text: &str) -> Result<Config, Failure> {
    Config::parse(text).map_err(|e| config_failure(e.0))
}

/// Result of check: whether the account answered, and what a person should know.
pub(crate) fn check(transport: &mut dyn Transport, config: &Config) -> (bool, String) {
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
pub(crate) fn custom_object_streams(
    client: &mut Client,
) -> (Vec<(StreamDef, Value)>, Option<Failure>) {
    let mut out = Vec::new();
    let mut offset = 0u64;
    loop {
        let resp = match client.get(&format!("customObjects/schemas?limit=100&offset={offset}")) {
            Ok(r) => r,
            Err(f) => return (out, Some(Failure { kind: f.kind, message: format!("custom objects are not readable on this account ({}); their streams are left out", f.message) })),
        };
        let page = match crate::http::response::parse_page(&resp.body, "schemas", &[]) {
            Ok(p) => p,
            // No list at all: no schemas.
            Err(crate::http::response::BadPage::Empty(_)) => return (out, None),
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
pub(crate) fn all_streams(
    client: &mut Client,
) -> (Vec<StreamDef>, Vec<(String, Value)>, Option<Failure>) {
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
pub(crate) fn discover(transport: &mut dyn Transport, config: &Config) -> Result<Value, Failure> {
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
pub(crate) fn read(
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
pub(crate) fn worst_failure(summary: &ReadSummary) -> Option<FailureType> {
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
#[path = "connector_tests.rs"]
mod tests;
