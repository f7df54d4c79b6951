//! The request client: one rate budget for the run, retries, the key check, and the retry
//! budget that one-off requests and page slots both spend.

use super::{HttpResponse, Transport, TransportError};
use crate::documents::config::Config;
use crate::http::limiter::Limiter;
use crate::http::retry::{classify, Again, NextTry, Outcome, RetryBudget, RetryPolicy, SECOND};
use crate::vocab::failure::Failure;
use crate::vocab::failure::FailureType;

/// What [`Client::try_start`] did.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Start {
    /// The request is under way with this ticket.
    Begun(u64),
    /// It did not start, and why.
    Failed(StartError),
    /// The rate budget has no room before this monotonic time.
    Later(u64),
}

/// Shared request machinery of a run: one rate budget, retries, the "key worked" memory.
pub(crate) struct Client<'t> {
    /// The edge.
    pub(crate) transport: &'t mut dyn Transport,
    /// The run's one rate budget.
    pub(super) limiter: Limiter,
    /// The retry bounds (from the config), for one-off requests and page slots alike.
    pub(super) policy: RetryPolicy,
    /// A request with this key succeeded: later 403s are intermittent, not a wrong key.
    pub(super) key_worked: bool,
    next_ticket: u64,
    requests: u64,
    /// State of the backoff jitter.
    pub(super) random: u64,
    /// The API's path on the account's host (`/api/3`).
    pub(super) api_path: String,
    /// When each request in flight began, by ticket.
    pub(super) start_times: std::collections::HashMap<u64, u64>,
    /// Requests begun ahead of their turn, while the key check is under way (in order).
    prefetch: Vec<Prefetch>,
    /// Answers to requests begun ahead that the engine took over, not yet handed to it.
    held: Vec<(u64, Result<HttpResponse, TransportError>)>,
    /// The last answer was a 429 this run's own starts explain: its request waits for
    /// `Retry-After`, the others keep their spacing (the server's window over-counted by one).
    pub(super) own_429: bool,
}

/// A request begun alongside another (the key check), so a slow API costs one round trip for
/// both; its answer waits for the `get` of the same path, or for the engine's start of it.
#[derive(Debug)]
struct Prefetch {
    /// Full path and query.
    path: String,
    /// Its ticket once begun.
    ticket: Option<u64>,
    /// Its answer once in.
    answer: Option<Result<HttpResponse, TransportError>>,
}

/// What to do about a transport failure.
pub(super) fn network_outcome(e: &TransportError) -> Outcome {
    match e {
        TransportError::Permanent(why) => Outcome::Fail {
            kind: FailureType::Config,
            why: why.clone(),
        },
        TransportError::Network(_) => Outcome::Retry {
            after_ns: None,
            pause_all: false,
            why: format!("network failure: {e}"),
        },
    }
}

/// Why a request did not start.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum StartError {
    /// The host could not send it.
    Network(TransportError),
    /// It would have left the account's API: never sent, not retried.
    Refused(String),
}

impl<'t> Client<'t> {
    /// A client for one run.
    pub(crate) fn new(transport: &'t mut dyn Transport, config: &Config) -> Client<'t> {
        let seed = transport.now_ns() ^ 0x5DEE_CE66_D1CE_4E5B;
        Client {
            transport,
            limiter: Limiter::new(config.requests_per_second),
            policy: RetryPolicy::new(config.max_attempts, config.max_retry_wait_seconds),
            key_worked: false,
            next_ticket: 1,
            requests: 0,
            random: seed,
            api_path: config.base.api_path.clone(),
            start_times: Default::default(),
            prefetch: Vec::new(),
            held: Vec::new(),
            own_429: false,
        }
    }

    /// Requests begun so far.
    pub(crate) fn requests(&self) -> u64 {
        self.requests
    }

    /// Starts a request now if the budget allows; a request begun ahead for the same path is
    /// taken over instead (its answer comes from [`Client::wait`]).
    pub(super) fn try_start(&mut self, path: &str) -> Start {
        if let Some(ticket) = self.adopt(path) {
            return Start::Begun(ticket);
        }
        self.begin(path)
    }

    /// Starts a request now if the budget allows.
    fn begin(&mut self, path: &str) -> Start {
        if let Err(refused) = crate::http::request::on_account_host(&self.api_path, path) {
            return Start::Failed(StartError::Refused(refused));
        }
        let now = self.transport.now_ns();
        let slot = self.limiter.next_slot();
        if slot > now {
            return Start::Later(slot);
        }
        self.limiter.started(now);
        self.requests += 1;
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.start_times.insert(ticket, now);
        match self.transport.start(ticket, path) {
            Ok(()) => Start::Begun(ticket),
            Err(e) => Start::Failed(StartError::Network(e)),
        }
    }

    /// Starts the wait before a retry: `delay_ns` from now, and for a 429 other clients caused,
    /// every request of the run waits too. Returns when the retry may begin.
    pub(super) fn hold_for_retry(&mut self, delay_ns: u64, pause_all: bool) -> u64 {
        let until = self.transport.now_ns() + delay_ns;
        if pause_all && !self.own_429 {
            self.limiter.pause_until(until);
        }
        until
    }

    /// Honours `RateLimit-Remaining: 0` when other clients, not this run, used the budget, and
    /// learns from a 429 that this run's own starts caused (see [`Limiter`]).
    /// Returns what changed, for a log line.
    pub(super) fn note_headers(&mut self, ticket: u64, resp: &HttpResponse) -> Option<String> {
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
    pub(crate) fn get(&mut self, path: &str) -> Result<HttpResponse, Failure> {
        self.get_inner(path, false)
    }

    /// Proves the key works (`users/me`) before anything else, so a wrong key fails the run once
    /// and clearly, and later 403s are known to be intermittent. A 403 here is retried a few
    /// times quickly, since ActiveCampaign sends intermittent 403s even to good keys.
    pub(crate) fn verify_key(&mut self) -> Result<HttpResponse, Failure> {
        self.get_inner("users/me", true)
    }

    /// Begins `path` (below `/api/3/`) together with the next request made through [`Client::get`]
    /// or [`Client::verify_key`], once the budget allows; a later `get` of the same path uses its
    /// answer when that answer is usable, and asks again otherwise.
    pub(crate) fn prefetch(&mut self, path: &str) {
        let full = format!("{}/{}", self.api_path, path);
        self.prefetch_full(full);
    }

    /// Like [`Client::prefetch`] for a full path (as the engine builds them): the engine's start
    /// of the same path takes the request over. Requests still waiting for their slot when the
    /// key check's answer is in are never sent.
    pub(crate) fn prefetch_full(&mut self, full: String) {
        self.prefetch.push(Prefetch {
            path: full,
            ticket: None,
            answer: None,
        });
    }

    /// Begins the waiting prefetches the budget allows; returns when the next one may begin.
    fn start_prefetch(&mut self) -> Option<u64> {
        while let Some(i) = self.prefetch.iter().position(|p| p.ticket.is_none()) {
            let path = self.prefetch[i].path.clone();
            match self.begin(&path) {
                Start::Begun(t) => self.prefetch[i].ticket = Some(t),
                // It could not begin: whoever needs it asks for itself.
                Start::Failed(_) => {
                    self.prefetch.remove(i);
                }
                Start::Later(at) => return Some(at),
            }
        }
        None
    }

    /// Waits like [`Transport::wait`], keeping the prefetches' answers aside.
    fn wait_keeping_prefetch(
        &mut self,
        deadline: u64,
    ) -> Vec<(u64, Result<HttpResponse, TransportError>)> {
        let mut rest = Vec::new();
        for (k, r) in self.transport.wait(deadline) {
            match self.prefetch.iter_mut().find(|p| p.ticket == Some(k)) {
                Some(p) => p.answer = Some(r),
                None => rest.push((k, r)),
            }
        }
        rest
    }

    /// Begins the prefetches the budget allows, then waits like [`Client::wait_keeping_prefetch`]
    /// until `deadline` or the next prefetch's slot, whichever is first: the prefetches go on
    /// beginning while a one-off request waits.
    fn wait_beginning_prefetches(
        &mut self,
        deadline: u64,
    ) -> Vec<(u64, Result<HttpResponse, TransportError>)> {
        let until = self
            .start_prefetch()
            .map_or(deadline, |at| at.min(deadline));
        self.wait_keeping_prefetch(until)
    }

    /// Waits for answers until `deadline` (the engine's wait): answers to requests it took over
    /// from the prefetches come first; answers to prefetches nobody took over are kept aside.
    pub(super) fn wait(
        &mut self,
        deadline: u64,
    ) -> Vec<(u64, Result<HttpResponse, TransportError>)> {
        if !self.held.is_empty() {
            return std::mem::take(&mut self.held);
        }
        self.wait_keeping_prefetch(deadline)
    }

    /// Forgets the prefetches that never began (the read asks for those pages itself).
    pub(super) fn stop_prefetching(&mut self) {
        self.prefetch.retain(|p| p.ticket.is_some());
    }

    /// Takes over the prefetch of `full` when it has begun: its ticket, with its answer (if in)
    /// held for [`Client::wait`].
    fn adopt(&mut self, full: &str) -> Option<u64> {
        let i = self
            .prefetch
            .iter()
            .position(|p| p.path == full && p.ticket.is_some())?;
        let p = self.prefetch.remove(i);
        let ticket = p.ticket?;
        if let Some(answer) = p.answer {
            self.held.push((ticket, answer));
        }
        Some(ticket)
    }

    /// The prefetched answer for `full`, when there is one and it is a success (waiting for it if
    /// it is under way).
    fn take_prefetched(&mut self, full: &str) -> Option<HttpResponse> {
        let under_way = |c: &Self| {
            c.prefetch
                .iter()
                .any(|p| p.path == full && p.ticket.is_some() && p.answer.is_none())
        };
        while under_way(self) {
            let deadline = self.transport.now_ns() + 3600 * SECOND;
            self.wait_beginning_prefetches(deadline);
        }
        let i = self.prefetch.iter().position(|p| p.path == full)?;
        let p = self.prefetch.remove(i);
        let (ticket, answer) = (p.ticket?, p.answer?);
        match answer {
            Ok(r) => {
                let _ = self.note_headers(ticket, &r);
                (200..300).contains(&r.status).then_some(r)
            }
            Err(_) => None,
        }
    }

    fn get_inner(&mut self, path: &str, retry_forbidden: bool) -> Result<HttpResponse, Failure> {
        let full = format!("{}/{}", self.api_path, path);
        if let Some(r) = self.take_prefetched(&full) {
            return Ok(r);
        }
        let mut budget = RetryBudget::default();
        loop {
            let (result, outcome) = self.try_once(&full, retry_forbidden, budget.forbidden)?;
            let again = match outcome {
                Outcome::Use => {
                    self.key_worked = true;
                    return result.map_err(|e| Failure {
                        kind: FailureType::System,
                        message: e.to_string(),
                    });
                }
                Outcome::Fail { kind, why } => return Err(Failure { kind, message: why }),
                Outcome::Retry {
                    after_ns,
                    pause_all,
                    why,
                } => {
                    let status = result.as_ref().map_or(0, |r| r.status);
                    Again::retry(status, after_ns, pause_all, why)
                }
            };
            let what = format!("the request for {path}");
            match self
                .policy
                .after_failure(&mut budget, &again, &mut self.random, &what)
            {
                NextTry::GiveUp(failure) => return Err(failure),
                NextTry::After {
                    delay_ns,
                    pause_all,
                } => {
                    let until = self.hold_for_retry(delay_ns, pause_all);
                    // Answers to prefetches and to the engine's requests arriving meanwhile are
                    // kept, not dropped.
                    while self.transport.now_ns() < until {
                        let others = self.wait_beginning_prefetches(until);
                        self.held.extend(others);
                    }
                }
            }
        }
    }

    /// One try of a one-off request: begun when the budget allows, its answer awaited and
    /// classified. A request refused before it was sent fails at once.
    fn try_once(
        &mut self,
        full: &str,
        retry_forbidden: bool,
        forbidden_so_far: u32,
    ) -> Result<(Result<HttpResponse, TransportError>, Outcome), Failure> {
        let ticket = loop {
            match self.try_start(full) {
                Start::Begun(t) => break t,
                Start::Later(at) => {
                    let others = self.wait_keeping_prefetch(at);
                    self.held.extend(others);
                }
                Start::Failed(StartError::Refused(why)) => {
                    return Err(Failure {
                        kind: FailureType::System,
                        message: why,
                    })
                }
                Start::Failed(StartError::Network(e)) => {
                    let outcome = network_outcome(&e);
                    return Ok((Err(e), outcome));
                }
            }
        };
        // Answers to the engine's own requests arriving meanwhile (a request made during a
        // read) are held for its next wait.
        let result = 'wait: loop {
            let deadline = self.transport.now_ns() + 3600 * SECOND;
            let mut mine = None;
            for (k, r) in self.wait_beginning_prefetches(deadline) {
                if k == ticket {
                    mine = Some(r);
                } else {
                    self.held.push((k, r));
                }
            }
            if let Some(r) = mine {
                break 'wait r;
            }
        };
        let outcome = match &result {
            Err(e) => network_outcome(e),
            Ok(r) => {
                let _ = self.note_headers(ticket, r);
                let may_retry_403 = self.key_worked || retry_forbidden;
                let retry_after = r.header("retry-after");
                classify(
                    r.status,
                    &r.body,
                    retry_after,
                    may_retry_403,
                    forbidden_so_far,
                )
            }
        };
        Ok((result, outcome))
    }
}
