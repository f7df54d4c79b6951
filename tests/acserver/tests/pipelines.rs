//! Issue 6: the fits with the pipelines people run — `make sync`, the Airbyte protocol models,
//! Singer targets — and connector.json.

mod common;
use ac_test_server::{Dataset, Server, ServerConfig};
use common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const KEY: &str = "pipe-key-c0ffee42";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn server(contacts: usize) -> Server {
    let cfg = ServerConfig { api_key: KEY.into(), rate_limit_per_sec: None, ..ServerConfig::default() };
    Server::start(cfg, Dataset::generate(31, contacts)).expect("server")
}

fn lines_ids(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| v["id"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn connector_json_names_the_built_component_and_the_interface() {
    let text = std::fs::read_to_string(repo().join("connector.json")).expect("connector.json");
    let c: Value = serde_json::from_str(&text).expect("connector.json is JSON");
    let path = repo().join(c["component"].as_str().expect("component path"));
    assert_eq!(std::fs::canonicalize(&path).ok(), std::fs::canonicalize(component()).ok(), "connector.json must name the built component");
    assert_eq!(c["wit"]["world"], "source");
    let wit = std::fs::read_to_string(repo().join(c["wit"]["path"].as_str().expect("wit path"))).expect("wit file");
    assert!(wit.contains(&format!("package {};", c["wit"]["package"].as_str().unwrap_or("?"))));
    for f in ["spec", "check", "discover", "read"] {
        assert!(wit.contains(&format!("{f}: func(")), "WIT lacks {f}");
    }
    assert_eq!(c["rate_limit"]["requests_per_second"], 5);
}

#[test]
fn two_make_syncs_first_full_then_incremental() {
    let _g = serial();
    let srv = server(400);
    let s = Scratch::new("sync");
    let cfg = s.dir.join("config.json");
    std::fs::write(&cfg, config(&srv.base_url(), KEY, 50.0)).expect("config");
    let out = s.dir.join("out");
    let sync = || {
        let o = Command::new("bash")
            .arg(repo().join("tests/scripts/sync.sh"))
            .arg(component())
            .arg(&cfg)
            .arg(&out)
            .output()
            .expect("bash");
        (o.status.success(), String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr))
    };
    let (ok, text) = sync();
    assert!(ok, "{text}");
    assert!(text.contains("mode: full"), "{text}");
    assert!(text.contains("total:"), "the summary is shown: {text}");
    let mut contacts = lines_ids(&out.join("streams/contacts.jsonl"));
    contacts.sort();
    let mut want = srv.with_dataset(|d| d.ids("contacts"));
    want.sort();
    assert_eq!(contacts, want);
    assert!(!text.contains(KEY) && !std::fs::read_to_string(out.join("read.log")).unwrap_or_default().contains(KEY));

    let changed: BTreeSet<String> = srv.with_dataset(|d| {
        let mut ids: BTreeSet<String> = d.touch("contacts", 3).into_iter().collect();
        ids.extend(d.insert("contacts", 2));
        ids
    });
    let (ok, text) = sync();
    assert!(ok, "{text}");
    assert!(text.contains("mode: incremental"), "{text}");
    let after = lines_ids(&out.join("streams/contacts.jsonl"));
    let appended: BTreeSet<String> = after[contacts.len()..].iter().cloned().collect();
    assert_eq!(appended, changed, "the second sync appends exactly the changed contacts");
    let state: Value = serde_json::from_str(&std::fs::read_to_string(out.join("state.json")).expect("state")).expect("state JSON");
    assert!(state.as_array().map_or(0, Vec::len) >= 59);
}
