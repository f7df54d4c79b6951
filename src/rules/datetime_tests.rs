use super::*;

#[test]
fn offsets_are_honoured() {
    let a = parse_instant("2018-09-12T16:53:50-05:00", 0).unwrap();
    let b = parse_instant("2018-09-12T21:53:50Z", 0).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.to_rfc3339(), "2018-09-12T21:53:50Z");
}

#[test]
fn naive_values_use_the_account_offset() {
    let a = parse_instant("2021-04-08 11:17:44", -300).unwrap();
    assert_eq!(a.to_rfc3339(), "2021-04-08T16:17:44Z");
    assert_eq!(a.to_naive_at(-300), "2021-04-08 11:17:44");
}

#[test]
fn nanoseconds_and_date_only() {
    let a = parse_instant("2021-04-16T15:08:25.783751329Z", 0).unwrap();
    assert_eq!(a.to_rfc3339(), "2021-04-16T15:08:25.783751329Z");
    let d = parse_instant("2021-04-16", 0).unwrap();
    assert_eq!(d.to_rfc3339(), "2021-04-16T00:00:00Z");
    assert!(a > d);
}

#[test]
fn strings_that_sort_wrong_compare_right() {
    // As strings the first sorts later; as instants it is earlier.
    let a = parse_instant("2020-01-01T10:00:00+05:00", 0).unwrap();
    let b = parse_instant("2020-01-01T06:00:00Z", 0).unwrap();
    assert!(a < b);
}

#[test]
fn zero_dates_and_garbage_are_none() {
    for s in [
        "0000-00-00",
        "0000-00-00 00:00:00",
        "",
        "yesterday",
        "2020-13-01",
        "2020-01-01T10:00:00+99:00",
    ] {
        assert_eq!(parse_instant(s, 0), None, "{s}");
    }
    assert!(parse_instant("2019-09-06T2:10:00-05:00", 0).is_some());
}

#[test]
fn http_dates() {
    assert_eq!(
        parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT")
            .map(|i| i.to_rfc3339())
            .as_deref(),
        Some("1994-11-06T08:49:37Z")
    );
    assert_eq!(parse_http_date("yesterday"), None);
    assert_eq!(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"), None);
}

#[test]
fn offset_strings() {
    assert_eq!(parse_offset("-05:00"), Some(-300));
    assert_eq!(parse_offset("+0530"), Some(330));
    assert_eq!(parse_offset("UTC"), Some(0));
    assert_eq!(parse_offset("five"), None);
    assert_eq!(parse_offset("+5:30"), Some(330));
    assert_eq!(parse_offset("-5"), Some(-300));
    // Multibyte text where the two-digit split would fall inside a character, and forms
    // outside the documented ones.
    for bad in [
        "+1é1", "+1€", "+𝟙", "-1:1", "--05", "++05:00", "+05:+3", "+0:0:0", "+15",
    ] {
        assert_eq!(parse_offset(bad), None, "{bad}");
    }
}

#[test]
fn zones_are_recognised() {
    for s in [
        "2024-03-05T10:11:12Z",
        "2024-03-05T10:11:12-05:00",
        "2024-03-05T10:11:12+0530",
        "2021-04-16T15:08:25.783751329Z",
    ] {
        assert!(has_zone(s), "{s}");
    }
    for s in [
        "2024-03-05 10:11:12",
        "2024-03-05",
        "2024-03-05T10:11:12",
        "",
        "2024",
    ] {
        assert!(!has_zone(s), "{s}");
    }
}

#[test]
fn account_local_cursors_are_never_early_for_any_offset_or_dst() {
    // The wall clock `2024-11-03 01:30:00` happens twice in New York (EDT, then EST) and
    // means a different instant at every offset from -12:00 to +14:00: the cursor reading is
    // never before any of them.
    let c = cursor_instant("2024-11-03 01:30:00").unwrap();
    for off in (-12 * 60..=14 * 60).step_by(15) {
        let truth = parse_instant("2024-11-03 01:30:00", off).unwrap();
        assert!(c >= truth, "offset {off}");
    }
    assert_eq!(c.to_rfc3339(), "2024-11-03T13:30:00Z");
    // Zoned values are exact.
    assert_eq!(
        cursor_instant("2024-11-03T01:30:00-04:00").map(|i| i.to_rfc3339()),
        Some("2024-11-03T05:30:00Z".into())
    );
    assert_eq!(cursor_instant("0000-00-00 00:00:00"), None);
}

#[test]
fn civil_roundtrip() {
    for days in [-800_000i64, -1, 0, 1, 59, 60, 10_000, 20_000, 2_000_000] {
        let (y, m, d) = civil_from_days(days);
        assert_eq!(days_from_civil(y, m, d), days);
    }
}

/// Timestamps and offsets.
mod boundaries {
    use crate::rules::datetime::{
        is_zero_date, parse_http_date, parse_instant, parse_offset, Instant,
    };

    /// UTC offsets run from -14:00 to +14:00 (Kiribati); anything further is a typo.
    #[test]
    fn utc_offsets_stop_at_fourteen_hours() {
        assert_eq!(parse_offset("+14:00"), Some(840));
        assert_eq!(parse_offset("-14:00"), Some(-840));
        assert_eq!(parse_offset("+15:00"), None);
        assert_eq!(parse_offset("-23:00"), None);
        assert_eq!(parse_offset("+05:60"), None);
        assert_eq!(parse_offset("+05:59"), Some(359));
        assert_eq!(parse_offset("+0545"), Some(345));
        assert_eq!(parse_offset("-3"), Some(-180));
        assert_eq!(parse_offset("z"), Some(0));
        assert_eq!(parse_offset(""), None);
    }

    /// Calendar arithmetic against an independent reference (Python's datetime): leap days, century
    /// and 400-year rules, the epoch's both sides, years 1 and 9999.
    #[test]
    fn instants_match_an_independent_calendar() {
        let vectors: [(&str, i64); 21] = [
            ("0001-01-01T00:00:00Z", -62135596800),
            ("0004-02-29T12:00:00Z", -62035848000),
            ("0100-03-01T00:00:00Z", -59006361600),
            ("0399-12-31T23:59:59Z", -49544438401),
            ("0400-02-29T00:00:00Z", -49539340800),
            ("1600-02-29T06:07:08Z", -11670976372),
            ("1899-12-31T23:59:59Z", -2208988801),
            ("1900-03-01T00:00:00Z", -2203891200),
            ("1969-12-31T23:59:59Z", -1),
            ("1970-01-01T00:00:00Z", 0),
            ("1970-01-01T00:00:01Z", 1),
            ("1999-12-31T23:59:59Z", 946684799),
            ("2000-02-29T00:00:00Z", 951782400),
            ("2000-03-01T00:00:00Z", 951868800),
            ("2024-02-29T23:59:59Z", 1709251199),
            ("2024-03-01T00:00:00Z", 1709251200),
            ("2024-12-31T12:34:56Z", 1735648496),
            ("2100-02-28T00:00:00Z", 4107456000),
            ("2100-03-01T00:00:00Z", 4107542400),
            ("2400-02-29T00:00:00Z", 13574563200),
            ("9999-12-31T23:59:59Z", 253402300799),
        ];
        for (text, secs) in vectors {
            let at = Instant(secs as i128 * 1_000_000_000);
            assert_eq!(parse_instant(text, 0), Some(at), "{text}");
            assert_eq!(at.to_rfc3339(), text, "{secs}");
            assert_eq!(at.plus_seconds(1).0 - at.0, 1_000_000_000);
        }
    }

    /// Fractions of a second: up to 9 digits kept, more cut, and printed back with 9 digits.
    #[test]
    fn fractions() {
        let at = |s| parse_instant(s, 0).unwrap().0 % 1_000_000_000;
        assert_eq!(at("2024-01-01T00:00:00.5Z"), 500_000_000);
        assert_eq!(at("2024-01-01T00:00:00.000000001Z"), 1);
        assert_eq!(at("2024-01-01T00:00:00.1234567891Z"), 123_456_789);
        assert_eq!(at("2024-01-01T00:00:00.Z"), 0);
        assert_eq!(
            at("2024-01-01 00:00:00.25"),
            250_000_000,
            "a fraction at the very end"
        );
        assert_eq!(
            Instant(1_500_000_000).to_rfc3339(),
            "1970-01-01T00:00:01.500000000Z"
        );
        assert_eq!(Instant(-1).to_rfc3339(), "1969-12-31T23:59:59.999999999Z");
    }

    /// Offsets and naive times: every accepted shape, its exact instant, and the limits.
    #[test]
    fn instant_shapes_and_limits() {
        let secs =
            |s: &str, naive: i32| parse_instant(s, naive).map(|i| (i.0 / 1_000_000_000) as i64);
        let base = 1709251200; // 2024-03-01T00:00:00Z
        assert_eq!(secs("2024-03-01T00:00:00Z", 0), Some(base));
        assert_eq!(secs("2024-03-01T00:00:00z", 0), Some(base));
        assert_eq!(secs("2024-03-01 00:00:00", 0), Some(base));
        assert_eq!(secs("2024-03-01T00:00", 0), Some(base));
        assert_eq!(secs("2024-03-01", 0), Some(base));
        assert_eq!(secs(" 2024-03-01 ", 0), Some(base));
        assert_eq!(secs("2024-03-01", 60), Some(base - 3600));
        assert_eq!(secs("2024-03-01T00:00:00", -300), Some(base + 5 * 3600));
        assert_eq!(secs("2024-03-01T05:30:00+05:30", 0), Some(base));
        assert_eq!(secs("2024-03-01T05:30:00+0530", 0), Some(base));
        assert_eq!(secs("2024-03-01T05:00:00+05", 0), Some(base));
        assert_eq!(secs("2024-02-29T19:00:00-05:00", 0), Some(base));
        assert_eq!(secs("2024-03-01T23:00:00+23:00", 0), Some(base));
        assert_eq!(secs("2024-03-01T00:59:00+00:59", 0), Some(base));
        assert_eq!(
            secs("2024-3-1T0:00:00Z", 0),
            Some(base),
            "one digit fewer is read"
        );
        assert_eq!(
            secs("2024-03-01T23:59:60Z", 0),
            Some(base + 86400),
            "a leap second"
        );
        assert_eq!(secs("2024-03-31", 0), Some(base + 30 * 86400));
        assert_eq!(secs("2024-12-01", 0), Some(1733011200));
        for bad in [
            "2024-03-01T24:00:00Z",
            "2024-03-01T00:60:00Z",
            "2024-03-01T00:00:61Z",
            "2024-03-01T00:00:00+24:00",
            "2024-03-01T00:00:00+05:60",
            "2024-03-01T00:00:00+05:00x",
            "2024-03-01T00:00:00Zx",
            "2024-03-01T00:00:00Q",
            "2024-03-01T00:00:00X05:00",
            "2024-03-01T00:00:00Z05",
            "2024-03-01T00",
            "2024-03-01T:00",
            "2024-03-01T00:00:",
            "2024-00-01",
            "2024-13-01",
            "2024-03-00",
            "2024-03-32",
            "2024/03/01",
            "2024-03/01",
            "-2024-03-01",
            "0000-00-00T00:00:00",
            "   ",
        ] {
            assert_eq!(parse_instant(bad, 0), None, "{bad}");
        }
        assert!(is_zero_date("0000-00-00T00:00:00"));
        assert!(!is_zero_date("0000-00-01"));
    }

    /// Naive display at an offset crosses days and years correctly.
    #[test]
    fn naive_display_at_offsets() {
        let at = parse_instant("2024-01-01T02:30:00Z", 0).unwrap();
        assert_eq!(at.to_naive_at(-180), "2023-12-31 23:30:00");
        assert_eq!(at.to_naive_at(0), "2024-01-01 02:30:00");
        assert_eq!(at.to_naive_at(840), "2024-01-01 16:30:00");
        let late = parse_instant("2024-12-31T23:59:59.9Z", 0).unwrap();
        assert_eq!(late.to_naive_at(1), "2025-01-01 00:00:59");
        assert_eq!(Instant(-1).to_naive_at(0), "1969-12-31 23:59:59");
    }

    /// HTTP dates: the IMF-fixdate form only, GMT or UTC, any month case, one-digit days.
    #[test]
    fn http_date_forms() {
        let s = |v: &str| parse_http_date(v).map(|i| i.to_rfc3339());
        assert_eq!(
            s("Fri, 01 Mar 2024 12:00:00 GMT").as_deref(),
            Some("2024-03-01T12:00:00Z")
        );
        assert_eq!(
            s("Fri, 1 mar 2024 12:00:00 UTC").as_deref(),
            Some("2024-03-01T12:00:00Z")
        );
        assert_eq!(
            s("Tue, 31 DEC 2024 23:59:59 GMT").as_deref(),
            Some("2024-12-31T23:59:59Z")
        );
        assert_eq!(
            s("Fri, 01 Jan 2024 12:00:00 GMT").as_deref(),
            Some("2024-01-01T12:00:00Z")
        );
        assert_eq!(s("Fri, 01 Mar 2024 12:00:00 CET"), None);
        assert_eq!(s("Fri, 01 Mar 2024 12:00:00"), None);
        assert_eq!(s("Fri, 01 Mar 2024 12:00:00 GMT extra"), None);
        assert_eq!(s("Fri, 01 Mar 2024 25:00:00 GMT"), None);
    }

    /// Offset text: hours with or without minutes, with or without a colon, and the named forms.
    #[test]
    fn offset_text_forms() {
        assert_eq!(parse_offset("+5"), Some(300));
        assert_eq!(parse_offset("-0930"), Some(-570));
        assert_eq!(parse_offset(" -09:30 "), Some(-570));
        assert_eq!(parse_offset("+00:00"), Some(0));
        assert_eq!(parse_offset("utc"), Some(0));
        assert_eq!(parse_offset("Z"), Some(0));
        assert_eq!(parse_offset("05:00"), None);
        assert_eq!(parse_offset("+"), None);
        assert_eq!(parse_offset("+05:xx"), None);
        assert_eq!(parse_offset("+05:-1"), None);
        assert_eq!(parse_offset("+-5"), None);
    }
}
