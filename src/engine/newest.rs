//! Newest first down to the cursor (issue 20): between sweeps, a list that can be ordered by a
//! field that follows its cursor (`orders[<field>]=DESC`) is read from the top until the pages
//! pass the saved cursor, instead of in full. Unknown orders are ignored by the API without a
//! word, so every page is checked to be in that order (against the page before it too); on the
//! first page that is not, the task falls back to a full pass, and nothing is lost.

use super::run::Run;
use super::task::{OffsetPager, Slot, Task, STRIDE};
use super::{Job, Level};
use crate::documents::config::Config;
use crate::http::request::Position;
use crate::http::response::Record;
use crate::rules::datetime::{cursor_instant, Instant};
use crate::rules::paging::Chain;
use serde_json::Value;
use std::collections::BTreeMap;

/// A newest-first pass under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Newest {
    /// The field the list is ordered by, newest first.
    pub(crate) field: String,
    /// The pass ends with the first page whose last record is older than this.
    pub(crate) cut: Instant,
    /// The last record's value on the last page taken.
    pub(crate) last: Option<Instant>,
}

/// The newest-first pass of a job, when it gets one: an incremental stream that can be read so,
/// with a cursor to stop at, no sweep due and no pass to resume. The cut is the cursor less the
/// stream's overlap and a day's margin (the cursor filter makes the exact cut).
pub(crate) fn newest_first(job: &Job, config: &Config) -> Option<Newest> {
    let field = job.def.newest_first.clone()?;
    // Past the partial mark too: what partial passes delivered need not be read again.
    let cursor = job
        .state
        .cursor?
        .max(job.state.ahead.unwrap_or(Instant(i128::MIN)));
    if !job.incremental || job.sweep || job.state.resume.is_some() {
        return None;
    }
    Some(Newest {
        field,
        cut: job.read_back_from(cursor, config),
        last: None,
    })
}

/// What a page says about a newest-first pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// In order; `done`: it reached past the cut.
    InOrder { done: bool },
    /// Not in the order asked (or a record lacks the field): read the whole list instead.
    OutOfOrder(String),
}

impl Newest {
    /// Judges a page's new records (in answer order: those after the overlap with the page
    /// before, so records added at the top meanwhile, which push the pages down, are not read as
    /// out of order) and remembers where it ended.
    pub(crate) fn judge<'a>(&mut self, records: impl IntoIterator<Item = &'a Record>) -> Verdict {
        let mut prev = self.last;
        for r in records {
            let v: Value = serde_json::from_str(r.get()).unwrap_or(Value::Null);
            let Some(at) = v
                .get(&self.field)
                .and_then(Value::as_str)
                .and_then(cursor_instant)
            else {
                return Verdict::OutOfOrder(format!("a record has no {}", self.field));
            };
            if prev.is_some_and(|p| at > p) {
                return Verdict::OutOfOrder(format!("{} rises within the pages", self.field));
            }
            prev = Some(at);
        }
        self.last = prev;
        Verdict::InOrder {
            done: prev.is_some_and(|p| p < self.cut),
        }
    }
}

impl Run<'_, '_> {
    /// The list is not in the order asked: the task reads the whole list from its start, with
    /// the cursor cutting as in any incremental pass. Records delivered from the newest pages
    /// may come once more.
    pub(super) fn read_in_full_instead(&mut self, t: &mut Task, why: &str) {
        let field = t.newest.take().map(|n| n.field).unwrap_or_default();
        for o in &t.outs {
            self.sink.log(Level::Warn, &format!("{}: the API does not order the list by {field} newest first ({why}); reading the whole list instead (records already delivered may come again)", o.stream));
        }
        t.offset = OffsetPager {
            chain: Chain::new(0),
            planned_until: STRIDE,
            buffer: BTreeMap::new(),
            prev_extra: vec![],
            total: None,
        };
        t.slots = vec![Slot::new(Position::Offset(0))];
    }
}

#[cfg(test)]
#[path = "newest_tests.rs"]
mod tests;
