//! Offset paging that loses nothing while the list changes under it.
//!
//! Offset pages overlap by one record (offsets 0, 99, 198, … with `limit=100`): the last record of
//! one page is the first of the next when nothing moved. A page "joins" the records already read
//! when it holds a record of the previous page; then everything after that record is new, and,
//! as long as the server keeps a stable order, no record that existed throughout the read can fall
//! between the two pages. A page that does not join (records were deleted before it, so the list
//! shifted left past the overlap) is repaired by reading again from an earlier offset, stepping
//! further back each time, down to offset 0, which always joins.
//!
//! `meta.total` only plans how many pages to ask for at once; the list ends on an empty page that
//! joins (offset 0, or the first page of a resumed pass) or on a short page that joins (a short
//! page is the list's end at the moment it was read) and agrees with the count. A short page
//! whose count says more, from a server that caps pages below 100, reads on after it.
//!
//! Ids are expected to rise (the server's id order); when they don't (the server ignores the
//! order asked for), paging goes on the same way, since joining is by identity, and every id
//! delivered since is remembered so none is delivered twice in the pass.

use crate::vocab::page::PAGE_LIMIT;
use std::collections::HashSet;

/// Records of overlap between consecutive pages while the list holds still.
pub(crate) const MIN_OVERLAP: u64 = 1;

/// Step-backs allowed in one pass before giving up: each one needs the list to have changed
/// between two requests by more than the overlap, so this many means it never holds still.
pub(crate) const MAX_REPAIRS: u32 = 2_000;

/// What to do after a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// The page joins: deliver the records at `keep` (indices into the page); the pass ends
    /// with it when `end`, else the next page is at [`Chain::want`].
    Take {
        keep: Vec<usize>,
        end: bool,
        /// Numeric ids stopped rising with this page (worth a warning, once). Ids that are
        /// not numbers (custom object records: UUIDs) have no order to break: read the same
        /// way, without a warning.
        disorder: bool,
    },
    /// The page does not join: read the page at [`Chain::want`] (earlier) first.
    Back,
    /// The page is the previous page again, at another offset: the server ignores `offset`.
    Repeated,
}

/// What one pass of offset paging has read so far.
#[derive(Debug, Clone)]
pub(crate) struct Chain {
    /// Ids of the last page taken, in answer order; `None` before the first page of the run.
    prev: Option<Vec<String>>,
    /// Offset of the last page taken (before the first: where the run starts).
    prev_offset: u64,
    /// Records of overlap asked of the next page: grows when the list shifts, shrinks back when
    /// it holds still.
    overlap: u64,
    /// Stepping back below the last page taken, by this many records (after a shift of a page
    /// or more).
    deep: Option<u64>,
    /// Whether ids rose within and across every page so far.
    ascending: bool,
    /// The highest id delivered, while ids rise.
    frontier: Option<u64>,
    /// Once ids stopped rising: every id delivered since, and the previous page's.
    seen: HashSet<String>,
    /// Step-backs so far.
    pub(crate) repairs: u32,
}

/// The numeric value of each id, when every one is a number.
fn numeric(ids: &[String]) -> Option<Vec<u64>> {
    ids.iter().map(|s| s.trim().parse::<u64>().ok()).collect()
}

impl Chain {
    /// A pass that starts (or resumes) at `offset`.
    pub(crate) fn new(offset: u64) -> Chain {
        Chain {
            prev: None,
            prev_offset: offset,
            overlap: MIN_OVERLAP,
            deep: None,
            ascending: true,
            frontier: None,
            seen: HashSet::new(),
            repairs: 0,
        }
    }

    /// Records of overlap the next page asks for (1 while the list holds still): pages planned
    /// ahead are this much less than a page apart.
    pub(crate) fn overlap(&self) -> u64 {
        self.overlap
    }

    /// A pass resumed at `offset` (the first record not delivered) after the records with
    /// `last_ids`, the last ones delivered: the first page starts one record early and must
    /// continue them, as any page must continue the one before.
    pub(crate) fn resumed(offset: u64, last_ids: Vec<String>) -> Chain {
        let mut chain = Chain::new(offset);
        if !last_ids.is_empty() && offset >= last_ids.len() as u64 {
            chain.prev_offset = offset - last_ids.len() as u64;
            chain.frontier = numeric(&last_ids).and_then(|v| v.last().copied());
            chain.prev = Some(last_ids);
        }
        chain
    }

    /// The ids of the last records delivered (at most `n`), for a resumed pass to continue.
    pub(crate) fn last_ids(&self, n: usize) -> Vec<String> {
        let prev = self.prev.as_deref().unwrap_or(&[]);
        prev[prev.len().saturating_sub(n)..].to_vec()
    }

    /// Whether ids have risen throughout the pass.
    #[cfg(test)]
    pub(crate) fn ascending(&self) -> bool {
        self.ascending
    }

    /// Offsets the next page may start at (inclusive): any page in the range joins a list that
    /// holds still; the engine asks for the highest one (the most progress).
    pub(crate) fn want(&self) -> (u64, u64) {
        let Some(prev) = &self.prev else {
            return (self.prev_offset, self.prev_offset);
        };
        if let Some(back) = self.deep {
            let at = self.prev_offset.saturating_sub(back);
            return (at, at);
        }
        let len = prev.len() as u64;
        let hi = self.prev_offset + len.saturating_sub(self.overlap).max(1);
        (self.prev_offset + 1, hi)
    }

    /// The offset a resumed pass starts at: the first record not yet delivered.
    pub(crate) fn resume_at(&self) -> u64 {
        self.prev_offset + self.prev.as_ref().map_or(0, |p| p.len() as u64)
    }

    /// The page did not join: records were deleted before it. Asks for more overlap, then for
    /// pages further back than the last one taken.
    fn widen_after_shift(&mut self) {
        self.repairs += 1;
        let len = self.prev.as_ref().map_or(0, |p| p.len() as u64);
        // Shifts come in bursts (every page in flight saw a few more deletes), so the overlap
        // grows by a quarter page at once, not by doubling from one record.
        let wider = (self.overlap * 2).max(len / 4);
        match self.deep {
            Some(b) => self.deep = Some(b.saturating_mul(2)),
            None if wider < len => self.overlap = wider,
            None if self.overlap + 1 < len => self.overlap = len - 1,
            None => self.deep = Some(len.max(1)),
        }
    }

    /// Whether a page's numeric ids (`None`: not all numeric) still rise, within the page and
    /// from its first new record (at `start`) on past what was delivered.
    fn still_rising(&self, nums: Option<&[u64]>, joined: bool, start: usize) -> bool {
        nums.is_some_and(|v| {
            v.windows(2).all(|w| w[0] < w[1])
                && match (joined, self.frontier, v.get(start)) {
                    // The highest id delivered may follow the overlap again (a page stepped
                    // back past it); ids below it would be out of order.
                    (true, Some(f), Some(&first_new)) => first_new >= f,
                    _ => true,
                }
        })
    }

    /// Takes the page read at `offset` (its record ids in answer order, and its `meta.total`).
    pub(crate) fn take(&mut self, offset: u64, ids: &[String], total: Option<u64>) -> Step {
        let n = ids.len() as u64;
        // Where the page joins: after the latest record of the previous page it holds.
        let anchor = self.prev.as_ref().and_then(|prev| {
            prev.iter()
                .enumerate()
                .rev()
                .find_map(|(j, p)| ids.iter().position(|id| id == p).map(|i| (j, i)))
        });
        let joins = self.prev.is_none() || offset == 0 || anchor.is_some();
        if !joins {
            self.widen_after_shift();
            return Step::Back;
        }
        if n == PAGE_LIMIT && self.prev.as_deref() == Some(ids) && offset > 0 {
            return Step::Repeated;
        }
        if let (Some(prev), Some((j, i)), None) = (&self.prev, anchor, self.deep) {
            // How far the list moved left since the previous page: keep at least twice that
            // as overlap; halve it while the list holds still.
            if j + 1 == prev.len() {
                let expected = (self.prev_offset + j as u64).saturating_sub(offset);
                let shift = expected.saturating_sub(i as u64);
                self.overlap = (self.overlap / 2).max(2 * shift + 1).max(MIN_OVERLAP);
            }
        }
        self.deep = None;
        let start = anchor.map_or(0, |(_, i)| i + 1);
        let nums = numeric(ids);
        let disorder =
            self.ascending && !self.still_rising(nums.as_deref(), anchor.is_some(), start);
        if disorder {
            self.ascending = false;
            // Earlier pages are behind the anchor; the previous page's ids guard the overlap.
            self.seen.extend(self.prev.iter().flatten().cloned());
        }
        let keep: Vec<usize> = (start..ids.len())
            .filter(|&i| {
                if self.ascending {
                    // Only a re-read from offset 0 that no longer holds the previous page can
                    // bring ids already delivered; they are the ones at or below the frontier.
                    nums.as_ref()
                        .is_some_and(|v| self.frontier.is_none_or(|f| v[i] > f))
                } else {
                    self.seen.insert(ids[i].clone())
                }
            })
            .collect();
        if self.ascending {
            if let Some(&last) = nums.as_ref().and_then(|v| v.last()) {
                self.frontier = Some(self.frontier.map_or(last, |f| f.max(last)));
            }
        }
        let advanced = start < ids.len();
        // A short page that joins is the list's end when it was read; the count can only say
        // that a server capping its pages has more.
        let end = n < PAGE_LIMIT && (n == 0 || !advanced || total.is_none_or(|t| offset + n >= t));
        self.prev = Some(ids.to_vec());
        self.prev_offset = offset;
        if n < PAGE_LIMIT {
            self.overlap = MIN_OVERLAP;
        }
        Step::Take {
            keep,
            end,
            disorder: disorder && nums.is_some(),
        }
    }
}

#[cfg(test)]
#[path = "paging_tests.rs"]
mod tests;
