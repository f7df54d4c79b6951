//! The one engine that reads every stream: it pages, filters on cursors, checkpoints, retries and
//! keeps all requests of the run under one rate budget, with several requests in flight.
//!
//! It talks to the outside only through [`Transport`] (HTTP and clocks) and [`Sink`] (output), so
//! the whole loop runs natively in unit tests against a scripted transport.

use crate::config::Config;
use crate::datetime::{parse_instant, Instant};
use crate::limiter::Limiter;
use crate::protocol::{error_line, log_line, record_line, state_line, status_line, FailureType};
use crate::request::{page_path, Position, PAGE_LIMIT};
use crate::response::parse_page;
use crate::retry::{backoff_ns, classify, next_random, Verdict, FORBIDDEN_RETRIES, SECOND};
use crate::state::StreamState;
use crate::streams::{ServerFilter, StreamDef};
use serde_json::Value;

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
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
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
    /// One protocol message (a JSON line on stdout).
    fn out(&mut self, line: &str);
    /// Makes everything written so far durable (called after each STATE).
    fn checkpoint(&mut self);
    /// Human-readable progress (stderr in the CLI).
    fn progress(&mut self, text: &str);
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
        }
    }

    /// Requests begun so far.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// Starts a request now if the budget allows; returns its ticket, or the time to try again.
    fn try_start(&mut self, path: &str) -> Result<Result<u64, String>, u64> {
        if let Err(refused) = crate::request::on_account_host(&self.api_path, path) {
            return Ok(Err(refused));
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
        Ok(self.transport.start(ticket, path).map(|_| ticket))
    }

    /// Honours RateLimit-Remaining: 0 by holding starts for a second.
    fn note_headers(&mut self, resp: &HttpResponse) {
        if resp.header("ratelimit-remaining").map(str::trim) == Some("0") {
            let now = self.transport.now_ns();
            self.limiter.pause_until(now + SECOND);
        }
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

    fn get_inner(&mut self, path: &str, retry_forbidden: bool) -> Result<HttpResponse, Failure> {
        let full = format!("{}/{}", self.api_path, path);
        let (mut attempts, mut waited, mut forbidden) = (0u32, 0u64, 0u32);
        loop {
            let ticket = loop {
                match self.try_start(&full) {
                    Ok(t) => break t,
                    Err(at) => {
                        self.transport.wait(at);
                    }
                }
            };
            let result = match ticket {
                Ok(t) => loop {
                    let deadline = self.transport.now_ns() + 3600 * SECOND;
                    if let Some((_, r)) = self.transport.wait(deadline).into_iter().find(|(k, _)| *k == t) {
                        break r;
                    }
                },
                Err(e) => Err(e),
            };
            let verdict = match &result {
                Err(e) => Verdict::Retry { after_ns: None, pause_all: false, why: format!("network failure: {e}") },
                Ok(r) => {
                    self.note_headers(r);
                    classify(r.status, &r.body, r.header("retry-after"), self.key_worked || retry_forbidden, forbidden)
                }
            };
            match verdict {
                Verdict::Use => {
                    self.key_worked = true;
                    return result.map_err(|e| Failure { kind: FailureType::System, message: e });
                }
                Verdict::Fail { kind, why } => return Err(Failure { kind, message: why }),
                Verdict::Retry { after_ns, pause_all, why } => {
                    attempts += 1;
                    let was_forbidden = result.as_ref().map_or(false, |r| r.status == 403);
                    if was_forbidden {
                        forbidden += 1;
                    }
                    // A 403 is either intermittent (gone in a moment) or real: don't wait long on it.
                    let delay = if was_forbidden { forbidden as u64 * SECOND / 2 } else { after_ns.unwrap_or_else(|| backoff_ns(attempts, next_random(&mut self.random))) };
                    if attempts >= self.max_attempts || waited + delay > self.max_wait_ns {
                        return Err(Failure { kind: FailureType::Transient, message: format!("gave up after {attempts} attempts; last failure: {why}") });
                    }
                    waited += delay;
                    let until = self.transport.now_ns() + delay;
                    if pause_all {
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
    incremental: bool,
    state: StreamState,
    records: u64,
    started: bool,
}

/// Where a task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Ready { not_before: u64 },
    InFlight { ticket: u64 },
    Done,
    Failed,
}

/// One paged list and the streams it feeds.
#[derive(Debug)]
struct Task {
    def: StreamDef,
    outs: Vec<Out>,
    pos: Position,
    since: Option<String>,
    phase: Phase,
    attempts: u32,
    waited_ns: u64,
    forbidden: u32,
    requests: u64,
    pages: u64,
    first_ns: Option<u64>,
    end_ns: u64,
    last_first_id: Option<String>,
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

fn record_id(r: &Value) -> String {
    match r.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// Groups jobs that share one list (the three `/fields` streams) into tasks.
fn plan(jobs: Vec<Job>, config: &Config) -> Vec<Task> {
    let mut tasks: Vec<Task> = Vec::new();
    for job in jobs {
        let out = Out {
            stream: job.def.name.clone(),
            list_key: job.def.list_key.clone(),
            cursor: job.def.cursor.clone(),
            incremental: job.incremental,
            state: job.state,
            records: 0,
            started: false,
        };
        if let Some(t) = tasks.iter_mut().find(|t| t.def.path == job.def.path && t.def.page_key == job.def.page_key) {
            // Shared list: resume from the earliest position any of its streams saved.
            let pos = out.state.resume.clone().unwrap_or_else(|| Position::start(&job.def));
            if let (Position::Offset(a), Position::Offset(b)) = (&t.pos, &pos) {
                if b < a {
                    t.pos = pos;
                }
            }
            t.outs.push(out);
            continue;
        }
        let pos = out.state.resume.clone().unwrap_or_else(|| Position::start(&job.def));
        let since = if job.incremental && job.def.filter != ServerFilter::None {
            let base: Option<Instant> = out.state.cursor.map(|c| c.plus_seconds(-config.lookback_window_seconds)).or(config.start_date);
            base.map(|b| b.plus_seconds(-SERVER_FILTER_MARGIN_S).to_rfc3339())
        } else {
            None
        };
        let mut def = job.def.clone();
        def.page_key = job.def.page_key.clone();
        tasks.push(Task {
            def,
            outs: vec![out],
            pos,
            since,
            phase: Phase::Ready { not_before: 0 },
            attempts: 0,
            waited_ns: 0,
            forbidden: 0,
            requests: 0,
            pages: 0,
            first_ns: None,
            end_ns: 0,
            last_first_id: None,
            failure: None,
            last_progress_ns: 0,
        });
    }
    tasks
}

/// Reads the jobs to the sink. Never returns early: a stream that fails is reported and the others
/// go on.
pub fn read(client: &mut Client, config: &Config, jobs: Vec<Job>, sink: &mut dyn Sink) -> ReadSummary {
    let run_start = client.transport.now_ns();
    let mut tasks = plan(jobs, config);
    let max_in_flight = ((config.requests_per_second * 4.0).ceil() as usize).clamp(2, 32);
    let now_ms = client.transport.wall_ms();
    for t in &tasks {
        for o in &t.outs {
            sink.out(&status_line(&o.stream, "STARTED", now_ms));
        }
    }
    let mut rr = 0usize;
    loop {
        // Start what the budget allows.
        let mut in_flight = tasks.iter().filter(|t| matches!(t.phase, Phase::InFlight { .. })).count();
        let mut next_wake = u64::MAX;
        while in_flight < max_in_flight {
            let now = client.transport.now_ns();
            let n = tasks.len();
            let pick = (0..n).map(|i| (rr + i) % n).find(|&i| matches!(tasks[i].phase, Phase::Ready { not_before } if not_before <= now));
            let Some(i) = pick else { break };
            let path = page_path(&client.api_path, &tasks[i].def, &tasks[i].pos, tasks[i].since.as_deref());
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
                            t.phase = Phase::InFlight { ticket };
                            in_flight += 1;
                        }
                        Err(e) => retry(client, config, t, None, false, format!("network failure: {e}"), sink),
                    }
                }
            }
        }
        if tasks.iter().all(|t| matches!(t.phase, Phase::Done | Phase::Failed)) {
            break;
        }
        for t in &tasks {
            if let Phase::Ready { not_before } = t.phase {
                next_wake = next_wake.min(not_before.max(client.limiter.next_slot()));
            }
        }
        if in_flight == 0 && next_wake == u64::MAX {
            break; // nothing can make progress (cannot happen: every task is ready, in flight or ended)
        }
        let finished = client.transport.wait(next_wake);
        for (ticket, result) in finished {
            let Some(i) = tasks.iter().position(|t| t.phase == Phase::InFlight { ticket }) else { continue };
            handle(client, config, &mut tasks[i], result, sink);
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
                millis: t.first_ns.map_or(0, |f| t.end_ns.max(f).saturating_sub(f) / 1_000_000),
                failure: t.failure.clone(),
            });
        }
    }
    ReadSummary { streams, requests: client.requests(), millis: end.saturating_sub(run_start) / 1_000_000 }
}

/// Handles one finished request of a task.
fn handle(client: &mut Client, config: &Config, t: &mut Task, result: Result<HttpResponse, String>, sink: &mut dyn Sink) {
    let resp = match result {
        Err(e) => return retry(client, config, t, None, false, format!("network failure: {e}"), sink),
        Ok(r) => r,
    };
    client.note_headers(&resp);
    match classify(resp.status, &resp.body, resp.header("retry-after"), client.key_worked, t.forbidden) {
        Verdict::Retry { after_ns, pause_all, why } => {
            if resp.status == 403 {
                t.forbidden += 1;
            }
            retry(client, config, t, after_ns, pause_all, why, sink)
        }
        Verdict::Fail { kind, why } => fail(client, t, kind, why, sink),
        Verdict::Use => {
            let extra: Vec<&str> = t.outs.iter().map(|o| o.list_key.as_str()).filter(|k| *k != t.def.page_key).collect();
            match parse_page(&resp.body, &t.def.page_key, &extra) {
                Err(bad) => retry(client, config, t, None, false, bad.to_string(), sink),
                Ok(page) => {
                    client.key_worked = true;
                    take_page(client, config, t, page, sink)
                }
            }
        }
    }
}

/// Emits a page's records and the state after it, and moves the task on.
fn take_page(client: &mut Client, config: &Config, t: &mut Task, page: crate::response::Page, sink: &mut dyn Sink) {
    let now = client.transport.now_ns();
    let emitted_at = client.transport.wall_ms();
    t.attempts = 0;
    t.waited_ns = 0;
    t.forbidden = 0;
    t.pages += 1;
    let main_len = page.main.len() as u64;
    let first_id = page.main.first().map(record_id);
    let last_id = page.main.last().map(record_id);
    // Where the next page starts, and whether this was the last.
    let (next, done) = match &t.pos {
        Position::Offset(o) => {
            let n = o + main_len;
            (Position::Offset(n), main_len < PAGE_LIMIT || page.total.map_or(false, |total| n >= total))
        }
        Position::After(prev) => match &last_id {
            None => (t.pos.clone(), true),
            Some(id) => {
                let advanced = match (prev.as_deref().and_then(|p| p.parse::<u64>().ok()), id.parse::<u64>().ok()) {
                    (_, None) => false,
                    (None, Some(_)) => true,
                    (Some(p), Some(n)) => n > p,
                };
                if !advanced {
                    return fail(client, t, FailureType::System, format!("keyset paging did not advance past id {:?} (last id on the page: {id:?}); the API ignored id_greater", prev), sink);
                }
                (Position::After(Some(id.clone())), main_len < PAGE_LIMIT)
            }
        },
    };
    if !done && main_len > 0 && first_id.is_some() && first_id == t.last_first_id {
        return fail(client, t, FailureType::System, format!("the API returned the same page twice at {:?}; it seems to ignore paging", t.pos), sink);
    }
    t.last_first_id = first_id;
    let floor = config.start_date;
    let lookback = config.lookback_window_seconds;
    let offset_minutes = config.account_utc_offset_minutes;
    let mut lists: Vec<(String, Vec<Value>)> = page.extra;
    lists.push((t.def.page_key.clone(), page.main));
    for o in t.outs.iter_mut() {
        if !o.started {
            o.started = true;
            sink.out(&status_line(&o.stream, "RUNNING", emitted_at));
        }
        let Some(records) = lists.iter().find(|(k, _)| *k == o.list_key).map(|(_, r)| r) else { continue };
        for r in records {
            if o.incremental {
                let at: Option<Instant> = o.cursor.as_deref().and_then(|c| r.get(c)).and_then(Value::as_str).and_then(|s| parse_instant(s, offset_minutes));
                let id = record_id(r);
                if !o.state.wants(at, &id, floor, lookback) {
                    continue;
                }
                if let Some(at) = at {
                    o.state.saw(at, &id);
                }
            }
            sink.out(&record_line(&o.stream, r, emitted_at));
            o.records += 1;
        }
        if done {
            if o.incremental {
                o.state.finish_pass();
            } else {
                o.state = StreamState::default();
            }
        } else {
            o.state.resume = Some(next.clone());
        }
        sink.out(&state_line(&o.stream, &o.state.to_value(), o.records));
    }
    sink.checkpoint();
    t.pos = next;
    if done {
        t.phase = Phase::Done;
        t.end_ns = now;
        for o in &t.outs {
            sink.out(&log_line("INFO", &format!("{}: complete, {} records in {} pages", o.stream, o.records, t.pages)));
            sink.out(&status_line(&o.stream, "COMPLETE", emitted_at));
            sink.progress(&format!("{}: complete, {} records, {} requests", o.stream, o.records, t.requests));
        }
        sink.checkpoint();
    } else {
        t.phase = Phase::Ready { not_before: now };
        if now.saturating_sub(t.last_progress_ns) >= PROGRESS_EVERY_NS {
            t.last_progress_ns = now;
            for o in &t.outs {
                let of = page.total.map(|n| format!(" of about {n}")).unwrap_or_default();
                sink.out(&log_line("INFO", &format!("{}: {} records so far{of}, {} pages", o.stream, o.records, t.pages)));
            }
        }
    }
}

/// Schedules a retry of the task's current page, or fails it when the bounds are reached.
fn retry(client: &mut Client, config: &Config, t: &mut Task, after_ns: Option<u64>, pause_all: bool, why: String, sink: &mut dyn Sink) {
    t.attempts += 1;
    let delay = after_ns.unwrap_or_else(|| backoff_ns(t.attempts, next_random(&mut client.random)));
    let max_wait = config.max_retry_wait_seconds.saturating_mul(SECOND);
    if t.attempts >= config.max_attempts.max(1) || t.waited_ns + delay > max_wait {
        let msg = format!("gave up on {} after {} attempts; last failure: {why}", describe_pos(&t.pos), t.attempts);
        let kind = if t.forbidden >= FORBIDDEN_RETRIES { FailureType::Config } else { FailureType::Transient };
        return fail(client, t, kind, msg, sink);
    }
    t.waited_ns += delay;
    let now = client.transport.now_ns();
    if pause_all {
        client.limiter.pause_until(now + delay);
    }
    t.phase = Phase::Ready { not_before: now + delay };
    for o in &t.outs {
        sink.out(&log_line("WARN", &format!("{}: {} failed ({why}); retry {} in {} ms", o.stream, describe_pos(&t.pos), t.attempts, delay / 1_000_000)));
    }
}

fn describe_pos(p: &Position) -> String {
    match p {
        Position::Offset(o) => format!("the page at offset {o}"),
        Position::After(None) => "the first page".into(),
        Position::After(Some(id)) => format!("the page after id {id}"),
    }
}

/// Ends a task's streams with an error; what they emitted so far, state included, stays valid.
fn fail(client: &mut Client, t: &mut Task, kind: FailureType, why: String, sink: &mut dyn Sink) {
    let at = client.transport.wall_ms();
    t.phase = Phase::Failed;
    t.end_ns = client.transport.now_ns();
    for o in &t.outs {
        let message = format!("stream '{}' failed: {why}", o.stream);
        sink.out(&error_line(Some(&o.stream), &message, &why, kind, at));
        sink.out(&status_line(&o.stream, "INCOMPLETE", at));
        sink.progress(&message);
    }
    t.failure = Some((kind, why));
    sink.checkpoint();
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::streams::fixed_streams;
    use serde_json::json;
    use std::collections::{BTreeMap, VecDeque};

    /// A scripted transport: a function answers each path; time advances by `latency` per request.
    pub struct Fake {
        pub now: u64,
        pub latency: u64,
        pub pending: VecDeque<(u64, u64, String)>,
        pub starts: Vec<(u64, String)>,
        pub answer: Box<dyn FnMut(&str) -> Result<HttpResponse, String>>,
    }

    impl Transport for Fake {
        fn start(&mut self, ticket: u64, path: &str) -> Result<(), String> {
            self.starts.push((self.now, path.to_string()));
            self.pending.push_back((self.now + self.latency, ticket, path.to_string()));
            Ok(())
        }
        fn wait(&mut self, deadline: u64) -> Vec<(u64, Result<HttpResponse, String>)> {
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
            ready.into_iter().map(|(_, t, p)| (t, (self.answer)(&p))).collect()
        }
        fn now_ns(&mut self) -> u64 {
            self.now
        }
        fn wall_ms(&mut self) -> u64 {
            1_700_000_000_000 + self.now / 1_000_000
        }
    }

    #[derive(Default)]
    pub struct Lines(pub Vec<String>);
    impl Sink for Lines {
        fn out(&mut self, line: &str) {
            self.0.push(line.to_string());
        }
        fn checkpoint(&mut self) {}
        fn progress(&mut self, _: &str) {}
    }

    pub fn ok(body: Value) -> Result<HttpResponse, String> {
        Ok(HttpResponse { status: 200, headers: vec![], body: body.to_string().into_bytes() })
    }

    fn config(rps: f64) -> Config {
        Config::parse(&json!({"api_url": "http://127.0.0.1:1", "api_key": "k", "requests_per_second": rps, "max_retry_wait_seconds": 60}).to_string()).unwrap()
    }

    fn query(path: &str, key: &str) -> Option<String> {
        path.split_once('?')?.1.split('&').find_map(|kv| kv.strip_prefix(&format!("{key}=")).map(String::from))
    }

    /// A list endpoint over `n` records with ids 1..=n, offset paging.
    fn list(key: &'static str, n: u64) -> impl FnMut(&str) -> Result<HttpResponse, String> {
        move |path: &str| {
            let off: u64 = query(path, "offset").and_then(|o| o.parse().ok()).unwrap_or(0);
            let recs: Vec<Value> = (off + 1..=n.min(off + 100)).map(|i| json!({"id": i.to_string(), "udate": format!("2024-01-01T00:00:{:02}Z", i % 60)})).collect();
            ok(json!({key: recs, "meta": {"total": n.to_string()}}))
        }
    }

    fn job(name: &str) -> Job {
        Job { def: fixed_streams().into_iter().find(|d| d.name == name).unwrap(), incremental: false, state: StreamState::default() }
    }

    fn records(lines: &[String], stream: &str) -> Vec<String> {
        lines
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["type"] == "RECORD" && v["record"]["stream"] == stream)
            .map(|v| v["record"]["data"]["id"].as_str().unwrap_or("").to_string())
            .collect()
    }

    #[test]
    fn pages_until_short_page_and_uses_total() {
        let mut fake = Fake { now: 0, latency: 300_000_000, pending: VecDeque::new(), starts: vec![], answer: Box::new(list("tags", 250)) };
        let cfg = config(5.0);
        let mut client = Client::new(&mut fake, &cfg);
        let mut sink = Lines::default();
        let s = read(&mut client, &cfg, vec![job("tags")], &mut sink);
        assert_eq!(s.requests, 3);
        assert_eq!(s.streams[0].records, 250);
        let ids = records(&sink.0, "tags");
        assert_eq!(ids.len(), 250);
        assert_eq!(ids.iter().collect::<std::collections::BTreeSet<_>>().len(), 250);
        assert!(s.streams[0].failure.is_none());
    }

    #[test]
    fn exact_multiple_of_the_page_needs_no_empty_page() {
        let mut fake = Fake { now: 0, latency: 1, pending: VecDeque::new(), starts: vec![], answer: Box::new(list("tags", 200)) };
        let cfg = config(5.0);
        let mut client = Client::new(&mut fake, &cfg);
        let s = read(&mut client, &cfg, vec![job("tags")], &mut Lines::default());
        assert_eq!(s.requests, 2);
    }

    #[test]
    fn rate_budget_holds_across_parallel_streams() {
        let mut fake = Fake { now: 0, latency: 1_000_000_000, pending: VecDeque::new(), starts: vec![], answer: Box::new(|p: &str| {
            let key = p.split('/').nth(3).unwrap_or("").split('?').next().unwrap_or("").to_string();
            ok(json!({key: [{"id": "1"}], "meta": {"total": "1"}}))
        }) };
        let cfg = config(5.0);
        let jobs: Vec<Job> = ["tags", "users", "lists", "groups", "goals", "sms", "forms", "scores", "segments", "webhooks"].iter().map(|n| job(n)).collect();
        let mut client = Client::new(&mut fake, &cfg);
        let s = read(&mut client, &cfg, jobs, &mut Lines::default());
        assert_eq!(s.requests, 10);
        let starts: Vec<u64> = fake.starts.iter().map(|s| s.0).collect();
        assert!(crate::limiter::max_in_window(&starts, SECOND) <= 5);
        // Latency overlapped: 10 requests at 1 s each finish in about 10/5 s + 1 s, not 10 s.
        assert!(s.millis < 3_200, "{}", s.millis);
    }

    #[test]
    fn transient_failures_are_retried_and_nothing_is_lost() {
        let mut inner = list("tags", 150);
        let mut n = 0;
        let mut fake = Fake { now: 0, latency: 1, pending: VecDeque::new(), starts: vec![], answer: Box::new(move |p: &str| {
            n += 1;
            match n {
                1 => Ok(HttpResponse { status: 503, headers: vec![], body: b"<html>busy</html>".to_vec() }),
                2 => Ok(HttpResponse { status: 200, headers: vec![], body: b"{\"tags\": [".to_vec() }),
                3 => Err("connection reset".into()),
                4 => Ok(HttpResponse { status: 429, headers: vec![("retry-after".into(), "2".into())], body: vec![] }),
                _ => inner(p),
            }
        }) };
        let cfg = config(5.0);
        let mut client = Client::new(&mut fake, &cfg);
        let mut sink = Lines::default();
        let s = read(&mut client, &cfg, vec![job("tags")], &mut sink);
        assert!(s.streams[0].failure.is_none(), "{:?}", s.streams[0].failure);
        assert_eq!(records(&sink.0, "tags").len(), 150);
        assert_eq!(s.requests, 6);
    }

    #[test]
    fn a_failing_stream_is_isolated_and_named() {
        let mut fake = Fake { now: 0, latency: 1, pending: VecDeque::new(), starts: vec![], answer: Box::new(|p: &str| {
            if p.contains("/accounts") {
                Ok(HttpResponse { status: 403, headers: vec![], body: br#"{"errors":[{"status":403,"title":"Forbidden"}]}"#.to_vec() })
            } else {
                ok(json!({"tags": [{"id": "1"}], "meta": {"total": "1"}}))
            }
        }) };
        let cfg = config(50.0);
        let mut client = Client::new(&mut fake, &cfg);
        let mut sink = Lines::default();
        let s = read(&mut client, &cfg, vec![job("accounts"), job("tags")], &mut sink);
        let acc = &s.streams[0];
        assert_eq!(acc.name, "accounts");
        assert_eq!(acc.failure.as_ref().map(|f| f.0), Some(FailureType::Config));
        assert!(s.streams[1].failure.is_none());
        assert!(sink.0.iter().any(|l| l.contains("\"ERROR\"") && l.contains("accounts")));
    }

    #[test]
    fn keyset_paging_and_state_resume() {
        let answer = |p: &str| {
            let after: u64 = query(p, "id_greater").and_then(|o| o.parse().ok()).unwrap_or(0);
            let recs: Vec<Value> = (after + 1..=230u64.min(after + 100)).map(|i| json!({"id": i.to_string(), "udate": "2024-01-01T00:00:00-05:00"})).collect();
            ok(json!({"contacts": recs, "meta": {"total": "230"}}))
        };
        let mut fake = Fake { now: 0, latency: 1, pending: VecDeque::new(), starts: vec![], answer: Box::new(answer) };
        let cfg = config(5.0);
        let mut st = StreamState::default();
        st.resume = Some(Position::After(Some("100".into())));
        let mut client = Client::new(&mut fake, &cfg);
        let mut sink = Lines::default();
        let s = read(&mut client, &cfg, vec![Job { def: job("contacts").def, incremental: true, state: st }], &mut sink);
        assert_eq!(s.streams[0].records, 130);
        assert!(fake.starts[0].1.contains("id_greater=100"));
        let last_state: Value = sink.0.iter().rev().filter_map(|l| serde_json::from_str::<Value>(l).ok()).find(|v| v["type"] == "STATE").unwrap();
        assert_eq!(last_state["state"]["stream"]["stream_state"]["cursor"], "2024-01-01T05:00:00Z");
        assert!(last_state["state"]["stream"]["stream_state"].get("resume").is_none());
    }

    #[test]
    fn fields_family_shares_one_request() {
        let mut fake = Fake { now: 0, latency: 1, pending: VecDeque::new(), starts: vec![], answer: Box::new(|_p: &str| {
            ok(json!({"fields": [{"id": "1"}], "fieldOptions": [{"id": "5"}, {"id": "6"}], "fieldRels": [{"id": "9"}], "meta": {"total": "1"}}))
        }) };
        let cfg = config(5.0);
        let mut client = Client::new(&mut fake, &cfg);
        let mut sink = Lines::default();
        let jobs = vec![job("contact_custom_fields"), job("contact_custom_field_options"), job("contact_custom_field_rels")];
        let s = read(&mut client, &cfg, jobs, &mut sink);
        assert_eq!(s.requests, 1);
        let by: BTreeMap<String, u64> = s.streams.iter().map(|x| (x.name.clone(), x.records)).collect();
        assert_eq!(by["contact_custom_field_options"], 2);
        assert_eq!(by["contact_custom_field_rels"], 1);
    }

    #[test]
    fn a_server_ignoring_offsets_is_caught() {
        let mut fake = Fake { now: 0, latency: 1, pending: VecDeque::new(), starts: vec![], answer: Box::new(|_p: &str| {
            let recs: Vec<Value> = (1..=100).map(|i| json!({"id": i.to_string()})).collect();
            ok(json!({"tags": recs}))
        }) };
        let cfg = config(50.0);
        let mut client = Client::new(&mut fake, &cfg);
        let s = read(&mut client, &cfg, vec![job("tags")], &mut Lines::default());
        assert_eq!(s.requests, 2);
        assert_eq!(s.streams[0].failure.as_ref().map(|f| f.0), Some(FailureType::System));
    }
}
