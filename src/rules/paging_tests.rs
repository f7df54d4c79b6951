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
        match chain.take(at, &page_ids, total(&list)) {
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
        match chain.take(at as u64, &ids(page.clone()), Some(300)) {
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
    let step = chain.take(0, &ids(1..=20), Some(95));
    assert!(matches!(step, Step::Take { ref keep, end: false, .. } if keep.len() == 20));
    assert_eq!(chain.want(), (1, 19));
    let step = chain.take(19, &ids(20..=39), Some(95));
    // The overlap record is not delivered twice.
    assert!(matches!(step, Step::Take { ref keep, end: false, .. } if keep.len() == 19));
    assert_eq!(chain.want(), (20, 38));
    // Without a count, or with one that agrees, a short page ends the list.
    let mut chain = Chain::new(0);
    assert!(matches!(
        chain.take(0, &ids(1..=20), None),
        Step::Take { end: true, .. }
    ));
}

#[test]
fn an_empty_page_past_the_start_does_not_end_the_list() {
    let mut chain = Chain::new(0);
    let step = chain.take(0, &ids(1..=100), Some(150));
    assert!(matches!(step, Step::Take { end: false, .. }));
    assert_eq!(chain.want(), (1, 99));
    assert_eq!(chain.take(99, &[], Some(0)), Step::Back);
    // More overlap first (a quarter page, then doubling), then pages before the last one
    // taken.
    assert_eq!(chain.want(), (1, 75));
    assert_eq!(chain.take(75, &[], Some(0)), Step::Back);
    assert_eq!(chain.want(), (1, 50));
    assert_eq!(chain.take(50, &[], Some(0)), Step::Back);
    assert_eq!(chain.want(), (1, 1));
    assert_eq!(chain.take(1, &[], Some(0)), Step::Back);
    assert_eq!(chain.want(), (0, 0));
    assert_eq!(chain.repairs, 4);
    // Offset 0 always joins: an empty list there is the end.
    assert!(matches!(
        chain.take(0, &[], Some(0)),
        Step::Take { end: true, .. }
    ));
}

#[test]
fn the_same_page_at_two_offsets_is_caught() {
    let mut chain = Chain::new(0);
    let page = ids(1..=100);
    assert!(matches!(chain.take(0, &page, None), Step::Take { .. }));
    assert_eq!(chain.take(99, &page, None), Step::Repeated);
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
    assert_eq!(chain.take(297, &ids(page), Some(448)), Step::Back);
    let mut got = vec![];
    loop {
        let at = chain.want().1;
        let page: Vec<u64> = list.iter().copied().skip(at as usize).take(100).collect();
        match chain.take(at, &ids(page.clone()), Some(448)) {
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
    let step = chain.take(500, &ids(501..=600), Some(1_000));
    assert!(matches!(step, Step::Take { ref keep, end: false, .. } if keep.len() == 100));
    assert_eq!(chain.resume_at(), 600);
}

/// Tests of `Chain::take`'s rules one page at a time: which pages join, which records of a page
/// are new, when the list ends, how the overlap grows and shrinks, how far a repair steps back,
/// and what a resumed pass starts from. Each expectation is worked out by hand from the offsets
/// and ids of the pages, not by asking the chain.
mod take {
    use super::*;

    /// Ids as the API sends them (strings).
    fn ids(r: impl IntoIterator<Item = u64>) -> Vec<String> {
        r.into_iter().map(|i| i.to_string()).collect()
    }

    /// The indices kept by a step that takes its page, with its end and disorder flags.
    fn took(step: Step) -> (Vec<usize>, bool, bool) {
        match step {
            Step::Take {
                keep,
                end,
                disorder,
            } => (keep, end, disorder),
            other => panic!("expected the page to be taken, got {other:?}"),
        }
    }

    #[test]
    fn numeric_reads_every_id_or_none() {
        assert_eq!(numeric(&ids([5, 6, 70])), Some(vec![5, 6, 70]));
        assert_eq!(numeric(&[" 7 ".to_string()]), Some(vec![7]));
        assert_eq!(numeric(&[]), Some(vec![]));
        assert_eq!(numeric(&["5".into(), "x5".into()]), None);
        assert_eq!(numeric(&["-1".into()]), None);
    }

    #[test]
    fn a_rising_read_keeps_what_follows_the_overlap_and_stays_ascending() {
        let mut chain = Chain::new(0);
        assert_eq!(chain.want(), (0, 0));
        let (keep, end, disorder) = took(chain.take(0, &ids(1..=100), Some(150)));
        assert_eq!(keep, (0..100).collect::<Vec<_>>());
        assert!(!end && !disorder);
        assert!(chain.ascending());
        // One record of overlap: the next page starts anywhere from offset 1 to offset 99.
        assert_eq!(chain.want(), (1, 99));
        assert_eq!(chain.overlap(), 1);
        assert_eq!(chain.resume_at(), 100);
        // The page at 99 starts with id 100, the last one taken: ids 101..=150 are new.
        let (keep, end, disorder) = took(chain.take(99, &ids(100..=150), Some(150)));
        assert_eq!(keep, (1..51).collect::<Vec<_>>());
        assert!(
            end,
            "a short page that joins and agrees with the count ends the list"
        );
        assert!(!disorder);
        assert!(chain.ascending());
        assert_eq!(chain.resume_at(), 150);
        assert_eq!(chain.last_ids(2), ids([149, 150]));
        assert_eq!(chain.last_ids(500).len(), 51);
    }

    #[test]
    fn ids_that_do_not_rise_within_the_first_page_are_disorder() {
        let mut chain = Chain::new(0);
        let (keep, end, disorder) = took(chain.take(0, &ids([3, 1, 2]), None));
        assert_eq!(keep, [0, 1, 2]);
        assert!(end && disorder);
        assert!(!chain.ascending());
        // A tie is not a rise either.
        let mut chain = Chain::new(0);
        let (_, _, disorder) = took(chain.take(0, &ids([1, 2, 2, 3]), None));
        assert!(disorder);
        assert!(!chain.ascending());
        // Names are not numbers: the chain reads on by identity, with no order to warn about.
        let mut chain = Chain::new(0);
        let names: Vec<String> = ["b", "a"].iter().map(|s| s.to_string()).collect();
        let (keep, _, disorder) = took(chain.take(0, &names, None));
        assert_eq!(keep, [0, 1]);
        assert!(!disorder);
        assert!(!chain.ascending());
    }

    #[test]
    fn a_new_id_below_the_highest_delivered_is_disorder_and_still_delivered() {
        // Ids 10, 20, ..., 1000; the next page joins at 990 but then brings 995, below 1000.
        let mut chain = Chain::new(0);
        took(chain.take(0, &ids((1..=100).map(|i| i * 10)), None));
        let (keep, end, disorder) = took(chain.take(98, &ids([990, 995, 1_005]), None));
        assert!(disorder);
        assert!(end);
        assert!(!chain.ascending());
        // 990 is the overlap; 995 and 1005 were never delivered.
        assert_eq!(keep, [1, 2]);
        // From now on identity decides: a page repeating 995 and 1005 brings nothing new.
        let (keep, _, disorder) = took(chain.take(99, &ids([995, 1_005, 7]), None));
        assert_eq!(keep, [2]);
        assert!(!disorder, "disorder is reported once");
    }

    #[test]
    fn a_record_already_delivered_is_not_delivered_again_from_offset_zero() {
        let mut chain = Chain::new(0);
        took(chain.take(0, &ids(1..=100), None));
        // The tail vanished for a moment: offset 0 always joins; nothing on it is new.
        let (keep, end, _) = took(chain.take(0, &ids(1..=50), None));
        assert!(keep.is_empty());
        assert!(end);
        // Offset 0 again, now without any id of the page before: only ids above 100 are new.
        let (keep, _, disorder) = took(chain.take(0, &ids([100, 101]), None));
        assert_eq!(keep, [1]);
        assert!(!disorder);
    }

    #[test]
    fn the_highest_id_delivered_right_after_the_overlap_is_no_disorder_and_not_delivered_again() {
        let mut chain = Chain::new(0);
        took(chain.take(0, &ids(1..=100), None));
        // Records 51..=99 vanished for a moment: offset 0 shows 1..=50, nothing new.
        let (keep, _, _) = took(chain.take(0, &ids(1..=50), None));
        assert!(keep.is_empty());
        // Then the page after it joins at 50 and goes on with 100, already delivered: ids still
        // rise, so only 101 is new.
        let (keep, _, disorder) = took(chain.take(49, &ids([50, 100, 101]), None));
        assert_eq!(keep, [2], "100 was delivered already");
        assert!(!disorder);
        assert!(chain.ascending());
    }

    #[test]
    fn the_same_full_page_at_offset_zero_is_a_reread_not_a_repeat() {
        let mut chain = Chain::new(0);
        took(chain.take(0, &ids(1..=100), None));
        let (keep, end, _) = took(chain.take(0, &ids(1..=100), None));
        assert!(keep.is_empty());
        assert!(!end, "a full page never ends the list");
        // The same page further on is the server ignoring `offset`.
        assert_eq!(chain.take(50, &ids(1..=100), None), Step::Repeated);
        // A short page equal to the one before is not a repeat: it is the end of a short list.
        let mut chain = Chain::new(0);
        took(chain.take(0, &ids(1..=10), None));
        let (keep, end, _) = took(chain.take(9, &ids(1..=10), None));
        assert!(keep.is_empty());
        assert!(end);
    }

    #[test]
    fn a_shift_widens_the_overlap_to_twice_the_shift_and_a_still_list_halves_it() {
        let mut chain = Chain::new(0);
        took(chain.take(0, &ids(1..=100), None));
        // Asked at 90, the page starts at id 94, not 91: three records before it were deleted.
        // Id 100 (position 99 of the last page) is at position 6 instead of 9.
        let (keep, _, _) = took(chain.take(90, &ids(94..=193), None));
        assert_eq!(keep, (7..100).collect::<Vec<_>>());
        assert_eq!(chain.overlap(), 7, "2 * 3 + 1");
        assert_eq!(chain.want(), (91, 90 + 100 - 7));
        // Nothing moves: the page at 183 starts with id 187 (183 - 90 + 94); 193 is at position 6,
        // where it belongs, and the overlap halves (7 / 2 = 3).
        let (keep, _, _) = took(chain.take(183, &ids(187..=286), None));
        assert_eq!(keep, (7..100).collect::<Vec<_>>());
        assert_eq!(chain.overlap(), 3);
        // The next page is judged from the page just taken: the anchor 286 at position 3 of the
        // page at 280 is exactly where it belongs.
        assert_eq!(chain.want(), (184, 183 + 100 - 3));
        took(chain.take(280, &ids(283..=382), None));
        assert_eq!(chain.overlap(), 1);
        // A short page that joins ends the list and resets the overlap.
        let (keep, end, _) = took(chain.take(379, &ids(382..=390), None));
        assert_eq!(keep, (1..9).collect::<Vec<_>>());
        assert!(end);
        assert_eq!(chain.overlap(), 1);
    }

    #[test]
    fn the_overlap_is_judged_only_when_the_last_record_of_the_page_before_is_found() {
        let mut chain = Chain::new(0);
        took(chain.take(0, &ids(1..=100), None));
        // One failed join widens the overlap to a quarter page.
        assert_eq!(chain.take(99, &ids(300..=399), None), Step::Back);
        assert_eq!(chain.overlap(), 25);
        // This page holds id 80 but not 100 (20 records after 80 vanished, or moved): the anchor
        // is 80, not the last of the page before, so the overlap is not re-judged (no halving).
        let mut page = ids(70..=80);
        page.extend(ids(200..=288));
        let (keep, _, _) = took(chain.take(69, &page, None));
        assert_eq!(keep, (11..100).collect::<Vec<_>>());
        assert_eq!(chain.overlap(), 25);
        // Now the anchor is the last record (288 at position 24 of the page at 175, where it
        // belongs): the overlap halves to 12 and a short page then resets it to 1.
        let mut page = ids(264..=288);
        page.extend(ids(400..=474));
        took(chain.take(175, &page, None));
        assert_eq!(chain.overlap(), 12);
        assert_eq!(chain.want(), (176, 175 + 100 - 12));
        let (_, end, _) = took(chain.take(263, &ids([474, 475]), None));
        assert!(end);
        assert_eq!(chain.overlap(), 1);
    }

    #[test]
    fn repairs_widen_the_overlap_then_step_back_doubling() {
        let mut chain = Chain::new(1_000);
        took(chain.take(1_000, &ids(2_001..=2_100), None));
        assert_eq!(chain.want(), (1_001, 1_099));
        let missing = ids(5_000..5_100);
        // A quarter page, then doubling, then all but one record of the page.
        for (overlap, want) in [(25, 1_075), (50, 1_050), (99, 1_001)] {
            assert_eq!(chain.take(chain.want().1, &missing, None), Step::Back);
            assert_eq!(chain.overlap(), overlap);
            assert_eq!(chain.want(), (1_001, want));
        }
        // Then pages before the last one taken: one page back, two, four, eight (down to 0).
        for at in [900, 800, 600, 200, 0] {
            assert_eq!(chain.take(chain.want().1, &missing, None), Step::Back);
            assert_eq!(chain.want(), (at, at));
        }
        assert_eq!(chain.repairs, 8);
        // Offset 0 joins whatever it holds; the step back is over, but the overlap stays wide
        // (the list is moving) until a page finds the last record where it belongs.
        let (keep, _, _) = took(chain.take(0, &ids(2_050..=2_149), None));
        assert_eq!(keep, (51..100).collect::<Vec<_>>());
        assert_eq!(chain.overlap(), 99);
        assert_eq!(chain.want(), (1, 1));
        // At 1 the page holds 2149 at position 98, where it belongs: half the overlap (49).
        took(chain.take(1, &ids(2_051..=2_150), None));
        assert_eq!(chain.overlap(), 49);
        assert_eq!(chain.want(), (2, 1 + 100 - 49));
    }

    #[test]
    fn a_short_page_steps_back_by_its_length_when_the_overlap_cannot_grow() {
        // The last run delivered ids 9 and 10 at offsets 8 and 9.
        let mut chain = Chain::resumed(10, ids([9, 10]));
        assert_eq!(chain.want(), (9, 9));
        // The page at 9 holds neither: with two records there is no overlap to widen to.
        assert_eq!(chain.take(9, &ids([12, 13]), None), Step::Back);
        assert_eq!(chain.want(), (6, 6));
        assert_eq!(chain.take(6, &ids([14, 15]), None), Step::Back);
        assert_eq!(chain.want(), (4, 4));
        let (keep, end, _) = took(chain.take(4, &ids([8, 9, 10, 11]), None));
        assert_eq!(keep, [3]);
        assert!(end);
    }

    #[test]
    fn the_end_needs_a_short_page_that_joins_and_agrees_with_the_count() {
        // A short page with new records whose count says there are more: read on.
        let mut chain = Chain::new(0);
        let (_, end, _) = took(chain.take(0, &ids(1..=30), Some(31)));
        assert!(!end);
        // The count exactly reached: the end.
        let mut chain = Chain::new(0);
        let (_, end, _) = took(chain.take(0, &ids(1..=30), Some(30)));
        assert!(end);
        // A short page with nothing new ends the list whatever the count says.
        let mut chain = Chain::new(0);
        took(chain.take(0, &ids(1..=30), Some(500)));
        let (keep, end, _) = took(chain.take(29, &ids([30]), Some(500)));
        assert!(keep.is_empty());
        assert!(end);
        // An empty page that joins (offset 0) ends it too.
        let mut chain = Chain::new(0);
        let (keep, end, _) = took(chain.take(0, &[], Some(500)));
        assert!(keep.is_empty() && end);
        // A full page never does, even when the count says so.
        let mut chain = Chain::new(0);
        let (_, end, _) = took(chain.take(0, &ids(1..=100), Some(100)));
        assert!(!end);
    }

    #[test]
    fn a_resumed_pass_continues_the_ids_it_was_given() {
        let chain = Chain::resumed(300, ids([297, 298, 299]));
        assert_eq!(
            chain.want(),
            (298, 299),
            "one record of overlap after offset 297"
        );
        assert_eq!(chain.resume_at(), 300);
        assert_eq!(chain.last_ids(2), ids([298, 299]));
        assert_eq!(chain.last_ids(9), ids([297, 298, 299]));
        // Its frontier is the last id given: 299 on the next page is not new, 300 is.
        let mut chain = chain;
        let (keep, _, disorder) = took(chain.take(299, &ids([299, 300]), None));
        assert_eq!(keep, [1]);
        assert!(!disorder);
        // No ids, or more ids than records before the offset: a plain start at the offset.
        for chain in [
            Chain::resumed(500, vec![]),
            Chain::resumed(2, ids([1, 2, 3, 4, 5])),
        ] {
            let at = chain.resume_at();
            assert_eq!(chain.want(), (at, at));
            assert!(chain.last_ids(5).is_empty());
        }
        assert_eq!(Chain::resumed(500, vec![]).resume_at(), 500);
        assert_eq!(Chain::resumed(2, ids([1, 2, 3, 4, 5])).resume_at(), 2);
        // A resumed first page that does not continue the ids is a shift: step back.
        let mut chain = Chain::resumed(300, ids([297, 298, 299]));
        assert_eq!(chain.take(299, &ids(310..=409), None), Step::Back);
    }
}

/// Ids that are not numbers (custom object records carry UUIDs) have no id order to break: the
/// pass reads them through with its seen set and raises no "ids do not rise" warning, which
/// would otherwise come on every full read of such a list.
#[test]
fn uuid_ids_are_read_through_without_a_disorder_warning() {
    let list: Vec<String> = (0..250u32)
        .map(|i| {
            format!(
                "{:08x}-1111-4222-8333-{:012x}",
                i.wrapping_mul(2_654_435_761) ^ 0x5bd1_e995,
                i
            )
        })
        .collect();
    let mut chain = Chain::new(0);
    let mut got: Vec<String> = vec![];
    loop {
        let at = chain.want().1 as usize;
        let page: Vec<String> = list.iter().skip(at).take(100).cloned().collect();
        match chain.take(at as u64, &page, Some(250)) {
            Step::Take {
                keep,
                end,
                disorder,
            } => {
                assert!(!disorder, "a warning at offset {at}");
                got.extend(keep.iter().map(|&i| page[i].clone()));
                if end {
                    break;
                }
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(got, list, "each record once, in list order");
    // Numeric ids out of order still warn (disorder_is_reported_once_and_read_through).
}
