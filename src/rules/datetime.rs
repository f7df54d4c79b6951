//! Timestamps as the API sends them, turned into comparable instants.
//!
//! ActiveCampaign mixes `2018-09-12T16:53:50-05:00`, `2021-04-08 11:17:44` (no zone: account time),
//! `2021-04-16T15:08:25.783751329Z` and the MySQL zero dates. Cursors must compare as instants, so
//! every shape is reduced to nanoseconds since the Unix epoch.

/// A point in time: nanoseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Instant(pub(crate) i128);

/// True for the MySQL "no date" values the API sends instead of null.
pub(crate) fn is_zero_date(s: &str) -> bool {
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
pub(crate) fn parse_instant(s: &str, naive_offset_minutes: i32) -> Option<Instant> {
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
pub(crate) const WESTMOST_OFFSET_MINUTES: i32 = -12 * 60;

/// Whether a timestamp carries its zone (`Z` or an offset) rather than being account-local.
pub(crate) fn has_zone(s: &str) -> bool {
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
pub(crate) fn cursor_instant(s: &str) -> Option<Instant> {
    if has_zone(s) {
        parse_instant(s, 0)
    } else {
        parse_instant(s, WESTMOST_OFFSET_MINUTES)
    }
}

impl Instant {
    /// The instant `ms` milliseconds after the Unix epoch (the clocks' and `emitted_at`'s unit).
    pub(crate) fn from_epoch_ms(ms: u64) -> Instant {
        Instant(ms as i128 * 1_000_000)
    }

    /// RFC 3339 in UTC (`2024-03-05T15:11:12Z`, fractional seconds only when present): the form
    /// cursors are stored in, so a state file reads the same whatever zone the API used.
    pub(crate) fn to_rfc3339(self) -> String {
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
    #[cfg(test)]
    pub(crate) fn to_naive_at(self, offset_minutes: i32) -> String {
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
    pub(crate) fn plus_seconds(self, s: i64) -> Instant {
        Instant(self.0 + s as i128 * 1_000_000_000)
    }
}

/// Parses an HTTP `Date` header (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub(crate) fn parse_http_date(s: &str) -> Option<Instant> {
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
pub(crate) fn parse_offset(s: &str) -> Option<i32> {
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
#[path = "datetime_tests.rs"]
mod tests;
