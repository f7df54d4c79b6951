//! The one engine that reads every stream: it pages, filters on cursors, checkpoints, retries and
//! keeps all requests of the run under one rate budget, with several requests in flight.
//!
//! It talks to the outside only through [`Transport`] (HTTP and clocks) and [`Sink`] (output), so
//! the whole loop runs natively in unit tests against a scripted transport. Its parts:
//!
//! - [`client`]: the request client, its retries and the retry budget pages share;
//! - [`plan`]: the planner, which decides what kind of pass each stream gets (pure);
//! - [`task`]: the tasks that carry out the plans (one paged list each);
//! - [`run`]: the scheduler loop and what happens to each finished request;
//! - [`offset`] and [`id_ranges`]: the offset pager and the keyset (id range) pager;
//! - [`emit`]: records, states and progress out to the sink;
//! - [`newest`]: newest first down to the cursor between sweeps, checked page by page;
//! - [`decision`]: the engine's decisions as typed events (and their words for people);
//! - [`deletions`]: ids gone since the last complete pass, at the end of a complete pass;
//! - [`lifecycle`]: a task's retries, completion and failure.

mod client;
mod columns;
pub(crate) mod decision;
mod deletions;
mod emit;
mod id_ranges;
mod lifecycle;
mod newest;
mod offset;
mod plan;
mod riders;
mod run;
mod task;

pub(crate) use client::Client;
pub(crate) use run::read;
pub(crate) use task::{first_pages, lanes};

use crate::api::streams::StreamDef;
use crate::documents::config::Config;
use crate::documents::state::StreamState;
use crate::rules::datetime::Instant;
use crate::vocab::failure::{Failure, FailureType};
use decision::Decision;
use plan::SERVER_FILTER_MARGIN_S;
use serde_json::Value;

/// An HTTP answer, body fully read.
#[derive(Debug, Clone, Default)]
pub(crate) struct HttpResponse {
    /// Status code.
    pub(crate) status: u16,
    /// Headers, names lower-cased.
    pub(crate) headers: Vec<(String, String)>,
    /// Body bytes.
    pub(crate) body: Vec<u8>,
}

impl HttpResponse {
    /// First value of a header (name in lower case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request got no answer, as the edge knows it: whether retrying can help is the edge's
/// knowledge (it sees the host's error codes); what to do about it is the engine's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TransportError {
    /// A failure that may pass (connection refused or broken, timeouts): retried.
    Network(String),
    /// One that retrying cannot cure (the host name does not resolve, its certificate is
    /// refused): the request fails at once, as something the user must fix.
    Permanent(String),
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportError::Network(why) | TransportError::Permanent(why) => f.write_str(why),
        }
    }
}

impl From<String> for TransportError {
    /// A failure described only by its text is a network failure (retried).
    fn from(why: String) -> TransportError {
        TransportError::Network(why)
    }
}

impl From<&str> for TransportError {
    /// A failure described only by its text is a network failure (retried).
    fn from(why: &str) -> TransportError {
        TransportError::Network(why.to_string())
    }
}

/// The HTTP and clock edge.
pub(crate) trait Transport {
    /// Begins a GET of `path_and_query` on the account's host; its result comes back from `wait`
    /// under `ticket`. An `Err` means the request could not even start.
    fn start(&mut self, ticket: u64, path_and_query: &str) -> Result<(), TransportError>;
    /// Blocks until at least one started request has finished or the monotonic clock reaches
    /// `deadline_ns`; returns what finished.
    fn wait(&mut self, deadline_ns: u64) -> Vec<(u64, Result<HttpResponse, TransportError>)>;
    /// Monotonic clock, nanoseconds.
    fn now_ns(&mut self) -> u64;
    /// Wall clock, milliseconds since the epoch (for `emitted_at`).
    fn wall_ms(&mut self) -> u64;
}

/// How much a log message matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    /// What happened, for the record.
    Info,
    /// Something a person should look at; the read goes on.
    Warn,
}

impl Level {
    /// Airbyte's (and the log's) spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Level::Info => "INFO",
            Level::Warn => "WARN",
        }
    }
}

/// Where a stream is in its read, as Airbyte's stream status traces say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamStatus {
    /// Its first request is about to be made.
    Started,
    /// Its first records are out.
    Running,
    /// Every record of the pass is out.
    Complete,
    /// It failed: what it emitted, state included, stays valid, but the pass is not complete.
    Incomplete,
}

impl StreamStatus {
    /// Airbyte's spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            StreamStatus::Started => "STARTED",
            StreamStatus::Running => "RUNNING",
            StreamStatus::Complete => "COMPLETE",
            StreamStatus::Incomplete => "INCOMPLETE",
        }
    }
}

/// Where messages go.
pub(crate) trait Sink {
    /// One record.
    fn record(&mut self, record: &RecordEvent);
    /// One stream's state; `records`: the stream's records since its previous state.
    fn state(&mut self, stream: &str, state: &Value, records: u64);
    /// A log message.
    fn log(&mut self, level: Level, message: &str);
    /// A stream's status.
    fn status(&mut self, stream: &str, status: StreamStatus, emitted_at: u64);
    /// An error; `stream` names the failed stream when there is one.
    fn error(&mut self, error: &ErrorEvent, emitted_at: u64);
    /// A record deleted in the account: an id the last complete pass saw and this one did not,
    /// found at `emitted_at`.
    fn deletion(&mut self, stream: &str, stream_json: &str, id: &str, emitted_at: u64);
    /// Makes everything written so far durable (called after each STATE).
    fn checkpoint(&mut self);
    /// Human-readable progress (stderr in the CLI).
    fn progress(&mut self, text: &str);
    /// A decision the engine took about a stream; by default, its message at its level.
    fn decision(&mut self, decision: &Decision) {
        self.log(decision.level(), &decision.message());
    }
    /// The schema a read's catalog declares for a stream, where it adds to the built-in one
    /// (custom field columns); a sink that types records takes their types from it.
    fn declare(&mut self, _stream: &str, _schema: &Value) {}
}

/// Tells that a stream failed: its error, its INCOMPLETE status and a progress line. What it
/// emitted before, state included, stays valid. For the streams the engine read and for those a
/// read could not begin.
pub(crate) fn report_failed_stream(sink: &mut dyn Sink, stream: &str, failure: &Failure, at: u64) {
    let message = format!("stream '{stream}' failed: {}", failure.message);
    let error = ErrorEvent {
        stream: Some(stream),
        message: &message,
        internal: &failure.message,
        kind: failure.kind,
    };
    sink.error(&error, at);
    sink.status(stream, StreamStatus::Incomplete, at);
    sink.progress(&message);
}

/// A record event: the record's JSON text as the API sent it (zero dates nulled), for a stream.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RecordEvent<'a> {
    /// The stream's name.
    pub(crate) stream: &'a str,
    /// The stream's name as a JSON string (made once per page, not per record).
    pub(crate) stream_json: &'a str,
    /// The record.
    pub(crate) data_json: &'a str,
    /// When it was read, milliseconds since the epoch.
    pub(crate) emitted_at: u64,
}

/// An error event: what failed, for a person and for the log, and its class.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ErrorEvent<'a> {
    /// The failed stream, when the failure is one stream's.
    pub(crate) stream: Option<&'a str>,
    /// What happened and what to do.
    pub(crate) message: &'a str,
    /// The technical detail.
    pub(crate) internal: &'a str,
    /// Class.
    pub(crate) kind: FailureType,
}

/// Outcome of one stream.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StreamSummary {
    /// Stream name.
    pub(crate) name: String,
    /// Records emitted.
    pub(crate) records: u64,
    /// Requests made for it (shared pages count for every stream they feed).
    pub(crate) requests: u64,
    /// Wall time from its first request to its end, milliseconds.
    pub(crate) millis: u64,
    /// The failure, when the stream did not complete.
    pub(crate) failure: Option<Failure>,
    /// Records of an incremental read that carried none of the stream's cursor fields.
    pub(crate) uncursored: u64,
    /// Deletions found (ids the last complete pass saw and this one did not).
    pub(crate) deleted: u64,
}

impl StreamSummary {
    /// A stream that made no request: it waits for its sweep (`failure` None), or could not be
    /// read at all.
    pub(crate) fn unread(name: String, failure: Option<Failure>) -> StreamSummary {
        StreamSummary {
            name,
            records: 0,
            requests: 0,
            millis: 0,
            failure,
            uncursored: 0,
            deleted: 0,
        }
    }
}

/// Outcome of a read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ReadSummary {
    /// Per stream, in catalog order.
    pub(crate) streams: Vec<StreamSummary>,
    /// All HTTP requests begun.
    pub(crate) requests: u64,
    /// Wall time, milliseconds.
    pub(crate) millis: u64,
}

/// A stream to read, with its definition, mode and saved state.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    /// What to read.
    pub(crate) def: StreamDef,
    /// Incremental or full refresh.
    pub(crate) incremental: bool,
    /// Saved state (default: none).
    pub(crate) state: StreamState,
    /// Whether deletions are found and emitted (the destination keeps rows across syncs).
    pub(crate) deletions: bool,
}

impl Job {
    /// Where a pass that reads back from `from` (a cursor) starts: less the stream's overlap
    /// (the config's lookback, or the event-time default when larger) and a day's margin. The
    /// server filter and the newest-first cut both go back so far; the cursor makes the cut.
    pub(crate) fn read_back_from(&self, from: Instant, config: &Config) -> Instant {
        let overlap = config.lookback_window_seconds.max(self.def.lookback_s);
        from.plus_seconds(-overlap - SERVER_FILTER_MARGIN_S)
    }
}

/// Answers without a list (empty body, `{}`) in a row that make an empty page.
pub(crate) const EMPTY_CONFIRMATIONS: u32 = 3;

/// Margin taken off the server time at which a pass began, for clock differences between the
/// API's front ends and its database.
pub(crate) const PASS_START_MARGIN_S: i64 = 5;
