//! What to do with each answer: use it, retry it (after how long), or give up with a class of
//! failure and a message a person can act on.

use crate::failure::FailureType;
use crate::http::response::error_message;

/// Nanoseconds in a second.
pub(crate) const SECOND: u64 = 1_000_000_000;

/// The decision for one answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Verdict {
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
) -> Verdict {
    let said = error_message(body)
        .map(|m| format!(": \"{m}\""))
        .unwrap_or_default();
    match status {
        200..=299 => Verdict::Use,
        429 => Verdict::Retry { after_ns: Some(retry_after_ns(retry_after)), pause_all: true, why: format!("rate limited (429){said}") },
        402 => Verdict::Fail { kind: FailureType::Config, why: format!("ActiveCampaign reports a payment issue on this account (402){said}; settle the account's billing in ActiveCampaign, then run again") },
        403 if key_worked && forbidden_so_far < FORBIDDEN_RETRIES => Verdict::Retry { after_ns: None, pause_all: false, why: format!("forbidden (403){said}, although the key worked a moment ago; ActiveCampaign sends such 403s intermittently") },
        403 | 401 => Verdict::Fail { kind: FailureType::Config, why: format!("access denied ({status}){said}; check that 'api_key' is the current key from Settings > Developer, and that this user's group may view this data (some data needs a plan feature, e.g. Accounts or Deals)") },
        404 => Verdict::Fail { kind: FailureType::Config, why: format!("not found (404){said}; check that 'api_url' is the API URL from Settings > Developer and that this account has this feature") },
        422 => Verdict::Fail { kind: FailureType::Config, why: format!("the API refused the request (422){said}") },
        408 | 500..=599 => Verdict::Retry { after_ns: None, pause_all: false, why: format!("server error ({status}){said}") },
        300..=399 => Verdict::Fail { kind: FailureType::System, why: format!("the API answered a redirect ({status}); redirects are not followed, so requests stay on the configured host. Check 'api_url'") },
        _ => Verdict::Fail { kind: FailureType::System, why: format!("unexpected answer ({status}){said}") },
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

#[cfg(test)]
#[path = "retry_tests.rs"]
mod tests;
