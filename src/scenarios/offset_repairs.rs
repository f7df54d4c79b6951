//! Paging through the engine: what it says about repairs and out-of-range records, and sideloads
//! carried by two consecutive pages.

use crate::test_support::reads::*;

/// Reads `tags` from a list of ids 1..=250 from which ids 2 and 3 are deleted after the first
/// request when `delete`; returns the ids delivered and the sink.
fn tags_with_deletes(delete: bool) -> (Vec<u64>, Lines) {
    let cfg = client_config(json!({}));
    let mut list: Vec<u64> = (1..=250).collect();
    let mut requests = 0;
    let mut fake = Fake::new(1_000_000, move |p: &str| {
        requests += 1;
        if delete && requests == 2 {
            list.retain(|&i| i != 2 && i != 3);
        }
        let off: usize = p
            .split("offset=")
            .nth(1)
            .and_then(|s| s.split('&').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let recs: Vec<Value> = list
            .iter()
            .skip(off)
            .take(100)
            .map(|i| json!({"id": i.to_string()}))
            .collect();
        crate::test_support::ok(json!({ "tags": recs }))
    });
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let s = read(
        &mut client,
        &cfg,
        vec![tags_job(StreamState::default())],
        &mut sink,
    );
    assert!(s.streams[0].failure.is_none(), "{:?}", s.streams[0].failure);
    (ids(&sink.0, "tags"), sink)
}

/// One page that does not continue the one before: one warning, the record ids after the
/// deleted ones all delivered once, and a closing note that one page was read again; a read of
/// a list that holds still says neither.
#[test]
fn a_repair_is_warned_once_and_counted_at_the_end() {
    let (got, lines) = tags_with_deletes(true);
    let want: Vec<u64> = (1..=250).filter(|&i| i != 2 && i != 3).collect();
    // Ids 2 and 3 came with the first page, before their delete; the rest exactly once.
    let mut got_rest: Vec<u64> = got.iter().copied().filter(|&i| i != 2 && i != 3).collect();
    got_rest.sort_unstable();
    assert_eq!(got_rest, want);
    let again: Vec<&Decision> = lines
        .1
        .iter()
        .filter(|d| matches!(d, Decision::ReadAgainFrom { .. }))
        .collect();
    assert_eq!(again.len(), 1, "{again:?}");
    assert!(
        lines
            .0
            .iter()
            .any(|l| l.contains("1 pages were read again because the list changed")),
        "{:?}",
        lines.0
    );
    let (got, lines) = tags_with_deletes(false);
    assert_eq!(got, (1..=250).collect::<Vec<_>>());
    assert!(lines.1.is_empty(), "{:?}", lines.1);
    assert!(!lines.0.iter().any(|l| l.contains("read again")));
}

/// Sideloads the previous page already carried are not delivered again; new ones on the next
/// page are, each list compared with its own kind.
#[test]
fn sideloads_repeated_by_the_next_page_come_once() {
    let cfg = client_config(json!({}));
    let mut fake = Fake::new(1_000_000, move |p: &str| {
        let second = p.contains("offset=99");
        let (fields, options, rels) = if second {
            (100..=150, vec!["o2", "o3", "r1"], vec!["r1", "r2", "o2"])
        } else {
            (1..=100, vec!["o1", "o2"], vec!["r1"])
        };
        let fields: Vec<Value> = fields.map(|i| json!({"id": i.to_string()})).collect();
        let opt = |ids: Vec<&str>| -> Vec<Value> { ids.iter().map(|i| json!({"id": i})).collect() };
        crate::test_support::ok(
            json!({"fields": fields, "fieldOptions": opt(options), "fieldRels": opt(rels)}),
        )
    });
    let jobs = [
        "contact_custom_fields",
        "contact_custom_field_options",
        "contact_custom_field_rels",
    ]
    .iter()
    .map(|n| job_of(n, false, StreamState::default()))
    .collect();
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let s = read(&mut client, &cfg, jobs, &mut sink);
    assert!(s.streams.iter().all(|x| x.failure.is_none()), "{s:?}");
    let of = |stream: &str| -> Vec<String> {
        sink.0
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["type"] == "RECORD" && v["record"]["stream"] == stream)
            .map(|v| v["record"]["data"]["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&sink.0, "contact_custom_fields").len(), 150);
    // "r1" on the options list is new to that list, as "o2" is to the rels list.
    assert_eq!(of("contact_custom_field_options"), ["o1", "o2", "o3", "r1"]);
    assert_eq!(of("contact_custom_field_rels"), ["r1", "r2", "o2"]);
}

/// A server that ignores `id_less` sends records of the next range: they are dropped with one
/// warning for the whole read, and every id still comes once; a server that honours it gets no
/// warning. Ids are the multiples of 3 up to 9,000, so pages do not end on range bounds.
#[test]
fn records_outside_the_range_are_warned_about_once() {
    for ignore_id_less in [true, false] {
        let cfg = client_config(json!({"requests_per_second": 5}));
        let mut fake = Fake::new(
            1_000_000,
            keyset_server_over((1..=3_000).map(|i| i * 3).collect(), false, ignore_id_less),
        );
        let mut client = Client::new(&mut fake, &cfg);
        let mut sink = Lines::default();
        let s = read(
            &mut client,
            &cfg,
            vec![job_of("contacts", false, StreamState::default())],
            &mut sink,
        );
        assert!(s.streams[0].failure.is_none(), "{s:?}");
        let mut got = ids(&sink.0, "contacts");
        got.sort_unstable();
        assert_eq!(got, (1..=3_000).map(|i| i * 3).collect::<Vec<_>>());
        let warns = sink
            .0
            .iter()
            .filter(|l| l.contains("outside the id range asked for"))
            .count();
        assert_eq!(warns, usize::from(ignore_id_less), "{ignore_id_less}");
    }
}

/// A pass resumed after records it names starts where its first page overlaps the last of them
/// (offset 199 for ids 196..=200 delivered at offsets 195..=199), not at the list's start.
#[test]
fn a_pass_resumed_after_named_records_starts_at_their_overlap() {
    let cfg = client_config(json!({}));
    let mut fake = Fake::new(1_000_000, tags(250));
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    let last: Vec<String> = (196..=200).map(|i: u64| i.to_string()).collect();
    let state = StreamState {
        resume: Some(crate::documents::state::Resume::OffsetAfter(200, last)),
        ..Default::default()
    };
    read(&mut client, &cfg, vec![tags_job(state)], &mut sink);
    assert_eq!(ids(&sink.0, "tags"), (201..=250).collect::<Vec<_>>());
    assert!(
        fake.starts[0].1.contains("offset=199"),
        "{}",
        fake.starts[0].1
    );
}
