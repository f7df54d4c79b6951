//! The engine's decisions during a read, as typed events: what a pipeline or a test acts on,
//! and the one place their words for people are written.
//!
//! The engine reports each through [`super::Sink::decision`]; a sink that only writes logs gets
//! the message at its level by the trait's default.

use super::Level;
use crate::rules::datetime::Instant;

/// Why a complete pass's deletions were held back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Held {
    /// More ids gone than `deletion_guard_share` allows.
    Guard,
    /// The list came back empty where the last complete pass had rows.
    Empty,
}

/// A decision the engine took about one stream.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Decision {
    /// The stream is not read this sync: it waits for its sweep, due at `due`.
    WaitsForSweep { stream: String, due: Instant },
    /// A newest-first pass found the list not in that order: the whole list is read instead,
    /// on the pages of the parent stream `on` when it rides on one in this read.
    ReadInFullInstead {
        stream: String,
        field: String,
        why: String,
        on: Option<String>,
    },
    /// Keyset paging cannot go on: the list is read with offset paging from its start.
    OffsetFallback { stream: String, why: String },
    /// The top page was not in descending id order: the rest is read in one chain.
    OneChain { stream: String, why: String },
    /// An offset page did not continue the one before: the read goes back to `from`.
    ReadAgainFrom {
        stream: String,
        offset: u64,
        from: u64,
    },
    /// Ids do not rise from page to page: the read goes on with overlapping pages.
    IdsDoNotRise { stream: String },
    /// Deletions found but not emitted (`gone` of `before` ids), for `why`.
    DeletionsHeld {
        stream: String,
        gone: u64,
        before: u64,
        why: Held,
    },
    /// The pass resumed from a mid-pass state: it finds no deletions.
    NoDeletionsResumed { stream: String },
    /// The parent's pages came without the child's list asked for (`include` ignored): the
    /// child is read from its own list in full instead.
    IncludeIgnored {
        stream: String,
        include: String,
        parent: String,
    },
    /// The owner's pages came without the custom field values asked for (`include` ignored):
    /// the values' own list was read (`values` kept, in `requests`) and joined to the records.
    ValuesJoined {
        stream: String,
        include: String,
        values: u64,
        requests: u64,
    },
    /// Deletions cannot be tracked (a record without an id, or too many ids that are not
    /// numbers).
    DeletionsUntracked {
        stream: String,
        max_other_ids: usize,
    },
}

impl Decision {
    /// How much it matters to a person.
    pub(crate) fn level(&self) -> Level {
        match self {
            Decision::WaitsForSweep { .. }
            | Decision::OneChain { .. }
            | Decision::ValuesJoined { .. } => Level::Info,
            _ => Level::Warn,
        }
    }

    /// Whether it says the read held something back that a person may have to act on (deletions
    /// not emitted or not tracked, a list read in full because the API ignored an order): repeated under the
    /// summary, where people look.
    pub(crate) fn holds_back(&self) -> bool {
        matches!(
            self,
            Decision::DeletionsHeld { .. }
                | Decision::NoDeletionsResumed { .. }
                | Decision::DeletionsUntracked { .. }
                | Decision::ReadInFullInstead { .. }
                | Decision::IncludeIgnored { .. }
                | Decision::OffsetFallback { .. }
        )
    }

    /// The stream it is about.
    pub(crate) fn stream(&self) -> &str {
        match self {
            Decision::WaitsForSweep { stream, .. }
            | Decision::ReadInFullInstead { stream, .. }
            | Decision::OffsetFallback { stream, .. }
            | Decision::OneChain { stream, .. }
            | Decision::ReadAgainFrom { stream, .. }
            | Decision::IdsDoNotRise { stream }
            | Decision::DeletionsHeld { stream, .. }
            | Decision::NoDeletionsResumed { stream }
            | Decision::ValuesJoined { stream, .. }
            | Decision::IncludeIgnored { stream, .. }
            | Decision::DeletionsUntracked { stream, .. } => stream,
        }
    }

    /// What it means and what to do, for people.
    pub(crate) fn message(&self) -> String {
        let s = self.stream();
        match self {
            Decision::WaitsForSweep { due, .. } => format!("{s}: the API cannot tell what changed in it; it waits for its sweep, due after {} (full_sweep_hours)", due.to_rfc3339()),
            Decision::ReadInFullInstead { field, why, on: None, .. } => format!("{s}: the API does not order the list by {field} newest first ({why}); reading the whole list instead (records already delivered may come again)"),
            Decision::ReadInFullInstead { field, why, on: Some(parent), .. } => format!("{s}: the API does not order the list by {field} newest first ({why}); reading it on a complete pass of the {parent} pages instead, as a sweep does (records already delivered may come again)"),
            Decision::OffsetFallback { why, .. } => format!("{s}: {why}; reading it with offset paging from the start instead (records already delivered may come again)"),
            Decision::OneChain { why, .. } => format!("{s}: {why}; reading the rest of the ids in one chain"),
            Decision::ReadAgainFrom { offset, from, .. } => format!("{s}: the page at offset {offset} does not continue the one before (records were deleted meanwhile); reading again from offset {from} so nothing is skipped"),
            Decision::IdsDoNotRise { .. } => format!("{s}: ids do not rise from page to page (the API ignores the order); reading on with overlapping pages and skipping ids already delivered"),
            Decision::DeletionsHeld { gone, before, why: Held::Guard, .. } => format!("{s}: {gone} of {before} rows would be deleted, more than deletion_guard_share allows; no deletion reported. Check the account; if they are really deleted, run one sync with deletion_guard_share 1 to apply them"),
            Decision::DeletionsHeld { before, why: Held::Empty, .. } => format!("{s}: the list came back empty where the last complete pass had {before} rows; no deletion reported (an API glitch or a key that lost a permission reads like this). If the rows are really gone, the next sync that finds the list empty again still reports nothing: delete them downstream by hand, or reset the stream"),
            Decision::NoDeletionsResumed { .. } => format!("{s}: this pass resumed from a mid-pass state, so it finds no deletions; the next complete pass compares with the last one and finds them"),
            Decision::IncludeIgnored { include, parent, .. } => format!("{s}: the API ignored include={include} on the {parent} pages; reading its own list in full instead (records already delivered may come again). Set sideload_contact_children to false to skip the include"),
            Decision::ValuesJoined { include, values, requests, .. } => format!("{s}: the API ignored include={include} on its pages; its custom field columns come from /{include}, read on its own ({values} values in {requests} requests) and joined"),
            Decision::DeletionsUntracked { max_other_ids, .. } => format!("{s}: deletions are not tracked: a record without an id, or more than {max_other_ids} ids that are not numbers"),
        }
    }
}

#[cfg(test)]
#[path = "decision_tests.rs"]
mod tests;
