//! A load-test mode, off by default: many accounts served by one process, and a cache of answers.
//!
//! `make bench-host` runs 50 accounts at once on the same cores as the host under test. With one
//! server process per account, the servers spent as much CPU as the host: each answer is built by
//! scanning the dataset and serialising a page, and 50 accounts built the same pages 50 times.
//! Here one process serves N accounts (each API key its own account, with its own rate window
//! and its own arrival count in the log) over the same generated data, and a plain GET's
//! serialised body is kept and reused, since its answer depends only on the request target.

use crate::http::{Request, Response};
use crate::quirks::Quirks;
use crate::server::ServerConfig;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

/// The API keys of `n` accounts: `{base}-0` … `{base}-{n-1}` (account i has key `{base}-i`).
pub fn account_keys(base: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{base}-{i}")).collect()
}

/// Which account a request belongs to: its `Api-Token`'s position in `keys`. `None` when the
/// server has one account (`keys` empty: every request counts against its one limit) or the
/// token is not one of the keys (such requests share one window of their own).
pub(crate) fn account_of(keys: &[String], req: &Request) -> Option<usize> {
    let token = req.header("api-token")?;
    keys.iter().position(|k| k == token)
}

/// Each account's recent request starts, for its own rate window; the last slot is for requests
/// of no account (the only slot when the server has one account).
pub(crate) struct Windows {
    slots: Vec<Mutex<Vec<Instant>>>,
}

impl Windows {
    /// Windows for `accounts` accounts plus the slot of requests of no account.
    pub(crate) fn new(accounts: usize) -> Windows {
        Windows {
            slots: (0..=accounts).map(|_| Mutex::new(Vec::new())).collect(),
        }
    }

    /// The window of `account` (`None`, or an index past the end: the last slot).
    pub(crate) fn of(&self, account: Option<usize>) -> MutexGuard<'_, Vec<Instant>> {
        let last = self.slots.len() - 1;
        let i = account.map_or(last, |a| a.min(last));
        self.slots[i].lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Largest total of cached bodies; past it the cache starts again (a bound, not an expected size:
/// the 50-account bench keeps about 20 MB).
const CACHE_MAX_BYTES: usize = 512 << 20;

/// Answers to plain GETs (status, headers and serialised body, before the per-request
/// `RateLimit-*` and `Date` headers), by request target.
#[derive(Default)]
pub(crate) struct AnswerCache {
    map: Mutex<Cached>,
}

/// An answer, made once by the first request for its target while the others wait for it.
type Slot = Arc<OnceLock<Response>>;

/// The cached answers and their total body size.
#[derive(Default)]
struct Cached {
    answers: HashMap<String, Slot>,
    bytes: usize,
}

impl AnswerCache {
    /// The answer to `target`, from the cache or made by `make` (and kept).
    pub(crate) fn get_or(&self, target: &str, make: impl FnOnce() -> Response) -> Response {
        let slot = Arc::clone(self.lock().answers.entry(target.to_string()).or_default());
        // Made outside the map's lock, so other targets are not held up; the accounts of a
        // load test ask for the same target at nearly the same moment, and only the first makes it.
        let mut made = 0;
        let r = slot.get_or_init(|| {
            let r = make();
            made = r.body.len();
            r
        });
        if made > 0 {
            let mut m = self.lock();
            m.bytes += made;
            if m.bytes > CACHE_MAX_BYTES {
                m.answers.clear();
                m.bytes = 0;
            }
        }
        r.clone()
    }

    /// Forgets every answer; called after each change of the dataset (requests already waiting
    /// for an answer being made get it, as they would without the cache).
    pub(crate) fn clear(&self) {
        let mut m = self.lock();
        m.answers.clear();
        m.bytes = 0;
    }

    fn lock(&self) -> MutexGuard<'_, Cached> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Whether answers may come from the cache: asked for, and no switch that makes an answer depend
/// on more than its target (faults, failing paths, quirks, churn).
pub(crate) fn cacheable(cfg: &ServerConfig) -> bool {
    cfg.cache_answers
        && cfg.fault_rate == 0.0
        && cfg.failing_paths.is_empty()
        && cfg.quirks == Quirks::default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dataset, Server};
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Duration;

    /// The status and body of a GET with `key` as its `Api-Token`.
    fn get(port: u16, path: &str, key: &str) -> (u16, String) {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
            return (0, String::new());
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let _ = write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nApi-Token: {key}\r\n\r\n"
        );
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        let text = String::from_utf8_lossy(&out).to_string();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text.as_str(), ""));
        let status = head.split(' ').nth(1).and_then(|s| s.parse().ok());
        (status.unwrap_or(0), body.to_string())
    }

    #[test]
    fn keys_name_accounts_and_unknown_tokens_have_none() {
        let keys = account_keys("k", 3);
        assert_eq!(keys, ["k-0", "k-1", "k-2"]);
        let w = Windows::new(2);
        w.of(Some(0)).push(Instant::now());
        w.of(None).push(Instant::now());
        w.of(Some(7)).push(Instant::now());
        assert_eq!((w.of(Some(0)).len(), w.of(Some(1)).len()), (1, 0));
        assert_eq!(
            w.of(None).len(),
            2,
            "no account and out of range share the last slot"
        );
    }

    #[test]
    fn each_key_has_its_own_limit_and_log() {
        let cfg = ServerConfig {
            account_keys: account_keys("bench", 2),
            cache_answers: true,
            kernel_arrival: true,
            ..ServerConfig::default()
        };
        let Ok(server) = Server::start(cfg, Dataset::generate(42, 30)) else {
            panic!("start failed")
        };
        let path = "/api/3/contacts?limit=10";
        let mut bodies = Vec::new();
        for key in ["bench-0", "bench-1"] {
            for _ in 0..5 {
                let (status, body) = get(server.port(), path, key);
                assert_eq!(status, 200, "{key}: {body}");
                bodies.push(body);
            }
        }
        // A sixth within the second on one key is over that account's limit only.
        assert_eq!(get(server.port(), path, "bench-0").0, 429);
        // The base key is no account's key.
        assert_eq!(get(server.port(), path, "test-key").0, 403);
        // The cached answer is the answer.
        assert!(bodies
            .iter()
            .all(|b| b == &bodies[0] && b.contains("\"contacts\"")));
        let log = server.requests();
        let per = |a| log.iter().filter(|r| r.account == Some(a)).count();
        assert_eq!((per(0), per(1)), (6, 5));
        assert_eq!(log.iter().filter(|r| r.account.is_none()).count(), 1);
        // A kernel arrival stamp (when the packet had one) is at or before the server's read.
        assert!(
            log.iter()
                .all(|r| r.read_ms.is_none_or(|read| r.start_ms <= read)),
            "{log:?}"
        );
    }

    #[test]
    fn cache_only_without_faults_or_quirks() {
        let on = ServerConfig {
            cache_answers: true,
            ..ServerConfig::default()
        };
        assert!(cacheable(&on));
        assert!(!cacheable(&ServerConfig::default()));
        let mut faulty = on.clone();
        faulty.fault_rate = 0.1;
        assert!(!cacheable(&faulty));
        let mut quirky = on.clone();
        assert!(quirky.quirks.set("churn=5:contacts").is_ok());
        assert!(!cacheable(&quirky));
        let c = AnswerCache::default();
        let made = c.get_or("/a", || Response::html(200, "x"));
        let again = c.get_or("/a", || Response::html(500, "y"));
        assert_eq!(
            (made.status, again.status, again.body),
            (200, 200, b"x".to_vec())
        );
        c.clear();
        assert_eq!(c.get_or("/a", || Response::html(500, "y")).status, 500);
        // An answer made while the dataset changed is not kept.
        let stale = c.get_or("/b", || {
            c.clear();
            Response::html(200, "old")
        });
        assert_eq!(stale.body, b"old".to_vec());
        assert_eq!(
            c.get_or("/b", || Response::html(200, "new")).body,
            b"new".to_vec()
        );
        // Requests for one target at once: one makes the answer, the others get it.
        let makes = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    c.get_or("/c", || {
                        makes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(50));
                        Response::html(200, "c")
                    })
                });
            }
        });
        assert_eq!(makes.into_inner(), 1);
    }
}
