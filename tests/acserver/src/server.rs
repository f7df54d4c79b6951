//! The HTTP server: accept loop, per-connection threads, auth, rate limit, faults and logging.

use crate::accounts::{self, AnswerCache, Windows};
use crate::api::{self, Reply};
use crate::data::Dataset;
use crate::http::{read_request, ReadError, Request, Response};
use crate::query::Query;
use crate::quirks::Quirks;
use crate::rng::{combine, Rng};
use serde_json::json;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Expected `Api-Token` header; a wrong or missing one gets 403 `{"message":...}`.
    pub api_key: String,
    /// Most requests that may begin within any 1000 ms (per account); `None` = unlimited.
    pub rate_limit_per_sec: Option<u32>,
    /// Sleep before answering each request, in milliseconds.
    pub latency_ms: u64,
    /// Probability (0.0..=1.0) that an answer is a fault.
    pub fault_rate: f64,
    /// Which faults to mix (an empty list disables faults).
    pub fault_kinds: Vec<FaultKind>,
    /// Seed of the fault choice (combined with the request counter).
    pub fault_seed: u64,
    /// Requests whose target after `/api/3/` (path and query as received, or percent-decoded)
    /// starts with one of these always get a 500: `"contactTags"` fails every contactTags page,
    /// `"contactTags?limit=100&offset=300"` only that one.
    pub failing_paths: Vec<String>,
    /// The status `failing_paths` answer with: 500 (the default, `{"message": "Internal Server
    /// Error"}`), or 403 with the permission error `disabled_features` answer (a permission lost
    /// in the middle of a read: `"contactTags?limit=100&offset=99"` refuses one page).
    pub failing_status: u16,
    /// Features answered with 403 (`accounts`, `deals`, `ecommerce`, `custom_objects`, a stream name or a path).
    pub disabled_features: Vec<String>,
    /// Also append each request log entry as a JSON line to this file.
    pub log_path: Option<PathBuf>,
    /// Behaviours of the real API that lose records when trusted (all off by default).
    pub quirks: Quirks,
    /// Read date filter values (`filters[updated_after]`, `after`, …) in the account's zone,
    /// ignoring the zone they name (`Z`, `-05:00`): see `modes::without_zone`. Off by default.
    pub filters_in_account_zone: bool,
    /// Serve record links (`https://acct.api-us1.com/…`) under this origin instead, e.g. an
    /// [`crate::EgressListener`]'s URL. Off (None) by default.
    pub link_origin: Option<String>,
    /// Send `RateLimit-Limit` / `RateLimit-Remaining` on answers (the limit is enforced either way).
    pub rate_limit_headers: bool,
    /// Arrival jitter: after accepting a connection, wait a random 0..=N ms before reading its
    /// request (as a TCP and TLS handshake would), so the rate limit counts arrivals, not starts.
    pub arrival_jitter_ms: u64,
    /// Load-test mode: serve one account per key here (each its own rate window, requests
    /// logged with its index), on the same data; `api_key` is then no account's key. Empty (the
    /// default) = one account, `api_key`. See `accounts.rs`.
    pub account_keys: Vec<String>,
    /// Load-test mode: reuse the serialised answer to a GET of the same target while no fault,
    /// failing path or quirk is on and the dataset has not changed. Off by default.
    pub cache_answers: bool,
    /// Load-test mode: a request's start (rate window and log) is when the kernel received its
    /// first bytes, not when a server thread read them; see `arrival.rs`. Off by default,
    /// and unused with `arrival_jitter_ms`.
    pub kernel_arrival: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            api_key: "test-key".to_string(),
            rate_limit_per_sec: Some(5),
            latency_ms: 0,
            fault_rate: 0.0,
            fault_kinds: FaultKind::ALL.to_vec(),
            fault_seed: 0,
            failing_paths: Vec::new(),
            failing_status: 500,
            disabled_features: Vec::new(),
            log_path: None,
            quirks: Quirks::default(),
            filters_in_account_zone: false,
            link_origin: None,
            rate_limit_headers: true,
            arrival_jitter_ms: 0,
            account_keys: Vec::new(),
            cache_answers: false,
            kernel_arrival: false,
        }
    }
}

/// A kind of injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// 500 with `{"message":"Internal Server Error"}`.
    Status500,
    /// 502 with an HTML body.
    Status502,
    /// 503 with an HTML body.
    Status503,
    /// 429 with `Retry-After: 1`, as from the rate limiter.
    Status429,
    /// 403 `{"message":"Forbidden"}` even with a good key.
    IntermittentForbidden,
    /// The request is read, then the socket is closed without an answer.
    ConnectionReset,
    /// The real status and a Content-Length of the full body, but only half the body is sent.
    TruncatedBody,
    /// 200 with the first half of the real JSON body (and a matching Content-Length).
    InvalidJson,
    /// 200 with an HTML page.
    HtmlErrorPage,
    /// 200 with an empty body.
    EmptyBody,
}

impl FaultKind {
    /// Every fault kind.
    pub const ALL: [FaultKind; 10] = [
        FaultKind::Status500,
        FaultKind::Status502,
        FaultKind::Status503,
        FaultKind::Status429,
        FaultKind::IntermittentForbidden,
        FaultKind::ConnectionReset,
        FaultKind::TruncatedBody,
        FaultKind::InvalidJson,
        FaultKind::HtmlErrorPage,
        FaultKind::EmptyBody,
    ];

    /// The name used in the request log (the variant name, e.g. `"Status503"`).
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Status500 => "Status500",
            FaultKind::Status502 => "Status502",
            FaultKind::Status503 => "Status503",
            FaultKind::Status429 => "Status429",
            FaultKind::IntermittentForbidden => "IntermittentForbidden",
            FaultKind::ConnectionReset => "ConnectionReset",
            FaultKind::TruncatedBody => "TruncatedBody",
            FaultKind::InvalidJson => "InvalidJson",
            FaultKind::HtmlErrorPage => "HtmlErrorPage",
            FaultKind::EmptyBody => "EmptyBody",
        }
    }

    /// The kind with this name (case-insensitive), if any.
    pub fn parse(name: &str) -> Option<FaultKind> {
        FaultKind::ALL
            .iter()
            .copied()
            .find(|k| k.name().eq_ignore_ascii_case(name.trim()))
    }
}

/// One request as seen by the server.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedRequest {
    /// Milliseconds since server start, taken when the request line had been read.
    pub start_ms: f64,
    /// Path and query as received.
    pub path: String,
    /// Status answered (0 when the connection was closed without an answer).
    pub status: u16,
    /// The injected fault's name ([`FaultKind::name`]), or `"FailingPath"` for a `failing_paths`
    /// answer.
    pub fault: Option<String>,
    /// Whether the `Api-Token` header was correct.
    pub api_token_ok: bool,
    /// The account whose key the request carried, when the server serves several
    /// ([`ServerConfig::account_keys`]); `None` otherwise.
    pub account: Option<usize>,
    /// With [`ServerConfig::kernel_arrival`], when the server read the request line (ms since
    /// server start; `start_ms` is then the kernel's arrival time).
    pub read_ms: Option<f64>,
}

type Job = Box<dyn FnOnce(&mut Dataset) + Send>;

struct Pending {
    answered: u64,
    jobs: Vec<(u64, Job)>,
}

struct Shared {
    config: Mutex<ServerConfig>,
    dataset: Mutex<Dataset>,
    log: Mutex<Vec<LoggedRequest>>,
    log_file: Mutex<Option<File>>,
    /// Each account's recent starts (one window unless `account_keys` names several accounts).
    starts: Windows,
    /// Serialised answers, when `cache_answers` is on.
    cache: AnswerCache,
    pending: Mutex<Pending>,
    seq: AtomicU64,
    /// API requests answered, for [`Quirks::churn_every`], and the ids churn added per stream.
    churn_count: AtomicU64,
    churned_in: Mutex<std::collections::BTreeMap<String, Vec<String>>>,
    /// Connections accepted (seeds each one's arrival jitter).
    conns: AtomicU64,
    stop: AtomicBool,
    started: Instant,
}

/// Locks a mutex, recovering the data if another thread panicked while holding it.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running test server.
pub struct Server {
    shared: Arc<Shared>,
    port: u16,
    accept: Option<JoinHandle<()>>,
}

/// How a prepared answer goes out on the socket.
enum Delivery {
    Full,
    Truncated,
    Reset,
}

impl Server {
    /// Starts serving `dataset` on 127.0.0.1 with an OS-chosen port.
    pub fn start(config: ServerConfig, dataset: Dataset) -> std::io::Result<Server> {
        Server::start_on(0, config, dataset)
    }

    /// Starts serving on 127.0.0.1:`port` (0 = any free port).
    pub fn start_on(port: u16, config: ServerConfig, dataset: Dataset) -> std::io::Result<Server> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
        let port = listener.local_addr()?.port();
        if config.kernel_arrival && !crate::arrival::enable(&listener) {
            eprintln!("ac-test-server: no kernel arrival stamps here; requests start when read");
        }
        let log_file = match &config.log_path {
            Some(p) => Some(OpenOptions::new().create(true).append(true).open(p)?),
            None => None,
        };
        let windows = Windows::new(config.account_keys.len());
        let shared = Arc::new(Shared {
            config: Mutex::new(config),
            dataset: Mutex::new(dataset),
            log: Mutex::new(Vec::new()),
            log_file: Mutex::new(log_file),
            starts: windows,
            cache: AnswerCache::default(),
            pending: Mutex::new(Pending {
                answered: 0,
                jobs: Vec::new(),
            }),
            seq: AtomicU64::new(0),
            churn_count: AtomicU64::new(0),
            churned_in: Mutex::new(Default::default()),
            conns: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            started: Instant::now(),
        });
        let sh = Arc::clone(&shared);
        let accept = std::thread::Builder::new()
            .name("ac-accept".into())
            .spawn(move || accept_loop(listener, sh))?;
        Ok(Server {
            shared,
            port,
            accept: Some(accept),
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT` (without `/api/3`).
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request logged so far, in the order they were answered.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.shared.log).clone()
    }

    /// The most request starts (of all requests) within any half-open window `[t, t + window_ms)`.
    pub fn max_starts_in_window(&self, window_ms: f64) -> usize {
        let mut starts: Vec<f64> = lock(&self.shared.log).iter().map(|r| r.start_ms).collect();
        max_in_window(&mut starts, window_ms)
    }

    /// How many logged requests were answered with `status`.
    pub fn count_status(&self, status: u16) -> usize {
        lock(&self.shared.log)
            .iter()
            .filter(|r| r.status == status)
            .count()
    }

    /// Ids that [`Quirks::churn_every`] added to `stream` so far (with the dataset's initial and
    /// current ids, every id the stream ever had).
    pub fn churn_inserted(&self, stream: &str) -> Vec<String> {
        lock(&self.shared.churned_in)
            .get(stream)
            .cloned()
            .unwrap_or_default()
    }

    /// Runs `f` on the live dataset (holding its lock).
    pub fn with_dataset<R>(&self, f: impl FnOnce(&mut Dataset) -> R) -> R {
        let r = f(&mut lock(&self.shared.dataset));
        self.shared.cache.clear();
        r
    }

    /// Runs `f` on the live config (holding its lock), e.g. between two syncs:
    /// `srv.with_config(|c| c.quirks.empty_streams = vec!["tags".into()])`. Every request
    /// answered after it sees the change (cached answers are dropped). What is read only at
    /// [`Server::start`] — `log_path`, `account_keys`, `kernel_arrival` — keeps its start value.
    pub fn with_config<R>(&self, f: impl FnOnce(&mut ServerConfig) -> R) -> R {
        let r = f(&mut lock(&self.shared.config));
        self.shared.cache.clear();
        r
    }

    /// Changes the fault probability (clamped to 0..=1).
    pub fn set_fault_rate(&self, rate: f64) {
        lock(&self.shared.config).fault_rate = if rate.is_nan() {
            0.0
        } else {
            rate.clamp(0.0, 1.0)
        };
    }

    /// Replaces the list of always-500 path prefixes.
    pub fn set_failing_paths(&self, paths: Vec<String>) {
        lock(&self.shared.config).failing_paths = paths;
    }

    /// Runs `f` once, right after the `requests`-th request from now has been answered (its
    /// answer is decided and logged; `f` runs before the bytes are written, so the client's next
    /// request sees the change). `requests == 0` runs it immediately.
    pub fn mutate_after(&self, requests: usize, f: Box<dyn FnOnce(&mut Dataset) + Send>) {
        if requests == 0 {
            f(&mut lock(&self.shared.dataset));
            self.shared.cache.clear();
            return;
        }
        let mut p = lock(&self.shared.pending);
        let at = p.answered + requests as u64;
        p.jobs.push((at, f));
    }

    /// Stops accepting and joins the accept thread (also done on drop).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(handle) = self.accept.take() {
            self.shared.stop.store(true, Ordering::SeqCst);
            // Wake the blocking accept().
            if TcpStream::connect_timeout(
                &SocketAddr::from(([127, 0, 0, 1], self.port)),
                Duration::from_secs(2),
            )
            .is_ok()
            {
                let _ = handle.join();
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Most values of `starts` within any half-open window of `window_ms` starting at a value.
fn max_in_window(starts: &mut [f64], window_ms: f64) -> usize {
    starts.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let mut best = 0;
    let mut j = 0;
    for i in 0..starts.len() {
        if j < i {
            j = i;
        }
        while j < starts.len() && starts[j] < starts[i] + window_ms {
            j += 1;
        }
        best = best.max(j - i);
    }
    best
}

/// Registers a start and counts the starts within the 1000 ms before it (itself included).
/// Starts after it (a request that began later but was registered first) do not count: they
/// are in a later second.
fn count_recent(starts: &mut Vec<Instant>, now: Instant) -> usize {
    starts.push(now);
    starts.retain(|s| now.saturating_duration_since(*s) < Duration::from_secs(2));
    starts
        .iter()
        .filter(|s| **s <= now && now.duration_since(**s) < Duration::from_millis(1000))
        .count()
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let conn = listener.accept();
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        match conn {
            Ok((stream, _)) => {
                let sh = Arc::clone(&shared);
                let _ = std::thread::Builder::new()
                    .name("ac-conn".into())
                    .spawn(move || handle_connection(&sh, stream));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

fn too_many(limit: u32) -> Response {
    Response::json(429, &json!({"message": "Too Many Requests"}))
        .with("Retry-After", "1")
        .with("RateLimit-Limit", limit.to_string())
        .with("RateLimit-Remaining", "0")
}

fn html_status(status: u16) -> Response {
    let title = format!("{status} {}", crate::http::reason(status));
    Response::html(
        status,
        &format!("<html><body><h1>{title}</h1></body></html>"),
    )
}

fn handle_connection(shared: &Shared, mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_nodelay(true);
    let jittered = arrival_jitter(shared);
    let arrived = match lock(&shared.config).kernel_arrival && !jittered {
        true => crate::arrival::first_byte_at(&stream),
        false => None,
    };
    let mut req = match read_request(&mut stream) {
        Ok(r) => r,
        Err(ReadError::Malformed(start)) | Err(ReadError::TooLarge(start)) => {
            let start = start.unwrap_or_else(Instant::now);
            let resp = Response::json(400, &json!({"message": "Bad Request"}));
            record(shared, start, String::new(), 400, None, (false, None, None));
            let _ = resp.write_to(&mut stream);
            let _ = stream.shutdown(Shutdown::Both);
            return;
        }
        Err(_) => return,
    };
    // The server's "now" is the data's logical clock, read before the answer is computed, so
    // every record the answer shows changed at or before its Date (as on the real API).
    let now = lock(&shared.dataset).now();
    // With kernel stamps, the start is the arrival; the read time is logged beside it.
    let read_at = arrived.map(|t| std::mem::replace(&mut req.start, t));
    let account = accounts::account_of(&lock(&shared.config).account_keys, &req);
    let (resp, fault, delivery) = answer(shared, &req, account);
    churn(shared, &req, resp.status);
    let resp = resp.with("Date", crate::time::fmt_http_date(now));
    let status = if matches!(delivery, Delivery::Reset) {
        0
    } else {
        resp.status
    };
    let token_ok = token_matches(shared, &req);
    record(
        shared,
        req.start,
        req.target.clone(),
        status,
        fault,
        (token_ok, account, read_at),
    );
    let _ = match delivery {
        Delivery::Full => resp.write_to(&mut stream),
        Delivery::Truncated => resp.write_truncated(&mut stream),
        Delivery::Reset => Ok(()),
    };
    let _ = stream.shutdown(Shutdown::Both);
}

/// Sleeps a random 0..=`arrival_jitter_ms` before a connection's request is read (off at 0);
/// whether it is on.
fn arrival_jitter(shared: &Shared) -> bool {
    let (max_ms, seed) = {
        let c = lock(&shared.config);
        (c.arrival_jitter_ms, c.fault_seed)
    };
    if max_ms == 0 {
        return false;
    }
    let n = shared.conns.fetch_add(1, Ordering::SeqCst);
    let mut rng = Rng::new(combine(seed ^ 0x6a17_7e55, n));
    let us = rng.below(max_ms * 1000 + 1);
    std::thread::sleep(Duration::from_micros(us));
    true
}

fn token_matches(shared: &Shared, req: &Request) -> bool {
    let cfg = lock(&shared.config);
    match req.header("api-token") {
        Some(t) if cfg.account_keys.is_empty() => t == cfg.api_key,
        Some(t) => cfg.account_keys.iter().any(|k| k == t),
        None => false,
    }
}

/// Decides the answer to one request.
fn answer(
    shared: &Shared,
    req: &Request,
    account: Option<usize>,
) -> (Response, Option<String>, Delivery) {
    let seq = shared.seq.fetch_add(1, Ordering::SeqCst);
    let cfg = lock(&shared.config).clone();
    // Test-only admin route, outside the API and its rate limit: `/__admin/change?stream=S&touch=N&insert=N&delete=N`
    // updates, adds and deletes records (demos of incremental syncs use it between two runs).
    if req.path() == "/__admin/change" {
        let q = crate::query::Query::parse(req.query());
        let stream = q.get("stream").unwrap_or("contacts").to_string();
        let n = |k: &str| {
            q.get(k)
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0)
                .min(10_000)
        };
        let mut ds = lock(&shared.dataset);
        if !ds.stream_names().contains(&stream) {
            return (
                Response::json(404, &json!({"message": format!("no stream {stream}")})),
                None,
                Delivery::Full,
            );
        }
        let touched = ds.touch(&stream, n("touch"));
        let inserted = ds.insert(&stream, n("insert"));
        // A deleted contact takes its tags, list memberships and field values with it.
        let deleted = match stream.as_str() {
            "contacts" => ds.delete_with_children(
                "contacts",
                n("delete"),
                &[
                    "contact_tags",
                    "contact_lists",
                    "contact_custom_field_values",
                ],
                "contact",
            ),
            _ => ds.delete(&stream, n("delete")),
        };
        shared.cache.clear();
        return (
            Response::json(
                200,
                &json!({"stream": stream, "touched": touched, "inserted": inserted, "deleted": deleted}),
            ),
            None,
            Delivery::Full,
        );
    }
    let recent = count_recent(&mut shared.starts.of(account), req.start);
    if cfg.latency_ms > 0 {
        std::thread::sleep(Duration::from_millis(cfg.latency_ms));
    }
    let rate_headers = |r: Response| match cfg.rate_limit_per_sec {
        Some(_) if !cfg.rate_limit_headers => r,
        Some(l) => r.with("RateLimit-Limit", l.to_string()).with(
            "RateLimit-Remaining",
            (l as usize).saturating_sub(recent).to_string(),
        ),
        None => r,
    };
    if let Some(limit) = cfg.rate_limit_per_sec {
        if recent > limit as usize {
            return (too_many(limit), None, Delivery::Full);
        }
    }
    if req.method != "GET" {
        let r = Response::json(405, &json!({"message": "Method Not Allowed"})).with("Allow", "GET");
        return (rate_headers(r), None, Delivery::Full);
    }
    if !token_matches(shared, req) {
        let r = Response::json(
            403,
            &json!({"message": "No valid Api-Token was provided: you are not authorized to access this resource"}),
        );
        return (rate_headers(r), None, Delivery::Full);
    }
    let path = crate::query::percent_decode(req.path(), false);
    let rest = api::api_rest(&path).unwrap_or("");
    // Failing paths match the path after /api/3/ with the query as received (raw or decoded).
    let raw_rest = req
        .target
        .split_once("/api/3/")
        .map(|(_, r)| r)
        .unwrap_or("");
    let decoded_rest = crate::query::percent_decode(raw_rest, false);
    let failing = |p: &String| {
        let p = p.trim_start_matches('/');
        !p.is_empty() && (raw_rest.starts_with(p) || decoded_rest.starts_with(p))
    };
    if !rest.is_empty() && cfg.failing_paths.iter().any(failing) {
        let r = match cfg.failing_status {
            403 => Response::json(
                403,
                &json!({"errors": [{"status": 403, "title": "Forbidden", "detail": format!("You do not have permission to view {rest}.")}]}),
            ),
            status => Response::json(status, &json!({"message": crate::http::reason(status)})),
        };
        return (
            rate_headers(r),
            Some("FailingPath".to_string()),
            Delivery::Full,
        );
    }
    let mut fault = None;
    if cfg.fault_rate > 0.0 && !cfg.fault_kinds.is_empty() && rest != "users/me" {
        let mut rng = Rng::new(combine(cfg.fault_seed, seq));
        if rng.unit() < cfg.fault_rate {
            fault = cfg
                .fault_kinds
                .get(rng.below(cfg.fault_kinds.len() as u64) as usize)
                .copied();
        }
    }
    if cfg.quirks.schemas_unavailable && rest == "customObjects/schemas" {
        return (rate_headers(html_status(503)), None, Delivery::Full);
    }
    let mut query = Query::parse(req.query());
    if cfg.filters_in_account_zone {
        crate::modes::zone_blind(&mut query);
    }
    let plain = || {
        let Reply { status, mut body } = api::route_with(
            &path,
            &query,
            &lock(&shared.dataset),
            &cfg.disabled_features,
            &cfg.quirks,
        );
        if let Some(origin) = &cfg.link_origin {
            crate::modes::relink(&mut body, origin);
        }
        let mut r = Response::json(status, &body);
        if body.is_null() {
            // The empty-body quirk.
            r.body.clear();
        }
        r
    };
    let normal = || rate_headers(plain());
    let cached = || match accounts::cacheable(&cfg) {
        true => rate_headers(shared.cache.get_or(&req.target, plain)),
        false => normal(),
    };
    let name = fault.map(|f| f.name().to_string());
    let (resp, delivery) = match fault {
        None => (cached(), Delivery::Full),
        Some(FaultKind::Status500) => (rate_headers(Response::json(500, &json!({"message": "Internal Server Error"}))), Delivery::Full),
        Some(FaultKind::Status502) => (html_status(502), Delivery::Full),
        Some(FaultKind::Status503) => (html_status(503), Delivery::Full),
        Some(FaultKind::Status429) => (too_many(cfg.rate_limit_per_sec.unwrap_or(5)), Delivery::Full),
        Some(FaultKind::IntermittentForbidden) => (rate_headers(Response::json(403, &json!({"message": "Forbidden"}))), Delivery::Full),
        Some(FaultKind::ConnectionReset) => (normal(), Delivery::Reset),
        Some(FaultKind::TruncatedBody) => (normal(), Delivery::Truncated),
        Some(FaultKind::InvalidJson) => {
            let mut r = normal();
            r.status = 200;
            let mut cut = r.body.len() / 2;
            while cut > 0 && r.body.get(cut).map(|b| (b & 0xC0) == 0x80).unwrap_or(false) {
                cut -= 1;
            }
            r.body.truncate(cut.max(1));
            if r.body.is_empty() {
                r.body = b"{\"contacts\": [".to_vec();
            }
            (r, Delivery::Full)
        }
        Some(FaultKind::HtmlErrorPage) => (
            rate_headers(Response::html(
                200,
                "<!DOCTYPE html><html><head><title>Temporarily unavailable</title></head><body><h1>We'll be right back</h1><p>The service is temporarily unavailable.</p></body></html>",
            )),
            Delivery::Full,
        ),
        Some(FaultKind::EmptyBody) => {
            let mut r = rate_headers(Response::json(200, &json!(null)));
            r.body.clear();
            (r, Delivery::Full)
        }
    };
    (resp, name, delivery)
}

/// Changes the churn streams after every `churn_every`-th answered API request (before the
/// answer is written, so the client's next request sees the change).
fn churn(shared: &Shared, req: &Request, status: u16) {
    let cfg = lock(&shared.config).quirks.clone();
    if cfg.churn_every == 0 || status != 200 || !req.path().starts_with("/api/3/") {
        return;
    }
    let n = shared.churn_count.fetch_add(1, Ordering::SeqCst) + 1;
    if !n.is_multiple_of(cfg.churn_every as u64) {
        return;
    }
    let mut ds = lock(&shared.dataset);
    for stream in &cfg.churn_streams {
        ds.delete(stream, 1);
        let added = ds.insert(stream, 1);
        lock(&shared.churned_in)
            .entry(stream.clone())
            .or_default()
            .extend(added);
    }
}

/// Logs a request (memory + optional file) and runs the mutations that became due.
fn record(
    shared: &Shared,
    start: Instant,
    path: String,
    status: u16,
    fault: Option<String>,
    (api_token_ok, account, read_at): (bool, Option<usize>, Option<Instant>),
) {
    let ms = |t: Instant| t.saturating_duration_since(shared.started).as_secs_f64() * 1000.0;
    let start_ms = ms(start);
    let entry = LoggedRequest {
        start_ms,
        path,
        status,
        fault,
        api_token_ok,
        account,
        read_ms: read_at.map(ms),
    };
    if let Some(f) = lock(&shared.log_file).as_mut() {
        let mut line = json!({"start_ms": entry.start_ms, "path": entry.path, "status": entry.status, "fault": entry.fault});
        if let Some(a) = account {
            line["account"] = json!(a);
        }
        if let Some(r) = entry.read_ms {
            line["read_ms"] = json!(r);
        }
        let _ = writeln!(f, "{line}");
    }
    lock(&shared.log).push(entry);
    let due: Vec<Job> = {
        let mut p = lock(&shared.pending);
        p.answered += 1;
        let now = p.answered;
        let (due, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut p.jobs)
            .into_iter()
            .partition(|(at, _)| *at <= now);
        p.jobs = keep;
        due.into_iter().map(|(_, j)| j).collect()
    };
    let changed = !due.is_empty();
    for job in due {
        job(&mut lock(&shared.dataset));
    }
    if changed {
        shared.cache.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn get(port: u16, path: &str, key: Option<&str>) -> (u16, String, String) {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
            return (0, String::new(), String::new());
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let token = key
            .map(|k| format!("Api-Token: {k}\r\n"))
            .unwrap_or_default();
        let _ = write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{token}Accept: application/json\r\n\r\n"
        );
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        let text = String::from_utf8_lossy(&out).to_string();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text.as_str(), ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, head.to_string(), body.to_string())
    }

    fn small() -> Dataset {
        Dataset::generate(42, 40)
    }

    #[test]
    fn server_is_shareable() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Server>();
        assert_send_sync::<Dataset>();
        assert_send_sync::<ServerConfig>();
    }

    #[test]
    fn window_arithmetic() {
        assert_eq!(max_in_window(&mut [], 1000.0), 0);
        assert_eq!(max_in_window(&mut [0.0, 999.9, 1000.0, 1999.0], 1000.0), 3);
        assert_eq!(max_in_window(&mut [0.0, 500.0, 1000.0, 1500.0], 1000.0), 2);
        assert_eq!(
            max_in_window(&mut [5.0, 1.0, 3.0, 2.0, 4.0, 1000.9], 1000.0),
            6
        );
        assert_eq!(max_in_window(&mut [0.0, 1000.0, 2000.0], 1000.0), 1);
        let t0 = Instant::now();
        let mut v = Vec::new();
        for i in 0..5 {
            assert_eq!(
                count_recent(&mut v, t0 + Duration::from_millis(i * 100)),
                i as usize + 1
            );
        }
        assert_eq!(count_recent(&mut v, t0 + Duration::from_millis(999)), 6);
        // 1000 ms after the first start, it no longer counts.
        assert_eq!(count_recent(&mut v, t0 + Duration::from_millis(1000)), 6);
        // A start registered late counts only the starts before it (0-400 ms and itself, not
        // 999 and 1000).
        assert_eq!(count_recent(&mut v, t0 + Duration::from_millis(500)), 6);
        assert_eq!(count_recent(&mut v, t0 + Duration::from_millis(5000)), 1);
        assert_eq!(v.len(), 1);
    }

    #[test]
    fn auth_headers_and_logging() {
        let log = std::env::temp_dir().join(format!("ac-test-server-{}.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&log);
        let cfg = ServerConfig {
            rate_limit_per_sec: Some(100),
            log_path: Some(log.clone()),
            ..ServerConfig::default()
        };
        let Ok(server) = Server::start(cfg, small()) else {
            panic!("start failed")
        };
        let (st, _, body) = get(server.port(), "/api/3/contacts", Some("wrong"));
        assert_eq!(st, 403);
        assert!(body.contains("message"));
        let (st, _, _) = get(server.port(), "/api/3/contacts", None);
        assert_eq!(st, 403);
        let (st, head, body) = get(server.port(), "/api/3/contacts?limit=2", Some("test-key"));
        assert_eq!(st, 200);
        assert!(head.contains("Content-Length: ") && head.contains("Connection: close"));
        assert!(head.contains("RateLimit-Limit: 100") && head.contains("RateLimit-Remaining: "));
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        assert_eq!(v["contacts"].as_array().map(|a| a.len()), Some(2));
        assert_eq!(get(server.port(), "/api/3/nope", Some("test-key")).0, 404);
        let reqs = server.requests();
        assert_eq!(reqs.len(), 4);
        assert_eq!(reqs[0].path, "/api/3/contacts");
        assert!(!reqs[0].api_token_ok && reqs[2].api_token_ok);
        assert_eq!(server.count_status(403), 2);
        server.stop();
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        assert_eq!(text.lines().count(), 4);
        assert!(!text.contains("test-key") && !text.contains("wrong"));
        let first: serde_json::Value =
            serde_json::from_str(text.lines().next().unwrap_or("")).unwrap_or_default();
        assert_eq!(first["status"], json!(403));
        let _ = std::fs::remove_file(&log);
    }

    #[test]
    fn sixth_request_within_a_second_is_429() {
        let Ok(server) = Server::start(ServerConfig::default(), small()) else {
            panic!("start failed")
        };
        let mut statuses = Vec::new();
        for _ in 0..6 {
            statuses.push(get(server.port(), "/api/3/tags", Some("test-key")));
        }
        assert_eq!(statuses.iter().take(5).filter(|s| s.0 == 200).count(), 5);
        let (st, head, body) = &statuses[5];
        assert_eq!(*st, 429);
        assert!(head.contains("Retry-After: 1") && head.contains("RateLimit-Remaining: 0"));
        assert_eq!(body, "{\"message\":\"Too Many Requests\"}");
        assert_eq!(server.max_starts_in_window(1000.0), 6);
        assert_eq!(server.count_status(429), 1);
    }

    #[test]
    fn rate_headers_can_be_left_out_and_arrivals_jittered() {
        let cfg = ServerConfig {
            rate_limit_per_sec: Some(100),
            rate_limit_headers: false,
            arrival_jitter_ms: 120,
            ..ServerConfig::default()
        };
        let Ok(server) = Server::start(cfg, small()) else {
            panic!("start failed")
        };
        let mut lags = Vec::new();
        for _ in 0..8 {
            let t0 = Instant::now();
            let (st, head, _) = get(server.port(), "/api/3/tags", Some("test-key"));
            assert_eq!(st, 200);
            assert!(!head.contains("RateLimit-"), "{head}");
            lags.push(t0.elapsed().as_millis());
        }
        // Each answer waited its random arrival delay; they are not all the same.
        assert!(lags.iter().all(|&l| l <= 1000), "{lags:?}");
        assert!(lags.iter().max() > lags.iter().min(), "{lags:?}");
    }

    #[test]
    fn faults_are_served_and_logged() {
        let cfg = ServerConfig {
            rate_limit_per_sec: None,
            fault_rate: 1.0,
            fault_kinds: vec![FaultKind::Status503],
            ..ServerConfig::default()
        };
        let Ok(server) = Server::start(cfg, small()) else {
            panic!("start failed")
        };
        let (st, _, body) = get(server.port(), "/api/3/contacts", Some("test-key"));
        assert_eq!(st, 503);
        assert!(body.contains("<h1>503"));
        // Never on users/me.
        assert_eq!(
            get(server.port(), "/api/3/users/me", Some("test-key")).0,
            200
        );
        let reqs = server.requests();
        assert_eq!(reqs[0].fault.as_deref(), Some("Status503"));
        assert_eq!(reqs[1].fault, None);
        server.set_fault_rate(0.0);
        assert_eq!(
            get(server.port(), "/api/3/contacts", Some("test-key")).0,
            200
        );
        server.set_failing_paths(vec!["contact".into()]);
        assert_eq!(
            get(server.port(), "/api/3/contactTags", Some("test-key")).0,
            500
        );
        assert_eq!(get(server.port(), "/api/3/tags", Some("test-key")).0, 200);
        server.set_failing_paths(vec!["tags?limit=100&offset=300".into()]);
        assert_eq!(
            get(
                server.port(),
                "/api/3/tags?limit=100&offset=300",
                Some("test-key")
            )
            .0,
            500
        );
        assert_eq!(
            get(
                server.port(),
                "/api/3/tags?limit=100&offset=200",
                Some("test-key")
            )
            .0,
            200
        );
        server.set_failing_paths(vec!["filters[updated_after]".into()]);
        assert_eq!(
            get(
                server.port(),
                "/api/3/filters%5Bupdated_after%5D",
                Some("test-key")
            )
            .0,
            500
        );
        let reqs = server.requests();
        assert_eq!(
            reqs.iter()
                .filter(|r| r.fault.as_deref() == Some("FailingPath"))
                .count(),
            3
        );
        // A permission lost on one page: 403 with the API's permission error, that page only.
        server.with_config(|c| {
            c.failing_paths = vec!["tags?limit=5&offset=5".into()];
            c.failing_status = 403;
        });
        let (st, _, body) = get(
            server.port(),
            "/api/3/tags?limit=5&offset=5",
            Some("test-key"),
        );
        assert_eq!(st, 403);
        assert!(
            body.contains("You do not have permission to view tags."),
            "{body}"
        );
        assert_eq!(
            get(
                server.port(),
                "/api/3/tags?limit=5&offset=0",
                Some("test-key")
            )
            .0,
            200
        );
    }

    #[test]
    fn body_faults_and_reset() {
        let port_of = |kind| {
            let cfg = ServerConfig {
                rate_limit_per_sec: None,
                fault_rate: 1.0,
                fault_kinds: vec![kind],
                ..ServerConfig::default()
            };
            Server::start(cfg, small()).ok()
        };
        let Some(s) = port_of(FaultKind::ConnectionReset) else {
            panic!("start")
        };
        assert_eq!(get(s.port(), "/api/3/tags", Some("test-key")).0, 0);
        assert_eq!(s.requests()[0].status, 0);
        let Some(s) = port_of(FaultKind::TruncatedBody) else {
            panic!("start")
        };
        let (st, head, body) = get(s.port(), "/api/3/tags", Some("test-key"));
        assert_eq!(st, 200);
        let announced: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        assert_eq!(body.len(), announced / 2);
        let Some(s) = port_of(FaultKind::InvalidJson) else {
            panic!("start")
        };
        let (st, _, body) = get(s.port(), "/api/3/tags", Some("test-key"));
        assert_eq!(st, 200);
        assert!(serde_json::from_str::<serde_json::Value>(&body).is_err());
        let Some(s) = port_of(FaultKind::EmptyBody) else {
            panic!("start")
        };
        let (st, head, body) = get(s.port(), "/api/3/tags", Some("test-key"));
        assert!(st == 200 && body.is_empty() && head.contains("Content-Length: 0"));
    }

    #[test]
    fn mutate_after_and_bad_requests() {
        let cfg = ServerConfig {
            rate_limit_per_sec: None,
            ..ServerConfig::default()
        };
        let Ok(server) = Server::start(cfg, small()) else {
            panic!("start failed")
        };
        server.mutate_after(
            1,
            Box::new(|d: &mut Dataset| {
                d.insert("tags", 1);
            }),
        );
        let (_, _, b1) = get(server.port(), "/api/3/tags?limit=1", Some("test-key"));
        let (_, _, b2) = get(server.port(), "/api/3/tags?limit=1", Some("test-key"));
        assert!(b1.contains("\"total\":\"12\"") && b2.contains("\"total\":\"13\""));
        assert_eq!(server.with_dataset(|d| d.ids("tags").len()), 13);
        // Garbage and early disconnects don't kill the server.
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", server.port())) {
            let _ = s.write_all(b"\x00\x01garbage\r\n\r\n");
            let mut out = Vec::new();
            let _ = s.read_to_end(&mut out);
            assert!(String::from_utf8_lossy(&out).starts_with("HTTP/1.1 400"));
        }
        drop(TcpStream::connect(("127.0.0.1", server.port())));
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", server.port())) {
            let _ = s.write_all(b"GET /api/3/tags HTTP/1.1\r\nApi-To");
        }
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", server.port())) {
            let _ = s.write_all(b"POST /api/3/tags HTTP/1.1\r\nApi-Token: test-key\r\n\r\n");
            let mut out = Vec::new();
            let _ = s.read_to_end(&mut out);
            assert!(String::from_utf8_lossy(&out).starts_with("HTTP/1.1 405"));
        }
        assert_eq!(
            get(server.port(), "/api/3/users/me", Some("test-key")).0,
            200
        );
    }

    #[test]
    fn with_config_switches_a_stream_empty_or_forbidden_between_requests() {
        let cfg = ServerConfig {
            rate_limit_per_sec: None,
            ..ServerConfig::default()
        };
        let Ok(server) = Server::start(cfg, small()) else {
            panic!("start failed")
        };
        let tags = |server: &Server| {
            let (st, _, body) = get(server.port(), "/api/3/tags?limit=100", Some("test-key"));
            let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            (
                st,
                v["tags"].as_array().map(Vec::len),
                v["meta"]["total"].clone(),
            )
        };
        assert_eq!(tags(&server), (200, Some(12), json!("12")));
        server.with_config(|c| c.quirks.empty_streams = vec!["tags".into()]);
        assert_eq!(tags(&server), (200, Some(0), json!("0")));
        // Only that stream.
        let (st, _, body) = get(server.port(), "/api/3/lists?limit=100", Some("test-key"));
        assert!(st == 200 && body.contains("\"total\":\"5\""), "{body}");
        server.with_config(|c| {
            c.quirks.empty_streams.clear();
            c.disabled_features = vec!["tags".into()];
        });
        assert_eq!(tags(&server).0, 403);
        server.with_config(|c| c.disabled_features.clear());
        assert_eq!(tags(&server), (200, Some(12), json!("12")));
        // The answer cache does not keep an answer across a switch.
        let cached = ServerConfig {
            rate_limit_per_sec: None,
            cache_answers: true,
            ..ServerConfig::default()
        };
        let Ok(server) = Server::start(cached, small()) else {
            panic!("start failed")
        };
        assert_eq!(tags(&server).1, Some(12));
        assert_eq!(tags(&server).1, Some(12));
        server.with_config(|c| c.disabled_features = vec!["tags".into()]);
        assert_eq!(tags(&server).0, 403);
    }
}
