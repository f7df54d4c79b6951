//! Generated values for single fields: account offsets, timestamps, HTTP dates, Retry-After.

use super::gen::cases;
use super::gen::start;
use super::oracle::{self, Expect};
use crate::http::retry::retry_after_ns;
use crate::rules::datetime::{parse_http_date, parse_instant, parse_offset, Instant};

#[test]
fn offset_field() {
    let (mut g, _seed) = start("offset_field");
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..cases() {
        let s = g.offset_text();
        let got = parse_offset(&s);
        match oracle::offset(&s) {
            Expect::Accept(v) => {
                accepted += 1;
                assert_eq!(got, Some(v), "offset {s:?} must read as {v} minutes");
            }
            Expect::Refuse => {
                refused += 1;
                assert_eq!(got, None, "offset {s:?} must be refused");
            }
            Expect::Either => {}
        }
        if let Some(m) = got {
            assert!(
                (-(14 * 60 + 59)..=14 * 60 + 59).contains(&m),
                "{s:?} -> {m}"
            );
        }
    }
    assert!(
        accepted > cases() / 10 && refused > cases() / 10,
        "accepted {accepted} refused {refused}"
    );
}

#[test]
fn timestamp_field() {
    let (mut g, _seed) = start("timestamp_field");
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..cases() {
        let naive = g.below(26 * 60 + 1) as i32 - 12 * 60;
        let (s, parts) = g.timestamp_text();
        let got = parse_instant(&s, naive);
        if let Some(p) = &parts {
            match oracle::timestamp(p, naive as i64) {
                Expect::Accept(ns) => {
                    accepted += 1;
                    assert_eq!(got, Some(Instant(ns)), "{s:?} at {naive} min");
                }
                Expect::Refuse => {
                    refused += 1;
                    assert_eq!(got, None, "{s:?} must be refused");
                }
                Expect::Either => {}
            }
        } else if oracle::has_non_ascii(&s) {
            assert_eq!(got, None, "{s:?} holds non-ASCII text and must be refused");
        }
        if crate::rules::datetime::is_zero_date(s.trim()) {
            assert_eq!(got, None, "{s:?}");
        }
        if let Some(t) = got {
            // A cursor is stored as RFC 3339 UTC and filter values as account-local text: both
            // must read back to the same instant.
            assert_eq!(
                parse_instant(&t.to_rfc3339(), 0),
                Some(t),
                "{s:?} stored as {}",
                t.to_rfc3339()
            );
            // Filter values have whole seconds: the instant floored to its second.
            let floored = Instant(t.0.div_euclid(1_000_000_000) * 1_000_000_000);
            assert_eq!(
                parse_instant(&t.to_naive_at(naive), naive),
                Some(floored),
                "{s:?}"
            );
        }
    }
    assert!(
        accepted > cases() / 3 && refused > super::gen::share(100),
        "accepted {accepted} refused {refused}"
    );
}

#[test]
fn http_date_field() {
    let (mut g, _seed) = start("http_date_field");
    let mut accepted = 0;
    for _ in 0..cases() {
        let (s, parts) = g.http_date_text();
        let got = parse_http_date(&s);
        if let Some(p) = &parts {
            match oracle::timestamp(p, 0) {
                Expect::Accept(ns) => {
                    accepted += 1;
                    assert_eq!(got, Some(Instant(ns)), "{s:?}");
                }
                Expect::Refuse => assert_eq!(got, None, "{s:?} must be refused"),
                Expect::Either => {}
            }
        } else if s.split_whitespace().skip(1).any(|w| !w.is_ascii()) {
            // The weekday is redundant and may be ignored; the date, time and zone may not.
            assert_eq!(got, None, "{s:?} holds non-ASCII text and must be refused");
        }
    }
    // About 28 % of the cases are valid dates to accept: a fifth leaves room for chance at
    // 1,000 cases (make mutants) while still failing a generator that stops making them.
    assert!(accepted > cases() / 5, "accepted {accepted}");
}

#[test]
fn retry_after_field() {
    let (mut g, _seed) = start("retry_after_field");
    assert_eq!(retry_after_ns(None), 1_000_000_000);
    let mut exact = 0;
    for _ in 0..cases() {
        let s = g.retry_after_text();
        let got = retry_after_ns(Some(&s));
        match oracle::delta_seconds_ns(&s) {
            Some(ns) => {
                exact += 1;
                assert_eq!(got, ns, "Retry-After {s:?}");
            }
            // Not delta-seconds (a date, garbage): any wait up to the documented 10 min cap.
            None => assert!(got <= 600 * 1_000_000_000, "Retry-After {s:?} -> {got} ns"),
        }
    }
    assert!(exact > cases() / 5, "exact {exact}");
}
