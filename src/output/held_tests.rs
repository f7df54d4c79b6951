use super::*;

#[test]
fn held_back_warnings_are_told_from_other_notes() {
    assert!(holds_back("tags: 4 of 12 rows would be deleted, more than deletion_guard_share allows; no deletion reported"));
    assert!(holds_back("contacts: this pass resumed from a mid-pass state, so it finds no deletions; the next complete pass compares with the last one and finds them"));
    assert!(!holds_back(
        "tags: page 2 failed (server error (500)); retry 1 in 1000 ms"
    ));
}

/// Each text is the engine's own: a reworded warning fails here instead of dropping out of the
/// summary.
#[test]
fn every_text_is_written_by_the_engine() {
    let sources = [
        include_str!("../engine/deletions.rs"),
        include_str!("../engine/newest.rs"),
        include_str!("../engine/id_ranges.rs"),
    ]
    .concat();
    for needle in HELD_BACK {
        assert!(
            sources.contains(needle),
            "the engine no longer says {needle:?}"
        );
    }
}
