//! Paging: pages in flight, turns between streams, resumes, the end of a list, ranges and stealing.

use crate::documents::state::Resume;
use crate::test_support::reads::*;
use crate::vocab::page::IdRange;

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
/// without asking for a top page again.
#[test]
fn keyset_resumes() {
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
        deletions: false,
    };
    let cfg = client_config(json!({}));
    let mut fake = Fake::new(1_000_000, keyset_server(450, false));
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

    let mut fake = Fake::new(1_000_000, keyset_server(450, false));
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
        "a resumed split pass asks for no top page: {:?}",
        fake.starts
    );
}

/// The run keeps at most 4 × the rate requests in flight (at least 2, at most 32), across streams.
#[test]
fn requests_in_flight_are_capped_by_the_rate() {
    for (rps, cap) in [(1, 4), (5, 20)] {
        let cfg = client_config(json!({"requests_per_second": rps}));
        let list = |p: &str| {
            let off: u64 = crate::test_support::offset_of(p);
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
        let jobs = crate::test_support::reads::custom_object_jobs(4);
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
        let off: u64 = crate::test_support::offset_of(p);
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
        let jobs = crate::test_support::reads::custom_object_jobs(n);
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

/// Without a total, a short page ends an offset list: no request past it.
#[test]
fn a_short_page_without_a_total_ends_the_list() {
    let cfg = client_config(json!({}));
    let mut fake = Fake::new(1_000_000, |p: &str| {
        let off: u64 = crate::test_support::offset_of(p);
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

/// A contacts list over ids `1..=n` that grows to `1..=n + later` once the top page (newest
/// first) has been answered; `honour_desc: false` answers it in id order instead.
fn growing_contacts(
    n: u64,
    later: u64,
    honour_desc: bool,
) -> impl FnMut(&str) -> Result<HttpResponse, String> {
    let mut last = n;
    move |p: &str| {
        let q = |k: &str| crate::test_support::query(p, k).and_then(|v| v.parse::<u64>().ok());
        let (after, below) = (
            q("id_greater").unwrap_or(0),
            q("id_less").unwrap_or(u64::MAX),
        );
        let mut ids: Vec<u64> = (1..=last).filter(|&i| i > after && i < below).collect();
        if p.contains("DESC") {
            if honour_desc {
                ids.reverse();
            }
            last = n + later;
        }
        ids.truncate(100);
        let recs: Vec<Value> = ids.iter().map(|i| json!({"id": i.to_string()})).collect();
        Ok(HttpResponse {
            status: 200,
            headers: vec![],
            body: json!({ "contacts": recs }).to_string().into_bytes(),
        })
    }
}

/// A full contacts read costs one request per 100 contacts: after the first page, the top page
/// (newest first) is delivered and bounds the rest, split into ranges that each close on their
/// last full page. Contacts added after the top page are the next sync's (the cursor stays
/// behind the pass start). A server ignoring the order costs one request, and loses nothing.
#[test]
fn the_top_page_bounds_the_rest_of_the_ids() {
    let cfg = client_config(json!({}));
    for honour_desc in [true, false] {
        let mut fake = Fake::new(1_000_000, growing_contacts(1_000, 200, honour_desc));
        let mut client = Client::new(&mut fake, &cfg);
        let mut sink = Lines::default();
        let s = read(
            &mut client,
            &cfg,
            vec![job_of("contacts", false, StreamState::default())],
            &mut sink,
        );
        drop(client);
        assert!(s.streams[0].failure.is_none(), "{s:?}");
        let mut got = ids(&sink.0, "contacts");
        got.sort();
        if honour_desc {
            assert_eq!(got, (1..=1000).collect::<Vec<_>>());
            assert_eq!(fake.starts.len(), 10, "{:?}", fake.starts);
            assert!(
                fake.starts.iter().any(|(_, p)| p.contains("id_less=")),
                "ranges were used"
            );
        } else {
            // Read upwards in one chain after the refused top page, the later contacts too:
            // 11 full pages and the empty one that ends an open chain.
            assert_eq!(got, (1..=1200).collect::<Vec<_>>());
            assert_eq!(fake.starts.len(), 1 + 1 + 12, "{:?}", fake.starts);
            assert!(
                sink.0
                    .iter()
                    .any(|l| l.contains("reading the rest of the ids in one chain")),
                "the refused order is logged"
            );
        }
    }
}

/// A short top page holds every id past the first page, however sparse: the pass ends with it.
#[test]
fn a_short_top_page_ends_the_pass() {
    let cfg = client_config(json!({}));
    let mut fake = Fake::new(
        1_000_000,
        keyset_server_over((1..=100).chain([150, 170]).collect(), false, false),
    );
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
    assert_eq!(got, (1..=100).chain([150, 170]).collect::<Vec<_>>());
    assert_eq!(fake.starts.len(), 2, "{:?}", fake.starts);
}

/// Keyset paging ends on an empty page (an exact multiple of 100) and fails, naming the id, when
/// the server ignores id_greater.
#[test]
fn keyset_paging_ends_and_checks_progress() {
    let cfg = client_config(json!({"requests_per_second": 1}));
    let run = |server: Answer| {
        let mut fake = Fake::new(1_000_000, |_: &str| answer(200, &[]));
        let mut server = server;
        fake.answer = Box::new(move |p: &str| server(p).map_err(Into::into));
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
    let (s, mut got) = run(Box::new(keyset_server(200, false)));
    assert!(s.streams[0].failure.is_none(), "{s:?}");
    got.sort();
    assert_eq!(got, (1..=200).collect::<Vec<_>>());
    let (s, _) = run(Box::new(keyset_server(300, true)));
    let crate::vocab::failure::Failure {
        kind: _,
        message: why,
    } = s.streams[0].failure.clone().unwrap();
    // id_greater ignored: keyset paging falls back to offsets, which this server ignores too.
    assert!(why.contains("seems to ignore paging"), "{why}");
    let (_, lines) = {
        let mut fake = Fake::new(1_000_000, keyset_server(300, true));
        let mut client = Client::new(&mut fake, &cfg);
        let mut sink = Lines::default();
        let s = read(
            &mut client,
            &cfg,
            vec![job_of("contacts", false, StreamState::default())],
            &mut sink,
        );
        (s, sink)
    };
    let warned = lines.decided(|d| {
        matches!(d, Decision::OffsetFallback { why, .. } if why.contains("keyset paging did not advance past id"))
    });
    assert!(warned, "no fallback: {:?}", lines.1);
}

/// Idle lanes take over half of the widest waiting range: ids packed at the start of a wide id
/// space are read in parallel, not one page per latency, and never more than the lanes at once.
#[test]
fn idle_lanes_steal_work() {
    let cfg = client_config(json!({}));
    let mut t = Counting {
        // 3,000 ids packed at the start, and the top page's 100 far above them.
        inner: Fake::new(
            SECOND,
            keyset_server_over((1..=3000).chain(9_901..=10_000).collect(), false, false),
        ),
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
    assert_eq!(got, (1..=3000).chain(9_901..=10_000).collect::<Vec<_>>());
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

/// While a keyset pass runs, each STATE lists the ranges still to read; the last closes the pass.
#[test]
fn keyset_states_list_the_open_ranges() {
    let cfg = client_config(json!({"requests_per_second": 1}));
    let mut fake = Fake::new(1_000_000, keyset_server(150, false));
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
        .rfind(|v| v["type"] == "STATE")
        .unwrap();
    assert_eq!(last["state"]["stream"]["stream_state"], json!({}));
    assert_eq!(ids(&sink.0, "tags").len(), 50);
}

/// Whole reads of offset and keyset lists: ends, parallel pages, id ranges, resumes.
mod whole_reads {

    use crate::documents::state::{Resume, StreamState};
    use crate::engine::*;

    use crate::http::retry::SECOND;
    use crate::test_support::{config, job, ok, query, records, Fake, Lines};
    use crate::vocab::page::IdRange;
    use serde_json::json;
    use serde_json::Value;

    use crate::test_support::reads::{contacts_answer, list};

    #[test]
    fn pages_until_short_page_and_uses_total() {
        let mut fake = Fake::new(300_000_000, list("tags", 250));
        let cfg = config(5.0);
        let mut client = Client::new(&mut fake, &cfg);
        let mut sink = Lines::default();
        let s = read(&mut client, &cfg, vec![job("tags")], &mut sink);
        assert_eq!(s.requests, 3);
        assert_eq!(s.streams[0].records, 250);
        let ids = records(&sink.0, "tags");
        assert_eq!(ids.len(), 250);
        assert_eq!(
            ids.iter().collect::<std::collections::BTreeSet<_>>().len(),
            250
        );
        assert!(s.streams[0].failure.is_none());
    }

    #[test]
    fn a_list_ends_on_a_short_page_not_on_the_count() {
        // Pages at offsets 0, 99, 198 overlap by one record: 198 records end on the second
        // (short) page, 200 need a third.
        for (n, want) in [(198, 2), (200, 3)] {
            let mut fake = Fake::new(1, list("tags", n));
            let cfg = config(5.0);
            let mut client = Client::new(&mut fake, &cfg);
            let mut sink = Lines::default();
            let s = read(&mut client, &cfg, vec![job("tags")], &mut sink);
            assert_eq!(s.requests, want, "{n} records");
            assert_eq!(records(&sink.0, "tags").len() as u64, n);
        }
    }

    #[test]
    fn keyset_paging_and_state_resume() {
        let answer = |p: &str| {
            let after: u64 = query(p, "id_greater")
                .and_then(|o| o.parse().ok())
                .unwrap_or(0);
            let recs: Vec<Value> = (after + 1..=230u64.min(after + 100))
                .map(|i| json!({"id": i.to_string(), "udate": "2024-01-01T00:00:00-05:00"}))
                .collect();
            ok(json!({"contacts": recs, "meta": {"total": "230"}}))
        };
        let mut fake = Fake::new(1, answer);
        let cfg = config(5.0);
        let st = StreamState {
            resume: Some(Resume::Ranges(vec![IdRange {
                after: Some("100".into()),
                below: None,
            }])),
            ..Default::default()
        };
        let mut client = Client::new(&mut fake, &cfg);
        let mut sink = Lines::default();
        let s = read(
            &mut client,
            &cfg,
            vec![Job {
                def: job("contacts").def,
                incremental: true,
                state: st,
                deletions: false,
            }],
            &mut sink,
        );
        assert_eq!(s.streams[0].records, 130);
        assert!(fake.starts[0].1.contains("id_greater=100"));
        let last_state: Value = sink
            .0
            .iter()
            .rev()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v["type"] == "STATE")
            .unwrap();
        assert_eq!(
            last_state["state"]["stream"]["stream_state"]["cursor"],
            "2024-01-01T05:00:00Z"
        );
        assert!(last_state["state"]["stream"]["stream_state"]
            .get("resume")
            .is_none());
    }

    #[test]
    fn a_big_offset_list_is_paged_in_parallel_and_emitted_in_order() {
        let mut fake = Fake::new(1_000_000_000, list("tags", 1_050));
        let cfg = config(5.0);
        let mut client = Client::new(&mut fake, &cfg);
        let mut sink = Lines::default();
        let s = read(&mut client, &cfg, vec![job("tags")], &mut sink);
        assert_eq!(s.requests, 11);
        let ids: Vec<u64> = records(&sink.0, "tags")
            .iter()
            .map(|i| i.parse().unwrap())
            .collect();
        assert_eq!(
            ids,
            (1..=1050).collect::<Vec<u64>>(),
            "every record once, in order"
        );
        // Offsets in the state only move forward.
        let offsets: Vec<u64> = sink
            .0
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter_map(|v| v["state"]["stream"]["stream_state"]["resume"]["offset"].as_u64())
            .collect();
        assert!(offsets.windows(2).all(|w| w[0] < w[1]), "{offsets:?}");
        // 11 requests at 5/s with up to 3 s latency: far less than 11 sequential round trips.
        assert!(s.millis < 10_000, "{}", s.millis);
        let starts: Vec<u64> = fake.starts.iter().map(|s| s.0).collect();
        assert!(crate::http::limiter::max_in_window(&starts, SECOND) <= 5);
    }

    #[test]
    fn contacts_split_into_parallel_id_ranges_and_carry_their_children() {
        // Ids with gaps, denser at the start: every one must arrive exactly once.
        let ids: Vec<u64> = (1..=900)
            .chain((901..=6000).filter(|i| i % 3 == 0))
            .collect();
        let mut fake = Fake::new(1_000_000_000, contacts_answer(ids.clone()));
        let cfg = config(5.0);
        let mut client = Client::new(&mut fake, &cfg);
        let mut sink = Lines::default();
        let s = read(
            &mut client,
            &cfg,
            vec![job("contacts"), job("contact_tags")],
            &mut sink,
        );
        assert!(
            s.streams.iter().all(|x| x.failure.is_none()),
            "{:?}",
            s.streams
        );
        let mut got: Vec<u64> = records(&sink.0, "contacts")
            .iter()
            .map(|i| i.parse().unwrap())
            .collect();
        got.sort();
        assert_eq!(got, ids);
        assert_eq!(
            records(&sink.0, "contact_tags").len(),
            ids.len(),
            "children came with their contacts"
        );
        let pages = (ids.len() as u64).div_ceil(100);
        assert!(
            s.requests <= pages + lanes(&cfg) as u64,
            "{} requests for {pages} pages",
            s.requests
        );
        assert!(
            fake.starts.iter().all(|(_, p)| p.contains("/contacts?")),
            "no separate contactTags requests"
        );
        assert!(
            fake.starts.iter().any(|(_, p)| p.contains("id_less=")),
            "ranges were used"
        );
        // About requests ÷ rate plus a few round trips (first page, probe, uneven ranges), not
        // pages × latency (≈ 52 s here).
        assert!(
            s.millis < (s.requests * 1000 / 5 + 12_000),
            "{} ms for {} requests",
            s.millis,
            s.requests
        );
    }
}

/// A pass resumed with a bounded range and the open-ended one: once the newest id is known, only
/// the open-ended range is split; the bounded range keeps its end, so every contact comes once.
#[test]
fn a_resumed_bounded_range_is_never_split_past_its_end() {
    use crate::documents::state::Resume;
    use crate::vocab::page::IdRange;
    let cfg = client_config(json!({}));
    let mut fake = Fake::new(1_000_000, keyset_server(3000, false));
    let ranges = vec![
        IdRange {
            after: None,
            below: Some("1001".into()),
        },
        IdRange {
            after: Some("1000".into()),
            below: None,
        },
    ];
    let job = Job {
        def: fixed_streams()
            .into_iter()
            .find(|d| d.name == "contacts")
            .unwrap(),
        incremental: false,
        state: StreamState {
            resume: Some(Resume::Ranges(ranges)),
            ..Default::default()
        },
        deletions: false,
    };
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let s = read(&mut client, &cfg, vec![job], &mut sink);
    assert!(s.streams[0].failure.is_none(), "{s:?}");
    let got = ids(&sink.0, "contacts");
    let mut sorted = got.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), got.len(), "some contact came twice");
    assert_eq!(sorted, (1..=3000).collect::<Vec<u64>>());
}
