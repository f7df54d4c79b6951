//! The four operations (spec, check, discover, read) over any transport and sink, shared by the
//! WIT exports and the command line.

use crate::api::catalog::{discovered_streams, ReadPlan, Selected};
use crate::api::schemas::custom_object_schema;
use crate::api::streams::{
    custom_object_stream, fixed_streams, is_custom_object_stream, StreamDef,
};
use crate::documents::config::Config;
use crate::documents::state::{foreign_state_warning, parse_state_input, StreamState};
use crate::engine::{
    first_pages, lanes, read as read_jobs, report_failed_stream, Client, Job, ReadSummary, Sink,
    StreamSummary, Transport,
};
use crate::engine::{Level, StreamStatus};
use crate::output::airbyte::{catalog_message, spec_message};
use crate::rules::datetime::Instant;
use crate::vocab::failure::{Failure, FailureType};
use serde_json::Value;
use std::collections::BTreeMap;

/// The SPEC message.
pub(crate) fn spec() -> Value {
    spec_message(crate::documents::config::connection_specification())
}

/// Parses the config text, as a failure the caller can report.
pub(crate) fn load_config(text: &str) -> Result<Config, Failure> {
    Ok(Config::parse(text)?)
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
    let (defs, mut schemas, _note) = all_streams(&mut client);
    schemas.extend(super::columns::discovered(&mut client, config));
    Ok(catalog_message(discovered_streams(&defs, &schemas)))
}

/// A stream to read in a mode, with its saved state.
fn job(def: StreamDef, choice: &Selected, saved: &SavedStates) -> Result<Job, Failure> {
    let state = match saved.get(&def.name) {
        Some(v) => StreamState::from_value(&def.name, v, def.cursor.as_deref())?,
        None => StreamState::default(),
    };
    Ok(Job {
        def,
        incremental: choice.incremental,
        state,
        deletions: choice.deletions,
    })
}

/// The connector's wall clock as an instant.
fn wall_clock(client: &mut Client) -> Instant {
    Instant::from_epoch_ms(client.transport.wall_ms())
}

/// A stream the plan asks for that the account did not list, and why.
type Unread = (String, Failure);

/// The saved state of each stream, as the runner passed it.
type SavedStates = BTreeMap<String, Value>;

fn unknown_in_state(name: &str) -> Failure {
    Failure::config(format!("the state names unknown stream '{}'; remove it from the state file (or run discover to see this account's streams)", name.chars().take(80).collect::<String>()))
}

/// Checks every saved stream state against its stream before any request. A custom object
/// stream's state is checked against any custom object stream (they share their cursor).
/// Returns a warning for each state that looks like another connector's.
fn check_saved_states(saved: &SavedStates, fixed: &[StreamDef]) -> Result<Vec<String>, Failure> {
    let mut warnings = Vec::new();
    for (name, v) in saved {
        let def = match fixed.iter().find(|d| &d.name == name) {
            Some(d) => d.clone(),
            None if is_custom_object_stream(name) => custom_object_stream("", ""),
            None => return Err(unknown_in_state(name)),
        };
        StreamState::from_value(name, v, def.cursor.as_deref())?;
        warnings.extend(foreign_state_warning(name, v, def.cursor.as_deref()));
    }
    Ok(warnings)
}

/// Begins, as the budget allows, the first pages of the first fixed streams while the key
/// check's answer is on its way; the read takes them over. A slow API would otherwise leave the
/// budget idle for that round trip (a second at 1,000 ms: five requests' worth).
fn prefetch_first_pages(
    client: &mut Client,
    config: &Config,
    plan: &ReadPlan,
    fixed: &[StreamDef],
    saved: &SavedStates,
) -> Result<(), Failure> {
    let mut early_jobs = Vec::new();
    let now = wall_clock(client);
    for choice in plan.streams(fixed) {
        if let Some(def) = fixed.iter().find(|d| d.name == choice.name) {
            early_jobs.push(job(def.clone(), &choice, saved)?);
        }
    }
    for path in first_pages(
        &early_jobs,
        (config, now),
        &config.base.api_path,
        lanes(config),
    ) {
        client.prefetch_full(path);
    }
    Ok(())
}

/// The streams the account has (the fixed ones, and its custom objects when `wants_custom`),
/// and why its custom object schemas could not be read, if so (logged).
fn account_streams(
    client: &mut Client,
    sink: &mut dyn Sink,
    wants_custom: bool,
) -> (Vec<StreamDef>, Option<Failure>) {
    if !wants_custom {
        return (fixed_streams(), None);
    }
    let (defs, _, note) = all_streams(client);
    if let Some(n) = &note {
        sink.log(Level::Warn, &n.message);
    }
    (defs, note)
}

/// The jobs of the plan's streams the account has, and the streams it asks for that the account
/// did not list (a custom object's schema unreadable, or deleted since the catalog was made):
/// those fail alone, and the others are read.
fn jobs_of_plan(
    plan: &ReadPlan,
    known: &[StreamDef],
    saved: &SavedStates,
    schemas_failure: Option<&Failure>,
) -> Result<(Vec<Job>, Vec<Unread>), Failure> {
    let mut unread = Vec::new();
    let mut jobs = Vec::new();
    for choice in plan.streams(known) {
        let name = choice.name.clone();
        match known.iter().find(|d| d.name == name) {
            Some(def) => jobs.push(job(def.clone(), &choice, saved)?),
            None => {
                let failure = match schemas_failure {
                    Some(f) => Failure { kind: f.kind, message: format!("{}; this stream was not read, the other streams were", f.message) },
                    None => Failure::config(format!("the account has no custom object schema for stream '{name}' any more (deleted since the catalog was made); run discover and update the catalog")),
                };
                unread.push((name, failure));
            }
        }
    }
    Ok((jobs, unread))
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
    let saved: SavedStates = match state {
        Some(text) => parse_state_input(text)?,
        None => Default::default(),
    };
    // Everything that can be checked without the network is checked first.
    let fixed = fixed_streams();
    let plan = ReadPlan::new(catalog, &fixed).map_err(Failure::config)?;
    let declared = super::columns::configured(catalog);
    for (stream, schema) in &declared {
        sink.declare(stream, schema);
    }
    let with_columns = (!declared.is_empty()).then(|| Config {
        field_columns: declared
            .iter()
            .map(|(s, schema)| {
                (
                    s.clone(),
                    crate::api::custom_fields::declared_fields(schema),
                )
            })
            .collect(),
        ..config.clone()
    });
    let config = with_columns.as_ref().unwrap_or(config);
    for (stream, schema) in super::columns::configured_objects(catalog) {
        sink.declare(&stream, &schema);
    }
    for warning in check_saved_states(&saved, &fixed)? {
        sink.log(Level::Warn, &warning);
        sink.progress(&format!("warning: {warning}"));
    }
    let mut client = Client::new(transport, config);
    let wants_custom = plan.wants_custom(saved.keys());
    if wants_custom {
        // One round trip for the key check and the first schemas page, not two.
        client.prefetch(CUSTOM_SCHEMAS_FIRST_PAGE);
    }
    prefetch_first_pages(&mut client, config, &plan, &fixed, &saved)?;
    client.verify_key().map_err(|f| Failure {
        kind: f.kind,
        message: format!("cannot read {}: {}", config.base.host, f.message),
    })?;
    let (known, schemas_failure) = account_streams(&mut client, sink, wants_custom);
    plan.notes().for_each(|n| sink.log(Level::Info, n));
    // A custom object stream's state outlives its schema (gone, or unreadable now): it is kept
    // for when the schema is back, not an error.
    if let Some(name) = saved
        .keys()
        .find(|n| !known.iter().any(|d| &d.name == *n) && !is_custom_object_stream(n))
    {
        return Err(unknown_in_state(name));
    }
    let (jobs, unread) = jobs_of_plan(&plan, &known, &saved, schemas_failure.as_ref())?;
    let at = client.transport.wall_ms();
    for (name, failure) in &unread {
        sink.status(name, StreamStatus::Started, at);
        report_failed_stream(sink, name, failure, at);
    }
    let mut summary = read_jobs(&mut client, config, jobs, sink);
    summary.streams.extend(
        unread
            .into_iter()
            .map(|(name, failure)| StreamSummary::unread(name, Some(failure))),
    );
    Ok(summary)
}

/// The failure class that decides a read's exit: the worst among failed streams.
pub(crate) fn worst_failure(summary: &ReadSummary) -> Option<FailureType> {
    let kinds: Vec<FailureType> = summary
        .streams
        .iter()
        .filter_map(|s| s.failure.as_ref().map(|f| f.kind))
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
