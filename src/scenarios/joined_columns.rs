//! Custom field columns on deals: from `include=dealCustomFieldData` on the deals pages when the
//! API honours it (the same requests as without columns), and from `/dealCustomFieldData` read
//! once and joined when it ignores it; nothing the engine has in flight meanwhile is lost.

use crate::commands::connector::read;
use crate::output::{Protocol, Writer};
use crate::test_support::Screen;
use crate::test_support::{full_refresh_catalog, ok, query, Fake};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::rc::Rc;

const DEALS: u64 = 250;

/// How the fake account behaves.
#[derive(Clone, Copy, Default)]
struct Api {
    /// `/deals` ignores `include=`.
    ignores_include: bool,
    /// ... but not on its first page.
    honours_first_page: bool,
    /// One value is deleted after the values' list's first page was answered (once).
    shifts_once: bool,
    /// The values' own list answers 500.
    values_fail: bool,
    /// Each page's values hold one that names no deal.
    stray_value: bool,
}

/// Deal `i`'s values: field 1 text, field 2 multi-value, field 3 a date (deal 7's not a day).
fn values() -> Vec<Value> {
    (1..=DEALS)
        .flat_map(|i| {
            let day = if i == 7 { "2023-02-30".to_string() } else { format!("2024-03-{:02}", i % 28 + 1) };
            [
                json!({"id": (3 * i).to_string(), "dealId": i, "customFieldId": 1, "fieldValue": format!("Deal {i}")}),
                json!({"id": (3 * i + 1).to_string(), "dealId": i, "customFieldId": 2, "fieldValue": "||A||C||"}),
                json!({"id": (3 * i + 2).to_string(), "dealId": i, "customFieldId": 3, "fieldValue": day}),
            ]
        })
        .collect()
}

fn account(
    api: Api,
    paths: Rc<RefCell<Vec<String>>>,
) -> impl FnMut(&str) -> Result<crate::engine::HttpResponse, String> {
    let mut list = values();
    let mut shifted = false;
    move |path: &str| {
        paths.borrow_mut().push(path.to_string());
        if path.contains("users/me") {
            return ok(json!({"user": {"id": "1"}}));
        }
        let num = |k: &str| query(path, k).and_then(|v| v.parse::<usize>().ok());
        let (offset, limit) = (num("offset").unwrap_or(0), num("limit").unwrap_or(20));
        if path.contains("/dealCustomFieldData") {
            if api.values_fail {
                return Ok(crate::engine::HttpResponse {
                    status: 500,
                    headers: vec![],
                    body: b"oops".to_vec(),
                });
            }
            let page: Vec<Value> = list.iter().skip(offset).take(limit).cloned().collect();
            if api.shifts_once && !shifted && offset == 0 {
                shifted = true;
                list.remove(9);
            }
            return ok(
                json!({"dealCustomFieldData": page, "meta": {"total": list.len().to_string()}}),
            );
        }
        if path.contains("/tags") {
            let tags: Vec<Value> = (1..=DEALS)
                .skip(offset)
                .take(limit)
                .map(|i| json!({"id": i.to_string(), "tag": format!("t{i}")}))
                .collect();
            return ok(json!({"tags": tags, "meta": {"total": DEALS.to_string()}}));
        }
        let deals: Vec<Value> = (1..=DEALS)
            .skip(offset)
            .take(limit)
            .map(|i| json!({"id": i.to_string(), "title": format!("Deal {i}"), "value": "945951", "mdate": "2024-01-01T00:00:00-05:00"}))
            .collect();
        let ids: Vec<u64> = deals
            .iter()
            .filter_map(|d| d["id"].as_str()?.parse().ok())
            .collect();
        let mut body = json!({"deals": deals, "meta": {"total": DEALS}});
        let asked = query(path, "include").is_some_and(|v| v.contains("dealCustomFieldData"));
        if asked && (!api.ignores_include || (api.honours_first_page && offset == 0)) {
            let of_page: Vec<Value> = values()
                .into_iter()
                .filter(|v| v["dealId"].as_u64().is_some_and(|d| ids.contains(&d)))
                .collect();
            let mut of_page = of_page;
            if api.stray_value {
                of_page.push(json!({"id": "0", "customFieldId": 1, "fieldValue": "whose?"}));
            }
            body["dealCustomFieldData"] = json!(of_page);
        }
        ok(body)
    }
}

fn catalog(columns: Value) -> String {
    // Tags are read alongside, so their pages are in flight when the deals' join begins.
    full_refresh_catalog(&[("deals", columns), ("tags", json!({}))])
}

fn declared() -> String {
    catalog(json!({
        "custom_field_1": {"type": ["string", "null"], "title": "Text"},
        "custom_field_2": {"type": ["array", "null"], "items": {"type": "string"}},
        "custom_field_3": {"type": ["string", "null"], "format": "date"},
        "custom_field_4": {"type": ["number", "null"]}
    }))
}

/// What a read of `catalog` gave: the deals records, the tags delivered, the paths asked, the
/// log lines and the deals stream's failure.
struct Read {
    records: Vec<Value>,
    tags: usize,
    asked: Vec<String>,
    logs: Vec<String>,
    failure: Option<String>,
}

fn read_deals(api: Api, catalog: &str) -> Read {
    let paths = Rc::new(RefCell::new(Vec::new()));
    // Answers take longer than the rate's spacing: several requests are in flight at a time.
    let mut fake = Fake::new(100_000_000, account(api, paths.clone()));
    let cfg = crate::test_support::config(50.0);
    let mut screen = Screen::default();
    let mut w = Writer::new(&mut screen, Protocol::Airbyte, false);
    let s = read(&mut fake, &mut w, &cfg, Some(catalog), None).expect("read");
    let failure = s
        .streams
        .iter()
        .find_map(|x| x.failure.as_ref().map(|f| f.message.clone()));
    let messages: Vec<Value> = screen
        .out
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let asked = paths.borrow().clone();
    Read {
        records: messages
            .iter()
            .filter(|m| m["type"] == "RECORD" && m["record"]["stream"] == "deals")
            .map(|m| m["record"]["data"].clone())
            .collect(),
        tags: messages
            .iter()
            .filter(|m| m["type"] == "RECORD" && m["record"]["stream"] == "tags")
            .count(),
        asked,
        logs: messages
            .iter()
            .filter(|m| m["type"] == "LOG")
            .filter_map(|m| m["log"]["message"].as_str().map(String::from))
            .collect(),
        failure,
    }
}

/// Every deal once, with its columns: the server's values, typed; deal 7's date in the originals.
fn assert_columns(records: &[Value]) {
    let mut ids: Vec<u64> = records
        .iter()
        .filter_map(|r| r["id"].as_str()?.parse().ok())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids, (1..=DEALS).collect::<Vec<_>>());
    for r in records {
        let id: u64 = r["id"].as_str().and_then(|s| s.parse().ok()).expect("id");
        assert_eq!(r["custom_field_1"], format!("Deal {id}"), "{r}");
        assert_eq!(r["custom_field_2"], json!(["A", "C"]));
        assert_eq!(r["custom_field_4"], Value::Null, "no value: null");
        assert_eq!(r["value"], 945951, "the fixed fields are typed too");
        if id == 7 {
            assert_eq!(r["custom_field_3"], Value::Null);
            assert_eq!(r["_ac_originals"], json!({"custom_field_3": "2023-02-30"}));
        } else {
            assert_eq!(r["custom_field_3"], format!("2024-03-{:02}", id % 28 + 1));
        }
    }
}

fn count(asked: &[String], part: &str) -> usize {
    asked.iter().filter(|p| p.contains(part)).count()
}

#[test]
fn deals_carry_their_columns_from_the_include_at_no_extra_request() {
    let with = read_deals(Api::default(), &declared());
    let plain = read_deals(Api::default(), &catalog(json!({})));
    assert_eq!(with.failure, None);
    assert_columns(&with.records);
    assert_eq!(with.asked.len(), plain.asked.len(), "{:?}", with.asked);
    assert_eq!(count(&with.asked, "/dealCustomFieldData"), 0);
    assert_eq!(
        count(&with.asked, "include=dealCustomFieldData"),
        count(&with.asked, "/deals?")
    );
    assert_eq!(count(&plain.asked, "include="), 0);
    assert!(
        with.logs.iter().all(|l| !l.contains("ignored include")),
        "{:?}",
        with.logs
    );
}

#[test]
fn where_the_api_ignores_the_include_the_values_are_read_once_and_joined() {
    let api = Api {
        ignores_include: true,
        ..Api::default()
    };
    let with = read_deals(api, &declared());
    let plain = read_deals(api, &catalog(json!({})));
    assert_eq!(with.failure, None);
    assert_columns(&with.records);
    assert_eq!(with.tags, DEALS as usize);
    // 750 values in pages of 100 that overlap by one: 8 requests, once.
    assert_eq!(
        count(&with.asked, "/dealCustomFieldData"),
        8,
        "{:?}",
        with.asked
    );
    assert_eq!(with.asked.len(), plain.asked.len() + 8);
    assert!(
        with.logs.iter().any(
            |l| l.contains("deals: the API ignored include=dealCustomFieldData")
                && l.contains("750 values in 8 requests")
        ),
        "{:?}",
        with.logs
    );
}

#[test]
fn a_join_begun_mid_read_keeps_the_answers_in_flight_meanwhile() {
    let api = Api {
        ignores_include: true,
        honours_first_page: true,
        ..Api::default()
    };
    let r = read_deals(api, &declared());
    assert_eq!(r.failure, None);
    assert_columns(&r.records);
    assert_eq!(
        r.tags, DEALS as usize,
        "every tags page arrived, none was dropped"
    );
    assert_eq!(count(&r.asked, "/dealCustomFieldData"), 8, "{:?}", r.asked);
}

#[test]
fn a_values_list_that_shifts_during_the_join_is_read_again() {
    let api = Api {
        ignores_include: true,
        shifts_once: true,
        ..Api::default()
    };
    let r = read_deals(api, &declared());
    assert_eq!(r.failure, None);
    // The first page was read before value 10 went: the second page no longer continues it.
    assert_eq!(
        count(&r.asked, "/dealCustomFieldData"),
        2 + 8,
        "{:?}",
        r.asked
    );
    let deal4 = r.records.iter().find(|d| d["id"] == "4").expect("deal 4");
    assert_eq!(
        deal4["custom_field_1"],
        Value::Null,
        "its value is gone from the account"
    );
    assert!(r
        .records
        .iter()
        .filter(|d| d["id"] != "4")
        .all(|d| d["custom_field_1"].is_string()));
}

#[test]
fn values_that_name_no_deal_are_warned_of_once() {
    let api = Api {
        stray_value: true,
        ..Api::default()
    };
    let r = read_deals(api, &declared());
    assert_eq!(r.failure, None);
    assert_columns(&r.records);
    let warned: Vec<&String> = r
        .logs
        .iter()
        .filter(|l| l.contains("custom field values on a page name no record"))
        .collect();
    assert_eq!(warned.len(), 1, "{:?}", r.logs);
    assert!(
        warned[0].starts_with("deals: 1 custom field values"),
        "{}",
        warned[0]
    );
}

#[test]
fn a_join_that_cannot_be_read_fails_the_stream_with_the_reason() {
    let api = Api {
        ignores_include: true,
        values_fail: true,
        ..Api::default()
    };
    let r = read_deals(api, &declared());
    let why = r.failure.expect("deals failed");
    assert!(
        why.contains("ignored include=dealCustomFieldData") && why.contains("/dealCustomFieldData"),
        "{why}"
    );
    assert!(r.records.is_empty(), "no deal without its columns");
}
