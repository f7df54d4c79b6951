use super::*;

fn bounds(r: &IdRange) -> (u64, Option<u64>) {
    let num = |s: &Option<String>| s.as_deref().and_then(|v| v.parse::<u64>().ok());
    (num(&r.after).unwrap_or(0), num(&r.below))
}

#[test]
fn a_range_splits_into_whole_pages_all_bounded() {
    // 3,800 ids over 8 lanes: 475 a lane would end every range on a part page; 500 doesn't.
    let rs = split_range(200, 4_000, 8);
    assert_eq!(rs.len(), 8);
    let mut at = 200;
    for r in &rs {
        let (after, below) = bounds(r);
        assert_eq!(after, at, "ranges follow each other: {rs:?}");
        let below = below.unwrap_or(0);
        assert!(below - after - 1 <= 500, "ids a range holds: {rs:?}");
        at = below - 1;
    }
    assert_eq!(bounds(&rs[6]), (3_200, Some(3_701)), "{rs:?}");
    assert_eq!(
        bounds(&rs[7]),
        (3_700, Some(4_001)),
        "the last ends at the top id: {rs:?}"
    );
    // Few ids: fewer ranges than lanes, never an empty one.
    let rs = split_range(0, 250, 8);
    assert_eq!(rs.len(), 3, "{rs:?}");
    assert_eq!(bounds(&rs[0]), (0, Some(101)));
    assert_eq!(bounds(&rs[2]), (200, Some(251)));
    assert!(split_range(5, 5, 8).is_empty());
    assert!(split_range(9, 5, 8).is_empty());
}
