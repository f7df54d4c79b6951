//! Tests of how `keyset::fence` finds the contact a sideloaded child belongs to, whatever JSON
//! type the API gives its `contact` field.

use crate::keyset::fence;
use crate::request::IdRange;
use crate::response::{parse_page, record_id};
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
    let page = parse_page(body.as_bytes(), "contacts", &["fieldValues"]).unwrap();
    let range = IdRange {
        after: Some("10".into()),
        below: Some("20".into()),
    };
    let f = fence(&range, page).unwrap();
    assert_eq!((f.dropped, f.last, f.closed), (1, Some(15), true));
    let kept: Vec<String> = f.page.extra[0].1.iter().map(|r| record_id(r)).collect();
    assert_eq!(kept, ["a", "d", "e", "f", "g"]);
}
