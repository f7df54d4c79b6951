//! The engine's planning rules, through `engine::read` on the scripted transport: the server
//! filter value and the pass start.

use super::{t, SECOND};
use crate::config::Config;
use crate::datetime::parse_instant;
use crate::engine::tests::{Fake, Lines};
use crate::engine::{read, Client, HttpResponse, Job, Transport, NOT_RETRIED};
use crate::request::IdRange;
use crate::state::Resume;
use crate::state::StreamState;
use crate::streams::fixed_streams;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::rc::Rc;

/// A `Date` the scripted server sends with every answer.
const SERVER_DATE: &str = "Fri, 01 Mar 2024 12:00:00 GMT";

/// Runs one incremental `deals` read (cursor `mdate`, server filter `filters[updated_after]`,
/// one short page) and returns the paths requested and the last state written.
fn deals_pass(extra_config: Value, state: StreamState, mdates: &[&str]) -> (Vec<String>, Value) {
    let mut cfg =
        json!({"api_url": "http://127.0.0.1:1", "api_key": "k", "requests_per_second": 5});
    for (k, v) in extra_config.as_object().unwrap() {
        cfg[k] = v.clone();
    }
    let cfg = Config::parse(&cfg.to_string()).unwrap();
    let recs: Vec<Value> = mdates
        .iter()
        .enumerate()
        .map(|(i, d)| json!({"id": (i + 1).to_string(), "mdate": d}))
        .collect();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let log = seen.clone();
    let mut fake = Fake::new(SECOND, move |p: &str| {
        log.borrow_mut().push(p.to_string());
        Ok(HttpResponse {
            status: 200,
            headers: vec![("date".into(), SERVER_DATE.into())],
            body: json!({"deals": recs, "meta": {"total": recs.len().to_string()}})
                .to_string()
                .into_bytes(),
        })
    });
    let job = Job {
        def: fixed_streams()
            .into_iter()
            .find(|d| d.name == "deals")
            .unwrap(),
        incremental: true,
        state,
    };
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let summary = read(&mut client, &cfg, vec![job], &mut sink);
    assert!(summary.streams[0].failure.is_none(), "{:?}", summary);
    let last_state = sink
        .0
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["type"] == "STATE")
        .last()
        .map(|v| v["state"]["stream"]["stream_state"].clone())
        .unwrap();
    let paths = seen.borrow().clone();
    (paths, last_state)
}

/// The `filters[updated_after]` value of a requested path, decoded.
fn updated_after(path: &str) -> Option<String> {
    let q = path.split_once('?')?.1;
    q.split('&').find_map(|kv| {
        kv.strip_prefix("filters%5Bupdated_after%5D=")
            .map(|v| v.replace("%3A", ":").replace("%2B", "+"))
    })
}

/// The server filter starts one day before the cursor less the lookback window, so a server that
/// reads the value in another zone still returns everything; the cursor does the exact cut.
#[test]
fn the_server_filter_overlaps_by_the_lookback_and_one_day() {
    let state = StreamState {
        cursor: Some(t("2024-03-01T00:00:00Z")),
        ..Default::default()
    };
    let (paths, _) = deals_pass(json!({}), state.clone(), &["2024-03-01T01:00:00Z"]);
    assert_eq!(paths.len(), 1, "{paths:?}");
    assert_eq!(
        updated_after(&paths[0]).as_deref(),
        Some("2024-02-29T00:00:00Z"),
        "{}",
        paths[0]
    );
    let (paths, _) = deals_pass(
        json!({"lookback_window_seconds": 7200}),
        state,
        &["2024-03-01T01:00:00Z"],
    );
    assert_eq!(
        updated_after(&paths[0]).as_deref(),
        Some("2024-02-28T22:00:00Z"),
        "{}",
        paths[0]
    );
    // Without a cursor, start_date (less the day) is the server filter.
    let (paths, _) = deals_pass(
        json!({"start_date": "2024-02-10T00:00:00Z"}),
        StreamState::default(),
        &["2024-03-01T01:00:00Z"],
    );
    assert_eq!(
        updated_after(&paths[0]).as_deref(),
        Some("2024-02-09T00:00:00Z"),
        "{}",
        paths[0]
    );
    // A full pass (no cursor, no start_date) has no server filter.
    let (paths, _) = deals_pass(json!({}), StreamState::default(), &["2024-03-01T01:00:00Z"]);
    assert_eq!(updated_after(&paths[0]), None, "{}", paths[0]);
}

/// The pass start is the first answer's `Date` less the time since the pass's first request
/// (rounded up to whole seconds) and a further 5 s: with records newer than that, the cursor stops
/// exactly there.
#[test]
fn the_pass_start_takes_off_the_elapsed_time_and_five_seconds() {
    let date = parse_instant("2024-03-01T12:00:00Z", 0).unwrap();
    let (paths, state) = deals_pass(
        json!({}),
        StreamState {
            cursor: Some(t("2024-03-01T00:00:00Z")),
            ..Default::default()
        },
        &["2024-03-01T06:00:00Z", "2024-03-01T13:00:00Z"],
    );
    assert_eq!(paths.len(), 1);
    let cursor = parse_instant(state["cursor"].as_str().unwrap(), 0).unwrap();
    // The scripted answer takes 1 to 3 whole seconds, by path.
    let behind_s = (date.0 - cursor.0) / 1_000_000_000;
    assert_eq!((date.0 - cursor.0) % 1_000_000_000, 0);
    // 5 s margin plus the 1 to 3 s the answer took.
    assert!(
        (6..=8).contains(&behind_s),
        "cursor {} is {behind_s} s before the Date",
        cursor.to_rfc3339()
    );
    assert_eq!(state["cursor_ids"], json!([]));
}

/// A config for the client tests.
fn client_config(extra: Value) -> Config {
    let mut cfg =
        json!({"api_url": "http://127.0.0.1:1", "api_key": "k", "requests_per_second": 5});
    for (k, v) in extra.as_object().unwrap() {
        cfg[k] = v.clone();
    }
    Config::parse(&cfg.to_string()).unwrap()
}

/// An answer with a status and headers.
fn answer(status: u16, headers: &[(&str, &str)]) -> Result<HttpResponse, String> {
    Ok(HttpResponse {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: b"{}".to_vec(),
    })
}

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

/// A transport that counts the most requests in flight at once.
struct Counting {
    inner: Fake,
    most: usize,
}

impl Transport for Counting {
    fn start(&mut self, ticket: u64, path: &str) -> Result<(), String> {
        self.inner.start(ticket, path)?;
        self.most = self.most.max(self.inner.pending.len());
        Ok(())
    }
    fn wait(&mut self, deadline: u64) -> Vec<(u64, Result<HttpResponse, String>)> {
        self.inner.wait(deadline)
    }
    fn now_ns(&mut self) -> u64 {
        self.inner.now_ns()
    }
    fn wall_ms(&mut self) -> u64 {
        self.inner.wall_ms()
    }
}

/// A `tags` list of `n` records (ids 1..=n), offset paging, with its total.
fn tags(n: u64) -> impl FnMut(&str) -> Result<HttpResponse, String> {
    move |p: &str| {
        let off: u64 = p
            .split("offset=")
            .nth(1)
            .and_then(|v| v.split('&').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let recs: Vec<Value> = (off + 1..=n.min(off + 100))
            .map(|i| json!({"id": i.to_string()}))
            .collect();
        Ok(HttpResponse {
            status: 200,
            headers: vec![],
            body: json!({"tags": recs, "meta": {"total": n.to_string()}})
                .to_string()
                .into_bytes(),
        })
    }
}

fn tags_job(state: StreamState) -> Job {
    Job {
        def: fixed_streams()
            .into_iter()
            .find(|d| d.name == "tags")
            .unwrap(),
        incremental: false,
        state,
    }
}

fn ids(lines: &[String], stream: &str) -> Vec<u64> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["type"] == "RECORD" && v["record"]["stream"] == stream)
        .filter_map(|v| v["record"]["data"]["id"].as_str()?.parse().ok())
        .collect()
}

/// At 1 request/s one stream keeps two pages in flight (1.6 × the rate, at least 2); at 5/s, 8.
#[test]
fn pages_in_flight_follow_the_rate() {
    for (rps, lanes) in [(1, 2), (5, 8)] {
        let cfg = client_config(json!({"requests_per_second": rps}));
        let mut t = Counting {
            inner: Fake::new(5 * SECOND, tags(3000)),
            most: 0,
        };
        let mut client = Client::new(&mut t, &cfg);
        let mut sink = Lines::default();
        read(
            &mut client,
            &cfg,
            vec![tags_job(StreamState::default())],
            &mut sink,
        );
        assert_eq!(ids(&sink.0, "tags"), (1..=3000).collect::<Vec<_>>());
        assert_eq!(t.most, lanes, "{rps}/s");
    }
}

/// A full-refresh pass resumes at the saved offset and ends with an empty state.
#[test]
fn an_offset_pass_resumes_where_it_stopped() {
    let cfg = client_config(json!({}));
    let mut fake = Fake::new(1_000_000, tags(250));
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let state = StreamState {
        resume: Some(Resume::Offset(200)),
        ..Default::default()
    };
    read(&mut client, &cfg, vec![tags_job(state)], &mut sink);
    assert_eq!(ids(&sink.0, "tags"), (201..=250).collect::<Vec<_>>());
    assert!(
        fake.starts[0].1.contains("offset=200"),
        "{}",
        fake.starts[0].1
    );
}

/// Keyset resumes: an empty range list starts over; two saved ranges are read as they are,
/// without probing for the newest id again.
#[test]
fn keyset_resumes() {
    let contacts = |p: &str| {
        let q = |k: &str| -> Option<u64> {
            p.split(&format!("{k}="))
                .nth(1)?
                .split('&')
                .next()?
                .parse()
                .ok()
        };
        let (after, below) = (
            q("id_greater").unwrap_or(0),
            q("id_less").unwrap_or(u64::MAX),
        );
        let mut list: Vec<u64> = (1..=450u64)
            .filter(|&i| i > after && i < below)
            .take(100)
            .collect();
        if p.contains("orders%5Bid%5D=DESC") {
            list = vec![450];
        }
        let recs: Vec<Value> = list.iter().map(|i| json!({"id": i.to_string()})).collect();
        Ok(HttpResponse {
            status: 200,
            headers: vec![],
            body: json!({"contacts": recs}).to_string().into_bytes(),
        })
    };
    let job = |resume| Job {
        def: fixed_streams()
            .into_iter()
            .find(|d| d.name == "contacts")
            .unwrap(),
        incremental: false,
        state: StreamState {
            resume: Some(resume),
            ..Default::default()
        },
    };
    let cfg = client_config(json!({}));
    let mut fake = Fake::new(1_000_000, contacts);
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let s = read(
        &mut client,
        &cfg,
        vec![job(Resume::Ranges(vec![]))],
        &mut sink,
    );
    assert!(s.streams[0].failure.is_none(), "{:?}", s.streams);
    let mut got = ids(&sink.0, "contacts");
    got.sort();
    assert_eq!(got, (1..=450).collect::<Vec<_>>());

    let mut fake = Fake::new(1_000_000, contacts);
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let ranges = vec![
        IdRange {
            after: Some("0".into()),
            below: Some("101".into()),
        },
        IdRange {
            after: Some("300".into()),
            below: None,
        },
    ];
    read(
        &mut client,
        &cfg,
        vec![job(Resume::Ranges(ranges))],
        &mut sink,
    );
    let mut got = ids(&sink.0, "contacts");
    got.sort();
    assert_eq!(got, (1..=100).chain(301..=450).collect::<Vec<_>>());
    assert!(
        !fake.starts.iter().any(|(_, p)| p.contains("DESC")),
        "a resumed split pass does not probe again: {:?}",
        fake.starts
    );
}

/// With sideloading off, contact children page their own lists, so an incremental contacts pass
/// keeps its server filter.
#[test]
fn without_sideloading_contacts_keep_their_server_filter() {
    let cfg = client_config(json!({"sideload_contact_children": false}));
    let seen = Rc::new(RefCell::new(Vec::<String>::new()));
    let log = seen.clone();
    let mut fake = Fake::new(1_000_000, move |p: &str| {
        log.borrow_mut().push(p.to_string());
        let key = if p.contains("/contactTags") {
            "contactTags"
        } else {
            "contacts"
        };
        Ok(HttpResponse {
            status: 200,
            headers: vec![],
            body: json!({ key: [] }).to_string().into_bytes(),
        })
    });
    let def = |n: &str| fixed_streams().into_iter().find(|d| d.name == n).unwrap();
    let jobs = vec![
        Job {
            def: def("contacts"),
            incremental: true,
            state: StreamState {
                cursor: Some(t("2024-03-01T00:00:00Z")),
                ..Default::default()
            },
        },
        Job {
            def: def("contact_tags"),
            incremental: false,
            state: StreamState::default(),
        },
    ];
    let mut client = Client::new(&mut fake, &cfg);
    read(&mut client, &cfg, jobs, &mut Lines::default());
    let paths = seen.borrow();
    let contacts = paths.iter().find(|p| p.contains("/contacts?")).unwrap();
    assert!(
        contacts.contains("filters%5Bupdated_after%5D="),
        "{contacts}"
    );
    assert!(!contacts.contains("include="), "{contacts}");
    assert!(
        paths.iter().any(|p| p.contains("/contactTags?")),
        "{paths:?}"
    );
}

/// Progress is logged at most every 5 s per stream: a 20-page read at 1 page/s logs it about 4
/// times, not on every page.
#[test]
fn progress_is_logged_every_five_seconds() {
    let cfg = client_config(json!({"requests_per_second": 1}));
    let mut fake = Fake::new(1_000_000, tags(2000));
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    read(
        &mut client,
        &cfg,
        vec![tags_job(StreamState::default())],
        &mut sink,
    );
    let logs = sink
        .0
        .iter()
        .filter(|l| l.contains("records so far"))
        .count();
    assert!(
        (3..=5).contains(&logs),
        "{logs} progress lines for 20 pages over ~20 s"
    );
}

/// Runs `jobs` against a server whose every list is empty; returns the paths requested.
fn plan_paths(cfg: Value, jobs: Vec<Job>) -> Vec<String> {
    let cfg = client_config(cfg);
    let seen = Rc::new(RefCell::new(Vec::<String>::new()));
    let log = seen.clone();
    let mut fake = Fake::new(1_000_000, move |p: &str| {
        log.borrow_mut().push(p.to_string());
        let body = json!({"contacts": [], "contactTags": [], "deals": [], "fields": [],
            "fieldOptions": [], "fieldRels": [], "records": [], "tags": []});
        Ok(HttpResponse {
            status: 200,
            headers: vec![],
            body: body.to_string().into_bytes(),
        })
    });
    let mut client = Client::new(&mut fake, &cfg);
    let s = read(&mut client, &cfg, jobs, &mut Lines::default());
    assert!(
        s.streams.iter().all(|x| x.failure.is_none()),
        "{:?}",
        s.streams
    );
    let paths = seen.borrow().clone();
    paths
}

fn job_of(name: &str, incremental: bool, state: StreamState) -> Job {
    let def = fixed_streams()
        .into_iter()
        .find(|d| d.name == name)
        .unwrap();
    Job {
        def,
        incremental,
        state,
    }
}

fn with_cursor() -> StreamState {
    StreamState {
        cursor: Some(t("2024-03-01T00:00:00Z")),
        ..Default::default()
    }
}

fn request_for<'a>(paths: &'a [String], path: &str) -> Vec<&'a String> {
    paths
        .iter()
        .filter(|p| p.contains(&format!("/{path}?")))
        .collect()
}

const FILTER: &str = "filters%5Bupdated_after%5D=";

/// Which requests carry the server filter: incremental streams that have one, except contacts
/// while their children ride on the contacts pages (then every stream of that pass is cut on its
/// own cursor); never full-refresh streams.
#[test]
fn the_server_filter_goes_where_it_may() {
    // Contacts alone, sideloading on: nothing rides, so the filter stays.
    let p = plan_paths(json!({}), vec![job_of("contacts", true, with_cursor())]);
    assert!(request_for(&p, "contacts")[0].contains(FILTER), "{p:?}");
    // Contacts with a child: the child rides, contacts go unfiltered; deals keep theirs.
    let p = plan_paths(
        json!({}),
        vec![
            job_of("contacts", true, with_cursor()),
            job_of("contact_tags", true, with_cursor()),
            job_of("deals", true, with_cursor()),
        ],
    );
    let c = request_for(&p, "contacts");
    assert!(
        !c[0].contains(FILTER) && c[0].contains("include=contactTags"),
        "{p:?}"
    );
    assert!(request_for(&p, "contactTags").is_empty(), "{p:?}");
    assert!(request_for(&p, "deals")[0].contains(FILTER), "{p:?}");
    // Full refresh never filters, even with a start_date.
    let p = plan_paths(
        json!({"start_date": "2024-01-01"}),
        vec![job_of("deals", false, StreamState::default())],
    );
    assert!(!request_for(&p, "deals")[0].contains(FILTER), "{p:?}");
}

/// Streams of one list (the `/fields` family) resume together when their states agree, and all
/// start over when they don't.
#[test]
fn a_shared_list_resumes_only_when_all_agree() {
    let at = |o| StreamState {
        resume: Some(Resume::Offset(o)),
        ..Default::default()
    };
    let p = plan_paths(
        json!({}),
        vec![
            job_of("contact_custom_fields", false, at(100)),
            job_of("contact_custom_field_options", false, at(100)),
        ],
    );
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].contains("offset=100"), "{p:?}");
    let p = plan_paths(
        json!({}),
        vec![
            job_of("contact_custom_fields", false, at(100)),
            job_of(
                "contact_custom_field_options",
                false,
                StreamState::default(),
            ),
        ],
    );
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].contains("offset=0"), "{p:?}");
}

/// Lists are shared by path and key together: two custom objects (same key `records`, other
/// paths) are two lists.
#[test]
fn custom_objects_are_separate_lists() {
    let job = |slug, id| Job {
        def: crate::streams::custom_object_stream(slug, id),
        incremental: false,
        state: StreamState::default(),
    };
    let p = plan_paths(json!({}), vec![job("a", "11"), job("b", "22")]);
    assert_eq!(
        request_for(&p, "customObjects/records/11").len(),
        1,
        "{p:?}"
    );
    assert_eq!(
        request_for(&p, "customObjects/records/22").len(),
        1,
        "{p:?}"
    );
}

/// Contact children ride only on a contacts task that resumes from where they do; otherwise, and
/// next to any other stream, they page their own lists.
#[test]
fn children_ride_only_on_a_matching_contacts_task() {
    let p = plan_paths(
        json!({}),
        vec![
            job_of("tags", false, StreamState::default()),
            job_of("contact_tags", false, StreamState::default()),
        ],
    );
    assert_eq!(request_for(&p, "contactTags").len(), 1, "{p:?}");
    let resumed = StreamState {
        resume: Some(Resume::Ranges(vec![IdRange {
            after: Some("5".into()),
            below: None,
        }])),
        ..Default::default()
    };
    let p = plan_paths(
        json!({}),
        vec![
            job_of("contacts", false, resumed),
            job_of("contact_tags", false, StreamState::default()),
        ],
    );
    assert_eq!(request_for(&p, "contactTags").len(), 1, "{p:?}");
    assert!(
        !request_for(&p, "contacts")[0].contains("include="),
        "{p:?}"
    );
}

/// The run keeps at most 4 × the rate requests in flight (at least 2, at most 32), across streams.
#[test]
fn requests_in_flight_are_capped_by_the_rate() {
    for (rps, cap) in [(1, 4), (5, 20)] {
        let cfg = client_config(json!({"requests_per_second": rps}));
        let list = |p: &str| {
            let off: u64 = p
                .split("offset=")
                .nth(1)
                .and_then(|v| v.split('&').next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let recs: Vec<Value> = (off + 1..=1000.min(off + 100))
                .map(|i| json!({"id": i.to_string()}))
                .collect();
            Ok(HttpResponse {
                status: 200,
                headers: vec![],
                body: json!({"records": recs, "meta": {"total": "1000"}})
                    .to_string()
                    .into_bytes(),
            })
        };
        let mut t = Counting {
            inner: Fake::new(10 * SECOND, list),
            most: 0,
        };
        let jobs = (1..=4)
            .map(|i| Job {
                def: crate::streams::custom_object_stream(&format!("o{i}"), &i.to_string()),
                incremental: false,
                state: StreamState::default(),
            })
            .collect();
        let mut client = Client::new(&mut t, &cfg);
        let mut sink = Lines::default();
        let s = read(&mut client, &cfg, jobs, &mut sink);
        assert!(s.streams.iter().all(|x| x.records == 1000), "{s:?}");
        assert_eq!(t.most, cap, "{rps}/s");
    }
}

/// Streams take turns: with the budget as the limit, starts alternate between two long streams
/// instead of one stream taking every slot until it ends.
#[test]
fn streams_take_turns_for_the_budget() {
    let cfg = client_config(json!({"requests_per_second": 2}));
    let list = |p: &str| {
        let off: u64 = p
            .split("offset=")
            .nth(1)
            .and_then(|v| v.split('&').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let recs: Vec<Value> = (off + 1..=2000.min(off + 100))
            .map(|i| json!({"id": i.to_string()}))
            .collect();
        Ok(HttpResponse {
            status: 200,
            headers: vec![],
            body: json!({"records": recs}).to_string().into_bytes(),
        })
    };
    for n in [2, 3] {
        let mut fake = Fake::new(100_000_000, list);
        let jobs = (1..=n)
            .map(|i| Job {
                def: crate::streams::custom_object_stream(&format!("o{i}"), &i.to_string()),
                incremental: false,
                state: StreamState::default(),
            })
            .collect();
        let mut client = Client::new(&mut fake, &cfg);
        read(&mut client, &cfg, jobs, &mut Lines::default());
        let order: Vec<usize> = fake
            .starts
            .iter()
            .take(12)
            .map(|(_, p)| {
                let id = p.split("customObjects/records/").nth(1).unwrap();
                id[..1].parse().unwrap()
            })
            .collect();
        let want: Vec<usize> = (0..12).map(|k| k % n + 1).collect();
        assert_eq!(order, want, "{n} streams");
    }
}

/// A transport whose requests cannot even start: on paths containing `fatal`, with a failure
/// retrying cannot cure; on the first `flaky` start, with one it can.
struct FailingStarts {
    inner: Fake,
    flaky_done: bool,
}

impl Transport for FailingStarts {
    fn start(&mut self, ticket: u64, path: &str) -> Result<(), String> {
        if path.contains("/1?") {
            self.inner.starts.push((self.inner.now, path.to_string()));
            return Err(format!("{NOT_RETRIED}the host name does not resolve"));
        }
        if path.contains("/2?") && !self.flaky_done {
            self.flaky_done = true;
            self.inner.starts.push((self.inner.now, path.to_string()));
            return Err("connection refused".into());
        }
        self.inner.start(ticket, path)
    }
    fn wait(&mut self, deadline: u64) -> Vec<(u64, Result<HttpResponse, String>)> {
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
    let jobs = (1..=3)
        .map(|i| Job {
            def: crate::streams::custom_object_stream(&format!("o{i}"), &i.to_string()),
            incremental: false,
            state: StreamState::default(),
        })
        .collect();
    let mut client = Client::new(&mut t, &cfg);
    let s = read(&mut client, &cfg, jobs, &mut Lines::default());
    let (fatal, flaky, fine) = (&s.streams[0], &s.streams[1], &s.streams[2]);
    let (kind, why) = fatal.failure.clone().unwrap();
    assert_eq!(kind, crate::protocol::FailureType::Config);
    assert!(why.contains("does not resolve"), "{why}");
    assert_eq!(fatal.requests, 1);
    assert!(flaky.failure.is_none(), "{flaky:?}");
    assert_eq!((flaky.records, flaky.requests), (1, 2));
    assert_eq!((fine.records, fine.requests), (1, 1));
    assert_eq!(s.requests, 4);
}

/// A read of custom objects `o1`, `o2`, … (one per answer function, by schema id) with `extra`
/// config; returns the summary, the output lines and the starts (time, path).
fn read_objects(
    extra: Value,
    answers: Vec<Box<dyn FnMut(u64) -> Result<HttpResponse, String>>>,
) -> (crate::engine::ReadSummary, Vec<String>, Vec<(u64, String)>) {
    let cfg = client_config(extra);
    let n = answers.len();
    let answers = Rc::new(RefCell::new(answers));
    let mut fake = Fake::new(1_000_000, move |p: &str| {
        let id: usize = p
            .split("customObjects/records/")
            .nth(1)
            .and_then(|r| r.split('?').next())
            .and_then(|v| v.parse().ok())
            .unwrap();
        let off: u64 = p
            .split("offset=")
            .nth(1)
            .and_then(|v| v.split('&').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        (answers.borrow_mut()[id - 1])(off)
    });
    let jobs = (1..=n)
        .map(|i| Job {
            def: crate::streams::custom_object_stream(&format!("o{i}"), &i.to_string()),
            incremental: false,
            state: StreamState::default(),
        })
        .collect();
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let s = read(&mut client, &cfg, jobs, &mut sink);
    (s, sink.0, fake.starts)
}

fn page(first: u64, last: u64) -> Result<HttpResponse, String> {
    let recs: Vec<Value> = (first..=last)
        .map(|i| json!({"id": i.to_string()}))
        .collect();
    Ok(HttpResponse {
        status: 200,
        headers: vec![],
        body: json!({"records": recs}).to_string().into_bytes(),
    })
}

/// A page that keeps failing is tried `max_attempts` times, each retry logged with its delay,
/// then its stream fails naming the page; a 429 costs waiting time, up to the budget exactly.
#[test]
fn a_failing_page_in_a_read() {
    let (s, lines, starts) = read_objects(
        json!({"max_attempts": 3}),
        vec![Box::new(|_| answer(503, &[]))],
    );
    assert_eq!(starts.len(), 3);
    let (kind, why) = s.streams[0].failure.clone().unwrap();
    assert_eq!(kind, crate::protocol::FailureType::Transient);
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
            vec![Box::new(|_| answer(429, &[("retry-after", "2")]))],
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
                    answer(429, &[("retry-after", "3")])
                } else {
                    page(1, 1)
                }
            }),
            Box::new(|off| {
                if off < 1000 {
                    page(off + 1, off + 100)
                } else {
                    page(1, 0)
                }
            }),
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

/// Failures name where paging stood: the first page, the page after an id, or the newest-id probe.
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
    let run = |answer: Box<dyn FnMut(&str) -> Result<HttpResponse, String>>| {
        let cfg = client_config(json!({}));
        let mut fake = Fake::new(1_000_000, |_: &str| page(1, 0));
        fake.answer = answer;
        let mut client = Client::new(&mut fake, &cfg);
        let s = read(
            &mut client,
            &cfg,
            vec![job_of("contacts", false, StreamState::default())],
            &mut Lines::default(),
        );
        s.streams[0].failure.clone().unwrap().1
    };
    assert!(run(Box::new(contacts(None, false))).starts_with("the first page: not found (404)"));
    assert!(
        run(Box::new(contacts(Some("100"), false))).starts_with("the page after id 100: not found")
    );
    assert!(run(Box::new(contacts(Some("999999"), true)))
        .starts_with("the newest-id request: not found"));
}

/// The summary's times are milliseconds: the run's from its start to its end, a stream's from its
/// first request to its end.
#[test]
fn summary_times_are_milliseconds() {
    let cfg = client_config(json!({"requests_per_second": 1}));
    let mut fake = Fake::new(2 * SECOND, tags(250));
    let mut client = Client::new(&mut fake, &cfg);
    let s = read(
        &mut client,
        &cfg,
        vec![tags_job(StreamState::default())],
        &mut Lines::default(),
    );
    drop(client);
    let end_ms = fake.now / 1_000_000;
    assert!(end_ms > 4_000 && end_ms < 20_000, "{end_ms}");
    assert_eq!(s.millis, end_ms);
    assert_eq!(s.streams[0].millis, end_ms, "the stream started at 0");
}

/// An answer that never came: a failure retrying cannot cure fails the stream at once; another is
/// retried.
#[test]
fn lost_answers_in_a_read() {
    let mut once = true;
    let (s, _, starts) = read_objects(
        json!({}),
        vec![
            Box::new(|_| Err(format!("{NOT_RETRIED}the certificate was refused"))),
            Box::new(move |_| {
                if std::mem::take(&mut once) {
                    Err("connection reset".into())
                } else {
                    page(1, 5)
                }
            }),
        ],
    );
    let (kind, why) = s.streams[0].failure.clone().unwrap();
    assert_eq!(kind, crate::protocol::FailureType::Config);
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
                page(1, 100)
            } else {
                answer(403, &[])
            }
        })],
    );
    let (kind, why) = s.streams[0].failure.clone().unwrap();
    assert_eq!(kind, crate::protocol::FailureType::Config);
    assert!(
        why.contains("the page at offset 100: access denied (403)"),
        "{why}"
    );
    let retried = starts
        .iter()
        .filter(|(_, p)| p.contains("offset=100"))
        .count();
    assert_eq!(retried, 1 + crate::retry::FORBIDDEN_RETRIES as usize);
}

/// A stream's completion line counts its pages.
#[test]
fn completion_counts_pages() {
    let cfg = client_config(json!({}));
    let mut fake = Fake::new(1_000_000, tags(250));
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    read(
        &mut client,
        &cfg,
        vec![tags_job(StreamState::default())],
        &mut sink,
    );
    assert!(
        sink.0
            .iter()
            .any(|l| l.contains("tags: complete, 250 records in 3 pages")),
        "{:?}",
        sink.0
    );
    // One STATE per page: the last page's closes the pass, with nothing after it.
    let states: Vec<&String> = sink
        .0
        .iter()
        .filter(|l| l.contains("\"type\":\"STATE\""))
        .collect();
    assert_eq!(states.len(), 3, "{states:?}");
    assert!(states[2].contains("\"stream_state\":{}"), "{}", states[2]);
}

/// A resumed incremental pass keeps the pass start it saved: the cursor stops there, not at the
/// resumed run's own start.
#[test]
fn a_resumed_pass_keeps_its_saved_start() {
    let saved = t("2024-03-01T10:00:00Z");
    let (_, state) = deals_pass(
        json!({}),
        StreamState {
            cursor: Some(t("2024-03-01T00:00:00Z")),
            resume: Some(Resume::Offset(0)),
            pass_start: Some(saved),
            ..Default::default()
        },
        &["2024-03-01T13:00:00Z"],
    );
    assert_eq!(state["cursor"], json!("2024-03-01T10:00:00Z"), "{state}");
}

/// Without a total, a short page ends an offset list: no request past it.
#[test]
fn a_short_page_without_a_total_ends_the_list() {
    let cfg = client_config(json!({}));
    let mut fake = Fake::new(1_000_000, |p: &str| {
        let off: u64 = p
            .split("offset=")
            .nth(1)
            .and_then(|v| v.split('&').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let recs: Vec<Value> = (off + 1..=150.min(off + 100))
            .map(|i| json!({"id": i.to_string()}))
            .collect();
        Ok(HttpResponse {
            status: 200,
            headers: vec![],
            body: json!({ "tags": recs }).to_string().into_bytes(),
        })
    });
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    read(
        &mut client,
        &cfg,
        vec![tags_job(StreamState::default())],
        &mut sink,
    );
    assert_eq!(ids(&sink.0, "tags"), (1..=150).collect::<Vec<_>>());
    assert_eq!(fake.starts.len(), 2, "{:?}", fake.starts);
}

/// The pass start goes to incremental streams only: a full-refresh stream read from the same
/// pages (contact children riding on contacts) saves none.
#[test]
fn full_refresh_streams_get_no_pass_start() {
    let cfg = client_config(json!({}));
    let mut fake = Fake::new(1_000_000, |p: &str| {
        let after: u64 = p
            .split("id_greater=")
            .nth(1)
            .and_then(|v| v.split('&').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let ids: Vec<u64> = if p.contains("DESC") {
            vec![150]
        } else {
            (after + 1..=150.min(after + 100)).collect()
        };
        let body = json!({
            "contacts": ids.iter().map(|i| json!({"id": i.to_string(), "udate": "2024-03-01T06:00:00Z"})).collect::<Vec<_>>(),
            "contactTags": ids.iter().map(|i| json!({"id": format!("9{i}"), "contact": i.to_string()})).collect::<Vec<_>>(),
        });
        Ok(HttpResponse {
            status: 200,
            headers: vec![("date".into(), SERVER_DATE.into())],
            body: body.to_string().into_bytes(),
        })
    });
    let jobs = vec![
        job_of("contacts", true, StreamState::default()),
        job_of("contact_tags", false, StreamState::default()),
    ];
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    read(&mut client, &cfg, jobs, &mut sink);
    let states: Vec<Value> = sink
        .0
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["type"] == "STATE")
        .collect();
    let of = |name: &str| -> Vec<&Value> {
        states
            .iter()
            .filter(|v| v["state"]["stream"]["stream_descriptor"]["name"] == name)
            .map(|v| &v["state"]["stream"]["stream_state"])
            .collect()
    };
    assert!(
        of("contacts").iter().any(|s| s.get("pass_start").is_some()),
        "{states:?}"
    );
    assert!(of("contact_tags").len() >= 2, "{states:?}");
    assert!(
        of("contact_tags")
            .iter()
            .all(|s| s.get("pass_start").is_none()),
        "{states:?}"
    );
}

/// Contacts added after the newest-id probe (ids above the probe's answer) are still read: the
/// last parallel range is open-ended.
#[test]
fn contacts_added_after_the_probe_are_read() {
    let cfg = client_config(json!({}));
    let mut fake = Fake::new(1_000_000, |p: &str| {
        let q = |k: &str| -> Option<u64> {
            p.split(&format!("{k}="))
                .nth(1)?
                .split('&')
                .next()?
                .parse()
                .ok()
        };
        let (after, below) = (
            q("id_greater").unwrap_or(0),
            q("id_less").unwrap_or(u64::MAX),
        );
        let ids: Vec<u64> = if p.contains("DESC") {
            vec![1000] // the newest when probed; 200 more arrive meanwhile
        } else {
            (1..=1200u64)
                .filter(|&i| i > after && i < below)
                .take(100)
                .collect()
        };
        let recs: Vec<Value> = ids.iter().map(|i| json!({"id": i.to_string()})).collect();
        Ok(HttpResponse {
            status: 200,
            headers: vec![],
            body: json!({ "contacts": recs }).to_string().into_bytes(),
        })
    });
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    read(
        &mut client,
        &cfg,
        vec![job_of("contacts", false, StreamState::default())],
        &mut sink,
    );
    drop(client);
    let mut got = ids(&sink.0, "contacts");
    got.sort();
    assert_eq!(got, (1..=1200).collect::<Vec<_>>());
    assert!(
        fake.starts.iter().any(|(_, p)| p.contains("id_less=")),
        "ranges were used"
    );
}

/// A contacts answer over ids `1..=last` honouring id_greater / id_less (unless `ignore_after`),
/// and a probe answering `probe`.
fn keyset_server(
    last: u64,
    probe: u64,
    ignore_after: bool,
) -> impl FnMut(&str) -> Result<HttpResponse, String> {
    move |p: &str| {
        let q = |k: &str| -> Option<u64> {
            p.split(&format!("{k}="))
                .nth(1)?
                .split('&')
                .next()?
                .parse()
                .ok()
        };
        let after = if ignore_after {
            0
        } else {
            q("id_greater").unwrap_or(0)
        };
        let below = q("id_less").unwrap_or(u64::MAX);
        let ids: Vec<u64> = if p.contains("DESC") {
            vec![probe]
        } else {
            (1..=last)
                .filter(|&i| i > after && i < below)
                .take(100)
                .collect()
        };
        let recs: Vec<Value> = ids.iter().map(|i| json!({"id": i.to_string()})).collect();
        Ok(HttpResponse {
            status: 200,
            headers: vec![],
            body: json!({ "contacts": recs }).to_string().into_bytes(),
        })
    }
}

/// Keyset paging ends on an empty page (an exact multiple of 100) and fails, naming the id, when
/// the server ignores id_greater.
#[test]
fn keyset_paging_ends_and_checks_progress() {
    let cfg = client_config(json!({"requests_per_second": 1}));
    let run = |server: Box<dyn FnMut(&str) -> Result<HttpResponse, String>>| {
        let mut fake = Fake::new(1_000_000, |_: &str| answer(200, &[]));
        fake.answer = server;
        let mut client = Client::new(&mut fake, &cfg);
        let mut sink = Lines::default();
        let s = read(
            &mut client,
            &cfg,
            vec![job_of("contacts", false, StreamState::default())],
            &mut sink,
        );
        (s, ids(&sink.0, "contacts"))
    };
    let (s, mut got) = run(Box::new(keyset_server(200, 200, false)));
    assert!(s.streams[0].failure.is_none(), "{s:?}");
    got.sort();
    assert_eq!(got, (1..=200).collect::<Vec<_>>());
    let (s, _) = run(Box::new(keyset_server(300, 300, true)));
    let (_, why) = s.streams[0].failure.clone().unwrap();
    assert!(
        why.contains("keyset paging did not advance past id Some(\"100\")"),
        "{why}"
    );
}

/// Idle lanes take over half of the widest waiting range: ids packed at the start of a wide id
/// space are read in parallel, not one page per latency, and never more than the lanes at once.
#[test]
fn idle_lanes_steal_work() {
    let cfg = client_config(json!({}));
    let mut t = Counting {
        inner: Fake::new(SECOND, keyset_server(3000, 10_000, false)),
        most: 0,
    };
    let mut client = Client::new(&mut t, &cfg);
    let mut sink = Lines::default();
    let s = read(
        &mut client,
        &cfg,
        vec![job_of("contacts", false, StreamState::default())],
        &mut sink,
    );
    let mut got = ids(&sink.0, "contacts");
    got.sort();
    assert_eq!(got, (1..=3000).collect::<Vec<_>>());
    // Measured: 19.6 s with stealing from the widest range; 21 s stealing from another; 32 s
    // without stealing (each range's pages one latency after another).
    assert!(
        s.millis < 20_000,
        "{} ms, {} requests",
        s.millis,
        s.requests
    );
    assert!(s.requests <= 47, "{} requests", s.requests);
    assert_eq!(t.most, 8, "pages in flight: the lanes at 5/s");
}

/// A sink that keeps the progress texts too.
#[derive(Default)]
struct Progress {
    lines: Vec<String>,
    progress: Vec<String>,
}

impl crate::engine::Sink for Progress {
    fn out(&mut self, line: &str) {
        self.lines.push(line.to_string());
    }
    fn checkpoint(&mut self) {}
    fn progress(&mut self, text: &str) {
        self.progress.push(text.to_string());
    }
}

/// Progress says how far a stream is against the list's total, its request rate and what is
/// left; a stream's RUNNING status comes once, with its first page.
#[test]
fn progress_reports_total_rate_and_what_is_left() {
    let cfg = client_config(json!({"requests_per_second": 1}));
    let mut fake = Fake::new(1_000_000, tags(2000));
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Progress::default();
    read(
        &mut client,
        &cfg,
        vec![tags_job(StreamState::default())],
        &mut sink,
    );
    let logs: Vec<&String> = sink
        .lines
        .iter()
        .filter(|l| l.contains("records so far"))
        .collect();
    assert!(!logs.is_empty());
    assert!(logs.iter().all(|l| l.contains("of about 2000")), "{logs:?}");
    let running = sink
        .lines
        .iter()
        .filter(|l| l.contains("\"RUNNING\""))
        .count();
    assert_eq!(running, 1);
    let during: Vec<&String> = sink
        .progress
        .iter()
        .filter(|p| p.contains(" left (~"))
        .collect();
    assert!(!during.is_empty(), "{:?}", sink.progress);
    for p in &during {
        // "tags: 600 records, 6 pages, 1.2 requests/s, about 1400 left (~12 s)"
        let rate: f64 = p
            .split(" pages, ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        // Requests begun (some still in flight) over the time since the first: about the rate.
        assert!(rate > 0.8 && rate < 1.5, "{p}");
        let records: u64 = p
            .split(": ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(p.contains(&format!("about {} left", 2000 - records)), "{p}");
        let eta: f64 = p
            .split("(~")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let want = (2000 - records) as f64 / 100.0;
        assert!((eta - want).abs() <= want * 0.2 + 1.0, "{p}: want ~{want}");
    }
}

/// While a keyset pass runs, each STATE lists the ranges still to read; the last closes the pass.
#[test]
fn keyset_states_list_the_open_ranges() {
    let cfg = client_config(json!({"requests_per_second": 1}));
    let mut fake = Fake::new(1_000_000, keyset_server(150, 150, false));
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    read(
        &mut client,
        &cfg,
        vec![job_of("contacts", false, StreamState::default())],
        &mut sink,
    );
    let states: Vec<Value> = sink
        .0
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["type"] == "STATE")
        .map(|v| v["state"]["stream"]["stream_state"].clone())
        .collect();
    assert_eq!(
        states[0]["resume"]["ranges"][0]["after"],
        json!("100"),
        "{states:?}"
    );
    assert_eq!(states.last(), Some(&json!({})), "{states:?}");
}

/// A full-refresh pass ends with an empty state, whatever state it started from (a cursor left by
/// an earlier incremental sync is dropped, not carried on).
#[test]
fn a_full_refresh_pass_ends_with_an_empty_state() {
    let cfg = client_config(json!({}));
    let mut fake = Fake::new(1_000_000, tags(50));
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    read(&mut client, &cfg, vec![tags_job(with_cursor())], &mut sink);
    let last = sink
        .0
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["type"] == "STATE")
        .last()
        .unwrap();
    assert_eq!(last["state"]["stream"]["stream_state"], json!({}));
    assert_eq!(ids(&sink.0, "tags").len(), 50);
}
