use super::*;
use crate::http::response::parse_page;

/// The contacts' tags ride on the pages, each naming its contact.
const TAGS: &[(&str, &str)] = &[("contactTags", "contact")];
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
    let f = fence(&range(Some(10), Some(200)), page(&[11, 12, 50]), TAGS).unwrap();
    assert_eq!(
        (f.page.main.len(), f.last, f.closed, f.dropped),
        (3, Some(50), false, 0)
    );
    let f = fence(&range(None, None), page(&[1, 2]), TAGS).unwrap();
    assert_eq!(f.last, Some(2));
}

#[test]
fn ids_past_id_less_are_dropped_with_their_children_and_close_the_range() {
    let f = fence(
        &range(Some(10), Some(20)),
        page(&[15, 19, 20, 21, 40]),
        TAGS,
    )
    .unwrap();
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
    let f = fence(&range(Some(10), Some(20)), page(&[17, 18, 19]), TAGS).unwrap();
    assert_eq!((f.closed, f.dropped, f.last), (true, 0, Some(19)));
    let f = fence(&range(Some(10), Some(20)), page(&[16, 17, 18]), TAGS).unwrap();
    assert!(!f.closed, "id 19 may still come");
}

#[test]
fn ids_at_or_below_id_greater_are_dropped() {
    let f = fence(&range(Some(10), None), page(&[9, 10, 11]), TAGS).unwrap();
    assert_eq!((f.dropped, f.last, f.closed), (2, Some(11), false));
}

#[test]
fn ids_that_do_not_rise_or_are_not_numbers_are_refused() {
    let e = fence(&range(None, None), page(&[5, 3]), TAGS).unwrap_err();
    assert!(
        e.contains("do not rise") && e.contains("orders[id]=ASC"),
        "{e}"
    );
    let body = json!({"contacts": [{"id": "abc"}]}).to_string();
    let p = parse_page(body.as_bytes(), "contacts", &[]).unwrap();
    assert!(fence(&range(None, None), p, TAGS)
        .unwrap_err()
        .contains("numeric"));
}

/// Tests of how `keyset::fence` finds the contact a sideloaded child belongs to, whatever JSON
/// type the API gives its `contact` field.
mod fence_parents {
    use super::TAGS;
    use crate::http::response::parse_page;
    use crate::rules::keyset::fence;
    use crate::vocab::page::record_id;
    use crate::vocab::page::IdRange;
    use serde_json::json;

    #[test]
    fn children_follow_their_contact_whether_its_id_is_a_string_or_a_number() {
        let body = json!({
            "contacts": [{"id": "15"}, {"id": "25"}],
            "fieldValues": [
                {"id": "a", "contact": 15},
                {"id": "b", "contact": 25},
                {"id": "c", "contact": " 25 "},
                {"id": "d", "contact": "15"},
                // No usable parent: kept (nothing says it belongs to another range).
                {"id": "e"},
                {"id": "f", "contact": -3},
                {"id": "g", "contact": true},
            ],
        })
        .to_string();
        let range = IdRange {
            after: Some("10".into()),
            below: Some("20".into()),
        };
        let kept = |keys: &[(&str, &str)]| -> Vec<String> {
            let page = parse_page(body.as_bytes(), "contacts", &["fieldValues"]).unwrap();
            let f = fence(&range, page, keys).unwrap();
            assert_eq!((f.dropped, f.last, f.closed), (1, Some(15), true));
            f.page.extra[0].1.iter().map(|r| record_id(r)).collect()
        };
        assert_eq!(
            kept(&[("fieldValues", "contact")]),
            ["a", "d", "e", "f", "g"]
        );
        // The parent's field comes from the stream table: a list it names no field for is kept.
        assert_eq!(kept(TAGS), ["a", "b", "c", "d", "e", "f", "g"]);
    }
}
