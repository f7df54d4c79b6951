//! What a read reports: progress lines and texts, completion lines, summary times.

use super::*;

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
    fn log(&mut self, level: &str, message: &str) {
        self.keep(|l| l.log(level, message));
    }
    fn status(&mut self, stream: &str, status: &str, emitted_at: u64) {
        self.keep(|l| l.status(stream, status, emitted_at));
    }
    fn error(&mut self, e: &crate::engine::ErrorEvent, emitted_at: u64) {
        self.keep(|l| l.error(e, emitted_at));
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
