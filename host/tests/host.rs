//! ac-host end to end against the in-process test server: record-for-record equality with a
//! wasmtime CLI read, egress refusal, the memory limit, the deadline, SIGKILL and resume, and
//! many accounts at once.

use ac_test_server::{Dataset, Server, ServerConfig};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

const KEY: &str = "host-key-7a11c0de";

/// Timed tests run one at a time so they don't disturb each other's clocks.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The release component (`make build`); COMPONENT overrides.
fn component() -> PathBuf {
    let p = std::env::var_os("COMPONENT")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/wasm32-wasip2/release/source_activecampaign.wasm"));
    assert!(
        p.exists(),
        "component {} not found: run `make build` first",
        p.display()
    );
    p
}

/// A fresh scratch folder, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let d =
            std::env::temp_dir().join(format!("ac-host-it-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&d).expect("scratch");
        Scratch(d)
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).expect("write scratch file");
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn server(seed: u64, contacts: usize, latency_ms: u64) -> Server {
    let cfg = ServerConfig {
        api_key: KEY.into(),
        rate_limit_per_sec: None,
        latency_ms,
        ..ServerConfig::default()
    };
    Server::start(cfg, Dataset::generate(seed, contacts)).expect("start test server")
}

fn config(base_url: &str, rps: u32) -> String {
    serde_json::json!({"api_url": base_url, "api_key": KEY, "requests_per_second": rps,
        "account_timezone": "-05:00", "max_attempts": 2})
    .to_string()
}

fn catalog(streams: &[&str]) -> String {
    let s: Vec<Value> = streams
        .iter()
        .map(|n| serde_json::json!({"stream": {"name": n, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
            "sync_mode": "full_refresh", "destination_sync_mode": "append"}))
        .collect();
    serde_json::json!({"streams": s}).to_string()
}

fn ac_host_cmd(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ac-host"));
    c.arg(args[0])
        .arg("--connector")
        .arg(repo().join("connector.json"))
        .arg("--component")
        .arg(component())
        .arg("--cache-dir")
        .arg(repo().join("target/host/ac-host-cache"))
        .args(&args[1..]);
    c
}

fn ac_host(args: &[&str]) -> Output {
    ac_host_cmd(args).output().expect("run ac-host")
}

/// The report lines (one per account) and the summary line of a read or run.
fn reports(out: &Output) -> (Vec<Value>, Value) {
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let summary = lines
        .iter()
        .find(|l| l.get("summary").is_some())
        .cloned()
        .unwrap_or(Value::Null);
    let accounts = lines
        .into_iter()
        .filter(|l| l.get("account").is_some())
        .collect();
    (accounts, summary["summary"].clone())
}

/// Records by stream from an output folder's streams/*.jsonl.
fn dir_records(dir: &Path) -> BTreeMap<String, Vec<Value>> {
    let mut out = BTreeMap::new();
    let Ok(rd) = std::fs::read_dir(dir.join("streams")) else {
        return out;
    };
    for e in rd.flatten() {
        let name = e
            .file_name()
            .to_string_lossy()
            .trim_end_matches(".jsonl")
            .to_string();
        let text = std::fs::read_to_string(e.path()).expect("read stream file");
        let recs = text
            .lines()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|err| panic!("{name}: bad line {l:?}: {err}"))
            })
            .collect();
        out.insert(name, recs);
    }
    out
}

fn id_of(v: &Value) -> String {
    match &v["id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The connector's stream name for a test-server stream name.
fn connector_name(name: &str) -> String {
    name.strip_prefix("custom_object:")
        .map(|slug| format!("custom_object_{}", slug.replace('-', "_")))
        .unwrap_or(name.to_string())
}

/// Asserts that the folder holds every record id of every server stream (as a set: records
/// after the last saved state may be read twice after a kill), and nothing else.
fn assert_same_ids_as_server(srv: &Server, dir: &Path) {
    let got = dir_records(dir);
    let mut seen = BTreeSet::new();
    for name in srv.with_dataset(|d| d.stream_names()) {
        let stream = connector_name(&name);
        let want: BTreeSet<String> = srv.with_dataset(|d| d.ids(&name)).into_iter().collect();
        let have: BTreeSet<String> = got
            .get(&stream)
            .map(|r| r.iter().map(id_of).collect())
            .unwrap_or_default();
        assert_eq!(
            have,
            want,
            "stream {stream}: ids in {} differ from the server's",
            dir.display()
        );
        seen.insert(stream);
    }
    let extra: Vec<&String> = got.keys().filter(|k| !seen.contains(*k)).collect();
    assert!(
        extra.is_empty(),
        "streams the server does not have: {extra:?}"
    );
}

/// The saved state file parses as a list of Airbyte STREAM states.
fn assert_state_valid(dir: &Path) -> usize {
    let text = std::fs::read_to_string(dir.join("state.json")).expect("state.json saved");
    let v: Value = serde_json::from_str(&text).expect("state.json is JSON");
    let items = v.as_array().expect("state.json is a list");
    for s in items {
        assert_eq!(s["type"], "STREAM", "{s}");
        assert!(s["stream"]["stream_descriptor"]["name"].is_string(), "{s}");
    }
    items.len()
}

#[test]
fn records_match_a_wasmtime_cli_read_record_for_record() {
    let _g = serial();
    let srv = server(31, 300, 0);
    let s = Scratch::new("cli");
    let cfg = s.write("config.json", &config(&srv.base_url(), 50));
    let out_dir = s.0.join("out");
    let out = ac_host(&[
        "read",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let (acc, summary) = reports(&out);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(acc.len(), 1);
    assert_eq!(acc[0]["ok"], true);
    assert!(acc[0]["refused"].as_object().is_some_and(|m| m.is_empty()));
    assert!(summary["requests"].as_u64().unwrap_or(0) > 59);
    assert_eq!(
        srv.requests().len() as u64,
        summary["requests"].as_u64().unwrap()
    );

    // The CLI reads with the catalog ac-host used (none given: `ac-host catalog`'s).
    let printed = ac_host(&["catalog", "--config", cfg.to_str().unwrap()]);
    assert!(printed.status.success());
    s.write("catalog.json", &String::from_utf8_lossy(&printed.stdout));
    let cli = Command::new("wasmtime")
        .args(["run", "-S", "http", "--dir"])
        .arg(format!("{}::/data", s.0.display()))
        .arg(component())
        .args([
            "read",
            "--config",
            "/data/config.json",
            "--catalog",
            "/data/catalog.json",
        ])
        .output()
        .expect("wasmtime must be on PATH (make tools installs it)");
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    let mut want: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&cli.stdout).lines() {
        let Ok(m) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if m["type"] == "RECORD" {
            let stream = m["record"]["stream"].as_str().unwrap_or("").to_string();
            want.entry(stream)
                .or_default()
                .push(m["record"]["data"].to_string());
        }
    }
    // ac-host's lines are the record plus the columns of docs/files.md.
    let record_of = |line: &Value| -> String {
        let mut v = line.clone();
        if let Some(o) = v.as_object_mut() {
            for k in ["_ab_extracted_at", "_ab_run", "_ab_seq"] {
                assert!(o.remove(k).is_some(), "{k} missing: {line}");
            }
            assert_eq!(o.remove("_ab_cdc_deleted_at"), Some(Value::Null), "{line}");
        }
        v.to_string()
    };
    let mut have: BTreeMap<String, Vec<String>> = dir_records(&out_dir)
        .into_iter()
        .map(|(k, v)| (k, v.iter().map(record_of).collect()))
        .collect();
    for v in want.values_mut().chain(have.values_mut()) {
        v.sort();
    }
    assert!(want.len() >= 59, "the CLI read only {} streams", want.len());
    assert_eq!(
        have.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (stream, w) in &want {
        assert_eq!(
            &have[stream], w,
            "stream {stream}: ac-host and the CLI differ"
        );
    }
    assert_same_ids_as_server(&srv, &out_dir);
    assert!(assert_state_valid(&out_dir) > 0);
}

#[test]
fn a_request_to_another_host_is_refused_and_reported() {
    let _g = serial();
    let api = server(32, 50, 0);
    let other = server(33, 50, 0);
    let s = Scratch::new("egress");
    let cfg = s.write("config.json", &config(&api.base_url(), 50));
    let cat = s.write("catalog.json", &catalog(&["tags"]));
    let out_dir = s.0.join("out");
    // The allow-list names `other`; the component, configured for `api`, asks for `api`.
    let out = ac_host(&[
        "read",
        "--config",
        cfg.to_str().unwrap(),
        "--catalog",
        cat.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--allow",
        &other.base_url(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let (acc, summary) = reports(&out);
    let want = format!("http://127.0.0.1:{}", api.port());
    let refused = acc[0]["refused"][&want].as_u64().unwrap_or(0);
    assert!(refused >= 1, "{}", acc[0]);
    assert_eq!(summary["refused"].as_u64(), Some(refused));
    let err = acc[0]["error"].as_str().unwrap_or("");
    assert!(
        err.contains("egress refused") && err.contains(&want),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("egress refused"));
    // Nothing reached either server.
    assert_eq!(api.requests().len(), 0);
    assert_eq!(other.requests().len(), 0);
}

/// An https `api_url` goes through the hook's TLS handshake before any request is written: a
/// listener that is no TLS server gets a TLS handshake record first (never a request line with
/// the path or the key) and closes, and the read fails with a clear error.
#[test]
fn https_is_tls_before_the_request() {
    let _g = serial();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("port").port();
    let firsts = std::sync::Arc::new(Mutex::new(Vec::new()));
    let seen = std::sync::Arc::clone(&firsts);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
            let mut first = [0u8; 16];
            let n = std::io::Read::read(&mut conn, &mut first).unwrap_or(0);
            seen.lock().unwrap().push(first[..n].to_vec());
        }
    });
    let s = Scratch::new("tls");
    let cfg = s.write(
        "config.json",
        &config(&format!("https://127.0.0.1:{port}"), 50),
    );
    let cat = s.write("catalog.json", &catalog(&["tags"]));
    let out_dir = s.0.join("out");
    let out = ac_host(&[
        "read",
        "--config",
        cfg.to_str().unwrap(),
        "--catalog",
        cat.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let (acc, _) = reports(&out);
    assert_eq!(acc[0]["ok"], false, "{}", acc[0]);
    let err = acc[0]["error"].as_str().unwrap_or("");
    assert!(err.contains("TLS"), "{}", acc[0]);
    let firsts = firsts.lock().unwrap().clone();
    assert!(!firsts.is_empty(), "nothing reached the listener");
    // 0x16 0x03: a TLS handshake record; a request would start with "GET ".
    assert!(
        firsts.iter().all(|b| b.starts_with(&[0x16, 0x03])),
        "{firsts:?}"
    );
}

/// A loopback listener that records the first bytes of every connection it gets.
fn recording_listener() -> (u16, std::sync::Arc<Mutex<Vec<Vec<u8>>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("port").port();
    let firsts = std::sync::Arc::new(Mutex::new(Vec::new()));
    let seen = std::sync::Arc::clone(&firsts);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
            let mut first = [0u8; 16];
            let n = std::io::Read::read(&mut conn, &mut first).unwrap_or(0);
            seen.lock().unwrap().push(first[..n].to_vec());
        }
    });
    (port, firsts)
}

/// A host name (not written as an address) that resolves only to addresses that are not on the
/// public internet, on this machine: its own name (loopback or a private address on nearly every
/// machine and container) or a common alias of loopback.
fn a_name_resolving_to_a_non_public_address() -> Option<(String, std::net::IpAddr)> {
    use std::net::ToSocketAddrs;
    let own = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let found = [
        own.trim(),
        "localhost.localdomain",
        "ip6-localhost",
        "ip6-loopback",
    ]
    .into_iter()
    .filter(|n| !n.is_empty() && !n.eq_ignore_ascii_case("localhost"))
    .find_map(|n| {
        let addrs: Vec<std::net::IpAddr> = (n, 1).to_socket_addrs().ok()?.map(|a| a.ip()).collect();
        let all_local = !addrs.is_empty()
            && addrs
                .iter()
                .all(|ip| source_activecampaign::address::non_public_kind(*ip).is_some());
        all_local.then(|| (n.to_string(), addrs[0]))
    });
    found
}

/// An api_url naming a host that resolves to a loopback or private address is refused
/// on the resolved address: no connection is opened (the listener behind the name sees nothing,
/// so no byte of the request or key), the report says which address and why; `--allow-private`
/// lets the same read connect (a proxy inside a trusted network).
#[test]
fn a_name_resolving_to_a_private_address_is_refused_unless_allowed() {
    let _g = serial();
    let Some((name, ip)) = a_name_resolving_to_a_non_public_address() else {
        eprintln!("skipped: no host name on this machine resolves to a non-public address");
        return;
    };
    let (port, firsts) = recording_listener();
    let s = Scratch::new("private-name");
    let cfg = s.write(
        "config.json",
        &config(&format!("https://{name}:{port}"), 50),
    );
    let cat = s.write("catalog.json", &catalog(&["tags"]));
    let read = |extra: &[&str], out: &str| {
        let out_dir = s.0.join(out);
        let mut args = vec![
            "read",
            "--config",
            cfg.to_str().unwrap(),
            "--catalog",
            cat.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        ac_host(&args)
    };
    let out = read(&[], "refused");
    assert_eq!(out.status.code(), Some(1));
    let (acc, summary) = reports(&out);
    let err = acc[0]["error"].as_str().unwrap_or("");
    let want = format!("https://{name}:{port} resolves to {ip} (");
    assert!(
        err.contains("egress refused") && err.contains(&want),
        "{err}"
    );
    assert!(err.contains("--allow-private"), "{err}");
    assert!(summary["refused"].as_u64().unwrap_or(0) >= 1, "{summary}");
    assert_eq!(acc[0]["requests"].as_u64(), Some(0), "{}", acc[0]);
    std::thread::sleep(Duration::from_millis(200));
    assert!(firsts.lock().unwrap().is_empty(), "a connection was opened");
    // With --allow-private the connection is made (a TLS handshake; the listener is no server).
    let out = read(&["--allow-private"], "allowed");
    assert_eq!(out.status.code(), Some(1));
    let (acc, _) = reports(&out);
    assert!(
        acc[0]["refused"].as_object().is_none_or(|r| r.is_empty()),
        "{}",
        acc[0]
    );
    let firsts = firsts.lock().unwrap().clone();
    assert!(
        !firsts.is_empty(),
        "nothing reached the listener with --allow-private"
    );
    assert!(
        firsts.iter().all(|b| b.starts_with(&[0x16, 0x03])),
        "{firsts:?}"
    );
}

/// An api_url written as a private, link-local, unique-local or IPv4-mapped private
/// address is refused by the component itself (a config error naming the address and its kind)
/// before any request.
#[test]
fn private_address_literals_are_refused_before_any_request() {
    let _g = serial();
    let s = Scratch::new("private-literal");
    for (url, kind) in [
        ("https://10.0.0.5", "private address"),
        ("https://169.254.169.254", "link-local address"),
        ("https://[::ffff:10.0.0.5]", "private (IPv4-mapped) address"),
        ("https://[fc00::1]", "unique-local address"),
        ("https://[fe80::1]", "link-local address"),
    ] {
        let cfg = s.write("config.json", &config(url, 50));
        let out = ac_host(&["check", "--config", cfg.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{url}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains(kind) && stdout.contains("must not be sent to"),
            "{url}: {stdout}"
        );
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("egress refused"),
            "{url}"
        );
    }
}

/// The memory at instantiation and the peak of a full read, from a first run; a limit between
/// them then stops the second run midway.
#[test]
fn the_memory_limit_gives_a_clear_failure_and_keeps_the_saved_state() {
    let _g = serial();
    let srv = server(34, 600, 0);
    let s = Scratch::new("mem");
    let cfg = s.write("config.json", &config(&srv.base_url(), 50));
    // The read's own memory: with a catalog, so no `discover` runs before it (without one,
    // discover's peak comes first and a limit between the two stops the run before any record).
    let printed = ac_host(&["catalog", "--config", cfg.to_str().unwrap()]);
    assert!(printed.status.success());
    let cat = s.write("catalog.json", &String::from_utf8_lossy(&printed.stdout));
    let free = s.0.join("free");
    let out = ac_host(&[
        "read",
        "--config",
        cfg.to_str().unwrap(),
        "--catalog",
        cat.to_str().unwrap(),
        "--out",
        free.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (acc, _) = reports(&out);
    let peak = acc[0]["peak_memory_bytes"].as_u64().unwrap();
    let initial = acc[0]["initial_memory_bytes"].as_u64().unwrap();
    assert!(peak > initial && initial > 0, "{}", acc[0]);

    let limited = s.0.join("limited");
    // Half-way between the memory at instantiation and the peak: above what starting needs,
    // below what the whole read needs.
    let mb = format!("{:.3}", (initial + (peak - initial) / 2) as f64 / 1048576.0);
    let out = ac_host(&[
        "read",
        "--config",
        cfg.to_str().unwrap(),
        "--catalog",
        cat.to_str().unwrap(),
        "--out",
        limited.to_str().unwrap(),
        "--memory-mb",
        &mb,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let (acc, _) = reports(&out);
    let err = acc[0]["error"].as_str().unwrap_or("");
    assert!(
        err.contains("memory limit reached") && err.contains("--memory-mb"),
        "{err}"
    );
    assert!(
        acc[0]["records"].as_u64().unwrap() > 0,
        "the limit was hit before anything was read: {}",
        acc[0]
    );
    assert!(assert_state_valid(&limited) > 0);

    // The saved state is good: a run without the limit completes and loses nothing.
    let out = ac_host(&[
        "read",
        "--config",
        cfg.to_str().unwrap(),
        "--catalog",
        cat.to_str().unwrap(),
        "--out",
        limited.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_same_ids_as_server(&srv, &limited);
}

#[test]
fn the_deadline_gives_a_clear_failure_and_keeps_the_saved_state() {
    let _g = serial();
    let srv = server(35, 600, 150);
    let s = Scratch::new("deadline");
    // 20 requests/s: the read needs several seconds, well past the 2 s deadline.
    let cfg = s.write("config.json", &config(&srv.base_url(), 20));
    let d = s.0.join("out");
    let t = Instant::now();
    let out = ac_host(&[
        "read",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        d.to_str().unwrap(),
        "--deadline-secs",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let (acc, _) = reports(&out);
    let err = acc[0]["error"].as_str().unwrap_or("");
    assert!(err.contains("wall deadline of 2 s reached"), "{err}");
    assert!(acc[0]["wall_ms"].as_u64().unwrap() < 3_000, "{}", acc[0]);
    assert!(t.elapsed() < Duration::from_secs(30));
    assert!(assert_state_valid(&d) > 0);
    let out = ac_host(&[
        "read",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        d.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_same_ids_as_server(&srv, &d);
}

#[test]
fn sigkill_mid_read_then_rerun_loses_nothing() {
    let _g = serial();
    let srv = server(36, 2_000, 10);
    let s = Scratch::new("kill");
    let cfg = s.write("config.json", &config(&srv.base_url(), 20));
    let d = s.0.join("out");
    let args = [
        "read",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        d.to_str().unwrap(),
    ];
    // Kill three times, after more and more requests of the round, then let it finish.
    for (round, requests) in [5usize, 15, 30].into_iter().enumerate() {
        let before = srv.requests().len();
        let mut child = ac_host_cmd(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn ac-host");
        let t = Instant::now();
        while srv.requests().len() - before < requests || !d.join("state.json").exists() {
            if let Ok(Some(st)) = child.try_wait() {
                panic!("round {round}: ac-host ended before it was killed: {st}");
            }
            assert!(
                t.elapsed() < Duration::from_secs(120),
                "round {round}: no progress"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        child.kill().expect("SIGKILL ac-host");
        let _ = child.wait();
        assert_state_valid(&d);
    }
    let out = ac_host(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_same_ids_as_server(&srv, &d);
}

#[test]
fn run_reads_many_accounts_at_once_and_shards_them() {
    let _g = serial();
    let servers: Vec<Server> = (0..3)
        .map(|i| server(40 + i, 60 + 20 * i as usize, 0))
        .collect();
    let s = Scratch::new("run");
    s.write("b.json", &config(&servers[1].base_url(), 50));
    let list = serde_json::json!([
        {"name": "a", "config": serde_json::from_str::<Value>(&config(&servers[0].base_url(), 50)).unwrap()},
        {"name": "b", "config": "b.json"},
        {"name": "c", "config": serde_json::from_str::<Value>(&config(&servers[2].base_url(), 50)).unwrap(),
         "catalog": serde_json::from_str::<Value>(&catalog(&["tags", "lists"])).unwrap()},
    ]);
    let acc = s.write("accounts.json", &list.to_string());
    let out_dir = s.0.join("out");
    // Shard 0 of 2 takes accounts 0 and 2.
    let out = ac_host(&[
        "run",
        "--accounts",
        acc.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--shard",
        "0/2",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (reps, summary) = reports(&out);
    let names: Vec<&str> = reps.iter().filter_map(|r| r["account"].as_str()).collect();
    assert_eq!(names, ["a", "c"]);
    assert_eq!(summary["accounts"], 2);
    assert!(!out_dir.join("b").exists());
    assert_same_ids_as_server(&servers[0], &out_dir.join("a"));
    let c = dir_records(&out_dir.join("c"));
    assert_eq!(c.keys().collect::<Vec<_>>(), ["lists", "tags"]);
    let tags: BTreeSet<String> = c["tags"].iter().map(id_of).collect();
    assert_eq!(
        tags,
        servers[2]
            .with_dataset(|d| d.ids("tags"))
            .into_iter()
            .collect()
    );
    // Each account talked only to its own server.
    assert_eq!(servers[1].requests().len(), 0);
    // Shard 1 of 2 takes account 1 (with the pooling allocator this time).
    let out = ac_host(&[
        "run",
        "--accounts",
        acc.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--shard",
        "1/2",
        "--pooling",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_same_ids_as_server(&servers[1], &out_dir.join("b"));
}

/// Through ac-host: with a catalog whose destination deduplicates, a second read after
/// deletions in the account writes `{"id", "_ab_cdc_deleted_at"}` lines into the stream's file;
/// applying them (delete the row with that id, upsert the others) gives the server's rows.
#[test]
fn deletions_land_in_the_stream_files_for_a_pipeline_to_apply() {
    let _g = serial();
    let srv = server(37, 200, 0);
    let s = Scratch::new("deletions");
    let cfg = s.write("config.json", &config(&srv.base_url(), 50));
    let streams = ["tags", "lists", "contacts", "contact_tags"];
    let dedup: Vec<Value> = streams
        .iter()
        .map(|n| serde_json::json!({"stream": {"name": n, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
            "sync_mode": "full_refresh", "destination_sync_mode": "append_dedup"}))
        .collect();
    let cat = s.write(
        "catalog.json",
        &serde_json::json!({"streams": dedup}).to_string(),
    );
    let d = s.0.join("out");
    let read = || {
        let out = ac_host(&[
            "read",
            "--config",
            cfg.to_str().unwrap(),
            "--catalog",
            cat.to_str().unwrap(),
            "--out",
            d.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Deletions per stream, as the typed read-summary reported them (WIT 0.2.0), and the
        // account's and the run's totals.
        let (acc, summary) = reports(&out);
        assert_eq!(acc[0]["deletions"], summary["deletions"], "{summary}");
        let total = acc[0]["deletions"].as_u64();
        let per_stream: BTreeMap<String, Option<u64>> = acc[0]["streams"]
            .as_array()
            .map(|v| {
                v.iter()
                    .map(|s| {
                        (
                            s["name"].as_str().unwrap_or("").to_string(),
                            s["deletions"].as_u64(),
                        )
                    })
                    .collect::<BTreeMap<String, Option<u64>>>()
            })
            .unwrap_or_default();
        let sum: u64 = per_stream.values().map(|d| d.unwrap_or(0)).sum();
        assert_eq!(total, Some(sum), "the account's deletions are its streams'");
        per_stream
    };
    let first = read();
    assert!(
        streams.iter().all(|n| first.get(*n) == Some(&Some(0))),
        "no deletion on the first read: {first:?}"
    );
    let ids_now = |stream: &str| -> BTreeSet<String> {
        srv.with_dataset(|ds| ds.ids(stream)).into_iter().collect()
    };
    let before: Vec<BTreeSet<String>> = streams.iter().map(|n| ids_now(n)).collect();
    srv.with_dataset(|ds| {
        ds.delete_with_children("contacts", 3, &["contact_tags"], "contact");
        ds.delete("tags", 1);
        ds.delete("lists", 1);
    });
    let second = read();
    for (stream, before) in streams.iter().zip(before) {
        let mut rows: BTreeSet<String> = BTreeSet::new();
        let mut deleted = BTreeSet::new();
        for line in dir_records(&d).remove(*stream).unwrap_or_default() {
            if line
                .get("_ab_cdc_deleted_at")
                .is_some_and(|v| v.is_string())
            {
                rows.remove(&id_of(&line));
                deleted.insert(id_of(&line));
            } else {
                rows.insert(id_of(&line));
            }
        }
        let want = ids_now(stream);
        assert_eq!(rows, want, "{stream}: the file with its deletions applied");
        let gone: BTreeSet<String> = before.difference(&want).cloned().collect();
        assert_eq!(deleted, gone, "{stream}: exactly the deleted ids");
        assert_eq!(
            second.get(*stream),
            Some(&Some(gone.len() as u64)),
            "{stream}: the summary counts them"
        );
        if *stream != "contact_tags" {
            assert!(!deleted.is_empty(), "{stream}: something was deleted");
        }
    }
}

/// The fenced block after `<!-- test: NAME ` in a doc of the repository.
fn doc_block(doc: &str, name: &str) -> String {
    let text = std::fs::read_to_string(repo().join(doc)).expect("the doc");
    let at = text
        .find(&format!("<!-- test: {name} "))
        .unwrap_or_else(|| panic!("{doc} has no `<!-- test: {name}` marker"));
    let rest = &text[at..];
    let body = rest.find("```").expect("a fenced block") + 3;
    let body = body + rest[body..].find('\n').expect("fence line") + 1;
    let end = body + rest[body..].find("```").expect("closing fence");
    rest[body..end].to_string()
}

/// The lines of one run in a stream's file: (ids of records, ids of deletions).
fn run_lines(dir: &Path, stream: &str, run: u64) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut records = BTreeSet::new();
    let mut deletions = BTreeSet::new();
    for line in dir_records(dir).remove(stream).unwrap_or_default() {
        assert!(
            line.get("_ab_cdc_deleted_at").is_some()
                && line["_ab_extracted_at"].as_u64().is_some()
                && line["_ab_seq"].as_u64().is_some(),
            "{stream}: a line without the columns of docs/files.md: {line}"
        );
        if line["_ab_run"].as_u64() != Some(run) {
            continue;
        }
        if line["_ab_cdc_deleted_at"].is_string() {
            deletions.insert(id_of(&line));
        } else {
            records.insert(id_of(&line));
        }
    }
    (records, deletions)
}

/// `read` without `--catalog`, twice, with changes and deletions in between: every stream is
/// incremental where it can be and its deletions are tracked, so the second run writes only what
/// changed and the deletions, and docs/files.md's DuckDB view over the files (run with DuckDB's
/// Python package) equals the server, stream by stream, id for id. `ac-host catalog` prints the
/// catalog such a read uses, and given as `--catalog` (or a discovered one) it means the same.
#[test]
fn read_without_a_catalog_is_incremental_with_deletions_and_the_docs_view_is_the_server() {
    let _g = serial();
    let srv = server(38, 300, 0);
    let s = Scratch::new("default-catalog");
    // Every run a complete pass, so contacts' deletions come at once (between sweeps they wait
    // for the next sweep: README, Sweeps).
    let mut c: Value = serde_json::from_str(&config(&srv.base_url(), 50)).expect("config");
    c["full_sweep_hours"] = 0.into();
    let cfg = s.write("config.json", &c.to_string());
    let d = s.0.join("out");
    let read = |dir: &Path, catalog: Option<&Path>| -> Value {
        let mut args = vec![
            "read".to_string(),
            "--config".into(),
            cfg.display().to_string(),
            "--out".into(),
            dir.display().to_string(),
        ];
        if let Some(c) = catalog {
            args.extend(["--catalog".to_string(), c.display().to_string()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = ac_host(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        reports(&out).0.remove(0)
    };
    let first = read(&d, None);
    assert_eq!(first["run"], 1);
    assert!(
        first.get("held_back").is_none(),
        "a normal first read holds nothing back: {first}"
    );
    // Nor does it warn (custom object records, with UUID ids, once warned on every full read),
    // but for the values the test server sends malformed on purpose, which must be said.
    let warnings: Vec<String> = std::fs::read_to_string(d.join("messages-1.jsonl"))
        .expect("messages-1.jsonl")
        .lines()
        .filter(|l| l.contains("\"WARN\"") && !l.contains("did not fit their declared type"))
        .map(String::from)
        .collect();
    assert!(
        warnings.is_empty(),
        "a normal full read warned: {warnings:?}"
    );
    let ids_now = |stream: &str| -> BTreeSet<String> {
        srv.with_dataset(|ds| ds.ids(stream)).into_iter().collect()
    };
    let (touched, gone_contacts, gone_tags) = srv.with_dataset(|ds| {
        let mut touched: BTreeSet<String> = ds.touch("contacts", 4).into_iter().collect();
        touched.extend(ds.insert("contacts", 2));
        (touched, ds.delete_contacts(2), ds.delete("tags", 1))
    });
    let second = read(&d, None);
    assert_eq!(second["run"], 2);
    let gone_contacts: BTreeSet<String> = gone_contacts.into_iter().collect();
    let (records, deletions) = run_lines(&d, "contacts", 2);
    let live: BTreeSet<String> = touched.difference(&gone_contacts).cloned().collect();
    assert_eq!(records, live, "run 2 wrote exactly the changed contacts");
    assert_eq!(
        deletions, gone_contacts,
        "and the deleted ones as deletions"
    );
    assert_eq!(
        run_lines(&d, "tags", 2).1,
        gone_tags.into_iter().collect(),
        "a stream without a cursor has its deletions too"
    );
    let (first_n, second_n) = (first["records"].as_u64(), second["records"].as_u64());
    assert!(
        second_n.unwrap_or(u64::MAX) * 3 < first_n.unwrap_or(0),
        "the second run is incremental: {second_n:?} records after {first_n:?}"
    );

    // docs/files.md's view, for every stream the server has.
    let view = doc_block("docs/files.md", "current-rows.sql");
    let streams: Vec<String> = srv
        .with_dataset(|ds| ds.stream_names())
        .iter()
        .map(|n| connector_name(n))
        .filter(|n| d.join("streams").join(format!("{n}.jsonl")).exists())
        .collect();
    let py = r#"import json, sys
import duckdb
view, streams = sys.argv[1], sys.argv[2:]
con = duckdb.connect()
out = {}
for s in streams:
    con.execute(view.replace("contacts", s))
    out[s] = sorted(str(r[0]) for r in con.execute(f"SELECT id FROM {s}_current").fetchall())
print(json.dumps(out))
"#;
    let duck = repo().join(".venv/duckdb/bin/python");
    assert!(
        duck.exists(),
        "{} is missing: run `make pyenv`",
        duck.display()
    );
    let out = Command::new(&duck)
        .current_dir(&d)
        .arg("-c")
        .arg(py)
        .arg(&view)
        .args(&streams)
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: BTreeMap<String, BTreeSet<String>> =
        serde_json::from_slice(&out.stdout).expect("the view's ids as JSON");
    let mut checked = 0;
    for name in srv.with_dataset(|ds| ds.stream_names()) {
        let stream = connector_name(&name);
        let want = ids_now(&name);
        let have = got.get(&stream).cloned().unwrap_or_default();
        assert_eq!(
            have, want,
            "{stream}: the docs' view differs from the server"
        );
        checked += usize::from(!want.is_empty());
    }
    assert!(checked > 40, "only {checked} streams had rows");
    assert_ne!(ids_now("contacts").len(), 0);

    // `ac-host catalog` prints the catalog a read without --catalog uses; a discovered catalog
    // as --catalog means the same. Both read from scratch here write what the first read wrote.
    let printed = ac_host(&["catalog", "--config", cfg.to_str().expect("path")]);
    assert!(
        printed.status.success(),
        "{}",
        String::from_utf8_lossy(&printed.stderr)
    );
    let catalog: Value = serde_json::from_slice(&printed.stdout).expect("catalog JSON");
    let entries = catalog["streams"].as_array().cloned().unwrap_or_default();
    assert!(entries.len() >= 59);
    assert!(entries
        .iter()
        .all(|e| e["destination_sync_mode"] == "append_dedup"));
    let mode = |name: &str| {
        entries
            .iter()
            .find(|e| e["stream"]["name"] == name)
            .map(|e| e["sync_mode"].clone())
    };
    assert_eq!(mode("contacts"), Some("incremental".into()));
    assert_eq!(mode("tags"), Some("full_refresh".into()));
    let discovered = ac_host(&["discover", "--config", cfg.to_str().expect("path")]);
    let disc_path = s.write(
        "discovered.json",
        &String::from_utf8_lossy(&discovered.stdout),
    );
    let d2 = s.0.join("out-discovered");
    let again = read(&d2, Some(&disc_path));
    let (r2, _) = run_lines(&d2, "contacts", 1);
    assert_eq!(
        r2,
        ids_now("contacts"),
        "a discovered catalog reads every contact"
    );
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(d2.join("state.json")).expect("state"))
            .expect("state JSON");
    let contacts_state = state
        .as_array()
        .into_iter()
        .flatten()
        .find(|x| x["stream"]["stream_descriptor"]["name"] == "contacts")
        .map(|x| x["stream"]["stream_state"].clone())
        .unwrap_or(Value::Null);
    assert!(
        contacts_state["cursor"].is_string() && contacts_state["seen"].is_object(),
        "incremental with deletions tracked: {contacts_state}"
    );
    assert_eq!(again["run"], 1);

    // Half the tags gone at once: the deletion guard holds them, and the report and stderr say
    // so for the stream, with the fix.
    let half = ids_now("tags").len() / 2;
    assert!(half > 2, "{half}");
    srv.with_dataset(|ds| ds.delete("tags", half));
    let out = ac_host(&[
        "read",
        "--config",
        cfg.to_str().expect("path"),
        "--out",
        d.to_str().expect("path"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let third = reports(&out).0.remove(0);
    let held = third["held_back"].as_array().cloned().unwrap_or_default();
    assert!(
        held.iter().any(|h| h["stream"] == "tags"
            && h["why"] == "deletion guard"
            && h["fix"]
                .as_str()
                .is_some_and(|f| f.contains("deletion_guard_share 1"))),
        "{third}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("tags: held back (deletion guard); fix: "),
        "{stderr}"
    );
    assert_eq!(
        run_lines(&d, "tags", 3).1,
        BTreeSet::new(),
        "no tag deleted"
    );
}
