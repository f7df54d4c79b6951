//! The connector's configuration: parsing, validation and the spec that describes it.
//!
//! Every problem is reported with the field's name and what to change, because a config is written
//! by hand and the person reading the error is the one who must fix it.

use crate::api::custom_fields::Choice;
use crate::rules::address::{is_loopback_host, refused_literal};
use crate::rules::datetime::{parse_instant, parse_offset, Instant};
use crate::vocab::json::{short_json, type_name};
use serde_json::{json, Map, Value};

/// Where the account's API lives, split the way wasi:http wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BaseUrl {
    /// `https` or `http` (http only for loopback hosts).
    pub(crate) scheme: String,
    /// `host[:port]` exactly as the request's authority.
    pub(crate) authority: String,
    /// The host alone, lower-cased, without brackets.
    pub(crate) host: String,
    /// Path prefix ending in `/api/3` (no trailing slash).
    pub(crate) api_path: String,
}

impl BaseUrl {
    /// The full URL of a relative API path with query, for messages (never carries the key).
    pub(crate) fn display(&self, path_and_query: &str) -> String {
        format!("{}://{}{}", self.scheme, self.authority, path_and_query)
    }
}

/// A secret string: `Debug` shows `"***"` so a logged or panicking `Config` never prints it.
/// Reading it takes a deliberate `expose()` (or a `&str` coercion where a key is needed).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub(crate) fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    /// The secret itself, for the one place that sends it (the `Api-Token` header) and for
    /// masking it in output.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"***\"")
    }
}

impl std::ops::Deref for Secret {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// The account's API base.
    pub(crate) base: BaseUrl,
    /// The API key (sent only in the `Api-Token` header; never printed, not even by `Debug`).
    pub(crate) api_key: Secret,
    /// Records older than this are not read by incremental streams on their first sync.
    pub(crate) start_date: Option<Instant>,
    /// Most request starts in any one second.
    pub(crate) requests_per_second: f64,
    /// UTC offset (minutes) used to read timestamps that carry no zone.
    // Only `start_date` is read in it here; the engine reads zone-less cursors at UTC-12:00
    // whatever the zone (docs/sync.md), so the field is kept for what the config said.
    #[allow(dead_code)]
    pub(crate) account_utc_offset_minutes: i32,
    /// Seconds before the saved cursor that an incremental read goes back to, for late updates.
    pub(crate) lookback_window_seconds: i64,
    /// Attempts per request before a page is given up.
    pub(crate) max_attempts: u32,
    /// Total seconds one page may spend waiting between retries.
    pub(crate) max_retry_wait_seconds: u64,
    /// Take contact_custom_field_values, contact_tags and contact_lists from contacts pages
    /// (`include=`) when read together, instead of paging their own lists.
    pub(crate) sideload_contact_children: bool,
    /// Hours after a server-filtered stream's last complete pass that the next sync reads it
    /// completely again (deletions are found on complete passes); 0: every sync.
    pub(crate) full_sweep_hours: f64,
    /// Largest share of the last complete pass's ids that one pass may report deleted.
    pub(crate) deletion_guard_share: f64,
    /// Which custom fields discovery declares as columns of their records.
    pub(crate) custom_field_columns: Choice,
    /// The custom field ids a read fills columns for, by stream (contacts, deals, accounts): the
    /// ones its configured catalog declares (set by the read, not by the config file).
    pub(crate) field_columns: Vec<(String, Vec<String>)>,
}

/// A config problem the user must fix; the text names the field and the remedy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConfigError(pub(crate) String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A numeric config field: its bounds (inclusive) and default, stated once for the spec and for
/// the check.
pub(crate) struct NumberField {
    pub(crate) key: &'static str,
    pub(crate) min: f64,
    pub(crate) max: f64,
    pub(crate) default: f64,
    /// Whether the spec calls it an integer (the check takes the whole part).
    pub(crate) integer: bool,
}

impl NumberField {
    /// The field's bounds and default as JSON schema keywords, for the spec.
    fn spec(&self) -> Value {
        let number = |x: f64| {
            if self.integer {
                json!(x as i64)
            } else {
                json!(x)
            }
        };
        json!({
            "type": if self.integer { "integer" } else { "number" },
            "default": number(self.default), "minimum": number(self.min), "maximum": number(self.max),
        })
    }
}

/// Most request starts in any second; the default is ActiveCampaign's documented per-account limit.
pub(crate) const REQUESTS_PER_SECOND: NumberField = NumberField {
    key: "requests_per_second",
    min: 0.001,
    max: 100.0,
    default: 5.0,
    integer: false,
};
/// Seconds before the saved cursor an incremental read starts (at most 30 days).
pub(crate) const LOOKBACK_WINDOW_SECONDS: NumberField = NumberField {
    key: "lookback_window_seconds",
    min: 0.0,
    max: 2_592_000.0,
    default: 0.0,
    integer: true,
};
/// Tries per request.
pub(crate) const MAX_ATTEMPTS: NumberField = NumberField {
    key: "max_attempts",
    min: 1.0,
    max: 50.0,
    default: 8.0,
    integer: true,
};
/// Waiting time per request between retries (at most a day).
pub(crate) const MAX_RETRY_WAIT_SECONDS: NumberField = NumberField {
    key: "max_retry_wait_seconds",
    min: 1.0,
    max: 86_400.0,
    default: 600.0,
    integer: true,
};
/// Hours between complete passes of the streams the server filters (README: a day).
pub(crate) const FULL_SWEEP_HOURS: NumberField = NumberField {
    key: "full_sweep_hours",
    min: 0.0,
    max: 8_760.0,
    default: 24.0,
    integer: false,
};
/// Share of a stream's ids one pass may report deleted before it is held as a likely glitch.
pub(crate) const DELETION_GUARD_SHARE: NumberField = NumberField {
    key: "deletion_guard_share",
    min: 0.0,
    max: 1.0,
    default: 0.25,
    integer: false,
};
/// Default of `sideload_contact_children`.
const SIDELOAD_CONTACT_CHILDREN: bool = true;
/// Default of `account_timezone`.
const ACCOUNT_TIMEZONE: &str = "+00:00";

/// Adds `extra` (title, order, description) to a numeric field's spec.
fn number_spec(field: &NumberField, extra: Value) -> Value {
    let mut spec = field.spec();
    if let (Some(s), Value::Object(e)) = (spec.as_object_mut(), extra) {
        s.extend(e);
    }
    spec
}

/// The connector specification (Airbyte `connectionSpecification`).
pub(crate) fn connection_specification() -> Value {
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "ActiveCampaign Source Spec",
        "type": "object",
        "required": ["api_url", "api_key"],
        "additionalProperties": true,
        "properties": {
            "api_url": {
                "type": "string", "order": 0, "title": "API URL",
                "description": "Your account's API URL as Settings > Developer shows it, e.g. https://myaccount.api-us1.com (with or without /api/3). https only; plain http is accepted for loopback hosts (tests).",
                "examples": ["https://myaccount.api-us1.com"]
            },
            "api_key": {
                "type": "string", "order": 1, "title": "API key", "airbyte_secret": true,
                "description": "The API key from Settings > Developer. Sent only in the Api-Token header."
            },
            "start_date": {
                "type": "string", "order": 2, "title": "Start date",
                "description": "Optional. On a stream's first incremental sync, skip records whose cursor is older than this (RFC 3339 or YYYY-MM-DD).",
                "examples": ["2024-01-01T00:00:00Z", "2024-01-01"]
            },
            "requests_per_second": number_spec(&REQUESTS_PER_SECOND, json!({
                "order": 3, "title": "Requests per second",
                "description": "Most requests begun in any one second. ActiveCampaign allows 5 per account, shared by every integration: lower it to leave room for others; raise it only if your account has a custom limit."
            })),
            "account_timezone": {
                "type": "string", "order": 4, "title": "Account time zone (UTC offset)", "default": ACCOUNT_TIMEZONE,
                "description": "UTC offset of your account (Settings > Account > Time zone), e.g. -05:00. Used only to read a start_date written without a zone; cursors do not depend on it, so a wrong or missing value loses nothing.",
                "examples": ["-05:00", "+01:00"]
            },
            "lookback_window_seconds": number_spec(&LOOKBACK_WINDOW_SECONDS, json!({
                "order": 5, "title": "Lookback window (seconds)",
                "description": "Incremental reads start this many seconds before the saved cursor, to catch late updates. Records in the window are delivered again."
            })),
            "max_attempts": number_spec(&MAX_ATTEMPTS, json!({
                "order": 6, "title": "Attempts per request",
                "description": "How often one request is tried on transient failures (5xx, 429, timeouts, broken bodies) before its stream fails."
            })),
            "sideload_contact_children": {
                "type": "boolean", "order": 8, "title": "Contact children from contacts pages", "default": SIDELOAD_CONTACT_CHILDREN,
                "description": "When contacts are read in full together with contact_custom_field_values, contact_tags or contact_lists, take those from the contacts pages (include=) instead of paging their own lists: far fewer requests. Turn off if your account answers include= slowly."
            },
            "max_retry_wait_seconds": number_spec(&MAX_RETRY_WAIT_SECONDS, json!({
                "order": 7, "title": "Most retry wait per request (seconds)",
                "description": "Total time one request may spend waiting between retries before its stream fails."
            })),
            "full_sweep_hours": number_spec(&FULL_SWEEP_HOURS, json!({
                "order": 9, "title": "Hours between full sweeps",
                "description": "How long after a stream's last complete pass the next sync reads it completely again instead of only what changed (every stream whose deletions are tracked): complete passes find deletions. 0 = every sync."
            })),
            "custom_field_columns": {
                "type": "string", "order": 11, "title": "Custom fields as columns", "default": "all",
                "description": "Which custom fields of contacts, deals and accounts become columns of their records (custom_field_<id>, named by the field's id, so a rename keeps the column): all, none, or field ids and personalization tags separated by commas, each for every kind of record or scoped to one (12,LEAD_SOURCE,deals.3; a JSON list works too). The values come with the records' own pages (include=) at no extra request; where the API ignores that include on deals or accounts, their values list is read once per read and joined.",
                "examples": ["all", "none", "12,LEAD_SOURCE"]
            },
            "deletion_guard_share": number_spec(&DELETION_GUARD_SHARE, json!({
                "order": 10, "title": "Deletion guard (share)",
                "description": "A pass that would report more than this share of a stream's rows deleted (and more than 2) reports none and warns: more often a glitch or a lost permission than real deletions. Set 1 for one sync to confirm a real mass deletion."
            }))
        }
    })
}

/// An `api_url` problem, with where to find the right value.
fn bad_url(why: &str) -> ConfigError {
    ConfigError(format!(
        "config field 'api_url' {why}. Copy the API URL from ActiveCampaign's Settings > Developer, e.g. https://myaccount.api-us1.com"
    ))
}

/// Parses and checks `api_url`. Accepts a trailing `/`, `/api/3` or `/api/3/`.
pub(crate) fn parse_base_url(raw: &str) -> Result<BaseUrl, ConfigError> {
    let bad = bad_url;
    let url = raw.trim();
    if url.is_empty() {
        return Err(bad("is empty"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("contains spaces or control characters"));
    }
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| bad("has no scheme (it must start with https://)"))?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return Err(bad("must use https"));
    }
    if rest.contains('?') || rest.contains('#') {
        return Err(bad("must not carry a query string or fragment (the key goes in 'api_key', nothing else belongs in the URL)"));
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let host = parse_host(authority)?;
    if scheme == "http" && !is_loopback_host(&host) {
        return Err(bad(
            "uses plain http; the API key must travel encrypted, so use https",
        ));
    }
    if let Some(why) = refused_literal(&host) {
        return Err(bad(&format!(
            "names a host the API key must not be sent to ({why})"
        )));
    }
    let mut path = path.trim_end_matches('/').to_string();
    if let Some(p) = path.strip_suffix("/api/3") {
        path = p.to_string();
    }
    if !path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-._~/".contains(c))
    {
        return Err(bad("has an invalid path"));
    }
    Ok(BaseUrl {
        scheme,
        authority: authority.to_ascii_lowercase(),
        host,
        api_path: format!("{path}/api/3"),
    })
}

/// The host of an `api_url`'s authority (`host`, `host:port`, `[v6]` or `[v6]:port`), lower
/// case, without brackets.
fn parse_host(authority: &str) -> Result<String, ConfigError> {
    let bad = bad_url;
    if authority.contains('@') {
        return Err(bad(
            "must not carry credentials (user:password@); put the key in 'api_key'",
        ));
    }
    if authority.is_empty() {
        return Err(bad("has no host"));
    }
    if let Some(inner) = authority.strip_prefix('[') {
        let end = inner
            .find(']')
            .ok_or_else(|| bad("has an unclosed [ in its host"))?;
        let after = &inner[end + 1..];
        if !after.is_empty() && !after.starts_with(':') {
            return Err(bad("has an invalid host"));
        }
        return Ok(inner[..end].to_ascii_lowercase());
    }
    let (h, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    if let Some(p) = port {
        if p.parse::<u16>().map_or(true, |n| n == 0) {
            return Err(bad("has an invalid port"));
        }
    }
    if !h
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        || h.is_empty()
    {
        return Err(bad("has an invalid host name"));
    }
    Ok(h.to_ascii_lowercase())
}

fn field_str<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, ConfigError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(ConfigError(format!(
            "config field '{key}' must be a string, got {}",
            type_name(other)
        ))),
    }
}

/// A numeric field's value (its default when absent or null), within its bounds.
fn field_num(obj: &Map<String, Value>, field: &NumberField) -> Result<f64, ConfigError> {
    let NumberField { key, min, max, .. } = *field;
    let v = match obj.get(key) {
        None | Some(Value::Null) => return Ok(field.default),
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        Some(_) => None,
    };
    match v {
        Some(x) if x.is_finite() && x >= min && x <= max => Ok(x),
        _ => Err(ConfigError(format!(
            "config field '{key}' must be a number between {min} and {max}, got {}",
            obj.get(key).map(short_json).unwrap_or_default()
        ))),
    }
}

/// A key the spec does not know that is a near miss of one it does (and that one is absent):
/// `apikey` would otherwise surface as "'api_key' is missing", or a misspelt optional field
/// would silently keep its default. Keys far from every known one pass: runners add their own.
fn misspelt_key(obj: &Map<String, Value>) -> Result<(), ConfigError> {
    let spec = connection_specification();
    let Some(known) = spec.get("properties").and_then(Value::as_object) else {
        return Ok(());
    };
    for key in obj.keys().filter(|k| !known.contains_key(*k)) {
        let nearest = known
            .keys()
            .filter(|k| !obj.contains_key(*k))
            .map(|k| (key_distance(key, k), k))
            .min();
        if let Some((d, k)) = nearest {
            if d <= 2 && d * 3 <= k.len() {
                let shown: String = key.chars().take(60).collect();
                return Err(ConfigError(format!(
                    "unknown key `{shown}`: did you mean `{k}`? Rename it in the config"
                )));
            }
        }
    }
    Ok(())
}

/// Edit distance between two keys compared without case, `_` or `-` (`apiKey`, `api-key` and
/// `apikey` are all `api_key`).
fn key_distance(a: &str, b: &str) -> usize {
    let norm = |s: &str| -> Vec<char> {
        s.chars()
            .filter(|c| *c != '_' && *c != '-')
            .flat_map(char::to_lowercase)
            .collect()
    };
    let (a, b) = (norm(a), norm(b));
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

impl Config {
    /// Parses a config document (JSON text).
    pub(crate) fn parse(text: &str) -> Result<Config, ConfigError> {
        let v: Value = serde_json::from_str(text).map_err(|e| {
            ConfigError(format!("the config is not valid JSON ({e}); it must be an object such as {{\"api_url\": \"https://myaccount.api-us1.com\", \"api_key\": \"...\"}}"))
        })?;
        Config::from_value(&v)
    }

    /// Checks a parsed config document. Error text never carries the key, even when another
    /// field's value happens to contain it.
    pub(crate) fn from_value(v: &Value) -> Result<Config, ConfigError> {
        Config::check(v).map_err(|e| match v.get("api_key").and_then(Value::as_str) {
            Some(key) => ConfigError(
                crate::output::redact::Redactor::new(key.trim())
                    .clean(&e.0)
                    .into_owned(),
            ),
            None => e,
        })
    }

    fn check(v: &Value) -> Result<Config, ConfigError> {
        let obj = v.as_object().ok_or_else(|| {
            ConfigError(format!(
                "the config must be a JSON object, got {}",
                type_name(v)
            ))
        })?;
        misspelt_key(obj)?;
        let api_url = field_str(obj, "api_url")?
            .ok_or_else(|| ConfigError("config field 'api_url' is missing: add your account's API URL from Settings > Developer".into()))?;
        let base = parse_base_url(api_url)?;
        let api_key = field_str(obj, "api_key")?.ok_or_else(|| {
            ConfigError(
                "config field 'api_key' is missing: add the API key from Settings > Developer"
                    .into(),
            )
        })?;
        let api_key = api_key.trim().to_string();
        if api_key.is_empty() {
            return Err(ConfigError(
                "config field 'api_key' is empty: add the API key from Settings > Developer".into(),
            ));
        }
        if api_key.len() > 512 || !api_key.chars().all(|c| c.is_ascii_graphic()) {
            return Err(ConfigError("config field 'api_key' is not a valid key (it must be printable ASCII without spaces); copy it again from Settings > Developer".into()));
        }
        let account_utc_offset_minutes = match field_str(obj, "account_timezone")? {
            None => 0,
            Some(s) => parse_offset(s).ok_or_else(|| {
                ConfigError(
                    "config field 'account_timezone' must be a UTC offset such as -05:00 or +01:00"
                        .into(),
                )
            })?,
        };
        let start_date = match field_str(obj, "start_date")? {
            None => None,
            Some(s) if s.trim().is_empty() => None,
            Some(s) => Some(parse_instant(s, account_utc_offset_minutes).ok_or_else(|| {
                ConfigError(format!(
                    "config field 'start_date' is not a date: {}; use RFC 3339 (2024-01-01T00:00:00Z) or YYYY-MM-DD",
                    short_json(&Value::String(s.to_string()))
                ))
            })?),
        };
        let requests_per_second = field_num(obj, &REQUESTS_PER_SECOND)?;
        let lookback = field_num(obj, &LOOKBACK_WINDOW_SECONDS)? as i64;
        let max_attempts = field_num(obj, &MAX_ATTEMPTS)? as u32;
        let max_wait = field_num(obj, &MAX_RETRY_WAIT_SECONDS)? as u64;
        let full_sweep_hours = field_num(obj, &FULL_SWEEP_HOURS)?;
        let deletion_guard_share = field_num(obj, &DELETION_GUARD_SHARE)?;
        let sideload_contact_children = match obj.get("sideload_contact_children") {
            None | Some(Value::Null) => SIDELOAD_CONTACT_CHILDREN,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(ConfigError(format!(
                    "config field 'sideload_contact_children' must be true or false, got {}",
                    short_json(other)
                )))
            }
        };
        Ok(Config {
            base,
            api_key: Secret::new(api_key),
            start_date,
            requests_per_second,
            account_utc_offset_minutes,
            lookback_window_seconds: lookback,
            max_attempts,
            max_retry_wait_seconds: max_wait,
            sideload_contact_children,
            full_sweep_hours,
            deletion_guard_share,
            custom_field_columns: custom_field_choice(obj.get("custom_field_columns"))?,
            field_columns: Vec::new(),
        })
    }
}

impl From<ConfigError> for crate::vocab::failure::Failure {
    fn from(e: ConfigError) -> crate::vocab::failure::Failure {
        crate::vocab::failure::Failure::config(e.0)
    }
}

/// `custom_field_columns`: `"all"` (the default), `"none"`, or field ids and personalization tags
/// (a comma-separated text, or a list).
fn custom_field_choice(v: Option<&Value>) -> Result<Choice, ConfigError> {
    let bad = |v: &Value| {
        ConfigError(format!(
            "config field 'custom_field_columns' must be \"all\", \"none\" or custom field ids and personalization tags (\"12,LEAD_SOURCE\" or [\"12\", \"LEAD_SOURCE\"]), got {}",
            short_json(v)
        ))
    };
    match v {
        None | Some(Value::Null) => Ok(Choice::All),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("all") => Ok(Choice::All),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("none") => Ok(Choice::Nothing),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Choice::Only(
            s.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(String::from)
                .collect(),
        )),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
                Value::Number(n) => Ok(n.to_string()),
                other => Err(bad(other)),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Choice::Only),
        Some(other) => Err(bad(other)),
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
