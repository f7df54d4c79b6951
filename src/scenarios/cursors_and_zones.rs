//! Native tests of the cursor rules for time zones and late rows: an
//! update made during a pass behind the read position, or a row written after its event time,
//! is read by the next pass whatever `account_timezone` says.

use crate::api::streams::{fixed_streams, StreamDef};
use crate::documents::config::Config;
use crate::documents::state::StreamState;
use crate::engine::{read, Client, HttpResponse, Job};
use crate::rules::datetime::{parse_instant, Instant};
use crate::test_support::{Fake, Lines};
use serde_json::{json, Value};

/// A config with this `account_timezone` (None: the default).
fn config(tz: Option<&str>) -> Config {
    let mut c = json!({"api_url": "http://127.0.0.1:1", "api_key": "k", "requests_per_second": 50});
    if let Some(tz) = tz {
        c["account_timezone"] = json!(tz);
    }
    Config::parse(&c.to_string()).unwrap()
}

fn def(name: &str) -> StreamDef {
    fixed_streams()
        .into_iter()
        .find(|d| d.name == name)
        .unwrap()
}

/// An account-local wall clock (`YYYY-MM-DD HH:MM:SS`) of `at` in a zone `offset_min` from UTC.
fn local(at: Instant, offset_min: i32) -> String {
    at.to_naive_at(offset_min)
}

fn at(s: &str) -> Instant {
    parse_instant(s, 0).unwrap()
}

/// One incremental pass of `def` over offset pages: `page(call, offset)` gives the records of
/// each answer (`call` counts answers from 0, so a test can change data between pages); every
/// answer carries the server time `date`. Returns the ids delivered and the final state.
fn pass(
    def: &StreamDef,
    cfg: &Config,
    state: StreamState,
    date: &str,
    mut page: impl FnMut(usize, u64) -> Vec<Value> + 'static,
) -> (Vec<String>, StreamState) {
    let key = def.list_key.clone();
    let date = date.to_string();
    let mut call = 0;
    let mut fake = Fake::new(1_000_000, move |p: &str| {
        let offset = p
            .split("offset=")
            .nth(1)
            .and_then(|o| o.split('&').next())
            .and_then(|o| o.parse().ok())
            .unwrap_or(0);
        let recs = page(call, offset);
        call += 1;
        Ok(HttpResponse {
            status: 200,
            headers: vec![("date".into(), date.clone())],
            // No total: pages are read one after the other, so data can change in between.
            body: json!({key.as_str(): recs}).to_string().into_bytes(),
        })
    });
    let mut client = Client::new(&mut fake, cfg);
    let mut sink = Lines::default();
    let job = Job {
        def: def.clone(),
        incremental: true,
        state,
        deletions: false,
    };
    let s = read(&mut client, cfg, vec![job], &mut sink);
    assert!(s.streams[0].failure.is_none(), "{:?}", s.streams[0].failure);
    let msgs: Vec<Value> = sink
        .0
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let ids = msgs
        .iter()
        .filter(|m| m["type"] == "RECORD")
        .map(|m| m["record"]["data"]["id"].as_str().unwrap_or("").to_string())
        .collect();
    let last = msgs
        .iter()
        .rev()
        .find(|m| m["type"] == "STATE")
        .map(|m| m["state"]["stream"]["stream_state"].clone())
        .unwrap();
    let cursor = def.cursor.as_deref();
    (
        ids,
        StreamState::from_value(&def.name, &last, cursor).unwrap(),
    )
}

/// 150 records (two pages) of a stream with a zone-less cursor; `changed` overrides some ids'
/// wall clock.
fn rows(field: &str, base: &str, changed: &[(u64, String)], offset: u64) -> Vec<Value> {
    (offset + 1..=(offset + 100).min(150))
        .map(|i| {
            let v = changed
                .iter()
                .find(|(id, _)| *id == i)
                .map_or(base.to_string(), |(_, v)| v.clone());
            json!({"id": i.to_string(), field: v})
        })
        .collect()
}

/// The scenario of the issue: during a pass, record 1 (already read) and then record 150 (not yet
/// read) change; the pass delivers 150; the next pass must deliver 1. The account is at `true_off`
/// (minutes) when the changes happen; `tz` is what the config says.
fn behind_the_read_position_is_read_next(tz: Option<&str>, true_off: i32, t0: &str) {
    let d = def("contact_deals");
    let cfg = config(tz);
    let start = at(t0);
    let http_date = http_date_of(start);
    // Pass 1: everything old; it sets the cursor.
    let (ids, st) = pass(&d, &cfg, StreamState::default(), &http_date, |_, off| {
        rows("updated_timestamp", "2024-01-01 00:00:00", &[], off)
    });
    assert_eq!(ids.len(), 150);
    // Pass 2 starts at `start` (the server's Date); after its first page, 1 changes at +30 s and
    // 150 at +40 s, in the account's zone.
    let v1 = local(start.plus_seconds(30), true_off);
    let v150 = local(start.plus_seconds(40), true_off);
    let (a, b) = (v1.clone(), v150.clone());
    let (ids, st) = pass(&d, &cfg, st, &http_date, move |call, off| {
        let changed = if call == 0 {
            vec![]
        } else {
            vec![(1, a.clone()), (150, b.clone())]
        };
        rows("updated_timestamp", "2024-01-01 00:00:00", &changed, off)
    });
    assert_eq!(ids, vec!["150".to_string()], "tz {tz:?}: pass 2");
    // Pass 3, a minute later: record 1's update must come.
    let later = http_date_of(start.plus_seconds(60));
    let (a, b) = (v1.clone(), v150.clone());
    let (ids, _) = pass(&d, &cfg, st, &later, move |_, off| {
        rows(
            "updated_timestamp",
            "2024-01-01 00:00:00",
            &[(1, a.clone()), (150, b.clone())],
            off,
        )
    });
    assert!(
        ids.contains(&"1".to_string()),
        "tz {tz:?}, account at {true_off} min: the update behind the read position was lost ({ids:?})"
    );
    assert!(ids.iter().all(|i| i == "1" || i == "150"), "{ids:?}");
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` for an instant.
fn http_date_of(t: Instant) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = t.0.div_euclid(1_000_000_000) as i64;
    let days = secs.div_euclid(86_400);
    let rfc = t.to_rfc3339();
    let (y, rest) = rfc.split_at(4);
    let m: usize = rest[1..3].parse().unwrap();
    format!(
        "{}, {} {} {y} {} GMT",
        DAYS[days.rem_euclid(7) as usize],
        &rest[4..6],
        MONTHS[m - 1],
        &rest[7..15]
    )
}

#[test]
fn http_dates_round_trip() {
    let t = at("2024-11-03T05:30:00Z");
    assert_eq!(http_date_of(t), "Sun, 03 Nov 2024 05:30:00 GMT");
    assert_eq!(
        crate::rules::datetime::parse_http_date(&http_date_of(t)),
        Some(t)
    );
}

#[test]
fn no_update_is_lost_whatever_account_timezone_says() {
    // The account is at -05:00; the config says nothing (+00:00), the right thing, or either
    // extreme.
    for tz in [
        None,
        Some("-05:00"),
        Some("+14:00"),
        Some("-12:00"),
        Some("+05:30"),
    ] {
        behind_the_read_position_is_read_next(tz, -300, "2024-06-01T15:00:00Z");
    }
    // And accounts at the extremes, with the default config.
    behind_the_read_position_is_read_next(None, 14 * 60, "2024-06-01T15:00:00Z");
    behind_the_read_position_is_read_next(None, -12 * 60, "2024-06-01T15:00:00Z");
}

#[test]
fn no_update_is_lost_across_the_autumn_clock_change() {
    // New York, 2024-11-03: 01:59:59 EDT (05:59:59Z) is followed by 01:00:00 EST (06:00:00Z).
    // Record 150 changed at 01:50 EDT just before the pass; the pass starts after the change
    // and record 1 changes during it at 01:20 EST: an earlier wall clock for a later update.
    let d = def("contact_deals");
    for tz in [None, Some("-04:00"), Some("-05:00")] {
        let cfg = config(tz);
        let (_, st) = pass(
            &d,
            &cfg,
            StreamState::default(),
            &http_date_of(at("2024-11-03T05:00:00Z")),
            |_, off| rows("updated_timestamp", "2024-01-01 00:00:00", &[], off),
        );
        let v150 = local(at("2024-11-03T05:50:00Z"), -240); // 01:50 EDT
        let v1 = local(at("2024-11-03T06:20:00Z"), -300); // 01:20 EST
        assert!(v1 < v150, "the later update has the earlier wall clock");
        let (a, b) = (v1.clone(), v150.clone());
        let (ids, st) = pass(
            &d,
            &cfg,
            st,
            &http_date_of(at("2024-11-03T06:10:00Z")),
            move |call, off| {
                let mut changed = vec![(150, b.clone())];
                if call > 0 {
                    changed.push((1, a.clone()));
                }
                rows("updated_timestamp", "2024-01-01 00:00:00", &changed, off)
            },
        );
        assert_eq!(ids, vec!["150".to_string()]);
        let (a, b) = (v1.clone(), v150.clone());
        let (ids, _) = pass(
            &d,
            &cfg,
            st,
            &http_date_of(at("2024-11-03T06:30:00Z")),
            move |_, off| {
                rows(
                    "updated_timestamp",
                    "2024-01-01 00:00:00",
                    &[(1, a.clone()), (150, b.clone())],
                    off,
                )
            },
        );
        assert!(ids.contains(&"1".to_string()), "tz {tz:?}: lost ({ids:?})");
    }
}

#[test]
fn the_saved_cursor_never_passes_the_pass_start() {
    // A zone-less value far in the "future" (a wrong zone) must not lift the cursor past the
    // server time at which the pass began.
    let d = def("contact_deals");
    let cfg = config(Some("+14:00"));
    let start = at("2024-06-01T15:00:00Z");
    let (_, st) = pass(
        &d,
        &cfg,
        StreamState::default(),
        &http_date_of(start),
        |_, off| rows("updated_timestamp", "2024-06-02 10:00:00", &[], off),
    );
    let c = st.cursor.unwrap();
    assert!(c <= start, "cursor {} after the pass start", c.to_rfc3339());
    assert!(c >= start.plus_seconds(-60), "{}", c.to_rfc3339());
}

/// A row written after a pass, with an event time before the cursor that pass saved.
fn late_row_delivered(d: &StreamDef) -> bool {
    let cfg = config(None);
    let field = d.cursor.clone().unwrap();
    let start = at("2024-06-01T15:00:00Z");
    let f = field.clone();
    let (ids, st) = pass(
        d,
        &cfg,
        StreamState::default(),
        &http_date_of(start),
        move |_, off| {
            if off > 0 {
                return vec![];
            }
            (1..=3)
            .map(|i| json!({"id": i.to_string(), f.as_str(): format!("2024-06-01T09:5{i}:00-05:00")}))
            .collect()
        },
    );
    assert_eq!(ids.len(), 3);
    assert_eq!(st.cursor, Some(at("2024-06-01T14:53:00Z")));
    // Row 4 happened at 09:40 local (before the cursor) and was written after the pass.
    let f = field.clone();
    let (ids, _) = pass(
        d,
        &cfg,
        st,
        &http_date_of(start.plus_seconds(600)),
        move |_, off| {
            if off > 0 {
                return vec![];
            }
            (1..=4)
                .map(|i| {
                    let t = if i == 4 {
                        "09:40".to_string()
                    } else {
                        format!("09:5{i}")
                    };
                    json!({"id": i.to_string(), f.as_str(): format!("2024-06-01T{t}:00-05:00")})
                })
                .collect()
        },
    );
    ids.contains(&"4".to_string())
}

#[test]
fn event_time_cursors_read_late_rows() {
    for name in [
        "email_activities",
        "sms",
        "contact_emails",
        "deal_activities",
    ] {
        assert!(late_row_delivered(&def(name)), "{name}");
    }
    // Without the table's overlap the late row is lost: the overlap is what reads it.
    let mut d = def("email_activities");
    d.lookback_s = 0;
    assert!(!late_row_delivered(&d));
}
