//! Newest first down to the cursor: between sweeps, a list that can be ordered by a
//! field that follows its cursor (`orders[<field>]=DESC`) is read from the top until the pages
//! pass the saved cursor, instead of in full. Unknown orders are ignored by the API without a
//! word, so every page is checked to be in that order (against the page before it too); on the
//! first page that is not, the task falls back to a full pass, and nothing is lost.

use crate::api::streams::Sideload;
use crate::rules::datetime::{cursor_instant, Instant};
use crate::vocab::page::Record;
use serde_json::Value;

/// A newest-first pass under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Newest {
    /// The field the list is ordered by, newest first.
    pub(crate) field: String,
    /// The pass ends with the first page whose last record is older than this.
    pub(crate) cut: Instant,
    /// The last record's value on the last page taken.
    pub(crate) last: Option<Instant>,
    /// Where the stream is read instead when the list is not in that order: its parent's pages
    /// (none: its own list, in full).
    pub(crate) fallback: Option<Sideload>,
}

/// Whether a page keeps the newest-first order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Order {
    /// In order; `done`: it reached past the cut.
    InOrder { done: bool },
    /// Not in the order asked (or a record lacks the field): read the whole list instead.
    OutOfOrder(String),
}

impl Newest {
    /// A pass ordered by `field`, down to `cut`, before its first page.
    pub(crate) fn new(field: &str, cut: Instant, fallback: Option<Sideload>) -> Newest {
        Newest {
            field: field.to_string(),
            cut,
            last: None,
            fallback,
        }
    }

    /// Judges a page's new records (in answer order: those after the overlap with the page
    /// before, so records added at the top meanwhile, which push the pages down, are not read as
    /// out of order) and remembers where it ended.
    pub(crate) fn check_order<'a>(
        &mut self,
        records: impl IntoIterator<Item = &'a Record>,
    ) -> Order {
        let mut prev = self.last;
        for r in records {
            let v: Value = serde_json::from_str(r.get()).unwrap_or(Value::Null);
            let Some(at) = v
                .get(&self.field)
                .and_then(Value::as_str)
                .and_then(cursor_instant)
            else {
                return Order::OutOfOrder(format!("a record has no {}", self.field));
            };
            if prev.is_some_and(|p| at > p) {
                return Order::OutOfOrder(format!("{} rises within the pages", self.field));
            }
            prev = Some(at);
        }
        self.last = prev;
        Order::InOrder {
            done: prev.is_some_and(|p| p < self.cut),
        }
    }
}

#[cfg(test)]
#[path = "newest_tests.rs"]
mod tests;
