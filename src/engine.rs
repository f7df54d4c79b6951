//! The one engine that reads every stream: it pages, filters on cursors, checkpoints, retries and
//! keeps all requests of the run under one rate budget, with several requests in flight.
//!
//! It talks to the outside only through [`Transport`] (HTTP and clocks) and [`Sink`] (output), so
//! the whole loop runs natively in unit tests against a scripted transport.

use crate::config::Config;
use crate::datetime::{cursor_instant, parse_http_date, Instant};
use crate::limiter::Limiter;
use crate::protocol::{json_string, FailureType};
use crate::request::{page_path, IdRange, Position, PAGE_LIMIT};

/// Ids of the last records delivered that an offset resume point carries.
const RESUME_IDS: usize = 5;

/// Offsets planned ahead are this far apart: pages overlap by one record.
const STRIDE: u64 = PAGE_LIMIT - 1;
use crate::keyset::fence;
use crate::paging::{Chain, Step, MAX_REPAIRS};
use crate::response::{id_text, null_zero_dates_raw, parse_page, record_id, BadPage, Page, Record};
use crate::retry::{backoff_ns, classify, next_random, Verdict, FORBIDDEN_RETRIES, SECOND};
use crate::state::{Resume, StreamState};
use crate::streams::{Paging, ServerFilter, StreamDef};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

/// An HTTP answer, body fully read.
#[derive(Debug, Clone, Default)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// First value of a header (name in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The HTTP and clock edge.
pub trait Transport {
    /// Begins a GET of `path_and_query` on the account's host; its result comes back from `wait`
    /// under `ticket`. An `Err` means the request could not even start (counts as a network failure).
    fn start(&mut self, ticket: u64, path_and_query: &str) -> Result<(), String>;
    /// Blocks until at least one started request has finished or the monotonic clock reaches
    /// `deadline_ns`; returns what finished.
    fn wait(&mut self, deadline_ns: u64) -> Vec<(u64, Result<HttpResponse, String>)>;
    /// Monotonic clock, nanoseconds.
    fn now_ns(&mut self) -> u64;
    /// Wall clock, milliseconds since the epoch (for `emitted_at`).
    fn wall_ms(&mut self) -> u64;
}

/// Where messages go.
pub trait Sink {
    /// One record: `stream_json` is the stream name as a JSON string, `data_json` the record.
    fn record(&mut self, stream: &str, stream_json: &str, data_json: &str, emitted_at: u64);
    /// One stream's state; `records`: the stream's records since its previous state.
    fn state(&mut self, stream: &str, state: &Value, records: u64);
    /// A log message at `level` (INFO, WARN).
    fn log(&mut self, level: &str, message: &str);
    /// A stream's status (STARTED, RUNNING, COMPLETE, INCOMPLETE).
    fn status(&mut self, stream: &str, status: &str, emitted_at: u64);
    /// An error; `stream` names the failed stream when there is one.
    fn error(&mut self, error: &ErrorEvent, emitted_at: u64);
    /// Makes everything written so far durable (called after each STATE).
    fn checkpoint(&mut self);
    /// Human-readable progress (stderr in the CLI).
    fn progress(&mut self, text: &str);
}

/// An error event: what failed, for a person and for the log, and its class.
#[derive(Debug, Clone, Copy)]
pub struct ErrorEvent<'a> {
    /// The failed stream, when the failure is one stream's.
    pub stream: Option<&'a str>,
    /// What happened and what to do.
    pub message: &'a str,
    /// The technical detail.
    pub internal: &'a str,
    /// Class.
    pub kind: FailureType,
}

/// Outcome of one stream.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamSummary {
    /// Stream name.
    pub name: String,
    /// Records emitted.
    pub records: u64,
    /// Requests made for it (shared pages count for every stream they feed).
    pub requests: u64,
    /// Wall time from its first request to its end, milliseconds.
    pub millis: u64,
    /// The failure, when the stream did not complete.
    pub failure: Option<(FailureType, String)>,
}

/// Outcome of a read.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadSummary {
    /// Per stream, in catalog order.
    pub streams: Vec<StreamSummary>,
    /// All HTTP requests begun.
    pub requests: u64,
    /// Wall time, milliseconds.
    pub millis: u64,
}

/// Shared request machinery of a run: one rate budget, retries, the "key worked" memory.
pub struct Client<'t> {
    /// The edge.
    pub transport: &'t mut dyn Transport,
    limiter: Limiter,
    max_attempts: u32,
    max_wait_ns: u64,
    key_worked: bool,
    next_ticket: u64,
    requests: u64,
    random: u64,
    api_path: String,
    start_times: std::collections::HashMap<u64, u64>,
    prefetch: Option<Prefetch>,
    /// The last answer was a 429 this run's own starts explain: its request waits for
    /// `Retry-After`, the others keep their spacing (the server's window over-counted by one).
    own_429: bool,
}

/// A request begun alongside another (the key check), so a slow API costs one round trip for
/// both; its answer waits for the `get` of the same path.
#[derive(Debug)]
struct Prefetch {
    /// Full path and query.
    path: String,
    /// Its ticket once begun.
    ticket: Option<u64>,
    /// Its answer once in.
    answer: Option<Result<HttpResponse, String>>,
}

/// Prefix a transport puts on failures that retrying cannot cure (the host name does not
/// resolve, its certificate is refused): they fail at once, as something the user must fix.
pub const NOT_RETRIED: &str = "not retried: ";

/// What to do about a transport failure.
fn network_verdict(e: &str) -> Verdict {
    match e.strip_prefix(NOT_RETRIED) {
        Some(why) => Verdict::Fail {
            kind: FailureType::Config,
            why: why.to_string(),
        },
        None => Verdict::Retry {
            after_ns: None,
            pause_all: false,
            why: format!("network failure: {e}"),
        },
    }
}

/// Why a request did not start.
#[derive(Debug, Clone, PartialEq)]
enum StartError {
    /// The host could not send it: a network failure, retried.
    Network(String),
    /// It would have left the account's API: never sent, not retried.
    Refused(String),
}

/// A request that ran out of retries or failed for good.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Class.
    pub kind: FailureType,
    /// What happened and what to do.
    pub message: String,
}

impl<'t> Client<'t> {
    /// A client for one run.
    pub fn new(transport: &'t mut dyn Transport, config: &Config) -> Client<'t> {
        let seed = transport.now_ns() ^ 0x5DEE_CE66_D1CE_4E5B;
        Client {
            transport,
            limiter: Limiter::new(config.requests_per_second),
            max_attempts: config.max_attempts.max(1),
            max_wait_ns: config.max_retry_wait_seconds.saturating_mul(SECOND),
            key_worked: false,
            next_ticket: 1,
            requests: 0,
            random: seed,
            api_path: config.base.api_path.clone(),
            start_times: Default::default(),
            prefetch: None,
            own_429: false,
        }
    }

    /// Requests begun so far.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// Starts a request now if the budget allows; returns its ticket (or why it could not
    /// start), or the time to try again.
    fn try_start(&mut self, path: &str) -> Result<Result<u64, StartError>, u64> {
        if let Err(refused) = crate::request::on_account_host(&self.api_path, path) {
            return Ok(Err(StartError::Refused(refused)));
        }
        let now = self.transport.now_ns();
        let slot = self.limiter.next_slot();
        if slot > now {
            return Err(slot);
        }
        self.limiter.started(now);
        self.requests += 1;
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.start_times.insert(ticket, now);
        Ok(self
            .transport
            .start(ticket, path)
            .map(|_| ticket)
            .map_err(StartError::Network))
    }

    /// Honours `RateLimit-Remaining: 0` when other clients, not this run, used the budget, and
    /// learns from a 429 that this run's own starts caused (see [`Limiter`]).
    /// Returns what changed, for a log line.
    fn note_headers(&mut self, ticket: u64, resp: &HttpResponse) -> Option<String> {
        let start = self.start_times.remove(&ticket);
        let now = self.transport.now_ns();
        let limit = resp
            .header("ratelimit-limit")
            .and_then(|v| v.trim().parse::<u64>().ok());
        let mut note = None;
        self.own_429 = resp.status == 429 && self.limiter.own_429(start.unwrap_or(now), limit);
        if resp.status == 429 && self.limiter.rate_limited(start.unwrap_or(now), limit) {
            note = Some(format!(
                "a 429 our own requests caused (their arrival at the server varies): spacing requests {} ms apart from now on",
                self.limiter.interval_ns() / 1_000_000
            ));
        }
        if resp.header("ratelimit-remaining").map(str::trim) == Some("0")
            && self.limiter.exhausted(start.unwrap_or(now), limit, now)
        {
            note = note.or(Some(format!(
                "RateLimit-Remaining: 0 although this run began fewer requests in that second: other clients share the account's budget; holding requests for {} ms",
                self.limiter.next_slot().saturating_sub(now) / 1_000_000
            )));
        }
        note
    }

    /// One GET of an API path (below `/api/3/`) with the full retry policy. Returns the 2xx answer.
    pub fn get(&mut self, path: &str) -> Result<HttpResponse, Failure> {
        self.get_inner(path, false)
    }

    /// Proves the key works (`users/me`) before anything else, so a wrong key fails the run once
    /// and clearly, and later 403s are known to be intermittent. A 403 here is retried a few
    /// times quickly, since ActiveCampaign sends intermittent 403s even to good keys.
    pub fn verify_key(&mut self) -> Result<HttpResponse, Failure> {
        self.get_inner("users/me", true)
    }

    /// Begins `path` (below `/api/3/`) together with the next request made through [`Client::get`]
    /// or [`Client::verify_key`], once the budget allows; a later `get` of the same path uses its
    /// answer when that answer is usable, and asks again otherwise.
    pub fn prefetch(&mut self, path: &str) {
        self.prefetch = Some(Prefetch {
            path: format!("{}/{}", self.api_path, path),
            ticket: None,
            answer: None,
        });
    }

    /// Begins the prefetch if it is waiting and the budget allows; returns when it may begin.
    fn start_prefetch(&mut self) -> Option<u64> {
        let path = match &self.prefetch {
            Some(p) if p.ticket.is_none() => p.path.clone(),
            _ => return None,
        };
        match self.try_start(&path) {
            Ok(Ok(t)) => {
                if let Some(p) = self.prefetch.as_mut() {
                    p.ticket = Some(t);
                }
                None
            }
            // It could not begin: the later `get` asks for itself.
            Ok(Err(_)) => {
                self.prefetch = None;
                None
            }
            Err(at) => Some(at),
        }
    }

    /// Waits like [`Transport::wait`], keeping the prefetch's answer aside.
    fn wait_keeping_prefetch(&mut self, deadline: u64) -> Vec<(u64, Result<HttpResponse, String>)> {
        let mut rest = Vec::new();
        for (k, r) in self.transport.wait(deadline) {
            match self.prefetch.as_mut() {
                Some(p) if p.ticket == Some(k) => {
                    if let Ok(resp) = &r {
                        let _ = self.note_headers(k, resp);
                    }
                    if let Some(p) = self.prefetch.as_mut() {
                        p.answer = Some(r);
                    }
                }
                _ => rest.push((k, r)),
            }
        }
        rest
    }

    /// The prefetched answer for `full`, when there is one and it is a success (waiting for it if
    /// it is under way).
    fn take_prefetched(&mut self, full: &str) -> Option<HttpResponse> {
        if self.prefetch.as_ref().is_none_or(|p| p.path != full) {
            return None;
        }
        while self
            .prefetch
            .as_ref()
            .is_some_and(|p| p.ticket.is_some() && p.answer.is_none())
        {
            let deadline = self.transport.now_ns() + 3600 * SECOND;
            self.wait_keeping_prefetch(deadline);
        }
        match self.prefetch.take()?.answer? {
            Ok(r) if (200..300).contains(&r.status) => Some(r),
            _ => None,
        }
    }

    fn get_inner(&mut self, path: &str, retry_forbidden: bool) -> Result<HttpResponse, Failure> {
        let full = format!("{}/{}", self.api_path, path);
        if let Some(r) = self.take_prefetched(&full) {
            return Ok(r);
        }
        let (mut attempts, mut waited, mut forbidden) = (0u32, 0u64, 0u32);
        loop {
            let ticket = loop {
                match self.try_start(&full) {
                    Ok(t) => break t,
                    Err(at) => {
                        self.wait_keeping_prefetch(at);
                    }
                }
            };
            let ticket_id = ticket.as_ref().ok().copied();
            let result = match ticket {
                Ok(t) => loop {
                    let mut deadline = self.transport.now_ns() + 3600 * SECOND;
                    if let Some(at) = self.start_prefetch() {
                        deadline = deadline.min(at);
                    }
                    if let Some((_, r)) = self
                        .wait_keeping_prefetch(deadline)
                        .into_iter()
                        .find(|(k, _)| *k == t)
                    {
                        break r;
                    }
                },
                Err(StartError::Refused(why)) => {
                    return Err(Failure {
                        kind: FailureType::System,
                        message: why,
                    })
                }
                Err(StartError::Network(e)) => Err(e),
            };
            let verdict = match &result {
                Err(e) => network_verdict(e),
                Ok(r) => {
                    if let Some(t) = ticket_id {
                        let _ = self.note_headers(t, r);
                    }
                    classify(
                        r.status,
                        &r.body,
                        r.header("retry-after"),
                        self.key_worked || retry_forbidden,
                        forbidden,
                    )
                }
            };
            match verdict {
                Verdict::Use => {
                    self.key_worked = true;
                    return result.map_err(|e| Failure {
                        kind: FailureType::System,
                        message: e,
                    });
                }
                Verdict::Fail { kind, why } => return Err(Failure { kind, message: why }),
                Verdict::Retry {
                    after_ns,
                    pause_all,
                    why,
                } => {
                    // A 429 is the account's budget, not this request's fault: it costs waiting
                    // time (bounded), not an attempt.
                    if !pause_all {
                        attempts += 1;
                    }
                    let was_forbidden = result.as_ref().is_ok_and(|r| r.status == 403);
                    if was_forbidden {
                        forbidden += 1;
                    }
                    // A 403 is either intermittent (gone in a moment) or real: don't wait long on it.
                    let delay = if was_forbidden {
                        forbidden as u64 * SECOND / 2
                    } else {
                        after_ns
                            .unwrap_or_else(|| backoff_ns(attempts, next_random(&mut self.random)))
                    };
                    if attempts >= self.max_attempts || waited + delay > self.max_wait_ns {
                        return Err(Failure {
                            kind: FailureType::Transient,
                            message: format!(
                                "gave up after {attempts} attempts; last failure: {why}"
                            ),
                        });
                    }
                    waited += delay;
                    let until = self.transport.now_ns() + delay;
                    if pause_all && !self.own_429 {
                        self.limiter.pause_until(until);
                    }
                    self.transport.wait(until);
                }
            }
        }
    }
}

/// One stream fed by a task, with its own sync mode and state.
#[derive(Debug)]
struct Out {
    stream: String,
    list_key: String,
    cursor: Option<String>,
    /// The stream's default overlap (event-time cursors), seconds.
    lookback_s: i64,
    incremental: bool,
    state: StreamState,
    records: u64,
    /// `records` when this stream's last STATE went out: a STATE's recordCount counts only the
    /// records since then (the Airbyte protocol's per-message count, which the platform checks
    /// against what the destination committed for that state).
    stated: u64,
    started: bool,
}

impl Out {
    /// The stream of a job, fed from the answer's `list_key`.
    fn new(job: &Job, list_key: String) -> Out {
        Out {
            stream: job.def.name.clone(),
            list_key,
            cursor: job.def.cursor.clone(),
            lookback_s: job.def.lookback_s,
            incremental: job.incremental,
            state: job.state.clone(),
            records: 0,
            stated: 0,
            started: false,
        }
    }
}

/// Where one page request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlotPhase {
    Ready { not_before: u64 },
    InFlight { ticket: u64 },
}

/// One page request of a task, with its retry bookkeeping. Offset paging keeps several slots
/// ahead when the total is known; keyset paging keeps one slot per id range (chain).
#[derive(Debug, Clone)]
struct Slot {
    pos: Position,
    phase: SlotPhase,
    attempts: u32,
    waited_ns: u64,
    forbidden: u32,
    /// Answers without a list so far.
    empties: u32,
}

impl Slot {
    fn new(pos: Position) -> Slot {
        Slot {
            pos,
            phase: SlotPhase::Ready { not_before: 0 },
            attempts: 0,
            waited_ns: 0,
            forbidden: 0,
            empties: 0,
        }
    }
}

/// Whether a task is still working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Running,
    Done,
    Failed,
}

/// One paged list and the streams it feeds.
#[derive(Debug)]
struct Task {
    def: StreamDef,
    outs: Vec<Out>,
    include: Vec<String>,
    since: Option<String>,
    slots: Vec<Slot>,
    status: Status,
    /// Offset paging: the pages read so far (where the next one may start), the next offset to
    /// plan ahead, pages waiting their turn, and the ids of the last page's sideloads (the
    /// overlap record's children come twice).
    chain: Chain,
    planned_until: u64,
    buffer: BTreeMap<u64, Page>,
    prev_extra: Vec<(String, HashSet<String>)>,
    total: Option<u64>,
    /// Keyset paging: whether the id space was already split into parallel ranges, and the
    /// newest id once probed.
    split: bool,
    max_id: Option<u64>,
    /// Records outside their id range were already reported.
    warned_fence: bool,
    requests: u64,
    pages: u64,
    first_ns: Option<u64>,
    end_ns: u64,
    failure: Option<(FailureType, String)>,
    last_progress_ns: u64,
}

/// A stream to read, with its definition, mode and saved state.
#[derive(Debug, Clone)]
pub struct Job {
    /// What to read.
    pub def: StreamDef,
    /// Incremental or full refresh.
    pub incremental: bool,
    /// Saved state (default: none).
    pub state: StreamState,
}

/// Margin subtracted from a server-side filter value: the API does not document the zone it
/// reads those values in, so the server filter overlaps and the cursor filter does the exact cut.
pub const SERVER_FILTER_MARGIN_S: i64 = 86_400;

/// How often, at most, a stream logs its progress.
const PROGRESS_EVERY_NS: u64 = 5 * SECOND;

/// Child streams a contacts page can carry (`include=`), by list key.
pub const CONTACT_CHILDREN: &[(&str, &str)] = &[
    ("contact_custom_field_values", "fieldValues"),
    ("contact_tags", "contactTags"),
    ("contact_lists", "contactLists"),
];

/// Pages a task may have requested or buffered at once: enough to cover the latency of one
/// request at the configured rate, so one big stream alone can still use the whole budget.
fn lanes(config: &Config) -> usize {
    ((config.requests_per_second * 1.6).ceil() as usize).clamp(2, 8)
}

fn new_task(def: StreamDef, out: Out, since: Option<String>) -> Task {
    let (slots, emit_offset) = match (&out.state.resume, def.paging) {
        (Some(Resume::Offset(o)), Paging::Offset) => (vec![Slot::new(Position::Offset(*o))], *o),
        (Some(Resume::OffsetAfter(o, _)), Paging::Offset) => (vec![], *o),
        (Some(Resume::Ranges(rs)), Paging::Keyset) if !rs.is_empty() => (
            rs.iter()
                .cloned()
                .map(|r| Slot::new(Position::Keyset(r)))
                .collect(),
            0,
        ),
        _ => (vec![Slot::new(Position::start(&def))], 0),
    };
    let split = slots.len() > 1;
    let chain = match &out.state.resume {
        Some(Resume::OffsetAfter(o, last)) if def.paging == Paging::Offset => {
            Chain::resumed(*o, last.clone())
        }
        _ => Chain::new(emit_offset),
    };
    // A resumed chain asks for its first page where it overlaps the last run's records.
    let slots = if slots.is_empty() {
        vec![Slot::new(Position::Offset(chain.want().1))]
    } else {
        slots
    };
    Task {
        def,
        outs: vec![out],
        include: vec![],
        since,
        slots,
        status: Status::Running,
        planned_until: chain.want().1 + STRIDE,
        chain,
        buffer: BTreeMap::new(),
        prev_extra: vec![],
        total: None,
        split,
        max_id: None,
        warned_fence: false,
        requests: 0,
        pages: 0,
        first_ns: None,
        end_ns: 0,
        failure: None,
        last_progress_ns: 0,
    }
}

/// Groups jobs into tasks: streams that share one list (the three `/fields` streams; contact
/// children sideloaded on contacts pages) are read by one task.
fn plan(jobs: Vec<Job>, config: &Config) -> Vec<Task> {
    let mut tasks: Vec<Task> = Vec::new();
    let mut children: Vec<Job> = Vec::new();
    // With contact children to read, one pass over all contacts that carries them costs a page per
    // 100 contacts; a server-filtered contacts pass would leave the children to page their own,
    // longer lists in full. So contacts skip the server filter then, and every stream of the
    // pass is cut on its own cursor.
    let children_ride = config.sideload_contact_children
        && jobs
            .iter()
            .any(|j| CONTACT_CHILDREN.iter().any(|(n, _)| *n == j.def.name));
    for job in jobs {
        if config.sideload_contact_children
            && CONTACT_CHILDREN.iter().any(|(n, _)| *n == job.def.name)
        {
            children.push(job);
            continue;
        }
        let out = Out::new(&job, job.def.list_key.clone());
        if let Some(t) = tasks
            .iter_mut()
            .find(|t| t.def.path == job.def.path && t.def.page_key == job.def.page_key)
        {
            // Shared list: all its streams must resume from the same place, or all start over.
            if t.outs.iter().any(|o| o.state.resume != out.state.resume) {
                let start = Position::start(&t.def);
                t.slots = vec![Slot::new(start)];
                t.chain = Chain::new(0);
                t.planned_until = STRIDE;
            }
            t.outs.push(out);
            continue;
        }
        let since = if job.incremental
            && job.def.filter != ServerFilter::None
            && !(children_ride && job.def.name == "contacts")
        {
            let base: Option<Instant> = out
                .state
                .cursor
                .map(|c| c.plus_seconds(-config.lookback_window_seconds.max(job.def.lookback_s)))
                .or(config.start_date);
            base.map(|b| b.plus_seconds(-SERVER_FILTER_MARGIN_S).to_rfc3339())
        } else {
            None
        };
        tasks.push(new_task(job.def, out, since));
    }
    // Contact children ride on contacts pages when contacts are read in full (a server-filtered
    // contacts pass would miss children that changed without their contact) and both resume from
    // the same place; otherwise they page their own lists.
    for job in children {
        let key = CONTACT_CHILDREN
            .iter()
            .find(|(n, _)| *n == job.def.name)
            .map(|(_, k)| k.to_string())
            .unwrap_or_default();
        let out = Out::new(&job, key.clone());
        if let Some(t) = tasks.iter_mut().find(|t| {
            t.def.name == "contacts"
                && t.since.is_none()
                && t.outs[0].state.resume == out.state.resume
        }) {
            t.include.push(key);
            t.outs.push(out);
        } else {
            tasks.push(new_task(job.def, out, None));
        }
    }
    tasks
}

/// Reads the jobs to the sink. Never returns early: a stream that fails is reported and the others
/// go on.
pub fn read(
    client: &mut Client,
    config: &Config,
    jobs: Vec<Job>,
    sink: &mut dyn Sink,
) -> ReadSummary {
    let run_start = client.transport.now_ns();
    let mut tasks = plan(jobs, config);
    let max_in_flight = ((config.requests_per_second * 4.0).ceil() as usize).clamp(2, 32);
    let now_ms = client.transport.wall_ms();
    for t in &tasks {
        for o in &t.outs {
            sink.status(&o.stream, "STARTED", now_ms);
        }
    }
    let mut rr = 0usize;
    let mut in_flight = 0usize;
    loop {
        // Start what the budget allows, taking tasks in turn.
        let mut next_wake = u64::MAX;
        while in_flight < max_in_flight {
            let now = client.transport.now_ns();
            let n = tasks.len();
            let pick = (0..n).map(|i| (rr + i) % n).find_map(|i| {
                let t = &tasks[i];
                if t.status != Status::Running {
                    return None;
                }
                t.slots
                    .iter()
                    .position(
                        |s| matches!(s.phase, SlotPhase::Ready { not_before } if not_before <= now),
                    )
                    .map(|j| (i, j))
            });
            let Some((i, j)) = pick else { break };
            let t = &tasks[i];
            let path = page_path(
                &client.api_path,
                &t.def,
                &t.slots[j].pos,
                t.since.as_deref(),
                &t.include,
            );
            match client.try_start(&path) {
                Err(slot) => {
                    next_wake = next_wake.min(slot);
                    break;
                }
                Ok(started) => {
                    rr = (i + 1) % n;
                    let t = &mut tasks[i];
                    t.requests += 1;
                    t.first_ns.get_or_insert(now);
                    match started {
                        Ok(ticket) => {
                            t.slots[j].phase = SlotPhase::InFlight { ticket };
                            in_flight += 1;
                        }
                        Err(StartError::Network(e)) => match network_verdict(&e) {
                            Verdict::Fail { kind, why } => fail(client, t, kind, why, sink),
                            _ => retry(
                                client,
                                config,
                                t,
                                j,
                                None,
                                false,
                                format!("network failure: {e}"),
                                sink,
                            ),
                        },
                        Err(StartError::Refused(why)) => {
                            fail(client, t, FailureType::System, why, sink)
                        }
                    }
                }
            }
        }
        if tasks.iter().all(|t| t.status != Status::Running) {
            break;
        }
        // With every lane busy, only a finished request can let another start: wait for one
        // (a ready page's time would make this loop spin).
        if in_flight < max_in_flight {
            for t in tasks.iter().filter(|t| t.status == Status::Running) {
                for s in &t.slots {
                    if let SlotPhase::Ready { not_before } = s.phase {
                        next_wake = next_wake.min(not_before.max(client.limiter.next_slot()));
                    }
                }
            }
        }
        if in_flight == 0 && next_wake == u64::MAX {
            // Nothing can move: every running task is waiting for nothing. Cannot happen; end
            // rather than spin.
            for t in tasks.iter_mut().filter(|t| t.status == Status::Running) {
                fail(
                    client,
                    t,
                    FailureType::System,
                    "the read stalled with no request to make (a bug)".into(),
                    sink,
                );
            }
            break;
        }
        let finished = client.transport.wait(next_wake);
        for (ticket, result) in finished {
            in_flight = in_flight.saturating_sub(1);
            let found = tasks.iter().enumerate().find_map(|(i, t)| {
                t.slots
                    .iter()
                    .position(|s| s.phase == SlotPhase::InFlight { ticket })
                    .map(|j| (i, j))
            });
            let Some((i, j)) = found else { continue };
            if tasks[i].status == Status::Running {
                handle(client, config, &mut tasks[i], j, ticket, result, sink);
            }
        }
    }
    let end = client.transport.now_ns();
    let mut streams = Vec::new();
    for t in &tasks {
        for o in &t.outs {
            streams.push(StreamSummary {
                name: o.stream.clone(),
                records: o.records,
                requests: t.requests,
                millis: t
                    .first_ns
                    .map_or(0, |f| t.end_ns.max(f).saturating_sub(f) / 1_000_000),
                failure: t.failure.clone(),
            });
        }
    }
    ReadSummary {
        streams,
        requests: client.requests(),
        millis: end.saturating_sub(run_start) / 1_000_000,
    }
}

/// Handles one finished request of a task.
fn handle(
    client: &mut Client,
    config: &Config,
    t: &mut Task,
    j: usize,
    ticket: u64,
    result: Result<HttpResponse, String>,
    sink: &mut dyn Sink,
) {
    let resp = match result {
        Err(e) => {
            client.start_times.remove(&ticket);
            return match network_verdict(&e) {
                Verdict::Fail { kind, why } => fail(client, t, kind, why, sink),
                _ => retry(
                    client,
                    config,
                    t,
                    j,
                    None,
                    false,
                    format!("network failure: {e}"),
                    sink,
                ),
            };
        }
        Ok(r) => r,
    };
    if let Some(note) = client.note_headers(ticket, &resp) {
        sink.log("INFO", &format!("rate: {note}"));
    }
    note_pass_start(client, t, &resp);
    match classify(
        resp.status,
        &resp.body,
        resp.header("retry-after"),
        client.key_worked,
        t.slots[j].forbidden,
    ) {
        Verdict::Retry {
            after_ns,
            pause_all,
            why,
        } => {
            if resp.status == 403 {
                t.slots[j].forbidden += 1;
            }
            retry(client, config, t, j, after_ns, pause_all, why, sink)
        }
        Verdict::Fail { kind, why } => {
            let why = format!("{}: {why}", describe_pos(&t.slots[j].pos));
            fail(client, t, kind, why, sink)
        }
        Verdict::Use => {
            let extra: Vec<&str> = t
                .outs
                .iter()
                .map(|o| o.list_key.as_str())
                .filter(|k| *k != t.def.page_key)
                .collect();
            let parsed = match parse_page(&resp.body, &t.def.page_key, &extra) {
                // An answer without a list is an empty page once it comes again: a one-off
                // fault must not end a list, and it is asked again at once, not backed off.
                Err(BadPage::Empty(_)) if t.slots[j].empties + 1 >= EMPTY_CONFIRMATIONS => {
                    Ok(Page::default())
                }
                Err(BadPage::Empty(_)) => {
                    t.slots[j].empties += 1;
                    t.slots[j].phase = SlotPhase::Ready { not_before: 0 };
                    return;
                }
                other => other,
            };
            match parsed {
                Err(bad) => retry(client, config, t, j, None, false, bad.to_string(), sink),
                Ok(page) => {
                    client.key_worked = true;
                    t.pages += 1;
                    let slot = t.slots.remove(j);
                    match slot.pos {
                        Position::Offset(o) => take_offset_page(client, config, t, o, page, sink),
                        Position::Keyset(r) => take_keyset_page(client, config, t, r, page, sink),
                        Position::Newest => take_newest(client, config, t, page, sink),
                    }
                }
            }
        }
    }
}

/// Answers without a list (empty body, `{}`) in a row that make an empty page.
pub const EMPTY_CONFIRMATIONS: u32 = 3;

/// Margin taken off the server time at which a pass began, for clock differences between the
/// API's front ends and its database.
pub const PASS_START_MARGIN_S: i64 = 5;

/// Records when an incremental pass began, in server time: the first answer's `Date` less the
/// time since this task's first request (so it is no later than any page's snapshot).
fn note_pass_start(client: &mut Client, t: &mut Task, resp: &HttpResponse) {
    if !t
        .outs
        .iter()
        .any(|o| o.incremental && o.state.pass_start.is_none())
    {
        return;
    }
    let Some(date) = resp.header("date").and_then(parse_http_date) else {
        return;
    };
    let elapsed_s = client
        .transport
        .now_ns()
        .saturating_sub(t.first_ns.unwrap_or(0))
        .div_ceil(SECOND) as i64;
    let start = date.plus_seconds(-elapsed_s - PASS_START_MARGIN_S);
    for o in t
        .outs
        .iter_mut()
        .filter(|o| o.incremental && o.state.pass_start.is_none())
    {
        o.state.pass_start = Some(start);
    }
}

/// Offset paging: pages may arrive out of order; they are taken in order, each joined to the
/// one before (see [`crate::paging`]), so the state (the first offset not delivered) is always
/// a clean cut and no record that existed throughout the read is skipped.
fn take_offset_page(
    client: &mut Client,
    config: &Config,
    t: &mut Task,
    offset: u64,
    page: Page,
    sink: &mut dyn Sink,
) {
    if page.total.is_some() {
        // The latest count: a hint for planning, never the end.
        t.total = page.total;
    }
    if offset >= t.chain.want().0 {
        t.buffer.insert(offset, page);
    }
    loop {
        let (lo, hi) = t.chain.want();
        let Some(o) = t.buffer.range(lo..=hi).next_back().map(|(k, _)| *k) else {
            break;
        };
        let Some(page) = t.buffer.remove(&o) else {
            break;
        };
        let ids: Vec<String> = page.main.iter().map(|r| record_id(r)).collect();
        match t.chain.judge(o, &ids, page.total) {
            Step::Repeated => {
                return fail(client, t, FailureType::System, format!("the API returned the same page for offsets {} and {o}; it seems to ignore paging", t.chain.want().0.saturating_sub(1)), sink);
            }
            Step::Back => {
                // Kept: it may join once an earlier page is read again.
                t.buffer.insert(o, page);
                if t.chain.repairs > MAX_REPAIRS {
                    return fail(client, t, FailureType::Transient, format!("the list kept changing under the read ({MAX_REPAIRS} pages read again); run again when it is quieter"), sink);
                }
                if t.chain.repairs == 1 {
                    for out in &t.outs {
                        sink.log("WARN", &format!("{}: the page at offset {o} does not continue the one before (records were deleted meanwhile); reading again from offset {} so nothing is skipped", out.stream, t.chain.want().1));
                    }
                }
            }
            Step::Take {
                keep,
                end,
                disorder,
            } => {
                if disorder {
                    for out in &t.outs {
                        sink.log("WARN", &format!("{}: ids do not rise from page to page (the API ignores the order); reading on with overlapping pages and skipping ids already delivered", out.stream));
                    }
                }
                let page = keep_records(t, page, &keep);
                let resume = (!end).then(|| {
                    Resume::OffsetAfter(t.chain.resume_at(), t.chain.last_ids(RESUME_IDS))
                });
                let total = page.total;
                emit_page(client, config, t, page, resume, total, sink);
                if end {
                    if t.chain.repairs > 0 {
                        for out in &t.outs {
                            sink.log("INFO", &format!("{}: {} pages were read again because the list changed during the read", out.stream, t.chain.repairs));
                        }
                    }
                    t.buffer.clear();
                    return finish(client, t, sink);
                }
            }
        }
    }
    plan_offsets(t, lanes(config));
}

/// The records of a page that `keep` names, and its sideloads less those the previous page
/// already carried.
fn keep_records(t: &mut Task, page: Page, keep: &[usize]) -> Page {
    let mut main: Vec<Option<Record>> = page.main.into_iter().map(Some).collect();
    let kept = keep
        .iter()
        .filter_map(|&i| main.get_mut(i)?.take())
        .collect();
    let mut seen_now = Vec::new();
    let extra = page
        .extra
        .into_iter()
        .map(|(key, list)| {
            let ids: HashSet<String> = list.iter().map(|r| record_id(r)).collect();
            let before = t.prev_extra.iter().find(|(k, _)| *k == key).map(|(_, s)| s);
            let list = list
                .into_iter()
                .filter(|r| before.is_none_or(|b| !b.contains(&record_id(r))))
                .collect();
            seen_now.push((key.clone(), ids));
            (key, list)
        })
        .collect();
    t.prev_extra = seen_now;
    Page {
        main: kept,
        extra,
        total: page.total,
    }
}

/// Makes sure the page the chain wants next is asked for, and plans pages ahead (one record of
/// overlap each) while the count says they exist, within the task's lanes.
fn plan_offsets(t: &mut Task, lanes: usize) {
    let (lo, hi) = t.chain.want();
    t.buffer.retain(|&o, _| o >= lo);
    t.slots.retain(|s| {
        !matches!(s.phase, SlotPhase::Ready { .. })
            || !matches!(s.pos, Position::Offset(o) if o < lo)
    });
    let asked = |t: &Task, a: u64, b: u64| {
        t.buffer.range(a..=b).next().is_some()
            || t.slots
                .iter()
                .any(|s| matches!(s.pos, Position::Offset(o) if (a..=b).contains(&o)))
    };
    if !asked(t, lo, hi) {
        t.slots.push(Slot::new(Position::Offset(hi)));
    }
    // While the list shifts between requests, pages planned ahead overlap by as much as the
    // last shifts needed, so they join without being read again.
    let stride = PAGE_LIMIT.saturating_sub(t.chain.overlap()).max(1);
    if t.planned_until <= hi || !(t.planned_until - hi).is_multiple_of(stride) {
        t.planned_until = hi + stride;
    }
    while let Some(total) = t.total {
        if t.planned_until + 1 >= total || t.slots.len() + t.buffer.len() >= lanes {
            break;
        }
        if !asked(t, t.planned_until, t.planned_until) {
            t.slots.push(Slot::new(Position::Offset(t.planned_until)));
        }
        t.planned_until += stride;
    }
}

fn id_num(id: Option<&str>) -> Option<u64> {
    id.and_then(|s| s.parse::<u64>().ok())
}

/// Splits an open-ended range starting after `after` over the id space up to `max_id`: `k`
/// bounded ranges and an open tail that catches records added meanwhile.
fn split_open_range(after: u64, max_id: u64, lanes: u64) -> Vec<IdRange> {
    let span = max_id.saturating_sub(after);
    let k = lanes.min(span.div_ceil(PAGE_LIMIT)).max(1);
    let chunk = span.div_ceil(k).max(1);
    (0..k)
        .map(|i| {
            let lo = after + i * chunk;
            let below = if i + 1 == k {
                None
            } else {
                Some((lo + chunk + 1).to_string())
            };
            IdRange {
                after: Some(lo.to_string()),
                below,
            }
        })
        .collect()
}

/// Gives a free lane to the waiting range with the most ids left, by halving it.
fn steal(t: &mut Task, lanes: usize) {
    while t.slots.len() < lanes {
        let widest = t
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s.phase, SlotPhase::Ready { .. }))
            .filter_map(|(i, s)| match &s.pos {
                Position::Keyset(r) => Some((
                    i,
                    id_num(r.after.as_deref()).unwrap_or(0),
                    id_num(r.below.as_deref())?,
                )),
                _ => None,
            })
            .filter(|(_, a, b)| b.saturating_sub(*a) > 2 * PAGE_LIMIT)
            .max_by_key(|(_, a, b)| b - a);
        let Some((i, a, b)) = widest else { return };
        let mid = a + (b - a) / 2;
        t.slots[i].pos = Position::Keyset(IdRange {
            after: Some(a.to_string()),
            below: Some((mid + 1).to_string()),
        });
        t.slots.push(Slot::new(Position::Keyset(IdRange {
            after: Some(mid.to_string()),
            below: Some(b.to_string()),
        })));
    }
}

/// Keyset paging: each id range is its own chain; the state lists every open range.
fn take_keyset_page(
    client: &mut Client,
    config: &Config,
    t: &mut Task,
    range: IdRange,
    page: Page,
    sink: &mut dyn Sink,
) {
    let n = page.main.len() as u64;
    let fenced = match fence(&range, page) {
        Ok(f) => f,
        Err(why) => {
            let why = format!("{}: {why}", describe_pos(&Position::Keyset(range)));
            return fail(client, t, FailureType::System, why, sink);
        }
    };
    if n > 0 && fenced.last.is_none() && !fenced.closed {
        return fail(
            client,
            t,
            FailureType::System,
            format!(
                "keyset paging did not advance past id {:?}; the API ignored id_greater",
                range.after
            ),
            sink,
        );
    }
    if fenced.dropped > 0 && !t.warned_fence {
        t.warned_fence = true;
        for o in &t.outs {
            sink.log("WARN", &format!("{}: the API sent {} records outside the id range asked for ({:?} < id < {:?}); they were dropped (their own range delivers them)", o.stream, fenced.dropped, range.after, range.below));
        }
    }
    let page = fenced.page;
    let lanes = lanes(config);
    // A range whose end the server already showed (ids past `below`) is read to its end.
    if n == PAGE_LIMIT && !fenced.closed {
        let last = fenced.last.unwrap_or(0);
        let open_ended = range.below.is_none();
        match t.max_id {
            // A long open-ended pass: split the rest of the id space into parallel ranges.
            Some(max) if open_ended && !t.split && lanes > 1 => {
                t.split = true;
                t.slots.extend(
                    split_open_range(last, max, lanes as u64)
                        .into_iter()
                        .map(|r| Slot::new(Position::Keyset(r))),
                );
            }
            _ => {
                t.slots.push(Slot::new(Position::Keyset(IdRange {
                    after: Some(last.to_string()),
                    below: range.below.clone(),
                })));
                // First full page of an open-ended pass: ask how far the ids go.
                if open_ended
                    && !t.split
                    && t.max_id.is_none()
                    && lanes > 1
                    && !t.slots.iter().any(|s| s.pos == Position::Newest)
                {
                    t.slots.push(Slot::new(Position::Newest));
                }
            }
        }
    }
    steal(t, lanes);
    let open: Vec<IdRange> = t
        .slots
        .iter()
        .filter_map(|s| match &s.pos {
            Position::Keyset(r) => Some(r.clone()),
            _ => None,
        })
        .collect();
    let done = open.is_empty();
    let total = page.total;
    emit_page(
        client,
        config,
        t,
        page,
        if done {
            None
        } else {
            Some(Resume::Ranges(open))
        },
        total,
        sink,
    );
    if done && t.slots.is_empty() {
        finish(client, t, sink);
    }
}

/// The newest-id probe came back: split the open-ended range now if it is waiting.
fn take_newest(
    client: &mut Client,
    config: &Config,
    t: &mut Task,
    page: Page,
    sink: &mut dyn Sink,
) {
    let max = page
        .main
        .first()
        .map(|r| record_id(r))
        .and_then(|id| id.parse::<u64>().ok())
        .unwrap_or(0);
    t.max_id = Some(max);
    let lanes = lanes(config);
    let open = t.slots.iter().position(|s| {
        matches!(&s.pos, Position::Keyset(r) if r.below.is_none())
            && matches!(s.phase, SlotPhase::Ready { .. })
    });
    if let (Some(i), false) = (open, t.split) {
        if let Position::Keyset(r) = t.slots[i].pos.clone() {
            t.split = true;
            t.slots.remove(i);
            let after = id_num(r.after.as_deref()).unwrap_or(0);
            t.slots.extend(
                split_open_range(after, max, lanes as u64)
                    .into_iter()
                    .map(|r| Slot::new(Position::Keyset(r))),
            );
        }
    }
    if t.slots.is_empty() {
        // Every range ended before the probe came back: close the pass.
        emit_states(t, None, sink);
        finish(client, t, sink);
    }
}

/// Emits a page's records to each stream of the task, then each stream's state (`resume` None:
/// the pass is complete).
fn emit_page(
    client: &mut Client,
    config: &Config,
    t: &mut Task,
    page: Page,
    resume: Option<Resume>,
    total: Option<u64>,
    sink: &mut dyn Sink,
) {
    let now = client.transport.now_ns();
    let emitted_at = client.transport.wall_ms();
    let floor = config.start_date;
    let mut lists: Vec<(String, Vec<Record>)> = page.extra;
    lists.push((t.def.page_key.clone(), page.main));
    for o in t.outs.iter_mut() {
        if !o.started {
            o.started = true;
            sink.status(&o.stream, "RUNNING", emitted_at);
        }
        let Some(records) = lists.iter().find(|(k, _)| *k == o.list_key).map(|(_, r)| r) else {
            continue;
        };
        let stream_json = json_string(&o.stream);
        let lookback = config.lookback_window_seconds.max(o.lookback_s);
        for r in records {
            let text = null_zero_dates_raw(r.get());
            if o.incremental {
                // Only incremental streams take records apart, for their id and cursor.
                let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                let at: Option<Instant> = o
                    .cursor
                    .as_deref()
                    .and_then(|c| v.get(c))
                    .and_then(Value::as_str)
                    .and_then(cursor_instant);
                let id = id_text(v.get("id"));
                if !o.state.wants(at, &id, floor, lookback) {
                    continue;
                }
                if let Some(at) = at {
                    o.state.saw(at, &id);
                }
            }
            sink.record(&o.stream, &stream_json, &text, emitted_at);
            o.records += 1;
        }
    }
    emit_states(t, resume, sink);
    if now.saturating_sub(t.last_progress_ns) >= PROGRESS_EVERY_NS {
        t.last_progress_ns = now;
        let elapsed_s = (now.saturating_sub(t.first_ns.unwrap_or(now)) as f64 / 1e9).max(0.001);
        for o in &t.outs {
            let main = o.list_key == t.def.page_key;
            let of = if main {
                total.map(|n| format!(" of about {n}")).unwrap_or_default()
            } else {
                String::new()
            };
            sink.log(
                "INFO",
                &format!(
                    "{}: {} records so far{of}, {} pages",
                    o.stream, o.records, t.pages
                ),
            );
            let left = match total {
                Some(n) if main && o.records > 0 && n > o.records => {
                    let eta = (n - o.records) as f64 / (o.records as f64 / elapsed_s);
                    format!(", about {} left (~{:.0} s)", n - o.records, eta)
                }
                _ => String::new(),
            };
            sink.progress(&format!(
                "{}: {} records, {} pages, {:.1} requests/s{left}",
                o.stream,
                o.records,
                t.pages,
                t.requests as f64 / elapsed_s
            ));
        }
    }
}

/// Writes each stream's state; `None` closes the pass.
fn emit_states(t: &mut Task, resume: Option<Resume>, sink: &mut dyn Sink) {
    for o in t.outs.iter_mut() {
        match &resume {
            None if o.incremental => o.state.finish_pass(),
            None => o.state = StreamState::default(),
            Some(r) => o.state.resume = Some(r.clone()),
        }
        let since = o.records.saturating_sub(o.stated);
        o.stated = o.records;
        sink.state(&o.stream, &o.state.to_value(), since);
    }
    sink.checkpoint();
}

/// Marks a task complete.
fn finish(client: &mut Client, t: &mut Task, sink: &mut dyn Sink) {
    let at = client.transport.wall_ms();
    t.status = Status::Done;
    t.end_ns = client.transport.now_ns();
    for o in &t.outs {
        sink.log(
            "INFO",
            &format!(
                "{}: complete, {} records in {} pages",
                o.stream, o.records, t.pages
            ),
        );
        sink.status(&o.stream, "COMPLETE", at);
        sink.progress(&format!(
            "{}: complete, {} records, {} requests",
            o.stream, o.records, t.requests
        ));
    }
    sink.checkpoint();
}

/// Schedules a retry of one page, or fails the task when the bounds are reached.
#[allow(clippy::too_many_arguments)]
fn retry(
    client: &mut Client,
    config: &Config,
    t: &mut Task,
    j: usize,
    after_ns: Option<u64>,
    pause_all: bool,
    why: String,
    sink: &mut dyn Sink,
) {
    let s = &mut t.slots[j];
    // A 429 costs waiting time (bounded by max_retry_wait_seconds), not an attempt.
    if !pause_all {
        s.attempts += 1;
    }
    let delay = after_ns.unwrap_or_else(|| backoff_ns(s.attempts, next_random(&mut client.random)));
    let max_wait = config.max_retry_wait_seconds.saturating_mul(SECOND);
    if s.attempts >= config.max_attempts.max(1) || s.waited_ns + delay > max_wait {
        let msg = format!(
            "gave up on {} after {} attempts; last failure: {why}",
            describe_pos(&s.pos),
            s.attempts
        );
        let kind = if s.forbidden >= FORBIDDEN_RETRIES {
            FailureType::Config
        } else {
            FailureType::Transient
        };
        return fail(client, t, kind, msg, sink);
    }
    s.waited_ns += delay;
    let now = client.transport.now_ns();
    if pause_all && !client.own_429 {
        client.limiter.pause_until(now + delay);
    }
    s.phase = SlotPhase::Ready {
        not_before: now + delay,
    };
    let attempt = s.attempts;
    let pos = describe_pos(&s.pos);
    for o in &t.outs {
        sink.log(
            "WARN",
            &format!(
                "{}: {pos} failed ({why}); retry {attempt} in {} ms",
                o.stream,
                delay / 1_000_000
            ),
        );
    }
}

fn describe_pos(p: &Position) -> String {
    match p {
        Position::Offset(o) => format!("the page at offset {o}"),
        Position::Keyset(IdRange { after: None, .. }) => "the first page".into(),
        Position::Keyset(IdRange {
            after: Some(id), ..
        }) => format!("the page after id {id}"),
        Position::Newest => "the newest-id request".into(),
    }
}

/// Ends a task's streams with an error; what they emitted so far, state included, stays valid.
fn fail(client: &mut Client, t: &mut Task, kind: FailureType, why: String, sink: &mut dyn Sink) {
    let at = client.transport.wall_ms();
    t.status = Status::Failed;
    t.end_ns = client.transport.now_ns();
    for o in &t.outs {
        let message = format!("stream '{}' failed: {why}", o.stream);
        let error = ErrorEvent {
            stream: Some(&o.stream),
            message: &message,
            internal: &why,
            kind,
        };
        sink.error(&error, at);
        sink.status(&o.stream, "INCOMPLETE", at);
        sink.progress(&message);
    }
    t.failure = Some((kind, why));
    sink.checkpoint();
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
