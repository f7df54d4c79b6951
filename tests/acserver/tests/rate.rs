//! Through wasmtime: `RateLimit-Remaining: 0` holds requests only when
//! other clients use the account's budget, and arrival jitter at the server costs no data. Every
//! record is delivered (exact ids) and every stream completes.

mod common;
use ac_test_server::Server;
use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const KEY: &str = "rate-key-90b1";

/// Streams of about 32 pages for 1,500 contacts, 14 for 600 (contact tags ride on the contacts
/// pages).
const STREAMS: [&str; 6] = [
    "contacts",
    "contact_tags",
    "tags",
    "deals",
    "activities",
    "email_activities",
];

fn server(contacts: usize, latency_ms: u64, jitter_ms: u64) -> Server {
    TestServer::new(KEY, 47, contacts)
        .rate(5)
        .with(|c| {
            c.latency_ms = latency_ms;
            c.arrival_jitter_ms = jitter_ms;
        })
        .start()
}

/// A full read of [`STREAMS`] at `rps`; asserts success and exactly the server's records.
fn read_all(srv: &Server, rps: f64) -> Run {
    let s = Scratch::new("rate");
    let cfg = s.write("c.json", &config(&srv.base_url(), KEY, rps));
    let cat = s.write("cat.json", &catalog(&STREAMS, false));
    let run = wasmtime(&s, &["read", "--config", &cfg, "--catalog", &cat]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let got = ids_by_stream(&run.messages());
    for st in STREAMS {
        assert_exactly(st, srv.with_dataset(|d| d.ids(st)), got.get(st));
        let done = run.of_type("TRACE").iter().any(|m| {
            m["trace"]["stream_status"]["stream_descriptor"]["name"] == st
                && m["trace"]["stream_status"]["status"] == "COMPLETE"
        });
        assert!(done, "{st} did not complete");
    }
    run
}

/// LOG lines of the run that contain `text`.
fn logs(run: &Run, text: &str) -> usize {
    run.of_type("LOG")
        .iter()
        .filter(|m| {
            m["log"]["message"]
                .as_str()
                .is_some_and(|t| t.contains(text))
        })
        .count()
}

const HOLD: &str = "other clients share the account's budget";
const WIDEN: &str = "spacing requests";

#[test]
fn remaining_zero_from_our_own_requests_holds_nothing() {
    let _g = serial();
    // 1,000 ms answers at the full rate: every fifth answer says RateLimit-Remaining: 0, a second
    // after the request began. That is this run's own use; it must not hold requests.
    let srv = server(1500, 1000, 0);
    let run = read_all(&srv, 5.0);
    let n = srv.requests().len();
    assert!(
        n > 25,
        "{n} requests: enough for the budget to run out many times"
    );
    assert!(
        srv.max_starts_in_window(1000.0) >= 5,
        "the run used the whole budget"
    );
    assert_eq!(
        logs(&run, HOLD),
        0,
        "held for its own requests: {}",
        run.stderr
    );
}

/// Another client of the same account: GETs `users/me` about `per_s` times a second until told
/// to stop.
fn other_client(port: u16, per_s: u64, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            if let Ok(mut c) = TcpStream::connect(("127.0.0.1", port)) {
                let _ = write!(
                    c,
                    "GET /api/3/users/me HTTP/1.1\r\nHost: 127.0.0.1\r\nApi-Token: {KEY}\r\n\r\n"
                );
                let _ = c.read_to_end(&mut Vec::new());
            }
            std::thread::sleep(Duration::from_millis(1000 / per_s));
        }
    })
}

#[test]
fn other_clients_using_the_budget_hold_requests_and_cost_no_data() {
    let _g = serial();
    // The run uses 2 of the 5 requests a second; another client takes 4. The empty budget the
    // server reports is not this run's doing: it holds its requests (and retries any 429), and
    // still delivers everything.
    let srv = server(600, 0, 0);
    let stop = Arc::new(AtomicBool::new(false));
    let other = other_client(srv.port(), 4, Arc::clone(&stop));
    let run = read_all(&srv, 2.0);
    stop.store(true, Ordering::SeqCst);
    let _ = other.join();
    assert!(logs(&run, HOLD) > 0, "no hold logged: {}", run.stderr);
}

#[test]
fn arrival_jitter_costs_no_data_and_429s_teach_the_spacing() {
    let _g = serial();
    // Each request reaches the server 0-150 ms after its start (a new connection each time):
    // five starts spaced for 5/s can arrive within one second. Whatever 429s that causes are
    // retried, and each one the run's own starts explain widens its spacing.
    let srv = server(1500, 0, 150);
    let run = read_all(&srv, 5.0);
    let rejected = srv.count_status(429);
    let widened = logs(&run, WIDEN);
    eprintln!(
        "arrival jitter: {} requests, {rejected} 429s, spacing widened {widened} times",
        srv.requests().len()
    );
    assert!(
        rejected == 0 || widened > 0,
        "{rejected} 429s and the spacing never widened: {}",
        run.stderr
    );
    assert!(widened <= rejected, "widened without a 429");
}
