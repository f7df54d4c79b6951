//! Per-stream state: the cursor of the last completed pass and, while a pass is under way, where
//! to resume it.
//!
//! Written as Airbyte STREAM state after every page; read back from the list of STATE messages a
//! runner saves, or from the older single-object form `{"<stream>": {...}}`.

use crate::rules::datetime::{parse_instant, Instant};
use crate::rules::id_set::IdSet;
use crate::vocab::json::{short_json, type_name};
use crate::vocab::page::IdRange;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// What is kept for one stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StreamState {
    /// High-water mark of the last completed incremental pass.
    pub(crate) cursor: Option<Instant>,
    /// Ids delivered with exactly `cursor`, so they are not delivered again.
    pub(crate) cursor_ids: Vec<String>,
    /// Where the unfinished pass stopped (None: no pass under way).
    pub(crate) resume: Option<Resume>,
    /// Highest cursor seen so far in the unfinished pass.
    pub(crate) pass_max: Option<Instant>,
    /// Ids seen with exactly `pass_max`.
    pub(crate) pass_max_ids: Vec<String>,
    /// Server time (less a margin) when the unfinished pass began: records that change while a
    /// pass runs may be behind it, so the cursor never moves past this instant.
    pub(crate) pass_start: Option<Instant>,
    /// The ids of the last complete pass and when it began (deletions are found against it).
    pub(crate) seen: Option<Baseline>,
    /// Ids delivered since the last complete pass began that it did not see (rows born since,
    /// delivered by passes between sweeps, resumed passes or the complete pass under way): the
    /// destination may hold them, so the next complete pass compares them too, and a row born
    /// and deleted between sweeps is deleted at the sweep. Only new ids: it stays small.
    pub(crate) delivered: IdSet,
    /// High-water mark of the partial passes since the last pass that saw every record past the
    /// cursor (newest first by another field than the cursor, children of changed
    /// parents only). Partial passes deliver past it; `cursor` stays where a complete pass left
    /// it, so the next sweep still delivers what they could not see.
    pub(crate) ahead: Option<Instant>,
}

/// The ids the last complete pass over a stream saw, and when that pass began. Kept through a
/// pass's mid-pass states unchanged, replaced when a complete pass ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Baseline {
    /// The ids.
    pub(crate) ids: IdSet,
    /// When the pass that saw them began (the connector's clock).
    pub(crate) at: Instant,
    /// `ids`' runs as state text, made once (states go out after every page).
    runs: String,
    /// Bytes it adds to a state message (about), made once: asked after every page.
    bytes: usize,
}

impl Baseline {
    /// The baseline of a pass that began `at` and saw `ids`.
    pub(crate) fn new(ids: IdSet, at: Instant) -> Baseline {
        let runs = ids.encode_runs();
        let bytes = runs.len() + ids.other_ids().map(|i| i.len() + 3).sum::<usize>();
        Baseline {
            ids,
            at,
            runs,
            bytes,
        }
    }

    /// Bytes it adds to a state message (about).
    pub(crate) fn state_bytes(&self) -> usize {
        self.bytes
    }

    fn to_value(&self) -> Value {
        let mut m = id_set_value(&self.ids, &self.runs);
        m.insert("at".into(), json!(self.at.to_rfc3339()));
        Value::Object(m)
    }

    fn from_value(v: &Value, stream: &str) -> Result<Baseline, StateError> {
        let bad = |why: String| {
            StateError(format!("state of stream '{stream}': seen {why}; remove 'seen' from this stream's state (the next complete pass then starts a new record of ids, and reports no deletions until the one after)"))
        };
        let obj = v
            .as_object()
            .ok_or_else(|| bad(format!("must be an object, found {}", type_name(v))))?;
        let at =
            instant(obj.get("at"), stream, "seen.at")?.ok_or_else(|| bad("has no 'at'".into()))?;
        Ok(Baseline::new(id_set_from(obj, &bad)?, at))
    }
}

/// A set of ids as state text: `runs` (numeric ids), `ids` (the others) and their `count`.
fn id_set_value(ids: &IdSet, runs: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("count".into(), json!(ids.len()));
    m.insert("runs".into(), json!(runs));
    m.insert("ids".into(), json!(ids.other_ids().collect::<Vec<_>>()));
    m
}

/// Reads [`id_set_value`]'s fields back; `bad` says what is wrong and what to do.
fn id_set_from(
    obj: &Map<String, Value>,
    bad: &dyn Fn(String) -> StateError,
) -> Result<IdSet, StateError> {
    let runs = obj
        .get("runs")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("has no 'runs' text".into()))?;
    let other = match obj.get("ids") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(String::from)
                    .ok_or_else(|| bad("'ids' must be strings".into()))
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(bad(format!(
                "'ids' must be a list, found {}",
                type_name(other)
            )))
        }
    };
    let ids = IdSet::decode(runs, other).map_err(bad)?;
    if obj.get("count").and_then(Value::as_u64) != Some(ids.len()) {
        return Err(bad(format!(
            "'count' is not the {} ids it holds",
            ids.len()
        )));
    }
    Ok(ids)
}

/// The ids delivered since the last complete pass, from a state's `delivered` (none: empty).
fn delivered_from(v: Option<&Value>, stream: &str) -> Result<IdSet, StateError> {
    let bad = |why: String| {
        StateError(format!("state of stream '{stream}': delivered {why}; remove 'delivered' from this stream's state (rows created and deleted since the last complete pass may then stay downstream)"))
    };
    match v {
        None | Some(Value::Null) => Ok(IdSet::default()),
        Some(Value::Object(obj)) => id_set_from(obj, &bad),
        Some(other) => Err(bad(format!(
            "must be an object, found {}",
            type_name(other)
        ))),
    }
}

/// Where an unfinished pass goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resume {
    /// Offset paging: the first offset not yet delivered.
    Offset(u64),
    /// Offset paging: the first offset not yet delivered, and the ids of the last records
    /// delivered (in list order), so the next run's first page can be checked to continue them.
    OffsetAfter(u64, Vec<String>),
    /// Keyset paging: the id ranges still to read (several when read in parallel).
    Ranges(Vec<IdRange>),
}

fn id_value(v: &Value, stream: &str, key: &str) -> Result<Option<String>, StateError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s)
            if !s.is_empty() && s.len() < 40 && s.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Ok(Some(s.clone()))
        }
        Value::Number(n) if n.is_u64() => Ok(Some(n.to_string())),
        other => Err(StateError(format!(
            "state of stream '{stream}': {key} must be an id (digits), found {}",
            short_json(other)
        ))),
    }
}

/// A state input problem; the text says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StateError(pub(crate) String);

impl std::fmt::Display for StateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

const MAX_IDS: usize = 10_000;

fn ids(v: Option<&Value>, stream: &str, key: &str) -> Result<Vec<String>, StateError> {
    match v {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::Array(a)) if a.len() <= MAX_IDS => a
            .iter()
            .map(|x| match x {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                other => Err(StateError(format!(
                    "state of stream '{stream}': '{key}' must list ids as strings, found {}",
                    type_name(other)
                ))),
            })
            .collect(),
        Some(other) => Err(StateError(format!(
            "state of stream '{stream}': '{key}' must be a list of at most {MAX_IDS} ids, found {}",
            short_json(other)
        ))),
    }
}

fn instant(v: Option<&Value>, stream: &str, key: &str) -> Result<Option<Instant>, StateError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => parse_instant(s, 0).map(Some).ok_or_else(|| {
            StateError(format!("state of stream '{stream}': '{key}' is not a timestamp: {}; fix or remove it (removing it re-reads the stream)", short_json(&Value::String(s.clone()))))
        }),
        Some(other) => Err(StateError(format!("state of stream '{stream}': '{key}' must be a timestamp string, found {}", type_name(other)))),
    }
}

/// Where an unfinished pass goes on, from a state object's `resume`.
fn resume_of(obj: &Map<String, Value>, stream: &str) -> Result<Option<Resume>, StateError> {
    Ok(match obj.get("resume") {
        None | Some(Value::Null) => None,
        Some(Value::Object(r)) => {
            Some(if let Some(o) = r.get("offset") {
                let o = o.as_u64().ok_or_else(|| StateError(format!("state of stream '{stream}': resume.offset must be a whole number, found {}", short_json(o))))?;
                match r.get("last_ids") {
                None | Some(Value::Null) => Resume::Offset(o),
                Some(Value::Array(ids)) if ids.len() <= 100 && ids.iter().all(|i| i.as_str().is_some_and(|s| s.len() <= 100)) => Resume::OffsetAfter(o, ids.iter().filter_map(|i| i.as_str().map(String::from)).collect()),
                Some(other) => return Err(StateError(format!("state of stream '{stream}': resume.last_ids must be a list of at most 100 id strings, found {}", short_json(other)))),
            }
            } else if let Some(a) = r.get("id_greater") {
                Resume::Ranges(vec![IdRange {
                    after: id_value(a, stream, "resume.id_greater")?,
                    below: None,
                }])
            } else if let Some(list) = r.get("ranges") {
                let items = list.as_array().filter(|a| a.len() <= 1000).ok_or_else(|| StateError(format!("state of stream '{stream}': resume.ranges must be a list of at most 1000 ranges")))?;
                let mut ranges = Vec::new();
                for item in items {
                    let after = id_value(
                        item.get("after").unwrap_or(&Value::Null),
                        stream,
                        "resume.ranges[].after",
                    )?;
                    let below = id_value(
                        item.get("below").unwrap_or(&Value::Null),
                        stream,
                        "resume.ranges[].below",
                    )?;
                    ranges.push(IdRange { after, below });
                }
                Resume::Ranges(ranges)
            } else {
                return Err(StateError(format!("state of stream '{stream}': resume must hold 'offset', 'id_greater' or 'ranges'")));
            })
        }
        Some(other) => {
            return Err(StateError(format!(
                "state of stream '{stream}': resume must be an object, found {}",
                type_name(other)
            )))
        }
    })
}

impl StreamState {
    /// Notes that a record with `id` reached the destination (deletions are tracked): kept
    /// when the last complete pass did not see it.
    pub(crate) fn delivered(&mut self, id: &str) {
        if !self.seen.as_ref().is_some_and(|b| b.ids.contains(id)) {
            self.delivered.insert(id);
        }
    }

    /// The ids the destination may hold from earlier syncs, for a complete pass to compare
    /// with: the last complete pass's and those delivered since (taken out of the state).
    pub(crate) fn take_held_ids(&mut self) -> Option<Baseline> {
        let delivered = std::mem::take(&mut self.delivered);
        match self.seen.take() {
            Some(b) if delivered.len() == 0 && delivered.usable() => Some(b),
            Some(b) => {
                let mut ids = b.ids;
                ids.extend(&delivered);
                Some(Baseline::new(ids, b.at))
            }
            None if delivered.len() == 0 && delivered.usable() => None,
            None => Some(Baseline::new(delivered, Instant(0))),
        }
    }

    /// Reads one stream's state object. `cursor_field` lets a Singer-style bookmark
    /// (`{"udate": "…"}`) stand in for `cursor`, and a bare timestamp string (what singer-io's
    /// tap-activecampaign writes: `{"bookmarks": {"contacts": "2025-01-01T00:00:00.000000Z"}}`)
    /// is the cursor itself; on a stream without a cursor it means nothing and is ignored.
    pub(crate) fn from_value(
        stream: &str,
        v: &Value,
        cursor_field: Option<&str>,
    ) -> Result<StreamState, StateError> {
        if v.is_string() {
            let cursor = match cursor_field {
                Some(_) => instant(Some(v), stream, "bookmark")?,
                None => None,
            };
            return Ok(StreamState {
                cursor,
                ..StreamState::default()
            });
        }
        let obj = v.as_object().ok_or_else(|| {
            StateError(format!(
                "state of stream '{stream}' must be an object, found {}",
                type_name(v)
            ))
        })?;
        let mut st = StreamState {
            cursor: instant(obj.get("cursor"), stream, "cursor")?,
            cursor_ids: ids(obj.get("cursor_ids"), stream, "cursor_ids")?,
            pass_max: instant(obj.get("pass_max"), stream, "pass_max")?,
            pass_max_ids: ids(obj.get("pass_max_ids"), stream, "pass_max_ids")?,
            pass_start: instant(obj.get("pass_start"), stream, "pass_start")?,
            resume: None,
            ahead: instant(obj.get("ahead"), stream, "ahead")?,
            seen: match obj.get("seen") {
                None | Some(Value::Null) => None,
                Some(v) => Some(Baseline::from_value(v, stream)?),
            },
            delivered: delivered_from(obj.get("delivered"), stream)?,
        };
        if st.cursor.is_none() {
            if let Some(f) = cursor_field {
                st.cursor = instant(obj.get(f), stream, f)?;
            }
        }
        st.resume = resume_of(obj, stream)?;
        Ok(st)
    }

    /// The state object written in STATE messages.
    pub(crate) fn to_value(&self) -> Value {
        let mut m = Map::new();
        if let Some(c) = self.cursor {
            m.insert("cursor".into(), json!(c.to_rfc3339()));
            m.insert("cursor_ids".into(), json!(self.cursor_ids));
        }
        if let Some(b) = &self.seen {
            m.insert("seen".into(), b.to_value());
        }
        if self.delivered.len() > 0 && self.delivered.usable() {
            let runs = self.delivered.encode_runs();
            m.insert(
                "delivered".into(),
                Value::Object(id_set_value(&self.delivered, &runs)),
            );
        }
        if let Some(a) = self.ahead {
            m.insert("ahead".into(), json!(a.to_rfc3339()));
        }
        if let Some(r) = &self.resume {
            m.insert("resume".into(), match r {
                Resume::Offset(o) => json!({"offset": o}),
                Resume::OffsetAfter(o, ids) => json!({"offset": o, "last_ids": ids}),
                Resume::Ranges(rs) => json!({"ranges": rs.iter().map(|r| json!({"after": r.after, "below": r.below})).collect::<Vec<_>>()}),
            });
            if let Some(p) = self.pass_max {
                m.insert("pass_max".into(), json!(p.to_rfc3339()));
                m.insert("pass_max_ids".into(), json!(self.pass_max_ids));
            }
            if let Some(p) = self.pass_start {
                m.insert("pass_start".into(), json!(p.to_rfc3339()));
            }
        }
        Value::Object(m)
    }

    /// Notes a delivered record's cursor value for the running pass.
    pub(crate) fn saw(&mut self, at: Instant, id: &str) {
        match self.pass_max {
            Some(m) if at < m => {}
            Some(m) if at == m => {
                if self.pass_max_ids.len() < MAX_IDS && !self.pass_max_ids.iter().any(|x| x == id) {
                    self.pass_max_ids.push(id.to_string());
                }
            }
            _ => {
                self.pass_max = Some(at);
                self.pass_max_ids = vec![id.to_string()];
            }
        }
    }

    /// Closes a completed pass: the cursor moves to the highest value seen, but not past the
    /// pass's start (a record updated during the pass, behind the pages already read, has a
    /// later value than that start; the next pass must still see it).
    pub(crate) fn finish_pass(&mut self) {
        // A complete pass delivered everything past the cursor: no partial mark is left.
        self.ahead = None;
        self.resume = None;
        let started = self.pass_start.take();
        if let Some(p) = self.pass_max.take() {
            let mut seen = std::mem::take(&mut self.pass_max_ids);
            let p = match started {
                Some(s) if p >= s => {
                    seen.clear();
                    s
                }
                _ => p,
            };
            match self.cursor {
                Some(c) if p < c => {}
                Some(c) if p == c => {
                    for id in seen {
                        if !self.cursor_ids.contains(&id) && self.cursor_ids.len() < MAX_IDS {
                            self.cursor_ids.push(id);
                        }
                    }
                }
                _ => {
                    self.cursor = Some(p);
                    self.cursor_ids = seen;
                }
            }
        }
    }

    /// Closes a partial pass: only the partial mark moves (never past the pass's start), the
    /// cursor stays for the next complete pass.
    pub(crate) fn finish_partial_pass(&mut self) {
        self.resume = None;
        let started = self.pass_start.take();
        self.pass_max_ids.clear();
        if let Some(p) = self.pass_max.take() {
            let p = match started {
                Some(s) if p >= s => s,
                _ => p,
            };
            if self.ahead.is_none_or(|a| p > a) && self.cursor.is_none_or(|c| p > c) {
                self.ahead = Some(p);
            }
        }
    }

    /// Whether a partial pass delivers a record: past the partial mark when there is one (less
    /// the overlap of event-time cursors), else as [`StreamState::wants`].
    pub(crate) fn wants_partial(
        &self,
        at: Option<Instant>,
        id: &str,
        floor: Option<Instant>,
        lookback_s: i64,
    ) -> bool {
        match (self.ahead, at) {
            (Some(a), Some(at)) if lookback_s > 0 => at >= a.plus_seconds(-lookback_s),
            (Some(a), Some(at)) => at > a,
            _ => self.wants(at, id, floor, lookback_s),
        }
    }

    /// Whether an incremental pass delivers a record with this cursor value and id.
    /// `floor` is the lower bound for a stream without a cursor yet (start_date);
    /// `lookback_s` > 0 re-delivers the margin before the cursor.
    pub(crate) fn wants(
        &self,
        at: Option<Instant>,
        id: &str,
        floor: Option<Instant>,
        lookback_s: i64,
    ) -> bool {
        let Some(at) = at else { return true };
        match self.cursor {
            None => floor.is_none_or(|f| at >= f),
            Some(c) if lookback_s > 0 => at >= c.plus_seconds(-lookback_s),
            Some(c) => at > c || (at == c && !self.cursor_ids.iter().any(|x| x == id)),
        }
    }
}

/// The keys this connector writes in a stream's state (see [`StreamState::to_value`]).
const OWN_KEYS: [&str; 9] = [
    "cursor",
    "cursor_ids",
    "seen",
    "delivered",
    "ahead",
    "resume",
    "pass_max",
    "pass_max_ids",
    "pass_start",
];

/// A warning when a saved stream state is an object with none of this connector's keys nor the
/// stream's cursor field (a Singer bookmark): most likely another connector's state for a stream
/// of the same name. It reads as no state, so the stream starts over; without a word the user
/// would not know why.
pub(crate) fn foreign_state_warning(
    stream: &str,
    v: &Value,
    cursor_field: Option<&str>,
) -> Option<String> {
    let obj = v.as_object()?;
    let ours = |k: &String| OWN_KEYS.contains(&k.as_str()) || Some(k.as_str()) == cursor_field;
    if obj.is_empty() || obj.keys().any(ours) {
        return None;
    }
    let found: Vec<String> = obj
        .keys()
        .take(3)
        .map(|k| format!("`{}`", k.chars().take(40).collect::<String>()))
        .collect();
    Some(format!(
        "the state of stream '{stream}' holds none of this connector's keys (found {}): it looks like another connector's state and is ignored, so '{stream}' is read from the start; pass the STATE messages this connector emitted, or remove '{stream}' from the state",
        found.join(", ")
    ))
}

/// Parses the state input into stream name → state object. Accepts a list of Airbyte STATE
/// messages (STREAM, or GLOBAL's stream_states), or the older single object keyed by stream.
pub(crate) fn parse_state_input(text: &str) -> Result<BTreeMap<String, Value>, StateError> {
    let v: Value = serde_json::from_str(text).map_err(|e| StateError(format!("the state is not valid JSON ({e}); pass the last STATE messages a run emitted, as a JSON list, or remove --state to sync from scratch")))?;
    let mut out = BTreeMap::new();
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let msg = item.get("state").unwrap_or(item);
                let kind = msg.get("type").and_then(Value::as_str).unwrap_or("");
                match kind {
                    "STREAM" => {
                        let s = msg.get("stream").ok_or_else(|| StateError(format!("state item {i} is of type STREAM but has no 'stream'")))?;
                        let name = s.pointer("/stream_descriptor/name").and_then(Value::as_str).ok_or_else(|| StateError(format!("state item {i} has no stream_descriptor.name")))?;
                        out.insert(name.to_string(), s.get("stream_state").cloned().unwrap_or(json!({})));
                    }
                    "GLOBAL" => {
                        let list = msg.pointer("/global/stream_states").and_then(Value::as_array).ok_or_else(|| StateError(format!("state item {i} is GLOBAL without global.stream_states")))?;
                        for s in list {
                            let name = s.pointer("/stream_descriptor/name").and_then(Value::as_str).ok_or_else(|| StateError(format!("state item {i} has a stream state without stream_descriptor.name")))?;
                            out.insert(name.to_string(), s.get("stream_state").cloned().unwrap_or(json!({})));
                        }
                    }
                    "LEGACY" | "" => {
                        let data = msg.get("data").unwrap_or(msg);
                        let obj = data.as_object().ok_or_else(|| StateError(format!("state item {i} is not an object")))?;
                        for (k, v) in obj {
                            if k != "type" && k != "data" {
                                out.insert(k.clone(), v.clone());
                            }
                        }
                    }
                    other => return Err(StateError(format!("state item {i} has unknown type '{}'; expected STREAM", other.chars().take(30).collect::<String>()))),
                }
            }
        }
        Value::Object(obj) => {
            let obj = match obj.get("data").and_then(Value::as_object) {
                Some(d) if obj.get("type").and_then(Value::as_str) == Some("LEGACY") || obj.len() == 1 => d.clone(),
                _ => obj,
            };
            let obj = match obj.get("bookmarks").and_then(Value::as_object) {
                Some(b) => b.clone(),
                None => obj,
            };
            for (k, v) in obj {
                out.insert(k, v);
            }
        }
        other => return Err(StateError(format!("the state must be a JSON list of STATE messages or an object keyed by stream, found {}", type_name(&other)))),
    }
    Ok(out)
}

impl From<StateError> for crate::vocab::failure::Failure {
    fn from(e: StateError) -> crate::vocab::failure::Failure {
        crate::vocab::failure::Failure::config(e.0)
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
