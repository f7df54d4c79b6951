//! The engine's rules through `engine::read` on the scripted transport (fast native scenarios):
//! shared helpers here, the tests by topic in the submodules.

use super::{ok, query};
pub(crate) use super::{t, SECOND};
pub(crate) use crate::api::streams::fixed_streams;
pub(crate) use crate::documents::config::Config;
pub(crate) use crate::documents::state::StreamState;
pub(crate) use crate::engine::{read, Client, HttpResponse, Job, Transport, TransportError};
pub(crate) use crate::test_support::{Decision, Fake, Held, Lines};
pub(crate) use serde_json::{json, Value};
pub(crate) use std::cell::RefCell;
pub(crate) use std::rc::Rc;

/// A `Date` the scripted server sends with every answer.
pub(crate) const SERVER_DATE: &str = "Fri, 01 Mar 2024 12:00:00 GMT";

/// Runs one incremental `deals` read (cursor `mdate`, server filter `filters[updated_after]`,
/// one short page) and returns the paths requested and the last state written.
pub(crate) fn deals_pass(
    extra_config: Value,
    state: StreamState,
    mdates: &[&str],
) -> (Vec<String>, Value) {
    let mut cfg =
        json!({"api_url": "http://127.0.0.1:1", "api_key": "k", "requests_per_second": 5});
    for (k, v) in extra_config.as_object().unwrap() {
        cfg[k] = v.clone();
    }
    let cfg = Config::parse(&cfg.to_string()).unwrap();
    let recs: Vec<Value> = mdates
        .iter()
        .enumerate()
        .map(|(i, d)| json!({"id": (i + 1).to_string(), "mdate": d}))
        .collect();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let log = seen.clone();
    let mut fake = Fake::new(SECOND, move |p: &str| {
        log.borrow_mut().push(p.to_string());
        Ok(HttpResponse {
            status: 200,
            headers: vec![("date".into(), SERVER_DATE.into())],
            body: json!({"deals": recs, "meta": {"total": recs.len().to_string()}})
                .to_string()
                .into_bytes(),
        })
    });
    let job = Job {
        def: fixed_streams()
            .into_iter()
            .find(|d| d.name == "deals")
            .unwrap(),
        incremental: true,
        state,
        deletions: false,
    };
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let summary = read(&mut client, &cfg, vec![job], &mut sink);
    assert!(summary.streams[0].failure.is_none(), "{:?}", summary);
    let last_state = sink
        .0
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .rfind(|v| v["type"] == "STATE")
        .map(|v| v["state"]["stream"]["stream_state"].clone())
        .unwrap();
    let paths = seen.borrow().clone();
    (paths, last_state)
}

/// The `filters[updated_after]` value of a requested path, decoded.
pub(crate) fn updated_after(path: &str) -> Option<String> {
    let q = path.split_once('?')?.1;
    q.split('&').find_map(|kv| {
        kv.strip_prefix("filters%5Bupdated_after%5D=")
            .map(|v| v.replace("%3A", ":").replace("%2B", "+"))
    })
}

/// A config for the client tests.
pub(crate) fn client_config(extra: Value) -> Config {
    let mut cfg =
        json!({"api_url": "http://127.0.0.1:1", "api_key": "k", "requests_per_second": 5});
    for (k, v) in extra.as_object().unwrap() {
        cfg[k] = v.clone();
    }
    Config::parse(&cfg.to_string()).unwrap()
}

/// An answer with a status and headers.
pub(crate) fn answer(status: u16, headers: &[(&str, &str)]) -> Result<HttpResponse, String> {
    Ok(HttpResponse {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: b"{}".to_vec(),
    })
}

/// A transport that counts the most requests in flight at once.
pub(crate) struct Counting {
    pub(crate) inner: Fake,
    pub(crate) most: usize,
}

/// The scripted transport, counting what is pending after each start.
impl Transport for Counting {
    fn start(&mut self, ticket: u64, path: &str) -> Result<(), TransportError> {
        self.inner.start(ticket, path)?;
        self.most = self.most.max(self.inner.pending.len());
        Ok(())
    }
    fn wait(&mut self, deadline: u64) -> Vec<(u64, Result<HttpResponse, TransportError>)> {
        self.inner.wait(deadline)
    }
    fn now_ns(&mut self) -> u64 {
        self.inner.now_ns()
    }
    fn wall_ms(&mut self) -> u64 {
        self.inner.wall_ms()
    }
}

/// A `tags` list of `n` records (ids 1..=n), offset paging, with its total.
pub(crate) fn tags(n: u64) -> impl FnMut(&str) -> Result<HttpResponse, String> {
    move |p: &str| {
        let off: u64 = crate::test_support::offset_of(p);
        let recs: Vec<Value> = (off + 1..=n.min(off + 100))
            .map(|i| json!({"id": i.to_string()}))
            .collect();
        Ok(HttpResponse {
            status: 200,
            headers: vec![],
            body: json!({"tags": recs, "meta": {"total": n.to_string()}})
                .to_string()
                .into_bytes(),
        })
    }
}

/// A full-refresh `tags` job with a saved state.
pub(crate) fn tags_job(state: StreamState) -> Job {
    Job {
        def: fixed_streams()
            .into_iter()
            .find(|d| d.name == "tags")
            .unwrap(),
        incremental: false,
        state,
        deletions: false,
    }
}

/// The ids of a stream's RECORD lines, in output order.
pub(crate) fn ids(lines: &[String], stream: &str) -> Vec<u64> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["type"] == "RECORD" && v["record"]["stream"] == stream)
        .filter_map(|v| v["record"]["data"]["id"].as_str()?.parse().ok())
        .collect()
}

/// Runs `jobs` against a server whose every list is empty; returns the paths requested.
pub(crate) fn plan_paths(cfg: Value, jobs: Vec<Job>) -> Vec<String> {
    let cfg = client_config(cfg);
    let seen = Rc::new(RefCell::new(Vec::<String>::new()));
    let log = seen.clone();
    let mut fake = Fake::new(1_000_000, move |p: &str| {
        log.borrow_mut().push(p.to_string());
        let body = json!({"contacts": [], "contactTags": [], "deals": [], "fields": [],
            "fieldOptions": [], "fieldRels": [], "records": [], "tags": []});
        Ok(HttpResponse {
            status: 200,
            headers: vec![],
            body: body.to_string().into_bytes(),
        })
    });
    let mut client = Client::new(&mut fake, &cfg);
    let s = read(&mut client, &cfg, jobs, &mut Lines::default());
    assert!(
        s.streams.iter().all(|x| x.failure.is_none()),
        "{:?}",
        s.streams
    );
    let paths = seen.borrow().clone();
    paths
}

/// A job for a fixed stream.
/// `state` with a complete pass on record from just before the scripted transport's clock, so
/// a stream tracking deletions is between sweeps (its sweep, 24 h by default, not yet due).
pub(crate) fn between_sweeps(state: StreamState) -> StreamState {
    StreamState {
        seen: state.seen.or_else(|| {
            Some(crate::documents::state::Baseline::new(
                Default::default(),
                t("2023-11-14T12:00:00Z"),
            ))
        }),
        ..state
    }
}

/// `state` with no complete pass on record: a stream tracking deletions is due for its sweep.
pub(crate) fn sweep_due(state: StreamState) -> StreamState {
    StreamState {
        seen: None,
        ..state
    }
}

pub(crate) fn job_of(name: &str, incremental: bool, state: StreamState) -> Job {
    let def = fixed_streams()
        .into_iter()
        .find(|d| d.name == name)
        .unwrap();
    Job {
        def,
        incremental,
        state,
        deletions: false,
    }
}

/// A state whose cursor is 2024-03-01T00:00:00Z.
pub(crate) fn with_cursor() -> StreamState {
    StreamState {
        cursor: Some(t("2024-03-01T00:00:00Z")),
        ..Default::default()
    }
}

/// The requested paths of one API path.
pub(crate) fn request_for<'a>(paths: &'a [String], path: &str) -> Vec<&'a String> {
    paths
        .iter()
        .filter(|p| p.contains(&format!("/{path}?")))
        .collect()
}

/// The server filter's query key, as encoded in a path.
pub(crate) const FILTER: &str = "filters%5Bupdated_after%5D=";

/// A scripted answer by path.
pub(crate) type Answer = Box<dyn FnMut(&str) -> Result<HttpResponse, String>>;

/// A scripted answer by page offset.
pub(crate) type ByOffset = Box<dyn FnMut(u64) -> Result<HttpResponse, TransportError>>;

/// A read of custom objects `o1`, `o2`, … (one per answer function, by schema id) with `extra`
/// config; returns the summary, the output lines and the starts (time, path).
pub(crate) fn read_objects(
    extra: Value,
    answers: Vec<ByOffset>,
) -> (crate::engine::ReadSummary, Vec<String>, Vec<(u64, String)>) {
    let cfg = client_config(extra);
    let n = answers.len();
    let answers = Rc::new(RefCell::new(answers));
    let mut fake = Fake::typed(1_000_000, move |p: &str| {
        let id: usize = p
            .split("customObjects/records/")
            .nth(1)
            .and_then(|r| r.split('?').next())
            .and_then(|v| v.parse().ok())
            .unwrap();
        let off: u64 = crate::test_support::offset_of(p);
        (answers.borrow_mut()[id - 1])(off)
    });
    let jobs = custom_object_jobs(n);
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let s = read(&mut client, &cfg, jobs, &mut sink);
    (s, sink.0, fake.starts)
}

/// A 200 page of custom-object records with ids `first..=last` (empty when first > last).
pub(crate) fn page(first: u64, last: u64) -> Result<HttpResponse, String> {
    let recs: Vec<Value> = (first..=last)
        .map(|i| json!({"id": i.to_string()}))
        .collect();
    Ok(HttpResponse {
        status: 200,
        headers: vec![],
        body: json!({"records": recs}).to_string().into_bytes(),
    })
}

/// A contacts answer over ids `1..=last` honouring id_greater / id_less (unless `ignore_after`)
/// and `orders[id]=DESC`.
pub(crate) fn keyset_server(
    last: u64,
    ignore_after: bool,
) -> impl FnMut(&str) -> Result<HttpResponse, String> {
    keyset_server_over((1..=last).collect(), ignore_after, false)
}

/// [`keyset_server`] over the given ids (rising), `id_less` ignored too when `ignore_less`.
pub(crate) fn keyset_server_over(
    all: Vec<u64>,
    ignore_after: bool,
    ignore_less: bool,
) -> impl FnMut(&str) -> Result<HttpResponse, String> {
    move |p: &str| {
        let recs: Vec<Value> = keyset_ids(&all, p, ignore_after, ignore_less)
            .iter()
            .map(|i| json!({"id": i.to_string()}))
            .collect();
        ok(json!({ "contacts": recs }))
    }
}

/// The ids of `all` (rising) that the keyset page `path` asks for: inside `(id_greater,
/// id_less)`, each bound unless ignored, highest first for `orders[id]=DESC`, at most 100.
pub(crate) fn keyset_ids(
    all: &[u64],
    path: &str,
    ignore_after: bool,
    ignore_less: bool,
) -> Vec<u64> {
    let bound = |k: &str, ignore: bool| {
        query(path, k)
            .filter(|_| !ignore)
            .and_then(|v| v.parse::<u64>().ok())
    };
    let after = bound("id_greater", ignore_after).unwrap_or(0);
    let below = bound("id_less", ignore_less).unwrap_or(u64::MAX);
    let mut ids: Vec<u64> = all
        .iter()
        .copied()
        .filter(|&i| i > after && i < below)
        .collect();
    if path.contains("orders%5Bid%5D=DESC") {
        ids.reverse();
    }
    ids.truncate(100);
    ids
}

/// A list endpoint over `n` records with ids 1..=n, offset paging.
pub(crate) fn list(key: &'static str, n: u64) -> impl FnMut(&str) -> Result<HttpResponse, String> {
    move |path: &str| {
        let off: u64 = query(path, "offset")
            .and_then(|o| o.parse().ok())
            .unwrap_or(0);
        let recs: Vec<Value> = (off + 1..=n.min(off + 100)).map(|i| json!({"id": i.to_string(), "udate": format!("2024-01-01T00:00:{:02}Z", i % 60)})).collect();
        ok(json!({key: recs, "meta": {"total": n.to_string()}}))
    }
}

/// A contacts endpoint over the given ids with keyset paging and `include=contactTags`.
pub(crate) fn contacts_answer(ids: Vec<u64>) -> impl FnMut(&str) -> Result<HttpResponse, String> {
    move |p: &str| {
        let after: u64 = query(p, "id_greater")
            .and_then(|o| o.parse().ok())
            .unwrap_or(0);
        let below: u64 = query(p, "id_less")
            .and_then(|o| o.parse().ok())
            .unwrap_or(u64::MAX);
        let page = keyset_ids(&ids, p, false, false);
        let total = ids.iter().filter(|&&i| i > after && i < below).count();
        let recs: Vec<Value> = page
            .iter()
            .map(|i| json!({"id": i.to_string(), "udate": "2024-01-01T00:00:00Z"}))
            .collect();
        let mut body = json!({"contacts": recs, "meta": {"total": total.to_string()}});
        if query(p, "include").is_some_and(|v| v.contains("contactTags")) {
            body["contactTags"] = json!(page
                .iter()
                .map(|i| json!({"id": format!("t{i}"), "contact": i.to_string()}))
                .collect::<Vec<_>>());
        }
        ok(body)
    }
}

/// Full-refresh jobs of custom objects `o1` … `on` (schema ids 1 … n).
pub(crate) fn custom_object_jobs(n: usize) -> Vec<Job> {
    (1..=n)
        .map(|i| Job {
            def: crate::api::streams::custom_object_stream(&format!("o{i}"), &i.to_string()),
            incremental: false,
            state: StreamState::default(),
            deletions: false,
        })
        .collect()
}
