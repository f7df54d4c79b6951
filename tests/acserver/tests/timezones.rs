//! Through wasmtime: account-local timestamps under any `account_timezone`
//! and across a daylight-saving change, and event rows written after their event time. Every
//! update is delivered (exact ids), none invented, and every stream completes.

mod common;
use ac_test_server::{parse_instant_ms, Dataset, Server, Zone};
use common::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

const KEY: &str = "tz-key-7e11";

fn server(contacts: usize, zone: Zone) -> Server {
    TestServer::new(KEY, 31, contacts)
        .data(|d| d.set_zone(zone))
        .start()
}

/// A config with this `account_timezone` (None: left out, i.e. +00:00).
fn config_tz(base: &str, tz: Option<&str>) -> String {
    // Every pass complete (full_sweep_hours 0): these are the rules of a complete incremental
    // pass; between sweeps contact_tags is read newest first by creation (between_sweeps.rs).
    let mut c =
        json!({"api_url": base, "api_key": KEY, "requests_per_second": 50, "full_sweep_hours": 0});
    if let Some(tz) = tz {
        c["account_timezone"] = json!(tz);
    }
    c.to_string()
}

/// Epoch seconds of an RFC 3339 UTC instant.
fn epoch(s: &str) -> i64 {
    parse_instant_ms(s).expect("a valid instant") / 1000
}

/// The last STATE of each stream, as the JSON list a runner passes back.
fn states(run: &Run, prev: &mut BTreeMap<String, Value>) -> String {
    for m in run.of_type("STATE") {
        if let Some(n) = m["state"]["stream"]["stream_descriptor"]["name"].as_str() {
            prev.insert(n.to_string(), m["state"].clone());
        }
    }
    Value::Array(prev.values().cloned().collect()).to_string()
}

/// The saved cursor of a stream (epoch seconds) and the ids saved with it.
fn cursor(prev: &BTreeMap<String, Value>, stream: &str) -> (i64, Vec<String>) {
    let st = &prev[stream]["stream"]["stream_state"];
    let c = st["cursor"].as_str().expect("a cursor was saved");
    let ids = st["cursor_ids"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    (epoch(c), ids)
}

/// Asserts a successful read in which every stream ended COMPLETE.
fn assert_complete(run: &Run, streams: &[&str]) {
    assert_eq!(run.code, 0, "{}", run.stderr);
    for s in streams {
        let done = run.of_type("TRACE").iter().any(|m| {
            m["trace"]["stream_status"]["stream_descriptor"]["name"] == *s
                && m["trace"]["stream_status"]["status"] == "COMPLETE"
        });
        assert!(done, "{s} did not complete: {}", run.stderr);
    }
}

fn set(ids: &[String]) -> BTreeSet<String> {
    ids.iter().cloned().collect()
}

/// Asserts no duplicates and that every id exists on the server (none invented).
fn assert_real(srv: &Server, stream: &str, got: &[String]) {
    let all: BTreeSet<String> = srv.with_dataset(|d| d.ids(stream)).into_iter().collect();
    assert_eq!(set(got).len(), got.len(), "{stream}: duplicates");
    assert!(
        got.iter().all(|i| all.contains(i)),
        "{stream}: ids the server does not have: {got:?}"
    );
}

/// The scenario of the issue on `contact_tags` (an account-local `updated_timestamp`): a full
/// pass, then a pass during which, after its first page, the first record and the last record
/// are updated at the given instants; the next pass must deliver the first.
fn behind_the_read_position(zone: Zone, tz: Option<&str>, pass_start: &str, touches: [&str; 2]) {
    let stream = "contact_tags";
    let srv = server(200, zone);
    srv.with_dataset(|d| d.set_clock(epoch(pass_start) - 600));
    let s = Scratch::new("tz");
    let cfg = s.write("c.json", &config_tz(&srv.base_url(), tz));
    let cat = s.write("cat.json", &catalog(&[stream], true));
    let all = srv.with_dataset(|d| d.ids(stream));
    assert!(all.len() > 200, "three pages at least");
    let (low, high) = (all[0].clone(), all[all.len() - 1].clone());

    let first = wasmtime(&s, &["read", "--config", &cfg, "--catalog", &cat]);
    assert_complete(&first, &[stream]);
    assert_exactly(
        stream,
        all.clone(),
        ids_by_stream(&first.messages()).get(stream),
    );
    let mut saved = BTreeMap::new();
    let st = s.write("state.json", &states(&first, &mut saved));

    // The second pass begins at `pass_start`; right after its first page (request 2, after the
    // key check) has been answered, `high` (ahead) and `low` (behind) change, in the order and at
    // the instants given: `touches[0]` for `high`, `touches[1]` for `low`.
    srv.with_dataset(|d| d.set_clock(epoch(pass_start)));
    let (t_high, t_low) = (epoch(touches[0]), epoch(touches[1]));
    let (h, l) = (high.clone(), low.clone());
    srv.mutate_after(
        2,
        Box::new(move |d: &mut Dataset| {
            d.set_clock(t_high - 1);
            d.touch_ids(stream, &[&h]);
            d.set_clock(t_low - 1);
            d.touch_ids(stream, &[&l]);
        }),
    );
    let second = wasmtime(
        &s,
        &["read", "--config", &cfg, "--catalog", &cat, "--state", &st],
    );
    assert_complete(&second, &[stream]);
    let got2 = ids_by_stream(&second.messages())
        .remove(stream)
        .unwrap_or_default();
    assert_real(&srv, stream, &got2);
    assert_eq!(
        got2,
        vec![high.clone()],
        "zone {zone:?}, account_timezone {tz:?}: the second pass reads the update ahead only"
    );
    let wall = |id: &str| {
        srv.with_dataset(|d| {
            d.records(stream)
                .into_iter()
                .find(|r| r["id"] == json!(id))
                .map(|r| r["updated_timestamp"].clone())
        })
    };
    let st = s.write("state.json", &states(&second, &mut saved));

    let third = wasmtime(
        &s,
        &["read", "--config", &cfg, "--catalog", &cat, "--state", &st],
    );
    assert_complete(&third, &[stream]);
    let got3 = ids_by_stream(&third.messages())
        .remove(stream)
        .unwrap_or_default();
    assert_real(&srv, stream, &got3);
    // The update behind the read position comes now. So does the one ahead again: its wall clock
    // may mean any instant up to 26 hours later, so it stays inside the overlap.
    assert_eq!(
        set(&got3),
        set(&[low.clone(), high.clone()]),
        "zone {zone:?}, account_timezone {tz:?}: low {low} at {:?}, high {high} at {:?}",
        wall(&low),
        wall(&high)
    );
    // The saved cursor never passed the server time at which the second pass began.
    let (c, _) = cursor(&saved, stream);
    assert!(
        c <= epoch(pass_start),
        "cursor {c} is after the pass start {}",
        epoch(pass_start)
    );
}

#[test]
fn no_update_is_lost_whatever_account_timezone_says() {
    let _g = serial();
    // An account at -05:00 (no daylight saving) with the default, the right and a wrong setting;
    // accounts at both extremes with settings at the other extreme.
    for (zone, tz) in [
        (Zone::Fixed(-300), None),
        (Zone::Fixed(-300), Some("-05:00")),
        (Zone::Fixed(-300), Some("+14:00")),
        (Zone::Fixed(-720), Some("+14:00")),
        (Zone::Fixed(840), Some("-12:00")),
    ] {
        behind_the_read_position(
            zone,
            tz,
            "2025-06-01T15:00:00Z",
            ["2025-06-01T15:00:40Z", "2025-06-01T15:00:30Z"],
        );
    }
}

#[test]
fn no_update_is_lost_across_the_autumn_clock_change() {
    let _g = serial();
    // New York, 2 November 2025: 01:59:59 EDT (05:59:59Z) is followed by 01:00:00 EST. The pass
    // starts at 01:45 EDT; the record ahead changes at 01:50 EDT, the one behind at 01:20 EST, an
    // hour later in time but earlier on the wall clock. The summer offset (-04:00), the winter
    // one and the default must all deliver it.
    for tz in [Some("-04:00"), Some("-05:00"), None] {
        behind_the_read_position(
            Zone::NewYork,
            tz,
            "2025-11-02T05:45:00Z",
            ["2025-11-02T05:50:00Z", "2025-11-02T06:20:00Z"],
        );
    }
}

#[test]
fn event_rows_written_late_are_read_by_the_next_sync() {
    let _g = serial();
    // Streams whose cursor is when something happened: rows can be written after a sync has
    // passed that time. The stream table gives them a one-hour overlap.
    let streams = [
        "activities",
        "email_activities",
        "sms",
        "contact_emails",
        "deal_activities",
        "contact_conversions",
    ];
    let srv = server(300, Zone::NewYork);
    srv.with_dataset(|d| d.set_clock(epoch("2025-06-01T15:00:00Z")));
    let s = Scratch::new("late");
    let cfg = s.write("c.json", &config_tz(&srv.base_url(), Some("-05:00")));
    let cat = s.write("cat.json", &catalog(&streams, true));
    let first = wasmtime(&s, &["read", "--config", &cfg, "--catalog", &cat]);
    assert_complete(&first, &streams);
    let got = ids_by_stream(&first.messages());
    for st in streams {
        assert_exactly(st, srv.with_dataset(|d| d.ids(st)), got.get(st));
    }
    let mut saved = BTreeMap::new();
    let state = s.write("state.json", &states(&first, &mut saved));

    // After the sync, each stream gets a row whose event time is 30 minutes before its saved
    // cursor: logged late.
    let mut late = BTreeMap::new();
    for st in streams {
        let (c, _) = cursor(&saved, st);
        let ids = srv.with_dataset(|d| {
            d.set_clock(epoch("2025-06-01T15:10:00Z"));
            let ids = d.insert(st, 1);
            d.backdate(st, &ids, c - 1800)
        });
        assert_eq!(ids.len(), 1, "{st}");
        late.insert(st, ids[0].clone());
    }
    let second = wasmtime(
        &s,
        &[
            "read",
            "--config",
            &cfg,
            "--catalog",
            &cat,
            "--state",
            &state,
        ],
    );
    assert_complete(&second, &streams);
    let got = ids_by_stream(&second.messages());
    for st in streams {
        let have = got.get(st).cloned().unwrap_or_default();
        assert_real(&srv, st, &have);
        // Exactly the late row and the records inside the overlap (an hour before the cursor).
        let (c, _) = cursor(&saved, st);
        let field = match st {
            "contact_emails" => "sdate",
            "deal_activities" | "contact_conversions" => "cdate",
            _ => "tstamp",
        };
        let want: BTreeSet<String> = srv.with_dataset(|d| {
            d.records(st)
                .into_iter()
                // A row without a usable event time is delivered every time.
                .filter(|r| {
                    r[field]
                        .as_str()
                        .and_then(|v| parse_instant_ms(v).ok())
                        .is_none_or(|ms| ms / 1000 >= c - 3600)
                })
                .filter_map(|r| r["id"].as_str().map(String::from))
                .collect()
        });
        assert!(
            want.contains(&late[st]),
            "{st}: the late row is in the overlap"
        );
        assert_eq!(
            set(&have),
            want,
            "{st}: the late row (id {}) and the overlap",
            late[st]
        );
    }
}
