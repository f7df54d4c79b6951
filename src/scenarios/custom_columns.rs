//! Custom field columns on contacts: a read whose catalog declares them asks the contacts pages
//! for their field values (the same requests), and each contact comes out with one typed column
//! per declared field; a value that does not fit is null there and kept in the originals.

use crate::commands::connector::read;
use crate::output::{Protocol, Writer};
use crate::test_support::Screen;
use crate::test_support::{contact_page_ids, full_refresh_catalog, ok, query, Fake};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::rc::Rc;

/// 150 contacts; with `include=fieldValues` each page carries their values of fields 1, 3, 4
/// (contact 7's date is not a day).
fn account(
    paths: Rc<RefCell<Vec<String>>>,
) -> impl FnMut(&str) -> Result<crate::engine::HttpResponse, String> {
    move |path: &str| {
        paths.borrow_mut().push(path.to_string());
        if path.contains("users/me") {
            return ok(json!({"user": {"id": "1"}}));
        }
        let n = 150u64;
        let ids = contact_page_ids(path, n);
        let contacts: Vec<Value> = ids
            .iter()
            .map(|i| json!({"id": i.to_string(), "udate": "2024-01-01T00:00:00Z", "sentcnt": "2"}))
            .collect();
        let mut body = json!({"contacts": contacts, "meta": {"total": n.to_string()}});
        if query(path, "include").is_some_and(|v| v.contains("fieldValues")) {
            let values: Vec<Value> = ids
                .iter()
                .flat_map(|i| {
                    let day = if *i == 7 { "2023-02-30".to_string() } else { format!("2024-01-{:02}", i % 28 + 1) };
                    [
                        json!({"id": format!("a{i}"), "contact": i.to_string(), "field": "1", "value": format!("Red {i}")}),
                        json!({"id": format!("b{i}"), "contact": i.to_string(), "field": "3", "value": "||Sports||Travel||"}),
                        json!({"id": format!("c{i}"), "contact": i.to_string(), "field": "4", "value": day}),
                    ]
                })
                .collect();
            body["fieldValues"] = json!(values);
        }
        ok(body)
    }
}

fn catalog(columns: Value) -> String {
    full_refresh_catalog(&[("contacts", columns)])
}

/// The contacts records of a read of `catalog`, and the paths it asked for.
fn read_contacts(catalog: &str) -> (Vec<Value>, Vec<String>, Vec<String>) {
    let paths = Rc::new(RefCell::new(Vec::new()));
    let mut fake = Fake::new(1_000_000, account(paths.clone()));
    let cfg = crate::test_support::config(50.0);
    let mut screen = Screen::default();
    let mut w = Writer::new(&mut screen, Protocol::Airbyte, false);
    let s = read(&mut fake, &mut w, &cfg, Some(catalog), None).expect("read");
    assert!(
        s.streams.iter().all(|x| x.failure.is_none()),
        "{:?}",
        s.streams
    );
    let records = screen
        .out
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["type"] == "RECORD")
        .map(|m| m["record"]["data"].clone())
        .collect();
    let logs = screen
        .out
        .iter()
        .filter(|l| l.contains("\"LOG\""))
        .cloned()
        .collect();
    let asked = paths
        .borrow()
        .iter()
        .filter(|p| p.contains("contacts"))
        .cloned()
        .collect();
    (records, asked, logs)
}

#[test]
fn declared_columns_are_filled_from_the_contacts_pages_and_typed() {
    let columns = json!({
        "custom_field_1": {"type": ["string", "null"], "title": "Favorite Color"},
        "custom_field_3": {"type": ["array", "null"], "items": {"type": "string"}},
        "custom_field_4": {"type": ["string", "null"], "format": "date"},
        "custom_field_9": {"type": ["number", "null"]}
    });
    let (records, asked, logs) = read_contacts(&catalog(columns));
    let (_, plain_asked, _) = read_contacts(&catalog(json!({})));
    assert_eq!(
        asked.len(),
        plain_asked.len(),
        "the same requests: {asked:?} vs {plain_asked:?}"
    );
    assert!(
        asked
            .iter()
            .all(|p| query(p, "include").is_some_and(|v| v.contains("fieldValues"))),
        "{asked:?}"
    );
    assert!(
        plain_asked.iter().all(|p| query(p, "include").is_none()),
        "{plain_asked:?}"
    );
    assert_eq!(records.len(), 150);
    for r in &records {
        let id: u64 = r["id"].as_str().and_then(|s| s.parse().ok()).expect("id");
        assert_eq!(r["custom_field_1"], format!("Red {id}"));
        assert_eq!(r["custom_field_3"], json!(["Sports", "Travel"]));
        assert_eq!(r["custom_field_9"], Value::Null, "no value: null");
        assert_eq!(r["sentcnt"], 2, "the fixed fields are typed too");
        if id == 7 {
            assert_eq!(r["custom_field_4"], Value::Null);
            assert_eq!(r["_ac_originals"], json!({"custom_field_4": "2023-02-30"}));
        } else {
            assert_eq!(r["custom_field_4"], format!("2024-01-{:02}", id % 28 + 1));
            assert!(r.get("_ac_originals").is_none(), "{r}");
        }
    }
    assert!(
        logs.iter()
            .any(|l| l.contains("contacts: 1 values did not fit")),
        "{logs:?}"
    );
}
