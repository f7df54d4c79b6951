//! Keeping a keyset page inside its id range, whatever the server does with `id_greater` and
//! `id_less`.
//!
//! A page asked for ids in `(after, below)` must hold only such ids, rising. A server that
//! ignores `id_less` answers ids past `below`: they belong to the next range (read by its own
//! chain), so they are dropped and the range is closed, or every record would come once per
//! range. Ids that do not rise mean the order was ignored; keyset paging cannot go on then
//! (ids below the last one may still be unread), so the page is refused.

use crate::request::IdRange;
use crate::response::{record_id, Page, Record};
use serde_json::Value;

/// A page cut to its range.
#[derive(Debug)]
pub struct Fenced {
    /// The records inside the range (and the sideloads of those records).
    pub page: Page,
    /// The highest id inside the range on the page.
    pub last: Option<u64>,
    /// The range is read to its end: the server sent ids at or past `below`, or the page
    /// holds the range's highest possible id (`below - 1`: no id fits after it, so a dense id
    /// space needs no page past a range's last full one).
    pub closed: bool,
    /// Records the server sent outside the range.
    pub dropped: usize,
}

/// A number from an id value (string or number).
fn id_u64(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// The contact a sideloaded child belongs to.
fn parent_id(r: &Record) -> Option<u64> {
    let v: Value = serde_json::from_str(r.get()).ok()?;
    id_u64(v.get("contact"))
}

/// Cuts `page` to `range`; an error says why the page cannot be used at all.
pub fn fence(range: &IdRange, page: Page) -> Result<Fenced, String> {
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
    // Children of dropped contacts come with the range that owns them.
    let extra = page
        .extra
        .into_iter()
        .map(|(key, list)| {
            let list = list
                .into_iter()
                .filter(|r| parent_id(r).is_none_or(&inside))
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
mod tests {
    use super::*;
    use crate::response::parse_page;
    use serde_json::json;

    fn page(ids: &[u64]) -> Page {
        let body = json!({
            "contacts": ids.iter().map(|i| json!({"id": i.to_string()})).collect::<Vec<_>>(),
            "contactTags": ids.iter().map(|i| json!({"id": format!("t{i}"), "contact": i.to_string()})).collect::<Vec<_>>(),
        });
        parse_page(body.to_string().as_bytes(), "contacts", &["contactTags"]).unwrap()
    }

    fn range(after: Option<u64>, below: Option<u64>) -> IdRange {
        IdRange {
            after: after.map(|a| a.to_string()),
            below: below.map(|b| b.to_string()),
        }
    }

    #[test]
    fn a_page_inside_its_range_passes_untouched() {
        let f = fence(&range(Some(10), Some(200)), page(&[11, 12, 50])).unwrap();
        assert_eq!(
            (f.page.main.len(), f.last, f.closed, f.dropped),
            (3, Some(50), false, 0)
        );
        let f = fence(&range(None, None), page(&[1, 2])).unwrap();
        assert_eq!(f.last, Some(2));
    }

    #[test]
    fn ids_past_id_less_are_dropped_with_their_children_and_close_the_range() {
        let f = fence(&range(Some(10), Some(20)), page(&[15, 19, 20, 21, 40])).unwrap();
        assert!(f.closed);
        assert_eq!(f.dropped, 3);
        assert_eq!(f.last, Some(19));
        let kept: Vec<String> = f.page.main.iter().map(|r| record_id(r)).collect();
        assert_eq!(kept, ["15", "19"]);
        let tags: Vec<String> = f.page.extra[0].1.iter().map(|r| record_id(r)).collect();
        assert_eq!(tags, ["t15", "t19"]);
    }

    #[test]
    fn a_page_holding_the_ranges_last_possible_id_closes_it() {
        let f = fence(&range(Some(10), Some(20)), page(&[17, 18, 19])).unwrap();
        assert_eq!((f.closed, f.dropped, f.last), (true, 0, Some(19)));
        let f = fence(&range(Some(10), Some(20)), page(&[16, 17, 18])).unwrap();
        assert!(!f.closed, "id 19 may still come");
    }

    #[test]
    fn ids_at_or_below_id_greater_are_dropped() {
        let f = fence(&range(Some(10), None), page(&[9, 10, 11])).unwrap();
        assert_eq!((f.dropped, f.last, f.closed), (2, Some(11), false));
    }

    #[test]
    fn ids_that_do_not_rise_or_are_not_numbers_are_refused() {
        let e = fence(&range(None, None), page(&[5, 3])).unwrap_err();
        assert!(
            e.contains("do not rise") && e.contains("orders[id]=ASC"),
            "{e}"
        );
        let body = json!({"contacts": [{"id": "abc"}]}).to_string();
        let p = parse_page(body.as_bytes(), "contacts", &[]).unwrap();
        assert!(fence(&range(None, None), p)
            .unwrap_err()
            .contains("numeric"));
    }
}
