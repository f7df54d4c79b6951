use super::*;
use crate::api::streams::fixed_streams;

fn def(name: &str) -> StreamDef {
    fixed_streams()
        .into_iter()
        .find(|d| d.name == name)
        .unwrap()
}

#[test]
fn offset_page() {
    let p = page_path(
        "/api/3",
        &def("tags"),
        &Position::Offset(200),
        None,
        &[],
        None,
    );
    assert_eq!(p, "/api/3/tags?limit=100&offset=200");
}

#[test]
fn offset_pages_ask_for_id_order_where_documented() {
    let p = page_path(
        "/api/3",
        &def("lists"),
        &Position::Offset(99),
        None,
        &[],
        None,
    );
    assert_eq!(p, "/api/3/lists?limit=100&offset=99&orders%5Bid%5D=ASC");
    let p = page_path(
        "/api/3",
        &def("email_activities"),
        &Position::Offset(0),
        None,
        &[],
        None,
    );
    assert!(p.ends_with("orders%5Bid%5D=ASC"), "{p}");
    let p = page_path(
        "/api/3",
        &def("contact_lists"),
        &Position::Offset(0),
        None,
        &[],
        None,
    );
    assert!(!p.contains("orders"), "{p}");
}

#[test]
fn keyset_page_with_filter() {
    let p = page_path(
        "/api/3",
        &def("contacts"),
        &Position::Keyset(IdRange {
            after: Some("42".into()),
            below: Some("90".into()),
        }),
        Some("2024-01-01T00:00:00Z"),
        &["fieldValues".into(), "contactTags".into()],
        None,
    );
    assert_eq!(p, "/api/3/contacts?limit=100&orders%5Bid%5D=ASC&id_greater=42&id_less=90&include=fieldValues%2CcontactTags&filters%5Bupdated_after%5D=2024-01-01T00%3A00%3A00Z");
}

#[test]
fn top_page_of_an_open_range() {
    let p = page_path(
        "/api/3",
        &def("contacts"),
        &Position::Top(IdRange {
            after: Some("100".into()),
            below: None,
        }),
        Some("2024-01-01T00:00:00Z"),
        &["fieldValues".into()],
        None,
    );
    assert_eq!(p, "/api/3/contacts?limit=100&orders%5Bid%5D=DESC&id_greater=100&include=fieldValues&filters%5Bupdated_after%5D=2024-01-01T00%3A00%3A00Z");
}

#[test]
fn filters_only_where_supported() {
    let p = page_path(
        "/api/3",
        &def("tags"),
        &Position::Offset(0),
        Some("2024"),
        &[],
        None,
    );
    assert!(!p.contains("2024"));
    let p = page_path(
        "/api/3",
        &def("activities"),
        &Position::Offset(0),
        Some("2024"),
        &[],
        None,
    );
    assert!(p.ends_with("&after=2024"));
}

#[test]
fn only_the_accounts_api() {
    assert!(on_account_host("/api/3", "/api/3/tags?limit=100&offset=0").is_ok());
    for bad in [
        "https://evil.example.com/api/3/tags",
        "/api/3/https://evil.example.com/",
        "/other",
        "/api/3/../admin",
        "//evil.example.com/api/3/x",
        "/api/3/x@evil",
        "/api/3/x y",
    ] {
        assert!(on_account_host("/api/3", bad).is_err(), "{bad}");
    }
}

#[test]
fn encoding() {
    assert_eq!(encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
}

/// Newest first: the order asked instead of the id order.
#[test]
fn newest_first_pages_ask_for_the_order() {
    let p = page_path(
        "/api/3",
        &def("email_activities"),
        &Position::Offset(99),
        None,
        &[],
        Some("tstamp"),
    );
    assert_eq!(
        p,
        "/api/3/emailActivities?limit=100&offset=99&orders%5Btstamp%5D=DESC"
    );
}
