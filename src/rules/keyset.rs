//! Keeping a keyset page inside its id range, whatever the server does with `id_greater` and
//! `id_less`.
//!
//! A page asked for ids in `(after, below)` must hold only such ids, rising. A server that
//! ignores `id_less` answers ids past `below`: they belong to the next range (read by its own
//! chain), so they are dropped and the range is closed, or every record would come once per
//! range. Ids that do not rise mean the order was ignored; keyset paging cannot go on then
//! (ids below the last one may still be unread), so the page is refused.

use crate::vocab::page::IdRange;
use crate::vocab::page::{record_id, Page, Record};
use serde_json::Value;

/// A page cut to its range.
#[derive(Debug)]
pub(crate) struct Fenced {
    /// The records inside the range (and the sideloads of those records).
    pub(crate) page: Page,
    /// The highest id inside the range on the page.
    pub(crate) last: Option<u64>,
    /// The range is read to its end: the server sent ids at or past `below`, or the page
    /// holds the range's highest possible id (`below - 1`: no id fits after it, so a dense id
    /// space needs no page past a range's last full one).
    pub(crate) closed: bool,
    /// Records the server sent outside the range.
    pub(crate) dropped: usize,
}

/// A number from an id value (string or number).
fn id_u64(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// The parent a sideloaded child belongs to (`key`: the child's field holding the parent's id).
fn parent_id(r: &Record, key: &str) -> Option<u64> {
    let v: Value = serde_json::from_str(r.get()).ok()?;
    id_u64(v.get(key))
}

/// Cuts `page` to `range`; an error says why the page cannot be used at all. `parent_keys`:
/// for each sideloaded list of the page, the field of its records that holds their parent's id.
pub(crate) fn fence(
    range: &IdRange,
    page: Page,
    parent_keys: &[(&str, &str)],
) -> Result<Fenced, String> {
    let after = range
        .after
        .as_deref()
        .and_then(|s| s.trim().parse::<u64>().ok());
    let below = range
        .below
        .as_deref()
        .and_then(|s| s.trim().parse::<u64>().ok());
    let ids: Vec<u64> = page
        .main
        .iter()
        .map(|r| {
            let id = record_id(r);
            id.trim().parse::<u64>().map_err(|_| {
                format!(
                    "keyset paging needs numeric ids, got {:?}",
                    id.chars().take(40).collect::<String>()
                )
            })
        })
        .collect::<Result<_, _>>()?;
    if let Some(w) = ids.windows(2).find(|w| w[0] >= w[1]) {
        return Err(format!(
            "ids on a page asked for in ascending id order do not rise ({} then {}); the API ignored orders[id]=ASC",
            w[0], w[1]
        ));
    }
    let inside = |id: u64| after.is_none_or(|a| id > a) && below.is_none_or(|b| id < b);
    let closed = below.is_some_and(|b| ids.iter().any(|&id| id >= b.saturating_sub(1)));
    let keep: Vec<bool> = ids.iter().map(|&id| inside(id)).collect();
    let dropped = keep.iter().filter(|k| !**k).count();
    let last = ids.iter().copied().filter(|&id| inside(id)).max();
    if dropped == 0 {
        return Ok(Fenced {
            page,
            last,
            closed,
            dropped,
        });
    }
    let main: Vec<Record> = page
        .main
        .into_iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(r, _)| r)
        .collect();
    // Children of dropped parents come with the range that owns them.
    let extra = page
        .extra
        .into_iter()
        .map(|(key, list)| {
            let parent_key = parent_keys.iter().find(|(k, _)| *k == key).map(|(_, f)| *f);
            let list = list
                .into_iter()
                .filter(|r| parent_key.and_then(|f| parent_id(r, f)).is_none_or(&inside))
                .collect();
            (key, list)
        })
        .collect();
    Ok(Fenced {
        page: Page {
            main,
            extra,
            total: page.total,
        },
        last,
        closed,
        dropped,
    })
}

#[cfg(test)]
#[path = "keyset_tests.rs"]
mod tests;
