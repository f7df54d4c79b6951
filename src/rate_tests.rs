//! Native tests of how a read reacts to the account's rate limit (issue 10 items 9 and 10): a
//! 429 the run's own starts explain delays only its own request; one caused by other clients
//! holds every request for `Retry-After`.

use crate::config::Config;
use crate::engine::{read, Client, HttpResponse, Job};
use crate::state::StreamState;
use crate::streams::fixed_streams;
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
