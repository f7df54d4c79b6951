//! The one rate budget of a run: spaces request starts so the server never sees more than
//! `requests_per_second` begin in any one-second window.
//!
//! Starts are spaced evenly (ActiveCampaign documents no burst allowance) with a small safety
//! margin, because the account's limiter, not ours, decides, and a 429 costs more than the margin.
//! The server counts a request when it arrives, not when we start it: each request opens a new
//! connection, so arrivals lag starts by a varying handshake. Two rules follow. A
//! `RateLimit-Remaining: 0` is blamed on other clients only when our own starts, widened by that
//! lag, cannot explain it, and then it holds starts only until the server's window has passed. A
//! 429 our own starts can explain means the lag ate the margin: the spacing widens a little (and
//! narrows back slowly after a long run without one), so the server's count settles under its
//! limit instead of 429s recurring.

/// Fraction added to the spacing between starts.
pub(crate) const SAFETY_MARGIN: f64 = 0.03;

/// Nanoseconds in a second.
const SECOND: u64 = 1_000_000_000;

/// How far a request's arrival at the server may lag its start (connection and TLS handshake),
/// and so how much our own starts may shift within the server's one-second window.
pub(crate) const ARRIVAL_SLACK_NS: u64 = 250_000_000;

/// Widening of the spacing after a 429 our own starts explain, as a fraction of the base spacing.
pub(crate) const WIDEN_STEP: f64 = 0.04;

/// The spacing never widens past this multiple of the base spacing.
pub(crate) const MAX_WIDEN: f64 = 1.5;

/// Starts without a 429 after which a widened spacing narrows by one step.
pub(crate) const NARROW_AFTER: u64 = 2000;

/// A 429 our own starts explain widens the spacing only when the previous one came fewer than
/// this many starts before: a lone 429 (a moment of host load delaying a few connections) costs
/// a one-second pause, while a wider spacing would cost a few percent for the rest of the run.
/// Recurring ones mean arrivals really do bunch, and only a wider spacing stops them.
pub(crate) const RECURRING_WITHIN: u64 = 100;

/// How long our own starts are remembered, to judge answers that come back late.
const HISTORY_NS: u64 = 30 * SECOND;

/// Request-start scheduler.
#[derive(Debug, Clone)]
pub(crate) struct Limiter {
    /// Spacing at the configured rate with the safety margin.
    base_interval_ns: u64,
    /// Current spacing: the base, widened by 429s our own starts caused.
    interval_ns: u64,
    /// Requests per second the spacing allows (the account's limit when it sends none).
    rps: u64,
    last_start: Option<u64>,
    paused_until: u64,
    /// Our starts of the last [`HISTORY_NS`], to tell our own use of the account's budget from
    /// other clients'.
    recent: std::collections::VecDeque<u64>,
    /// Starts since the spacing last changed.
    since_change: u64,
    /// Starts so far, and the start count at the last 429 our own starts explained.
    starts: u64,
    last_own_429: Option<u64>,
}

impl Limiter {
    /// A limiter for `rps` requests per second.
    pub(crate) fn new(rps: f64) -> Limiter {
        let rps = if rps.is_finite() && rps > 0.0 {
            rps
        } else {
            1.0
        };
        // "At most N in any one-second window" allows only whole requests: 2.5/s means 2.
        let rps = if rps >= 1.0 { rps.floor() } else { rps };
        let interval = ((SECOND as f64 / rps) * (1.0 + SAFETY_MARGIN)).ceil() as u64;
        Limiter {
            base_interval_ns: interval,
            interval_ns: interval,
            rps: (rps as u64).max(1),
            last_start: None,
            paused_until: 0,
            recent: Default::default(),
            since_change: 0,
            starts: 0,
            last_own_429: None,
        }
    }

    /// Spacing between two starts.
    pub(crate) fn interval_ns(&self) -> u64 {
        self.interval_ns
    }

    /// Earliest time the next request may start.
    pub(crate) fn next_slot(&self) -> u64 {
        let spaced = self.last_start.map_or(0, |t| t + self.interval_ns);
        spaced.max(self.paused_until)
    }

    /// Records a start at `now` (callers start only when `now >= next_slot()`).
    pub(crate) fn started(&mut self, now: u64) {
        self.last_start = Some(now);
        self.recent.push_back(now);
        while self.recent.front().is_some_and(|&t| t + HISTORY_NS < now) {
            self.recent.pop_front();
        }
        self.since_change += 1;
        self.starts += 1;
        if self.since_change >= NARROW_AFTER && self.interval_ns > self.base_interval_ns {
            let step = (self.base_interval_ns as f64 * WIDEN_STEP) as u64;
            self.interval_ns = self
                .interval_ns
                .saturating_sub(step)
                .max(self.base_interval_ns);
            self.since_change = 0;
        }
    }

    /// Our starts that the server may have counted in the one-second window ending at the arrival
    /// of the request begun at `start`: arrivals lag starts by up to [`ARRIVAL_SLACK_NS`], so a
    /// start a little after `start` may have arrived first, and the window reaches a little
    /// further back.
    fn ours_around(&self, start: u64) -> u64 {
        let hi = start + ARRIVAL_SLACK_NS;
        self.recent
            .iter()
            .filter(|&&t| t + SECOND + ARRIVAL_SLACK_NS > start && t <= hi)
            .count() as u64
    }

    /// Reads a `RateLimit-Remaining: 0` on the answer to a request begun at `start`, with the
    /// account limit `limit` (our own rate when the server sends none). When our own starts can
    /// explain the empty budget, the spacing already handles it: no pause. Otherwise other
    /// clients use the account's budget, and starts hold until the window that counted this
    /// request has passed (its arrival plus a second), not a second from now: an answer that
    /// took long to come back says little about the window still to come. Returns whether it
    /// paused.
    pub(crate) fn exhausted(&mut self, start: u64, limit: Option<u64>, now: u64) -> bool {
        let limit = limit.unwrap_or(self.rps).max(1);
        if self.ours_around(start) >= limit {
            return false;
        }
        let window_end = start + ARRIVAL_SLACK_NS + SECOND;
        if window_end <= now {
            return false;
        }
        self.pause_until(window_end);
        true
    }

    /// Whether a 429 on a request begun at `start` is explained by our own starts (arrival lag
    /// packed them into one server window) rather than by other clients' use.
    pub(crate) fn own_429(&self, start: u64, limit: Option<u64>) -> bool {
        self.ours_around(start) >= limit.unwrap_or(self.rps).max(1)
    }

    /// Learns from a 429 on a request begun at `start`: when our own starts can explain it
    /// (arrival lag packed them into one server window) and the previous such 429 was within
    /// [`RECURRING_WITHIN`] starts, the spacing widens by [`WIDEN_STEP`], up to [`MAX_WIDEN`].
    /// A 429 from other clients' use changes nothing (the caller pauses for `Retry-After` either
    /// way). Returns whether the spacing widened.
    pub(crate) fn rate_limited(&mut self, start: u64, limit: Option<u64>) -> bool {
        // The rejected request is one of ours in the window, and so are the `limit` it exceeded.
        if !self.own_429(start, limit) {
            return false;
        }
        let recurring = self
            .last_own_429
            .is_some_and(|at| self.starts.saturating_sub(at) < RECURRING_WITHIN);
        self.last_own_429 = Some(self.starts);
        if !recurring {
            return false;
        }
        let step = (self.base_interval_ns as f64 * WIDEN_STEP).ceil() as u64;
        let max = (self.base_interval_ns as f64 * MAX_WIDEN) as u64;
        if self.interval_ns >= max {
            return false;
        }
        self.interval_ns = (self.interval_ns + step).min(max);
        self.since_change = 0;
        true
    }

    /// Holds every start until `until` (a 429's Retry-After, or RateLimit-Remaining: 0).
    pub(crate) fn pause_until(&mut self, until: u64) {
        self.paused_until = self.paused_until.max(until);
    }
}

/// Most starts within any half-open window of `window_ns` (the tests' measure of the rate).
#[cfg(test)]
pub(crate) fn max_in_window(starts: &[u64], window_ns: u64) -> usize {
    let mut s = starts.to_vec();
    s.sort_unstable();
    let (mut best, mut lo) = (0, 0);
    for hi in 0..s.len() {
        while s[hi] - s[lo] >= window_ns {
            lo += 1;
        }
        best = best.max(hi - lo + 1);
    }
    best
}

#[cfg(test)]
#[path = "limiter_tests.rs"]
mod tests;
