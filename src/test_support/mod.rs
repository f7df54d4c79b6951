//! Test doubles and helpers shared by the unit tests of several modules: a scripted transport,
//! a sink that keeps Airbyte lines, answers, configs and jobs.

pub(crate) mod reads;
mod screen;
pub(crate) use screen::Screen;

use crate::api::streams::fixed_streams;
use crate::documents::config::Config;
use crate::documents::state::StreamState;
pub(crate) use crate::engine::decision::{Decision, Held};
use crate::engine::{ErrorEvent, HttpResponse, Job, RecordEvent, Sink, Transport, TransportError};
use serde_json::{json, Value};
use std::collections::VecDeque;

/// The function that answers a scripted transport's requests, by path.
pub(crate) type Answer = Box<dyn FnMut(&str) -> Result<HttpResponse, TransportError>>;

/// A scripted transport: a function answers each path; time advances by `latency` per request.
pub(crate) struct Fake {
    /// Calls of `wait` (a loop that spins trips an assertion).
    pub(crate) waits: u64,
    /// The fake monotonic clock, nanoseconds.
    pub(crate) now: u64,
    /// Base latency of an answer, nanoseconds.
    pub(crate) latency: u64,
    /// Requests in flight: (due time, ticket, path).
    pub(crate) pending: VecDeque<(u64, u64, String)>,
    /// Every request begun: (time, path).
    pub(crate) starts: Vec<(u64, String)>,
    /// What answers each path.
    pub(crate) answer: Answer,
}

impl Fake {
    /// A transport answering with `answer` after `latency` ns (up to 3× by path); an error
    /// given as text is a network failure (retried).
    pub(crate) fn new(
        latency: u64,
        mut answer: impl FnMut(&str) -> Result<HttpResponse, String> + 'static,
    ) -> Fake {
        Fake::typed(latency, move |p: &str| {
            answer(p).map_err(TransportError::Network)
        })
    }

    /// The same, with the transport's own errors (failures retrying cannot cure, too).
    pub(crate) fn typed(
        latency: u64,
        answer: impl FnMut(&str) -> Result<HttpResponse, TransportError> + 'static,
    ) -> Fake {
        Fake {
            waits: 0,
            now: 0,
            latency,
            pending: VecDeque::new(),
            starts: vec![],
            answer: Box::new(answer),
        }
    }
}

impl Transport for Fake {
    fn start(&mut self, ticket: u64, path: &str) -> Result<(), TransportError> {
        self.starts.push((self.now, path.to_string()));
        // Latency varies with the path (up to 3×), so answers come back out of order.
        let vary = path
            .bytes()
            .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64))
            % 3;
        self.pending.push_back((
            self.now + self.latency * (1 + vary),
            ticket,
            path.to_string(),
        ));
        Ok(())
    }
    fn wait(&mut self, deadline: u64) -> Vec<(u64, Result<HttpResponse, TransportError>)> {
        self.waits += 1;
        assert!(self.waits < 100_000, "the read loop spins");
        let mut due: Vec<_> = self.pending.iter().map(|p| p.0).collect();
        due.sort();
        let first = due.first().copied().unwrap_or(u64::MAX);
        if first > deadline {
            self.now = self.now.max(deadline);
            return vec![];
        }
        self.now = self.now.max(first);
        let (ready, rest): (Vec<_>, Vec<_>) = self.pending.drain(..).partition(|p| p.0 <= self.now);
        self.pending = rest.into();
        ready
            .into_iter()
            .map(|(_, t, p)| (t, (self.answer)(&p)))
            .collect()
    }
    fn now_ns(&mut self) -> u64 {
        self.now
    }
    fn wall_ms(&mut self) -> u64 {
        1_700_000_000_000 + self.now / 1_000_000
    }
}

/// A sink keeping every line it is given, and the engine's decisions as they were taken.
#[derive(Default)]
pub(crate) struct Lines(pub(crate) Vec<String>, pub(crate) Vec<Decision>);

impl Lines {
    /// Whether a decision of this kind was taken (`kind` matches the variant).
    pub(crate) fn decided(&self, kind: impl Fn(&Decision) -> bool) -> bool {
        self.1.iter().any(kind)
    }
}

/// The engine's events as Airbyte lines, the way the Airbyte writer formats them.
impl Sink for Lines {
    fn record(&mut self, r: &RecordEvent) {
        self.0.push(crate::output::airbyte::record_line(
            r.stream_json,
            r.data_json,
            r.emitted_at,
        ));
    }
    fn state(&mut self, stream: &str, state: &Value, records: u64) {
        self.0
            .push(crate::output::airbyte::state_line(stream, state, records));
    }
    fn deletion(&mut self, _stream: &str, stream_json: &str, id: &str, emitted_at: u64) {
        use crate::api::catalog::AIRBYTE_DELETED_AT;
        use crate::output::airbyte::{deletion_data, record_line};
        let data = deletion_data(id, AIRBYTE_DELETED_AT, emitted_at);
        self.0.push(record_line(stream_json, &data, emitted_at));
    }
    fn log(&mut self, level: crate::engine::Level, message: &str) {
        self.0
            .push(crate::output::airbyte::log_line(level, message));
    }
    fn status(&mut self, stream: &str, status: crate::engine::StreamStatus, emitted_at: u64) {
        self.0.push(crate::output::airbyte::status_line(
            stream, status, emitted_at,
        ));
    }
    fn error(&mut self, e: &ErrorEvent, emitted_at: u64) {
        self.0.push(crate::output::airbyte::error_line(
            e.stream, e.message, e.internal, e.kind, emitted_at,
        ));
    }
    fn decision(&mut self, d: &Decision) {
        self.log(d.level(), &d.message());
        self.1.push(d.clone());
    }
    fn checkpoint(&mut self) {}
    fn progress(&mut self, _: &str) {}
}

/// A 200 answer with `body`.
pub(crate) fn ok(body: Value) -> Result<HttpResponse, String> {
    Ok(HttpResponse {
        status: 200,
        headers: vec![],
        body: body.to_string().into_bytes(),
    })
}

/// A config for `rps` requests per second.
pub(crate) fn config(rps: f64) -> Config {
    Config::parse(&json!({"api_url": "http://127.0.0.1:1", "api_key": "k", "requests_per_second": rps, "max_retry_wait_seconds": 60}).to_string()).unwrap()
}

/// A query parameter of a path, as sent.
pub(crate) fn query(path: &str, key: &str) -> Option<String> {
    path.split_once('?')?
        .1
        .split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")).map(String::from))
}

/// The ids of the contacts page `path` asks for, of contacts 1..=n answering as the API does:
/// the top page (`orders[id]=DESC`) holds the newest id, a keyset page up to 100 ids past
/// `id_greater` and below `id_less`.
pub(crate) fn contact_page_ids(path: &str, n: u64) -> Vec<u64> {
    let num = |k: &str| query(path, k).and_then(|v| v.parse::<u64>().ok());
    if query(path, "orders%5Bid%5D").as_deref() == Some("DESC") {
        return vec![n];
    }
    let after = num("id_greater").unwrap_or(0);
    (after + 1..num("id_less").unwrap_or(n + 1).min(n + 1))
        .take(100)
        .collect()
}

/// A configured catalog reading each stream in full: (name, the custom field columns its schema
/// declares beside `id`).
pub(crate) fn full_refresh_catalog(streams: &[(&str, Value)]) -> String {
    let streams: Vec<Value> = streams
        .iter()
        .map(|(name, columns)| {
            let mut props = json!({"id": {"type": "string"}});
            for (k, v) in columns.as_object().into_iter().flatten() {
                props[k] = v.clone();
            }
            json!({"stream": {"name": name, "json_schema": {"properties": props}},
                "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"})
        })
        .collect();
    json!({ "streams": streams }).to_string()
}

/// A full-refresh job of a fixed stream.
pub(crate) fn job(name: &str) -> Job {
    Job {
        def: fixed_streams()
            .into_iter()
            .find(|d| d.name == name)
            .unwrap(),
        incremental: false,
        state: StreamState::default(),
        deletions: false,
    }
}

/// The ids of a stream's RECORD lines, in order.
pub(crate) fn records(lines: &[String], stream: &str) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["type"] == "RECORD" && v["record"]["stream"] == stream)
        .map(|v| v["record"]["data"]["id"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Nanoseconds in a second.
pub(crate) const SECOND: u64 = 1_000_000_000;

/// An instant from RFC 3339 text.
pub(crate) fn t(s: &str) -> crate::rules::datetime::Instant {
    crate::rules::datetime::parse_instant(s, 0).unwrap()
}

/// The `offset` of a requested path (0 when it has none).
pub(crate) fn offset_of(path: &str) -> u64 {
    query(path, "offset")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
