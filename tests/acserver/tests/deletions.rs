//! Rows deleted in the account between two syncs reach the destination as deletions,
//! and a pass that cannot prove a deletion reports none.
//!
//! The component compares the ids of a stream's complete pass with the previous complete pass's
//! (kept in the stream's state) and emits, for each id gone, a deletion record before the
//! stream's final STATE: Singer `{"id": …, "_sdc_deleted_at": <RFC 3339 UTC>}` (the column
//! Singer targets with `hard_delete` act on), Airbyte `{"id": …, "_ab_cdc_deleted_at": …}` for
//! streams synced incrementally. These tests drive the built component through wasmtime:
//!
//! * Singer into **target-duckdb with `hard_delete: true`**: after two syncs with deletions (a
//!   contact's cascade included), updates and inserts between them, every table of the 9
//!   streams equals the server, id for id and field for field; the deletion records name exactly
//!   the deleted ids.
//! * Airbyte `read` with an incremental catalog: the deletion records are valid per
//!   airbyte-protocol-models and against the discovered schemas, and name exactly the deleted
//!   ids; an `append_dedup` destination built from the two reads equals the server.
//! * Never a false delete: a stream answered with an empty list, or 403, on one sync; a pass
//!   resumed from a mid-pass STATE; a pass that would delete more than the guard share.
//!
//! Every check of a test is collected (`Problems`) and all failures are reported together, so a
//! run shows every way the output is wrong, not only the first.

mod common;
use ac_test_server::{Dataset, Server};
use common::*;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

const KEY: &str = "deletions-key-0dd5a1e7";
/// Contacts of every test's account: 300 contacts give 450 contact tags, 300 list memberships,
/// 600 field values, 30 deals, 12 tags, 5 lists, 10 accounts, 12 support tickets.
const CONTACTS: usize = 300;
/// The custom object stream of the tests (its record ids are UUIDs).
const TICKETS: &str = "custom_object:support-ticket";

/// The 9 streams whose deletions these tests follow, by the server's names.
const NINE: [&str; 9] = [
    "contacts",
    "contact_tags",
    "contact_lists",
    "contact_custom_field_values",
    "deals",
    "tags",
    "lists",
    "accounts",
    TICKETS,
];

fn server() -> Server {
    TestServer::new(KEY, 19, CONTACTS).start()
}

/// Failed checks, reported together at the end of a test.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }
    fn eq<T: PartialEq + std::fmt::Debug>(&mut self, have: T, want: T, what: &str) {
        if have != want {
            self.0
                .push(format!("{what}:\n  have {have:?}\n  want {want:?}"));
        }
    }
    /// Two id sets equal, reported by their differences.
    fn same_ids(&mut self, have: &BTreeSet<String>, want: &BTreeSet<String>, what: &str) {
        let extra: Vec<&String> = have.difference(want).collect();
        let missing: Vec<&String> = want.difference(have).collect();
        self.check(extra.is_empty() && missing.is_empty(), || {
            format!(
                "{what}: ids not on the server {extra:?}, ids of the server missing {missing:?}"
            )
        });
    }
    fn finish(self, test: &str) {
        assert!(
            self.0.is_empty(),
            "{test}: {} problem(s):\n- {}",
            self.0.len(),
            self.0.join("\n- ")
        );
    }
}

/// The config of a test: the server, 50 requests a second, and `extra` fields on top.
fn config_with(srv: &Server, extra: Value) -> String {
    let mut c: Value = serde_json::from_str(&config(&srv.base_url(), KEY, 50.0)).expect("config");
    for (k, v) in extra.as_object().into_iter().flatten() {
        c[k] = v.clone();
    }
    c.to_string()
}

/// Every stream's ids on the server now (server names).
fn server_ids(srv: &Server) -> BTreeMap<String, BTreeSet<String>> {
    srv.with_dataset(|d| {
        d.stream_names()
            .into_iter()
            .map(|n| {
                let ids = d.ids(&n).into_iter().collect();
                (n, ids)
            })
            .collect()
    })
}

/// What went between two snapshots, by connector stream name (streams that lost nothing are
/// left out).
fn gone_between(
    before: &BTreeMap<String, BTreeSet<String>>,
    after: &BTreeMap<String, BTreeSet<String>>,
) -> BTreeMap<String, BTreeSet<String>> {
    before
        .iter()
        .filter_map(|(name, ids)| {
            let now = after.get(name).cloned().unwrap_or_default();
            let gone: BTreeSet<String> = ids.difference(&now).cloned().collect();
            (!gone.is_empty()).then(|| (connector_name(name), gone))
        })
        .collect()
}

/// The changes of test (a) and (b) between their two syncs, each stream below the guard share
/// (25 %): contacts deleted with their tags, lists and field values (the API's cascade), rows of
/// each other stream deleted directly, and updates and inserts beside them. Returns the ids
/// deleted per connector stream.
fn delete_touch_insert(srv: &Server) -> BTreeMap<String, BTreeSet<String>> {
    let before = server_ids(srv);
    srv.with_dataset(|d| {
        for (stream, touch, insert) in [
            ("contacts", 4, 2),
            ("deals", 2, 1),
            ("tags", 1, 1),
            ("accounts", 1, 1),
            ("contact_tags", 3, 2),
            (TICKETS, 1, 1),
        ] {
            d.touch(stream, touch);
            d.insert(stream, insert);
        }
        let cascaded = d.delete_contacts(6);
        assert_eq!(cascaded.len(), 6);
        for (stream, n) in [
            ("contact_tags", 5),
            ("contact_lists", 4),
            ("contact_custom_field_values", 5),
            ("deals", 3),
            ("tags", 2),
            ("lists", 1),
            ("accounts", 2),
            (TICKETS, 2),
        ] {
            assert_eq!(d.delete(stream, n).len(), n, "{stream}");
        }
    });
    let gone = gone_between(&before, &server_ids(srv));
    // The cascade took rows of each child with the contacts, beside the direct deletions.
    for child in Dataset::CONTACT_CASCADE {
        let n = gone.get(child).map_or(0, BTreeSet::len);
        assert!(n > 5, "{child}: only {n} rows went");
    }
    let mut streams: Vec<&str> = gone.keys().map(String::as_str).collect();
    streams.sort();
    let mut nine: Vec<String> = NINE.iter().map(|n| connector_name(n)).collect();
    nine.sort();
    assert_eq!(streams, nine, "deletions in exactly the 9 streams");
    gone
}

/// Singer deletion records by stream: RECORDs whose record carries `_sdc_deleted_at`.
fn singer_deletions(messages: &[Value]) -> BTreeMap<String, Vec<Value>> {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for m in messages.iter().filter(|m| m["type"] == "RECORD") {
        if m["record"]
            .get("_sdc_deleted_at")
            .is_some_and(|v| !v.is_null())
        {
            out.entry(m["stream"].as_str().unwrap_or("").to_string())
                .or_default()
                .push(m.clone());
        }
    }
    out
}

/// Airbyte deletion records by stream: RECORDs whose data carries `_ab_cdc_deleted_at`.
fn airbyte_deletions(messages: &[Value]) -> BTreeMap<String, Vec<Value>> {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for m in messages.iter().filter(|m| m["type"] == "RECORD") {
        let data = &m["record"]["data"];
        if data.get("_ab_cdc_deleted_at").is_some_and(|v| !v.is_null()) {
            out.entry(m["record"]["stream"].as_str().unwrap_or("").to_string())
                .or_default()
                .push(m.clone());
        }
    }
    out
}

fn id_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The ids of deletion records (Singer `record`, Airbyte `record.data`), per stream.
fn deleted_ids(
    deletions: &BTreeMap<String, Vec<Value>>,
    data: fn(&Value) -> &Value,
) -> BTreeMap<String, BTreeSet<String>> {
    deletions
        .iter()
        .map(|(s, ms)| {
            (
                s.clone(),
                ms.iter().map(|m| id_text(&data(m)["id"])).collect(),
            )
        })
        .collect()
}

fn singer_data(m: &Value) -> &Value {
    &m["record"]
}

fn airbyte_data(m: &Value) -> &Value {
    &m["record"]["data"]
}

/// A deletion timestamp must be RFC 3339 in UTC.
fn is_utc_rfc3339(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        ac_test_server::parse_instant_ms(s).is_ok()
            && s.len() >= 20
            && s.as_bytes().get(10) == Some(&b'T')
            && (s.ends_with('Z') || s.ends_with("+00:00"))
    })
}

/// The LOG, TRACE messages of a run: on stdout in Airbyte mode, on stderr in Singer mode.
fn side_messages(run: &Run) -> Vec<Value> {
    run.stdout
        .lines()
        .chain(run.stderr.lines())
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["type"] == "LOG" || m["type"] == "TRACE")
        .collect()
}

/// Whether `text` names `stream` as a word (`tags` is not named by `contact_tags`).
fn names(text: &str, stream: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(stream).any(|(i, _)| {
        !text[..i].chars().next_back().is_some_and(word)
            && !text[i + stream.len()..].chars().next().is_some_and(word)
    })
}

/// The warnings of a run (LOG WARN messages, and any other stderr line saying WARN).
fn warnings(run: &Run) -> Vec<String> {
    let mut out: Vec<String> = side_messages(run)
        .iter()
        .filter(|m| m["type"] == "LOG" && m["log"]["level"] == "WARN")
        .map(|m| m["log"]["message"].as_str().unwrap_or("").to_string())
        .collect();
    out.extend(
        run.stderr
            .lines()
            .filter(|l| !l.starts_with('{') && l.contains("WARN"))
            .map(String::from),
    );
    out
}

/// Whether a run reported `stream` failed or incomplete: a TRACE ERROR naming it, or a
/// STREAM_STATUS INCOMPLETE of it.
fn reported_failed(run: &Run, stream: &str) -> bool {
    side_messages(run).iter().any(|m| {
        let t = &m["trace"];
        (t["type"] == "ERROR" && t["error"]["stream_descriptor"]["name"] == stream)
            || (t["type"] == "STREAM_STATUS"
                && t["stream_status"]["stream_descriptor"]["name"] == stream
                && t["stream_status"]["status"] == "INCOMPLETE")
    })
}

/// Whether a stored value and the column target-duckdb loaded it into hold the same thing.
///
/// The rule, for a top-level scalar field of the server's record in the typed form the connector
/// sends (MySQL zero dates null, values in their declared types: tests/common `typed_form`) against the duckdb column of its lower-cased name (as `duckdb-rows` prints
/// it: text, numbers, booleans, NULL, a JSON column's parsed value):
/// * both null; or a server `""` and NULL (target-duckdb loads an empty string as NULL);
/// * text and text: equal bytes;
/// * numbers: equal as f64, whichever side is a JSON number or the text of one (a DOUBLE column
///   gives `5.0` for `5`; a text column, where the schema allows several types, holds the
///   number's text);
/// * a boolean and a boolean, or a boolean's text in any case (Python writes `True` into a text
///   column);
/// * a field the schema declares `format: date-time` is a TIMESTAMP column: the instant in UTC
///   without zone, to the microsecond (`2023-04-22T05:40:43.540012` for `…43.540012760Z`): equal
///   when the server's instant, cut to the microsecond, is that UTC time; a zoneless value
///   (`2023-09-25 00:59:36`) is that wall time as sent.
///
/// Objects and arrays (`links`, a contact's included ids, custom object `fields`) are not
/// compared: target-duckdb keeps them as JSON text whose form is its own; only top-level scalar
/// fields are.
fn same_scalar(server: &Value, db: &Value) -> bool {
    let num = |v: &Value| match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match (server, db) {
        (Value::Null, Value::Null) => true,
        (Value::String(s), Value::Null) => s.is_empty(),
        (Value::String(a), Value::String(b)) => a == b || same_timestamp(a, b),
        (Value::Number(_), _) | (Value::String(_), Value::Number(_)) => {
            num(server).is_some() && num(server) == num(db)
        }
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Bool(a), Value::String(b)) => b.eq_ignore_ascii_case(&a.to_string()),
        _ => false,
    }
}

/// An instant's epoch seconds and microseconds: RFC 3339 with a zone, or (`utc`) a zoneless
/// `YYYY-MM-DDTHH:MM:SS[.ffffff]` read as UTC.
fn micros(text: &str, utc: bool) -> Option<(i64, u32)> {
    let (head, zone) = match text
        .find(['Z', '+'])
        .or_else(|| text.rfind('-').filter(|&i| i > 10))
    {
        Some(i) => (&text[..i], &text[i..]),
        None => (text, ""),
    };
    if utc != zone.is_empty() || head.len() < 19 || head.as_bytes()[10] != b'T' {
        return None;
    }
    let (whole, frac) = head.split_once('.').unwrap_or((head, ""));
    if !frac.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 9 {
        return None;
    }
    let ms = ac_test_server::parse_instant_ms(&format!("{whole}{}", if utc { "Z" } else { zone }))
        .ok()?;
    let us = format!("{frac:0<6}")[..6].parse().ok()?;
    Some((ms.div_euclid(1000), us))
}

/// Whether `db` is the TIMESTAMP target-duckdb made of the zoned instant `server`, or of the
/// zoneless `server` (`2023-09-25 00:59:36` loads as `2023-09-25T00:59:36`: the time as sent).
fn same_timestamp(server: &str, db: &str) -> bool {
    let zoneless = server.len() >= 19
        && server.as_bytes()[10] == b' '
        && micros(&server.replacen(' ', "T", 1), true).is_some();
    if zoneless {
        return micros(&server.replacen(' ', "T", 1), true) == micros(db, true);
    }
    micros(server, false).is_some() && micros(server, false) == micros(db, true)
}

/// A Singer sync into target-duckdb with `hard_delete: true`, run after run, each run from the
/// last STATE the target echoed (what a pipeline saves and passes to the next run).
struct Warehouse<'a> {
    srv: &'a Server,
    s: Scratch,
    /// Sandbox paths of the config and catalog.
    cfg: String,
    cat: String,
    db: PathBuf,
    duck_cfg: PathBuf,
    /// Sandbox path of the state for the next run.
    state: Option<String>,
    runs: usize,
}

/// One Singer sync: the component's run and its messages.
struct Sync {
    run: Run,
    messages: Vec<Value>,
}

impl<'a> Warehouse<'a> {
    /// A warehouse syncing `streams` (server names) with the config's `extra` fields.
    fn new(name: &str, srv: &'a Server, streams: &[&str], extra: Value) -> Warehouse<'a> {
        let s = Scratch::new(name);
        let cfg = s.write("c.json", &config_with(srv, extra));
        let disc = wasmtime(&s, &["--config", &cfg, "--discover"]);
        assert_eq!(disc.code, 0, "{}", disc.stderr);
        let wanted: BTreeSet<String> = streams.iter().map(|n| connector_name(n)).collect();
        let mut catalog: Value = serde_json::from_str(&select_all(&disc.stdout)).expect("JSON");
        let list = catalog["streams"].as_array_mut().expect("streams");
        list.retain(|e| wanted.contains(e["tap_stream_id"].as_str().unwrap_or("")));
        assert_eq!(list.len(), wanted.len(), "every stream discovered");
        let cat = s.write("catalog.json", &catalog.to_string());
        let db = s.dir.join("warehouse.duckdb");
        let duck_cfg = s.dir.join("duckdb.json");
        std::fs::write(
            &duck_cfg,
            json!({"path": db, "default_target_schema": "activecampaign", "hard_delete": true})
                .to_string(),
        )
        .expect("duckdb config");
        Warehouse {
            srv,
            s,
            cfg,
            cat,
            db,
            duck_cfg,
            state: None,
            runs: 0,
        }
    }

    /// Rewrites the config with other `extra` fields.
    fn reconfigure(&mut self, extra: Value) {
        self.cfg = self.s.write("c.json", &config_with(self.srv, extra));
    }

    /// Runs the component, loads its output into the warehouse and keeps the echoed STATE.
    fn sync(&mut self) -> Sync {
        self.runs += 1;
        let mut args = vec![
            "--config",
            self.cfg.as_str(),
            "--catalog",
            self.cat.as_str(),
        ];
        if let Some(st) = &self.state {
            args.extend(["--state", st.as_str()]);
        }
        let run = wasmtime(&self.s, &args);
        for bad in ["panicked", "wasm trap"] {
            assert!(!run.stderr.contains(bad), "{bad}: {}", run.stderr);
        }
        let file = self.s.dir.join(format!("singer{}.jsonl", self.runs));
        std::fs::write(&file, &run.stdout).expect("save");
        let (ok, out, err) = run_tool_out(
            &venv_bin("duckdb", "target-duckdb"),
            &["--config", &self.duck_cfg.display().to_string()],
            Some(&file),
        );
        assert!(ok, "target-duckdb failed on sync {}: {err}", self.runs);
        let echoed = out.lines().rfind(|l| l.starts_with('{')).unwrap_or("");
        let messages = run.messages();
        let last = messages
            .iter()
            .rfind(|m| m["type"] == "STATE")
            .map(|m| m["value"].clone());
        // The target echoes the last STATE it received after its last load: what a pipeline
        // saves for the next run. But target-duckdb 0.8.0 updates the state it echoes only when
        // it loads records, so after a run without any RECORD it echoes the run's first STATE
        // (a mid-pass resume point, if the first page of a stream was read): the tap's last
        // STATE is kept then, as a target that echoes its last state would.
        let has_records = messages.iter().any(|m| m["type"] == "RECORD");
        if has_records {
            assert_eq!(
                serde_json::from_str::<Value>(echoed).ok(),
                last,
                "sync {}: target-duckdb echoed another state than the last STATE",
                self.runs
            );
        }
        let kept = last
            .map(|v| v.to_string())
            .unwrap_or_else(|| echoed.to_string());
        let name = format!("state{}.json", self.runs);
        self.state = Some(self.s.write(&name, &kept));
        Sync { run, messages }
    }

    /// Every row of the tables of these streams (server names): table → id → column → value.
    fn rows(&self, streams: &[&str]) -> BTreeMap<String, BTreeMap<String, Map<String, Value>>> {
        let script = repo().join("tests/python/singer_check.py");
        let mut args = vec![
            script.display().to_string(),
            "duckdb-rows".to_string(),
            self.db.display().to_string(),
            "activecampaign".to_string(),
        ];
        args.extend(streams.iter().map(|n| connector_name(n)));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, out, err) = run_tool_out(&venv_bin("duckdb", "python"), &args, None);
        assert!(ok, "singer_check.py duckdb-rows: {err}");
        serde_json::from_str(&out).expect("rows JSON")
    }

    /// The Singer schema the catalog of these syncs gives `stream`.
    fn schema(&self, stream: &str) -> Value {
        let text = std::fs::read_to_string(self.s.dir.join("catalog.json")).expect("catalog");
        let catalog: Value = serde_json::from_str(&text).expect("catalog JSON");
        catalog["streams"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["stream"] == stream)
            .map(|e| e["schema"].clone())
            .unwrap_or(Value::Null)
    }

    /// Checks that the tables of these streams equal the server: the same ids, and every
    /// top-level scalar field of each server record equal to its column ([`same_scalar`]).
    fn equals_server(&self, streams: &[&str], p: &mut Problems, when: &str) {
        let tables = self.rows(streams);
        for name in streams {
            let table = connector_name(name);
            let rows = tables.get(&table).cloned().unwrap_or_default();
            let records: BTreeMap<String, Value> = self
                .srv
                .with_dataset(|d| d.records(name))
                .into_iter()
                .map(|r| (id_text(&r["id"]), typed_form(&r, &self.schema(&table))))
                .collect();
            let have: BTreeSet<String> = rows.keys().cloned().collect();
            let want: BTreeSet<String> = records.keys().cloned().collect();
            p.same_ids(
                &have,
                &want,
                &format!("{when}: duckdb {table} vs the server"),
            );
            let mut fields = 0;
            for (id, rec) in &records {
                let Some(row) = rows.get(id) else { continue };
                for (field, value) in rec.as_object().into_iter().flatten() {
                    if value.is_object() || value.is_array() {
                        continue;
                    }
                    fields += 1;
                    let column = field.to_lowercase();
                    match row.get(&column) {
                        None => {
                            p.0.push(format!("{when}: duckdb {table} has no column {column}"))
                        }
                        Some(db) if !same_scalar(value, db) => p.0.push(format!(
                            "{when}: duckdb {table} id {id} {column}: {db} ≠ the server's {value}"
                        )),
                        Some(_) => {}
                    }
                }
            }
            p.check(fields > 0 || records.is_empty(), || {
                format!("{when}: {table}: no field compared")
            });
        }
    }
}

/// Checks the deletion records of a Singer sync: their shape, that they come before a STATE,
/// and that they name exactly `want` (per connector stream; every other stream none).
fn check_singer_deletions(
    sync: &Sync,
    want: &BTreeMap<String, BTreeSet<String>>,
    p: &mut Problems,
    when: &str,
) {
    let deletions = singer_deletions(&sync.messages);
    for (stream, ms) in &deletions {
        for m in ms {
            let keys: BTreeSet<&str> = m["record"]
                .as_object()
                .map(|o| o.keys().map(String::as_str).collect())
                .unwrap_or_default();
            p.eq(
                keys,
                ["_sdc_deleted_at", "id"].into_iter().collect(),
                &format!("{when}: {stream} deletion record's fields"),
            );
            p.check(is_utc_rfc3339(&m["record"]["_sdc_deleted_at"]), || {
                format!("{when}: {stream}: _sdc_deleted_at is not RFC 3339 UTC: {m}")
            });
            p.check(m["time_extracted"].is_string(), || {
                format!("{when}: {stream}: deletion record without time_extracted: {m}")
            });
        }
    }
    // Before the stream's final STATE: a STATE follows the last deletion record.
    let last_deletion = sync
        .messages
        .iter()
        .rposition(|m| m["type"] == "RECORD" && m["record"].get("_sdc_deleted_at").is_some());
    let last_state = sync.messages.iter().rposition(|m| m["type"] == "STATE");
    p.check(
        last_deletion.is_none() || last_deletion < last_state,
        || format!("{when}: no STATE after the last deletion record"),
    );
    p.eq(
        deleted_ids(&deletions, singer_data),
        want.clone(),
        &format!("{when}: ids of the Singer deletion records, by stream"),
    );
}

/// (a) Singer into target-duckdb with hard_delete: after a full sync and a second one from its
/// state, with rows of the 9 streams deleted (a contact's tags, lists and field values with it),
/// updated and inserted in between, each table equals the server id for id and field for field,
/// and the deletion records name exactly the deleted ids.
///
/// What breaks it: a deletion not found or not emitted (the row stays in duckdb), a deletion
/// record for an id that exists (a row lost), a record without `_sdc_deleted_at` in its SCHEMA
/// (target-duckdb then drops the column and hard_delete does nothing), a cascade not followed
/// (a deleted contact's tags stay), deals not swept with `full_sweep_hours: 0`.
#[test]
fn singer_deletions_reach_target_duckdb_with_hard_delete() {
    let _g = serial();
    let srv = server();
    // full_sweep_hours 0: deals (server-filtered) are read completely on every sync, so their
    // deletions show on the second sync, not within a day.
    let mut w = Warehouse::new("del-singer", &srv, &NINE, json!({"full_sweep_hours": 0}));
    let mut p = Problems::default();
    let first = w.sync();
    assert_eq!(first.run.code, 0, "{}", first.run.stderr);
    // Every stream's SCHEMA declares the deletion column.
    for m in first.messages.iter().filter(|m| m["type"] == "SCHEMA") {
        let col = &m["schema"]["properties"]["_sdc_deleted_at"];
        p.check(
            col["type"]
                .as_array()
                .is_some_and(|t| t.contains(&json!("null")) && t.contains(&json!("string")))
                && col["format"] == "date-time",
            || format!("SCHEMA of {} lacks _sdc_deleted_at: {col}", m["stream"]),
        );
    }
    check_singer_deletions(&first, &BTreeMap::new(), &mut p, "sync 1");
    w.equals_server(&NINE, &mut p, "after sync 1");

    let gone = delete_touch_insert(&srv);
    let second = w.sync();
    assert_eq!(second.run.code, 0, "{}", second.run.stderr);
    check_singer_deletions(&second, &gone, &mut p, "sync 2");
    // A deleted id is never delivered as a live record.
    for m in second.messages.iter().filter(|m| m["type"] == "RECORD") {
        let stream = m["stream"].as_str().unwrap_or("");
        if m["record"]
            .get("_sdc_deleted_at")
            .is_some_and(|v| !v.is_null())
        {
            continue;
        }
        let id = id_text(&m["record"]["id"]);
        p.check(!gone.get(stream).is_some_and(|g| g.contains(&id)), || {
            format!("sync 2: deleted {stream} {id} delivered as a live record")
        });
    }
    w.equals_server(&NINE, &mut p, "after sync 2");
    p.finish("singer_deletions_reach_target_duckdb_with_hard_delete");
}

/// (a, between sweeps) The same changes with the default schedule (`full_sweep_hours` 24): the
/// second sync, right after the first, reads the server-filtered and quiet streams by what
/// changed only (contacts filtered by `updated_after`, contact_tags newest first, …), which can
/// prove no deletion. It reports none that is not real, tags (a full table, read whole every
/// sync) all of its own, and the warehouse keeps every row the server has; a third sync with
/// `full_sweep_hours: 0` sweeps, and every table equals the server: a deletion waits for the
/// sweep, it is not lost. (Measured on 0e885cd: sync 2 deletes in tags, lists and accounts only.)
///
/// What breaks it: a partial pass between sweeps taken for complete (the rows it did not read
/// "deleted"), or a sweep that compares with a baseline a partial pass replaced.
#[test]
fn between_sweeps_nothing_existing_is_deleted_and_the_sweep_catches_up() {
    let _g = serial();
    let srv = server();
    let mut w = Warehouse::new("del-sweeps", &srv, &NINE, json!({}));
    let mut p = Problems::default();
    let first = w.sync();
    assert_eq!(first.run.code, 0, "{}", first.run.stderr);
    let gone = delete_touch_insert(&srv);
    let second = w.sync();
    p.eq(second.run.code, 0, "sync 2: exit code");
    let reported = deleted_ids(&singer_deletions(&second.messages), singer_data);
    for (stream, ids) in &reported {
        let real = gone.get(stream).cloned().unwrap_or_default();
        let false_deletes: Vec<&String> = ids.difference(&real).collect();
        p.check(false_deletes.is_empty(), || {
            format!("sync 2: {stream}: deletion records of rows that exist: {false_deletes:?}")
        });
    }
    p.eq(
        reported.get("tags").cloned().unwrap_or_default(),
        gone.get("tags").cloned().unwrap_or_default(),
        "sync 2: tags (read whole every sync) deletions",
    );
    let rows = w.rows(&NINE);
    for name in NINE {
        let table = connector_name(name);
        let kept: BTreeSet<&String> = rows
            .get(&table)
            .into_iter()
            .flat_map(|t| t.keys())
            .collect();
        let lost: Vec<String> = srv
            .with_dataset(|d| d.ids(name))
            .into_iter()
            .filter(|id| !kept.contains(id))
            .collect();
        p.eq(
            lost,
            Vec::new(),
            &format!("after sync 2: {table} rows of the server missing in duckdb"),
        );
    }
    w.reconfigure(json!({"full_sweep_hours": 0}));
    let third = w.sync();
    p.eq(third.run.code, 0, "sync 3 (a sweep): exit code");
    let mut all = reported;
    for (stream, ids) in deleted_ids(&singer_deletions(&third.messages), singer_data) {
        let before = all.entry(stream.clone()).or_default();
        let twice: Vec<&String> = ids.intersection(before).collect();
        p.check(twice.is_empty(), || {
            format!("{stream}: deleted twice: {twice:?}")
        });
        before.extend(ids);
    }
    p.eq(all, gone, "syncs 2 and 3: the deletion records, by stream");
    w.equals_server(&NINE, &mut p, "after sync 3 (a sweep)");
    p.finish("between_sweeps_nothing_existing_is_deleted_and_the_sweep_catches_up");
}

/// (b) Airbyte `read` with an incremental catalog (append_dedup): the second read's deletion
/// records are valid per airbyte-protocol-models (validate_airbyte.py --strict) and against the
/// discovered schemas (which declare `_ab_cdc_deleted_at` nullable), carry only the key and the
/// column, and name exactly the deleted ids of the incremental streams; full-refresh streams
/// (tags) have none and deliver exactly the server's rows. An append_dedup destination made of
/// the two reads (latest record per id, dropped when it is a deletion) equals the server.
///
/// What breaks it: a deletion record the models or the schema refuse (e.g. a numeric id, a
/// missing `emitted_at`, `_ab_cdc_deleted_at` not declared), a missed or a false deletion,
/// deletion records on a full-refresh stream.
#[test]
fn airbyte_deletion_records_are_valid_and_name_the_deleted_ids() {
    let _g = serial();
    let srv = server();
    let s = Scratch::new("del-airbyte");
    let cfg = s.write("c.json", &config_with(&srv, json!({"full_sweep_hours": 0})));
    let wanted: BTreeSet<String> = NINE.iter().map(|n| connector_name(n)).collect();
    let streams: Vec<Value> = discover_streams(&s, &cfg)
        .into_iter()
        .filter(|x| wanted.contains(x["name"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(streams.len(), NINE.len());
    let schemas: BTreeMap<String, Value> = streams
        .iter()
        .map(|x| {
            (
                x["name"].as_str().unwrap_or("").to_string(),
                x["json_schema"].clone(),
            )
        })
        .collect();
    let incremental: BTreeSet<String> = streams
        .iter()
        .filter(|x| x["default_cursor_field"].is_array())
        .filter_map(|x| x["name"].as_str().map(String::from))
        .collect();
    assert!(incremental.contains("contacts") && !incremental.contains("tags"));
    let mut p = Problems::default();
    for (name, schema) in &schemas {
        let col = &schema["properties"]["_ab_cdc_deleted_at"];
        p.check(
            !col.is_null()
                && validate(col, &Value::Null, name).is_ok()
                && validate(col, &json!("2025-01-01T00:00:00Z"), name).is_ok(),
            || format!("{name}: the discovered schema does not declare _ab_cdc_deleted_at nullable: {col}"),
        );
    }
    let cat = s.write(
        "cat.json",
        &incremental_catalog_to(&streams, "append_dedup"),
    );
    let first = wasmtime(&s, &["read", "--config", &cfg, "--catalog", &cat]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let msgs1 = first.messages();
    p.eq(
        airbyte_deletions(&msgs1).len(),
        0,
        "read 1: deletion records",
    );
    let mut states = BTreeMap::new();
    merge_states(&mut states, &msgs1);

    let gone = delete_touch_insert(&srv);
    let st = s.write("state.json", &state_text(&states));
    let second = wasmtime(
        &s,
        &["read", "--config", &cfg, "--catalog", &cat, "--state", &st],
    );
    assert_eq!(second.code, 0, "{}", second.stderr);
    let msgs2 = second.messages();
    let deletions = airbyte_deletions(&msgs2);
    let want: BTreeMap<String, BTreeSet<String>> = gone
        .iter()
        .filter(|(s, _)| incremental.contains(*s))
        .map(|(s, ids)| (s.clone(), ids.clone()))
        .collect();
    p.eq(
        deleted_ids(&deletions, airbyte_data),
        want,
        "read 2: ids of the Airbyte deletion records, by stream (incremental streams only)",
    );
    for (stream, ms) in &deletions {
        for m in ms {
            let data = &m["record"]["data"];
            let keys: BTreeSet<&str> = data
                .as_object()
                .map(|o| o.keys().map(String::as_str).collect())
                .unwrap_or_default();
            p.eq(
                keys,
                ["_ab_cdc_deleted_at", "id"].into_iter().collect(),
                &format!("{stream} deletion record's fields"),
            );
            p.check(is_utc_rfc3339(&data["_ab_cdc_deleted_at"]), || {
                format!("{stream}: _ab_cdc_deleted_at is not RFC 3339 UTC: {data}")
            });
        }
        if let Some(schema) = schemas.get(stream) {
            let bad: Vec<String> = ms
                .iter()
                .filter_map(|m| validate(schema, airbyte_data(m), stream).err())
                .collect();
            p.check(bad.is_empty(), || {
                format!("{stream}: {} deletion records invalid against the discovered schema; the first: {}", bad.len(), bad[0])
            });
        }
    }
    // The protocol models: the whole second read, and the deletion records alone (so that a
    // read without any still fails here: the file is empty).
    let only: String = msgs2
        .iter()
        .filter(|m| m["type"] == "RECORD" && airbyte_data(m).get("_ab_cdc_deleted_at").is_some())
        .map(|m| m.to_string() + "\n")
        .collect();
    std::fs::write(s.dir.join("read2.jsonl"), &second.stdout).expect("save");
    std::fs::write(s.dir.join("deletions.jsonl"), only).expect("save");
    let script = repo()
        .join("tests/python/validate_airbyte.py")
        .display()
        .to_string();
    for (file, require) in [
        ("read2.jsonl", "RECORD,STATE"),
        ("deletions.jsonl", "RECORD"),
    ] {
        let path = s.dir.join(file).display().to_string();
        let (ok, text) = run_tool(
            &venv_bin("airbyte", "python"),
            &[&script, "--strict", "--require", require, &path],
            None,
        );
        p.check(ok && text.contains("validated"), || {
            format!("airbyte-protocol-models on {file}: {text}")
        });
    }
    // An append_dedup destination of the incremental streams, an overwrite of the others.
    let mut table: BTreeMap<String, BTreeMap<String, bool>> = BTreeMap::new();
    for m in msgs1
        .iter()
        .chain(msgs2.iter())
        .filter(|m| m["type"] == "RECORD")
    {
        let stream = m["record"]["stream"].as_str().unwrap_or("").to_string();
        let data = airbyte_data(m);
        let deleted = data.get("_ab_cdc_deleted_at").is_some_and(|v| !v.is_null());
        if incremental.contains(&stream) {
            table
                .entry(stream)
                .or_default()
                .insert(id_text(&data["id"]), deleted);
        }
    }
    let full = ids_by_stream(&msgs2);
    for name in NINE {
        let stream = connector_name(name);
        let server: BTreeSet<String> = srv.with_dataset(|d| d.ids(name)).into_iter().collect();
        if incremental.contains(&stream) {
            let live: BTreeSet<String> = table
                .get(&stream)
                .into_iter()
                .flatten()
                .filter(|(_, deleted)| !**deleted)
                .map(|(id, _)| id.clone())
                .collect();
            p.same_ids(
                &live,
                &server,
                &format!("append_dedup {stream} after two reads"),
            );
        } else {
            p.eq(
                deletions.get(&stream).map_or(0, Vec::len),
                0,
                &format!("{stream}: deletion records of a full-refresh stream"),
            );
            let read: BTreeSet<String> = full.get(&stream).into_iter().flatten().cloned().collect();
            p.same_ids(&read, &server, &format!("full refresh {stream} in read 2"));
        }
    }
    p.finish("airbyte_deletion_records_are_valid_and_name_the_deleted_ids");
}

/// How a glitch answers a stream on one sync.
#[derive(Clone, Copy, Debug)]
enum Glitch {
    /// The list key `[]`, total 0 (`Quirks::empty_streams`).
    Empty,
    /// 403 (`ServerConfig::disabled_features`; on [`LONG`], its second page only:
    /// `failing_paths` with `failing_status` 403, a permission lost in the middle of the list).
    Forbidden,
}

/// Streams of the glitch tests: tags (full table) and accounts (incremental, paged in full),
/// where a row is really deleted before the glitch; contact_tags, a list of 5 pages (read alone,
/// without contacts) where nothing is; lists beside them, which the glitch leaves alone.
const GLITCHED: [&str; 3] = ["tags", "accounts", LONG];
const LONG: &str = "contact_tags";
const BESIDE: &str = "lists";

/// (c i, c ii) One sync answers tags, accounts and contact_tags with an empty list or 403
/// (contact_tags: 403 from its second page on, its first page read), after a tag, an account and
/// a list were really deleted: that sync reports no deletion for them (and says why: a warning
/// naming the stream for an empty list; a failed stream for 403), its tables keep every row;
/// lists, untouched by the glitch, has its deletion. The next sync, the glitch gone, deletes
/// exactly the rows really deleted, and every table equals the server. The guard is off (share
/// 1): a glitch read as "every row gone" would otherwise be held by the guard too, and the rule
/// under test would go unchecked. `full_sweep_hours` is 0: every sync is a complete pass (a
/// stream of more than a page, contact_tags, would otherwise wait for its sweep between syncs).
fn a_glitch_deletes_nothing(glitch: Glitch) {
    let _g = serial();
    let srv = server();
    let mut streams = GLITCHED.to_vec();
    streams.push(BESIDE);
    let guard_off = json!({"deletion_guard_share": 1, "full_sweep_hours": 0});
    let mut w = Warehouse::new(&format!("del-{glitch:?}"), &srv, &streams, guard_off);
    let mut p = Problems::default();
    let first = w.sync();
    assert_eq!(first.run.code, 0, "{}", first.run.stderr);
    w.equals_server(&streams, &mut p, "after sync 1");
    let rows1 = w.rows(&GLITCHED);
    let second_page = srv
        .requests()
        .iter()
        .filter(|r| r.path.contains("/contactTags"))
        .nth(1)
        .and_then(|r| r.path.split_once("/api/3/").map(|(_, q)| q.to_string()))
        .expect("contact_tags paged its own list");

    let before = server_ids(&srv);
    srv.with_dataset(|d| {
        for s in ["tags", "accounts", BESIDE] {
            assert_eq!(d.delete(s, 1).len(), 1);
        }
    });
    let gone = gone_between(&before, &server_ids(&srv));
    srv.with_config(|c| match glitch {
        Glitch::Empty => c.quirks.empty_streams = GLITCHED.iter().map(|s| s.to_string()).collect(),
        Glitch::Forbidden => {
            c.disabled_features = vec!["tags".into(), "accounts".into()];
            c.failing_paths = vec![second_page.clone()];
            c.failing_status = 403;
        }
    });
    let second = w.sync();
    let beside: BTreeMap<String, BTreeSet<String>> = gone
        .iter()
        .filter(|(s, _)| s.as_str() == BESIDE)
        .map(|(s, ids)| (s.clone(), ids.clone()))
        .collect();
    check_singer_deletions(&second, &beside, &mut p, &format!("sync 2 ({glitch:?})"));
    match glitch {
        Glitch::Empty => {
            p.eq(second.run.code, 0, "sync 2 (empty lists): exit code");
            let warned = warnings(&second.run);
            for s in GLITCHED {
                p.check(warned.iter().any(|w| names(w, s)), || {
                    format!("sync 2: no warning names {s} (answered an empty list); warnings: {warned:?}")
                });
            }
        }
        Glitch::Forbidden => {
            p.eq(second.run.code, 1, "sync 2 (403): exit code");
            for s in GLITCHED {
                p.check(reported_failed(&second.run, s), || {
                    format!(
                        "sync 2: {s} (403) not reported failed: {}",
                        second.run.stderr
                    )
                });
            }
        }
    }
    // Nothing deleted downstream: the glitched tables are as sync 1 left them.
    p.eq(w.rows(&GLITCHED), rows1, "sync 2: glitched tables changed");
    w.equals_server(&[BESIDE], &mut p, "after sync 2");

    srv.with_config(|c| {
        c.quirks.empty_streams.clear();
        c.disabled_features.clear();
        c.failing_paths.clear();
    });
    let third = w.sync();
    p.eq(third.run.code, 0, "sync 3: exit code");
    let want: BTreeMap<String, BTreeSet<String>> = gone
        .iter()
        .filter(|(s, _)| s.as_str() != BESIDE)
        .map(|(s, ids)| (s.clone(), ids.clone()))
        .collect();
    check_singer_deletions(&third, &want, &mut p, "sync 3 (glitch gone)");
    w.equals_server(&streams, &mut p, "after sync 3");
    p.finish(&format!("a_glitch_deletes_nothing({glitch:?})"));
}

/// (c i) What breaks it: a pass answered `[]` read as "every row deleted" (the tables lose their
/// rows), no warning, or the empty pass kept as the last complete pass (sync 3 then misses the
/// real deletions and duckdb keeps rows the server no longer has).
#[test]
fn a_stream_answered_with_an_empty_list_deletes_nothing() {
    a_glitch_deletes_nothing(Glitch::Empty);
}

/// (c ii) What breaks it: a 403 stream read as an empty complete pass (its rows deleted), a
/// list refused from its second page on closed as a complete pass of its first page (the other
/// rows deleted), the failure not reported, or the failed pass replacing the last complete one.
#[test]
fn a_stream_answered_403_deletes_nothing() {
    a_glitch_deletes_nothing(Glitch::Forbidden);
}

/// (c iii) A pass resumed from a mid-pass STATE deletes nothing that exists. contact_tags is read
/// alone (its own offset-paged list, 450 rows, 100 a page); sync 2 fails at its second page
/// (`failing_paths`), leaving a STATE that resumes mid-pass; rows before and after the stop are
/// really deleted; sync 3 resumes. Sync 2 reports no deletion (a failed pass); sync 3 reports
/// none or only really deleted ids, and the warehouse keeps every row the server has; sync 4,
/// a complete pass, leaves it equal to the server. The guard is off (share 1), so that a pass
/// that took the ids before the stop for deleted would not be hidden by it; `full_sweep_hours`
/// is 0, so that every sync pages the whole list (between sweeps contact_tags reads only its
/// newest rows).
///
/// What breaks it: a resumed pass compared with the last complete pass as if it were complete
/// (the first page's ids "deleted"); a failed pass's ids saved as the last complete pass (then
/// sync 3 deletes the rows after the stop); a resume that skips rows shifted by the deletions
/// and reports them deleted.
#[test]
fn a_pass_resumed_mid_list_deletes_nothing_that_exists() {
    let _g = serial();
    let srv = server();
    let streams = ["contact_tags"];
    let extra = json!({"max_attempts": 2, "max_retry_wait_seconds": 5, "deletion_guard_share": 1,
        "full_sweep_hours": 0});
    let mut w = Warehouse::new("del-resume", &srv, &streams, extra);
    let mut p = Problems::default();
    let first = w.sync();
    assert_eq!(first.run.code, 0, "{}", first.run.stderr);
    w.equals_server(&streams, &mut p, "after sync 1");
    let pages: Vec<String> = srv
        .requests()
        .iter()
        .filter(|r| r.path.contains("/contactTags"))
        .map(|r| r.path.clone())
        .collect();
    assert!(
        pages.len() >= 5,
        "contact_tags paged its own list: {pages:?}"
    );
    // The second page's request, as the component sent it (`…&offset=99`: pages overlap by one).
    let second_page = pages[1]
        .split_once("/api/3/")
        .map(|(_, r)| r.to_string())
        .unwrap_or_default();

    srv.set_failing_paths(vec![second_page.clone()]);
    let second = w.sync();
    p.eq(
        second.run.code,
        1,
        "sync 2 (fails at the second page): exit code",
    );
    p.check(reported_failed(&second.run, "contact_tags"), || {
        format!(
            "sync 2: contact_tags not reported failed: {}",
            second.run.stderr
        )
    });
    p.check(
        srv.requests()
            .iter()
            .any(|r| r.fault.as_deref() == Some("FailingPath")),
        || format!("sync 2 never asked for {second_page}"),
    );
    check_singer_deletions(&second, &BTreeMap::new(), &mut p, "sync 2 (failed)");
    let state = second
        .messages
        .iter()
        .rfind(|m| m["type"] == "STATE")
        .map(|m| m["value"]["bookmarks"]["contact_tags"].clone())
        .unwrap_or_default();
    p.check(state.to_string().contains("resume"), || {
        format!("sync 2 left no mid-pass resume point: {state}")
    });

    // Rows before the stop (in the first page) and after it.
    let before = server_ids(&srv);
    srv.with_dataset(|d| {
        let ids = d.ids("contact_tags");
        let pick = vec![
            ids[10].clone(),
            ids[60].clone(),
            ids[250].clone(),
            ids[400].clone(),
        ];
        assert_eq!(d.delete_ids("contact_tags", &pick).len(), 4);
    });
    let gone = gone_between(&before, &server_ids(&srv));
    srv.set_failing_paths(vec![]);
    let asked = srv.requests().len();
    let third = w.sync();
    // It really resumed mid-list: its first contact_tags page is not the first page.
    let resumed_at = srv.requests()[asked..]
        .iter()
        .find(|r| r.path.contains("/contactTags"))
        .map(|r| r.path.clone())
        .unwrap_or_default();
    p.check(
        !resumed_at.is_empty() && !resumed_at.contains("offset=0"),
        || {
            format!(
                "sync 3 did not resume mid-list: its first contact_tags request is {resumed_at:?}"
            )
        },
    );
    p.eq(third.run.code, 0, "sync 3 (resumed): exit code");
    let reported = deleted_ids(&singer_deletions(&third.messages), singer_data);
    let allowed = gone.get("contact_tags").cloned().unwrap_or_default();
    let false_deletes: BTreeSet<String> = reported
        .get("contact_tags")
        .into_iter()
        .flatten()
        .filter(|id| !allowed.contains(*id))
        .cloned()
        .collect();
    p.eq(
        false_deletes,
        BTreeSet::new(),
        "sync 3 (resumed): deletion records of rows that exist",
    );
    p.check(reported.keys().all(|s| s == "contact_tags"), || {
        format!("sync 3: deletion records of other streams: {reported:?}")
    });
    // The warehouse keeps every row the server has.
    let rows = w.rows(&streams);
    let kept: BTreeSet<String> = rows
        .get("contact_tags")
        .into_iter()
        .flatten()
        .map(|(id, _)| id.clone())
        .collect();
    let lost: Vec<String> = srv
        .with_dataset(|d| d.ids("contact_tags"))
        .into_iter()
        .filter(|id| !kept.contains(id))
        .collect();
    p.eq(
        lost,
        Vec::new(),
        "after sync 3: rows of the server missing in duckdb",
    );

    let fourth = w.sync();
    p.eq(fourth.run.code, 0, "sync 4: exit code");
    let mut all: Vec<String> = [&third, &fourth]
        .iter()
        .flat_map(|sync| {
            singer_deletions(&sync.messages)
                .remove("contact_tags")
                .unwrap_or_default()
        })
        .map(|m| id_text(&m["record"]["id"]))
        .collect();
    all.sort();
    p.eq(
        all,
        allowed.into_iter().collect::<Vec<_>>(),
        "syncs 3 and 4: every real deletion reported, once in all",
    );
    w.equals_server(&streams, &mut p, "after sync 4");
    p.finish("a_pass_resumed_mid_list_deletes_nothing_that_exists");
}

/// (c iv) The guard: 4 of 12 tags deleted (a third, more than the default 25 % and more than 2
/// rows) are held back with a warning naming tags, while 2 of 5 lists (40 %, but only 2 rows)
/// are deleted; with `deletion_guard_share: 1` the next sync deletes the 4 tags.
///
/// What breaks it: no guard (tags deleted on sync 2), a guard without a warning, a guard that
/// ignores the 2-row floor (the lists held), a guarded pass saved as the last complete pass
/// (sync 3 then finds nothing to delete and duckdb keeps the 4 tags), the share not read from
/// the config. (`full_sweep_hours` 0: every sync a complete pass, whatever the sweep schedule
/// does with small lists.)
#[test]
fn a_pass_deleting_more_than_the_guard_share_deletes_nothing_until_confirmed() {
    let _g = serial();
    let srv = server();
    let streams = ["tags", "lists"];
    let mut w = Warehouse::new("del-guard", &srv, &streams, json!({"full_sweep_hours": 0}));
    let mut p = Problems::default();
    let first = w.sync();
    assert_eq!(first.run.code, 0, "{}", first.run.stderr);
    assert_eq!(srv.with_dataset(|d| d.ids("tags").len()), 12);
    let before = server_ids(&srv);
    srv.with_dataset(|d| {
        assert_eq!(d.delete("tags", 4).len(), 4);
        assert_eq!(d.delete("lists", 2).len(), 2);
    });
    let gone = gone_between(&before, &server_ids(&srv));
    let second = w.sync();
    p.eq(second.run.code, 0, "sync 2: exit code");
    let lists_only: BTreeMap<String, BTreeSet<String>> = gone
        .iter()
        .filter(|(s, _)| s.as_str() == "lists")
        .map(|(s, i)| (s.clone(), i.clone()))
        .collect();
    check_singer_deletions(&second, &lists_only, &mut p, "sync 2 (guard)");
    let warned = warnings(&second.run);
    p.check(warned.iter().any(|w| names(w, "tags")), || {
        format!("sync 2: no warning names tags (a third of its rows gone); warnings: {warned:?}")
    });
    p.check(!warned.iter().any(|w| names(w, "lists")), || {
        format!("sync 2: a warning names lists (2 rows, under the floor): {warned:?}")
    });
    let kept: usize = w.rows(&["tags"]).get("tags").map_or(0, BTreeMap::len);
    p.eq(
        kept,
        12,
        "sync 2: tags rows in duckdb (the guard keeps them)",
    );
    w.equals_server(&["lists"], &mut p, "after sync 2");

    w.reconfigure(json!({"deletion_guard_share": 1, "full_sweep_hours": 0}));
    let third = w.sync();
    p.eq(third.run.code, 0, "sync 3: exit code");
    let tags_only: BTreeMap<String, BTreeSet<String>> = gone
        .iter()
        .filter(|(s, _)| s.as_str() == "tags")
        .map(|(s, i)| (s.clone(), i.clone()))
        .collect();
    check_singer_deletions(
        &third,
        &tags_only,
        &mut p,
        "sync 3 (deletion_guard_share 1)",
    );
    w.equals_server(&streams, &mut p, "after sync 3");
    p.finish("a_pass_deleting_more_than_the_guard_share_deletes_nothing_until_confirmed");
}

/// The helpers' own rules, without the component.
#[test]
fn the_comparison_rules_hold() {
    assert!(same_scalar(&json!("a"), &json!("a")) && !same_scalar(&json!("a"), &json!("b")));
    assert!(same_scalar(&json!(""), &Value::Null) && !same_scalar(&json!("x"), &Value::Null));
    assert!(same_scalar(&json!(5), &json!(5.0)) && same_scalar(&json!(5), &json!("5")));
    assert!(same_scalar(&json!("1.5"), &json!(1.5)) && !same_scalar(&json!(5), &json!(6)));
    assert!(same_scalar(&json!(true), &json!("True")) && !same_scalar(&json!(true), &json!(false)));
    assert!(!same_scalar(&Value::Null, &json!("")) && !same_scalar(&json!("5"), &json!([5])));
    assert!(names("stream 'tags' came back empty", "tags"));
    assert!(!names("contact_tags: 3 deleted", "tags") && !names("tagsx", "tags"));
    assert!(same_scalar(
        &json!("2023-04-22T05:40:43.540012760Z"),
        &json!("2023-04-22T05:40:43.540012")
    ));
    assert!(same_scalar(
        &json!("2023-04-22T00:40:43-05:00"),
        &json!("2023-04-22T05:40:43")
    ));
    assert!(!same_scalar(
        &json!("2023-04-22T05:40:43.540013760Z"),
        &json!("2023-04-22T05:40:43.540012")
    ));
    assert!(!same_scalar(
        &json!("2023-04-22T05:40:43Z"),
        &json!("2023-04-22T05:40:44")
    ));
    // A zoneless time loads as that wall time, never shifted.
    assert!(same_scalar(
        &json!("2023-04-22 05:40:43"),
        &json!("2023-04-22T05:40:43")
    ));
    assert!(!same_scalar(
        &json!("2023-04-22 05:40:43"),
        &json!("2023-04-22T10:40:43")
    ));
    assert!(is_utc_rfc3339(&json!("2025-03-01T10:00:00Z")));
    assert!(is_utc_rfc3339(&json!("2025-03-01T10:00:00.123+00:00")));
    assert!(!is_utc_rfc3339(&json!("2025-03-01T10:00:00-05:00")));
    assert!(!is_utc_rfc3339(&json!("2025-03-01")) && !is_utc_rfc3339(&json!(17)));
    let mut p = Problems::default();
    p.eq(1, 2, "x");
    p.check(false, || "y".into());
    assert_eq!(p.0.len(), 2);
}

/// The streams that deliver rows between sweeps (filtered by the server, newest first, or
/// riding on the changed contacts), by the server's names.
const BETWEEN: [&str; 8] = [
    "contacts",
    "deals",
    "activities",
    "email_activities",
    "contact_tags",
    "contact_automations",
    "contact_lists",
    TICKETS,
];

/// Live (not deletion) record ids of a run, by stream; `data` finds a record's fields.
fn live_ids(messages: &[Value], data: fn(&Value) -> &Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in messages.iter().filter(|m| m["type"] == "RECORD") {
        let d = data(m);
        let deleted = ["_sdc_deleted_at", "_ab_cdc_deleted_at"]
            .iter()
            .any(|c| d.get(c).is_some_and(|v| !v.is_null()));
        let stream = m["stream"].as_str().or(m["record"]["stream"].as_str());
        if let (false, Some(stream)) = (deleted, stream) {
            out.entry(stream.to_string())
                .or_default()
                .insert(id_text(&d["id"]));
        }
    }
    out
}

/// Rows born after a sweep, delivered by a sync between sweeps and deleted before the next
/// sweep: what each stream delivered of them between sweeps (by connector name), after the
/// births on `srv`; the deletions happen before this returns, and `sweep` is then run.
fn born_and_deleted(
    srv: &Server,
    between: impl FnOnce() -> Vec<Value>,
    data: fn(&Value) -> &Value,
) -> BTreeMap<String, BTreeSet<String>> {
    let born: BTreeMap<String, Vec<String>> = srv.with_dataset(|d| {
        BETWEEN
            .iter()
            .map(|s| (s.to_string(), d.insert(s, 2)))
            .collect()
    });
    let delivered = live_ids(&between(), data);
    let mut arrived = BTreeMap::new();
    srv.with_dataset(|d| {
        for (stream, ids) in &born {
            let name = connector_name(stream);
            let got: BTreeSet<String> = ids
                .iter()
                .filter(|id| delivered.get(&name).is_some_and(|s| s.contains(*id)))
                .cloned()
                .collect();
            assert_eq!(d.delete_ids(stream, ids).len(), ids.len(), "{stream}");
            arrived.insert(name, got);
        }
    });
    arrived
}

/// Rows born after a sweep, delivered between sweeps and deleted before the next sweep come as
/// deletion records at that sweep, in every stream that delivers between sweeps, through Singer
/// (target-duckdb with hard_delete then equals the server) and Airbyte (an incremental catalog);
/// no other row is deleted.
///
/// What breaks it: a sweep that compares only with the last complete pass (the rows delivered
/// between sweeps are then never deleted and stay in the warehouse for good).
#[test]
fn rows_born_and_deleted_between_sweeps_are_deleted_at_the_sweep() {
    let _g = serial();
    let mut p = Problems::default();
    // Singer.
    let srv = server();
    let mut w = Warehouse::new("del-born", &srv, &BETWEEN, json!({}));
    assert_eq!(w.sync().run.code, 0, "sync 1");
    let arrived = born_and_deleted(&srv, || w.sync().messages, singer_data);
    w.reconfigure(json!({"full_sweep_hours": 0}));
    let sweep = w.sync();
    p.eq(sweep.run.code, 0, "Singer sweep: exit code");
    check_born(
        &mut p,
        "Singer",
        &arrived,
        deleted_ids(&singer_deletions(&sweep.messages), singer_data),
    );
    w.equals_server(&BETWEEN, &mut p, "Singer: after the sweep");
    // Airbyte.
    let srv = server();
    let s = Scratch::new("del-born-airbyte");
    let wanted: BTreeSet<String> = BETWEEN.iter().map(|n| connector_name(n)).collect();
    let cfg = s.write("c.json", &config_with(&srv, json!({})));
    let streams: Vec<Value> = discover_streams(&s, &cfg)
        .into_iter()
        .filter(|x| wanted.contains(x["name"].as_str().unwrap_or("")))
        .collect();
    let cat = s.write(
        "cat.json",
        &incremental_catalog_to(&streams, "append_dedup"),
    );
    let mut states = BTreeMap::new();
    let mut read = |cfg: &str| {
        let st = s.write("state.json", &state_text(&states));
        let run = wasmtime(
            &s,
            &["read", "--config", cfg, "--catalog", &cat, "--state", &st],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        let msgs = run.messages();
        merge_states(&mut states, &msgs);
        msgs
    };
    read(&cfg);
    let arrived = born_and_deleted(&srv, || read(&cfg), airbyte_data);
    let sweep_cfg = s.write(
        "sweep.json",
        &config_with(&srv, json!({"full_sweep_hours": 0})),
    );
    let msgs = read(&sweep_cfg);
    check_born(
        &mut p,
        "Airbyte",
        &arrived,
        deleted_ids(&airbyte_deletions(&msgs), airbyte_data),
    );
    p.finish("rows_born_and_deleted_between_sweeps_are_deleted_at_the_sweep");
}

/// The sweep's deletion records are exactly the born rows that arrived between sweeps, and
/// they arrived in every stream (contact lists ride on changed contacts: theirs may not).
fn check_born(
    p: &mut Problems,
    how: &str,
    arrived: &BTreeMap<String, BTreeSet<String>>,
    deleted: BTreeMap<String, BTreeSet<String>>,
) {
    for (stream, ids) in arrived {
        p.check(stream == "contact_lists" || ids.len() == 2, || {
            format!(
                "{how}: {stream}: {} of the 2 rows born after the sweep arrived between sweeps",
                ids.len()
            )
        });
    }
    let want: BTreeMap<String, BTreeSet<String>> = arrived
        .iter()
        .filter(|(_, ids)| !ids.is_empty())
        .map(|(s, ids)| (s.clone(), ids.clone()))
        .collect();
    p.eq(
        deleted,
        want,
        &format!("{how}: the sweep's deletion records, by stream"),
    );
}

/// Several syncs with ordinary changes between them, sweeps among them (Singer into
/// target-duckdb with hard_delete): after every sweep each table equals the server, id for id
/// and field for field, whatever was born, changed and deleted between sweeps.
///
/// What breaks it: any row lost or kept for good across syncs between sweeps (a row born and
/// deleted between sweeps, a deletion a partial pass made look final, a change a partial pass
/// moved the cursor past).
#[test]
fn after_every_sweep_the_destination_equals_the_server() {
    let _g = serial();
    let srv = server();
    let mut streams: Vec<&str> = NINE.to_vec();
    streams.extend(BETWEEN.iter().filter(|s| !NINE.contains(s)));
    let mut w = Warehouse::new("del-multi", &srv, &streams, json!({}));
    let mut p = Problems::default();
    assert_eq!(w.sync().run.code, 0, "the first sync");
    // Rows born in a round, delivered by its sync; one of each is deleted in the next round,
    // before the sweep.
    let mut born: Vec<(&str, String)> = Vec::new();
    for day in 1..=2 {
        for round in 0..2 {
            srv.with_dataset(|d| {
                for (s, id) in born.drain(..) {
                    d.delete_ids(s, &[id]);
                }
                for s in BETWEEN {
                    d.touch(s, 1);
                    if let Some(id) = d.insert(s, 2).into_iter().next() {
                        born.push((s, id));
                    }
                }
                d.delete("tags", 1);
                d.insert("tags", 1);
                if round == 0 {
                    d.delete_contacts(1);
                }
            });
            let between = w.sync();
            p.eq(
                between.run.code,
                0,
                &format!("day {day}, sync {round} between sweeps: exit code"),
            );
        }
        w.reconfigure(json!({"full_sweep_hours": 0}));
        let sweep = w.sync();
        p.eq(
            sweep.run.code,
            0,
            &format!("day {day}, the sweep: exit code"),
        );
        w.equals_server(&streams, &mut p, &format!("after the sweep of day {day}"));
        w.reconfigure(json!({}));
    }
    p.finish("after_every_sweep_the_destination_equals_the_server");
}
