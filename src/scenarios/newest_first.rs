//! Newest first down to the cursor between sweeps: a list ordered newest first is
//! read until its pages pass the cursor; a server that ignores the order is caught on the first
//! page and the list is read in full instead; a due sweep reads it in full.

use crate::documents::state::Baseline;
use crate::test_support::reads::*;
use crate::test_support::{ok, query};

/// 1,000 email activities, one an hour from 2024-01-01, ordered newest first when asked and
/// `honour` is set (else in id order, as a server that ignores the order); the paths asked.
fn activities(honour: bool, asked: Rc<RefCell<Vec<String>>>) -> Fake {
    Fake::new(1_000_000, move |p: &str| {
        asked.borrow_mut().push(p.to_string());
        let mut all: Vec<u64> = (1..=1000).collect();
        if honour && p.contains("orders%5Btstamp%5D=DESC") {
            all.reverse();
        }
        activity_page(&all, p)
    })
}

/// The page `path` asks for of email activities with these ids (in list order), activity `i`
/// stamped `i` hours after 2024-01-01.
fn activity_page(all: &[u64], path: &str) -> Result<HttpResponse, String> {
    let base = t("2024-01-01T00:00:00Z");
    let off = crate::test_support::offset_of(path) as usize;
    let recs: Vec<Value> = all
        .iter()
        .skip(off)
        .take(100)
        .map(|i| json!({"id": i.to_string(), "tstamp": base.plus_seconds(*i as i64 * 3600).to_rfc3339()}))
        .collect();
    Ok(HttpResponse {
        status: 200,
        headers: vec![],
        body: json!({"emailActivities": recs, "meta": {"total": all.len().to_string()}})
            .to_string()
            .into_bytes(),
    })
}

/// The cursor at activity `at`'s time, and a baseline from `baseline_at` when given.
fn state_at(at: i64, baseline_at: Option<&str>) -> StreamState {
    StreamState {
        cursor: Some(t("2024-01-01T00:00:00Z").plus_seconds(at * 3600)),
        seen: baseline_at.map(|at| Baseline::new(Default::default(), t(at))),
        ..StreamState::default()
    }
}

/// The cursor at activity 970's time, and a baseline from `baseline_at` when given.
fn state(baseline_at: Option<&str>) -> StreamState {
    state_at(970, baseline_at)
}

fn read_activities(honour: bool, sweep: bool) -> (Vec<String>, Vec<u64>) {
    read_activities_from(970, honour, sweep)
}

/// A read of the activities with the cursor at activity `at`'s time: the paths asked and the
/// ids delivered.
fn read_activities_from(at: i64, honour: bool, sweep: bool) -> (Vec<String>, Vec<u64>) {
    let cfg = client_config(json!({}));
    let asked = Rc::new(RefCell::new(vec![]));
    let mut fake = activities(honour, Rc::clone(&asked));
    let mut client = Client::new(&mut fake, &cfg);
    let mut lines = Lines::default();
    // A due sweep: no complete pass on record.
    let baseline = (!sweep).then_some("2024-01-01T00:00:00Z");
    let job = Job {
        deletions: true,
        ..job_of("email_activities", true, state_at(at, baseline))
    };
    let s = read(&mut client, &cfg, vec![job], &mut lines);
    assert!(s.streams[0].failure.is_none());
    let got = ids(&lines.0, "email_activities");
    let paths = asked.borrow().clone();
    if honour && !sweep {
        assert!(
            !lines.decided(|d| matches!(d, Decision::ReadInFullInstead { .. })),
            "no fallback"
        );
    } else if !honour && !sweep {
        assert!(lines.decided(
            |d| matches!(d, Decision::ReadInFullInstead { field, .. } if field == "tstamp")
        ));
    }
    (paths, got)
}

/// What an incremental pass must deliver: activity 969 on (the hour of overlap event-time
/// cursors get), each once.
fn changed() -> Vec<u64> {
    (969..=1000).collect()
}

#[test]
fn newest_first_stops_at_the_cursor() {
    let (paths, mut got) = read_activities(true, false);
    assert!(
        paths.iter().all(|p| p.contains("orders%5Btstamp%5D=DESC")),
        "{paths:?}"
    );
    assert_eq!(
        paths.len(),
        1,
        "a day's margin and 30 new records fit one page: {paths:?}"
    );
    got.sort_unstable();
    assert_eq!(got, changed());
}

/// A first page that ends less than a day past the cursor is not the last: the cut is the cursor
/// less its hour and a day, so the records of the second page past the cursor come too.
#[test]
fn a_page_ending_within_a_day_past_the_cursor_reads_on() {
    // The first page holds activities 1000 down to 901; the cursor is at 890's time.
    let (paths, mut got) = read_activities_from(890, true, false);
    got.sort_unstable();
    got.dedup();
    assert_eq!(got, (889..=1000).collect::<Vec<_>>());
    assert_eq!(paths.len(), 2, "{paths:?}");
}

#[test]
fn a_server_that_ignores_the_order_is_read_in_full_instead() {
    let (paths, mut got) = read_activities(false, false);
    assert!(paths[0].contains("orders%5Btstamp%5D=DESC"));
    assert!(
        paths[1..].iter().all(|p| !p.contains("tstamp")),
        "{paths:?}"
    );
    assert!(paths.len() >= 11, "the whole list: {}", paths.len());
    // The first page, in the server's own order, is the full read's first: not asked again.
    assert!(
        paths[1..]
            .iter()
            .all(|p| crate::test_support::offset_of(p) != 0),
        "{paths:?}"
    );
    let n = got.len();
    got.sort_unstable();
    got.dedup();
    assert_eq!(
        n,
        got.len(),
        "the first page was judged before any record went out"
    );
    assert_eq!(got, changed());
}

#[test]
fn a_due_sweep_reads_the_whole_list() {
    let (paths, mut got) = read_activities(true, true);
    assert!(paths.iter().all(|p| !p.contains("tstamp")), "{paths:?}");
    got.sort_unstable();
    assert_eq!(got, changed());
}

/// A newest-first pass is not complete: it deletes nothing, keeps the baseline and its time, and
/// writes no mid-pass state to resume from.
#[test]
fn a_newest_first_pass_keeps_the_baseline() {
    let cfg = client_config(json!({}));
    let asked = Rc::new(RefCell::new(vec![]));
    let mut fake = activities(true, asked);
    let mut client = Client::new(&mut fake, &cfg);
    let mut lines = Lines::default();
    let mut ids = crate::rules::id_set::IdSet::default();
    ids.insert("5000");
    let mut st = state(None);
    st.seen = Some(Baseline::new(ids, t("2024-02-01T00:00:00Z")));
    let job = Job {
        deletions: true,
        ..job_of("email_activities", true, st.clone())
    };
    read(&mut client, &cfg, vec![job], &mut lines);
    assert!(!lines.0.iter().any(|l| l.contains("_ab_cdc_deleted_at")));
    let states: Vec<Value> = lines
        .0
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["type"] == "STATE")
        .collect();
    assert_eq!(states.len(), 1, "only the final state");
    let last = StreamState::from_value(
        "email_activities",
        &states[0]["state"]["stream"]["stream_state"],
        None,
    )
    .unwrap();
    assert_eq!(last.seen, st.seen);
    assert!(last.cursor > st.cursor && last.resume.is_none());
}

/// Records added at the top while the pass runs push its pages down: the pages still join (the
/// overlap record is found further down), nothing is read as out of order, and every record
/// past the cursor that was there from the start is delivered once.
#[test]
fn records_added_at_the_top_meanwhile_are_not_out_of_order() {
    let base = t("2024-01-01T00:00:00Z");
    let requests = Rc::new(RefCell::new(0u64));
    let seen = Rc::clone(&requests);
    let mut fake = Fake::new(1_000_000, move |p: &str| {
        *seen.borrow_mut() += 1;
        // Five newer records before every request after the first.
        let newest = 1000 + 5 * (*seen.borrow() - 1);
        let all: Vec<u64> = (1..=newest).rev().collect();
        activity_page(&all, p)
    });
    let cfg = client_config(json!({}));
    let mut client = Client::new(&mut fake, &cfg);
    let mut lines = Lines::default();
    let state = StreamState {
        cursor: Some(base.plus_seconds(700 * 3600)),
        ..StreamState::default()
    };
    let job = Job {
        deletions: true,
        ..job_of("email_activities", true, state)
    };
    read(&mut client, &cfg, vec![job], &mut lines);
    assert!(
        !lines.decided(|d| matches!(d, Decision::ReadInFullInstead { .. })),
        "no fallback"
    );
    let mut got = ids(&lines.0, "email_activities");
    let n = got.len();
    got.sort_unstable();
    got.dedup();
    assert_eq!(n, got.len(), "each once");
    for id in 699..=1000u64 {
        assert!(got.contains(&id), "{id} lost");
    }
    assert!(
        *requests.borrow() >= 4,
        "several pages: {}",
        requests.borrow()
    );
}

/// Contact tags newest first by creation do not see a row changed in place; the pass moves only
/// its partial mark, so the next sweep, cut at the cursor, still delivers that row (with the
/// cursor moved, the sweep would have cut it away for good).
#[test]
fn a_partial_pass_leaves_the_cursor_for_the_sweep() {
    let base = t("2024-01-01T00:00:00Z");
    let stamp = move |h: i64| base.plus_seconds(h * 3600).to_rfc3339();
    // 300 tags created an hour apart; tag 10 (old) was changed at hour 400, after the cursor.
    let list = move |p: &str| {
        let mut all: Vec<Value> = (1..=300i64)
            .map(|i| {
                let updated = if i == 10 { 400 } else { i };
                json!({"id": i.to_string(), "cdate": stamp(i), "updated_timestamp": stamp(updated)})
            })
            .collect();
        if p.contains("orders%5Bcdate%5D=DESC") {
            all.reverse();
        }
        let off = crate::test_support::offset_of(p) as usize;
        let recs: Vec<Value> = all.into_iter().skip(off).take(100).collect();
        Ok(HttpResponse {
            status: 200,
            headers: vec![],
            body: json!({"contactTags": recs, "meta": {"total": "300"}})
                .to_string()
                .into_bytes(),
        })
    };
    let cfg = client_config(json!({}));
    let cursor = base.plus_seconds(290 * 3600);
    let read_once = |state: StreamState, sweep: bool| {
        let mut fake = Fake::new(1_000_000, list);
        let mut client = Client::new(&mut fake, &cfg);
        let mut lines = Lines::default();
        let state = if sweep {
            sweep_due(state)
        } else {
            between_sweeps(state)
        };
        let job = Job {
            deletions: true,
            ..job_of("contact_tags", true, state)
        };
        read(&mut client, &cfg, vec![job], &mut lines);
        let v: Value = lines
            .0
            .iter()
            .rev()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|m| m["type"] == "STATE")
            .unwrap();
        let st =
            StreamState::from_value("contact_tags", &v["state"]["stream"]["stream_state"], None)
                .unwrap();
        (ids(&lines.0, "contact_tags"), st)
    };
    let start = StreamState {
        cursor: Some(cursor),
        ..StreamState::default()
    };
    let (mut between, st) = read_once(start, false);
    between.sort_unstable();
    // Tag 290 sits exactly at the cursor with an id not delivered there yet: it comes.
    assert_eq!(
        between,
        (290..=300).collect::<Vec<u64>>(),
        "the new tags, not tag 10"
    );
    assert_eq!(st.cursor, Some(cursor), "the cursor waits for the sweep");
    assert_eq!(st.ahead, Some(base.plus_seconds(300 * 3600)));
    // Between sweeps again: nothing new, nothing delivered twice.
    let (again, st) = read_once(st, false);
    assert!(again.is_empty(), "{again:?}");
    // The sweep reads everything past the cursor: tag 10 too.
    let (swept, st) = read_once(st, true);
    assert!(swept.contains(&10), "{swept:?}");
    assert_eq!(
        (st.ahead, st.cursor),
        (None, Some(base.plus_seconds(400 * 3600)))
    );
}

/// A contacts-and-tags account on a server that ignores every `orders[...]` but honours the
/// change filter: contacts 1..=1000, two tags each; contacts 991..=1000 and their tags changed
/// on 2024-03-02, the rest on 2024-01-01. Returns the handler and its request counter.
fn ignoring_orders() -> (
    impl FnMut(&str) -> Result<HttpResponse, String>,
    Rc<RefCell<u64>>,
) {
    let count = Rc::new(RefCell::new(0u64));
    let counter = Rc::clone(&count);
    // Contact i (and its tags) changed i minutes into its day.
    let when = |i: u64| {
        let day = if i > 990 {
            "2024-03-02T00:00:00Z"
        } else {
            "2024-01-01T00:00:00Z"
        };
        t(day).plus_seconds(i as i64 * 60).to_rfc3339()
    };
    let tag = move |i: u64, k: u64| json!({"id": (i * 2 - 1 + k).to_string(), "contact": i.to_string(), "cdate": when(i), "updated_timestamp": when(i)});
    let handler = move |p: &str| {
        *counter.borrow_mut() += 1;
        if p.contains("/contactTags?") {
            let off = crate::test_support::offset_of(p);
            let recs: Vec<Value> = (off..(off + 100).min(2000))
                .map(|n| tag(n / 2 + 1, n % 2))
                .collect();
            return ok(json!({"contactTags": recs, "meta": {"total": "2000"}}));
        }
        let since = updated_after(p).map(|s| t(&s));
        let all: Vec<u64> = (1..=1000)
            .filter(|&i| since.is_none_or(|s| t(&when(i)) >= s))
            .collect();
        let page = keyset_ids(&all, &p.replace("orders%5Bid%5D=DESC", ""), false, false);
        let recs: Vec<Value> = page
            .iter()
            .map(|i| json!({"id": i.to_string(), "udate": when(*i)}))
            .collect();
        let mut body = json!({"contacts": recs, "meta": {"total": all.len().to_string()}});
        if query(p, "include").is_some_and(|v| v.contains("contactTags")) {
            body["contactTags"] = json!(page
                .iter()
                .flat_map(|&i| [tag(i, 0), tag(i, 1)])
                .collect::<Vec<_>>());
        }
        ok(body)
    };
    (handler, count)
}

/// When the API ignores the newest-first order of contact tags, the sync between sweeps reads
/// them as the sweep does, on a complete pass of the contacts pages, never on their own list
/// (twice as many pages here): it costs the sweep's requests plus what found the order ignored
/// (the tags' first page) and the contacts' filtered page, and every changed tag arrives. Over a
/// whole account the other streams' savings between sweeps pay for that (the end-to-end test
/// and `make bench`'s "orders ignored" rows compare with a full read).
#[test]
fn a_fallback_never_costs_more_than_the_sweep() {
    let state = || {
        between_sweeps(StreamState {
            cursor: Some(t("2024-02-01T00:00:00Z")),
            ..StreamState::default()
        })
    };
    let read_both = |cfg: &Config| {
        let (handler, count) = ignoring_orders();
        let mut fake = Fake::new(1_000_000, handler);
        let mut client = Client::new(&mut fake, cfg);
        let mut lines = Lines::default();
        let jobs = ["contacts", "contact_tags"]
            .map(|name| Job {
                deletions: true,
                ..job_of(name, true, state())
            })
            .to_vec();
        let s = read(&mut client, cfg, jobs, &mut lines);
        assert!(s.streams.iter().all(|s| s.failure.is_none()), "{s:?}");
        let n = *count.borrow();
        (lines, n)
    };
    let (between, between_requests) = read_both(&client_config(json!({})));
    let (_, sweep_requests) = read_both(&client_config(json!({"full_sweep_hours": 0})));
    assert!(between.decided(|d| matches!(
        d,
        Decision::ReadInFullInstead { on: Some(parent), .. } if parent == "contacts"
    )));
    assert!(
        between_requests <= sweep_requests + 2,
        "between sweeps {between_requests}, a sweep {sweep_requests}"
    );
    let mut tags = ids(&between.0, "contact_tags");
    tags.sort_unstable();
    tags.dedup();
    assert_eq!(
        tags,
        (1981..=2000).collect::<Vec<u64>>(),
        "the changed tags, each"
    );
}
