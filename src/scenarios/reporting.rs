//! What a read reports: progress lines and texts, completion lines, summary times.

use crate::test_support::reads::*;

/// Progress is logged at most every 5 s per stream: a 20-page read at 1 page/s logs it about 4
/// times, not on every page.
#[test]
fn progress_is_logged_every_five_seconds() {
    let cfg = client_config(json!({"requests_per_second": 1}));
    let mut fake = Fake::new(1_000_000, tags(2000));
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    read(
        &mut client,
        &cfg,
        vec![tags_job(StreamState::default())],
        &mut sink,
    );
    let logs = sink
        .0
        .iter()
        .filter(|l| l.contains("records so far"))
        .count();
    assert!(
        (3..=5).contains(&logs),
        "{logs} progress lines for 20 pages over ~20 s"
    );
}

/// The summary's times are milliseconds: the run's from its start to its end, a stream's from its
/// first request to its end.
#[test]
fn summary_times_are_milliseconds() {
    let cfg = client_config(json!({"requests_per_second": 1}));
    let mut fake = Fake::new(2 * SECOND, tags(250));
    let mut client = Client::new(&mut fake, &cfg);
    let s = read(
        &mut client,
        &cfg,
        vec![tags_job(StreamState::default())],
        &mut Lines::default(),
    );
    drop(client);
    let end_ms = fake.now / 1_000_000;
    assert!(end_ms > 4_000 && end_ms < 20_000, "{end_ms}");
    assert_eq!(s.millis, end_ms);
    assert_eq!(s.streams[0].millis, end_ms, "the stream started at 0");
}

/// A stream's completion line counts its pages.
#[test]
fn completion_counts_pages() {
    let cfg = client_config(json!({}));
    let mut fake = Fake::new(1_000_000, tags(250));
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    read(
        &mut client,
        &cfg,
        vec![tags_job(StreamState::default())],
        &mut sink,
    );
    assert!(
        sink.0
            .iter()
            .any(|l| l.contains("tags: complete, 250 records in 3 pages")),
        "{:?}",
        sink.0
    );
    // One STATE per page: the last page's closes the pass, with nothing after it.
    let states: Vec<&String> = sink
        .0
        .iter()
        .filter(|l| l.contains("\"type\":\"STATE\""))
        .collect();
    assert_eq!(states.len(), 3, "{states:?}");
    assert!(states[2].contains("\"stream_state\":{}"), "{}", states[2]);
}

/// A sink that keeps the progress texts too.
#[derive(Default)]
struct Progress {
    lines: Vec<String>,
    progress: Vec<String>,
}

impl Progress {
    /// Keeps the Airbyte lines of one event, formatted as [`Lines`] formats them.
    fn keep(&mut self, event: impl FnOnce(&mut Lines)) {
        let mut l = Lines::default();
        event(&mut l);
        self.lines.extend(l.0);
    }
}

/// Keeps every line and every progress text.
impl crate::engine::Sink for Progress {
    fn record(&mut self, r: &crate::engine::RecordEvent) {
        self.keep(|l| l.record(r));
    }
    fn state(&mut self, stream: &str, state: &serde_json::Value, records: u64) {
        self.keep(|l| l.state(stream, state, records));
    }
    fn log(&mut self, level: crate::engine::Level, message: &str) {
        self.keep(|l| l.log(level, message));
    }
    fn status(&mut self, stream: &str, status: crate::engine::StreamStatus, emitted_at: u64) {
        self.keep(|l| l.status(stream, status, emitted_at));
    }
    fn error(&mut self, e: &crate::engine::ErrorEvent, emitted_at: u64) {
        self.keep(|l| l.error(e, emitted_at));
    }
    fn deletion(&mut self, stream: &str, stream_json: &str, id: &str, at: u64) {
        self.keep(|l| l.deletion(stream, stream_json, id, at));
    }
    fn checkpoint(&mut self) {}
    fn progress(&mut self, text: &str) {
        self.progress.push(text.to_string());
    }
}

/// Progress says how far a stream is against the list's total, its request rate and what is
/// left; a stream's RUNNING status comes once, with its first page.
#[test]
fn progress_reports_total_rate_and_what_is_left() {
    let cfg = client_config(json!({"requests_per_second": 1}));
    let mut fake = Fake::new(1_000_000, tags(2000));
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Progress::default();
    read(
        &mut client,
        &cfg,
        vec![tags_job(StreamState::default())],
        &mut sink,
    );
    let logs: Vec<&String> = sink
        .lines
        .iter()
        .filter(|l| l.contains("records so far"))
        .collect();
    assert!(!logs.is_empty());
    assert!(logs.iter().all(|l| l.contains("of about 2000")), "{logs:?}");
    let running = sink
        .lines
        .iter()
        .filter(|l| l.contains("\"RUNNING\""))
        .count();
    assert_eq!(running, 1);
    let during: Vec<&String> = sink
        .progress
        .iter()
        .filter(|p| p.contains(" left (~"))
        .collect();
    assert!(!during.is_empty(), "{:?}", sink.progress);
    for p in &during {
        // "tags: 600 records, 6 pages, 1.2 requests/s, about 1400 left (~12 s)"
        let rate: f64 = p
            .split(" pages, ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        // Requests begun (some still in flight) over the time since the first: about the rate.
        assert!(rate > 0.8 && rate < 1.5, "{p}");
        let records: u64 = p
            .split(": ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(p.contains(&format!("about {} left", 2000 - records)), "{p}");
        let eta: f64 = p
            .split("(~")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let want = (2000 - records) as f64 / 100.0;
        assert!((eta - want).abs() <= want * 0.2 + 1.0, "{p}: want ~{want}");
    }
}

/// "About N left" is said exactly while a stream's records are short of the list's total: every
/// progress line before the end says how many, the one at the total says nothing left.
#[test]
fn what_is_left_is_said_only_while_records_are_short_of_the_total() {
    let cfg = client_config(json!({"requests_per_second": 1}));
    let mut fake = Fake::new(1_000_000, tags(2000));
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Progress::default();
    read(
        &mut client,
        &cfg,
        vec![tags_job(StreamState::default())],
        &mut sink,
    );
    let mut short = 0;
    let mut at_total = 0;
    for p in sink.progress.iter().filter(|p| p.contains(" pages, ")) {
        // "tags: 600 records, 6 pages, ..."
        let records: u64 = p["tags: ".len()..]
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        if records < 2000 {
            short += 1;
            assert!(
                p.contains(&format!(", about {} left (~", 2000 - records)),
                "{p}"
            );
        } else {
            at_total += 1;
            assert!(!p.contains(" left"), "{p}");
        }
    }
    assert!(short > 0 && at_total == 1, "{:?}", sink.progress);
}

/// A page with no records yet (a count of 50, an empty list) says nothing about what is left:
/// there is no rate to divide by.
#[test]
fn nothing_is_said_to_be_left_before_the_first_record() {
    let cfg = client_config(json!({"requests_per_second": 1}));
    let mut fake = Fake::new(6 * SECOND, |_: &str| {
        crate::test_support::ok(json!({"tags": [], "meta": {"total": "50"}}))
    });
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Progress::default();
    read(
        &mut client,
        &cfg,
        vec![tags_job(StreamState::default())],
        &mut sink,
    );
    let pages: Vec<&String> = sink
        .progress
        .iter()
        .filter(|p| p.contains(" pages, "))
        .collect();
    assert!(!pages.is_empty(), "{:?}", sink.progress);
    assert!(pages.iter().all(|p| !p.contains(" left")), "{pages:?}");
}

/// STATE `sourceStats.recordCount` over whole multi-page reads: each STATE counts the records of
/// its stream since that stream's previous STATE (Airbyte's CDK resets its counter at every STATE,
/// and the platform compares each count with what the destination committed for that state).
mod source_stats {
    use crate::commands::connector::read;
    use crate::documents::config::Config;
    use crate::test_support::{ok, Fake, Lines};
    use serde_json::{json, Value};
    use std::collections::BTreeMap;

    /// `key=value` from a request path's query.
    fn query(path: &str, key: &str) -> Option<String> {
        path.split_once('?')?
            .1
            .split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")).map(String::from))
    }

    /// An account where every list has `n` records with ids 1..=n, answering offset and keyset pages.
    fn account(n: u64) -> impl FnMut(&str) -> Result<crate::engine::HttpResponse, String> {
        move |path: &str| {
            let key = path
                .trim_start_matches("/api/3/")
                .split(['?', '/'])
                .next()
                .unwrap_or("")
                .to_string();
            if key == "users" && path.contains("/me") {
                return ok(json!({"user": {"id": "1", "username": "u"}}));
            }
            let num = |k: &str| query(path, k).and_then(|v| v.parse::<u64>().ok());
            let ids: Vec<u64> = if query(path, "orders%5Bid%5D").as_deref() == Some("DESC") {
                vec![n]
            } else if let Some(after) = num("id_greater") {
                (after + 1..num("id_less").unwrap_or(n + 1).min(n + 1))
                    .take(100)
                    .collect()
            } else if query(path, "orders%5Bid%5D").is_some() {
                (1..num("id_less").unwrap_or(n + 1).min(n + 1))
                    .take(100)
                    .collect()
            } else {
                let off = num("offset").unwrap_or(0);
                (off + 1..=n).take(100).collect()
            };
            let recs: Vec<Value> = ids
                .iter()
                .map(|i| json!({"id": i.to_string(), "udate": format!("2024-01-01T00:{:02}:{:02}Z", i / 60 % 60, i % 60), "mdate": "2024-02-01T00:00:00Z", "updated_timestamp": "2024-03-01 00:00:00"}))
                .collect();
            ok(json!({key: recs, "meta": {"total": n.to_string()}}))
        }
    }

    /// Every STATE's count, checked against the RECORDs of its stream since its previous STATE.
    fn check_counts(lines: &[String]) -> BTreeMap<String, (u64, u64)> {
        let mut since: BTreeMap<String, u64> = BTreeMap::new();
        let mut seen: BTreeMap<String, (u64, u64)> = BTreeMap::new(); // records, states
        for l in lines {
            let v: Value = serde_json::from_str(l).unwrap();
            match v["type"].as_str() {
                Some("RECORD") => {
                    let s = v["record"]["stream"].as_str().unwrap().to_string();
                    *since.entry(s.clone()).or_default() += 1;
                    seen.entry(s).or_default().0 += 1;
                }
                Some("STATE") => {
                    let s = v["state"]["stream"]["stream_descriptor"]["name"]
                        .as_str()
                        .unwrap()
                        .to_string();
                    let count = v["state"]["sourceStats"]["recordCount"].as_f64().unwrap();
                    let want = since.insert(s.clone(), 0).unwrap_or(0);
                    assert_eq!(count, want as f64, "{s}: STATE {l}");
                    seen.entry(s).or_default().1 += 1;
                }
                _ => {}
            }
        }
        seen
    }

    #[test]
    fn each_state_counts_the_records_since_the_streams_previous_state() {
        let cfg = Config::parse(
            r#"{"api_url": "http://127.0.0.1:9", "api_key": "k", "requests_per_second": 50}"#,
        )
        .unwrap();
        let catalog = json!({"streams": [
            {"stream": {"name": "contacts"}, "sync_mode": "incremental"},
            {"stream": {"name": "tags"}, "sync_mode": "full_refresh"},
            {"stream": {"name": "deals"}, "sync_mode": "incremental"},
            {"stream": {"name": "addresses"}, "sync_mode": "incremental"},
        ]})
        .to_string();
        let mut t = Fake::new(1_000_000, account(450));
        let mut sink = Lines::default();
        read(&mut t, &mut sink, &cfg, Some(&catalog), None).unwrap();
        let seen = check_counts(&sink.0);
        for s in ["contacts", "tags", "deals", "addresses"] {
            let (records, states) = seen[s];
            assert_eq!(records, 450, "{s}");
            assert!(states >= 5, "{s}: a STATE per page, {states}");
        }
    }
}
