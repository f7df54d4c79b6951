//! Native tests of how a read reacts to the account's rate limit: a
//! 429 the run's own starts explain delays only its own request; one caused by other clients
//! holds every request for `Retry-After`.

use crate::api::streams::fixed_streams;
use crate::documents::config::Config;
use crate::documents::state::StreamState;
use crate::engine::{read, Client, HttpResponse, Job};
use crate::test_support::{Fake, Lines};
use serde_json::json;

const SECOND: u64 = 1_000_000_000;

/// A 1,050-record `tags` list whose `n`-th request (1-based) is answered with a 429.
fn tags_with_429_at(n: usize) -> impl FnMut(&str) -> Result<HttpResponse, String> {
    let mut calls = 0;
    move |p: &str| {
        calls += 1;
        let limit = vec![("ratelimit-limit".to_string(), "5".to_string())];
        if calls == n {
            let mut h = limit.clone();
            h.push(("retry-after".into(), "1".into()));
            h.push(("ratelimit-remaining".into(), "0".into()));
            return Ok(HttpResponse {
                status: 429,
                headers: h,
                body: br#"{"message":"Too Many Requests"}"#.to_vec(),
            });
        }
        let off: u64 = p
            .split("offset=")
            .nth(1)
            .and_then(|o| o.split('&').next())
            .and_then(|o| o.parse().ok())
            .unwrap_or(0);
        let recs: Vec<_> = (off + 1..=(off + 100).min(1050))
            .map(|i| json!({"id": i.to_string()}))
            .collect();
        Ok(HttpResponse {
            status: 200,
            headers: limit,
            body: json!({"tags": recs, "meta": {"total": "1050"}})
                .to_string()
                .into_bytes(),
        })
    }
}

/// Reads `tags` at `rps`; returns the start times and the records read.
fn run(
    rps: f64,
    answer: impl FnMut(&str) -> Result<HttpResponse, String> + 'static,
) -> (Vec<u64>, u64) {
    let cfg = Config::parse(
        &json!({"api_url": "http://127.0.0.1:1", "api_key": "k", "requests_per_second": rps})
            .to_string(),
    )
    .unwrap();
    let mut fake = Fake::new(1_000_000, answer);
    let job = Job {
        def: fixed_streams()
            .into_iter()
            .find(|d| d.name == "tags")
            .unwrap(),
        incremental: false,
        state: StreamState::default(),
        deletions: false,
    };
    let mut client = Client::new(&mut fake, &cfg);
    let s = read(&mut client, &cfg, vec![job], &mut Lines::default());
    assert!(s.streams[0].failure.is_none(), "{:?}", s.streams[0].failure);
    (
        fake.starts.iter().map(|(t, _)| *t).collect(),
        s.streams[0].records,
    )
}

#[test]
fn a_429_of_our_own_delays_only_its_request() {
    // At the full rate the sixth request is refused: five of ours were in the server's window.
    let (starts, records) = run(5.0, tags_with_429_at(6));
    assert_eq!(records, 1050);
    assert_eq!(starts.len(), 12, "one retry");
    // The next request keeps the spacing; the refused one is asked again after Retry-After.
    let gap = starts[6] - starts[5];
    assert!(gap < SECOND / 2, "the run paused {} ms", gap / 1_000_000);
}

#[test]
fn a_429_from_other_clients_holds_every_request() {
    // At 2 requests a second the run cannot have filled a 5-a-second window: others did. Its
    // spacing alone would give 0.52 s; the hold for Retry-After makes it at least a second.
    let (starts, records) = run(2.0, tags_with_429_at(2));
    assert_eq!(records, 1050);
    let gap = starts[2] - starts[1];
    assert!(gap >= SECOND, "held only {} ms", gap / 1_000_000);
    assert!(starts.windows(2).all(|w| w[1] > w[0]));
}

/// The client's rules: the rate budget's pause, waiting for answers, retry bounds and 403 delays.
mod client_rules {
    use crate::test_support::reads::*;

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
            e.message
                .starts_with("gave up on the request for tags after 2 attempts"),
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
}

/// Whole reads under the rate budget and transient failures.
mod whole_reads {
    use crate::api::streams::fixed_streams;
    use crate::documents::config::Config;
    use crate::documents::state::StreamState;
    use crate::engine::*;
    use crate::vocab::failure::FailureType;

    use crate::http::retry::SECOND;
    use crate::test_support::{config, job, ok, records, Fake, Lines};
    use serde_json::json;

    use crate::test_support::reads::list;

    #[test]
    fn rate_budget_holds_across_parallel_streams() {
        let mut fake = Fake::new(1_000_000_000, |p: &str| {
            let key = p
                .split('/')
                .nth(3)
                .unwrap_or("")
                .split('?')
                .next()
                .unwrap_or("")
                .to_string();
            ok(json!({key: [{"id": "1"}], "meta": {"total": "1"}}))
        });
        let cfg = config(5.0);
        let jobs: Vec<Job> = [
            "tags", "users", "lists", "groups", "goals", "sms", "forms", "scores", "segments",
            "webhooks",
        ]
        .iter()
        .map(|n| job(n))
        .collect();
        let mut client = Client::new(&mut fake, &cfg);
        let s = read(&mut client, &cfg, jobs, &mut Lines::default());
        assert_eq!(s.requests, 10);
        let starts: Vec<u64> = fake.starts.iter().map(|s| s.0).collect();
        assert!(crate::http::limiter::max_in_window(&starts, SECOND) <= 5);
        // Latency overlapped: 10 requests of 1–3 s finish in about 10/5 s + 3 s, not 20 s.
        assert!(s.millis < 5_500, "{}", s.millis);
    }

    #[test]
    fn with_every_lane_busy_the_loop_waits_instead_of_spinning() {
        let mut fake = Fake::new(5_000_000_000, |p: &str| {
            let key = p
                .split('/')
                .nth(3)
                .unwrap_or("")
                .split('?')
                .next()
                .unwrap_or("")
                .to_string();
            ok(json!({key: [{"id": "1"}], "meta": {"total": "1"}}))
        });
        let cfg = config(100.0);
        let jobs: Vec<Job> = fixed_streams()
            .into_iter()
            .filter(|d| d.path != "fields")
            .take(45)
            .map(|d| Job {
                def: d,
                incremental: false,
                state: StreamState::default(),
                deletions: false,
            })
            .collect();
        let mut client = Client::new(&mut fake, &cfg);
        let s = read(&mut client, &cfg, jobs, &mut Lines::default());
        assert!(s.streams.iter().all(|x| x.failure.is_none()));
        assert!(
            fake.waits < 200,
            "{} waits for {} requests",
            fake.waits,
            s.requests
        );
    }

    #[test]
    fn transient_failures_are_retried_and_nothing_is_lost() {
        let mut inner = list("tags", 150);
        let mut n = 0;
        let mut fake = Fake::new(1, move |p: &str| {
            n += 1;
            match n {
                1 => Ok(HttpResponse {
                    status: 503,
                    headers: vec![],
                    body: b"<html>busy</html>".to_vec(),
                }),
                2 => Ok(HttpResponse {
                    status: 200,
                    headers: vec![],
                    body: b"{\"tags\": [".to_vec(),
                }),
                3 => Err("connection reset".into()),
                4 => Ok(HttpResponse {
                    status: 429,
                    headers: vec![("retry-after".into(), "2".into())],
                    body: vec![],
                }),
                _ => inner(p),
            }
        });
        let cfg = config(5.0);
        let mut client = Client::new(&mut fake, &cfg);
        let mut sink = Lines::default();
        let s = read(&mut client, &cfg, vec![job("tags")], &mut sink);
        assert!(s.streams[0].failure.is_none(), "{:?}", s.streams[0].failure);
        assert_eq!(records(&sink.0, "tags").len(), 150);
        assert_eq!(s.requests, 6);
    }

    #[test]
    fn rate_limiting_uses_waiting_time_not_attempts() {
        let mut n = 0;
        let mut fake = Fake::new(1, move |_p: &str| {
            n += 1;
            if n <= 5 {
                Ok(HttpResponse {
                    status: 429,
                    headers: vec![("retry-after".into(), "1".into())],
                    body: vec![],
                })
            } else {
                ok(json!({"tags": [{"id": "1"}], "meta": {"total": "1"}}))
            }
        });
        let cfg = Config::parse(&json!({"api_url": "http://127.0.0.1:1", "api_key": "k", "max_attempts": 2, "max_retry_wait_seconds": 60}).to_string()).unwrap();
        let mut client = Client::new(&mut fake, &cfg);
        let mut sink = Lines::default();
        let s = read(&mut client, &cfg, vec![job("tags")], &mut sink);
        assert!(s.streams[0].failure.is_none(), "{:?}", s.streams[0].failure);
        assert_eq!(records(&sink.0, "tags").len(), 1);
        // …but the wait is bounded.
        let mut fake = Fake::new(1, |_p: &str| {
            Ok(HttpResponse {
                status: 429,
                headers: vec![("retry-after".into(), "30".into())],
                body: vec![],
            })
        });
        let mut client = Client::new(&mut fake, &cfg);
        let s = read(&mut client, &cfg, vec![job("tags")], &mut Lines::default());
        assert_eq!(
            s.streams[0].failure.as_ref().map(|f| f.kind),
            Some(FailureType::Transient)
        );
    }
}
