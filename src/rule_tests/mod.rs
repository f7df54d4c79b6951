//! Tests that pin the exact numbers and boundaries of the sync rules: margins, ties and windows
//! that a one-character change would break without any other test noticing (each was a surviving
//! mutant in the audit of issue 13, or in `make mutants`; tests/scripts/hand_mutants.sh applies the
//! audit's ones). One file per module under test; they are unit tests of the crate, so they run
//! with `cargo test --lib`.

use crate::datetime::{parse_instant, Instant};

mod catalog;
mod cli;
mod config;
mod datetime;
mod engine;
mod limiter;
mod protocol;
mod response;
mod retry;
mod singer;
mod state;

/// Nanoseconds in a second.
const SECOND: u64 = 1_000_000_000;

/// An instant from RFC 3339 text.
fn t(s: &str) -> Instant {
    parse_instant(s, 0).unwrap()
}
