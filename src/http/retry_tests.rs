use super::*;

#[test]
fn statuses() {
    assert_eq!(classify(200, b"", None, false, 0), Outcome::Use);
    assert!(
        matches!(classify(429, b"", Some("30"), true, 0), Outcome::Retry { after_ns: Some(n), pause_all: true, .. } if n == 30 * SECOND)
    );
    assert!(matches!(
        classify(503, b"<html>", None, true, 0),
        Outcome::Retry {
            pause_all: false,
            ..
        }
    ));
    assert!(matches!(
        classify(402, b"", None, true, 0),
        Outcome::Fail {
            kind: FailureType::Config,
            ..
        }
    ));
    assert!(
        matches!(classify(422, br#"{"errors":[{"title":"Invalid"}]}"#, None, true, 0), Outcome::Fail { kind: FailureType::Config, why } if why.contains("Invalid"))
    );
    assert!(matches!(
        classify(301, b"", None, true, 0),
        Outcome::Fail {
            kind: FailureType::System,
            ..
        }
    ));
}

#[test]
fn forbidden_is_retried_only_after_the_key_worked() {
    assert!(matches!(
        classify(403, b"", None, false, 0),
        Outcome::Fail {
            kind: FailureType::Config,
            ..
        }
    ));
    assert!(matches!(
        classify(403, b"", None, true, 0),
        Outcome::Retry { .. }
    ));
    assert!(matches!(
        classify(403, b"", None, true, FORBIDDEN_RETRIES),
        Outcome::Fail { .. }
    ));
}

#[test]
fn retry_after_parsing() {
    assert_eq!(retry_after_ns(None), SECOND);
    assert_eq!(retry_after_ns(Some("2")), 2 * SECOND);
    assert_eq!(
        retry_after_ns(Some("Wed, 21 Oct 2015 07:28:00 GMT")),
        SECOND
    );
    assert_eq!(retry_after_ns(Some("99999")), 600 * SECOND);
    assert_eq!(retry_after_ns(Some("-3")), SECOND);
}

#[test]
fn backoff_grows_and_is_bounded() {
    let mut r = 1;
    let a = backoff_ns(1, next_random(&mut r));
    assert!((750_000_000..=1_250_000_000).contains(&a));
    let b = backoff_ns(4, next_random(&mut r));
    assert!((6 * SECOND..=10 * SECOND).contains(&b));
    assert!(backoff_ns(50, u64::MAX) <= 75 * SECOND);
}

/// Retry classes and timing: every status class, the exact backoff and jitter, Retry-After bounds.
mod boundaries {
    use crate::http::retry::{
        backoff_ns, classify, next_random, retry_after_ns, Outcome, FORBIDDEN_RETRIES,
    };
    use crate::test_support::SECOND;
    use crate::vocab::failure::FailureType;

    /// Whether the outcome is a plain retry (backoff, this request only).
    fn is_retry(v: &Outcome) -> bool {
        matches!(
            v,
            Outcome::Retry {
                after_ns: None,
                pause_all: false,
                ..
            }
        )
    }

    /// Whether the outcome fails with this class and a message containing `text`.
    fn fails_with(v: &Outcome, kind: FailureType, text: &str) -> bool {
        matches!(v, Outcome::Fail { kind: k, why } if *k == kind && why.contains(text))
    }

    /// Each status lands in its class; the message carries the status and the API's own words.
    #[test]
    fn every_status_class() {
        for s in [200, 201, 299] {
            assert_eq!(classify(s, b"", None, false, 0), Outcome::Use, "{s}");
        }
        for s in [408, 500, 502, 599] {
            let v = classify(s, br#"{"message":"busy"}"#, None, true, 0);
            assert!(is_retry(&v), "{s}: {v:?}");
            assert!(
                matches!(&v, Outcome::Retry { why, .. } if why.contains(&s.to_string()) && why.contains("\"busy\""))
            );
        }
        let v = classify(429, br#"{"message":"slow down"}"#, None, false, 0);
        assert!(
            matches!(&v, Outcome::Retry { after_ns: Some(n), pause_all: true, why } if *n == SECOND && why.contains("429") && why.contains("slow down"))
        );
        assert!(fails_with(
            &classify(401, b"", None, true, 0),
            FailureType::Config,
            "(401)"
        ));
        assert!(fails_with(
            &classify(403, b"", None, false, 0),
            FailureType::Config,
            "'api_key'"
        ));
        assert!(fails_with(
            &classify(404, b"", None, true, 0),
            FailureType::Config,
            "'api_url'"
        ));
        assert!(fails_with(
            &classify(402, b"", None, true, 0),
            FailureType::Config,
            "payment"
        ));
        assert!(fails_with(
            &classify(422, b"", None, true, 0),
            FailureType::Config,
            "(422)"
        ));
        for s in [300, 301, 399] {
            assert!(
                fails_with(
                    &classify(s, b"", None, true, 0),
                    FailureType::System,
                    "redirect"
                ),
                "{s}"
            );
        }
        for s in [100, 400, 405, 600] {
            assert!(
                fails_with(
                    &classify(s, b"", None, true, 0),
                    FailureType::System,
                    "unexpected"
                ),
                "{s}"
            );
        }
    }

    /// A 403 on a key that worked is retried exactly FORBIDDEN_RETRIES times.
    #[test]
    fn forbidden_retries_stop_at_the_limit() {
        assert_eq!(FORBIDDEN_RETRIES, 3);
        for n in 0..FORBIDDEN_RETRIES {
            assert!(is_retry(&classify(403, b"", None, true, n)), "{n}");
        }
        assert!(fails_with(
            &classify(403, b"", None, true, FORBIDDEN_RETRIES),
            FailureType::Config,
            "(403)"
        ));
        assert!(fails_with(
            &classify(401, b"", None, true, 0),
            FailureType::Config,
            "'api_key'"
        ));
    }

    /// Retry-After: seconds (fractions allowed, 0 allowed), at most 10 minutes, 1 s when unusable.
    #[test]
    fn retry_after_bounds() {
        assert_eq!(retry_after_ns(Some("0")), 0);
        assert_eq!(retry_after_ns(Some(" 1.5 ")), 1_500_000_000);
        assert_eq!(retry_after_ns(Some("600")), 600 * SECOND);
        assert_eq!(retry_after_ns(Some("601")), 600 * SECOND);
        assert_eq!(retry_after_ns(Some("NaN")), SECOND);
        assert_eq!(retry_after_ns(Some("inf")), SECOND);
        assert_eq!(retry_after_ns(Some("-0.5")), SECOND);
    }

    /// The backoff doubles from 1 s per attempt up to 60 s, with jitter of exactly -25 %..+25 %.
    #[test]
    fn backoff_is_exact() {
        // random % 501 = 250 is no jitter.
        let none = 250;
        let want = [1, 1, 2, 4, 8, 16, 32, 60, 60];
        for (attempt, secs) in want.iter().enumerate() {
            assert_eq!(
                backoff_ns(attempt as u32, none),
                secs * SECOND,
                "attempt {attempt}"
            );
        }
        assert_eq!(backoff_ns(40, none), 60 * SECOND);
        assert_eq!(backoff_ns(3, 0), 3 * SECOND, "-25 %");
        assert_eq!(backoff_ns(3, 500), 5 * SECOND, "+25 %");
        assert_eq!(backoff_ns(3, 501), 3 * SECOND, "wraps: 501 % 501 = 0");
        assert_eq!(backoff_ns(1, 260), 1_010_000_000);
        assert_eq!(backoff_ns(u32::MAX, 500), 75 * SECOND);
    }

    /// The jitter generator is splitmix64 (its published first outputs for seed 0).
    #[test]
    fn jitter_generator_is_splitmix64() {
        let mut s = 0u64;
        assert_eq!(next_random(&mut s), 0xE220_A839_7B1D_CDAF);
        assert_eq!(next_random(&mut s), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(next_random(&mut s), 0x06C4_5D18_8009_454F);
        assert_eq!(s, 3u64.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    }
}

/// The one retry policy, as both the client and the page slots use it.
mod policy {
    use crate::http::retry::{Again, NextTry, RetryBudget, RetryPolicy, SECOND};
    use crate::vocab::failure::FailureType;

    fn delay(n: &NextTry) -> u64 {
        match n {
            NextTry::After { delay_ns, .. } => *delay_ns,
            NextTry::GiveUp(f) => panic!("gave up: {}", f.message),
        }
    }

    #[test]
    fn a_429_costs_waiting_time_not_an_attempt() {
        let policy = RetryPolicy::new(2, 100);
        let mut budget = RetryBudget::default();
        let again = Again::retry(429, Some(7 * SECOND), true, "rate limited".into());
        for _ in 0..10 {
            let next = policy.after_failure(&mut budget, &again, &mut 1, "p");
            assert_eq!(
                next,
                NextTry::After {
                    delay_ns: 7 * SECOND,
                    pause_all: true
                }
            );
        }
        assert_eq!((budget.attempts, budget.waited_ns), (0, 70 * SECOND));
        // The waiting time is bounded: 70 s waited, 7 more would pass 100 s.
        let mut budget = RetryBudget {
            waited_ns: 94 * SECOND,
            ..budget
        };
        let next = policy.after_failure(&mut budget, &again, &mut 1, "p");
        assert!(matches!(next, NextTry::GiveUp(_)), "{next:?}");
    }

    #[test]
    fn forbidden_retries_wait_half_a_second_more_each_time_then_are_a_config_failure() {
        let policy = RetryPolicy::new(3, 100);
        let mut budget = RetryBudget::default();
        let again = Again::retry(403, None, false, "forbidden".into());
        let a = policy.after_failure(&mut budget, &again, &mut 1, "p");
        let b = policy.after_failure(&mut budget, &again, &mut 1, "p");
        assert_eq!((delay(&a), delay(&b)), (SECOND / 2, SECOND));
        match policy.after_failure(&mut budget, &again, &mut 1, "the page at offset 0") {
            NextTry::GiveUp(f) => {
                assert_eq!(f.kind, FailureType::Config);
                assert_eq!(
                    f.message,
                    "gave up on the page at offset 0 after 3 attempts; last failure: forbidden"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn other_failures_back_off_and_give_up_as_transient_at_max_attempts() {
        let policy = RetryPolicy::new(2, 100);
        let mut budget = RetryBudget::default();
        let again = Again::now("server error (503)".into());
        let first = delay(&policy.after_failure(&mut budget, &again, &mut 1, "p"));
        assert!((750_000_000..=1_250_000_000).contains(&first), "{first}");
        match policy.after_failure(&mut budget, &again, &mut 1, "p") {
            NextTry::GiveUp(f) => assert_eq!(f.kind, FailureType::Transient),
            other => panic!("{other:?}"),
        }
        assert_eq!(budget.attempts, 2);
    }

    #[test]
    fn at_least_one_try_whatever_the_config_says() {
        assert_eq!(RetryPolicy::new(0, 1).max_attempts, 1);
        assert_eq!(RetryPolicy::new(1, 2).max_wait_ns, 2 * SECOND);
    }
}
