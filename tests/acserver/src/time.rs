//! Calendar arithmetic, the account's timestamp formats and the lenient parser used for
//! filter values and record cursors. All instants are Unix epoch seconds (UTC) or milliseconds.

/// The account's fixed UTC offset in minutes (UTC-05:00).
pub const ACCOUNT_OFFSET_MIN: i32 = -300;

/// First generated instant: 2023-01-01 00:00:00 in the account zone (epoch seconds).
pub const GEN_START: i64 = 1_672_549_200;
/// Exclusive end of generated instants: 2025-01-01 00:00:00 in the account zone (epoch seconds).
pub const GEN_END: i64 = 1_735_707_600;

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Number of days in a month (0 for an invalid month).
pub fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 => {
            if is_leap(y) {
                29
            } else {
                28
            }
        }
        _ => 0,
    }
}

/// Broken-down wall clock of an epoch second shifted by `offset_min`.
fn wall(epoch: i64, offset_min: i32) -> (i64, u32, u32, i64, i64, i64) {
    let t = epoch + i64::from(offset_min) * 60;
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    (y, m, d, secs / 3600, (secs / 60) % 60, secs % 60)
}

/// An HTTP `Date` value (RFC 7231 IMF-fixdate): `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn fmt_http_date(epoch: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = epoch.div_euclid(86_400);
    let sod = epoch.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{}, {d:02} {} {y:04} {:02}:{:02}:{:02} GMT",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(m as usize).saturating_sub(1).min(11)],
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// How the account's wall clock relates to UTC: the fixed default, or a zone with daylight
/// saving (a test-server switch: plain timestamps then jump at the clock changes, as they do on
/// real accounts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// A fixed UTC offset in minutes.
    Fixed(i32),
    /// America/New_York rules since 2007: UTC-04:00 from the second Sunday of March 02:00 EST to
    /// the first Sunday of November 02:00 EDT, UTC-05:00 otherwise.
    NewYork,
}

impl Default for Zone {
    fn default() -> Zone {
        Zone::Fixed(ACCOUNT_OFFSET_MIN)
    }
}

/// The day number of the `n`-th Sunday (1-based) of a month.
fn nth_sunday(y: i64, m: u32, n: i64) -> i64 {
    let first = days_from_civil(y, m, 1);
    // 1970-01-01 (day 0) was a Thursday: (day + 4) mod 7 is 0 on Sundays.
    let to_sunday = (7 - (first + 4).rem_euclid(7)) % 7;
    first + to_sunday + 7 * (n - 1)
}

impl Zone {
    /// The zone's UTC offset in minutes at an instant (epoch seconds).
    pub fn offset_at(self, epoch: i64) -> i32 {
        match self {
            Zone::Fixed(m) => m,
            Zone::NewYork => {
                let (y, _, _) = civil_from_days(epoch.div_euclid(86_400));
                // 02:00 EST = 07:00Z; 02:00 EDT = 06:00Z.
                let start = nth_sunday(y, 3, 2) * 86_400 + 7 * 3600;
                let end = nth_sunday(y, 11, 1) * 86_400 + 6 * 3600;
                if (start..end).contains(&epoch) {
                    -240
                } else {
                    -300
                }
            }
        }
    }
}

/// `2024-03-05T10:11:12-05:00` (account offset).
pub fn fmt_iso(epoch: i64) -> String {
    fmt_iso_at(epoch, ACCOUNT_OFFSET_MIN)
}

/// `2024-03-05T10:11:12-04:00`: the wall clock at a UTC offset, with that offset.
pub fn fmt_iso_at(epoch: i64, off: i32) -> String {
    let (y, m, d, hh, mm, ss) = wall(epoch, off);
    let sign = if off < 0 { '-' } else { '+' };
    let a = off.abs();
    format!(
        "{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}{sign}{:02}:{:02}",
        a / 60,
        a % 60
    )
}

/// `2024-03-05 10:11:12` as the account's wall clock (no zone).
pub fn fmt_naive(epoch: i64) -> String {
    fmt_naive_at(epoch, ACCOUNT_OFFSET_MIN)
}

/// `2024-03-05 10:11:12`: the wall clock at a UTC offset, without the offset.
pub fn fmt_naive_at(epoch: i64, off: i32) -> String {
    let (y, m, d, hh, mm, ss) = wall(epoch, off);
    format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}")
}

/// `2024-03-05 15:11:12`: the UTC wall clock (no zone).
pub fn fmt_naive_utc(epoch: i64) -> String {
    let (y, m, d, hh, mm, ss) = wall(epoch, 0);
    format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}")
}

/// `2024-03-05`: the account-zone date.
pub fn fmt_date(epoch: i64) -> String {
    let (y, m, d, _, _, _) = wall(epoch, ACCOUNT_OFFSET_MIN);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `2021-04-16T16:12:22.222685095Z`: UTC with nanoseconds (custom objects).
pub fn fmt_rfc3339_nanos(epoch: i64, nanos: u32) -> String {
    let (y, m, d, hh, mm, ss) = wall(epoch, 0);
    format!(
        "{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{:09}Z",
        nanos % 1_000_000_000
    )
}

/// A small cursor over the bytes of a timestamp string.
struct Scan<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scan<'_> {
    fn digits(&mut self, min: usize, max: usize) -> Option<i64> {
        let start = self.i;
        let mut v: i64 = 0;
        while self.i < self.b.len() && self.i - start < max && self.b[self.i].is_ascii_digit() {
            v = v * 10 + i64::from(self.b[self.i] - b'0');
            self.i += 1;
        }
        if self.i - start < min {
            None
        } else {
            Some(v)
        }
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn done(&self) -> bool {
        self.i >= self.b.len()
    }
}

/// Parses a timestamp into epoch milliseconds.
///
/// Accepted: `YYYY-MM-DD` (midnight in the account zone), `YYYY-MM-DD[T| ]H:MM[:SS][.frac]`
/// optionally followed by `Z` or `±HH:MM` / `±HHMM` / `±HH` (no zone = account zone). Hours may have
/// one digit (the docs contain `2019-09-06T2:10:00-05:00`). Zero dates (`0000-00-00`) and
/// anything else are errors.
pub fn parse_instant_ms(input: &str) -> Result<i64, String> {
    let s = input.trim();
    let bad = || {
        format!("invalid date/time value {s:?}: expected YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS with Z or ±HH:MM, or YYYY-MM-DD HH:MM:SS")
    };
    let mut sc = Scan {
        b: s.as_bytes(),
        i: 0,
    };
    let y = sc.digits(4, 4).ok_or_else(bad)?;
    if !sc.eat(b'-') {
        return Err(bad());
    }
    let mo = sc.digits(1, 2).ok_or_else(bad)? as u32;
    if !sc.eat(b'-') {
        return Err(bad());
    }
    let d = sc.digits(1, 2).ok_or_else(bad)? as u32;
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
        return Err(bad());
    }
    let days = days_from_civil(y, mo, d);
    let (mut secs, mut millis, mut offset_min) = (0i64, 0i64, i64::from(ACCOUNT_OFFSET_MIN));
    if !sc.done() {
        if !(sc.eat(b'T') || sc.eat(b't') || sc.eat(b' ')) {
            return Err(bad());
        }
        let hh = sc.digits(1, 2).ok_or_else(bad)?;
        if !sc.eat(b':') {
            return Err(bad());
        }
        let mm = sc.digits(2, 2).ok_or_else(bad)?;
        let mut ss = 0;
        if sc.eat(b':') {
            ss = sc.digits(2, 2).ok_or_else(bad)?;
            if sc.eat(b'.') {
                let start = sc.i;
                let frac = sc.digits(1, 18).ok_or_else(bad)?;
                let n = sc.i - start;
                // Keep millisecond precision (truncate).
                millis = if n >= 3 {
                    frac / 10i64.pow((n - 3) as u32)
                } else {
                    frac * 10i64.pow((3 - n) as u32)
                };
            }
        }
        if hh > 23 || mm > 59 || ss > 59 {
            return Err(bad());
        }
        secs = hh * 3600 + mm * 60 + ss;
        match sc.peek() {
            None => {}
            Some(b'Z') | Some(b'z') => {
                sc.i += 1;
                offset_min = 0;
            }
            Some(c @ (b'+' | b'-')) => {
                sc.i += 1;
                let oh = sc.digits(2, 2).ok_or_else(bad)?;
                let om = if sc.eat(b':') {
                    sc.digits(2, 2).ok_or_else(bad)?
                } else {
                    sc.digits(0, 2).unwrap_or(0)
                };
                if oh > 23 || om > 59 {
                    return Err(bad());
                }
                let off = oh * 60 + om;
                offset_min = if c == b'-' { -off } else { off };
            }
            Some(_) => return Err(bad()),
        }
        if !sc.done() {
            return Err(bad());
        }
    }
    let local = days * 86_400 + secs;
    Ok((local - offset_min * 60) * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_roundtrip() {
        for &(y, m, d) in &[
            (1970, 1, 1),
            (2000, 2, 29),
            (2023, 12, 31),
            (2024, 3, 5),
            (1969, 12, 31),
        ] {
            let z = days_from_civil(y, m, d);
            assert_eq!(civil_from_days(z), (y, m, d));
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
    }

    #[test]
    fn new_york_changes_its_clocks() {
        let z = Zone::NewYork;
        let at = |y: i64, m: u32, d: u32, h: i64, mi: i64| {
            days_from_civil(y, m, d) * 86_400 + h * 3600 + mi * 60
        };
        // 2025: spring forward on 9 March at 07:00Z, fall back on 2 November at 06:00Z.
        assert_eq!(z.offset_at(at(2025, 3, 9, 6, 59)), -300);
        assert_eq!(z.offset_at(at(2025, 3, 9, 7, 0)), -240);
        assert_eq!(z.offset_at(at(2025, 11, 2, 5, 59)), -240);
        assert_eq!(z.offset_at(at(2025, 11, 2, 6, 0)), -300);
        assert_eq!(z.offset_at(at(2024, 11, 3, 5, 30)), -240);
        assert_eq!(z.offset_at(at(2024, 7, 1, 0, 0)), -240);
        assert_eq!(z.offset_at(at(2024, 1, 1, 0, 0)), -300);
        // The repeated hour: 01:30 EDT and, an hour later, 01:30 EST.
        let a = at(2025, 11, 2, 5, 30);
        let b = a + 3600;
        assert_eq!(fmt_naive_at(a, z.offset_at(a)), "2025-11-02 01:30:00");
        assert_eq!(fmt_naive_at(b, z.offset_at(b)), "2025-11-02 01:30:00");
        assert_eq!(fmt_iso_at(a, z.offset_at(a)), "2025-11-02T01:30:00-04:00");
        assert_eq!(fmt_iso_at(b, z.offset_at(b)), "2025-11-02T01:30:00-05:00");
        assert_eq!(Zone::default().offset_at(a), ACCOUNT_OFFSET_MIN);
    }

    #[test]
    fn http_date() {
        assert_eq!(fmt_http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
    }

    #[test]
    fn formats() {
        // 2024-03-05T15:11:12Z
        let t = days_from_civil(2024, 3, 5) * 86_400 + 15 * 3600 + 11 * 60 + 12;
        assert_eq!(fmt_iso(t), "2024-03-05T10:11:12-05:00");
        assert_eq!(fmt_naive(t), "2024-03-05 10:11:12");
        assert_eq!(fmt_naive_utc(t), "2024-03-05 15:11:12");
        assert_eq!(fmt_date(t), "2024-03-05");
        assert_eq!(fmt_rfc3339_nanos(t, 5), "2024-03-05T15:11:12.000000005Z");
        assert_eq!(fmt_iso(GEN_START), "2023-01-01T00:00:00-05:00");
        assert_eq!(fmt_iso(GEN_END), "2025-01-01T00:00:00-05:00");
    }

    #[test]
    fn parse_variants() {
        let t = (days_from_civil(2024, 3, 5) * 86_400 + 15 * 3600 + 11 * 60 + 12) * 1000;
        assert_eq!(parse_instant_ms("2024-03-05T10:11:12-05:00"), Ok(t));
        assert_eq!(parse_instant_ms("2024-03-05T15:11:12Z"), Ok(t));
        assert_eq!(parse_instant_ms("2024-03-05T16:11:12+01:00"), Ok(t));
        assert_eq!(parse_instant_ms("2024-03-05T16:11:12+0100"), Ok(t));
        assert_eq!(parse_instant_ms("2024-03-05 10:11:12"), Ok(t));
        assert_eq!(parse_instant_ms("2024-03-05T10:11:12"), Ok(t));
        assert_eq!(parse_instant_ms("2024-03-05T15:11:12.250Z"), Ok(t + 250));
        assert_eq!(
            parse_instant_ms("2021-04-16T16:12:22.222685095Z").map(|v| v % 1000),
            Ok(222)
        );
        // Date only: midnight in the account zone = 05:00Z.
        assert_eq!(
            parse_instant_ms("2024-03-05"),
            Ok((days_from_civil(2024, 3, 5) * 86_400 + 5 * 3600) * 1000)
        );
        // One-digit hour as in the docs.
        assert!(parse_instant_ms("2019-09-06T2:10:00-05:00").is_ok());
    }

    #[test]
    fn parse_rejects() {
        for s in [
            "",
            "yesterday",
            "0000-00-00",
            "0000-00-00 00:00:00",
            "2024-13-01",
            "2024-02-30",
            "2024-03-05T25:00:00Z",
            "2024-03-05T10:11:12 05:00",
            "2024-03-05T10:11:12-05:00x",
            "2024-3",
            "12345",
        ] {
            assert!(parse_instant_ms(s).is_err(), "{s:?} should be rejected");
        }
    }
}
