//! Planning: jobs grouped into tasks, one paged list each, and the state a task pages with.

use super::newest::Newest;
use super::plan::{plan, CursorMove, Deletions, Pass, StreamPlan};
use super::Job;
use crate::api::streams::{Paging, Sideload, StreamDef};
use crate::documents::config::Config;
use crate::documents::state::{Resume, StreamState};
use crate::http::request::Position;
use crate::http::retry::RetryBudget;
use crate::http::retry::SECOND;
use crate::rules::datetime::Instant;
use crate::rules::id_set::IdSet;
use crate::rules::paging::Chain;
use crate::vocab::failure::Failure;
use crate::vocab::page::Page;
use crate::vocab::page::{IdRange, PAGE_LIMIT};
use std::collections::{BTreeMap, HashSet};

/// Ids of the last records delivered that an offset resume point carries.
pub(super) const RESUME_IDS: usize = 5;

/// Offsets planned ahead are this far apart: pages overlap by one record.
pub(super) const STRIDE: u64 = PAGE_LIMIT - 1;

/// One stream fed by a task, with its own sync mode and state.
#[derive(Debug)]
pub(super) struct Out {
    pub(super) stream: String,
    pub(super) list_key: String,
    /// The cursor fields, in order (the first a record carries wins); empty without a cursor.
    pub(super) cursors: Vec<String>,
    /// Records of an incremental read that carried none of `cursors` (delivered every sync).
    pub(super) uncursored: u64,
    /// The stream's default overlap (event-time cursors), seconds.
    pub(super) lookback_s: i64,
    pub(super) incremental: bool,
    pub(super) state: StreamState,
    pub(super) records: u64,
    /// `records` when this stream's last STATE went out: a STATE's recordCount counts only the
    /// records since then (the Airbyte protocol's per-message count, which the platform checks
    /// against what the destination committed for that state).
    pub(super) stated: u64,
    pub(super) started: bool,
    /// The ids this pass has seen, when it is a complete pass from the start (a pass resumed
    /// from a mid-pass state, or filtered by the server, finds no deletions).
    pub(super) pass_ids: Option<IdSet>,
    /// Deletions emitted.
    pub(super) deleted: u64,
    /// What this pass promises about deletions (the planner's word).
    pub(super) deletions: Deletions,
    /// The pass may miss records past the cursor (newest first by another field, children of
    /// changed parents only): it moves the partial mark, not the cursor.
    pub(super) partial: bool,
    /// Pages since this stream's last STATE (a large baseline is not restated on every page).
    pub(super) unstated_pages: u64,
}

impl Out {
    /// The stream of a plan, fed from the answer's `list_key`.
    pub(super) fn new(plan: &StreamPlan, list_key: String) -> Out {
        let job = &plan.job;
        Out {
            stream: job.def.name.clone(),
            list_key,
            cursors: job.def.cursor_fields(),
            uncursored: 0,
            lookback_s: job.def.lookback_s,
            incremental: job.incremental,
            state: job.state.clone(),
            records: 0,
            stated: 0,
            started: false,
            pass_ids: (plan.deletions == Deletions::Found).then(IdSet::default),
            deleted: 0,
            deletions: plan.deletions,
            partial: plan.cursor == CursorMove::PartialMark,
            unstated_pages: 0,
        }
    }
}

/// Where one page request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SlotPhase {
    /// Waiting to be sent, not before this monotonic time.
    Ready {
        /// Earliest start, nanoseconds.
        not_before: u64,
    },
    /// Sent; its answer comes back under this ticket.
    InFlight {
        /// The transport's ticket.
        ticket: u64,
    },
}

/// One page request of a task, with its retry bookkeeping. Offset paging keeps several slots
/// ahead when the total is known; keyset paging keeps one slot per id range (chain).
#[derive(Debug, Clone)]
pub(super) struct Slot {
    /// The page it asks for.
    pub(super) pos: Position,
    /// Waiting or in flight.
    pub(super) phase: SlotPhase,
    /// What its retries have spent.
    pub(super) budget: RetryBudget,
    /// Answers without a list so far.
    pub(super) empties: u32,
}

impl Slot {
    /// A slot ready to ask for `pos` now.
    pub(super) fn new(pos: Position) -> Slot {
        Slot {
            pos,
            phase: SlotPhase::Ready { not_before: 0 },
            budget: RetryBudget::default(),
            empties: 0,
        }
    }
}

/// Whether a task is still working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    /// Still paging.
    Running,
    /// Complete.
    Done,
    /// Failed; its streams are reported.
    Failed,
}

/// One paged list and the streams it feeds.
#[derive(Debug)]
pub(super) struct Task {
    /// The list it pages.
    pub(super) def: StreamDef,
    /// The streams it feeds.
    pub(super) outs: Vec<Out>,
    /// The children riding on each page (`include=`).
    pub(super) sideloads: Vec<Sideload>,
    /// The server-side filter value, when the list is filtered.
    pub(super) since: Option<String>,
    /// Page requests waiting or in flight.
    pub(super) slots: Vec<Slot>,
    /// Running, done or failed.
    pub(super) status: Status,
    /// Offset paging's state.
    pub(super) offset: OffsetPager,
    /// Keyset (id range) paging's state.
    pub(super) ranges: RangePager,
    /// A newest-first pass down to the cursor, while it is one.
    pub(super) newest: Option<Newest>,
    /// Requests made, pages taken, times and outcome.
    pub(super) stats: TaskStats,
}

/// Offset paging: the pages read so far (where the next one may start), the next offset to
/// plan ahead, pages waiting their turn, and the ids of the last page's sideloads (the overlap
/// record's children come twice).
#[derive(Debug)]
pub(super) struct OffsetPager {
    /// Pages taken so far, joined.
    pub(super) chain: Chain,
    /// The next offset to plan ahead.
    pub(super) planned_until: u64,
    /// Pages that came back before their turn.
    pub(super) buffer: BTreeMap<u64, Page>,
    /// Sideload ids of the previous page.
    pub(super) prev_extra: Vec<(String, HashSet<String>)>,
    /// The list's latest count (a hint for planning, never the end).
    pub(super) total: Option<u64>,
}

/// Keyset paging: whether the id space was already split into parallel ranges, and whether
/// records outside their range were reported.
#[derive(Debug, Default)]
pub(super) struct RangePager {
    /// The id space is split into parallel ranges.
    pub(super) split: bool,
    /// Records outside their id range were already reported.
    pub(super) warned_fence: bool,
}

/// What a task did, for progress and the summary.
#[derive(Debug, Default)]
pub(super) struct TaskStats {
    /// Requests begun.
    pub(super) requests: u64,
    /// Pages taken.
    pub(super) pages: u64,
    /// When its first request began (monotonic ns).
    pub(super) first_ns: Option<u64>,
    /// When it ended.
    pub(super) end_ns: u64,
    /// Why it failed, when it did.
    pub(super) failure: Option<Failure>,
    /// When it last logged progress.
    pub(super) last_progress_ns: u64,
}

/// How often, at most, a stream logs its progress.
pub(super) const PROGRESS_EVERY_NS: u64 = 5 * SECOND;

/// Pages a task may have requested or buffered at once: enough to cover the latency of one
/// request at the configured rate, so one big stream alone can still use the whole budget.
pub(crate) fn lanes(config: &Config) -> usize {
    ((config.requests_per_second * 1.6).ceil() as usize).clamp(2, 8)
}

/// A task reading `def` for one stream, from where its state resumes.
pub(super) fn new_task(def: StreamDef, out: Out, since: Option<String>) -> Task {
    let (slots, emit_offset) = match (&out.state.resume, def.paging) {
        (Some(Resume::Offset(o)), Paging::Offset) => (vec![Slot::new(Position::Offset(*o))], *o),
        (Some(Resume::OffsetAfter(o, _)), Paging::Offset) => (vec![], *o),
        (Some(Resume::Ranges(rs)), Paging::Keyset) if !rs.is_empty() => (
            rs.iter()
                .cloned()
                .map(|r| Slot::new(Position::Keyset(r)))
                .collect(),
            0,
        ),
        _ => (vec![Slot::new(Position::start(&def))], 0),
    };
    let split = slots.len() > 1;
    let chain = match &out.state.resume {
        Some(Resume::OffsetAfter(o, last)) if def.paging == Paging::Offset => {
            Chain::resumed(*o, last.clone())
        }
        _ => Chain::new(emit_offset),
    };
    // A resumed chain asks for its first page where it overlaps the last run's records.
    let slots = if slots.is_empty() {
        vec![Slot::new(Position::Offset(chain.want().1))]
    } else {
        slots
    };
    Task {
        def,
        outs: vec![out],
        sideloads: vec![],
        since,
        slots,
        status: Status::Running,
        offset: OffsetPager {
            planned_until: chain.want().1 + STRIDE,
            chain,
            buffer: BTreeMap::new(),
            prev_extra: vec![],
            total: None,
        },
        ranges: RangePager {
            split,
            ..Default::default()
        },
        newest: None,
        stats: TaskStats::default(),
    }
}

/// The first page of each of the first `n` tasks a read of `jobs` begins with, in the order the
/// read starts them: pages worth beginning while the key check's answer is still on its way.
pub(crate) fn first_pages(
    jobs: &[Job],
    (config, now): (&Config, Instant),
    api_path: &str,
    n: usize,
) -> Vec<String> {
    tasks(plan(jobs.to_vec(), config, now), config)
        .iter()
        .filter_map(|t| {
            let slot = t.slots.first()?;
            Some(crate::http::request::page_path(
                api_path,
                &t.def,
                &slot.pos,
                t.since.as_deref(),
                &t.include(),
                t.newest.as_ref().map(|n| n.field.as_str()),
            ))
        })
        .take(n)
        .collect()
}

/// The tasks that carry out the plans: streams that share one list (the three `/fields`
/// streams) are read by one task, and children riding on a parent's pages by the parent's.
/// Streams waiting for their sweep get none.
pub(super) fn tasks(plans: Vec<StreamPlan>, config: &Config) -> Vec<Task> {
    let mut tasks: Vec<Task> = Vec::new();
    for plan in plans {
        let (since, newest) = match &plan.pass {
            Pass::WaitsForSweep { .. } => continue,
            Pass::OnParent { side, .. } => {
                let out = Out::new(&plan, side.include.to_string());
                if let Some(t) = tasks.iter_mut().find(|t| t.def.name == side.parent) {
                    t.sideloads.push(*side);
                    t.outs.push(out);
                    continue;
                }
                (None, None)
            }
            Pass::Filtered { since } => (Some(since.clone()), None),
            Pass::NewestFirst {
                field,
                cut,
                fallback,
            } => (None, Some(Newest::new(field, *cut, *fallback))),
            Pass::Complete(_) => (None, None),
        };
        let out = Out::new(&plan, plan.job.def.list_key.clone());
        if let Some(t) = tasks
            .iter_mut()
            .find(|t| t.def.path == plan.job.def.path && t.def.page_key == plan.job.def.page_key)
        {
            // Shared list: all its streams must resume from the same place, or all start over.
            if t.outs.iter().any(|o| o.state.resume != out.state.resume) {
                t.restart_from(Position::start(&t.def));
            }
            t.outs.push(out);
            continue;
        }
        let mut task = new_task(plan.job.def, out, since);
        task.newest = newest;
        tasks.push(task);
    }
    // Custom field columns: the owner's pages carry their field values (no extra request).
    for side in super::columns::value_sideloads(config) {
        for t in tasks.iter_mut().filter(|t| t.def.name == side.parent) {
            if !t.sideloads.contains(&side) {
                t.sideloads.push(side);
            }
        }
    }
    tasks
}

impl Task {
    /// The `include=` names of its pages.
    pub(super) fn include(&self) -> Vec<String> {
        self.sideloads
            .iter()
            .map(|s| s.include.to_string())
            .collect()
    }

    /// Each sideload's answer key and the field that holds its parent's id.
    pub(super) fn parent_keys(&self) -> Vec<(&'static str, &'static str)> {
        self.sideloads
            .iter()
            .map(|s| (s.include, s.parent_key))
            .collect()
    }

    /// Starts the task's list over at `pos`: one page asked for, offset paging from its start.
    /// The one restart of a pager (a shared list whose streams resume apart, a newest-first
    /// pass the API does not order, a keyset read that turns to offsets).
    pub(super) fn restart_from(&mut self, pos: Position) {
        let from = match pos {
            Position::Offset(o) => o,
            _ => 0,
        };
        self.offset = OffsetPager::from(from);
        self.slots = vec![Slot::new(pos)];
    }
}

impl OffsetPager {
    /// A pager whose chain begins at `offset`, planning one stride ahead.
    pub(super) fn from(offset: u64) -> OffsetPager {
        OffsetPager {
            chain: Chain::new(offset),
            planned_until: offset + STRIDE,
            buffer: BTreeMap::new(),
            prev_extra: vec![],
            total: None,
        }
    }
}

/// Names a page request for messages.
pub(super) fn describe_pos(p: &Position) -> String {
    match p {
        Position::Offset(o) => format!("the page at offset {o}"),
        Position::Keyset(IdRange { after: None, .. }) => "the first page".into(),
        Position::Keyset(IdRange {
            after: Some(id), ..
        }) => format!("the page after id {id}"),
        Position::Top(IdRange { after, .. }) => format!(
            "the top page (newest ids past {})",
            after.as_deref().unwrap_or("0")
        ),
    }
}
