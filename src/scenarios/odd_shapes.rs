//! Answers whose lists come in other shapes: PHP's object-lists, read as the list;
//! list keys holding no list and records nested past the bound, which fail their stream (never
//! COMPLETE) and keep what was read before.

use crate::test_support::reads::*;
use crate::test_support::{ok, query};

/// The lines of a read, parsed.
fn parsed(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The statuses a stream reported, in order.
fn statuses(lines: &[Value], stream: &str) -> Vec<String> {
    lines
        .iter()
        .filter(|v| v["trace"]["stream_status"]["stream_descriptor"]["name"] == stream)
        .filter_map(|v| v["trace"]["stream_status"]["status"].as_str())
        .map(String::from)
        .collect()
}

/// Each page of ids as a PHP object-list (keys with gaps, written out of order).
fn as_object(recs: &[Value]) -> Value {
    let mut o = serde_json::Map::new();
    for (i, r) in recs.iter().enumerate().rev() {
        o.insert((i * 2).to_string(), r.clone());
    }
    Value::Object(o)
}

/// A main list and a sideload that come as objects are read whole, in key order, and COMPLETE.
#[test]
fn object_lists_main_and_sideload_are_read_whole() {
    let cfg = client_config(json!({}));
    let mut fake = Fake::new(SECOND / 100, |p: &str| {
        let after: u64 = query(p, "id_greater")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let ids: Vec<u64> = if p.contains("DESC") {
            vec![250]
        } else {
            (after + 1..=250.min(after + 100)).collect()
        };
        let contacts: Vec<Value> = ids.iter().map(|i| json!({"id": i.to_string()})).collect();
        let tags: Vec<Value> = ids
            .iter()
            .map(|i| json!({"id": format!("9{i}"), "contact": i.to_string()}))
            .collect();
        ok(
            json!({"contacts": as_object(&contacts), "contactTags": as_object(&tags),
            "meta": {"total": "250"}}),
        )
    });
    let jobs = vec![
        job_of("contacts", false, StreamState::default()),
        job_of("contact_tags", false, StreamState::default()),
    ];
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let s = read(&mut client, &cfg, jobs, &mut sink);
    assert!(s.streams.iter().all(|x| x.failure.is_none()), "{s:?}");
    let got = ids(&sink.0, "contacts");
    let mut sorted = got.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, (1..=250).collect::<Vec<_>>());
    let tags = ids(&sink.0, "contact_tags");
    assert_eq!(tags.len(), 250, "{tags:?}");
    // Within a page, key order: ascending ids as the keys ascend.
    assert!(got.windows(2).take(99).all(|w| w[0] < w[1]), "{got:?}");
    let v = parsed(&sink.0);
    assert_eq!(
        statuses(&v, "contacts").last().map(String::as_str),
        Some("COMPLETE")
    );
    assert_eq!(
        statuses(&v, "contact_tags").last().map(String::as_str),
        Some("COMPLETE")
    );
}

/// Runs a `tags` read of 300 records whose third page is `third` (the other pages are right);
/// returns the summary and the lines.
fn tags_with_third_page(third: &'static str) -> (crate::engine::ReadSummary, Vec<Value>) {
    let cfg = client_config(json!({}));
    let mut fake = Fake::new(SECOND / 100, move |p: &str| {
        let off = crate::test_support::offset_of(p);
        // Pages overlap by a record: the third starts at offset 198.
        if (150..250).contains(&off) {
            return Ok(HttpResponse {
                status: 200,
                headers: vec![],
                body: third.as_bytes().to_vec(),
            });
        }
        let recs: Vec<Value> = (off + 1..=300.min(off + 100))
            .map(|i| json!({"id": i.to_string()}))
            .collect();
        ok(json!({"tags": recs, "meta": {"total": "300"}}))
    });
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let s = read(
        &mut client,
        &cfg,
        vec![tags_job(StreamState::default())],
        &mut sink,
    );
    (s, parsed(&sink.0))
}

/// A list key holding a string, a number or an object of non-records fails the stream with the
/// key and the type (system_error, INCOMPLETE), after the pages before it, with their STATE.
#[test]
fn a_list_key_holding_no_list_fails_the_stream() {
    for (third, want) in [
        (
            r#"{"tags": "", "meta": {"total": "300"}}"#,
            "'tags' is a string",
        ),
        (r#"{"tags": 0}"#, "'tags' is a number"),
        (
            r#"{"tags": {"0": "x"}}"#,
            "key \"0\" of the answer's 'tags' is a string",
        ),
        (
            r#"{"tags": [{"id": "201"}, null]}"#,
            "item 1 of the answer's 'tags' is null",
        ),
    ] {
        let (s, lines) = tags_with_third_page(third);
        let f = s.streams[0].failure.clone().expect("the stream fails");
        assert_eq!(f.kind, crate::vocab::failure::FailureType::System);
        assert!(f.message.contains(want), "{}", f.message);
        assert!(f.message.contains("offset 198"), "{}", f.message);
        let st = statuses(&lines, "tags");
        assert!(!st.iter().any(|x| x == "COMPLETE"), "{st:?}");
        assert_eq!(st.last().map(String::as_str), Some("INCOMPLETE"));
        let recs = lines.iter().filter(|v| v["type"] == "RECORD").count();
        assert!(recs >= 199, "{recs}");
        assert!(
            lines.iter().any(|v| v["type"] == "STATE"),
            "the pages before keep their state"
        );
        assert!(lines.iter().any(|v| v["type"] == "TRACE"
            && v["trace"]["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(want))));
    }
}

/// A record nested past 64 levels fails its stream naming the record's id; what came before is
/// kept.
#[test]
fn a_record_nested_too_deep_fails_its_stream_by_id() {
    let deep: &'static str = Box::leak(
        format!(
            r#"{{"tags": [{{"id": "201"}}, {{"id": "202", "x": {}{}}}]}}"#,
            "[".repeat(5_000),
            "]".repeat(5_000)
        )
        .into_boxed_str(),
    );
    let (s, lines) = tags_with_third_page(deep);
    let f = s.streams[0].failure.clone().expect("the stream fails");
    assert!(f.message.contains(r#"record "202""#), "{}", f.message);
    assert!(f.message.contains("deeper than 64 levels"), "{}", f.message);
    assert!(!statuses(&lines, "tags").iter().any(|x| x == "COMPLETE"));
    assert!(lines.iter().filter(|v| v["type"] == "RECORD").count() >= 199);
    assert!(!lines.iter().any(|v| v["record"]["data"]["id"] == "202"));
    assert!(lines.iter().any(|v| v["type"] == "STATE"));
}

/// Primary keys come out as strings (one type per stream): integer ids on a page are delivered
/// as `"7"`, never `7`, so `7` and `"7"` cannot become two rows downstream.
#[test]
fn integer_ids_are_delivered_as_strings() {
    let cfg = client_config(json!({}));
    let mut fake = Fake::new(SECOND / 100, |_: &str| {
        ok(json!({"tags": [{"id": 7, "tag": "a"}, {"id": "8", "tag": "b"}], "meta": {"total": 2}}))
    });
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let s = read(
        &mut client,
        &cfg,
        vec![tags_job(StreamState::default())],
        &mut sink,
    );
    assert!(s.streams[0].failure.is_none());
    let recs: Vec<Value> = parsed(&sink.0)
        .into_iter()
        .filter(|v| v["type"] == "RECORD")
        .map(|v| v["record"]["data"].clone())
        .collect();
    assert_eq!(
        recs,
        [
            json!({"id": "7", "tag": "a"}),
            json!({"id": "8", "tag": "b"})
        ]
    );
}
