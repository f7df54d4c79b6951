//! Every kind of pass the planner gives, one row each: the streams of a read (the first is the
//! one the row is about), their state and the config, and the plan written as
//! `pass | deletions | cursor`.

use super::*;
use crate::api::streams::fixed_streams;
use crate::documents::state::{Baseline, Resume, StreamState};
use crate::rules::id_set::IdSet;
use crate::test_support::t;
use serde_json::{json, Value};

/// The clock of every row: a day and a half after the recent baseline below.
const NOW: &str = "2024-03-02T12:00:00Z";

/// The saved state of a row's stream.
#[derive(Clone, Copy)]
enum Saved {
    /// Nothing saved: a first sync.
    Nothing,
    /// A cursor, and a complete pass of `n` ids an hour before `NOW`.
    Recent(u64),
    /// A cursor, and a complete pass of `n` ids two days before `NOW`.
    Old(u64),
    /// A cursor and a recent complete pass, with a pass under way (an offset to resume from).
    Resuming,
}

fn state(saved: Saved) -> StreamState {
    let baseline = |n: u64, at: &str| {
        let mut ids = IdSet::default();
        (1..=n).for_each(|i| ids.insert(&i.to_string()));
        Some(Baseline::new(ids, t(at)))
    };
    let cursor = Some(t("2024-03-02T00:00:00Z"));
    match saved {
        Saved::Nothing => StreamState::default(),
        Saved::Recent(n) => StreamState {
            cursor,
            seen: baseline(n, "2024-03-02T11:00:00Z"),
            ..StreamState::default()
        },
        Saved::Old(n) => StreamState {
            cursor,
            seen: baseline(n, "2024-02-29T12:00:00Z"),
            ..StreamState::default()
        },
        Saved::Resuming => StreamState {
            resume: Some(Resume::Offset(200)),
            ..state(Saved::Recent(10))
        },
    }
}

/// A stream in a mode: `inc` incremental (else full refresh), `del` deletions tracked.
fn job(name: &str, inc: bool, del: bool, saved: Saved) -> Job {
    Job {
        def: fixed_streams()
            .into_iter()
            .find(|d| d.name == name)
            .unwrap(),
        incremental: inc,
        state: state(saved),
        deletions: del,
    }
}

fn config(extra: Value) -> Config {
    let mut c = json!({"api_url": "http://127.0.0.1:1", "api_key": "k"});
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    Config::parse(&c.to_string()).unwrap()
}

/// A plan in a line: the pass, then what it promises.
fn describe(p: &StreamPlan) -> String {
    let pass = match &p.pass {
        Pass::WaitsForSweep { due } => format!("waits until {}", due.to_rfc3339()),
        Pass::Complete(why) => format!("complete ({why:?})"),
        Pass::Filtered { since } => format!("filtered from {since}"),
        Pass::NewestFirst {
            field,
            cut,
            fallback,
        } => format!(
            "newest first by {field} to {}{}",
            cut.to_rfc3339(),
            fallback.map_or(String::new(), |s| format!(", else on {}", s.parent))
        ),
        Pass::OnParent { side, changed_only } => format!(
            "on {} ({}, {})",
            side.parent,
            side.include,
            if *changed_only { "changed only" } else { "all" }
        ),
    };
    format!("{pass} | {:?} | {:?}", p.deletions, p.cursor)
}

#[test]
fn every_kind_of_pass() {
    use Saved::*;
    let no_sideloads = json!({"sideload_contact_children": false});
    #[rustfmt::skip]
    let rows: Vec<(&str, Vec<Job>, Value, &str)> = vec![
        ("full refresh, nothing kept",
         vec![job("deals", false, false, Nothing)], json!({}),
         "complete (FullRefresh) | NotTracked | None"),
        ("full refresh into a deduplicating destination, first time",
         vec![job("deals", false, true, Nothing)], json!({}),
         "complete (FullRefresh) | Found | None"),
        ("first incremental sync: no cursor, no start date",
         vec![job("deals", true, false, Nothing)], json!({}),
         "complete (NoCursorYet) | NotTracked | Cursor"),
        ("first incremental sync from a start date: filtered a day before it",
         vec![job("deals", true, false, Nothing)], json!({"start_date": "2024-01-10T00:00:00Z"}),
         "filtered from 2024-01-09T00:00:00Z | NotTracked | Cursor"),
        ("between sweeps, a server filter: from the cursor less a day",
         vec![job("deals", true, true, Recent(10))], json!({}),
         "filtered from 2024-03-01T00:00:00Z | NotFoundPartial | Cursor"),
        ("the lookback window widens the filter",
         vec![job("deals", true, false, Recent(10))], json!({"lookback_window_seconds": 3600}),
         "filtered from 2024-02-29T23:00:00Z | NotTracked | Cursor"),
        ("sweep due: complete, deletions found",
         vec![job("deals", true, true, Old(10))], json!({}),
         "complete (SweepDue) | Found | Cursor"),
        ("no baseline yet: the sweep is due",
         vec![job("deals", true, true, Nothing)], json!({}),
         "complete (SweepDue) | Found | Cursor"),
        ("full_sweep_hours 0: every sync sweeps",
         vec![job("deals", true, true, Recent(10))], json!({"full_sweep_hours": 0}),
         "complete (SweepDue) | Found | Cursor"),
        ("a filtered pass under way goes on, filtered",
         vec![job("deals", true, true, Resuming)], json!({}),
         "filtered from 2024-03-01T00:00:00Z | NotFoundResumed | Cursor"),
        ("between sweeps, newest first by the cursor",
         vec![job("email_activities", true, true, Recent(10))], json!({}),
         "newest first by tstamp to 2024-02-29T23:00:00Z | NotFoundPartial | Cursor"),
        ("newest first by another field than the cursor moves the partial mark",
         vec![job("contact_automations", true, true, Recent(10))], json!({}),
         "newest first by adddate to 2024-03-01T00:00:00Z | NotFoundPartial | PartialMark"),
        ("a newest-first pass is not resumed mid-pass: complete from the resume point",
         vec![job("email_activities", true, false, Resuming)], json!({}),
         "complete (Resumed) | NotTracked | Cursor"),
        ("no way to ask what changed, more than a page: waits for its sweep",
         vec![job("ecommerce_orders", true, true, Recent(101))], json!({}),
         "waits until 2024-03-03T11:00:00Z | NotFoundPartial | Cursor"),
        ("a full refresh into a deduplicating destination waits too",
         vec![job("ecommerce_order_products", false, true, Recent(500))], json!({}),
         "waits until 2024-03-03T11:00:00Z | NotFoundPartial | None"),
        ("one page: read, it costs what waiting would not save",
         vec![job("ecommerce_orders", true, true, Recent(100))], json!({}),
         "complete (NoChangeQuery) | Found | Cursor"),
        ("no deletions tracked: nothing to wait on",
         vec![job("ecommerce_orders", true, false, Recent(500))], json!({}),
         "complete (NoChangeQuery) | NotTracked | Cursor"),
        ("a pass under way is read to its end, not held",
         vec![job("ecommerce_orders", true, true, Resuming)], json!({}),
         "complete (Resumed) | NotFoundResumed | Cursor"),
        ("its sweep due: read",
         vec![job("ecommerce_orders", true, true, Old(500))], json!({}),
         "complete (SweepDue) | Found | Cursor"),
        ("a child on a complete parent pass: all of its records",
         vec![job("contact_lists", true, true, Nothing), job("contacts", false, false, Nothing)], json!({}),
         "on contacts (contactLists, all) | Found | Cursor"),
        ("the parent is found by name, not by the first stream resuming alike",
         vec![job("contact_lists", true, true, Recent(10)), job("deals", true, true, Recent(10)), job("contacts", false, false, Nothing)], json!({}),
         "on contacts (contactLists, all) | Found | Cursor"),
        ("a child on a filtered parent: the changed parents' only",
         vec![job("contact_lists", true, true, Recent(10)), job("contacts", true, true, Recent(10))], json!({}),
         "on contacts (contactLists, changed only) | NotFoundPartial | PartialMark"),
        ("a child that reads newest first pages its own list beside a filtered parent",
         vec![job("contact_tags", true, true, Recent(10)), job("contacts", true, true, Recent(10))], json!({}),
         "newest first by cdate to 2024-03-01T00:00:00Z, else on contacts | NotFoundPartial | PartialMark"),
        ("a child reading newest first without its parent in the read falls back to its own list",
         vec![job("contact_tags", true, true, Recent(10))], json!({}),
         "newest first by cdate to 2024-03-01T00:00:00Z | NotFoundPartial | PartialMark"),
        ("a child reading newest first beside other streams, its parent not among them: its own list",
         vec![job("contact_tags", true, true, Recent(10)), job("deals", true, true, Recent(10))], json!({}),
         "newest first by cdate to 2024-03-01T00:00:00Z | NotFoundPartial | PartialMark"),
        ("no cursor yet, and no change query anyway",
         vec![job("ecommerce_orders", true, false, Nothing)], json!({}),
         "complete (NoChangeQuery) | NotTracked | Cursor"),
        ("a child whose sweep is due makes its parent complete and rides on it",
         vec![job("contact_tags", true, true, Old(10)), job("contacts", true, true, Recent(10))], json!({}),
         "on contacts (contactTags, all) | Found | Cursor"),
        ("a child without its parent in the read pages its own list",
         vec![job("contact_lists", true, false, Nothing)], json!({}),
         "complete (NoChangeQuery) | NotTracked | Cursor"),
        ("a child resuming apart from its parent pages its own list",
         vec![job("contact_lists", true, true, Resuming), job("contacts", false, false, Nothing)], json!({}),
         "complete (Resumed) | NotFoundResumed | Cursor"),
        ("sideloads off: a child is a stream like any other",
         vec![job("contact_tags", true, true, Recent(10))], no_sideloads.clone(),
         "newest first by cdate to 2024-03-01T00:00:00Z | NotFoundPartial | PartialMark"),
    ];
    let now = t(NOW);
    for (what, jobs, extra, want) in rows {
        let name = jobs[0].def.name.clone();
        let plans = plan(jobs, &config(extra), now);
        let p = plans.iter().find(|p| p.job.def.name == name).unwrap();
        assert_eq!(describe(p), want, "{what}");
    }
}

/// The parent whose child needs a complete pass reads unfiltered; between sweeps it is filtered.
#[test]
fn a_parent_is_complete_when_a_child_needs_it() {
    let now = t(NOW);
    let parent = |child_saved: Saved| {
        let jobs = vec![
            job("contacts", true, true, Saved::Recent(10)),
            job("contact_tags", true, true, child_saved),
        ];
        describe(&plan(jobs, &config(json!({})), now)[0])
    };
    assert_eq!(
        parent(Saved::Old(10)),
        "complete (ChildrenNeedIt) | Found | Cursor"
    );
    assert_eq!(
        parent(Saved::Recent(10)),
        "filtered from 2024-03-01T00:00:00Z | NotFoundPartial | Cursor"
    );
}

/// Plans come parents and lone streams first, children after, each in the jobs' order.
#[test]
fn children_are_planned_after_their_parents() {
    let jobs = vec![
        job("contact_tags", false, false, Saved::Nothing),
        job("deals", false, false, Saved::Nothing),
        job("contacts", false, false, Saved::Nothing),
    ];
    let names: Vec<String> = plan(jobs, &config(json!({})), t(NOW))
        .into_iter()
        .map(|p| p.job.def.name)
        .collect();
    assert_eq!(names, ["deals", "contacts", "contact_tags"]);
}

/// The sweep falls due exactly `full_sweep_hours` after the last complete pass began.
#[test]
fn the_sweep_falls_due_on_the_hour() {
    let j = job("deals", true, true, Saved::Recent(1));
    let c = config(json!({"full_sweep_hours": 1}));
    assert!(!sweep_due(&j, &c, t("2024-03-02T11:59:59Z")));
    assert!(sweep_due(&j, &c, t("2024-03-02T12:00:00Z")));
    let untracked = Job {
        deletions: false,
        ..j
    };
    assert!(!sweep_due(&untracked, &c, t("2030-01-01T00:00:00Z")));
}
