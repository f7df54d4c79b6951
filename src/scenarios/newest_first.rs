//! Newest first down to the cursor between sweeps (issue 20): a list ordered newest first is
//! read until its pages pass the cursor; a server that ignores the order is caught on the first
//! page and the list is read in full instead; a due sweep reads it in full.

use crate::documents::state::Baseline;
use crate::test_support::reads::*;

/// 1,000 email activities, one an hour from 2024-01-01, ordered newest first when asked and
/// `honour` is set (else in id order, as a server that ignores the order); the paths asked.
fn activities(honour: bool, asked: Rc<RefCell<Vec<String>>>) -> Fake {
    let base = t("2024-01-01T00:00:00Z");
    Fake::new(1_000_000, move |p: &str| {
        asked.borrow_mut().push(p.to_string());
        let mut all: Vec<u64> = (1..=1000).collect();
        if honour && p.contains("orders%5Btstamp%5D=DESC") {
            all.reverse();
        }
        let off = crate::test_support::offset_of(p) as usize;
        let recs: Vec<Value> = all
            .iter()
            .skip(off)
            .take(100)
            .map(|i| json!({"id": i.to_string(), "tstamp": base.plus_seconds(*i as i64 * 3600).to_rfc3339()}))
            .collect();
        Ok(HttpResponse {
            status: 200,
            headers: vec![],
            body: json!({"emailActivities": recs, "meta": {"total": "1000"}})
                .to_string()
                .into_bytes(),
        })
    })
}

/// The cursor at activity 970's time, and a baseline from `baseline_at` when given.
fn state(baseline_at: Option<&str>) -> StreamState {
    StreamState {
        cursor: Some(t("2024-01-01T00:00:00Z").plus_seconds(970 * 3600)),
        seen: baseline_at.map(|at| Baseline::new(Default::default(), t(at))),
        ..StreamState::default()
    }
}

fn read_activities(honour: bool, sweep: bool) -> (Vec<String>, Vec<u64>) {
    let cfg = client_config(json!({}));
    let asked = Rc::new(RefCell::new(vec![]));
    let mut fake = activities(honour, Rc::clone(&asked));
    let mut client = Client::new(&mut fake, &cfg);
    let mut lines = Lines::default();
    let job = Job {
        deletions: true,
        sweep,
        ..job_of(
            "email_activities",
            true,
            state(Some("2024-01-01T00:00:00Z")),
        )
    };
    let s = read(&mut client, &cfg, vec![job], &mut lines);
    assert!(s.streams[0].failure.is_none());
    let got = ids(&lines.0, "email_activities");
    let paths = asked.borrow().clone();
    if honour && !sweep {
        assert!(
            !lines.0.iter().any(|l| l.contains("does not order")),
            "no fallback"
        );
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

#[test]
fn a_server_that_ignores_the_order_is_read_in_full_instead() {
    let (paths, mut got) = read_activities(false, false);
    assert!(paths[0].contains("orders%5Btstamp%5D=DESC"));
    assert!(
        paths[1..].iter().all(|p| !p.contains("tstamp")),
        "{paths:?}"
    );
    assert!(paths.len() >= 11, "the whole list: {}", paths.len());
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
        let off = crate::test_support::offset_of(p) as usize;
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
        !lines.0.iter().any(|l| l.contains("does not order")),
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
