use super::*;
use std::collections::BTreeSet;

fn set(ids: &[&str]) -> IdSet {
    let mut s = IdSet::default();
    for id in ids {
        s.insert(id);
    }
    s
}

fn roundtrip(s: &IdSet) -> IdSet {
    let other = s.other_ids().map(String::from).collect();
    IdSet::decode(&s.encode_runs(), other).expect("decodes")
}

/// A tiny deterministic generator (xorshift), so the model test needs no crate.
fn next(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

#[test]
fn runs_merge_from_either_side_and_in_the_middle() {
    let s = set(&["1", "3", "2", "5", "7", "6", "3"]);
    assert_eq!(s.len(), 6);
    assert_eq!(s.runs(), 2, "1-3 and 5-7");
    let s = set(&["10", "12", "11"]);
    assert_eq!((s.len(), s.runs()), (3, 1));
}

#[test]
fn gone_names_exactly_the_missing_ids() {
    let before = set(&["1", "2", "3", "4", "5", "9", "10", "abc", "def"]);
    let now = set(&["2", "4", "9", "11", "def", "xyz"]);
    let gone: Vec<String> = before.gone(&now).collect();
    assert_eq!(gone, ["1", "3", "5", "10", "abc"]);
    assert_eq!(before.count_gone(&now), 5);
    assert_eq!(now.count_gone(&now), 0);
    assert_eq!(set(&[]).count_gone(&now), 0);
    let all: Vec<String> = now.gone(&IdSet::default()).collect();
    assert_eq!(all, ["2", "4", "9", "11", "def", "xyz"]);
}

#[test]
fn a_run_covered_from_before_its_start_is_not_gone() {
    let before = set(&["5", "6", "7"]);
    let now = set(&["3", "4", "5", "6", "7", "8"]);
    assert_eq!(before.count_gone(&now), 0);
    let now = set(&["3", "4", "5", "7"]);
    assert_eq!(before.gone(&now).collect::<Vec<_>>(), ["6"]);
}

#[test]
fn the_largest_ids_work() {
    // Ids of up to 19 digits are numbers; longer ones are text (see the next test).
    let max = "9999999999999999999".to_string();
    let below = "9999999999999999998".to_string();
    let s = set(&[&max, &below]);
    assert_eq!((s.len(), s.runs()), (2, 1));
    assert_eq!(roundtrip(&s), s);
    assert_eq!(s.gone(&set(&[&max])).collect::<Vec<_>>(), [below]);
}

#[test]
fn ids_that_are_not_canonical_numbers_are_kept_as_text() {
    // "007" must come back as "007", not "7": a deletion record names the row's own key.
    let s = set(&["007", "-1", "1.0", "18446744073709551616", "7"]);
    assert_eq!(s.runs(), 1);
    let other: Vec<&str> = s.other_ids().collect();
    assert_eq!(other, ["-1", "007", "1.0", "18446744073709551616"]);
    assert_eq!(roundtrip(&s), s);
}

#[test]
fn too_many_text_ids_or_an_empty_id_make_the_set_unusable() {
    let mut s = IdSet::default();
    for i in 0..MAX_OTHER_IDS {
        s.insert(&format!("u-{i}"));
    }
    s.insert("u-0");
    assert!(s.usable(), "an id already held is no overflow");
    s.insert("u-new");
    assert!(!s.usable());
    let mut e = set(&["1"]);
    e.insert("");
    assert!(!e.usable());
    let mut u = set(&["2"]);
    u.extend(&e);
    assert!(!u.usable(), "a union with an unusable set is unusable");
}

#[test]
fn extend_is_a_union() {
    let mut a = set(&["1", "2", "8", "x"]);
    a.extend(&set(&["2", "3", "9", "y"]));
    assert_eq!(a, set(&["1", "2", "3", "8", "9", "x", "y"]));
}

#[test]
fn state_text_round_trips_and_bad_text_is_refused() {
    let s = set(&["1", "2", "3", "300", "301", "70000", "b-1"]);
    let runs = s.encode_runs();
    assert!(runs
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/'));
    assert_eq!(roundtrip(&s), s);
    assert_eq!(roundtrip(&IdSet::default()), IdSet::default());
    assert!(IdSet::decode("*", vec![]).is_err(), "not base64");
    assert!(
        IdSet::decode("A", vec![]).is_err(),
        "a lone base64 character"
    );
    assert!(IdSet::decode("gA", vec![]).is_err(), "ends inside a varint");
    // Two runs with no gap between them would be one run: not what encode writes.
    let touching = base64_encode(&[1, 0, 0, 0]);
    assert!(IdSet::decode(&touching, vec![]).is_err());
    assert!(
        IdSet::decode("", vec!["12".into()]).is_err(),
        "numeric id among texts"
    );
    let huge = base64_encode(&[
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 5,
    ]);
    assert!(IdSet::decode(&huge, vec![]).is_err(), "past the largest id");
}

#[test]
fn base64_matches_the_standard_alphabet() {
    assert_eq!(base64_encode(b"Man"), "TWFu");
    assert_eq!(base64_encode(b"Ma"), "TWE");
    assert_eq!(base64_encode(b"M"), "TQ");
    for text in ["TWFu", "TWE", "TQ", "TWE=", "TQ=="] {
        let b = base64_decode(text).expect("decodes");
        assert_eq!(base64_encode(&b), text.trim_end_matches('='));
    }
    let all: Vec<u8> = (0..=255).collect();
    assert_eq!(base64_decode(&base64_encode(&all)), Some(all));
}

#[test]
fn matches_a_plain_set_on_random_ids() {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for round in 0..200 {
        let spread = [10, 50, 300, 5000][round % 4];
        let (mut a, mut b) = (IdSet::default(), IdSet::default());
        let (mut ma, mut mb) = (BTreeSet::new(), BTreeSet::new());
        for _ in 0..(next(&mut x) % 200) {
            let id = (next(&mut x) % spread).to_string();
            a.insert(&id);
            ma.insert(id);
        }
        for _ in 0..(next(&mut x) % 200) {
            let id = (next(&mut x) % spread).to_string();
            b.insert(&id);
            mb.insert(id);
        }
        let mut want: Vec<u64> = ma.difference(&mb).filter_map(|s| s.parse().ok()).collect();
        want.sort_unstable();
        let got: Vec<u64> = a.gone(&b).filter_map(|s| s.parse().ok()).collect();
        assert_eq!(got, want, "round {round}");
        assert_eq!(a.count_gone(&b), want.len() as u64);
        assert_eq!(a.len(), ma.len() as u64);
        assert_eq!(roundtrip(&a), a);
    }
}

/// The measure: the state of a stream with 1,000,000 ids stays well under 1 MB, dense or
/// with 10 % of the ids gone at random. Prints the sizes (docs/deletions.md quotes them).
#[test]
fn a_million_ids_fit_well_under_a_megabyte() {
    let mut dense = IdSet::default();
    let mut gappy = IdSet::default();
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut n = 0u64;
    let mut id = 1u64;
    while n < 1_000_000 {
        dense.insert(&id.to_string());
        if !next(&mut x).is_multiple_of(10) {
            gappy.insert(&id.to_string());
            n += 1;
        }
        id += 1;
    }
    let dense = IdSet::decode(&dense.encode_runs(), vec![]).expect("dense");
    let (d, g) = (dense.encode_runs().len(), gappy.encode_runs().len());
    println!(
        "state of 1,000,000 ids: dense {d} bytes; 10 % gaps {g} bytes in {} runs",
        gappy.runs()
    );
    assert!(d < 100, "dense ids are one run: {d} bytes");
    assert!(g < 400_000, "10 % gaps: {g} bytes");
    assert_eq!(gappy.len(), 1_000_000);
    assert_eq!(roundtrip(&gappy), gappy);
}
