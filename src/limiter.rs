//! The one rate budget of a run: spaces request starts so the server never sees more than
//! `requests_per_second` begin in any one-second window.
//!
//! Starts are spaced evenly (ActiveCampaign documents no burst allowance) with a small safety
//! margin, because the account's limiter, not ours, decides, and a 429 costs more than the margin.

/// Fraction added to the spacing between starts.
pub const SAFETY_MARGIN: f64 = 0.03;

/// Nanoseconds in a second.
const SECOND: u64 = 1_000_000_000;

/// Request-start scheduler.
#[derive(Debug, Clone)]
pub struct Limiter {
    interval_ns: u64,
    last_start: Option<u64>,
    paused_until: u64,
    /// Starts of the last couple of seconds, to tell our own use of the account's budget from
    /// other clients'.
    recent: std::collections::VecDeque<u64>,
}

impl Limiter {
    /// A limiter for `rps` requests per second.
    pub fn new(rps: f64) -> Limiter {
        let rps = if rps.is_finite() && rps > 0.0 {
            rps
        } else {
            1.0
        };
        // "At most N in any one-second window" allows only whole requests: 2.5/s means 2.
        let rps = if rps >= 1.0 { rps.floor() } else { rps };
        Limiter {
            interval_ns: ((SECOND as f64 / rps) * (1.0 + SAFETY_MARGIN)).ceil() as u64,
            last_start: None,
            paused_until: 0,
            recent: Default::default(),
        }
    }

    /// Spacing between two starts.
    pub fn interval_ns(&self) -> u64 {
        self.interval_ns
    }

    /// Earliest time the next request may start.
    pub fn next_slot(&self) -> u64 {
        let spaced = self.last_start.map_or(0, |t| t + self.interval_ns);
        spaced.max(self.paused_until)
    }

    /// Records a start at `now` (callers start only when `now >= next_slot()`).
    pub fn started(&mut self, now: u64) {
        self.last_start = Some(now);
        self.recent.push_back(now);
        while self.recent.front().is_some_and(|&t| t + 2 * SECOND < now) {
            self.recent.pop_front();
        }
    }

    /// Reads a `RateLimit-Remaining: 0` on the answer to a request begun at `start`, with the
    /// account limit `limit`: if our own starts in the second up to `start` explain it, the
    /// spacing already handles it; if not, other clients are using the account's budget, so all
    /// starts hold for a second. Returns whether it paused.
    pub fn exhausted(&mut self, start: u64, limit: Option<u64>, now: u64) -> bool {
        let ours = self
            .recent
            .iter()
            .filter(|&&t| t <= start && t + SECOND > start)
            .count() as u64;
        if limit.is_none_or(|l| ours < l) {
            self.pause_until(now + SECOND);
            true
        } else {
            false
        }
    }

    /// Holds every start until `until` (a 429's Retry-After, or RateLimit-Remaining: 0).
    pub fn pause_until(&mut self, until: u64) {
        self.paused_until = self.paused_until.max(until);
    }
}

/// Most starts within any half-open window of `window_ns`, for tests and the benchmark.
pub fn max_in_window(starts: &[u64], window_ns: u64) -> usize {
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
mod tests {
    use super::*;

    fn simulate(rps: f64, n: usize) -> Vec<u64> {
        let mut l = Limiter::new(rps);
        let mut now = 0;
        let mut starts = vec![];
        for _ in 0..n {
            now = now.max(l.next_slot());
            l.started(now);
            starts.push(now);
        }
        starts
    }

    #[test]
    fn never_more_than_rps_in_any_second() {
        for rps in [1.0, 2.5, 5.0, 10.0, 50.0] {
            let starts = simulate(rps, 500);
            assert!(
                max_in_window(&starts, SECOND) <= rps.floor() as usize,
                "rps {rps}"
            );
        }
    }

    #[test]
    fn close_to_the_rate() {
        let starts = simulate(5.0, 101);
        let span = (starts[100] - starts[0]) as f64 / 1e9;
        let achieved = 100.0 / span;
        assert!(achieved > 4.8 && achieved <= 5.0, "{achieved}");
    }

    #[test]
    fn pause_holds_starts() {
        let mut l = Limiter::new(5.0);
        l.started(0);
        l.pause_until(5 * SECOND);
        assert_eq!(l.next_slot(), 5 * SECOND);
        l.pause_until(SECOND);
        assert_eq!(l.next_slot(), 5 * SECOND);
    }

    #[test]
    fn remaining_zero_pauses_only_for_other_clients() {
        let mut l = Limiter::new(5.0);
        for i in 0..5 {
            l.started(i * 206_000_000);
        }
        // Our five starts explain the empty budget: no pause.
        assert!(!l.exhausted(4 * 206_000_000, Some(5), 1_000_000_000));
        // Someone else used it: after only two of ours, the server says none are left.
        let mut l = Limiter::new(5.0);
        l.started(0);
        l.started(206_000_000);
        assert!(l.exhausted(206_000_000, Some(5), 300_000_000));
        assert_eq!(l.next_slot(), 1_300_000_000);
    }

    #[test]
    fn window_counting() {
        assert_eq!(max_in_window(&[0, 100, 999, 1000, 1001], 1000), 4);
        assert_eq!(max_in_window(&[0, 1000, 2000], 1000), 1);
        assert_eq!(max_in_window(&[], 1000), 0);
    }
}
