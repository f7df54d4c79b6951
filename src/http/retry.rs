//! What to do with each answer: use it, retry it (after how long), or give up with a class of
//! failure and a message a person can act on.

use crate::http::response::error_message;
use crate::vocab::failure::{Failure, FailureType};

/// Nanoseconds in a second.
pub(crate) const SECOND: u64 = 1_000_000_000;

/// The decision for one answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// 2xx: read it.
    Use,
    /// Try the same request again. `after_ns` overrides the backoff; `pause_all` holds every
    /// request of the run (429).
    Retry {
        after_ns: Option<u64>,
        pause_all: bool,
        why: String,
    },
    /// Stop this stream (or command) with this failure.
    Fail { kind: FailureType, why: String },
}

/// How many times a 403 on a key that already worked is retried before it counts as real.
pub(crate) const FORBIDDEN_RETRIES: u32 = 3;

/// Parses `Retry-After` (seconds; HTTP dates are rare here and fall back to 1 s), capped at 10 min.
pub(crate) fn retry_after_ns(value: Option<&str>) -> u64 {
    let secs = value
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(1.0);
    (secs.min(600.0) * SECOND as f64) as u64
}

/// Classifies an HTTP status. `key_worked`: an earlier request of this run succeeded with the
/// key; `forbidden_so_far`: 403s already retried for this request.
pub(crate) fn classify(
    status: u16,
    body: &[u8],
    retry_after: Option<&str>,
    key_worked: bool,
    forbidden_so_far: u32,
) -> Outcome {
    let said = error_message(body)
        .map(|m| format!(": \"{m}\""))
        .unwrap_or_default();
    match status {
        200..=299 => Outcome::Use,
        429 => Outcome::Retry { after_ns: Some(retry_after_ns(retry_after)), pause_all: true, why: format!("rate limited (429){said}") },
        402 => Outcome::Fail { kind: FailureType::Config, why: format!("ActiveCampaign reports a payment issue on this account (402){said}; settle the account's billing in ActiveCampaign, then run again") },
        403 if key_worked && forbidden_so_far < FORBIDDEN_RETRIES => Outcome::Retry { after_ns: None, pause_all: false, why: format!("forbidden (403){said}, although the key worked a moment ago; ActiveCampaign sends such 403s intermittently") },
        403 | 401 => Outcome::Fail { kind: FailureType::Config, why: format!("access denied ({status}){said}; check that 'api_key' is the current key from Settings > Developer, and that this user's group may view this data (some data needs a plan feature, e.g. Accounts or Deals)") },
        404 => Outcome::Fail { kind: FailureType::Config, why: format!("not found (404){said}; check that 'api_url' is the API URL from Settings > Developer and that this account has this feature") },
        422 => Outcome::Fail { kind: FailureType::Config, why: format!("the API refused the request (422){said}") },
        408 | 500..=599 => Outcome::Retry { after_ns: None, pause_all: false, why: format!("server error ({status}){said}") },
        300..=399 => Outcome::Fail { kind: FailureType::System, why: format!("the API answered a redirect ({status}); redirects are not followed, so requests stay on the configured host. Check 'api_url'") },
        _ => Outcome::Fail { kind: FailureType::System, why: format!("unexpected answer ({status}){said}") },
    }
}

/// Exponential backoff with ±25% jitter: 1 s, 2 s, 4 s … capped at 60 s. `random` is any u64.
pub(crate) fn backoff_ns(attempt: u32, random: u64) -> u64 {
    let base = SECOND
        .saturating_mul(1u64 << attempt.saturating_sub(1).min(6))
        .min(60 * SECOND);
    let jitter = (random % 501) as i64 - 250; // per mille, -250..=250
    (base as i64 + base as i64 * jitter / 1000).max(0) as u64
}

/// A small deterministic generator for jitter (splitmix64).
pub(crate) fn next_random(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Why a request is asked again, and when: what a [`Outcome::Retry`] (or a network failure, or
/// an answer that could not be read) says about the next try.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Again {
    /// The server's wait (Retry-After), if it named one; otherwise backoff.
    pub(crate) after_ns: Option<u64>,
    /// A 429: every request waits, and it costs time rather than an attempt.
    pub(crate) pause_all: bool,
    /// A 403 on a key that worked: retried soon, a few times (see [`FORBIDDEN_RETRIES`]).
    pub(crate) forbidden: bool,
    /// What failed, for the log.
    pub(crate) why: String,
}

impl Again {
    /// With backoff and no pause of the other requests.
    pub(crate) fn now(why: String) -> Again {
        Again {
            after_ns: None,
            pause_all: false,
            forbidden: false,
            why,
        }
    }

    /// From a outcome to retry an answer with `status`.
    pub(crate) fn retry(status: u16, after_ns: Option<u64>, pause_all: bool, why: String) -> Again {
        Again {
            after_ns,
            pause_all,
            forbidden: status == 403,
            why,
        }
    }
}

/// What one request may still spend on retries: attempts, waiting time, and the 403s seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RetryBudget {
    /// Tries that failed (429s not counted: they cost waiting time only).
    pub(crate) attempts: u32,
    /// Time waited between tries so far, nanoseconds.
    pub(crate) waited_ns: u64,
    /// 403 answers so far.
    pub(crate) forbidden: u32,
}

/// The one retry policy of a run, for one-off requests (the key check, the schemas) and page
/// requests alike: charge the budget, choose the wait, or give up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    /// Tries per request (at least one).
    pub(crate) max_attempts: u32,
    /// Waiting time per request before giving up.
    pub(crate) max_wait_ns: u64,
}

/// The policy's answer to one failed try.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NextTry {
    /// Try again after `delay_ns`; `pause_all`: every request of the run waits too (a 429).
    After { delay_ns: u64, pause_all: bool },
    /// The bounds are reached.
    GiveUp(Failure),
}

impl RetryPolicy {
    /// A policy from the config's bounds.
    pub(crate) fn new(max_attempts: u32, max_retry_wait_seconds: u64) -> RetryPolicy {
        RetryPolicy {
            max_attempts: max_attempts.max(1),
            max_wait_ns: max_retry_wait_seconds.saturating_mul(SECOND),
        }
    }

    /// Charges one failed try of `what` (a request, named for the message) to `budget` and says
    /// when to try again. `random` feeds the backoff's jitter and is drawn only for backoff.
    pub(crate) fn after_failure(
        &self,
        budget: &mut RetryBudget,
        again: &Again,
        random: &mut u64,
        what: &str,
    ) -> NextTry {
        // A 429 is the account's budget, not this request's fault: it costs waiting time
        // (bounded), not an attempt.
        if !again.pause_all {
            budget.attempts += 1;
        }
        if again.forbidden {
            budget.forbidden += 1;
        }
        // A 403 is either intermittent (gone in a moment) or real: don't wait long on it.
        let delay_ns = if again.forbidden {
            budget.forbidden as u64 * SECOND / 2
        } else {
            again
                .after_ns
                .unwrap_or_else(|| backoff_ns(budget.attempts, next_random(random)))
        };
        if budget.attempts >= self.max_attempts || budget.waited_ns + delay_ns > self.max_wait_ns {
            let kind = if budget.forbidden >= FORBIDDEN_RETRIES {
                FailureType::Config
            } else {
                FailureType::Transient
            };
            let message = format!(
                "gave up on {what} after {} attempts; last failure: {}",
                budget.attempts, again.why
            );
            return NextTry::GiveUp(Failure { kind, message });
        }
        budget.waited_ns += delay_ns;
        NextTry::After {
            delay_ns,
            pause_all: again.pause_all,
        }
    }
}

#[cfg(test)]
#[path = "retry_tests.rs"]
mod tests;
