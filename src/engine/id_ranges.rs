//! The keyset pager: each id range is its own chain of pages; an open-ended pass is split into
//! parallel ranges once the newest id is known, and idle lanes take half of the widest range.

use super::decision::Decision;
use super::emit::PageEnd;
use super::run::Run;
use super::task::describe_pos;
use super::task::{lanes, Slot, SlotPhase, Task};
use super::Level;
use crate::api::streams::Paging;
use crate::documents::state::Resume;
use crate::http::request::Position;
use crate::rules::keyset::fence;
use crate::vocab::page::{record_id, Page};
use crate::vocab::page::{IdRange, PAGE_LIMIT};

/// An id as a number, when it is one.
fn id_num(id: Option<&str>) -> Option<u64> {
    id.and_then(|s| s.parse::<u64>().ok())
}

/// Splits the ids in `(after, top]` into up to `lanes` bounded ranges, whole pages wide.
fn split_range(after: u64, top: u64, lanes: u64) -> Vec<IdRange> {
    let span = top.saturating_sub(after);
    if span == 0 {
        return Vec::new();
    }
    // Ranges are whole pages wide: where ids are dense (few deleted contacts) each range's last
    // page is a full one that also closes it, not a part page.
    let k = lanes.min(span.div_ceil(PAGE_LIMIT)).max(1);
    let chunk = span.div_ceil(k).div_ceil(PAGE_LIMIT).max(1) * PAGE_LIMIT;
    let k = span.div_ceil(chunk).max(1);
    (0..k)
        .map(|i| {
            let lo = after + i * chunk;
            IdRange {
                after: Some(lo.to_string()),
                below: Some((lo + chunk).min(top).saturating_add(1).to_string()),
            }
        })
        .collect()
}

/// The id ranges still to read (keyset pages and top pages waiting or in flight), for the state.
fn open_ranges(t: &Task) -> Vec<IdRange> {
    t.slots
        .iter()
        .filter_map(|s| match &s.pos {
            Position::Keyset(r) | Position::Top(r) => Some(r.clone()),
            Position::Offset(_) => None,
        })
        .collect()
}

/// Gives a free lane to the waiting range with the most ids left, by halving it.
fn steal(t: &mut Task, lanes: usize) {
    while t.slots.len() < lanes {
        let widest = t
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s.phase, SlotPhase::Ready { .. }))
            .filter_map(|(i, s)| match &s.pos {
                Position::Keyset(r) => Some((
                    i,
                    id_num(r.after.as_deref()).unwrap_or(0),
                    id_num(r.below.as_deref())?,
                )),
                _ => None,
            })
            .filter(|(_, a, b)| b.saturating_sub(*a) > 2 * PAGE_LIMIT)
            .max_by_key(|(_, a, b)| b - a);
        let Some((i, a, b)) = widest else { return };
        let mid = a + (b - a) / 2;
        t.slots[i].pos = Position::Keyset(IdRange {
            after: Some(a.to_string()),
            below: Some((mid + 1).to_string()),
        });
        t.slots.push(Slot::new(Position::Keyset(IdRange {
            after: Some(mid.to_string()),
            below: Some(b.to_string()),
        })));
    }
}

impl Run<'_, '_> {
    /// Keyset paging: each id range is its own chain; the state lists every open range.
    pub(super) fn take_keyset_page(&mut self, t: &mut Task, range: IdRange, page: Page) {
        let n = page.main.len() as u64;
        let fenced = match fence(&range, page, &t.parent_keys()) {
            Ok(f) => f,
            Err(why) => {
                let why = format!("{}: {why}", describe_pos(&Position::Keyset(range)));
                return self.fall_back_to_offsets(t, &why);
            }
        };
        if n > 0 && fenced.last.is_none() && !fenced.closed {
            let why = format!(
                "keyset paging did not advance past id {:?}; the API ignored id_greater",
                range.after
            );
            return self.fall_back_to_offsets(t, &why);
        }
        if fenced.dropped > 0 && !t.ranges.warned_fence {
            t.ranges.warned_fence = true;
            for o in &t.outs {
                self.sink.log(Level::Warn, &format!("{}: the API sent {} records outside the id range asked for ({:?} < id < {:?}); they were dropped (their own range delivers them)", o.stream, fenced.dropped, range.after, range.below));
            }
        }
        let page = fenced.page;
        let lanes = lanes(self.config);
        // A range whose end the server already showed (ids past `below`) is read to its end.
        if n == PAGE_LIMIT && !fenced.closed {
            plan_after_full_page(t, &range, fenced.last.unwrap_or(0), lanes);
        }
        steal(t, lanes);
        self.emit_ranges_page(t, page);
    }

    /// Emits a keyset or top page with the ranges still open as its resume point; the pass ends
    /// when none is left.
    fn emit_ranges_page(&mut self, t: &mut Task, page: Page) {
        let total = page.total;
        let open = open_ranges(t);
        let done = open.is_empty();
        self.emit_page(
            t,
            page,
            PageEnd {
                resume: if done {
                    None
                } else {
                    Some(Resume::Ranges(open))
                },
                total,
            },
        );
        // Only keyset and top pages are in flight here: no open range means none.
        if done {
            self.finish(t);
        }
    }

    /// Keyset paging cannot go on (the server ignored `orders[id]=ASC` or `id_greater`): the
    /// list is read again from its start with offset paging, whose chain checks every page's
    /// overlap and repairs what churn shifts (a list in any stable order). One warning per
    /// stream; what was delivered already may come again, nothing is lost.
    fn fall_back_to_offsets(&mut self, t: &mut Task, why: &str) {
        for o in &t.outs {
            self.sink.decision(&Decision::OffsetFallback {
                stream: o.stream.clone(),
                why: why.to_string(),
            });
        }
        t.def.paging = Paging::Offset;
        // Answers still on their way belong to slots that no longer exist: they are dropped.
        t.restart_from(Position::Offset(0));
    }

    /// The top page of an open range came back (ids past the range's start, highest first):
    /// its records are delivered, and the rest of the range, below its lowest id, is split into
    /// bounded ranges. Records added after it was read are the next sync's (the cursor stays
    /// behind the pass start).
    pub(super) fn take_top(&mut self, t: &mut Task, range: IdRange, mut page: Page) {
        t.ranges.split = true;
        let n = page.main.len() as u64;
        page.main.reverse();
        let lowest = id_num(page.main.first().map(|r| record_id(r)).as_deref());
        let fenced = match fence(&range, page, &t.parent_keys()) {
            Ok(f) => f,
            Err(why) => {
                // The API ignored orders[id]=DESC: the range is read upwards in one chain, as
                // it would be without a top page (whose answer is dropped).
                for o in &t.outs {
                    self.sink.decision(&Decision::OneChain {
                        stream: o.stream.clone(),
                        why: format!("{}: {why}", describe_pos(&Position::Top(range.clone()))),
                    });
                }
                t.slots.push(Slot::new(Position::Keyset(range)));
                return;
            }
        };
        // A short page holds every id past the range's start, unless its count says more (a
        // server capping its pages below 100).
        let whole = n < PAGE_LIMIT && fenced.page.total.is_none_or(|c| c <= n);
        if !whole {
            // The rest: the ids below the page's lowest (all of the range if it had none).
            let rest = match lowest {
                Some(low) => split_range(
                    id_num(range.after.as_deref()).unwrap_or(0),
                    low.saturating_sub(1),
                    lanes(self.config) as u64,
                ),
                None => vec![range.clone()],
            };
            t.slots
                .extend(rest.into_iter().map(|r| Slot::new(Position::Keyset(r))));
        }
        self.emit_ranges_page(t, fenced.page);
    }
}

/// After a full page of `range` ending at id `last`: the next page of the range; for an
/// open-ended pass not yet split, its top page instead, which bounds the rest.
fn plan_after_full_page(t: &mut Task, range: &IdRange, last: u64, lanes: usize) {
    let next = IdRange {
        after: Some(last.to_string()),
        below: range.below.clone(),
    };
    if range.below.is_none() && !t.ranges.split && lanes > 1 {
        t.slots.push(Slot::new(Position::Top(next)));
    } else {
        t.slots.push(Slot::new(Position::Keyset(next)));
    }
}

#[cfg(test)]
#[path = "id_ranges_tests.rs"]
mod tests;
