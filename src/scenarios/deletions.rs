//! Deletions: ids a complete pass no longer sees are deleted, and every doubt (a failed,
//! resumed, empty or guarded pass, a server-filtered one) deletes nothing.

use crate::documents::state::Baseline;
use crate::rules::id_set::IdSet;
use crate::test_support::reads::*;

/// A `tags` list holding `ids` (shared, so a test can change it between reads), offset paging.
fn tag_list(ids: Rc<RefCell<Vec<u64>>>) -> impl FnMut(&str) -> Result<HttpResponse, String> {
    move |p: &str| {
        let off = crate::test_support::offset_of(p) as usize;
        let all = ids.borrow();
        let recs: Vec<Value> = all
            .iter()
            .skip(off)
            .take(100)
            .map(|i| json!({"id": i.to_string(), "tag": format!("t{i}")}))
            .collect();
        Ok(HttpResponse {
            status: 200,
            headers: vec![],
            body: json!({"tags": recs, "meta": {"total": all.len().to_string()}})
                .to_string()
                .into_bytes(),
        })
    }
}

fn tags_with_deletions(state: StreamState) -> Job {
    Job {
        deletions: true,
        ..tags_job(state)
    }
}

/// Reads tags from `state`; the sink, the stream's last state and its summary's deletions.
fn read_tags(
    cfg: &Config,
    ids: &Rc<RefCell<Vec<u64>>>,
    state: StreamState,
) -> (Lines, StreamState, u64) {
    let mut fake = Fake::new(1_000_000, tag_list(Rc::clone(ids)));
    let mut client = Client::new(&mut fake, cfg);
    let mut lines = Lines::default();
    let s = read(
        &mut client,
        cfg,
        vec![tags_with_deletions(state)],
        &mut lines,
    );
    let last = last_state(&lines.0);
    (lines, last, s.streams[0].deleted)
}

fn last_state(lines: &[String]) -> StreamState {
    let v: Value = lines
        .iter()
        .rev()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|m| m["type"] == "STATE")
        .expect("a STATE");
    let st = &v["state"]["stream"]["stream_state"];
    StreamState::from_value("tags", st, None).unwrap()
}

/// The ids of the deletion records, and their position among the lines.
fn deletions(lines: &[String]) -> Vec<(usize, String)> {
    lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let v: Value = serde_json::from_str(l).ok()?;
            let data = &v["record"]["data"];
            data.get("_ab_cdc_deleted_at")?;
            Some((i, data["id"].as_str()?.to_string()))
        })
        .collect()
}

fn baseline_of(state: &StreamState) -> Vec<String> {
    let b = state.seen.as_ref().expect("a baseline");
    b.ids.gone(&IdSet::default()).collect()
}

fn range(a: u64, b: u64) -> Rc<RefCell<Vec<u64>>> {
    Rc::new(RefCell::new((a..=b).collect()))
}

/// The first complete pass keeps its ids and deletes nothing; the next reports exactly the ids
/// gone, as records with the key and `_ab_cdc_deleted_at`, before the stream's final STATE.
#[test]
fn ids_gone_since_the_last_complete_pass_are_deleted() {
    let cfg = client_config(json!({"full_sweep_hours": 0}));
    let ids = range(1, 250);
    let (lines, state, deleted) = read_tags(&cfg, &ids, StreamState::default());
    assert!(deletions(&lines.0).is_empty() && deleted == 0);
    assert_eq!(baseline_of(&state).len(), 250);
    // 3, 120 and 250 deleted; 251 new; 7 deleted and made again with the same id (an update).
    ids.borrow_mut().retain(|i| ![3, 120, 250].contains(i));
    ids.borrow_mut().push(251);
    let (lines, state, deleted) = read_tags(&cfg, &ids, state);
    let gone = deletions(&lines.0);
    let names: Vec<&str> = gone.iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(names, ["3", "120", "250"]);
    assert_eq!(deleted, 3);
    let last_state_line = lines
        .0
        .iter()
        .rposition(|l| l.contains("\"STATE\""))
        .unwrap();
    assert!(gone.iter().all(|(i, _)| *i < last_state_line));
    let at: Value = serde_json::from_str(&lines.0[gone[0].0]).unwrap();
    let when = at["record"]["data"]["_ab_cdc_deleted_at"].as_str().unwrap();
    assert!(
        crate::rules::datetime::parse_instant(when, 0).is_some(),
        "{when}"
    );
    assert_eq!(baseline_of(&state).len(), 248);
    // Nothing changed: nothing more deleted.
    let (lines, _, _) = read_tags(&cfg, &ids, state);
    assert!(deletions(&lines.0).is_empty());
}

/// A stream not asked for deletions (an Airbyte full refresh) keeps no ids and emits none.
#[test]
fn without_deletions_no_ids_are_kept() {
    let cfg = client_config(json!({"full_sweep_hours": 0}));
    let mut fake = Fake::new(1_000_000, tag_list(range(1, 50)));
    let mut client = Client::new(&mut fake, &cfg);
    let mut lines = Lines::default();
    read(
        &mut client,
        &cfg,
        vec![tags_job(StreamState::default())],
        &mut lines,
    );
    assert_eq!(last_state(&lines.0), StreamState::default());
}

/// An empty list where the last pass had rows deletes nothing and says why; the ids are kept.
#[test]
fn an_empty_list_deletes_nothing() {
    let cfg = client_config(json!({"full_sweep_hours": 0}));
    let ids = range(1, 30);
    let (_, state, _) = read_tags(&cfg, &ids, StreamState::default());
    ids.borrow_mut().clear();
    let (lines, state, deleted) = read_tags(&cfg, &ids, state);
    assert!(deletions(&lines.0).is_empty() && deleted == 0);
    assert!(lines.decided(|d| matches!(
        d,
        Decision::DeletionsHeld {
            before: 30,
            why: Held::Empty,
            ..
        }
    )));
    assert_eq!(baseline_of(&state).len(), 30);
}

/// More gone than the guard allows deletes nothing (the ids stay in the baseline); raising the
/// guard then deletes them.
#[test]
fn the_guard_holds_a_mass_deletion_until_confirmed() {
    let cfg = client_config(json!({"full_sweep_hours": 0}));
    let ids = range(1, 100);
    let (_, state, _) = read_tags(&cfg, &ids, StreamState::default());
    ids.borrow_mut().retain(|i| *i > 40);
    let (lines, state, _) = read_tags(&cfg, &ids, state);
    assert!(deletions(&lines.0).is_empty());
    assert!(lines.decided(|d| matches!(
        d,
        Decision::DeletionsHeld {
            gone: 40,
            before: 100,
            why: Held::Guard,
            ..
        }
    )));
    assert_eq!(baseline_of(&state).len(), 100);
    let confirm = client_config(json!({"deletion_guard_share": 1, "full_sweep_hours": 0}));
    let (lines, state, deleted) = read_tags(&confirm, &ids, state);
    assert_eq!(deletions(&lines.0).len(), 40);
    assert_eq!((deleted, baseline_of(&state).len()), (40, 60));
}

/// A pass that fails deletes nothing, and its states keep the last complete pass's ids.
#[test]
fn a_failed_pass_deletes_nothing() {
    let cfg = client_config(json!({"max_attempts": 1, "full_sweep_hours": 0}));
    let ids = range(1, 300);
    let (_, state, _) = read_tags(&cfg, &ids, StreamState::default());
    ids.borrow_mut().retain(|i| i % 2 == 0);
    let inner = Rc::clone(&ids);
    let mut answer = tag_list(inner);
    let mut fake = Fake::new(1_000_000, move |p: &str| {
        if crate::test_support::offset_of(p) >= 99 {
            return Ok(HttpResponse {
                status: 500,
                ..HttpResponse::default()
            });
        }
        answer(p)
    });
    let mut client = Client::new(&mut fake, &cfg);
    let mut lines = Lines::default();
    let s = read(
        &mut client,
        &cfg,
        vec![tags_with_deletions(state)],
        &mut lines,
    );
    assert!(s.streams[0].failure.is_some());
    assert!(deletions(&lines.0).is_empty());
    assert_eq!(baseline_of(&last_state(&lines.0)).len(), 300);
}

/// A pass resumed from a mid-pass state did not see the ids before its resume point: it deletes
/// nothing, and keeps the last complete pass's ids for the next one.
#[test]
fn a_resumed_pass_deletes_nothing() {
    let cfg = client_config(json!({"full_sweep_hours": 0}));
    let ids = range(1, 300);
    let (_, mut state, _) = read_tags(&cfg, &ids, StreamState::default());
    ids.borrow_mut().retain(|i| *i != 5 && *i != 280);
    state.resume = Some(crate::documents::state::Resume::Offset(200));
    let (lines, state, deleted) = read_tags(&cfg, &ids, state);
    assert!(deletions(&lines.0).is_empty() && deleted == 0);
    assert!(lines.decided(|d| matches!(d, Decision::NoDeletionsResumed { .. })));
    assert_eq!(baseline_of(&state).len(), 300);
    // The next complete pass finds both.
    let (lines, _, _) = read_tags(&cfg, &ids, state);
    let names: Vec<String> = deletions(&lines.0).into_iter().map(|(_, id)| id).collect();
    assert_eq!(names, ["5", "280"]);
}

/// A large baseline is restated every few pages, not on every page; the pass's final state
/// always goes out.
#[test]
fn a_large_baseline_is_not_restated_on_every_page() {
    let cfg = client_config(json!({"full_sweep_hours": 0}));
    let mut every_other = IdSet::default();
    for i in 0..50_000u64 {
        every_other.insert(&(i * 2 + 1000).to_string());
    }
    let state = StreamState {
        seen: Some(Baseline::new(every_other, t("2023-01-01T00:00:00Z"))),
        ..StreamState::default()
    };
    let ids = range(1, 1000);
    let (lines, _, _) = read_tags(&cfg, &ids, state);
    let states = lines.0.iter().filter(|l| l.contains("\"STATE\"")).count();
    assert!((2..=4).contains(&states), "{states} states for 10 pages");
}

/// A server-filtered stream finds no deletions on a filtered pass; a due sweep reads it without
/// the filter, completely.
#[test]
fn a_due_sweep_reads_a_filtered_stream_completely() {
    let state = || crate::test_support::reads::with_cursor();
    let contacts = |sweep| Job {
        deletions: true,
        ..job_of(
            "contacts",
            true,
            if sweep {
                sweep_due(state())
            } else {
                between_sweeps(state())
            },
        )
    };
    let cfg = json!({"sideload_contact_children": false});
    let filtered = plan_paths(cfg.clone(), vec![contacts(false)]);
    assert!(filtered[0].contains("updated_after"), "{filtered:?}");
    let swept = plan_paths(cfg, vec![contacts(true)]);
    assert!(!swept[0].contains("updated_after"), "{swept:?}");
}

/// A row born after a sweep, delivered by a sync between sweeps and deleted before the next
/// sweep is deleted at that sweep: the ids delivered since the last complete pass count in what
/// the sweep compares. Rows that still exist are never deleted.
#[test]
fn a_row_born_and_deleted_between_sweeps_is_deleted_at_the_sweep() {
    // Deals: id i changed `mdate` i hours after 2024-01-01 (the filter is ignored: the cursor
    // cuts, as against a server that ignores it).
    let deals: Rc<RefCell<Vec<u64>>> = range(1, 150);
    let list = Rc::clone(&deals);
    let answer = move |p: &str| {
        let off = crate::test_support::offset_of(p) as usize;
        let all = list.borrow();
        let base = t("2024-01-01T00:00:00Z");
        let recs: Vec<Value> = all
            .iter()
            .skip(off)
            .take(100)
            .map(|i| json!({"id": i.to_string(), "mdate": base.plus_seconds(*i as i64 * 3600).to_rfc3339()}))
            .collect();
        Ok(HttpResponse {
            status: 200,
            headers: vec![],
            body: json!({"deals": recs, "meta": {"total": all.len().to_string()}})
                .to_string()
                .into_bytes(),
        })
    };
    let answer = Rc::new(RefCell::new(answer));
    let read_deals = |cfg: &Config, state: StreamState| {
        let a = Rc::clone(&answer);
        let mut fake = Fake::new(1_000_000, move |p: &str| (a.borrow_mut())(p));
        let mut client = Client::new(&mut fake, cfg);
        let mut lines = Lines::default();
        let job = Job {
            deletions: true,
            ..job_of("deals", true, state)
        };
        read(&mut client, cfg, vec![job], &mut lines);
        let last = lines
            .0
            .iter()
            .rev()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|m| m["type"] == "STATE")
            .unwrap();
        let st = StreamState::from_value(
            "deals",
            &last["state"]["stream"]["stream_state"],
            Some("mdate"),
        )
        .unwrap();
        (lines, st)
    };
    let daily = client_config(json!({}));
    let (_, state) = read_deals(&daily, StreamState::default());
    assert!(state.seen.is_some(), "the first read is a sweep");
    // Between sweeps: deals 151 and 152 are born and delivered.
    deals.borrow_mut().extend([151, 152]);
    let (lines, state) = read_deals(&daily, state);
    assert_eq!(ids(&lines.0, "deals"), [151, 152]);
    assert!(deletions(&lines.0).is_empty());
    assert_eq!(
        state.delivered.len(),
        2,
        "kept in the state until the sweep"
    );
    // 152 and an old deal, 7, are deleted; the sweep deletes both, and nothing else.
    deals.borrow_mut().retain(|i| *i != 152 && *i != 7);
    let sweep = client_config(json!({"full_sweep_hours": 0}));
    let (lines, state) = read_deals(&sweep, state);
    let gone: Vec<String> = deletions(&lines.0).into_iter().map(|(_, id)| id).collect();
    assert_eq!(gone, ["7", "152"]);
    assert_eq!(
        state.delivered.len(),
        0,
        "the sweep's ids are the new baseline"
    );
    assert_eq!(baseline_of(&state).len(), 150, "1..=151 less 7");
}

/// A full refresh into a deduplicating destination, resumed mid-list: the ids it delivered that
/// the last complete pass did not see stay in its state past the end of the pass, so the next
/// complete pass deletes the one that is gone again.
#[test]
fn a_resumed_full_refresh_keeps_what_it_delivered_for_the_next_complete_pass() {
    let cfg = client_config(json!({"full_sweep_hours": 0}));
    let ids = range(1, 250);
    let (_, mut state, _) = read_tags(&cfg, &ids, StreamState::default());
    ids.borrow_mut().push(251);
    state.resume = Some(crate::documents::state::Resume::Offset(200));
    let (lines, state, _) = read_tags(&cfg, &ids, state);
    assert!(crate::test_support::reads::ids(&lines.0, "tags").contains(&251));
    assert_eq!(state.delivered.len(), 1, "251, kept after the pass");
    ids.borrow_mut().retain(|i| *i != 251);
    let (lines, _, deleted) = read_tags(&cfg, &ids, state);
    let gone: Vec<String> = deletions(&lines.0).into_iter().map(|(_, id)| id).collect();
    assert_eq!((gone, deleted), (vec!["251".to_string()], 1));
}
