//! Failures in a read: requests that cannot start, failing pages, 429s, 403s, lost answers.

use crate::test_support::reads::*;

/// A transport whose requests cannot even start: on paths containing `fatal`, with a failure
/// retrying cannot cure; on the first `flaky` start, with one it can.
struct FailingStarts {
    inner: Fake,
    flaky_done: bool,
}

/// Starts fail by path; everything else is the scripted transport's.
impl Transport for FailingStarts {
    fn start(&mut self, ticket: u64, path: &str) -> Result<(), TransportError> {
        if path.contains("/1?") {
            self.inner.starts.push((self.inner.now, path.to_string()));
            return Err(TransportError::Permanent(
                "the host name does not resolve".into(),
            ));
        }
        if path.contains("/2?") && !self.flaky_done {
            self.flaky_done = true;
            self.inner.starts.push((self.inner.now, path.to_string()));
            return Err("connection refused".into());
        }
        self.inner.start(ticket, path)
    }
    fn wait(&mut self, deadline: u64) -> Vec<(u64, Result<HttpResponse, TransportError>)> {
        self.inner.wait(deadline)
    }
    fn now_ns(&mut self) -> u64 {
        self.inner.now_ns()
    }
    fn wall_ms(&mut self) -> u64 {
        self.inner.wall_ms()
    }
}

/// A request that cannot start fails its stream at once when retrying cannot help (a config
/// error, one attempt), is retried when it can, and the other streams go on; each stream's
/// summary counts its own requests.
#[test]
fn requests_that_cannot_start() {
    let cfg = client_config(json!({}));
    let mut t = FailingStarts {
        inner: Fake::new(1_000_000, |_: &str| {
            Ok(HttpResponse {
                status: 200,
                headers: vec![],
                body: json!({"records": [{"id": "1"}]}).to_string().into_bytes(),
            })
        }),
        flaky_done: false,
    };
    let jobs = crate::test_support::reads::custom_object_jobs(3);
    let mut client = Client::new(&mut t, &cfg);
    let s = read(&mut client, &cfg, jobs, &mut Lines::default());
    let (fatal, flaky, fine) = (&s.streams[0], &s.streams[1], &s.streams[2]);
    let crate::vocab::failure::Failure { kind, message: why } = fatal.failure.clone().unwrap();
    assert_eq!(kind, crate::vocab::failure::FailureType::Config);
    assert!(why.contains("does not resolve"), "{why}");
    assert_eq!(fatal.requests, 1);
    assert!(flaky.failure.is_none(), "{flaky:?}");
    assert_eq!((flaky.records, flaky.requests), (1, 2));
    assert_eq!((fine.records, fine.requests), (1, 1));
    assert_eq!(s.requests, 4);
}

/// A page that keeps failing is tried `max_attempts` times, each retry logged with its delay,
/// then its stream fails naming the page; a 429 costs waiting time, up to the budget exactly.
#[test]
fn a_failing_page_in_a_read() {
    let (s, lines, starts) = read_objects(
        json!({"max_attempts": 3}),
        vec![Box::new(|_| answer(503, &[]).map_err(Into::into))],
    );
    assert_eq!(starts.len(), 3);
    let crate::vocab::failure::Failure { kind, message: why } =
        s.streams[0].failure.clone().unwrap();
    assert_eq!(kind, crate::vocab::failure::FailureType::Transient);
    assert!(
        why.starts_with(
            "gave up on the page at offset 0 after 3 attempts; last failure: server error (503)"
        ),
        "{why}"
    );
    let warns: Vec<&String> = lines.iter().filter(|l| l.contains("retry ")).collect();
    assert_eq!(warns.len(), 2, "{warns:?}");
    assert!(
        warns[0].contains("the page at offset 0 failed (server error (503)); retry 1 in "),
        "{}",
        warns[0]
    );
    // The logged delay is the one waited.
    let ms: u64 = warns[0]
        .split("retry 1 in ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let gap = (starts[1].0 - starts[0].0) / 1_000_000;
    assert!(
        gap >= ms && gap <= ms + 10,
        "logged {ms} ms, waited {gap} ms"
    );

    for (budget, tries) in [(3, 2), (4, 3)] {
        let (s, _, starts) = read_objects(
            json!({"max_retry_wait_seconds": budget, "max_attempts": 50}),
            vec![Box::new(|_| {
                answer(429, &[("retry-after", "2")]).map_err(Into::into)
            })],
        );
        assert_eq!(starts.len(), tries, "budget {budget} s");
        assert!(s.streams[0].failure.is_some());
    }
}

/// A 429 holds every stream's starts for its Retry-After, not only its own.
#[test]
fn a_429_holds_every_stream() {
    let mut first = true;
    let (s, _, starts) = read_objects(
        json!({}),
        vec![
            Box::new(move |_| {
                if std::mem::take(&mut first) {
                    answer(429, &[("retry-after", "3")]).map_err(Into::into)
                } else {
                    page(1, 1).map_err(Into::into)
                }
            }),
            Box::new(|off| page(off + 1, (off + 100).min(1000)).map_err(Into::into)),
        ],
    );
    assert!(s.streams.iter().all(|x| x.failure.is_none()), "{s:?}");
    // The 429 came back about 1-3 ms after the first start; then nothing starts for 3 s.
    let t429 = starts[0].0;
    let quiet: Vec<&(u64, String)> = starts
        .iter()
        .filter(|(at, _)| *at > t429 + 10_000_000 && *at < t429 + 3 * SECOND)
        .collect();
    assert!(quiet.is_empty(), "{quiet:?}");
    assert!(starts.len() > 3);
}

/// Failures name where paging stood: the first page, the page after an id, or the top page.
#[test]
fn failures_name_the_page() {
    let contacts = |fail_after: Option<&'static str>, fail_newest: bool| {
        move |p: &str| {
            if fail_newest && p.contains("DESC") {
                return answer(404, &[]);
            }
            let after = p
                .split("id_greater=")
                .nth(1)
                .and_then(|v| v.split('&').next());
            if after == fail_after && !p.contains("DESC") {
                return answer(404, &[]);
            }
            let from: u64 = after.and_then(|v| v.parse().ok()).unwrap_or(0);
            let recs: Vec<Value> = (from + 1..=from + 100)
                .map(|i| json!({"id": i.to_string()}))
                .collect();
            Ok(HttpResponse {
                status: 200,
                headers: vec![],
                body: json!({"contacts": recs}).to_string().into_bytes(),
            })
        }
    };
    let run = |answer: Answer| {
        let cfg = client_config(json!({}));
        let mut fake = Fake::new(1_000_000, |_: &str| page(1, 0));
        let mut answer = answer;
        fake.answer = Box::new(move |p: &str| answer(p).map_err(Into::into));
        let mut client = Client::new(&mut fake, &cfg);
        let s = read(
            &mut client,
            &cfg,
            vec![job_of("contacts", false, StreamState::default())],
            &mut Lines::default(),
        );
        s.streams[0].failure.clone().unwrap().message
    };
    assert!(run(Box::new(contacts(None, false))).starts_with("the first page: not found (404)"));
    assert!(
        run(Box::new(contacts(Some("100"), false))).starts_with("the page after id 100: not found")
    );
    let why = run(Box::new(contacts(Some("999999"), true)));
    assert!(
        why.starts_with("the top page (newest ids past 100): not found"),
        "{why}"
    );
}

/// An answer that never came: a failure retrying cannot cure fails the stream at once; another is
/// retried.
#[test]
fn lost_answers_in_a_read() {
    let mut once = true;
    let (s, _, starts) = read_objects(
        json!({}),
        vec![
            Box::new(|_| {
                Err(TransportError::Permanent(
                    "the certificate was refused".into(),
                ))
            }),
            Box::new(move |_| {
                if std::mem::take(&mut once) {
                    Err("connection reset".into())
                } else {
                    page(1, 5).map_err(Into::into)
                }
            }),
        ],
    );
    let crate::vocab::failure::Failure { kind, message: why } =
        s.streams[0].failure.clone().unwrap();
    assert_eq!(kind, crate::vocab::failure::FailureType::Config);
    assert!(why.contains("certificate was refused"), "{why}");
    assert_eq!(s.streams[0].requests, 1);
    assert!(s.streams[1].failure.is_none(), "{s:?}");
    assert_eq!((s.streams[1].records, s.streams[1].requests), (5, 2));
    assert_eq!(starts.len(), 3);
}

/// 403s on a key that already worked are retried FORBIDDEN_RETRIES times for that page, then the
/// stream fails as a config error (access really is denied).
#[test]
fn forbidden_pages_in_a_read() {
    let (s, _, starts) = read_objects(
        json!({}),
        vec![Box::new(|off| {
            if off == 0 {
                page(1, 100).map_err(Into::into)
            } else {
                answer(403, &[]).map_err(Into::into)
            }
        })],
    );
    let crate::vocab::failure::Failure { kind, message: why } =
        s.streams[0].failure.clone().unwrap();
    assert_eq!(kind, crate::vocab::failure::FailureType::Config);
    assert!(
        why.contains("access denied (403)") && why.starts_with("the page at offset "),
        "{why}"
    );
    // The second page (at offset 100, or a little before it for overlap) is tried once and
    // retried FORBIDDEN_RETRIES times.
    let retried = starts
        .iter()
        .filter(|(_, p)| !p.contains("offset=0&") && !p.ends_with("offset=0"))
        .count();
    assert_eq!(
        retried,
        1 + crate::http::retry::FORBIDDEN_RETRIES as usize,
        "{starts:?}"
    );
}

/// Whole reads where one stream or request fails.
mod whole_reads {

    use crate::engine::*;
    use crate::vocab::failure::FailureType;

    use crate::test_support::{config, job, ok, Fake, Lines};
    use serde_json::json;

    #[test]
    fn a_failing_stream_is_isolated_and_named() {
        let mut fake = Fake::new(1, |p: &str| {
            if p.contains("/accounts") {
                Ok(HttpResponse {
                    status: 403,
                    headers: vec![],
                    body: br#"{"errors":[{"status":403,"title":"Forbidden"}]}"#.to_vec(),
                })
            } else {
                ok(json!({"tags": [{"id": "1"}], "meta": {"total": "1"}}))
            }
        });
        let cfg = config(50.0);
        let mut client = Client::new(&mut fake, &cfg);
        let mut sink = Lines::default();
        let s = read(
            &mut client,
            &cfg,
            vec![job("accounts"), job("tags")],
            &mut sink,
        );
        let acc = &s.streams[0];
        assert_eq!(acc.name, "accounts");
        assert_eq!(
            acc.failure.as_ref().map(|f| f.kind),
            Some(FailureType::Config)
        );
        assert!(s.streams[1].failure.is_none());
        assert!(sink
            .0
            .iter()
            .any(|l| l.contains("\"ERROR\"") && l.contains("accounts")));
    }

    #[test]
    fn a_host_that_does_not_resolve_fails_at_once() {
        let mut fake = Fake::typed(1, |_p: &str| {
            Err(TransportError::Permanent(
                "the host name does not resolve (DNS error); check 'api_url'".into(),
            ))
        });
        let cfg = config(50.0);
        let mut client = Client::new(&mut fake, &cfg);
        let e = client.get("users/me").unwrap_err();
        assert_eq!(e.kind, FailureType::Config);
        assert!(e.message.contains("does not resolve"));
        assert_eq!(fake.starts.len(), 1, "not retried");
        let mut fake = Fake::new(1, |_p: &str| Err("connection refused".to_string()));
        let mut client = Client::new(&mut fake, &cfg);
        assert!(client.get("users/me").is_err());
        assert!(fake.starts.len() > 1, "refused connections are retried");
    }

    #[test]
    fn a_request_off_the_accounts_api_is_refused_not_sent() {
        let mut fake = Fake::new(1, |_p: &str| ok(json!({"user": {"username": "u"}})));
        let cfg = config(50.0);
        let mut client = Client::new(&mut fake, &cfg);
        let e = client.get("../../evil").unwrap_err();
        assert_eq!(e.kind, FailureType::System);
        assert!(e.message.contains("refused"), "{}", e.message);
        let e = client
            .get("https://evil.example.com/api/3/users/me")
            .unwrap_err();
        assert!(e.message.contains("refused"));
        assert!(fake.starts.is_empty(), "nothing was sent");
    }
}
