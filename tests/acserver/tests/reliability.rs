//! End to end: faults, a failing stream, the key kept secret, staying on the host, and
//! sandbox limits.

mod common;
use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const KEY: &str = "rel-key-0ddba11-secret";

/// Limits a healthy sync stays within: 128 MiB of linear memory, 15 minutes.
const LIMITS: &[&str] = &["-W", "max-memory-size=134217728", "-W", "timeout=900s"];

fn assert_secret_kept(run: &Run) {
    assert!(
        !run.stdout.contains(KEY) && !run.stderr.contains(KEY),
        "the API key leaked"
    );
}

fn retry_config(base: &str, rps: f64, attempts: u32, wait_s: u32) -> String {
    serde_json::json!({"api_url": base, "api_key": KEY, "requests_per_second": rps, "max_attempts": attempts, "max_retry_wait_seconds": wait_s}).to_string()
}

/// The same, with contact children paged from their own lists (not sideloaded on contacts).
fn own_lists_config(base: &str, rps: f64, attempts: u32, wait_s: u32) -> String {
    let mut v: Value =
        serde_json::from_str(&retry_config(base, rps, attempts, wait_s)).unwrap_or_default();
    v["sideload_contact_children"] = Value::Bool(false);
    v.to_string()
}

#[test]
fn a_read_through_twenty_percent_faults_delivers_everything_once() {
    let _g = serial();
    let srv = TestServer::new(KEY, 5, 1_000)
        .with(|c| {
            c.fault_rate = 0.2;
            c.fault_seed = 99;
        })
        .start();
    let s = Scratch::new("faults");
    let c = s.write("c.json", &retry_config(&srv.base_url(), 30.0, 12, 300));
    let run = wasmtime_with(LIMITS, &s, &["read", "--config", &c]);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_secret_kept(&run);
    let got = ids_by_stream(&run.messages());
    for name in srv.with_dataset(|d| d.stream_names()) {
        assert_exactly(
            &name,
            srv.with_dataset(|d| d.ids(&name)),
            got.get(&connector_name(&name)),
        );
    }
    let kinds: BTreeSet<String> = srv
        .requests()
        .iter()
        .filter_map(|r| r.fault.clone())
        .collect();
    assert!(kinds.len() >= 8, "the server injected only {kinds:?}");
    let faults = srv.requests().iter().filter(|r| r.fault.is_some()).count();
    assert!(
        faults * 100 >= srv.requests().len() * 10,
        "{faults} faults in {} requests",
        srv.requests().len()
    );
}

#[test]
fn a_stream_that_always_fails_is_named_and_its_state_resumes() {
    let _g = serial();
    let srv = TestServer::new(KEY, 8, 300).start();
    // contact_tags (≈450 records, paged from its own list) fails from its fourth page on (pages
    // overlap by one record: offsets 0, 99, 198, 297).
    srv.set_failing_paths(vec!["contactTags?limit=100&offset=297".into()]);
    let s = Scratch::new("failing");
    let c = s.write("c.json", &own_lists_config(&srv.base_url(), 50.0, 3, 30));
    let cat = s.write(
        "cat.json",
        &catalog(&["contact_tags", "contacts", "deals", "lists"], true),
    );
    let run = wasmtime_with(LIMITS, &s, &["read", "--config", &c, "--catalog", &cat]);
    assert_failed_cleanly(&run, "a read with an always-failing stream");
    assert_secret_kept(&run);
    let errors: Vec<Value> = run
        .of_type("TRACE")
        .into_iter()
        .filter(|m| m["trace"]["type"] == "ERROR")
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0]["trace"]["error"];
    assert_eq!(e["stream_descriptor"]["name"], "contact_tags");
    let msg = e["message"].as_str().unwrap_or("");
    assert!(
        msg.contains("contact_tags") && msg.contains("offset 297") && msg.contains("500"),
        "{msg}"
    );
    assert!(run.stderr.contains("contact_tags"));
    let got = ids_by_stream(&run.messages());
    for other in ["lists", "contacts", "deals"] {
        assert_exactly(other, srv.with_dataset(|d| d.ids(other)), got.get(other));
    }
    assert_eq!(got.get("contact_tags").map_or(0, Vec::len), 298);

    // The fault clears; the next run resumes contact_tags from its last STATE and completes it.
    srv.set_failing_paths(vec![]);
    let states: Vec<Value> = run
        .of_type("STATE")
        .into_iter()
        .map(|m| m["state"].clone())
        .collect();
    let mut last: BTreeMap<String, Value> = BTreeMap::new();
    for st in states {
        last.insert(
            st["stream"]["stream_descriptor"]["name"]
                .as_str()
                .unwrap_or("")
                .to_string(),
            st,
        );
    }
    assert_eq!(
        last["contact_tags"]["stream"]["stream_state"]["resume"]["offset"],
        298
    );
    let st = s.write(
        "state.json",
        &Value::Array(last.into_values().collect()).to_string(),
    );
    let second = wasmtime_with(
        LIMITS,
        &s,
        &["read", "--config", &c, "--catalog", &cat, "--state", &st],
    );
    assert_eq!(second.code, 0, "{}", second.stderr);
    let again = ids_by_stream(&second.messages());
    let mut all: Vec<String> = got["contact_tags"]
        .iter()
        .chain(again.get("contact_tags").into_iter().flatten())
        .cloned()
        .collect();
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(n, all.len(), "no contact tag delivered twice");
    let mut want = srv.with_dataset(|d| d.ids("contact_tags"));
    want.sort();
    assert_eq!(all, want);
    assert!(
        again.get("contacts").is_none_or(Vec::is_empty),
        "contacts were complete: nothing new"
    );
}

#[test]
fn the_key_stays_secret_in_every_failure() {
    let _g = serial();
    let srv = TestServer::new(KEY, 1, 10).start();
    let s = Scratch::new("secret");
    let base = srv.base_url();
    let configs = [
        // The key inside the URL, a query string, credentials: refused without echoing it.
        serde_json::json!({"api_url": format!("{base}/?api_key={KEY}"), "api_key": KEY}),
        serde_json::json!({"api_url": format!("http://user:{KEY}@127.0.0.1:1"), "api_key": KEY}),
        serde_json::json!({"api_url": format!("https://{KEY}.example.com"), "api_key": KEY, "start_date": KEY}),
        serde_json::json!({"api_url": base, "api_key": KEY, "requests_per_second": KEY}),
        // A dead host: network errors.
        serde_json::json!({"api_url": "http://127.0.0.1:9", "api_key": KEY, "max_attempts": 2}),
    ];
    for (i, c) in configs.iter().enumerate() {
        let path = s.write(&format!("c{i}.json"), &c.to_string());
        for cmd in ["check", "discover", "read"] {
            let run = wasmtime(&s, &[cmd, "--config", &path]);
            assert_failed_cleanly(&run, &format!("{cmd} {c}"));
            assert_secret_kept(&run);
        }
    }
    // Server errors that echo the key back are masked too.
    srv.set_failing_paths(vec!["tags".into()]);
    let good = s.write("good.json", &retry_config(&base, 50.0, 2, 10));
    let run = wasmtime(
        &s,
        &[
            "read",
            "--config",
            &good,
            "--catalog",
            &s.write("cat.json", &catalog(&["tags"], false)),
        ],
    );
    assert_failed_cleanly(&run, "a failing stream whose errors echo the key");
    assert_secret_kept(&run);
}

#[test]
fn requests_stay_on_the_configured_host() {
    let _g = serial();
    // Record links point at a second loopback listener that counts connections: following any
    // of them would show there (the server's own log could never show a request to another host).
    let trap = ac_test_server::EgressListener::start().expect("egress listener");
    let srv = TestServer::new(KEY, 2, 50)
        .with(|c| c.link_origin = Some(trap.url()))
        .start();
    let s = Scratch::new("host");
    let c = s.write("c.json", &retry_config(&srv.base_url(), 50.0, 3, 10));
    let run = wasmtime(&s, &["read", "--config", &c]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(&format!("{}/api/3/", trap.url())),
        "the records do carry links to the listener"
    );
    assert_eq!(trap.connections(), 0, "a record link was followed");
    // Plain http to a non-loopback host is refused before any request.
    let off = s.write(
        "off.json",
        &serde_json::json!({"api_url": "http://acct.api-us1.com", "api_key": KEY}).to_string(),
    );
    let run = wasmtime(&s, &["check", "--config", &off]);
    assert_failed_cleanly(&run, "plain http to a remote host");
    assert!(run.stderr.contains("https"));
}
