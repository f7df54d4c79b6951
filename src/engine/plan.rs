//! The planner: what kind of pass each stream gets this sync, decided once, before any request.
//!
//! A pure function of the streams' rows, their catalog choices, their saved states, the config
//! and the clock. The rest of the engine executes the plans and decides nothing about them: a
//! new way of reading one stream is one variant of [`Pass`] here, one column of the stream
//! table, and one row of the table test beside this file.

use super::Job;
use crate::api::streams::{ServerFilter, Sideload};
use crate::documents::config::Config;
use crate::rules::datetime::Instant;
use crate::vocab::page::PAGE_LIMIT;

/// Margin subtracted from a server-side filter value: the API does not document the zone it
/// reads those values in, so the server filter overlaps and the cursor filter does the exact cut.
pub(crate) const SERVER_FILTER_MARGIN_S: i64 = 86_400;

/// What one stream's pass is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pass {
    /// No request this sync: the API cannot tell what changed in the stream, and its last
    /// complete pass is recent. It is read in full at its sweep, due at `due`.
    WaitsForSweep { due: Instant },
    /// Every record of the list (from the saved resume point when there is one).
    Complete(Because),
    /// Only what the server's change filter returns from `since` (RFC 3339).
    Filtered { since: String },
    /// The list ordered by `field`, newest first, down to the first page older than `cut`. When
    /// the API turns out not to order it so, read as its sweep reads it: on a complete pass of
    /// its parent's pages (`fallback`, when the parent is in this read), else its own list in
    /// full.
    NewestFirst {
        field: String,
        cut: Instant,
        fallback: Option<Sideload>,
    },
    /// Carried on the pages of `side.parent` (`include=<side.include>`): all of them, or only the
    /// parents that changed when the parent's pass is filtered.
    OnParent { side: Sideload, changed_only: bool },
}

/// Why a pass reads the whole list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Because {
    /// The stream is read in full refresh.
    FullRefresh,
    /// Its sweep is due (`full_sweep_hours`), or it has had no complete pass yet.
    SweepDue,
    /// A child riding on its pages needs a complete pass of its parent.
    ChildrenNeedIt,
    /// A pass was under way: it goes on from its resume point.
    Resumed,
    /// No cursor yet (the first incremental sync, without a start date to filter from).
    NoCursorYet,
    /// The API offers no way to read only what changed in this stream, and the destination
    /// keeps no rows to wait on (deletions are not tracked, or the last pass was one page).
    NoChangeQuery,
}

/// Whether a pass finds deletions (ids its complete predecessor saw and it does not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Deletions {
    /// Not wanted: the destination does not keep rows from sync to sync.
    NotTracked,
    /// Found at the end of this pass, which sees every record.
    Found,
    /// Wanted, but this pass resumed from a mid-pass state: the next complete pass finds them.
    NotFoundResumed,
    /// Wanted, but this pass sees only what changed: the next sweep finds them.
    NotFoundPartial,
}

/// What a pass does to the stream's cursor when it completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CursorMove {
    /// Full refresh: no cursor.
    None,
    /// The cursor moves to the newest record seen.
    Cursor,
    /// The pass may miss records past the cursor (ordered by another field, or children of
    /// changed parents only): it moves the partial mark, not the cursor.
    PartialMark,
}

/// One stream's plan: its job, its pass and what the pass promises.
#[derive(Debug, Clone)]
pub(crate) struct StreamPlan {
    /// The stream, its mode and its saved state.
    pub(crate) job: Job,
    /// What this pass is.
    pub(crate) pass: Pass,
    /// Whether it finds deletions.
    pub(crate) deletions: Deletions,
    /// What it does to the cursor.
    pub(crate) cursor: CursorMove,
}

/// Whether a job's sweep is due: deletions are tracked and the last complete pass is missing or
/// `full_sweep_hours` old.
pub(crate) fn sweep_due(job: &Job, config: &Config, now: Instant) -> bool {
    let sweep_s = (config.full_sweep_hours * 3600.0) as i64;
    job.deletions
        && job
            .state
            .seen
            .as_ref()
            .is_none_or(|b| b.at.plus_seconds(sweep_s) <= now)
}

/// Plans every job. The plans come parents and lone streams first, in the jobs' order, then the
/// children that can ride on a parent's pages, in theirs: the order the engine starts them.
pub(crate) fn plan(jobs: Vec<Job>, config: &Config, now: Instant) -> Vec<StreamPlan> {
    let rides = |j: &Job| config.sideload_contact_children && j.def.rides_on.is_some();
    // A child whose sweep is due, or that is read in full, makes its parent's pass complete.
    let complete_parents: Vec<&'static str> = jobs
        .iter()
        .filter(|j| rides(j) && (sweep_due(j, config, now) || !j.incremental))
        .filter_map(|j| j.def.rides_on.map(|r| r.parent))
        .collect();
    let (children, lone): (Vec<Job>, Vec<Job>) = jobs.into_iter().partition(|j| rides(j));
    let mut plans: Vec<StreamPlan> = lone
        .into_iter()
        .map(|job| {
            let for_children = complete_parents.contains(&job.def.name.as_str());
            let pass = lone_pass(&job, config, now, for_children);
            promises(job, pass)
        })
        .collect();
    for job in children {
        let pass = child_pass(&job, &plans, config, now);
        plans.push(promises(job, pass));
    }
    plans
}

/// The pass of a stream that pages its own list.
fn lone_pass(job: &Job, config: &Config, now: Instant, for_children: bool) -> Pass {
    let sweep = sweep_due(job, config, now);
    if !sweep && waits_for_sweep(job) {
        if let Some(b) = &job.state.seen {
            let due = b.at.plus_seconds((config.full_sweep_hours * 3600.0) as i64);
            return Pass::WaitsForSweep { due };
        }
    }
    if !job.incremental {
        return Pass::Complete(Because::FullRefresh);
    }
    if sweep {
        return Pass::Complete(Because::SweepDue);
    }
    if job.def.filter != ServerFilter::None {
        if for_children {
            return Pass::Complete(Because::ChildrenNeedIt);
        }
        let from = match job.state.cursor {
            Some(c) => Some(job.read_back_from(c, config)),
            None => config
                .start_date
                .map(|d| d.plus_seconds(-SERVER_FILTER_MARGIN_S)),
        };
        if let Some(from) = from {
            return Pass::Filtered {
                since: from.to_rfc3339(),
            };
        }
    }
    if let Some(pass) = newest_first(job, config) {
        return pass;
    }
    Pass::Complete(if job.state.resume.is_some() {
        Because::Resumed
    } else if job.state.cursor.is_none() && job.def.filter != ServerFilter::None {
        Because::NoCursorYet
    } else {
        Because::NoChangeQuery
    })
}

/// The pass of a child that can ride on its parent's pages: on them when the parent pass
/// resumes from the same place and is complete, or is filtered and the child has no
/// newest-first reading of its own; otherwise its own list, newest first or complete.
fn child_pass(job: &Job, plans: &[StreamPlan], config: &Config, now: Instant) -> Pass {
    let mut own = newest_first(job, config).filter(|_| !sweep_due(job, config, now));
    // Where the child goes if the API ignores its order: a complete pass of its parent's pages,
    // as the sweep reads it, when the parent is in this read (a sweep carries the child there
    // for no request of its own).
    let fallback = |side: Sideload| {
        plans
            .iter()
            .any(|p| p.job.def.name == side.parent && !matches!(p.pass, Pass::WaitsForSweep { .. }))
            .then_some(side)
    };
    if let (Some(Pass::NewestFirst { fallback: f, .. }), Some(side)) = (&mut own, job.def.rides_on)
    {
        *f = fallback(side);
    }
    if let Some(side) = job.def.rides_on {
        let parent = plans
            .iter()
            .find(|p| p.job.def.name == side.parent && p.job.state.resume == job.state.resume);
        match parent.map(|p| &p.pass) {
            Some(Pass::Complete(_)) => {
                return Pass::OnParent {
                    side,
                    changed_only: false,
                }
            }
            // A parent read only in part carries the children of the parents it reads.
            Some(Pass::Filtered { .. } | Pass::NewestFirst { .. }) if own.is_none() => {
                return Pass::OnParent {
                    side,
                    changed_only: true,
                }
            }
            _ => {}
        }
    }
    own.unwrap_or(Pass::Complete(if !job.incremental {
        Because::FullRefresh
    } else if sweep_due(job, config, now) {
        Because::SweepDue
    } else if job.state.resume.is_some() {
        Because::Resumed
    } else {
        Because::NoChangeQuery
    }))
}

/// The newest-first pass of a job, when it gets one: an incremental stream that can be read so,
/// with a cursor to stop at, no sweep due and no pass to resume. The cut is the cursor (or the
/// partial mark, when later: what partial passes delivered need not be read again) less the
/// stream's overlap and a day's margin (the cursor filter makes the exact cut).
fn newest_first(job: &Job, config: &Config) -> Option<Pass> {
    let field = job.def.newest_first.clone()?;
    let cursor = job
        .state
        .cursor?
        .max(job.state.ahead.unwrap_or(Instant(i128::MIN)));
    if !job.incremental || job.state.resume.is_some() {
        return None;
    }
    Some(Pass::NewestFirst {
        field,
        cut: job.read_back_from(cursor, config),
        fallback: None,
    })
}

/// Whether a stream waits for its next sweep (when none is due): its destination keeps rows
/// from sync to sync (deletions are tracked, in either mode), the API can tell nothing about what changed in it (no server filter,
/// no newest-first order, not carried by a parent), no pass is under way, and its last complete
/// pass held more than a page (one page is read anyway).
fn waits_for_sweep(job: &Job) -> bool {
    let def = &job.def;
    job.deletions
        && def.filter == ServerFilter::None
        && def.newest_first.is_none()
        && def.rides_on.is_none()
        && job.state.resume.is_none()
        && job
            .state
            .seen
            .as_ref()
            .is_some_and(|b| b.ids.len() > PAGE_LIMIT)
}

/// A pass with what it promises: deletions found only by a complete pass from the start; the
/// partial mark moved by passes that may miss records past the cursor.
fn promises(job: Job, pass: Pass) -> StreamPlan {
    let sees_all = match &pass {
        Pass::Complete(_) => true,
        Pass::OnParent { changed_only, .. } => !changed_only,
        Pass::WaitsForSweep { .. } | Pass::Filtered { .. } | Pass::NewestFirst { .. } => false,
    };
    let deletions = if !job.deletions {
        Deletions::NotTracked
    } else if job.state.resume.is_some() {
        Deletions::NotFoundResumed
    } else if sees_all {
        Deletions::Found
    } else {
        Deletions::NotFoundPartial
    };
    let partial = match &pass {
        Pass::NewestFirst { field, .. } => job.def.cursor.as_deref() != Some(field.as_str()),
        Pass::OnParent { changed_only, .. } => *changed_only,
        _ => false,
    };
    let cursor = if !job.incremental {
        CursorMove::None
    } else if partial {
        CursorMove::PartialMark
    } else {
        CursorMove::Cursor
    };
    StreamPlan {
        job,
        pass,
        deletions,
        cursor,
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
