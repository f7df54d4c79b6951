//! What a read held back, from the component's LOG WARN lines: deletions the guard kept, a
//! resumed pass that could find none, a list read in full or again because the API ignored an
//! order. Each becomes a line of the account's report (`held_back`) and of stderr, with the fix,
//! so it is seen where people look instead of only in `messages-<run>.jsonl`.

use serde::Serialize;

/// One thing held back in a stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Held {
    /// The stream.
    pub(crate) stream: String,
    /// Why: `deletion guard`, `resumed pass`, `fallback`, `deletions not tracked`.
    pub(crate) why: &'static str,
    /// What to do about it.
    pub(crate) fix: &'static str,
    /// The component's warning.
    pub(crate) message: String,
}

/// A part of a warning's text (as the component writes it), what it means, and the fix.
pub(crate) const KINDS: [(&str, &str, &str); 7] = [
    (
        "would be deleted, more than deletion_guard_share allows",
        "deletion guard",
        "check the account; if the rows are really gone, run one sync with deletion_guard_share 1",
    ),
    (
        "the list came back empty where the last complete pass had",
        "deletion guard",
        "if the rows are really gone, delete them downstream or reset the stream",
    ),
    (
        "this pass resumed from a mid-pass state, so it finds no deletions",
        "resumed pass",
        "none: the next complete pass finds the deletions",
    ),
    (
        "reading the whole list instead",
        "fallback",
        "none: the list was read in full; records already delivered may come again",
    ),
    (
        "pages instead, as a sweep does",
        "fallback",
        "none: the stream was read on its parent's pages, as a sweep reads it",
    ),
    (
        "with offset paging from the start instead",
        "fallback",
        "none: the list was read again from its start; records already delivered may come again",
    ),
    (
        "deletions are not tracked",
        "deletions not tracked",
        "none: this stream's ids cannot be kept, so its deletions are not reported",
    ),
];

/// What a warning holds back, if it holds back anything (`<stream>: <text>`).
pub(crate) fn classify(message: &str) -> Option<Held> {
    let (stream, _) = message.split_once(": ")?;
    if stream.is_empty()
        || !stream
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return None;
    }
    let (_, why, fix) = KINDS
        .iter()
        .find(|(needle, _, _)| message.contains(needle))?;
    Some(Held {
        stream: stream.to_string(),
        why,
        fix,
        message: message.chars().take(1000).collect(),
    })
}

#[cfg(test)]
#[path = "held_tests.rs"]
mod tests;
