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

use crate::request::PAGE_LIMIT;
use std::collections::HashSet;

/// Records of overlap between consecutive pages while the list holds still.
pub const MIN_OVERLAP: u64 = 1;

/// Step-backs allowed in one pass before giving up: each one needs the list to have changed
/// between two requests by more than the overlap, so this many means it never holds still.
pub const MAX_REPAIRS: u32 = 2_000;

/// What to do after a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The page joins: deliver the records at `keep` (indices into the page); the pass ends
    /// with it when `end`, else the next page is at [`Chain::want`].
    Take {
        keep: Vec<usize>,
        end: bool,
        /// Ids stopped rising with this page (worth a warning, once).
        disorder: bool,
    },
    /// The page does not join: read the page at [`Chain::want`] (earlier) first.
    Back,
    /// The page is the previous page again, at another offset: the server ignores `offset`.
    Repeated,
}

/// What one pass of offset paging has read so far.
#[derive(Debug, Clone)]
pub struct Chain {
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
    pub repairs: u32,
}

/// The numeric value of each id, when every one is a number.
fn numeric(ids: &[String]) -> Option<Vec<u64>> {
    ids.iter().map(|s| s.trim().parse::<u64>().ok()).collect()
}

impl Chain {
    /// A pass that starts (or resumes) at `offset`.
    pub fn new(offset: u64) -> Chain {
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
    pub fn overlap(&self) -> u64 {
        self.overlap
    }

    /// A pass resumed at `offset` (the first record not delivered) after the records with
    /// `last_ids`, the last ones delivered: the first page starts one record early and must
    /// continue them, as any page must continue the one before.
    pub fn resumed(offset: u64, last_ids: Vec<String>) -> Chain {
        let mut chain = Chain::new(offset);
        if !last_ids.is_empty() && offset >= last_ids.len() as u64 {
            chain.prev_offset = offset - last_ids.len() as u64;
            chain.frontier = numeric(&last_ids).and_then(|v| v.last().copied());
            chain.prev = Some(last_ids);
        }
        chain
    }

    /// The ids of the last records delivered (at most `n`), for a resumed pass to continue.
    pub fn last_ids(&self, n: usize) -> Vec<String> {
        let prev = self.prev.as_deref().unwrap_or(&[]);
        prev[prev.len().saturating_sub(n)..].to_vec()
    }

    /// Whether ids have risen throughout the pass.
    pub fn ascending(&self) -> bool {
        self.ascending
    }

    /// Offsets the next page may start at (inclusive): any page in the range joins a list that
    /// holds still; the engine asks for the highest one (the most progress).
    pub fn want(&self) -> (u64, u64) {
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
    pub fn resume_at(&self) -> u64 {
        self.prev_offset + self.prev.as_ref().map_or(0, |p| p.len() as u64)
    }

    /// Judges the page read at `offset` (its record ids in answer order, and its `meta.total`).
    pub fn judge(&mut self, offset: u64, ids: &[String], total: Option<u64>) -> Step {
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
            // Records were deleted before this page: ask for more overlap, then for pages
            // further back than the last one taken.
            self.repairs += 1;
            let len = self.prev.as_ref().map_or(0, |p| p.len() as u64);
            // Shifts come in bursts (every page in flight saw a few more deletes), so the
            // overlap grows by a quarter page at once, not by doubling from one record.
            let wider = (self.overlap * 2).max(len / 4);
            match self.deep {
                Some(b) => self.deep = Some(b.saturating_mul(2)),
                None if wider < len => self.overlap = wider,
                None if self.overlap + 1 < len => self.overlap = len - 1,
                None => self.deep = Some(len.max(1)),
            }
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
        let mut disorder = false;
        if self.ascending {
            let rising = nums.as_ref().is_some_and(|v| {
                v.windows(2).all(|w| w[0] < w[1])
                    && match (anchor, self.frontier, v.get(start)) {
                        // The highest id delivered may follow the overlap again (a page
                        // stepped back past it); ids below it would be out of order.
                        (Some(_), Some(f), Some(&first_new)) => first_new >= f,
                        _ => true,
                    }
            });
            if !rising {
                self.ascending = false;
                disorder = true;
                // Earlier pages are behind the anchor; the previous page's ids guard the overlap.
                self.seen.extend(self.prev.iter().flatten().cloned());
            }
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
            disorder,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(r: impl IntoIterator<Item = u64>) -> Vec<String> {
        r.into_iter().map(|i| i.to_string()).collect()
    }

    /// Reads `list` (changed by `change` before each request) page by page, sequentially,
    /// following the chain's steps; returns the ids delivered and the requests made.
    fn drive(
        mut list: Vec<u64>,
        mut change: impl FnMut(&mut Vec<u64>, u32),
        total: impl Fn(&[u64]) -> Option<u64>,
    ) -> (Vec<u64>, u32) {
        let mut chain = Chain::new(0);
        let mut got = vec![];
        let mut requests = 0;
        loop {
            let at = chain.want().1;
            change(&mut list, requests);
            requests += 1;
            assert!(requests < 1_000, "paging does not end");
            let page: Vec<u64> = list
                .iter()
                .copied()
                .skip(at as usize)
                .take(PAGE_LIMIT as usize)
                .collect();
            let page_ids = ids(page.clone());
            match chain.judge(at, &page_ids, total(&list)) {
                Step::Take { keep, end, .. } => {
                    got.extend(keep.iter().map(|&i| page[i]));
                    if end {
                        return (got, requests);
                    }
                }
                Step::Back => {}
                Step::Repeated => panic!("repeated"),
            }
        }
    }

    /// The true count.
    fn exact(l: &[u64]) -> Option<u64> {
        Some(l.len() as u64)
    }

    #[test]
    fn a_still_list_is_read_once_with_one_record_of_overlap() {
        for n in [0u64, 1, 98, 99, 100, 198, 199, 250, 1_000] {
            let (got, requests) = drive((1..=n).collect(), |_, _| {}, exact);
            assert_eq!(got, (1..=n).collect::<Vec<_>>(), "n = {n}");
            assert!(
                requests as u64 <= n / (PAGE_LIMIT - 1) + 2,
                "n = {n}: {requests}"
            );
        }
    }

    #[test]
    fn the_count_never_ends_the_list() {
        for total in [Some(0), Some(50), Some(100), None] {
            let (got, _) = drive((1..=450).collect(), |_, _| {}, |_: &[u64]| total);
            assert_eq!(got, (1..=450).collect::<Vec<_>>(), "{total:?}");
        }
        // A stale count larger than the list costs at most one more request.
        let (got, requests) = drive((1..=250).collect(), |_, _| {}, |_: &[u64]| Some(900));
        assert_eq!(got.len(), 250);
        assert!(requests <= 4, "{requests}");
    }

    #[test]
    fn deletes_behind_the_read_position_are_repaired() {
        // Before every request, the second record is deleted and one is appended: the total
        // holds still, and every page shifts left by one.
        let mut next = 10_001;
        let (got, _) = drive(
            (1..=1_000).collect(),
            |l, _| {
                if l.len() > 1 {
                    l.remove(1);
                }
                l.push(next);
                next += 1;
            },
            exact,
        );
        let got_set: HashSet<u64> = got.iter().copied().collect();
        assert_eq!(got_set.len(), got.len(), "no id twice");
        // Ids 2..=40 were deleted during the read (one per request); the rest existed throughout.
        for id in 41..=1_000u64 {
            assert!(got_set.contains(&id), "{id} lost");
        }
        assert!(
            got.iter().all(|&i| i <= 1_000 || i > 10_000),
            "none invented"
        );
    }

    #[test]
    fn a_mass_delete_steps_back_further() {
        let (got, _) = drive(
            (1..=1_000).collect(),
            |l, r| {
                if r == 3 {
                    l.drain(0..350);
                }
            },
            exact,
        );
        let got: HashSet<u64> = got.into_iter().collect();
        for id in 351..=1_000u64 {
            assert!(got.contains(&id), "{id} lost");
        }
    }

    #[test]
    fn inserts_before_the_read_position_deliver_nothing_twice() {
        // An unordered server: new records land at the front.
        let mut next = 5_000;
        let (got, _) = drive(
            (1..=600).rev().collect(),
            |l, r| {
                if r % 2 == 1 {
                    l.insert(0, next);
                    next += 1;
                }
            },
            exact,
        );
        let set: HashSet<u64> = got.iter().copied().collect();
        assert_eq!(set.len(), got.len(), "no id twice");
        for id in 1..=600u64 {
            assert!(set.contains(&id), "{id} lost");
        }
    }

    #[test]
    fn disorder_is_reported_once_and_read_through() {
        let list: Vec<u64> = (1..=300).map(|i| (i * 7919) % 1_009).collect();
        let mut chain = Chain::new(0);
        let mut warned = 0;
        let mut got = vec![];
        loop {
            let at = chain.want().1 as usize;
            let page: Vec<u64> = list.iter().copied().skip(at).take(100).collect();
            match chain.judge(at as u64, &ids(page.clone()), Some(300)) {
                Step::Take {
                    keep,
                    end,
                    disorder,
                } => {
                    warned += disorder as u32;
                    got.extend(keep.iter().map(|&i| page[i]));
                    if end {
                        break;
                    }
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(warned, 1);
        assert!(!chain.ascending());
        assert_eq!(got, list);
    }

    #[test]
    fn a_capped_server_is_read_on_after_a_short_page() {
        let mut chain = Chain::new(0);
        // 20 records although 100 were asked, and the count says 95.
        let step = chain.judge(0, &ids(1..=20), Some(95));
        assert!(matches!(step, Step::Take { ref keep, end: false, .. } if keep.len() == 20));
        assert_eq!(chain.want(), (1, 19));
        let step = chain.judge(19, &ids(20..=39), Some(95));
        // The overlap record is not delivered twice.
        assert!(matches!(step, Step::Take { ref keep, end: false, .. } if keep.len() == 19));
        assert_eq!(chain.want(), (20, 38));
        // Without a count, or with one that agrees, a short page ends the list.
        let mut chain = Chain::new(0);
        assert!(matches!(
            chain.judge(0, &ids(1..=20), None),
            Step::Take { end: true, .. }
        ));
    }

    #[test]
    fn an_empty_page_past_the_start_does_not_end_the_list() {
        let mut chain = Chain::new(0);
        let step = chain.judge(0, &ids(1..=100), Some(150));
        assert!(matches!(step, Step::Take { end: false, .. }));
        assert_eq!(chain.want(), (1, 99));
        assert_eq!(chain.judge(99, &[], Some(0)), Step::Back);
        // More overlap first (a quarter page, then doubling), then pages before the last one
        // taken.
        assert_eq!(chain.want(), (1, 75));
        assert_eq!(chain.judge(75, &[], Some(0)), Step::Back);
        assert_eq!(chain.want(), (1, 50));
        assert_eq!(chain.judge(50, &[], Some(0)), Step::Back);
        assert_eq!(chain.want(), (1, 1));
        assert_eq!(chain.judge(1, &[], Some(0)), Step::Back);
        assert_eq!(chain.want(), (0, 0));
        assert_eq!(chain.repairs, 4);
        // Offset 0 always joins: an empty list there is the end.
        assert!(matches!(
            chain.judge(0, &[], Some(0)),
            Step::Take { end: true, .. }
        ));
    }

    #[test]
    fn the_same_page_at_two_offsets_is_caught() {
        let mut chain = Chain::new(0);
        let page = ids(1..=100);
        assert!(matches!(chain.judge(0, &page, None), Step::Take { .. }));
        assert_eq!(chain.judge(99, &page, None), Step::Repeated);
    }

    #[test]
    fn a_resumed_pass_checks_that_it_continues_the_last_run() {
        // The last run delivered 1..=298 (its last page: 199..=298); then 3 and 4 were deleted.
        let mut list: Vec<u64> = (1..=450).collect();
        list.retain(|&i| i != 3 && i != 4);
        let mut chain = Chain::resumed(298, ids(294..=298));
        assert_eq!(chain.want(), (294, 297), "one record of overlap");
        let page: Vec<u64> = list[297..397].to_vec();
        assert_eq!(page[0], 300, "the list shifted left by two");
        assert_eq!(chain.judge(297, &ids(page), Some(448)), Step::Back);
        let mut got = vec![];
        loop {
            let at = chain.want().1;
            let page: Vec<u64> = list.iter().copied().skip(at as usize).take(100).collect();
            match chain.judge(at, &ids(page.clone()), Some(448)) {
                Step::Take { keep, end, .. } => {
                    got.extend(keep.iter().map(|&i| page[i]));
                    if end {
                        break;
                    }
                }
                Step::Back => {}
                Step::Repeated => panic!("repeated"),
            }
        }
        assert_eq!(
            got,
            (299..=450).collect::<Vec<_>>(),
            "299 and 300 not skipped"
        );
        assert_eq!(chain.last_ids(3), ids(448..=450));
    }

    #[test]
    fn a_resumed_pass_starts_after_the_last_record_delivered() {
        let mut chain = Chain::new(500);
        assert_eq!(chain.want(), (500, 500));
        assert_eq!(chain.resume_at(), 500);
        let step = chain.judge(500, &ids(501..=600), Some(1_000));
        assert!(matches!(step, Step::Take { ref keep, end: false, .. } if keep.len() == 100));
        assert_eq!(chain.resume_at(), 600);
    }
}

#[cfg(test)]
#[path = "paging_tests.rs"]
mod judge_tests;
