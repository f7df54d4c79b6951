//! End to end: spec, check, discover and a full read through the wasmtime CLI.

mod common;
use ac_test_server::Server;
use common::*;
use serde_json::Value;
use std::collections::BTreeSet;

const KEY: &str = "it-secret-key-7f3a9c";

fn server(contacts: usize, rps: Option<u32>) -> Server {
    TestServer::new(KEY, 11, contacts)
        .with(|c| c.rate_limit_per_sec = rps)
        .start()
}

fn assert_no_key(run: &Run) {
    assert!(!run.stdout.contains(KEY), "the API key leaked to stdout");
    assert!(!run.stderr.contains(KEY), "the API key leaked to stderr");
}

#[test]
fn spec_is_a_json_schema_with_a_secret_key() {
    let _g = serial();
    let s = Scratch::new("spec");
    let run = wasmtime(&s, &["spec"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let spec = run.of_type("SPEC").pop().expect("a SPEC message");
    let cs = &spec["spec"]["connectionSpecification"];
    assert_eq!(cs["type"], "object");
    assert_eq!(cs["properties"]["api_key"]["airbyte_secret"], true);
    assert_eq!(cs["required"], serde_json::json!(["api_url", "api_key"]));
    for (name, p) in cs["properties"].as_object().expect("properties") {
        assert!(
            p["type"].is_string() && p["description"].is_string(),
            "property {name} lacks a type or description"
        );
    }
    // The spec accepts a good config and rejects one without the key.
    validate(
        cs,
        &serde_json::json!({"api_url": "https://a.api-us1.com", "api_key": "k"}),
        "config",
    )
    .expect("valid config");
    assert!(validate(
        cs,
        &serde_json::json!({"api_url": "https://a.api-us1.com"}),
        "config"
    )
    .is_err());
    // The same through the WIT export.
    let out = std::process::Command::new("wasmtime")
        .args(["run", "-S", "http", "--invoke", "spec()"])
        .arg(component())
        .output()
        .expect("wasmtime");
    assert!(out.status.success());
    let printed = String::from_utf8_lossy(&out.stdout);
    // A WAVE string is a JSON string but for WAVE's escaped single quote.
    let inner: String =
        serde_json::from_str(&printed.trim().replace("\\'", "'")).expect("WAVE string");
    let v: Value = serde_json::from_str(&inner).expect("spec() returns JSON");
    assert_eq!(v["spec"]["connectionSpecification"], *cs);
}

#[test]
fn check_accepts_the_right_key_and_explains_a_wrong_one() {
    let _g = serial();
    let srv = server(10, Some(5));
    let s = Scratch::new("check");
    let good = s.write("good.json", &config(&srv.base_url(), KEY, 5.0));
    let run = wasmtime(&s, &["check", "--config", &good]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.of_type("CONNECTION_STATUS")[0]["connectionStatus"]["status"],
        "SUCCEEDED"
    );
    assert_no_key(&run);

    let bad = s.write(
        "bad.json",
        &config(&srv.base_url(), "wrong-key-123456", 5.0),
    );
    let run = wasmtime(&s, &["check", "--config", &bad]);
    assert_failed_cleanly(&run, "check with a wrong key");
    let st = &run.of_type("CONNECTION_STATUS")[0]["connectionStatus"];
    assert_eq!(st["status"], "FAILED");
    let msg = st["message"].as_str().unwrap_or("");
    assert!(
        msg.contains("403") && msg.contains("api_key"),
        "unclear message: {msg}"
    );
    assert!(!run.stdout.contains("wrong-key-123456") && !run.stderr.contains("wrong-key-123456"));

    // Nothing listens here: a clear network failure, not a trap.
    let dead = s.write(
        "dead.json",
        &serde_json::json!({"api_url": "http://127.0.0.1:9", "api_key": KEY, "max_attempts": 2})
            .to_string(),
    );
    let run = wasmtime(&s, &["check", "--config", &dead]);
    assert_failed_cleanly(&run, "check against a dead port");
    assert!(
        run.stdout.contains("refused") || run.stdout.contains("network"),
        "{}",
        run.stdout
    );
    assert_no_key(&run);
}

#[test]
fn malformed_configs_get_clear_errors_and_fail() {
    let _g = serial();
    let s = Scratch::new("badcfg");
    let cases: [(&str, &str); 6] = [
        ("{not json", "not valid JSON"),
        ("[]", "must be a JSON object"),
        (r#"{"api_key": "k"}"#, "'api_url' is missing"),
        (
            r#"{"api_url": "http://acme.api-us1.com", "api_key": "k"}"#,
            "https",
        ),
        (
            r#"{"api_url": "https://acme.api-us1.com", "api_key": 42}"#,
            "'api_key' must be a string",
        ),
        (
            r#"{"api_url": "https://acme.api-us1.com", "api_key": "k", "requests_per_second": -1}"#,
            "'requests_per_second'",
        ),
    ];
    for (i, (cfg, want)) in cases.iter().enumerate() {
        let path = s.write(&format!("c{i}.json"), cfg);
        for cmd in ["check", "discover", "read"] {
            let run = wasmtime(&s, &[cmd, "--config", &path]);
            assert_failed_cleanly(&run, &format!("{cmd} with {cfg}"));
            assert!(
                run.stdout.contains(want) && run.stderr.contains(want),
                "{cmd} with {cfg}: stdout {} stderr {}",
                run.stdout,
                run.stderr
            );
        }
    }
    let run = wasmtime(&s, &["check", "--config", "/data/missing.json"]);
    assert_failed_cleanly(&run, "a missing config file");
    assert!(run.stderr.contains("missing.json"));
    let run = wasmtime(&s, &["frobnicate"]);
    assert_failed_cleanly(&run, "an unknown command");
    assert!(run.stderr.contains("unknown command"));
    let run = wasmtime(&s, &["--help"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("discover"));
}

#[test]
fn discover_lists_every_stream() {
    let _g = serial();
    let srv = server(10, None);
    let s = Scratch::new("discover");
    let cfg = s.write("c.json", &config(&srv.base_url(), KEY, 20.0));
    let run = wasmtime(&s, &["discover", "--config", &cfg]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let cat = run.of_type("CATALOG").pop().expect("CATALOG");
    let streams = cat["catalog"]["streams"].as_array().expect("streams");
    let names: BTreeSet<&str> = streams.iter().filter_map(|s| s["name"].as_str()).collect();
    for want in [
        "contacts",
        "deals",
        "lists",
        "campaigns",
        "automations",
        "tags",
        "users",
        "contact_tags",
        "contact_custom_field_values",
    ] {
        assert!(names.contains(want), "discover lacks {want}");
    }
    for st in streams {
        assert_eq!(st["json_schema"]["type"], "object", "{}", st["name"]);
        assert_eq!(
            st["source_defined_primary_key"],
            serde_json::json!([["id"]])
        );
        assert!(st["supported_sync_modes"]
            .as_array()
            .is_some_and(|m| !m.is_empty()));
    }
    let contacts = streams
        .iter()
        .find(|s| s["name"] == "contacts")
        .expect("contacts");
    assert_eq!(
        contacts["default_cursor_field"],
        serde_json::json!(["udate"])
    );
    assert_no_key(&run);
}

/// Every record of every stream exactly once, under 5 requests per second, key never printed.
#[test]
fn full_read_delivers_every_record_exactly_once_within_the_rate_limit() {
    let _g = serial();
    let srv = server(1_200, Some(5));
    let s = Scratch::new("read");
    let cfg = s.write("c.json", &config(&srv.base_url(), KEY, 5.0));
    let run = wasmtime(&s, &["read", "--config", &cfg]);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_no_key(&run);

    let mut got = ids_by_stream(&run.messages());
    let names = srv.with_dataset(|d| d.stream_names());
    assert!(names.len() >= 59);
    for name in &names {
        let stream = connector_name(name);
        assert_exactly(&stream, srv.with_dataset(|d| d.ids(name)), got.get(&stream));
        got.remove(&stream);
    }
    assert!(
        got.is_empty(),
        "records of unknown streams: {:?}",
        got.keys()
    );
    let contacts = srv.with_dataset(|d| d.ids("contacts").len());
    assert!(contacts > 1_000);

    // Rate: the server's own clock.
    assert!(
        srv.max_starts_in_window(1000.0) <= 5,
        "the server saw {} request starts in one second",
        srv.max_starts_in_window(1000.0)
    );
    assert_eq!(
        srv.count_status(429),
        0,
        "the server had to refuse requests"
    );
    // Protocol: a STATE and a COMPLETE status per stream, progress logs.
    let states: BTreeSet<String> = run
        .of_type("STATE")
        .iter()
        .filter_map(|m| {
            m["state"]["stream"]["stream_descriptor"]["name"]
                .as_str()
                .map(String::from)
        })
        .collect();
    assert!(states.contains("contacts") && states.len() >= 59);
    let complete = run
        .of_type("TRACE")
        .iter()
        .filter(|m| m["trace"]["stream_status"]["status"] == "COMPLETE")
        .count();
    assert!(complete >= 59, "{complete} streams complete");
    assert!(run.of_type("LOG").iter().any(|m| m["log"]["message"]
        .as_str()
        .is_some_and(|s| s.contains("contacts") && s.contains("records"))));
    assert!(
        run.stderr.contains("total:"),
        "summary on stderr: {}",
        run.stderr
    );
}

#[test]
fn release_component_is_small() {
    let size = std::fs::metadata(component()).expect("component").len();
    assert!(size < 1_000_000, "component is {size} bytes");
}

/// The typed WIT interface, as a wasmtime host calls it (`--invoke`).
#[test]
fn the_wit_interface_reads_and_checks() {
    let _g = serial();
    let srv = server(20, None);
    let cfg =
        serde_json::json!({"api_url": srv.base_url(), "api_key": KEY, "requests_per_second": 50})
            .to_string();
    let wave = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let invoke = |call: String| {
        let o = std::process::Command::new("wasmtime")
            .args(["run", "-S", "http", "--invoke", &call])
            .arg(component())
            .output()
            .expect("wasmtime");
        (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let catalog = r#"{"streams":[{"stream":{"name":"tags"}}]}"#;
    let (out, err) = invoke(format!(
        "read({}, some({}), none)",
        wave(&cfg),
        wave(catalog)
    ));
    let result = out.lines().last().unwrap_or("");
    let tags = srv.with_dataset(|d| d.ids("tags").len());
    assert!(
        result.starts_with("ok(") && result.contains(&format!("name: \"tags\", records: {tags},")),
        "{result}\n{err}"
    );
    assert_eq!(
        out.lines().filter(|l| l.contains("\"RECORD\"")).count(),
        tags,
        "records on stdout"
    );
    let bad =
        serde_json::json!({"api_url": srv.base_url(), "api_key": "wrong-key-abcdef"}).to_string();
    let (out, _) = invoke(format!("check({})", wave(&bad)));
    assert!(
        out.trim().starts_with("ok({succeeded: false") && out.contains("403"),
        "{out}"
    );
    assert!(!out.contains("wrong-key-abcdef"));
    let (out, _) = invoke(format!("discover({})", wave("{}")));
    assert!(out.trim().starts_with("err({kind: config-error"), "{out}");
    assert!(!out.contains(KEY));
}
