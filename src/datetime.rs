//! Timestamps as the API sends them, turned into comparable instants.
//!
//! ActiveCampaign mixes `2018-09-12T16:53:50-05:00`, `2021-04-08 11:17:44` (no zone: account time),
//! `2021-04-16T15:08:25.783751329Z` and the MySQL zero dates. Cursors must compare as instants, so
//! every shape is reduced to nanoseconds since the Unix epoch.

/// A point in time: nanoseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub i128);

/// True for the MySQL "no date" values the API sends instead of null.
pub fn is_zero_date(s: &str) -> bool {
    s == "0000-00-00" || s == "0000-00-00 00:00:00" || s == "0000-00-00T00:00:00"
}

/// Days since the epoch for a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The calendar date of a day number (inverse of `days_from_civil`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Reads `n` ASCII digits at `pos`, leniently accepting one digit fewer when the next byte is a
/// separator (docs show values such as `2019-09-06T2:10:00-05:00`).
fn digits(b: &[u8], pos: &mut usize, n: usize) -> Option<i64> {
    let start = *pos;
    let mut v: i64 = 0;
    while *pos < b.len() && *pos - start < n && b[*pos].is_ascii_digit() {
        v = v * 10 + (b[*pos] - b'0') as i64;
        *pos += 1;
    }
    if *pos == start {
        None
    } else {
        Some(v)
    }
}

/// Parses any timestamp shape the API uses. Values without a zone are read at `naive_offset_minutes`
/// (the account's UTC offset). Returns `None` for zero dates, empty strings and anything unparsable.
pub fn parse_instant(s: &str, naive_offset_minutes: i32) -> Option<Instant> {
    let s = s.trim();
    if s.is_empty() || is_zero_date(s) {
        return None;
    }
    let b = s.as_bytes();
    let mut p = 0;
    let y = digits(b, &mut p, 4)?;
    if b.get(p) != Some(&b'-') {
        return None;
    }
    p += 1;
    let mo = digits(b, &mut p, 2)?;
    if b.get(p) != Some(&b'-') {
        return None;
    }
    p += 1;
    let d = digits(b, &mut p, 2)?;
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let (mut hh, mut mi, mut ss, mut nanos) = (0i64, 0i64, 0i64, 0i64);
    if p < b.len() && (b[p] == b'T' || b[p] == b' ') {
        p += 1;
        hh = digits(b, &mut p, 2)?;
        if b.get(p) != Some(&b':') {
            return None;
        }
        p += 1;
        mi = digits(b, &mut p, 2)?;
        if b.get(p) == Some(&b':') {
            p += 1;
            ss = digits(b, &mut p, 2)?;
        }
        if b.get(p) == Some(&b'.') {
            p += 1;
            let start = p;
            let mut frac: i64 = 0;
            while p < b.len() && b[p].is_ascii_digit() {
                if p - start < 9 {
                    frac = frac * 10 + (b[p] - b'0') as i64;
                }
                p += 1;
            }
            let used = (p - start).min(9);
            nanos = frac * 10i64.pow((9 - used) as u32);
        }
        if hh > 23 || mi > 59 || ss > 60 {
            return None;
        }
    }
    let offset_minutes: i64 = match b.get(p) {
        None => naive_offset_minutes as i64,
        Some(b'Z') | Some(b'z') if p + 1 == b.len() => 0,
        Some(&c) if c == b'+' || c == b'-' => {
            p += 1;
            let oh = digits(b, &mut p, 2)?;
            if b.get(p) == Some(&b':') {
                p += 1;
            }
            let om = digits(b, &mut p, 2).unwrap_or(0);
            if p != b.len() || oh > 23 || om > 59 {
                return None;
            }
            let m = oh * 60 + om;
            if c == b'-' {
                -m
            } else {
                m
            }
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    let secs = days * 86400 + hh * 3600 + mi * 60 + ss - offset_minutes * 60;
    Some(Instant(secs as i128 * 1_000_000_000 + nanos as i128))
}

/// The westernmost UTC offset in use (UTC-12:00), in minutes. A zone-less time read at this
/// offset is the latest instant it can mean, wherever the account is and whatever its daylight
/// saving (offsets run from -12:00 to +14:00).
pub const WESTMOST_OFFSET_MINUTES: i32 = -12 * 60;

/// Whether a timestamp carries its zone (`Z` or an offset) rather than being account-local.
pub fn has_zone(s: &str) -> bool {
    let s = s.trim();
    // After the date (10 bytes), a zone is a trailing `Z` or a sign; the date's own `-`s come
    // before that.
    s.get(10..)
        .is_some_and(|rest| rest.ends_with(['Z', 'z']) || rest.contains('+') || rest.contains('-'))
}

/// A cursor value as an instant that is never earlier than the moment it stands for. Values with
/// a zone are exact. Account-local values (`2024-03-05 10:11:12`) are read at
/// [`WESTMOST_OFFSET_MINUTES`]: `account_timezone` may be wrong, and a fixed offset cannot follow
/// daylight saving, so any other reading could put an update before a cursor that is in fact
/// earlier than it, and the update would be skipped. Reading late only re-delivers records from
/// up to a day before the cursor.
pub fn cursor_instant(s: &str) -> Option<Instant> {
    if has_zone(s) {
        parse_instant(s, 0)
    } else {
        parse_instant(s, WESTMOST_OFFSET_MINUTES)
    }
}

impl Instant {
    /// RFC 3339 in UTC (`2024-03-05T15:11:12Z`, fractional seconds only when present): the form
    /// cursors are stored in, so a state file reads the same whatever zone the API used.
    pub fn to_rfc3339(self) -> String {
        let secs = self.0.div_euclid(1_000_000_000) as i64;
        let nanos = self.0.rem_euclid(1_000_000_000) as i64;
        let (y, m, d) = civil_from_days(secs.div_euclid(86400));
        let sod = secs.rem_euclid(86400);
        let base = format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            sod / 3600,
            sod % 3600 / 60,
            sod % 60
        );
        if nanos == 0 {
            format!("{base}Z")
        } else {
            format!("{base}.{nanos:09}Z")
        }
    }

    /// The same wall-clock moment shown at a fixed UTC offset, without zone:
    /// `YYYY-MM-DD HH:MM:SS`. Used for filter values the API reads in account time.
    pub fn to_naive_at(self, offset_minutes: i32) -> String {
        let secs = self.0.div_euclid(1_000_000_000) as i64 + offset_minutes as i64 * 60;
        let (y, m, d) = civil_from_days(secs.div_euclid(86400));
        let sod = secs.rem_euclid(86400);
        format!(
            "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
            sod / 3600,
            sod % 3600 / 60,
            sod % 60
        )
    }

    /// This instant moved by a number of seconds (negative moves back).
    pub fn plus_seconds(self, s: i64) -> Instant {
        Instant(self.0 + s as i128 * 1_000_000_000)
    }
}

/// Parses an HTTP `Date` header (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn parse_http_date(s: &str) -> Option<Instant> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, day, month, year, time, zone] = parts.as_slice() else {
        return None;
    };
    if *zone != "GMT" && *zone != "UTC" {
        return None;
    }
    let m = MONTHS.iter().position(|x| x.eq_ignore_ascii_case(month))? + 1;
    parse_instant(&format!("{year:0>4}-{m:02}-{day:0>2}T{time}Z"), 0)
}

/// Parses a UTC offset such as `-05:00`, `+0530`, `+5`, `Z` or `UTC` into minutes. The forms: a
/// sign, then `H`, `HH`, `HHMM`, `H:MM` or `HH:MM` in ASCII digits, hours up to 14. Works on
/// characters, never byte positions, so any text (`+1é1`) is refused rather than split inside a
/// character.
pub fn parse_offset(s: &str) -> Option<i32> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("z") || s.eq_ignore_ascii_case("utc") {
        return Some(0);
    }
    let sign = match s.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    // Everything after the sign must be ASCII digits and at most one colon.
    let rest = s.get(1..)?;
    if !rest.bytes().all(|b| b.is_ascii_digit() || b == b':') {
        return None;
    }
    let (h, m) = match (rest.len(), rest.find(':')) {
        (1 | 2, None) => (rest, "0"),
        (4, None) => rest.split_at(2),
        (4, Some(1)) | (5, Some(2)) => (&rest[..rest.len() - 3], &rest[rest.len() - 2..]),
        _ => return None,
    };
    let h: i32 = h.parse().ok()?;
    let m: i32 = m.parse().ok()?;
    if !(0..=14).contains(&h) || !(0..60).contains(&m) {
        return None;
    }
    Some(sign * (h * 60 + m))
}

#[cfg(test)]
mod tests {
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
}
