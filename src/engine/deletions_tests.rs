use super::*;

fn ids(list: &[u64]) -> IdSet {
    let mut s = IdSet::default();
    for i in list {
        s.insert(&i.to_string());
    }
    s
}

#[test]
fn the_first_pass_is_the_baseline() {
    assert_eq!(compare(None, &ids(&[1, 2]), 0.25), Gone::First);
}

#[test]
fn a_few_gone_are_deleted() {
    let before = ids(&(1..=100).collect::<Vec<_>>());
    let now = ids(&(1..=90).collect::<Vec<_>>());
    assert_eq!(compare(Some(&before), &now, 0.25), Gone::Deleted(10));
    assert_eq!(compare(Some(&before), &before, 0.25), Gone::Deleted(0));
}

#[test]
fn an_empty_list_deletes_nothing() {
    assert_eq!(compare(Some(&ids(&[1])), &ids(&[]), 1.0), Gone::Empty);
    // Nothing before, nothing now: nothing gone, nothing held.
    assert_eq!(compare(Some(&ids(&[])), &ids(&[]), 0.25), Gone::Deleted(0));
}

#[test]
fn the_guard_holds_more_than_its_share_above_the_floor() {
    let before = ids(&(1..=100).collect::<Vec<_>>());
    let now = ids(&(1..=74).collect::<Vec<_>>());
    assert_eq!(compare(Some(&before), &now, 0.25), Gone::Guarded(26));
    assert_eq!(compare(Some(&before), &now, 0.26), Gone::Deleted(26));
    let now = ids(&(1..=75).collect::<Vec<_>>());
    assert_eq!(
        compare(Some(&before), &now, 0.25),
        Gone::Deleted(25),
        "exactly the share"
    );
    // Small tables: up to GUARD_FLOOR rows may go whatever the share.
    let three = ids(&[1, 2, 3]);
    assert_eq!(compare(Some(&three), &ids(&[3]), 0.25), Gone::Deleted(2));
    let four = ids(&[1, 2, 3, 4]);
    assert_eq!(compare(Some(&four), &ids(&[4]), 0.25), Gone::Guarded(3));
}
