use super::*;
use serde_json::value::RawValue;

fn recs(field: &str, stamps: &[&str]) -> Vec<Record> {
    stamps
        .iter()
        .map(|s| RawValue::from_string(format!("{{\"id\":\"1\",\"{field}\":\"{s}\"}}")).unwrap())
        .collect()
}

fn newest(cut: &str) -> Newest {
    Newest::new("tstamp", crate::test_support::t(cut), None)
}

#[test]
fn pages_newest_first_are_in_order_until_past_the_cut() {
    let mut n = newest("2024-01-05T00:00:00Z");
    let page = recs(
        "tstamp",
        &[
            "2024-01-09T00:00:00Z",
            "2024-01-08T00:00:00Z",
            "2024-01-08T00:00:00Z",
        ],
    );
    assert_eq!(n.check_order(&page), Order::InOrder { done: false });
    // The next page starts with the overlap record again, then goes on down.
    let page = recs("tstamp", &["2024-01-08T00:00:00Z", "2024-01-05T00:00:00Z"]);
    assert_eq!(
        n.check_order(&page),
        Order::InOrder { done: false },
        "at the cut is not past it"
    );
    let page = recs("tstamp", &["2024-01-04T23:59:59Z"]);
    assert_eq!(n.check_order(&page), Order::InOrder { done: true });
}

#[test]
fn a_rise_within_or_across_pages_or_a_missing_field_is_out_of_order() {
    let mut n = newest("2024-01-01T00:00:00Z");
    let rising = recs("tstamp", &["2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"]);
    assert!(matches!(n.check_order(&rising), Order::OutOfOrder(_)));
    let mut n = newest("2024-01-01T00:00:00Z");
    assert!(matches!(
        n.check_order(&recs("tstamp", &["2024-01-03T00:00:00Z"])),
        Order::InOrder { .. }
    ));
    assert!(matches!(
        n.check_order(&recs("tstamp", &["2024-01-04T00:00:00Z"])),
        Order::OutOfOrder(_)
    ));
    let mut n = newest("2024-01-01T00:00:00Z");
    assert!(
        matches!(n.check_order(&recs("other", &["2024-01-03T00:00:00Z"])), Order::OutOfOrder(why) if why.contains("no tstamp"))
    );
    // An empty page says nothing about the order.
    assert_eq!(
        newest("2024-01-01T00:00:00Z").check_order(&[]),
        Order::InOrder { done: false }
    );
}
