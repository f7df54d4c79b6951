use super::*;

#[test]
fn warnings_that_hold_something_back_are_classified() {
    let h = classify("tags: 4 of 12 rows would be deleted, more than deletion_guard_share allows; no deletion reported. Check the account").unwrap();
    assert_eq!((h.stream.as_str(), h.why), ("tags", "deletion guard"));
    assert!(h.fix.contains("deletion_guard_share 1"));
    let h = classify("contacts: this pass resumed from a mid-pass state, so it finds no deletions; the next complete pass compares with the last one and finds them").unwrap();
    assert_eq!((h.stream.as_str(), h.why), ("contacts", "resumed pass"));
    let h = classify("contact_tags: the API does not order the list by cdate newest first (x); reading the whole list instead (records already delivered may come again)").unwrap();
    assert_eq!(h.why, "fallback");
    // Retries and other notes hold nothing back.
    assert_eq!(
        classify("tags: page 2 failed (server error (500)); retry 1 in 1000 ms"),
        None
    );
    assert_eq!(classify("no stream here"), None);
}

/// The texts matched are the component's own: each is in the source that writes it, so a
/// reworded warning fails here instead of silently dropping out of the report.
#[test]
fn every_text_matched_is_written_by_the_component() {
    let sources = [include_str!("../../src/engine/decision.rs")].concat();
    for (needle, _, _) in KINDS {
        assert!(
            sources.contains(needle),
            "the component no longer says {needle:?}"
        );
    }
}
