//! End to end: generated hostile answers through the wasmtime CLI. A loopback server
//! answers the tags list with one hostile page (seeded; the seed is printed, set `AC_HOSTILE_SEED`
//! to rerun one) in every shape the issue lists; the component must not trap, must exit 0 or 1,
//! and must never report the stream COMPLETE when a record could not be used (and report it
//! COMPLETE, with every record, when all were usable). The native twin with many more cases is
//! `src/proptests/hostile.rs`.

mod common;
use common::*;
use serde_json::{json, Value};
use std::io::{Read, Write};

/// xorshift64*, from the printed seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}

fn seed() -> u64 {
    let s = std::env::var("AC_HOSTILE_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok());
    let s = s.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    }) | 1;
    eprintln!("hostile answers: AC_HOSTILE_SEED={s}");
    s
}

/// The true second page (ids 100..=199 with a one-record overlap at offset 99).
fn page(offset: u64) -> Value {
    let recs: Vec<Value> = (offset + 1..=250.min(offset + 100))
        .map(|i| json!({"id": i.to_string(), "tag": format!("t{i}")}))
        .collect();
    json!({"tags": recs, "meta": {"total": "250"}})
}

/// One hostile version of the page at offset 0: (what, body, whether every record is usable).
fn hostile(kind: usize, r: &mut Rng) -> (&'static str, Vec<u8>, bool) {
    let whole = page(0).to_string();
    let first = |insert: &str| whole.replacen("\"id\":", &format!("{insert}\"id\":"), 1);
    let text = |s: String, ok| (s.into_bytes(), ok);
    let (what, (body, ok)) = match kind {
        0 => ("number out of range", text(first("\"n\":1e400,"), true)),
        1 => {
            let d = 64 + r.below(5000) as usize;
            (
                "deep nesting",
                text(
                    first(&format!("\"d\":{}0{},", "[".repeat(d), "]".repeat(d))),
                    false,
                ),
            )
        }
        2 => (
            "huge string",
            text(
                first(&format!(
                    "\"s\":\"{}\",",
                    "ü".repeat(1_000_000 + r.below(1_000_000) as usize)
                )),
                true,
            ),
        ),
        3 => ("lone surrogate", text(first("\"s\":\"\\udc00x\","), true)),
        4 => {
            let mut b = whole.clone().into_bytes();
            b.insert(b.len() / 2, 0xFF);
            ("invalid UTF-8", (b, false))
        }
        5 => (
            "id null",
            text(whole.replacen("\"id\":\"1\"", "\"id\":null", 1), true),
        ),
        6 => (
            "id object",
            text(whole.replacen("\"id\":\"1\"", "\"id\":{\"x\":1}", 1), true),
        ),
        7 => (
            "id float",
            text(whole.replacen("\"id\":\"1\"", "\"id\":1.5", 1), true),
        ),
        8 => (
            "id empty",
            text(whole.replacen("\"id\":\"1\"", "\"id\":\"\"", 1), true),
        ),
        9 => (
            "id huge",
            text(
                whole.replacen("\"id\":\"1\"", "\"id\":184467440737095516160000", 1),
                true,
            ),
        ),
        10 => (
            "id duplicate",
            text(whole.replacen("\"id\":\"2\"", "\"id\":\"1\"", 1), true),
        ),
        11 => {
            let mut o = serde_json::Map::new();
            for (i, rec) in page(0)["tags"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .enumerate()
                .rev()
            {
                o.insert((i * 2).to_string(), rec);
            }
            (
                "list as object",
                text(
                    json!({"tags": o, "meta": {"total": "250"}}).to_string(),
                    true,
                ),
            )
        }
        12 => (
            "list as string",
            text(
                json!({"tags": "[]", "meta": {"total": "250"}}).to_string(),
                false,
            ),
        ),
        13 => (
            "record as string",
            text(
                whole.replacen("{\"id\":\"1\",\"tag\":\"t1\"}", "\"t1\"", 1),
                false,
            ),
        ),
        14 => (
            "record as null",
            text(
                whole.replacen("{\"id\":\"1\",\"tag\":\"t1\"}", "null", 1),
                false,
            ),
        ),
        15 => (
            "odd meta",
            text(
                whole.replace("{\"total\":\"250\"}", "{\"total\":-1e30}"),
                true,
            ),
        ),
        16 => {
            let cut = 1 + r.below(whole.len() as u64 - 2) as usize;
            ("truncated body", text(whole[..cut].to_string(), false))
        }
        17 => ("doubled body", text(format!("{whole}{whole}"), false)),
        18 => (
            "HTML on a 200",
            text(
                "<html><body>Service Unavailable</body></html>".into(),
                false,
            ),
        ),
        19 => ("BOM on a 200", text(format!("\u{FEFF}{whole}"), true)),
        20 => ("top-level array", text(page(0)["tags"].to_string(), false)),
        _ => ("top-level number", text("42".into(), false)),
    };
    (what, body, ok)
}

/// A server whose tags page at offset 0 is `body` on every ask.
fn server(body: Vec<u8>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("port").port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let head = String::from_utf8_lossy(&buf).to_string();
            let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
            let offset: u64 = target
                .split(['?', '&'])
                .find_map(|kv| kv.strip_prefix("offset="))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let answer = if target.starts_with("/api/3/users/me") {
                json!({"user": {"id": "1", "username": "admin"}})
                    .to_string()
                    .into_bytes()
            } else if offset == 0 {
                body.clone()
            } else {
                page(offset).to_string().into_bytes()
            };
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                answer.len()
            );
            let _ = conn.write_all(&answer);
        }
    });
    format!("http://127.0.0.1:{port}")
}

#[test]
fn hostile_answers_through_the_wasmtime_cli() {
    let _g = serial();
    let mut r = Rng(seed());
    let s = Scratch::new("hostile");
    for kind in 0..22 {
        let (what, body, usable) = hostile(kind, &mut r);
        let base = server(body);
        let cfg = json!({"api_url": base, "api_key": "hostile-key-1", "requests_per_second": 50,
            "max_attempts": 2, "max_retry_wait_seconds": 2});
        let c = s.write("c.json", &cfg.to_string());
        let cat = s.write("cat.json", &catalog(&["tags"], false));
        let run = wasmtime(&s, &["read", "--config", &c, "--catalog", &cat]);
        assert!(
            run.code == 0 || run.code == 1,
            "{what}: exit {} (a trap?)\n{}",
            run.code,
            run.stderr
        );
        assert!(
            !run.stderr.contains("wasm trap") && !run.stderr.contains("panicked"),
            "{what}: {}",
            run.stderr
        );
        let complete = run
            .of_type("TRACE")
            .iter()
            .any(|m| m["trace"]["stream_status"]["status"] == "COMPLETE");
        if usable {
            assert_eq!(run.code, 0, "{what}: {}", run.stderr);
            assert!(complete, "{what}");
            let ids = ids_by_stream(&run.messages());
            let n = ids.get("tags").map(Vec::len).unwrap_or(0);
            assert!(n >= 249, "{what}: {n} records");
        } else {
            assert_eq!(run.code, 1, "{what}: an unusable record must fail the read");
            assert!(
                !complete,
                "{what}: COMPLETE although a record could not be used"
            );
        }
    }
}
