//! The client's rules: the rate budget's pause, waiting for answers, retry bounds and 403 delays.

use super::*;

/// `RateLimit-Remaining: 0` that our own starts don't explain holds the next start for a second.
#[test]
fn an_empty_budget_used_by_others_holds_the_next_request() {
    let cfg = client_config(json!({}));
    let mut fake = Fake::new(10_000_000, |_: &str| {
        answer(
            200,
            &[("ratelimit-remaining", " 0 "), ("ratelimit-limit", "5")],
        )
    });
    let mut client = Client::new(&mut fake, &cfg);
    client.get("tags").unwrap();
    client.get("tags").unwrap();
    drop(client);
    let (first, second) = (fake.starts[0].0, fake.starts[1].0);
    assert!(
        second >= first + SECOND,
        "second start {second} ns, first {first} ns: no pause"
    );
    let mut fake = Fake::new(10_000_000, |_: &str| {
        answer(200, &[("ratelimit-remaining", "3")])
    });
    let mut client = Client::new(&mut fake, &cfg);
    client.get("tags").unwrap();
    client.get("tags").unwrap();
    drop(client);
    assert_eq!(
        fake.starts[1].0 - fake.starts[0].0,
        206_000_000,
        "only the spacing"
    );
}

/// A slow answer is awaited in one wait, not polled.
#[test]
fn a_slow_answer_is_not_polled() {
    let cfg = client_config(json!({}));
    let mut fake = Fake::new(30 * SECOND, |_: &str| answer(200, &[]));
    let mut client = Client::new(&mut fake, &cfg);
    client.get("tags").unwrap();
    drop(client);
    assert_eq!(fake.waits, 1);
}

/// Retries stop at `max_attempts`, however much waiting time is left, and at
/// `max_retry_wait_seconds`, however many attempts are left.
#[test]
fn retries_stop_at_either_bound() {
    let cfg = client_config(json!({"max_attempts": 2, "max_retry_wait_seconds": 86_400}));
    let mut fake = Fake::new(1_000_000, |_: &str| answer(503, &[]));
    let mut client = Client::new(&mut fake, &cfg);
    let e = client.get("tags").unwrap_err();
    assert!(
        e.message.starts_with("gave up after 2 attempts"),
        "{}",
        e.message
    );
    assert_eq!(client.requests(), 2);

    // 429s with Retry-After: 2 s: each costs 2 s of the waiting budget; a wait that reaches the
    // budget exactly is still taken, one that passes it is not.
    for (budget, requests) in [(3, 2), (4, 3), (5, 3)] {
        let cfg = client_config(json!({"max_attempts": 50, "max_retry_wait_seconds": budget}));
        let mut fake = Fake::new(1_000_000, |_: &str| answer(429, &[("retry-after", "2")]));
        let mut client = Client::new(&mut fake, &cfg);
        let e = client.get("tags").unwrap_err();
        assert_eq!(
            client.requests(),
            requests,
            "budget {budget} s: {}",
            e.message
        );
        assert!(e.message.contains("429"), "{}", e.message);
    }
}

/// A 403 on a key that worked is retried after 0.5 s, 1 s, 1.5 s: quickly, since it is either
/// intermittent or real.
#[test]
fn forbidden_retries_wait_half_a_second_more_each_time() {
    let cfg = client_config(json!({}));
    let mut n = 0;
    let mut fake = Fake::new(1_000_000, move |_: &str| {
        n += 1;
        answer(if n == 1 || n == 5 { 200 } else { 403 }, &[])
    });
    let mut client = Client::new(&mut fake, &cfg);
    client.get("tags").unwrap();
    client.get("tags").unwrap();
    drop(client);
    let s: Vec<u64> = fake.starts.iter().map(|(at, _)| *at).collect();
    assert_eq!(s.len(), 5);
    // Same path, so the same latency L each time: gaps are L + 0.5 s, L + 1 s, L + 1.5 s.
    let gaps: Vec<u64> = s.windows(2).skip(1).map(|w| w[1] - w[0]).collect();
    assert_eq!(gaps[1] - gaps[0], SECOND / 2, "{gaps:?}");
    assert_eq!(gaps[2] - gaps[1], SECOND / 2, "{gaps:?}");
    assert!(
        gaps[0] >= SECOND / 2 && gaps[0] < SECOND / 2 + 10_000_000,
        "{gaps:?}"
    );
}

/// A request that never gets an answer fails with the transport's own words, after the retries.
#[test]
fn a_network_failure_is_reported_in_the_transports_words() {
    let cfg = client_config(json!({"max_attempts": 2}));
    let mut fake = Fake::new(1, |_: &str| {
        Err("connection refused by 127.0.0.1:1".to_string())
    });
    let mut client = Client::new(&mut fake, &cfg);
    let e = client.get("users/me").unwrap_err();
    assert!(
        e.message.contains("connection refused by 127.0.0.1:1"),
        "{}",
        e.message
    );
    assert_eq!(
        TransportError::Permanent("no such host".into()).to_string(),
        "no such host"
    );
}

/// A 429 the key check gets from other clients' use holds every start, prefetches too, until its
/// `Retry-After` has passed; a 5xx holds only the request that failed.
#[test]
fn a_429_from_other_clients_holds_prefetches_and_a_5xx_does_not() {
    for (status, held) in [(429, true), (503, false)] {
        let cfg = client_config(json!({}));
        let mut first = true;
        let mut fake = Fake::new(10_000_000, move |p: &str| {
            if p.contains("users/me") && std::mem::take(&mut first) {
                return answer(status, &[("retry-after", "3")]);
            }
            crate::test_support::ok(
                json!({"user": {"id": "1"}, "tags": [], "meta": {"total": "0"}}),
            )
        });
        let mut client = Client::new(&mut fake, &cfg);
        client.prefetch("tags?limit=100");
        client.verify_key().unwrap();
        let answered = 10_000_000;
        let tags_at = fake
            .starts
            .iter()
            .find(|(_, p)| p.contains("tags"))
            .map(|s| s.0);
        // The prefetch begins during the key check's retry wait, or not before the pause ends.
        if held {
            assert!(
                tags_at.is_none_or(|t| t >= answered + 3 * SECOND),
                "{status}: {:?}",
                fake.starts
            );
        } else {
            assert!(
                tags_at.is_some_and(|t| t < answered + SECOND),
                "{status}: {:?}",
                fake.starts
            );
        }
    }
}
