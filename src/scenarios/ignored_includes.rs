//! An API that ignores `include=` on contacts (it is not documented there): the children that
//! ride on the contacts pages are read from their own lists instead, and the contacts' custom
//! field columns are joined from `/fieldValues`; every record arrives, no stream fails.

use crate::commands::connector::read;
use crate::output::{Protocol, Writer};
use crate::test_support::Screen;
use crate::test_support::{contact_page_ids, full_refresh_catalog, ok, query, Fake};
use serde_json::{json, Value};
use std::collections::BTreeMap;

const CONTACTS: u64 = 150;

/// Contacts 1..=150 (keyset by id), each with one tag and a value of field 1; `include=` is
/// ignored, the children's own lists are served by offset.
fn account(path: &str) -> Result<crate::engine::HttpResponse, String> {
    if path.contains("users/me") {
        return ok(json!({"user": {"id": "1"}}));
    }
    let num = |k: &str| query(path, k).and_then(|v| v.parse::<u64>().ok());
    let (offset, limit) = (num("offset").unwrap_or(0), num("limit").unwrap_or(20));
    let page = |key: &str, make: &dyn Fn(u64) -> Value| {
        let recs: Vec<Value> = (1..=CONTACTS)
            .skip(offset as usize)
            .take(limit as usize)
            .map(make)
            .collect();
        ok(json!({key: recs, "meta": {"total": CONTACTS.to_string()}}))
    };
    if path.contains("/contactTags") {
        return page(
            "contactTags",
            &|i| json!({"id": i.to_string(), "contact": i.to_string(), "tag": "7", "cdate": "2024-01-01T00:00:00-05:00"}),
        );
    }
    if path.contains("/fieldValues") {
        return page(
            "fieldValues",
            &|i| json!({"id": i.to_string(), "contact": i.to_string(), "field": "1", "value": format!("v{i}")}),
        );
    }
    let ids = contact_page_ids(path, CONTACTS);
    let contacts: Vec<Value> = ids
        .iter()
        .map(|i| json!({"id": i.to_string(), "udate": "2024-01-01T00:00:00Z"}))
        .collect();
    ok(json!({"contacts": contacts, "meta": {"total": CONTACTS.to_string()}}))
}

#[test]
fn children_of_ignored_includes_are_read_from_their_own_lists() {
    read_with_includes_ignored(true);
}

#[test]
fn a_child_alone_on_the_contacts_pages_is_read_from_its_own_list() {
    read_with_includes_ignored(false);
}

/// A read of contacts and contact_tags, with or without a custom field column on contacts,
/// from a server that ignores every include.
fn read_with_includes_ignored(with_columns: bool) {
    let columns = if with_columns {
        json!({"custom_field_1": {"type": ["string", "null"]}})
    } else {
        json!({})
    };
    let catalog = full_refresh_catalog(&[("contacts", columns), ("contact_tags", json!({}))]);
    let mut fake = Fake::new(1_000_000, account);
    let cfg = crate::test_support::config(50.0);
    let mut screen = Screen::default();
    let mut w = Writer::new(&mut screen, Protocol::Airbyte, false);
    let s = read(&mut fake, &mut w, &cfg, Some(&catalog), None).expect("read");
    assert!(
        s.streams.iter().all(|x| x.failure.is_none()),
        "{:?}",
        s.streams
    );
    let messages: Vec<Value> = screen
        .out
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let mut ids: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for m in messages.iter().filter(|m| m["type"] == "RECORD") {
        let data = &m["record"]["data"];
        ids.entry(m["record"]["stream"].as_str().unwrap_or("").to_string())
            .or_default()
            .insert(data["id"].as_str().unwrap_or("").to_string());
        if m["record"]["stream"] == "contacts" && with_columns {
            assert_eq!(
                data["custom_field_1"],
                format!("v{}", data["id"].as_str().unwrap_or("")),
                "{data}"
            );
        }
    }
    assert_eq!(ids["contacts"].len(), CONTACTS as usize);
    assert_eq!(
        ids["contact_tags"].len(),
        CONTACTS as usize,
        "every tag, from /contactTags"
    );
    let logs: Vec<&str> = messages
        .iter()
        .filter_map(|m| m["log"]["message"].as_str())
        .collect();
    assert!(
        logs.iter().any(|l| l.starts_with(
            "contact_tags: the API ignored include=contactTags on the contacts pages"
        )),
        "{logs:?}"
    );
    let joined = logs
        .iter()
        .any(|l| l.starts_with("contacts: the API ignored include=fieldValues"));
    assert_eq!(joined, with_columns, "the columns' values joined: {logs:?}");
    let asked: Vec<&str> = fake.starts.iter().map(|(_, p)| p.as_str()).collect();
    let contact_pages: Vec<&&str> = asked.iter().filter(|p| p.contains("/contacts?")).collect();
    assert!(
        contact_pages
            .iter()
            .skip(1)
            .all(|p| !p.contains("contactTags")),
        "after the first page the include is not asked again: {contact_pages:?}"
    );
}
