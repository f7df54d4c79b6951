//! The offset pager: pages may arrive out of order; they are taken in order, each joined to the
//! one before (see [`crate::rules::paging`]).

use super::decision::Decision;
use super::emit::PageEnd;
use super::newest::Order;
use super::run::Run;
use super::task::{lanes, Slot, SlotPhase, Task, RESUME_IDS};
use super::Level;
use crate::api::streams::{fixed_streams, Paging};
use crate::documents::state::Resume;
use crate::http::request::Position;
use crate::rules::paging::{Step, MAX_REPAIRS};
use crate::vocab::failure::{Failure, FailureType};
use crate::vocab::page::PAGE_LIMIT;
use crate::vocab::page::{record_id, Page, Record};
use std::collections::HashSet;

impl Run<'_, '_> {
    /// Offset paging: pages may arrive out of order; they are taken in order, each joined to the
    /// one before (see [`crate::rules::paging`]), so the state (the first offset not delivered) is always
    /// a clean cut and no record that existed throughout the read is skipped.
    pub(super) fn take_offset_page(&mut self, t: &mut Task, offset: u64, page: Page) {
        if page.total.is_some() {
            // The latest count: a hint for planning, never the end.
            t.offset.total = page.total;
        }
        if offset >= t.offset.chain.want().0 {
            t.offset.buffer.insert(offset, page);
        }
        loop {
            let (lo, hi) = t.offset.chain.want();
            let Some(o) = t.offset.buffer.range(lo..=hi).next_back().map(|(k, _)| *k) else {
                break;
            };
            let Some(page) = t.offset.buffer.remove(&o) else {
                break;
            };
            let ids: Vec<String> = page.main.iter().map(|r| record_id(r)).collect();
            match t.offset.chain.take(o, &ids, page.total) {
                Step::Repeated => {
                    return self.fail(t, Failure::new(FailureType::System, format!("the API returned the same page for offsets {} and {o}; it seems to ignore paging", t.offset.chain.want().0.saturating_sub(1))));
                }
                Step::Back => {
                    // Kept: it may join once an earlier page is read again.
                    t.offset.buffer.insert(o, page);
                    if !self.note_repair(t, o) {
                        return;
                    }
                }
                Step::Take {
                    keep,
                    mut end,
                    disorder,
                } => {
                    if let Some(newest) = t.newest.as_mut() {
                        match newest.check_order(keep.iter().filter_map(|&i| page.main.get(i))) {
                            Order::OutOfOrder(why) => match self.out_of_order(t, o, page, &why) {
                                AfterFallback::Planned => return,
                                AfterFallback::TakeAgain => continue,
                                AfterFallback::PlanAhead => break,
                            },
                            Order::InOrder { done } => end |= done,
                        }
                    } else if disorder {
                        for out in &t.outs {
                            self.sink.decision(&Decision::IdsDoNotRise {
                                stream: out.stream.clone(),
                            });
                        }
                    }
                    let page = keep_records(t, page, &keep);
                    let resume = (!end).then(|| {
                        Resume::OffsetAfter(
                            t.offset.chain.resume_at(),
                            t.offset.chain.last_ids(RESUME_IDS),
                        )
                    });
                    let total = page.total;
                    self.emit_page(t, page, PageEnd { resume, total });
                    if end {
                        if t.offset.chain.repairs > 0 {
                            for out in &t.outs {
                                self.sink.log(Level::Info, &format!("{}: {} pages were read again because the list changed during the read", out.stream, t.offset.chain.repairs));
                            }
                        }
                        t.offset.buffer.clear();
                        return self.finish(t);
                    }
                }
            }
        }
        plan_offsets(t, lanes(self.config));
    }
}

/// What the offset pager does after a newest-first pass turned into a full one.
enum AfterFallback {
    /// The stream moved onto its parent's keyset pages, which plan themselves.
    Planned,
    /// The page is the full read's first page, back in the buffer: take it.
    TakeAgain,
    /// Plan the full read's pages.
    PlanAhead,
}

impl Run<'_, '_> {
    /// A newest-first page at offset `o` out of order: the stream is read in full instead
    /// ([`Run::read_in_full_instead`]). The first page, in the server's own order, is the full
    /// read's first page: taken as it, not asked again (the next page's overlap check still
    /// proves it).
    fn out_of_order(&mut self, t: &mut Task, o: u64, page: Page, why: &str) -> AfterFallback {
        self.read_in_full_instead(t, why);
        if t.def.paging != Paging::Offset {
            return AfterFallback::Planned;
        }
        if o != 0 {
            return AfterFallback::PlanAhead;
        }
        t.slots.clear();
        t.offset.total = page.total;
        t.offset.buffer.insert(0, page);
        AfterFallback::TakeAgain
    }

    /// A page that does not continue the one before: said once per pass; past
    /// [`MAX_REPAIRS`] the stream fails. Whether the pass goes on.
    fn note_repair(&mut self, t: &mut Task, offset: u64) -> bool {
        if t.offset.chain.repairs > MAX_REPAIRS {
            self.fail(t, Failure::new(FailureType::Transient, format!("the list kept changing under the read ({MAX_REPAIRS} pages read again); run again when it is quieter")));
            return false;
        }
        if t.offset.chain.repairs == 1 {
            for out in &t.outs {
                self.sink.decision(&Decision::ReadAgainFrom {
                    stream: out.stream.clone(),
                    offset,
                    from: t.offset.chain.want().1,
                });
            }
        }
        true
    }
}

/// The records of a page that `keep` names, and its sideloads less those the previous page
/// already carried.
fn keep_records(t: &mut Task, page: Page, keep: &[usize]) -> Page {
    let mut main: Vec<Option<Record>> = page.main.into_iter().map(Some).collect();
    let kept = keep
        .iter()
        .filter_map(|&i| main.get_mut(i)?.take())
        .collect();
    let mut seen_now = Vec::new();
    let extra = page
        .extra
        .into_iter()
        .map(|(key, list)| {
            let ids: HashSet<String> = list.iter().map(|r| record_id(r)).collect();
            let before = t
                .offset
                .prev_extra
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, s)| s);
            let list = list
                .into_iter()
                .filter(|r| before.is_none_or(|b| !b.contains(&record_id(r))))
                .collect();
            seen_now.push((key.clone(), ids));
            (key, list)
        })
        .collect();
    t.offset.prev_extra = seen_now;
    Page {
        main: kept,
        extra,
        total: page.total,
    }
}

/// Makes sure the page the chain wants next is asked for, and plans pages ahead (one record of
/// overlap each) while the count says they exist, within the task's lanes.
fn plan_offsets(t: &mut Task, lanes: usize) {
    let (lo, hi) = t.offset.chain.want();
    t.offset.buffer.retain(|&o, _| o >= lo);
    t.slots.retain(|s| {
        !matches!(s.phase, SlotPhase::Ready { .. })
            || !matches!(s.pos, Position::Offset(o) if o < lo)
    });
    let asked = |t: &Task, a: u64, b: u64| {
        t.offset.buffer.range(a..=b).next().is_some()
            || t.slots
                .iter()
                .any(|s| matches!(s.pos, Position::Offset(o) if (a..=b).contains(&o)))
    };
    if !asked(t, lo, hi) {
        t.slots.push(Slot::new(Position::Offset(hi)));
    }
    // While the list shifts between requests, pages planned ahead overlap by as much as the
    // last shifts needed, so they join without being read again.
    let stride = PAGE_LIMIT.saturating_sub(t.offset.chain.overlap()).max(1);
    if t.offset.planned_until <= hi || !(t.offset.planned_until - hi).is_multiple_of(stride) {
        t.offset.planned_until = hi + stride;
    }
    // A newest-first pass ends at the cursor, which the count does not tell: one page at a time.
    while let Some(total) = t.offset.total.filter(|_| t.newest.is_none()) {
        if t.offset.planned_until + 1 >= total || t.slots.len() + t.offset.buffer.len() >= lanes {
            break;
        }
        if !asked(t, t.offset.planned_until, t.offset.planned_until) {
            t.slots
                .push(Slot::new(Position::Offset(t.offset.planned_until)));
        }
        t.offset.planned_until += stride;
    }
}

impl Run<'_, '_> {
    /// The list is not in the order asked: the stream is read as its sweep reads it. A child of
    /// a parent in this read rides on a complete pass of the parent's pages (the sweep carries
    /// it there for no request of its own: cheaper than its own list); any other stream reads
    /// its whole list from its start. Either pass sees every record past the cursor, so the
    /// cursor moves. Records delivered from the newest pages may come once more.
    pub(super) fn read_in_full_instead(&mut self, t: &mut Task, why: &str) {
        let Some(newest) = t.newest.take() else {
            return;
        };
        let parent = newest.fallback.and_then(|side| {
            fixed_streams()
                .into_iter()
                .find(|d| d.name == side.parent)
                .map(|def| (side, def))
        });
        for o in t.outs.iter_mut() {
            self.sink.decision(&Decision::ReadInFullInstead {
                stream: o.stream.clone(),
                field: newest.field.clone(),
                why: why.to_string(),
                on: parent.as_ref().map(|(side, _)| side.parent.to_string()),
            });
        }
        for o in t.outs.iter_mut() {
            o.partial = false;
        }
        match parent {
            Some((side, def)) => {
                for o in t.outs.iter_mut() {
                    o.list_key = side.include.to_string();
                }
                t.def = def;
                t.sideloads = vec![side];
                t.restart_from(Position::start(&t.def));
            }
            None => t.restart_from(Position::Offset(0)),
        }
    }
}
