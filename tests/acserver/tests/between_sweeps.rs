//! Through wasmtime: between sweeps, the lists that can be read newest first (contact
//! tags by `cdate`, contact automations by `adddate`, email activities by `tstamp`, custom object
//! records by `updatedTimestamp`) are
//! read from the top down to the cursor and deliver exactly what changed; a server that ignores
//! the order is caught and the list read in full, delivering the same; `full_sweep_hours: 0`
//! reads every list in full on every sync, as before.

mod common;
use ac_test_server::Server;
use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const KEY: &str = "between-sweeps-key-0ddba11";

/// Record ids by connector stream.
type Ids = BTreeMap<String, BTreeSet<String>>;

fn server(ignore_order: bool) -> Server {
    TestServer::new(KEY, 41, 400)
        .with(|c| c.quirks.ignore_order = ignore_order)
        .start()
}

/// The streams under test, as the server and the connector name them.
fn streams(srv: &Server) -> Vec<(String, String)> {
    let custom = srv
        .with_dataset(|d| d.stream_names())
        .into_iter()
        .find(|n| n.starts_with("custom_object:"))
        .expect("a custom object");
    ["contact_tags", "contact_automations", "email_activities"]
        .iter()
        .map(|s| (s.to_string(), s.to_string()))
        .chain([(custom.clone(), connector_name(&custom))])
        .collect()
}

/// Two incremental syncs with changes between; the second's records per stream, its requests
/// per path, its LOG messages, and what it must deliver (for contact_tags, read newest first by
/// creation: rows changed in place wait for the sweep, so the test's changes there are inserts).
fn two_syncs(srv: &Server, extra: Value) -> (Ids, BTreeMap<String, Vec<String>>, String, Ids) {
    let s = Scratch::new("between");
    let mut cfg: Value = serde_json::from_str(&config(&srv.base_url(), KEY, 50.0)).unwrap();
    cfg["sideload_contact_children"] = Value::Bool(false);
    for (k, v) in extra.as_object().into_iter().flatten() {
        cfg[k] = v.clone();
    }
    let cfg = s.write("c.json", &cfg.to_string());
    let names = streams(srv);
    let list: Vec<&str> = names.iter().map(|(_, c)| c.as_str()).collect();
    let cat = s.write("cat.json", &catalog(&list, true));
    let first = wasmtime(&s, &["read", "--config", &cfg, "--catalog", &cat]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let mut states = BTreeMap::new();
    merge_states(&mut states, &first.messages());
    let st = s.write("state.json", &state_text(&states));
    // What the next read must deliver: the overlap by design, and the changes.
    let mut want = overlap_after_first_read(srv, 5);
    srv.with_dataset(|d| {
        for (name, stream) in &names {
            let mut ids: BTreeSet<String> = BTreeSet::new();
            // Read newest first by creation: rows changed in place wait for the sweep.
            if name != "contact_tags" && name != "contact_automations" {
                ids.extend(d.touch(name, 4));
            }
            ids.extend(d.insert(name, 3));
            want.entry(stream.clone()).or_default().extend(ids);
        }
    });
    let before = srv.requests().len();
    let second = wasmtime(
        &s,
        &["read", "--config", &cfg, "--catalog", &cat, "--state", &st],
    );
    assert_eq!(second.code, 0, "{}", second.stderr);
    let got: BTreeMap<String, BTreeSet<String>> = ids_by_stream(&second.messages())
        .into_iter()
        .map(|(k, v)| (k, v.into_iter().collect()))
        .collect();
    let mut paths: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &srv.requests()[before..] {
        let path = r.path.split('?').next().unwrap_or("").to_string();
        paths.entry(path).or_default().push(r.path.clone());
    }
    let logs: String = second
        .of_type("LOG")
        .iter()
        .filter_map(|m| m["log"]["message"].as_str())
        .collect::<Vec<_>>()
        .join("\n");
    (got, paths, logs, want)
}

fn requests_to<'a>(paths: &'a BTreeMap<String, Vec<String>>, part: &str) -> &'a [String] {
    paths
        .iter()
        .find(|(p, _)| p.contains(part))
        .map(|(_, v)| v.as_slice())
        .unwrap_or(&[])
}

/// Each strategy finds exactly the changes in a page or two, asking the order newest first.
#[test]
fn newest_first_lists_deliver_the_changes_in_a_page_or_two() {
    let srv = server(false);
    let (got, paths, logs, want) = two_syncs(&srv, serde_json::json!({}));
    for (part, stream, order) in [
        ("contactTags", "contact_tags", "orders%5Bcdate%5D=DESC"),
        (
            "contactAutomations",
            "contact_automations",
            "orders%5Badddate%5D=DESC",
        ),
        (
            "emailActivities",
            "email_activities",
            "orders%5Btstamp%5D=DESC",
        ),
        (
            "customObjects/records",
            "custom_object",
            "orders%5BupdatedTimestamp%5D=DESC",
        ),
    ] {
        let asked = requests_to(&paths, part);
        assert!(
            !asked.is_empty() && asked.iter().all(|p| p.contains(order)),
            "{stream}: {asked:?}"
        );
        assert!(asked.len() <= 2, "{stream}: {} requests", asked.len());
        let key = got
            .keys()
            .find(|k| k.starts_with(stream))
            .cloned()
            .unwrap_or_default();
        let (got, want) = (
            got.get(&key).cloned().unwrap_or_default(),
            want.get(&key).cloned().unwrap_or_default(),
        );
        if stream == "contact_tags" || stream == "contact_automations" {
            // Newest first by creation: the new rows, and of the overlap those created since.
            assert!(
                got.is_subset(&want) && got.len() >= 3,
                "{stream}: {got:?} of {want:?}"
            );
        } else {
            assert_eq!(got, want, "{stream}: exactly the changes");
        }
    }
    assert!(!logs.contains("does not order"), "{logs}");
}

/// A server that ignores the order is caught on the first page: each list is read in full (that
/// page taken as the full read's first), and delivers exactly the same. (Without the check, the first page in id order would end the pass
/// at once and lose the newest records.)
#[test]
fn a_server_ignoring_the_order_is_read_in_full_and_loses_nothing() {
    let srv = server(true);
    let (got, paths, logs, want) = two_syncs(&srv, serde_json::json!({}));
    for (part, stream) in [
        ("contactTags", "contact_tags"),
        ("contactAutomations", "contact_automations"),
        ("emailActivities", "email_activities"),
        ("customObjects/records", "custom_object"),
    ] {
        // The first page, asked newest first, is the whole read's first page in the server's
        // order: taken as it; the rest is asked without the order.
        let asked = requests_to(&paths, part);
        assert!(
            asked.first().is_some_and(|p| p.contains("DESC"))
                && asked[1..].iter().all(|p| !p.contains("DESC")),
            "{stream}: read in full: {asked:?}"
        );
        let key = got
            .keys()
            .find(|k| k.starts_with(stream))
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            got.get(&key),
            want.get(&key),
            "{stream}: exactly the changes"
        );
        assert!(
            logs.contains(&format!("{key}: the API does not order")),
            "{logs}"
        );
    }
}

/// `full_sweep_hours: 0`: every sync reads every list in full, as when every sync was a sweep.
#[test]
fn full_sweep_hours_zero_reads_every_list_in_full() {
    let srv = server(false);
    let (got, paths, _, want) = two_syncs(&srv, serde_json::json!({"full_sweep_hours": 0}));
    for (part, stream) in [
        ("contactTags", "contact_tags"),
        ("emailActivities", "email_activities"),
    ] {
        let asked = requests_to(&paths, part);
        assert!(
            asked.iter().all(|p| !p.contains("DESC")),
            "{stream}: {asked:?}"
        );
        let rows = srv.with_dataset(|d| d.ids(stream).len());
        assert!(
            asked.len() > rows / 100,
            "{stream}: in full: {} requests, {rows} rows",
            asked.len()
        );
        assert_eq!(got.get(stream), want.get(stream), "{stream}");
    }
}

/// Rows changed in place in a list read newest first by creation (contact tags, contact
/// automations) wait for the sweep, and the sweep delivers them: the sync between sweeps moves
/// only its partial mark, never the cursor past them. With the cursor moved, the sweep would cut
/// them away for good: `make bench ONLY=sweep` found 100 automation runs lost so, and
/// `src/scenarios/newest_first.rs` fails so; here the test server's clock keeps the pass start
/// (which caps the cursor) before the changed rows, so this end-to-end check passes either way.
#[test]
fn rows_changed_in_place_wait_for_the_sweep_and_are_not_lost() {
    let srv = server(false);
    let s = Scratch::new("in-place");
    let mut base: Value = serde_json::from_str(&config(&srv.base_url(), KEY, 50.0)).unwrap();
    base["sideload_contact_children"] = Value::Bool(false);
    let cfg = s.write("c.json", &base.to_string());
    base["full_sweep_hours"] = serde_json::json!(0);
    let sweep_cfg = s.write("sweep.json", &base.to_string());
    let streams = ["contact_tags", "contact_automations"];
    let cat = s.write("cat.json", &catalog(&streams, true));
    let mut states = BTreeMap::new();
    let mut sync = |cfg: &str| {
        let st = s.write("state.json", &state_text(&states));
        let mut args = vec!["read", "--config", cfg, "--catalog", &cat];
        if !states.is_empty() {
            args.extend(["--state", &st]);
        }
        let run = wasmtime(&s, &args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        merge_states(&mut states, &run.messages());
        ids_by_stream(&run.messages())
    };
    sync(&cfg);
    // Rows changed in place, then new rows (later): the sync between sweeps delivers the new
    // ones, whose cursor values are past the changed rows'.
    let touched: BTreeMap<&str, Vec<String>> = srv.with_dataset(|d| {
        let touched = streams.iter().map(|n| (*n, d.touch(n, 4))).collect();
        for n in streams {
            d.insert(n, 2);
        }
        touched
    });
    let between = sync(&cfg);
    let swept = sync(&sweep_cfg);
    for stream in streams {
        let seen_between: BTreeSet<&String> = between.get(stream).into_iter().flatten().collect();
        let seen_swept: BTreeSet<&String> = swept.get(stream).into_iter().flatten().collect();
        for id in &touched[stream] {
            assert!(
                seen_between.contains(id) || seen_swept.contains(id),
                "{stream} {id}: changed in place and delivered by neither sync"
            );
        }
        // Contact tags' changed rows are old by creation, below the first page: the case under
        // test. (This account's automation runs fit the first pages, so they all come.)
        if stream == "contact_tags" {
            assert!(
                touched[stream].iter().any(|id| !seen_between.contains(id)),
                "{stream}: the sync between sweeps was expected to miss a row changed in place"
            );
        }
    }
}

/// A server that ignores every `orders[...]`, contact children on their contacts (the default):
/// the sync between sweeps of the whole account, with a day of changes, makes no more requests
/// than the full read before it, and delivers every change (contact tags fall back onto the
/// contacts pages as the sweep reads them, never onto their own whole list).
#[test]
fn with_orders_ignored_a_sync_between_sweeps_costs_no_more_than_a_full_read() {
    let srv = server(true);
    let s = Scratch::new("between-ignored");
    let cfg = s.write("c.json", &config(&srv.base_url(), KEY, 50.0));
    let streams = discover_streams(&s, &cfg);
    let cat = s.write(
        "cat.json",
        &incremental_catalog_to(&streams, "append_dedup"),
    );
    let before = srv.requests().len();
    let first = wasmtime(&s, &["read", "--config", &cfg, "--catalog", &cat]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let full = srv.requests().len() - before;
    let mut states = std::collections::BTreeMap::new();
    merge_states(&mut states, &first.messages());
    let changed: BTreeSet<String> = srv.with_dataset(|d| {
        let mut ids = d.insert("contact_tags", 5);
        ids.extend(d.insert("contact_automations", 3));
        ids.extend(d.touch("contacts", 4));
        ids.into_iter().collect()
    });
    let st = s.write("state.json", &state_text(&states));
    let before = srv.requests().len();
    let second = wasmtime(
        &s,
        &["read", "--config", &cfg, "--catalog", &cat, "--state", &st],
    );
    assert_eq!(second.code, 0, "{}", second.stderr);
    let between = srv.requests().len() - before;
    assert!(
        between <= full,
        "between sweeps {between} requests, the full read {full}"
    );
    let delivered: BTreeSet<String> = second
        .messages()
        .iter()
        .filter(|m| m["type"] == "RECORD")
        .filter_map(|m| m["record"]["data"]["id"].as_str().map(String::from))
        .collect();
    let missing: Vec<&String> = changed.difference(&delivered).collect();
    assert!(missing.is_empty(), "changes not delivered: {missing:?}");
    assert!(
        second
            .stderr
            .contains("contact_tags: the API does not order the list by cdate newest first")
            && second
                .stderr
                .contains("on a complete pass of the contacts pages instead"),
        "{}",
        second.stderr
    );
}
