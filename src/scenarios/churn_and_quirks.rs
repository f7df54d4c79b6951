//! The engine against servers that behave as the real API may: counts that lie,
//! lists that change during the read, orders ignored, answers without a list, id ranges
//! ignored. Each test checks the exact set of ids delivered.

use crate::engine::{read, Client, HttpResponse};
use crate::test_support::{config, job, ok, query, records, Decision, Fake, Lines};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

/// A list that a test can change while the engine reads it, and what it ever held.
#[derive(Default)]
struct Live {
    ids: Vec<u64>,
    ever: BTreeSet<u64>,
    deleted: BTreeSet<u64>,
    next: u64,
    requests: u64,
}

impl Live {
    fn new(n: u64) -> Rc<RefCell<Live>> {
        Rc::new(RefCell::new(Live {
            ids: (1..=n).collect(),
            ever: (1..=n).collect(),
            next: n + 1,
            ..Live::default()
        }))
    }

    /// Ids that existed from the first request to the last.
    fn throughout(&self, initial: u64) -> BTreeSet<u64> {
        (1..=initial)
            .filter(|i| !self.deleted.contains(i))
            .collect()
    }
}

/// How the fake server misbehaves.
#[derive(Clone, Copy, Default)]
struct Quirks {
    /// `meta.total` sent: None = the truth.
    total: Option<&'static str>,
    /// Before each answer, delete the record at this position (when it exists) and append one.
    churn_at: Option<usize>,
    /// Serve in a stable order that is not by id (and put new records first).
    shuffled: bool,
    /// Answer an empty list as `{}`.
    braces_when_empty: bool,
}

fn offset_server(
    key: &'static str,
    live: Rc<RefCell<Live>>,
    q: Quirks,
) -> impl FnMut(&str) -> Result<HttpResponse, String> {
    move |path: &str| {
        let mut l = live.borrow_mut();
        l.requests += 1;
        if let Some(at) = q.churn_at {
            if at < l.ids.len() {
                let gone = l.ids.remove(at);
                l.deleted.insert(gone);
            }
            let id = l.next;
            l.next += 1;
            l.ever.insert(id);
            if q.shuffled {
                l.ids.insert(0, id);
            } else {
                l.ids.push(id);
            }
        }
        let order: Vec<u64> = if q.shuffled && q.churn_at.is_none() {
            let mut v = l.ids.clone();
            v.sort_by_key(|i| (i * 7919) % 1_009);
            v
        } else {
            l.ids.clone()
        };
        let off: usize = query(path, "offset")
            .and_then(|o| o.parse().ok())
            .unwrap_or(0);
        let page: Vec<Value> = order
            .iter()
            .skip(off)
            .take(100)
            .map(|i| json!({"id": i.to_string(), "udate": "2024-01-01T00:00:00Z"}))
            .collect();
        if page.is_empty() && q.braces_when_empty {
            return ok(json!({}));
        }
        let total = q
            .total
            .map(String::from)
            .unwrap_or_else(|| l.ids.len().to_string());
        ok(json!({key: page, "meta": {"total": total}}))
    }
}

/// Reads one stream; returns the ids delivered (as numbers, in order) and whether it succeeded.
fn read_one(
    name: &str,
    answer: impl FnMut(&str) -> Result<HttpResponse, String> + 'static,
    latency_ns: u64,
    rps: f64,
) -> (Vec<u64>, bool, Lines, u64) {
    let mut fake = Fake::new(latency_ns, answer);
    let cfg = config(rps);
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let s = read(&mut client, &cfg, vec![job(name)], &mut sink);
    let ids = records(&sink.0, name)
        .iter()
        .map(|i| i.parse().unwrap_or(0))
        .collect();
    (ids, s.streams[0].failure.is_none(), sink, s.requests)
}

fn assert_every_record_once(got: &[u64], want: &BTreeSet<u64>, ever: &BTreeSet<u64>) {
    let set: BTreeSet<u64> = got.iter().copied().collect();
    assert_eq!(set.len(), got.len(), "an id delivered twice");
    let lost: Vec<_> = want.difference(&set).collect();
    assert!(lost.is_empty(), "lost {lost:?}");
    let invented: Vec<_> = set.difference(ever).collect();
    assert!(invented.is_empty(), "invented {invented:?}");
}

#[test]
fn a_count_of_zero_stale_or_too_small_does_not_end_the_list() {
    for total in ["0", "150", "99999", "many"] {
        let live = Live::new(450);
        let q = Quirks {
            total: Some(total),
            ..Quirks::default()
        };
        let (got, good, _, requests) = read_one(
            "tags",
            offset_server("tags", live.clone(), q),
            1_000_000,
            5.0,
        );
        assert!(good, "total {total}");
        assert_eq!(got, (1..=450).collect::<Vec<_>>(), "total {total}");
        // Pages at 0, 99, … 396; a count too large costs at most the pages planned ahead on
        // its word (the task's lanes, 8 at 5 requests/s).
        assert!(requests <= 5 + 8, "total {total}: {requests} requests");
    }
}

#[test]
fn parallel_pages_of_a_list_that_changes_during_the_read_lose_nothing() {
    // Before every answer the 3rd record is deleted and one is appended: the count holds
    // still while every page shifts left.
    for rps in [5.0, 50.0] {
        let live = Live::new(1_200);
        let q = Quirks {
            churn_at: Some(2),
            ..Quirks::default()
        };
        let (got, good, sink, requests) = read_one(
            "tags",
            offset_server("tags", live.clone(), q),
            1_000_000_000,
            rps,
        );
        assert!(good);
        let l = live.borrow();
        assert_every_record_once(&got, &l.throughout(1_200), &l.ever);
        assert!(
            sink.0.iter().any(|m| m.contains("does not continue")),
            "the shift was noticed"
        );
        // Every request shifts the list here (pages in flight together see different lists), so
        // many pages are read twice; still pages, not passes (13 pages without changes).
        eprintln!("churn at {rps}/s: {requests} requests for 1,200 records (13 pages still)");
        assert!(requests <= 3 * 13, "{requests} requests");
    }
}

#[test]
fn a_well_behaved_list_is_still_paged_in_parallel() {
    let live = Live::new(2_000);
    let mut fake = Fake::new(
        1_000_000_000,
        offset_server("tags", live.clone(), Quirks::default()),
    );
    let cfg = config(5.0);
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let s = read(&mut client, &cfg, vec![job("tags")], &mut sink);
    assert!(s.streams[0].failure.is_none());
    assert_eq!(records(&sink.0, "tags").len(), 2_000);
    // 21 pages at 5/s with 1–3 s each: about 21 / 5 s plus a few round trips, far below
    // 21 sequential round trips (≥ 21 s).
    assert_eq!(s.requests, 21);
    assert!(s.millis < 11_000, "{} ms", s.millis);
}

#[test]
fn a_server_ignoring_the_order_still_delivers_every_record_once() {
    // A stable order that is not by id…
    let live = Live::new(500);
    let q = Quirks {
        shuffled: true,
        ..Quirks::default()
    };
    let (got, good, sink, _) = read_one("lists", offset_server("lists", live.clone(), q), 1, 5.0);
    assert!(good);
    let l = live.borrow();
    assert_every_record_once(&got, &l.throughout(500), &l.ever);
    assert!(sink.decided(|d| matches!(d, Decision::IdsDoNotRise { .. })));
    drop(l);
    // …and new records landing in front of the read position, with deletes behind it.
    let live = Live::new(700);
    let q = Quirks {
        shuffled: true,
        churn_at: Some(5),
        ..Quirks::default()
    };
    let (got, good, _, _) = read_one(
        "tags",
        offset_server("tags", live.clone(), q),
        300_000_000,
        5.0,
    );
    assert!(good);
    let l = live.borrow();
    assert_every_record_once(&got, &l.throughout(700), &l.ever);
}

#[test]
fn lists_documented_to_sort_by_id_ask_for_it() {
    let live = Live::new(10);
    let mut fake = Fake::new(1, offset_server("lists", live, Quirks::default()));
    let cfg = config(5.0);
    let mut client = Client::new(&mut fake, &cfg);
    read(&mut client, &cfg, vec![job("lists")], &mut Lines::default());
    assert!(fake.starts[0].1.contains("orders%5Bid%5D=ASC"));
}

#[test]
fn an_answer_without_a_list_is_an_empty_page_not_minutes_of_retries() {
    // `{}` past the end of a list, and for a list that is empty.
    for n in [0, 250] {
        let live = Live::new(n);
        let q = Quirks {
            braces_when_empty: true,
            ..Quirks::default()
        };
        let (got, good, sink, requests) =
            read_one("tags", offset_server("tags", live, q), 1_000_000, 5.0);
        assert!(good, "{n}");
        assert_eq!(got, (1..=n).collect::<Vec<_>>());
        assert!(requests <= 6, "{n}: {requests} requests");
        assert!(!sink.0.iter().any(|m| m.contains("retry")), "no backoff");
    }
    for body in [&b""[..], b"{}", br#"{"meta":{"total":"0"}}"#] {
        let body = body.to_vec();
        let (got, good, _, requests) = read_one(
            "tags",
            move |_p: &str| {
                Ok(HttpResponse {
                    status: 200,
                    headers: vec![],
                    body: body.clone(),
                })
            },
            1_000_000,
            5.0,
        );
        assert!(good && got.is_empty());
        assert_eq!(requests, 3, "asked three times, then taken as empty");
    }
}

#[test]
fn a_one_off_empty_answer_in_the_middle_loses_nothing_and_garbage_is_retried() {
    let live = Live::new(450);
    let mut inner = offset_server("tags", live, Quirks::default());
    let mut n = 0;
    let (got, good, sink, _) = read_one(
        "tags",
        move |p: &str| {
            n += 1;
            match n {
                2 => ok(json!({})),
                3 => Ok(HttpResponse {
                    status: 200,
                    headers: vec![],
                    body: b"<html>oops</html>".to_vec(),
                }),
                _ => inner(p),
            }
        },
        1_000_000,
        5.0,
    );
    assert!(good);
    assert_eq!(got, (1..=450).collect::<Vec<_>>());
    assert!(
        sink.0.iter().any(|m| m.contains("HTML")),
        "garbage is retried"
    );
}

/// Contacts with keyset paging over `ids`; `ignore_less` makes the server ignore `id_less`.
fn keyset_server(
    ids: Vec<u64>,
    ignore_less: bool,
) -> impl FnMut(&str) -> Result<HttpResponse, String> {
    move |p: &str| {
        let after: u64 = query(p, "id_greater")
            .and_then(|o| o.parse().ok())
            .unwrap_or(0);
        let below: u64 = query(p, "id_less")
            .filter(|_| !ignore_less)
            .and_then(|o| o.parse().ok())
            .unwrap_or(u64::MAX);
        let limit: usize = query(p, "limit")
            .and_then(|o| o.parse().ok())
            .unwrap_or(100);
        let mut page: Vec<u64> = ids
            .iter()
            .copied()
            .filter(|&i| i > after && i < below)
            .collect();
        if p.contains("orders%5Bid%5D=DESC") {
            page.reverse();
        }
        page.truncate(limit);
        let recs: Vec<Value> = page
            .iter()
            .map(|i| json!({"id": i.to_string(), "udate": "2024-01-01T00:00:00Z"}))
            .collect();
        ok(json!({"contacts": recs, "meta": {"total": ids.len().to_string()}}))
    }
}

#[test]
fn a_server_ignoring_id_less_does_not_multiply_records() {
    // Gaps in the ids (deleted contacts), so ranges do not end on a page's last record.
    let ids: Vec<u64> = (1..=4_000).filter(|i| i % 4 != 0).collect();
    let (got, good, sink, _) = read_one(
        "contacts",
        keyset_server(ids.clone(), true),
        1_000_000_000,
        5.0,
    );
    assert!(good);
    let want: BTreeSet<u64> = ids.iter().copied().collect();
    assert_every_record_once(&got, &want, &want);
    assert!(sink.0.iter().any(|m| m.contains("outside the id range")));
}

/// A server that ignores `orders[id]=ASC` on contacts (a stable order that is not by
/// id; `id_greater` and offsets honoured) makes keyset paging impossible: the stream falls back
/// to offset paging, with one warning, and every contact is delivered; not a failure.
#[test]
fn ids_that_do_not_rise_on_a_keyset_page_fall_back_to_offset_paging() {
    let ids: Vec<u64> = (1..=450).collect();
    let server = move |p: &str| {
        let after: u64 = query(p, "id_greater")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let offset: usize = query(p, "offset").and_then(|v| v.parse().ok()).unwrap_or(0);
        let mut order: Vec<u64> = ids.iter().copied().filter(|&i| i > after).collect();
        order.sort_by_key(|i| (i * 7919) % 1009);
        let page: Vec<Value> = order
            .iter()
            .skip(offset)
            .take(100)
            .map(|i| json!({"id": i.to_string(), "udate": "2024-01-01T00:00:00Z"}))
            .collect();
        ok(json!({"contacts": page, "meta": {"total": order.len().to_string()}}))
    };
    let (got, good, sink, _) = read_one("contacts", server, 1_000_000, 5.0);
    assert!(
        good,
        "{:?}",
        sink.0
            .iter()
            .filter(|l| l.contains("ERROR"))
            .collect::<Vec<_>>()
    );
    let set: BTreeSet<u64> = got.iter().copied().collect();
    assert_eq!(set, (1..=450).collect::<BTreeSet<u64>>());
    let falls: Vec<&Decision> = sink
        .1
        .iter()
        .filter(|d| matches!(d, Decision::OffsetFallback { .. }))
        .collect();
    assert_eq!(falls.len(), 1, "{falls:?}");
    assert!(
        matches!(falls[0], Decision::OffsetFallback { why, .. } if why.contains("do not rise"))
            && falls[0].level() == crate::engine::Level::Warn,
        "{falls:?}"
    );
    assert!(sink.0.iter().any(|m| m.contains("\"COMPLETE\"")));
}

#[test]
fn an_incremental_pass_over_a_changing_list_loses_nothing() {
    let live = Live::new(800);
    let q = Quirks {
        churn_at: Some(1),
        total: Some("0"),
        ..Quirks::default()
    };
    let mut fake = Fake::new(500_000_000, offset_server("dealTasks", live.clone(), q));
    let cfg = config(5.0);
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let mut j = job("tasks");
    j.incremental = true;
    let s = read(&mut client, &cfg, vec![j], &mut sink);
    assert!(s.streams[0].failure.is_none());
    let got: Vec<u64> = records(&sink.0, "tasks")
        .iter()
        .map(|i| i.parse().unwrap_or(0))
        .collect();
    let l = live.borrow();
    assert_every_record_once(&got, &l.throughout(800), &l.ever);
    // The pass closed: the last state has a cursor and no resume point.
    let last: Value = sink
        .0
        .iter()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["type"] == "STATE")
        .unwrap_or_default();
    let st = &last["state"]["stream"]["stream_state"];
    assert!(
        st.get("resume").is_none() && st.get("cursor").is_some(),
        "{st}"
    );
}

#[test]
fn a_resumed_pass_rereads_when_records_were_deleted_between_the_runs() {
    // The first run stops after three pages (the fourth fails for good).
    let live = Live::new(450);
    let mut inner = offset_server("tags", live.clone(), Quirks::default());
    let mut fake = Fake::new(1_000_000, move |p: &str| {
        if query(p, "offset").as_deref() == Some("297") {
            return Ok(HttpResponse {
                status: 500,
                headers: vec![],
                body: b"{}".to_vec(),
            });
        }
        inner(p)
    });
    let cfg = config(5.0);
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let s = read(&mut client, &cfg, vec![job("tags")], &mut sink);
    assert!(s.streams[0].failure.is_some());
    let first: Vec<u64> = records(&sink.0, "tags")
        .iter()
        .map(|i| i.parse().unwrap_or(0))
        .collect();
    assert_eq!(first, (1..=298).collect::<Vec<_>>());
    let state: Value = sink
        .0
        .iter()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["type"] == "STATE")
        .map(|v| v["state"]["stream"]["stream_state"].clone())
        .unwrap_or_default();
    assert_eq!(state["resume"]["offset"], 298);
    // Between the runs, two records before the resume point are deleted.
    live.borrow_mut().ids.retain(|&i| i != 3 && i != 4);
    let mut j = job("tags");
    j.state =
        crate::documents::state::StreamState::from_value("tags", &state, None).unwrap_or_default();
    let mut fake = Fake::new(1_000_000, offset_server("tags", live, Quirks::default()));
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let s = read(&mut client, &cfg, vec![j], &mut sink);
    assert!(s.streams[0].failure.is_none());
    let second: Vec<u64> = records(&sink.0, "tags")
        .iter()
        .map(|i| i.parse().unwrap_or(0))
        .collect();
    assert_eq!(
        second,
        (299..=450).collect::<Vec<_>>(),
        "299 and 300 not skipped"
    );
}

/// A whole read against a server that ignores offsets.
mod whole_reads {

    use crate::engine::*;
    use crate::vocab::failure::FailureType;

    use crate::test_support::{config, job, ok, Fake, Lines};
    use serde_json::json;
    use serde_json::Value;

    #[test]
    fn a_server_ignoring_offsets_is_caught() {
        let mut fake = Fake::new(1, |_p: &str| {
            let recs: Vec<Value> = (1..=100).map(|i| json!({"id": i.to_string()})).collect();
            ok(json!({"tags": recs}))
        });
        let cfg = config(50.0);
        let mut client = Client::new(&mut fake, &cfg);
        let s = read(&mut client, &cfg, vec![job("tags")], &mut Lines::default());
        assert_eq!(s.requests, 2);
        assert_eq!(
            s.streams[0].failure.as_ref().map(|f| f.kind),
            Some(FailureType::System)
        );
    }
}
