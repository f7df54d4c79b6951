//! Which warnings say a read held something back (deletions the guard kept, a resumed pass that
//! finds none, a list read in full because the API ignored an order), so the summary on stderr
//! repeats them where people look. The warnings name the stream and the fix themselves.

/// A part of each such warning's text, as the engine writes it.
const HELD_BACK: [&str; 5] = [
    "would be deleted, more than deletion_guard_share allows",
    "the list came back empty where the last complete pass had",
    "this pass resumed from a mid-pass state, so it finds no deletions",
    "reading the whole list instead",
    "with offset paging from the start instead",
];

/// Whether a warning says something was held back.
pub(crate) fn holds_back(message: &str) -> bool {
    HELD_BACK.iter().any(|needle| message.contains(needle))
}

#[cfg(test)]
#[path = "held_tests.rs"]
mod tests;
