//! End to end: the connector against a server that behaves as the real API may
//! (the `Quirks` switches): counts that lie, lists that change during the read, orders and
//! `id_less` ignored, empty lists answered without a list, custom object schemas unavailable or
//! deleted. Every test checks, in full refresh and incremental mode, that every record that
//! existed throughout the read is delivered, none is invented (exact id sets against the
//! server), and the streams end COMPLETE.

mod common;
use ac_test_server::{EmptyShape, Quirks, Server, TotalQuirk};
use common::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

const KEY: &str = "realism-key-5eed";

/// Streams of more than one page that the churn switch changes during a read (with contact
/// children paged from their own lists).
const CHURNED: &[&str] = &["contact_tags", "contact_custom_field_values", "activities"];

fn server(quirks: Quirks, contacts: usize) -> Server {
    TestServer::new(KEY, 11, contacts)
        .with(|c| c.quirks = quirks)
        .start()
}

/// A fast config: a high rate (the server has no limit here), few quick retries.
fn fast_config(base: &str, sideload: bool) -> String {
    json!({"api_url": base, "api_key": KEY, "requests_per_second": 40, "max_attempts": 2,
        "max_retry_wait_seconds": 10, "account_timezone": "-05:00",
        "sideload_contact_children": sideload})
    .to_string()
}

/// The discovered catalog, configured: incremental where offered (when `incremental`).
fn discovered(s: &Scratch, config: &str, incremental: bool) -> (String, Vec<String>) {
    let run = wasmtime(s, &["discover", "--config", config]);
    assert_eq!(run.code, 0, "discover: {}", run.stderr);
    let cat = run.of_type("CATALOG");
    let streams = cat[0]["catalog"]["streams"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let names: Vec<String> = streams
        .iter()
        .filter_map(|s| s["name"].as_str().map(String::from))
        .collect();
    let configured: Vec<Value> = streams
        .into_iter()
        .map(|s| {
            let inc = incremental
                && s["supported_sync_modes"]
                    .as_array()
                    .is_some_and(|m| m.iter().any(|x| x == "incremental"));
            json!({"stream": s, "sync_mode": if inc { "incremental" } else { "full_refresh" },
                "destination_sync_mode": "append"})
        })
        .collect();
    (json!({ "streams": configured }).to_string(), names)
}

/// Last STREAM_STATUS of each stream.
fn statuses(run: &Run) -> BTreeMap<String, String> {
    run.of_type("TRACE")
        .into_iter()
        .filter(|m| m["trace"]["type"] == "STREAM_STATUS")
        .map(|m| {
            let s = &m["trace"]["stream_status"];
            (
                s["stream_descriptor"]["name"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                s["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Streams that ended with an ERROR trace, with its failure type.
fn errors(run: &Run) -> BTreeMap<String, String> {
    run.of_type("TRACE")
        .into_iter()
        .filter(|m| m["trace"]["type"] == "ERROR")
        .map(|m| {
            let e = &m["trace"]["error"];
            (
                e["stream_descriptor"]["name"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                e["failure_type"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Every stream of the server: delivered exactly (or, for churned streams, everything that
/// existed throughout and nothing that never existed), and COMPLETE.
fn assert_all_delivered(srv: &Server, run: &Run, initial: &BTreeMap<String, Vec<String>>) {
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert!(errors(run).is_empty(), "{:?}", errors(run));
    let st = statuses(run);
    let got = ids_by_stream(&run.messages());
    for name in srv.with_dataset(|d| d.stream_names()) {
        let cname = connector_name(&name);
        assert_eq!(
            st.get(&cname).map(String::as_str),
            Some("COMPLETE"),
            "{cname}"
        );
        let now = srv.with_dataset(|d| d.ids(&name));
        let added = srv.churn_inserted(&name);
        if added.is_empty() {
            assert_exactly(&cname, now, got.get(&cname));
            continue;
        }
        let have = got.get(&cname).cloned().unwrap_or_default();
        let set: BTreeSet<String> = have.iter().cloned().collect();
        assert_eq!(set.len(), have.len(), "{cname}: an id delivered twice");
        let now: BTreeSet<String> = now.into_iter().collect();
        let start: BTreeSet<String> = initial[&name].iter().cloned().collect();
        let lost: Vec<&String> = start
            .intersection(&now)
            .filter(|i| !set.contains(*i))
            .collect();
        assert!(
            lost.is_empty(),
            "{cname}: lost {lost:?} that existed throughout"
        );
        let ever: BTreeSet<String> = start.into_iter().chain(added).collect();
        let invented: Vec<&String> = set.difference(&ever).collect();
        assert!(invented.is_empty(), "{cname}: invented {invented:?}");
    }
}

fn initial_ids(srv: &Server) -> BTreeMap<String, Vec<String>> {
    srv.with_dataset(|d| {
        d.stream_names()
            .into_iter()
            .map(|n| (n.clone(), d.ids(&n)))
            .collect()
    })
}

/// Reads everything twice (full refresh, then incremental from scratch) against a server with
/// `quirks`, checking each run.
fn read_both_modes(name: &str, quirks: Quirks, contacts: usize, sideload: bool) -> Vec<Run> {
    read_modes(name, quirks, contacts, sideload, &[false, true])
}

/// Reads everything in each mode (incremental: true) against a fresh server with `quirks`,
/// checking each run.
fn read_modes(
    name: &str,
    quirks: Quirks,
    contacts: usize,
    sideload: bool,
    modes: &[bool],
) -> Vec<Run> {
    modes
        .iter()
        .map(|&incremental| {
            let srv = server(quirks.clone(), contacts);
            read_checked(name, &srv, sideload, incremental)
        })
        .collect()
}

/// Reads everything from `srv` in one mode and checks every record that existed throughout the
/// read was delivered, once.
fn read_checked(name: &str, srv: &Server, sideload: bool, incremental: bool) -> Run {
    let s = Scratch::new(name);
    let c = s.write("c.json", &fast_config(&srv.base_url(), sideload));
    let (cat, _) = discovered(&s, &c, incremental);
    let cat = s.write("cat.json", &cat);
    let initial = initial_ids(srv);
    let run = wasmtime(&s, &["read", "--config", &c, "--catalog", &cat]);
    assert_all_delivered(srv, &run, &initial);
    run
}

#[test]
fn counts_of_zero_too_small_or_too_large_never_end_a_list() {
    let _g = serial();
    for (total, modes) in [
        (TotalQuirk::Zero, &[false, true][..]),
        (TotalQuirk::Half, &[true][..]),
        (TotalQuirk::Double, &[false][..]),
    ] {
        let q = Quirks {
            total: Some(total),
            ..Quirks::default()
        };
        read_modes("total", q, 300, false, modes);
    }
}

#[test]
fn records_deleted_and_added_during_the_read_shift_no_record_out() {
    let _g = serial();
    let q = Quirks {
        churn_every: 2,
        churn_streams: CHURNED.iter().map(|s| s.to_string()).collect(),
        ..Quirks::default()
    };
    for run in read_both_modes("churn", q, 300, false) {
        assert!(
            run.stdout.contains("does not continue the one before"),
            "the shift was seen and repaired"
        );
    }
}

#[test]
fn a_server_ignoring_the_order_still_delivers_every_record_once() {
    let _g = serial();
    // A stable order that is not by id, with and without changes during the read.
    for churn_every in [0, 3] {
        let q = Quirks {
            ignore_order: true,
            churn_every,
            churn_streams: CHURNED.iter().map(|s| s.to_string()).collect(),
            ..Quirks::default()
        };
        for run in read_both_modes("order", q, 300, false) {
            assert!(run.stdout.contains("ids do not rise"));
        }
    }
    // Where an id order is documented, it is asked for.
    let srv = server(Quirks::default(), 50);
    let s = Scratch::new("order-asked");
    let c = s.write("c.json", &fast_config(&srv.base_url(), true));
    let cat = s.write(
        "cat.json",
        &catalog(&["lists", "email_activities", "tags"], false),
    );
    let run = wasmtime(&s, &["read", "--config", &c, "--catalog", &cat]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let asked = |path: &str| {
        srv.requests()
            .iter()
            .filter(|r| r.path.starts_with(&format!("/api/3/{path}?")))
            .all(|r| r.path.contains("orders%5Bid%5D=ASC"))
    };
    assert!(asked("lists") && asked("emailActivities"));
    assert!(!srv
        .requests()
        .iter()
        .any(|r| r.path.starts_with("/api/3/tags?") && r.path.contains("orders")));
}

#[test]
fn a_server_ignoring_id_less_does_not_multiply_contacts() {
    let _g = serial();
    let q = Quirks {
        ignore_id_less: true,
        ..Quirks::default()
    };
    // Children ride on contacts pages: they must not multiply either. Deleted contacts leave
    // gaps in the ids, so ranges do not end on a page's last record and the server's answers
    // really run past id_less.
    for incremental in [false, true] {
        let srv = server(q.clone(), 1_500);
        let children = [
            "contact_custom_field_values",
            "contact_tags",
            "contact_lists",
        ];
        let gone =
            srv.with_dataset(|d| d.delete_with_children("contacts", 170, &children, "contact"));
        assert_eq!(gone.len(), 170);
        let run = read_checked("idless", &srv, true, incremental);
        assert!(
            run.stdout.contains("outside the id range"),
            "the server really ignored id_less"
        );
    }
}

#[test]
fn answers_without_a_list_are_empty_pages_not_minutes_of_retries() {
    let _g = serial();
    for shape in [
        EmptyShape::Braces,
        EmptyShape::EmptyBody,
        EmptyShape::NoListKey,
    ] {
        let q = Quirks {
            empty_as: Some(shape),
            ..Quirks::default()
        };
        let srv_requests = {
            let srv = server(q.clone(), 200);
            let s = Scratch::new("empty");
            let c = s.write("c.json", &fast_config(&srv.base_url(), false));
            let (cat, _) = discovered(&s, &c, false);
            let cat = s.write("cat.json", &cat);
            let initial = initial_ids(&srv);
            let run = wasmtime(&s, &["read", "--config", &c, "--catalog", &cat]);
            assert_all_delivered(&srv, &run, &initial);
            assert!(
                !run.stdout.contains("retry 1 in"),
                "{shape:?}: no backoff on an empty answer"
            );
            srv.requests()
        };
        // An empty answer is asked at most three times in a row, at once.
        let mut repeats: BTreeMap<&str, usize> = BTreeMap::new();
        for r in &srv_requests {
            *repeats.entry(r.path.as_str()).or_default() += 1;
        }
        let worst = repeats.values().max().copied().unwrap_or(0);
        assert!(worst <= 4, "{shape:?}: a page asked {worst} times");
        if shape == EmptyShape::EmptyBody {
            // Incremental, and with contact children riding on contacts (keyset ranges end on
            // an empty answer too).
            read_modes("empty", q, 200, true, &[true]);
        }
    }
}

#[test]
fn a_custom_object_schema_outage_fails_only_those_streams() {
    let _g = serial();
    // The catalog is made while the schemas are readable…
    let srv = server(Quirks::default(), 100);
    let s = Scratch::new("schemas");
    let c = s.write("c.json", &fast_config(&srv.base_url(), true));
    let (cat_text, names) = discovered(&s, &c, true);
    let custom: Vec<String> = names
        .iter()
        .filter(|n| n.starts_with("custom_object_"))
        .cloned()
        .collect();
    assert_eq!(custom.len(), 2, "{names:?}");
    let cat = s.write("cat.json", &cat_text);
    drop(srv);
    // …then they answer 503.
    let srv = server(
        Quirks {
            schemas_unavailable: true,
            ..Quirks::default()
        },
        100,
    );
    let c = s.write("c.json", &fast_config(&srv.base_url(), true));
    let run = wasmtime(&s, &["read", "--config", &c, "--catalog", &cat]);
    assert_failed_cleanly(&run, "a read whose custom object schemas are unavailable");
    let errs = errors(&run);
    let want: BTreeMap<String, String> = custom
        .iter()
        .map(|n| (n.clone(), "transient_error".to_string()))
        .collect();
    assert_eq!(errs, want);
    let st = statuses(&run);
    let got = ids_by_stream(&run.messages());
    for name in srv.with_dataset(|d| d.stream_names()) {
        let cname = connector_name(&name);
        if custom.contains(&cname) {
            assert_eq!(st.get(&cname).map(String::as_str), Some("INCOMPLETE"));
            assert!(!got.contains_key(&cname));
        } else {
            assert_eq!(
                st.get(&cname).map(String::as_str),
                Some("COMPLETE"),
                "{cname}"
            );
            assert_exactly(&cname, srv.with_dataset(|d| d.ids(&name)), got.get(&cname));
        }
    }
    // A schema deleted since the catalog was made: that stream alone fails, as a config error.
    let srv = server(Quirks::default(), 100);
    let gone = srv
        .with_dataset(|d| d.stream_names())
        .into_iter()
        .find(|n| connector_name(n) == custom[0])
        .and_then(|n| n.strip_prefix("custom_object:").map(String::from))
        .unwrap_or_default();
    assert!(srv.with_dataset(|d| d.drop_schema(&gone)), "slug {gone}");
    let c = s.write("c.json", &fast_config(&srv.base_url(), true));
    let run = wasmtime(&s, &["read", "--config", &c, "--catalog", &cat]);
    let errs = errors(&run);
    assert_eq!(
        errs,
        BTreeMap::from([(custom[0].clone(), "config_error".to_string())])
    );
    let got = ids_by_stream(&run.messages());
    for name in srv.with_dataset(|d| d.stream_names()) {
        let cname = connector_name(&name);
        assert_exactly(&cname, srv.with_dataset(|d| d.ids(&name)), got.get(&cname));
    }
}

/// Every list (main and sideloads) written as PHP writes an array with gaps in its
/// keys, an object: every record delivered, once, and COMPLETE, in both modes and with contact
/// children riding on the contact pages.
#[test]
fn lists_written_as_objects_lose_no_record() {
    let _g = serial();
    let q = Quirks {
        object_lists: true,
        ..Quirks::default()
    };
    read_both_modes("object-lists", q.clone(), 250, false);
    read_modes("object-lists", q, 250, true, &[true]);
}

/// A list key holding a string, and a record nested past the bound, fail their stream
/// (system_error, never COMPLETE) naming the key and type or the record's id; the other streams
/// are delivered whole and the read exits 1.
#[test]
fn a_string_list_and_a_deep_record_fail_their_streams_only() {
    let _g = serial();
    let q = Quirks {
        string_lists: vec!["tags".into()],
        deep_records: vec!["deals".into()],
        ..Quirks::default()
    };
    let srv = server(q, 150);
    let last_deal = srv
        .with_dataset(|d| d.ids("deals"))
        .last()
        .cloned()
        .unwrap_or_default();
    let s = Scratch::new("shapes");
    let c = s.write("c.json", &fast_config(&srv.base_url(), false));
    let (cat, _) = discovered(&s, &c, false);
    let cat = s.write("cat.json", &cat);
    let run = wasmtime(&s, &["read", "--config", &c, "--catalog", &cat]);
    assert_failed_cleanly(&run, "a read with a string list and a deep record");
    let errs = errors(&run);
    assert_eq!(
        errs.get("tags").map(String::as_str),
        Some("system_error"),
        "{errs:?}"
    );
    assert_eq!(
        errs.get("deals").map(String::as_str),
        Some("system_error"),
        "{errs:?}"
    );
    assert_eq!(errs.len(), 2, "{errs:?}");
    let messages: Vec<String> = run
        .of_type("TRACE")
        .into_iter()
        .filter_map(|m| m["trace"]["error"]["message"].as_str().map(String::from))
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("'tags' is a string")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains(&format!("record \"{last_deal}\"")) && m.contains("deeper than 64")),
        "{messages:?}"
    );
    let st = statuses(&run);
    assert_eq!(st.get("tags").map(String::as_str), Some("INCOMPLETE"));
    assert_eq!(st.get("deals").map(String::as_str), Some("INCOMPLETE"));
    let complete = st.values().filter(|v| *v == "COMPLETE").count();
    assert_eq!(complete + 2, st.len(), "{st:?}");
    let got = ids_by_stream(&run.messages());
    assert!(!got.get("deals").is_some_and(|d| d.contains(&last_deal)));
    assert_eq!(
        got.get("users").map(Vec::len),
        Some(srv.with_dataset(|d| d.ids("users")).len())
    );
}

/// A server that ignores `orders[id]=ASC` on contacts: keyset paging is impossible, so
/// contacts fall back to the churn-safe offset paging with one warning, and every contact (and
/// every contact child riding on the contact pages) is delivered once, COMPLETE, exit 0, in both
/// modes.
#[test]
fn a_server_ignoring_the_contacts_order_falls_back_to_offset_paging() {
    let _g = serial();
    let q = Quirks {
        ignore_contacts_order: true,
        ..Quirks::default()
    };
    let mut runs = read_both_modes("contacts-order", q.clone(), 300, false);
    runs.extend(read_modes("contacts-order", q, 300, true, &[false]));
    for run in runs {
        let warnings = run
            .of_type("LOG")
            .into_iter()
            .filter(|m| {
                m["log"]["level"] == "WARN"
                    && m["log"]["message"].as_str().is_some_and(|t| {
                        t.starts_with("contacts: ") && t.contains("reading it with offset paging")
                    })
            })
            .count();
        assert_eq!(warnings, 1, "one fallback warning for contacts");
    }
}
