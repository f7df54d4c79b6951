//! Independent rules for what a parser must accept, written from the documented formats (README,
//! spec descriptions, RFC 3339, RFC 9110) without calling the crate's parsers.

use super::gen::{StampParts, Zone};

/// What a parser must do with an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect<T> {
    /// Accept, with this value.
    Accept(T),
    /// Refuse.
    Refuse,
    /// Either is fine (lenient forms the documentation does not settle).
    Either,
}

/// True when the text, leading and trailing whitespace aside, holds a character outside ASCII:
/// none of the documented formats (offsets, timestamps, HTTP dates, ids) has one.
pub(crate) fn has_non_ascii(s: &str) -> bool {
    !s.trim().is_ascii()
}

/// The documented `account_timezone` forms: `Z`, `UTC`, or a sign and `H`, `HH`, `HHMM`, `H:MM`,
/// `HH:MM` in ASCII digits, hours 0..=14, minutes 0..=59. Only sign-led strings are judged both
/// ways (a zone name may become valid); `Z`/`UTC` must be accepted.
pub(crate) fn offset(s: &str) -> Expect<i32> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("z") || t.eq_ignore_ascii_case("utc") {
        return Expect::Accept(0);
    }
    let mut chars = t.chars();
    let sign = match chars.next() {
        Some('+') => 1,
        Some('-') => -1,
        Some('\u{2212}') | Some('\u{FF0B}') => return Expect::Refuse,
        _ => return Expect::Either,
    };
    let rest: Vec<char> = chars.collect();
    let num = |cs: &[char]| -> Option<i32> {
        if cs.is_empty() || !cs.iter().all(|c| c.is_ascii_digit()) {
            return None;
        }
        Some(cs.iter().fold(0, |a, c| a * 10 + (*c as i32 - '0' as i32)))
    };
    let (h, m) = match rest.len() {
        1 | 2 => (num(&rest), Some(0)),
        4 if rest[1] == ':' => (num(&rest[..1]), num(&rest[2..])),
        4 => (num(&rest[..2]), num(&rest[2..])),
        5 if rest[2] == ':' => (num(&rest[..2]), num(&rest[3..])),
        _ => (None, None),
    };
    match (h, m) {
        (Some(h), Some(m)) if h <= 14 && m <= 59 => Expect::Accept(sign * (h * 60 + m)),
        _ => Expect::Refuse,
    }
}

/// Leap year in the proleptic Gregorian calendar.
fn leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days in a month.
pub(crate) fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date of year 1 or later, by counting leap years (a different method
/// from the crate's era arithmetic).
pub(crate) fn days_since_epoch(y: i64, m: i64, d: i64) -> i64 {
    let leaps_before = |y: i64| {
        let n = y - 1;
        n / 4 - n / 100 + n / 400
    };
    const CUMULATIVE: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let mut days = 365 * (y - 1970) + leaps_before(y) - leaps_before(1970);
    days += CUMULATIVE[(m - 1) as usize] + i64::from(m > 2 && leap(y));
    days + d - 1
}

/// The instant (ns since the epoch) a generated timestamp must parse to, read at
/// `naive_offset_minutes` when it has no zone; or that it must be refused.
pub(crate) fn timestamp(p: &StampParts, naive_offset_minutes: i64) -> Expect<i128> {
    let (y, mo, d, h, mi, s) = (
        p.y as i64,
        p.mo as i64,
        p.d as i64,
        p.h as i64,
        p.mi as i64,
        p.s as i64,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return Expect::Refuse;
    }
    if !p.date_only {
        if h > 23 || mi > 59 || s > 60 {
            return Expect::Refuse;
        }
        if let Zone::Colon(_, zh, zm) | Zone::Plain(_, zh, zm) = p.zone {
            if zh > 23 || zm > 59 {
                return Expect::Refuse;
            }
            if zh > 14 {
                return Expect::Either;
            }
        }
    }
    if y == 0
        || d > days_in_month(y, mo)
        || (!p.date_only && s == 60)
        || p.frac.is_some_and(|n| n > 9)
    {
        return Expect::Either;
    }
    let offset_min = if p.date_only {
        naive_offset_minutes
    } else {
        match p.zone {
            Zone::None => naive_offset_minutes,
            Zone::Z => 0,
            Zone::Colon(neg, zh, zm) | Zone::Plain(neg, zh, zm) => {
                let m = (zh * 60 + zm) as i64;
                if neg {
                    -m
                } else {
                    m
                }
            }
        }
    };
    let (h, mi, s) = if p.date_only { (0, 0, 0) } else { (h, mi, s) };
    let secs = days_since_epoch(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset_min * 60;
    let nanos: i128 = match (p.date_only, p.frac) {
        (false, Some(n)) => {
            let digits = p.frac_text();
            let v: i128 = digits.parse().unwrap_or(0);
            v * 10i128.pow(9 - n as u32)
        }
        _ => 0,
    };
    Expect::Accept(secs as i128 * 1_000_000_000 + nanos)
}

/// Retry-After as delta-seconds (RFC 9110: 1*DIGIT): the wait in ns, capped at 600 s as the
/// README says; `None` when the value is not delta-seconds.
pub(crate) fn delta_seconds_ns(s: &str) -> Option<u64> {
    let t = s.trim_matches(|c| c == ' ' || c == '\t');
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let capped = t
        .trim_start_matches('0')
        .parse::<u128>()
        .map_or(600, |n| n.min(600)) as u64;
    let capped = if t.bytes().all(|b| b == b'0') {
        0
    } else {
        capped
    };
    Some(capped * 1_000_000_000)
}

/// An `api_key` as the spec describes it: after trimming, 1 to 512 printable ASCII characters
/// without spaces.
pub(crate) fn api_key(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty() && t.len() <= 512 && t.bytes().all(|b| (0x21..=0x7e).contains(&b)))
        .then(|| t.to_string())
}

/// A plain decimal number (ASCII digits, at most one point), as config numbers may be given.
pub(crate) fn plain_decimal(s: &str) -> Option<f64> {
    let t = s.trim();
    let mut parts = t.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let frac = parts.next();
    let ok = !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    if !ok {
        return None;
    }
    // Exact enough for the ranges used (tested against f64 parsing only for equality).
    let mut v = 0f64;
    for b in whole.bytes() {
        v = v * 10.0 + (b - b'0') as f64;
    }
    if let Some(f) = frac {
        let mut scale = 0.1;
        for b in f.bytes() {
            v += (b - b'0') as f64 * scale;
            scale /= 10.0;
        }
    }
    Some(v)
}

/// The record with MySQL zero dates as values replaced by null (what the README documents).
pub(crate) fn zero_dates_nulled(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::String(s)
            if ["0000-00-00", "0000-00-00 00:00:00", "0000-00-00T00:00:00"]
                .contains(&s.as_str()) =>
        {
            Value::Null
        }
        Value::Array(a) => Value::Array(a.iter().map(zero_dates_nulled).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), zero_dates_nulled(x)))
                .collect(),
        ),
        other => other.clone(),
    }
}
