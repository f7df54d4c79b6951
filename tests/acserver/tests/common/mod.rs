//! Shared harness of the integration tests: runs the built component through the wasmtime CLI
//! against the in-process test server.
#![allow(dead_code)]

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

/// Tests that time requests run one at a time, so they don't disturb each other's clocks.
static SERIAL: Mutex<()> = Mutex::new(());

/// Takes the serial lock (recovering from a panicked holder).
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The release component, built by `make build` (COMPONENT overrides).
pub fn component() -> PathBuf {
    let p = std::env::var_os("COMPONENT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/wasm32-wasip2/release/source_activecampaign.wasm")
        });
    assert!(
        p.exists(),
        "component {} not found: run `make build` first (or `make test`)",
        p.display()
    );
    p
}

/// A scratch directory mapped to /data in the sandbox.
pub struct Scratch {
    /// Host path.
    pub dir: PathBuf,
}

impl Scratch {
    /// A new empty directory.
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "ac-it-{}-{}-{}",
            name,
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Scratch { dir }
    }
    /// Writes a file and returns its sandbox path.
    pub fn write(&self, name: &str, text: &str) -> String {
        std::fs::write(self.dir.join(name), text).expect("write scratch file");
        format!("/data/{name}")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn rand_suffix() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
        % 1_000_000_007
}

/// What one wasmtime run printed.
pub struct Run {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Every stdout line that is JSON.
    pub fn messages(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
    /// Messages of one type.
    pub fn of_type(&self, t: &str) -> Vec<Value> {
        self.messages()
            .into_iter()
            .filter(|m| m["type"] == t)
            .collect()
    }
    /// Record data of a stream.
    pub fn records(&self, stream: &str) -> Vec<Value> {
        self.of_type("RECORD")
            .into_iter()
            .filter(|m| m["record"]["stream"] == stream)
            .map(|m| m["record"]["data"].clone())
            .collect()
    }
}

/// Asserts a run failed the way a failure must: exit code exactly 1 (a trap exits 134, a killed
/// run -1), a TRACE ERROR or a FAILED CONNECTION_STATUS on stdout for the runner to read, and no
/// panic or trap anywhere in the output. `what` names the case in messages.
pub fn assert_failed_cleanly(run: &Run, what: &str) {
    assert_eq!(
        run.code, 1,
        "{what}: a failure must exit 1\nstdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    let reported = run.messages().iter().any(|m| {
        (m["type"] == "TRACE" && m["trace"]["type"] == "ERROR")
            || (m["type"] == "CONNECTION_STATUS" && m["connectionStatus"]["status"] == "FAILED")
    });
    assert!(
        reported,
        "{what}: no TRACE ERROR or FAILED CONNECTION_STATUS on stdout: {}",
        run.stdout
    );
    for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        for bad in ["panicked", "wasm trap"] {
            assert!(!text.contains(bad), "{what}: '{bad}' in {name}: {text}");
        }
    }
}

/// wasmtime with extra flags (e.g. limits).
pub fn wasmtime_with(flags: &[&str], scratch: &Scratch, args: &[&str]) -> Run {
    let mut cmd = Command::new("wasmtime");
    cmd.arg("run")
        .arg("-S")
        .arg("http")
        .arg("--dir")
        .arg(format!("{}::/data", scratch.dir.display()));
    for f in flags {
        cmd.arg(f);
    }
    cmd.arg(component()).args(args);
    let out = cmd
        .output()
        .expect("wasmtime must be on PATH (make tools installs it)");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `wasmtime run -S http --dir SCRATCH::/data COMPONENT args…`
pub fn wasmtime(scratch: &Scratch, args: &[&str]) -> Run {
    wasmtime_with(&[], scratch, args)
}

/// A config document for a server.
pub fn config(base_url: &str, key: &str, rps: f64) -> String {
    serde_json::json!({"api_url": base_url, "api_key": key, "requests_per_second": rps, "account_timezone": "-05:00"}).to_string()
}

/// [`config`] with `full_sweep_hours: 0`: every sync reads every stream completely, as before
/// syncs between sweeps (they read only what the API can tell has changed), for the tests of
/// what a complete incremental read delivers.
pub fn complete_config(base_url: &str, key: &str, rps: f64) -> String {
    let mut v: Value = serde_json::from_str(&config(base_url, key, rps)).expect("config JSON");
    v["full_sweep_hours"] = serde_json::json!(0);
    v.to_string()
}

/// A configured catalog of these streams, in this mode.
pub fn catalog(streams: &[&str], incremental: bool) -> String {
    let s: Vec<Value> = streams
        .iter()
        .map(|n| serde_json::json!({"stream": {"name": n, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
            "sync_mode": if incremental { "incremental" } else { "full_refresh" }, "destination_sync_mode": "append"}))
        .collect();
    serde_json::json!({"streams": s}).to_string()
}

/// Minimal JSON Schema check (type, properties, items, required, enum, anyOf) used to validate
/// records against discovered schemas. Returns the first problem.
pub fn validate(schema: &Value, v: &Value, path: &str) -> Result<(), String> {
    if let Some(any) = schema.get("anyOf").and_then(Value::as_array) {
        if !any.iter().any(|s| validate(s, v, path).is_ok()) {
            return Err(format!("{path}: {v} matches none of anyOf"));
        }
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let ok = types.iter().any(|t| match *t {
            "null" => v.is_null(),
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "array" => v.is_array(),
            "object" => v.is_object(),
            _ => false,
        });
        if !ok {
            return Err(format!("{path}: {} is not of type {t}", short(v)));
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            return Err(format!("{path}: {} not in enum", short(v)));
        }
    }
    if let (Some(props), Some(obj)) = (
        schema.get("properties").and_then(Value::as_object),
        v.as_object(),
    ) {
        for (k, sub) in props {
            if let Some(x) = obj.get(k) {
                validate(sub, x, &format!("{path}.{k}"))?;
            }
        }
        if schema.get("additionalProperties") == Some(&Value::Bool(false)) {
            if let Some(k) = obj.keys().find(|k| !props.contains_key(*k)) {
                return Err(format!("{path}: unexpected property {k}"));
            }
        }
    }
    if let (Some(req), Some(obj)) = (
        schema.get("required").and_then(Value::as_array),
        v.as_object(),
    ) {
        for r in req.iter().filter_map(Value::as_str) {
            if !obj.contains_key(r) {
                return Err(format!("{path}: missing required {r}"));
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            validate(items, x, &format!("{path}[{i}]"))?;
        }
    }
    Ok(())
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    s.chars().take(80).collect()
}

/// The connector's stream name for a test-server stream name (`custom_object:<slug>`).
pub fn connector_name(name: &str) -> String {
    name.strip_prefix("custom_object:")
        .map(|slug| format!("custom_object_{}", slug.replace('-', "_")))
        .unwrap_or(name.to_string())
}

/// Record ids by stream, in delivery order.
pub fn ids_by_stream(messages: &[Value]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in messages.iter().filter(|m| m["type"] == "RECORD") {
        let id = match &m["record"]["data"]["id"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        out.entry(m["record"]["stream"].as_str().unwrap_or("").to_string())
            .or_default()
            .push(id);
    }
    out
}

/// Asserts a stream delivered exactly these ids, each once.
pub fn assert_exactly(stream: &str, mut want: Vec<String>, have: Option<&Vec<String>>) {
    let mut have = have.cloned().unwrap_or_default();
    let n = have.len();
    have.sort();
    have.dedup();
    assert_eq!(n, have.len(), "stream {stream}: duplicates delivered");
    want.sort();
    assert_eq!(
        have, want,
        "stream {stream}: delivered ids differ from the server's"
    );
}

/// Streams whose cursor is an event time: the connector's stream table gives them an hour of
/// overlap.
pub const EVENT_TIME_STREAMS: [&str; 6] = [
    "activities",
    "email_activities",
    "sms",
    "contact_emails",
    "deal_activities",
    "contact_conversions",
];

/// Unchanged records the next incremental read delivers again by design, by connector stream
/// name, computed from the server's data as it is now (call it right after the first read, before
/// changing anything). The first read's cursor is the highest cursor value, read as the connector
/// reads it (a value without a zone at UTC-12:00: 7 hours after this account's -05:00 reading),
/// but not past the pass start, which is taken as the server clock less `pass_start_lag_s`. The
/// next read delivers what is after it, or within the hour before it for event-time streams.
pub fn overlap_after_first_read(
    srv: &ac_test_server::Server,
    pass_start_lag_s: i64,
) -> BTreeMap<String, std::collections::BTreeSet<String>> {
    srv.with_dataset(|d| {
        let pass_start = d.now() - pass_start_lag_s;
        let mut out = BTreeMap::new();
        for name in d.stream_names() {
            let Some(field) = ac_test_server::cursor_field(&name) else {
                continue;
            };
            let at = |r: &Value| -> Option<i64> {
                let v = r[field].as_str()?;
                let ms = ac_test_server::parse_instant_ms(v).ok()?;
                let zoned = v.get(10..).is_some_and(|t| t.contains(['Z', '+', '-']));
                Some(ms / 1000 + if zoned { 0 } else { 7 * 3600 })
            };
            let recs = d.records(&name);
            let Some(max) = recs.iter().filter_map(&at).max() else {
                continue;
            };
            let cursor = max.min(pass_start);
            let stream = connector_name(&name);
            let lookback = if EVENT_TIME_STREAMS.contains(&stream.as_str()) {
                3600
            } else {
                0
            };
            let ids = recs
                .iter()
                .filter(|r| {
                    at(r).is_some_and(|t| {
                        if lookback > 0 {
                            t >= cursor - lookback
                        } else {
                            t > cursor
                        }
                    })
                })
                .filter_map(|r| r["id"].as_str().map(String::from))
                .collect();
            out.insert(stream, ids);
        }
        out
    })
}

/// The repository's top directory (scripts, README, connector.json).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The last lines of a command's output, for a failure message.
pub fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// The stdout of a command that must have succeeded without printing `key`; fails naming
/// `what` with its last output lines otherwise.
pub fn succeeded(what: &str, out: &std::process::Output, key: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        tail(&stdout),
        tail(&stderr)
    );
    assert!(
        !stdout.contains(key) && !stderr.contains(key),
        "{what}: the API key was printed"
    );
    stdout
}

/// The test server of an end-to-end test, configured in one place: its key and the dataset's
/// seed and size, no rate limit unless [`TestServer::rate`] sets one; [`TestServer::with`]
/// changes any other field of its config, [`TestServer::data`] the dataset.
pub struct TestServer {
    cfg: ac_test_server::ServerConfig,
    data: ac_test_server::Dataset,
}

impl TestServer {
    /// A server for `key` over a generated dataset (`seed`, `contacts`), unthrottled.
    pub fn new(key: &str, seed: u64, contacts: usize) -> TestServer {
        TestServer {
            cfg: ac_test_server::ServerConfig {
                api_key: key.into(),
                rate_limit_per_sec: None,
                ..ac_test_server::ServerConfig::default()
            },
            data: ac_test_server::Dataset::generate(seed, contacts),
        }
    }

    /// The account's rate limit, requests a second.
    pub fn rate(mut self, per_second: u32) -> TestServer {
        self.cfg.rate_limit_per_sec = Some(per_second);
        self
    }

    /// Any other change to the server's config.
    pub fn with(mut self, change: impl FnOnce(&mut ac_test_server::ServerConfig)) -> TestServer {
        change(&mut self.cfg);
        self
    }

    /// A change to the dataset before the server starts.
    pub fn data(mut self, change: impl FnOnce(&mut ac_test_server::Dataset)) -> TestServer {
        change(&mut self.data);
        self
    }

    /// Starts it on a free loopback port.
    pub fn start(self) -> ac_test_server::Server {
        ac_test_server::Server::start(self.cfg, self.data).expect("start test server")
    }
}

/// The text of the fenced block that follows `<!-- test: NAME ` in README.md.
pub fn readme_block(name: &str) -> String {
    let text = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let marker = format!("<!-- test: {name} ");
    let at = text
        .find(&marker)
        .unwrap_or_else(|| panic!("README.md has no `{marker}` marker"));
    let rest = &text[at..];
    let fence = rest.find("\n```").expect("a fenced block after the marker") + 1;
    let body = fence + rest[fence..].find('\n').expect("fence line") + 1;
    let end = body + rest[body..].find("\n```").expect("closing fence") + 1;
    rest[body..end].to_string()
}

/// A program of one of the Python environments that tests/python/setup_venv.sh makes in the
/// repository's `.venv/` (`make pyenv`; `make test` runs it).
pub fn venv_bin(env: &str, tool: &str) -> PathBuf {
    let p = repo().join(".venv").join(env).join("bin").join(tool);
    assert!(
        p.exists(),
        "{} is missing: run `make pyenv` (bash tests/python/setup_venv.sh)",
        p.display()
    );
    p
}

/// The README's wrapper script, executable, beside a link to the built component.
pub fn install_wrapper(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let script = dir.join("source-activecampaign");
    std::fs::write(&script, readme_block("source-activecampaign")).expect("script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::os::unix::fs::symlink(component(), dir.join("source_activecampaign.wasm"))
        .expect("link the component");
}

/// A program's exit status, standard output and standard error.
pub fn run_tool_out(tool: &Path, args: &[&str], stdin: Option<&Path>) -> (bool, String, String) {
    let mut cmd = Command::new(tool);
    cmd.args(args);
    if let Some(f) = stdin {
        cmd.stdin(std::fs::File::open(f).expect("stdin file"));
    }
    let o = cmd
        .output()
        .unwrap_or_else(|e| panic!("{} does not run: {e}", tool.display()));
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Runs a program (a Python environment's tool): whether it succeeded, and its stdout followed
/// by its stderr.
pub fn run_tool(tool: &Path, args: &[&str], stdin: Option<&Path>) -> (bool, String) {
    let (ok, out, err) = run_tool_out(tool, args, stdin);
    (ok, out + &err)
}

/// The Singer catalog with every stream selected.
pub fn select_all(catalog: &str) -> String {
    let mut c: Value = serde_json::from_str(catalog).expect("Singer catalog JSON");
    for s in c["streams"].as_array_mut().expect("streams") {
        s["metadata"][0]["metadata"]["selected"] = Value::Bool(true);
    }
    c.to_string()
}

/// The streams of the Airbyte catalog that `discover` prints.
pub fn discover_streams(s: &Scratch, cfg: &str) -> Vec<Value> {
    let run = wasmtime(s, &["discover", "--config", cfg]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.of_type("CATALOG")[0]["catalog"]["streams"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// A configured catalog of every discovered stream, incremental wherever offered.
pub fn incremental_catalog(streams: &[Value]) -> String {
    incremental_catalog_to(streams, "append")
}

/// [`incremental_catalog`] with this `destination_sync_mode` for the incremental streams
/// (`append_dedup`: the destination keeps one row per key and drops deleted ones).
pub fn incremental_catalog_to(streams: &[Value], destination_sync_mode: &str) -> String {
    let list: Vec<Value> = streams
        .iter()
        .map(|s| {
            let inc = s["supported_sync_modes"].as_array().is_some_and(|m| m.iter().any(|x| x == "incremental"));
            serde_json::json!({"stream": s, "sync_mode": if inc { "incremental" } else { "full_refresh" },
                "destination_sync_mode": if inc { destination_sync_mode } else { "append" }})
        })
        .collect();
    serde_json::json!({"streams": list}).to_string()
}

/// The last STATE of each stream among these Airbyte messages, merged over `prev`.
pub fn merge_states(prev: &mut BTreeMap<String, Value>, messages: &[Value]) {
    for m in messages.iter().filter(|m| m["type"] == "STATE") {
        if let Some(n) = m["state"]["stream"]["stream_descriptor"]["name"].as_str() {
            prev.insert(n.to_string(), m["state"].clone());
        }
    }
}

/// Per-stream states as the `--state` file of an Airbyte read: a JSON list.
pub fn state_text(states: &BTreeMap<String, Value>) -> String {
    Value::Array(states.values().cloned().collect()).to_string()
}

/// The record as the README says the connector delivers it: zero dates as values become null.
pub fn documented_form(v: &Value) -> Value {
    match v {
        Value::String(s)
            if ["0000-00-00", "0000-00-00 00:00:00", "0000-00-00T00:00:00"]
                .contains(&s.as_str()) =>
        {
            Value::Null
        }
        Value::Array(a) => Value::Array(a.iter().map(documented_form).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), documented_form(x)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A server record as the connector delivers it under `schema` (the README's type rules, written
/// again here so the test does not trust the connector's code): zero dates null; each top-level
/// value in the type its field declares (`"12"` → 12 in an integer or number field, a number
/// quoted in a text field (a list or object as its JSON text), dates and date-times as sent, `[]` in an object field `{}`, 0/1 in a
/// boolean field false/true); a value that does not fit null, and whole under `_ac_originals`.
pub fn typed_form(v: &Value, schema: &Value) -> Value {
    let mut out = documented_form(v);
    let (Some(props), Some(obj)) = (schema["properties"].as_object(), out.as_object_mut()) else {
        return out;
    };
    let mut originals = serde_json::Map::new();
    for (name, value) in obj.iter_mut() {
        let Some(field) = props.get(name) else {
            continue;
        };
        let types: Vec<&str> = match &field["type"] {
            Value::Array(a) => a
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .collect(),
            Value::String(t) => vec![t.as_str()],
            _ => continue,
        };
        // A Singer schema declares a zoneless date-time as text: its `airbyte_type` still says.
        let format = field["format"].as_str().or_else(|| {
            (field["airbyte_type"] == "timestamp_without_timezone").then_some("date-time")
        });
        let zoned = field["airbyte_type"] != "timestamp_without_timezone";
        let typed = match (types.as_slice(), format, &*value) {
            (_, _, Value::Null) => Some(Value::Null),
            (["integer"], _, Value::String(s)) => s.parse::<i64>().ok().map(Value::from),
            (["integer"], _, Value::Number(n)) => n.is_i64().then(|| value.clone()),
            (["number"], _, Value::String(s)) => serde_json::from_str::<serde_json::Number>(s)
                .ok()
                .map(Value::Number),
            (["number"], _, Value::Number(_)) => Some(value.clone()),
            (["string"], Some("date"), Value::String(s)) => real_day(s).then(|| value.clone()),
            (["string"], Some("date-time"), Value::String(s)) => {
                let zone = s.get(19..).is_some_and(|z| z.contains(['Z', '+', '-']));
                (real_day(&s[..s.len().min(10)])
                    && s.len() >= 19
                    && zone == zoned
                    && clock(&s[11..19]))
                .then(|| value.clone())
            }
            (["string"], None, Value::Number(n)) => Some(Value::String(n.to_string())),
            // Text carries text: a list, object or flag sent there comes as its JSON text.
            (["string"], None, Value::Array(_) | Value::Object(_) | Value::Bool(_)) => {
                Some(Value::String(value.to_string()))
            }
            (["object"], _, Value::Array(a)) => a.is_empty().then(|| serde_json::json!({})),
            (["boolean"], _, Value::Number(n)) => match n.as_u64() {
                Some(0) => Some(Value::Bool(false)),
                Some(1) => Some(Value::Bool(true)),
                _ => None,
            },
            _ => Some(value.clone()),
        };
        match typed {
            Some(t) => *value = t,
            None => {
                originals.insert(name.clone(), value.clone());
                *value = Value::Null;
            }
        }
    }
    if !originals.is_empty() {
        obj.insert("_ac_originals".into(), Value::Object(originals));
    }
    out
}

/// `YYYY-MM-DD` of a day the calendar has.
fn real_day(s: &str) -> bool {
    let p: Vec<u32> = s.split('-').filter_map(|x| x.parse().ok()).collect();
    let [y, m, d] = p[..] else { return false };
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    s.len() == 10 && (1..=12).contains(&m) && d >= 1 && d <= days[(m - 1) as usize]
}

/// `HH:MM:SS` in range.
fn clock(s: &str) -> bool {
    let p: Vec<u32> = s.split(':').filter_map(|x| x.parse().ok()).collect();
    matches!(p[..], [h, m, s] if h < 24 && m < 60 && s < 61)
}

/// The columns of a DuckDB schema by their DuckDB types ("table.column" → type), and the text
/// columns whose values would all read as numbers, dates or date-times, other than the fields the
/// catalog declares as text on purpose (tests/python/column_types.py).
pub fn column_types(
    venv: &str,
    db: &Path,
    schema: &str,
    catalog: &Path,
) -> (BTreeMap<String, String>, Vec<String>, Value) {
    let script = repo().join("tests/python/column_types.py");
    let (db, catalog) = (db.display().to_string(), catalog.display().to_string());
    let mut args = vec![
        script.display().to_string(),
        db,
        schema.to_string(),
        catalog,
    ];
    // target-duckdb has no date type, and a zoneless date-time is text in Singer schemas.
    if venv == "duckdb" {
        args.push("dates-are-text".into());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, out, err) = run_tool_out(&venv_bin(venv, "python"), &args, None);
    assert!(ok, "column_types.py: {err}");
    let v: Value = serde_json::from_str(&out).expect("column types JSON");
    let types = v["types"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, t)| (k.clone(), t.as_str().unwrap_or("").to_string()))
        .collect();
    let text = v["text_but_typed"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(String::from))
        .collect();
    (types, text, v["custom"].clone())
}

/// Where each kind of record keeps its custom fields in the test server: (table, definitions,
/// values, the value's owner, field and value keys, the definition's type key).
const CUSTOM_FIELD_OWNERS: &[(&str, &str, &str, &str, &str, &str, &str)] = &[
    (
        "contacts",
        "contact_custom_fields",
        "contact_custom_field_values",
        "contact",
        "field",
        "value",
        "type",
    ),
    (
        "deals",
        "deal_custom_fields",
        "deal_custom_field_values",
        "dealId",
        "customFieldId",
        "fieldValue",
        "fieldType",
    ),
    (
        "accounts",
        "account_custom_fields",
        "account_custom_field_values",
        "accountId",
        "customFieldId",
        "fieldValue",
        "fieldType",
    ),
];

/// An id sent as text or a number, as text.
fn id_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Fails unless the custom field columns of contacts, deals and accounts (as text, from
/// [`column_types`]) hold the server's values: text as sent, a multi-value field as the list of
/// its values, a date as the date, a number as the number (a loaded date-time is only checked to
/// be there: loaders write it in their zone); a value that does not fit its column is null there.
pub fn assert_custom_columns(what: &str, srv: &ac_test_server::Server, custom: &Value) {
    assert_custom_columns_of(&["contacts", "deals", "accounts"], what, srv, custom);
}

/// [`assert_custom_columns`] for some of the tables.
pub fn assert_custom_columns_of(
    tables: &[&str],
    what: &str,
    srv: &ac_test_server::Server,
    custom: &Value,
) {
    for (table, defs, values, owner_key, field_key, value_key, type_key) in
        CUSTOM_FIELD_OWNERS.iter().filter(|o| tables.contains(&o.0))
    {
        let fields = srv.with_dataset(|d| d.records(defs));
        let kind = |id: &str| {
            fields
                .iter()
                .find(|f| id_of(&f["id"]).as_deref() == Some(id))
                .and_then(|f| f[*type_key].as_str().map(String::from))
                .unwrap_or_default()
        };
        let mut checked = 0;
        for fv in srv.with_dataset(|d| d.records(values)) {
            let (Some(owner), Some(field)) = (id_of(&fv[*owner_key]), id_of(&fv[*field_key]))
            else {
                continue;
            };
            let value = &fv[*value_key];
            let got = &custom[*table][&owner][format!("custom_field_{field}")];
            let at = format!("{what}: {table} {owner} field {field}: {value} loaded as {got}");
            let text = value.as_str().map(String::from);
            match kind(&field).as_str() {
                "checkbox" | "listbox" | "multiselect" => {
                    let want: Vec<String> = match value {
                        Value::Array(items) => items
                            .iter()
                            .filter_map(|x| x.as_str().map(String::from))
                            .collect(),
                        _ => text
                            .unwrap_or_default()
                            .split("||")
                            .filter(|x| !x.is_empty())
                            .map(String::from)
                            .collect(),
                    };
                    let list: Vec<String> = got
                        .as_str()
                        .and_then(|t| {
                            serde_json::from_str::<Vec<String>>(&t.replace('\'', "\"")).ok()
                        })
                        .unwrap_or_default();
                    assert_eq!(list, want, "{at}");
                }
                "datetime" => assert!(got.is_string(), "{at}"),
                "number" | "currency" => {
                    let want = match value {
                        Value::Number(n) => n.as_f64(),
                        _ => text.and_then(|t| t.parse::<f64>().ok()),
                    };
                    let loaded = got.as_str().and_then(|t| t.parse::<f64>().ok());
                    assert_eq!(loaded, want, "{at}");
                }
                "date" if !text.as_deref().is_some_and(real_day) => {
                    assert_eq!(got, &Value::Null, "{at}: not a day, so null")
                }
                _ => assert_eq!(got.as_str(), text.as_deref(), "{at}"),
            }
            checked += 1;
        }
        assert!(
            checked >= 20,
            "{what}: only {checked} {table} custom field values checked"
        );
    }
}

/// Fails unless the loaded tables hold typed columns: none of text whose values are all numbers
/// or dates, and each of `want` (table.column, DuckDB type) of its type (`what` names the loader).
pub fn assert_typed_columns(
    what: &str,
    types: &BTreeMap<String, String>,
    text: &[String],
    want: &[(&str, &str)],
) {
    assert!(
        text.is_empty(),
        "{what}: text columns whose values are all numbers, dates or date-times:\n{}",
        text.join("\n")
    );
    for (column, kind) in want {
        assert_eq!(
            types.get(*column).map(String::as_str),
            Some(*kind),
            "{what}: {column}'s type"
        );
    }
}
