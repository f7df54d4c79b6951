//! Native tests of every command's output and failures (files, network and terminal faked).

use crate::commands::{read_std_file, resolve_path, run, Host};
use crate::documents::config::Config;
use crate::engine::{HttpResponse, Transport};
use crate::test_support::Screen;
use crate::test_support::{ok, Fake};
use serde_json::{json, Value};
use std::collections::HashMap;

const KEY: &str = "SECRETKEY123";

/// Files by path, and an account of one tag whose API answers `status` to users/me.
struct TestHost {
    files: HashMap<String, String>,
    me_status: u16,
}

impl TestHost {
    fn new() -> TestHost {
        let config =
            json!({"api_url": "http://127.0.0.1:9", "api_key": KEY, "requests_per_second": 50});
        TestHost {
            files: HashMap::from([("/data/config.json".to_string(), config.to_string())]),
            me_status: 200,
        }
    }
    fn with(mut self, path: &str, text: &str) -> TestHost {
        self.files.insert(path.to_string(), text.to_string());
        self
    }
}

impl Host for TestHost {
    fn read_file(&mut self, what: &str, path: &str) -> Result<String, String> {
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| format!("cannot open the {what} file '{path}'"))
    }
    fn transport(&mut self, _: &Config) -> Box<dyn Transport> {
        let me_status = self.me_status;
        Box::new(Fake::new(1000, move |p: &str| {
            if p.contains("users/me") {
                Ok(HttpResponse {
                    status: me_status,
                    headers: vec![],
                    body: json!({"user": {"username": "jdoe"}, "echo": KEY})
                        .to_string()
                        .into_bytes(),
                })
            } else if p.contains("customObjects/schemas") {
                ok(json!({"schemas": [], "meta": {"total": 0}}))
            } else if p.contains("/tags") {
                ok(json!({"tags": [{"id": "1", "tag": "vip"}], "meta": {"total": "1"}}))
            } else {
                ok(json!({"meta": {"total": "0"}}))
            }
        }))
    }
    fn wall_ms(&mut self) -> u64 {
        1_700_000_000_000
    }
}

/// Runs a command line; returns the exit and what it wrote.
fn cli(host: &mut TestHost, line: &str) -> (bool, Screen) {
    let args: Vec<String> = line.split_whitespace().map(String::from).collect();
    let mut screen = Screen::default();
    let ok = run(&args, host, &mut screen);
    for text in screen.out.iter().chain(&screen.err) {
        assert!(!text.contains(KEY), "the key leaked: {text}");
    }
    (ok, screen)
}

fn messages(screen: &Screen) -> Vec<Value> {
    screen
        .out
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn types(screen: &Screen) -> Vec<String> {
    messages(screen)
        .iter()
        .map(|m| m["type"].as_str().unwrap_or("").to_string())
        .collect()
}

/// The last TRACE ERROR's failure type and message.
fn trace_error(screen: &Screen) -> (String, String) {
    let m = messages(screen)
        .into_iter()
        .rev()
        .find(|m| m["type"] == "TRACE" && m["trace"]["type"] == "ERROR")
        .expect("a TRACE ERROR");
    let e = &m["trace"]["error"];
    (
        e["failure_type"].as_str().unwrap_or("").to_string(),
        e["message"].as_str().unwrap_or("").to_string(),
    )
}

#[test]
fn spec_prints_one_spec_message() {
    let (ok, screen) = cli(&mut TestHost::new(), "spec");
    assert!(ok);
    assert_eq!(types(&screen), vec!["SPEC"]);
}

#[test]
fn help_prints_the_usage() {
    let (ok, screen) = cli(&mut TestHost::new(), "help");
    assert!(ok);
    assert_eq!(screen.out, vec![crate::commands::cli::USAGE.to_string()]);
}

#[test]
fn a_bad_command_line_fails_on_stdout_and_shows_the_usage() {
    let (ok, screen) = cli(&mut TestHost::new(), "frobnicate");
    assert!(!ok);
    assert_eq!(trace_error(&screen).0, "config_error");
    assert!(screen.err.iter().any(|t| t.contains("usage:")));
}

#[test]
fn check_succeeds_and_fails_with_a_status_message() {
    let (ok, screen) = cli(&mut TestHost::new(), "check --config /data/config.json");
    assert!(ok);
    let m = messages(&screen);
    assert_eq!(m[0]["connectionStatus"]["status"], "SUCCEEDED");

    let mut host = TestHost::new();
    host.me_status = 401;
    let (ok, screen) = cli(&mut host, "check --config /data/config.json");
    assert!(!ok);
    assert_eq!(messages(&screen)[0]["connectionStatus"]["status"], "FAILED");
    assert!(screen.err.iter().any(|t| t.starts_with("check failed:")));
}

#[test]
fn check_without_its_config_file_names_the_file() {
    let (ok, screen) = cli(&mut TestHost::new(), "check --config /data/nope.json");
    assert!(!ok);
    assert_eq!(types(&screen), vec!["CONNECTION_STATUS", "TRACE"]);
    let (kind, message) = trace_error(&screen);
    assert_eq!(kind, "config_error");
    assert!(message.contains("/data/nope.json"), "{message}");
    assert!(screen
        .err
        .iter()
        .any(|t| t.starts_with("error (config_error)")));
}

#[test]
fn a_bad_config_is_a_config_error() {
    let mut host = TestHost::new().with("/data/bad.json", "{\"api_url\": 3}");
    let (ok, screen) = cli(&mut host, "discover --config /data/bad.json");
    assert!(!ok);
    assert_eq!(trace_error(&screen).0, "config_error");
}

#[test]
fn discover_prints_the_catalog_in_either_protocol() {
    let (ok, screen) = cli(&mut TestHost::new(), "discover --config /data/config.json");
    assert!(ok);
    let m = messages(&screen);
    assert_eq!(m.len(), 1);
    let names: Vec<&str> = m[0]["catalog"]["streams"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(names.contains(&"tags"), "{names:?}");

    let (ok, screen) = cli(
        &mut TestHost::new(),
        "--config /data/config.json --discover",
    );
    assert!(ok);
    let singer = &messages(&screen)[0];
    assert!(singer["streams"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["tap_stream_id"] == "tags"));
}

#[test]
fn read_writes_records_states_and_a_summary() {
    let catalog = json!({"streams": [{"stream": {"name": "tags"}, "sync_mode": "full_refresh"}]});
    let mut host = TestHost::new().with("/data/catalog.json", &catalog.to_string());
    let (ok, screen) = cli(
        &mut host,
        "read --config /data/config.json --catalog /data/catalog.json",
    );
    assert!(ok);
    let m = messages(&screen);
    let records: Vec<&Value> = m.iter().filter(|m| m["type"] == "RECORD").collect();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["record"]["data"]["tag"], "vip");
    assert!(types(&screen).contains(&"STATE".to_string()));
    let summary = screen.err.last().unwrap();
    assert!(
        summary.contains("tags") && summary.contains("total: 1 records"),
        "{summary}"
    );
}

/// Another connector's state for a same-named stream is read as none, and said so: a LOG WARN
/// on stdout and a line on stderr.
#[test]
fn a_foreign_state_is_warned_on_stdout_and_stderr() {
    let catalog = json!({"streams": [{"stream": {"name": "tags"}, "sync_mode": "full_refresh"}]});
    let state = json!({"tags": {"updated_at": "2024-01-01T00:00:00Z"}});
    let mut host = TestHost::new()
        .with("/data/catalog.json", &catalog.to_string())
        .with("/data/state.json", &state.to_string());
    let (ok, screen) = cli(
        &mut host,
        "read --config /data/config.json --catalog /data/catalog.json --state /data/state.json",
    );
    assert!(ok);
    let warned =
        |text: &str| text.contains("state of stream 'tags'") && text.contains("`updated_at`");
    let logs: Vec<Value> = messages(&screen)
        .into_iter()
        .filter(|m| m["type"] == "LOG" && m["log"]["level"] == "WARN")
        .collect();
    assert!(
        logs.iter()
            .any(|m| warned(m["log"]["message"].as_str().unwrap_or(""))),
        "{logs:?}"
    );
    assert!(screen.err.iter().any(|t| warned(t)), "{:?}", screen.err);
}

/// What a read held back is repeated under the summary on stderr, stream and fix included: here
/// a pass resumed from a mid-pass state, which finds no deletions.
#[test]
fn the_summary_names_what_was_held_back() {
    let catalog = json!({"streams": [{"stream": {"name": "tags"}, "sync_mode": "full_refresh",
        "destination_sync_mode": "append_dedup"}]});
    let state = json!({"tags": {"resume": {"offset": 0}}});
    let mut host = TestHost::new()
        .with("/data/catalog.json", &catalog.to_string())
        .with("/data/state.json", &state.to_string());
    let (ok, screen) = cli(
        &mut host,
        "read --config /data/config.json --catalog /data/catalog.json --state /data/state.json",
    );
    assert!(ok);
    let at = screen
        .err
        .iter()
        .position(|t| t.starts_with("held back: tags: this pass resumed from a mid-pass state"))
        .unwrap_or_else(|| panic!("{:?}", screen.err));
    let summary = screen
        .err
        .iter()
        .position(|t| t.contains("total: "))
        .unwrap_or(usize::MAX);
    assert!(summary < at, "after the summary: {:?}", screen.err);
    // A read from scratch holds nothing back.
    let mut host = TestHost::new().with("/data/catalog.json", &catalog.to_string());
    let (_, screen) = cli(
        &mut host,
        "read --config /data/config.json --catalog /data/catalog.json",
    );
    assert!(
        !screen.err.iter().any(|t| t.starts_with("held back")),
        "{:?}",
        screen.err
    );
}

#[test]
fn read_without_its_catalog_or_state_file_names_it() {
    for (line, file) in [
        (
            "read --config /data/config.json --catalog /data/c.json",
            "/data/c.json",
        ),
        (
            "read --config /data/config.json --state /data/s.json",
            "/data/s.json",
        ),
    ] {
        let (ok, screen) = cli(&mut TestHost::new(), line);
        assert!(!ok, "{line}");
        let (kind, message) = trace_error(&screen);
        assert_eq!(kind, "config_error");
        assert!(message.contains(file), "{message}");
        assert!(!types(&screen).contains(&"RECORD".to_string()));
    }
}

#[test]
fn singer_sync_writes_singer_messages_and_logs_on_stderr() {
    let catalog = json!({"streams": [{"tap_stream_id": "tags", "stream": "tags",
        "schema": {"type": "object", "properties": {"id": {"type": "string"}}},
        "metadata": [{"breadcrumb": [], "metadata": {"selected": true}}]}]});
    let mut host = TestHost::new().with("/data/catalog.json", &catalog.to_string());
    let (ok, screen) = cli(
        &mut host,
        "--config /data/config.json --catalog /data/catalog.json",
    );
    assert!(ok);
    let t = types(&screen);
    assert_eq!(t.first().map(String::as_str), Some("SCHEMA"));
    assert!(t.contains(&"RECORD".to_string()) && t.contains(&"STATE".to_string()));
    assert!(t.iter().all(|x| x != "TRACE" && x != "LOG"), "{t:?}");
    assert!(screen.err.iter().any(|l| l.contains("STREAM_STATUS")));
}

/// A Singer run: stdout holds only Singer messages, whatever happened.
fn singer_types(screen: &Screen) -> Vec<String> {
    let t = types(screen);
    let singer = ["SCHEMA", "RECORD", "STATE", "ACTIVATE_VERSION"];
    assert!(t.iter().all(|x| singer.contains(&x.as_str())), "{t:?}");
    t
}

#[test]
fn singer_sync_without_a_catalog_syncs_every_stream() {
    // `singer-check-tap` runs `TAP --config F`, as the Singer spec allows.
    let (ok, screen) = cli(&mut TestHost::new(), "--config /data/config.json");
    assert!(ok, "{:?}", screen.err);
    let t = singer_types(&screen);
    assert_eq!(t.first().map(String::as_str), Some("SCHEMA"));
    let schemas: Vec<String> = messages(&screen)
        .iter()
        .filter(|m| m["type"] == "SCHEMA")
        .map(|m| m["stream"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(schemas.len(), crate::api::streams::fixed_streams().len());
    assert!(messages(&screen)
        .iter()
        .any(|m| m["type"] == "RECORD" && m["stream"] == "tags" && m["record"]["id"] == "1"));
    assert!(screen.err.iter().any(|l| l.contains("selected-by-default")));
}

#[test]
fn singer_sync_honours_a_discovered_catalog_through_selected_by_default() {
    let (ok, screen) = cli(
        &mut TestHost::new(),
        "--config /data/config.json --discover",
    );
    assert!(ok);
    let mut catalog: Value = serde_json::from_str(&screen.out.join("\n")).unwrap();
    let mut host = TestHost::new().with("/data/discovered.json", &catalog.to_string());
    let line = "--config /data/config.json --catalog /data/discovered.json";
    let (ok, screen) = cli(&mut host, line);
    assert!(ok, "{:?}", screen.err);
    assert!(singer_types(&screen).contains(&"RECORD".to_string()));
    // An explicit `selected: false` still wins over `selected-by-default`.
    let streams = catalog["streams"].as_array_mut().unwrap();
    for s in streams.iter_mut().filter(|s| s["stream"] != "tags") {
        s["metadata"][0]["metadata"]["selected"] = json!(false);
    }
    let mut host = host.with("/data/discovered.json", &catalog.to_string());
    let (ok, screen) = cli(&mut host, line);
    assert!(ok);
    let streams: std::collections::BTreeSet<String> = messages(&screen)
        .iter()
        .filter_map(|m| m["stream"].as_str().map(String::from))
        .collect();
    assert_eq!(streams.into_iter().collect::<Vec<_>>(), vec!["tags"]);
}

#[test]
fn singer_input_errors_go_to_stderr_and_stdout_stays_singer() {
    // These printed an Airbyte TRACE line on stdout, where a Singer target reads.
    let none = json!({"streams": [{"tap_stream_id": "tags", "schema": {},
        "metadata": [{"breadcrumb": [], "metadata": {"selected": false}}]}]});
    let mut host = TestHost::new()
        .with("/data/bad.json", "not json")
        .with("/data/none.json", &none.to_string())
        .with("/data/catalog.json", r#"{"streams": []}"#)
        .with("/data/state.json", "[1]");
    for (line, want) in [
        (
            "--config /data/config.json --catalog /data/bad.json",
            "not valid JSON",
        ),
        (
            "--config /data/config.json --catalog /data/none.json",
            "selects no stream",
        ),
        (
            "--config /data/config.json --catalog /data/missing.json",
            "cannot open the catalog file",
        ),
        ("--config /data/missing.json", "cannot open the config file"),
        (
            "--config /data/missing.json --discover",
            "cannot open the config file",
        ),
        (
            "--config /data/config.json --catalog /data/catalog.json --state /data/state.json",
            "state",
        ),
        ("--config /data/config.json --nope", "unknown option"),
    ] {
        let (ok, screen) = cli(&mut host, line);
        assert!(!ok, "{line}");
        assert!(screen.out.is_empty(), "{line}: stdout {:?}", screen.out);
        let err = screen.err.join("\n");
        assert!(
            err.contains(want) && err.contains("config_error"),
            "{line}: {err}"
        );
    }
}

#[test]
fn airbyte_input_errors_stay_on_stdout() {
    let (ok, screen) = cli(&mut TestHost::new(), "read --config /data/missing.json");
    assert!(!ok);
    assert_eq!(trace_error(&screen).0, "config_error");
}

#[test]
fn std_files_are_read_or_named_in_the_error() {
    let path = std::env::temp_dir().join(format!("i12-commands-{}.json", std::process::id()));
    std::fs::write(&path, "{}").unwrap();
    let p = path.to_string_lossy().to_string();
    assert_eq!(read_std_file("config", &p), Ok("{}".to_string()));
    std::fs::remove_file(&path).unwrap();
    let e = read_std_file("state", &p).unwrap_err();
    assert!(e.contains("state file") && e.contains(&p), "{e}");
}

#[test]
fn relative_paths_are_taken_from_pwd() {
    assert_eq!(
        resolve_path("config.json", Some("/home/me")),
        "/home/me/config.json"
    );
    assert_eq!(
        resolve_path("d/s.json", Some("/home/me/")),
        "/home/me/d/s.json"
    );
    assert_eq!(
        resolve_path("../c.json", Some("/w/sub")),
        "/w/sub/../c.json"
    );
    assert_eq!(
        resolve_path("/data/c.json", Some("/home/me")),
        "/data/c.json"
    );
    assert_eq!(resolve_path("c.json", None), "c.json");
    assert_eq!(resolve_path("c.json", Some("relative")), "c.json");
}

/// The summary says how many records of a stream carried no cursor field.
#[test]
fn the_summary_counts_records_without_a_cursor() {
    let s = crate::engine::ReadSummary {
        streams: vec![crate::engine::StreamSummary {
            name: "campaigns".into(),
            records: 3,
            requests: 1,
            millis: 5,
            failure: None,
            uncursored: 2,
            deleted: 4,
        }],
        requests: 1,
        millis: 5,
    };
    let text = super::summary_text(&s);
    assert!(
        text.contains("ok; 2 records without a cursor field (read again every sync); 4 deleted"),
        "{text}"
    );
}
