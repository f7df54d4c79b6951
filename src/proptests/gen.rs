//! The generator: a tiny xorshift, character classes, per-field value shapes and edits at
//! character boundaries (so multibyte text lands next to digits and separators).

use std::sync::OnceLock;

/// ASCII digits.
const DIGITS: &[char] = &['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
/// Signs, including look-alikes.
const SIGNS: &[char] = &['+', '-', '\u{2212}', '\u{FF0B}'];
/// Separators of dates, times, offsets, URLs and lists.
const SEPARATORS: &[char] = &[
    ':', '-', 'T', ' ', '.', '/', 'Z', 'z', ',', '\t', '_', '@', '?', '#', '%', '=',
];
/// Letters.
const LETTERS: &[char] = &['a', 'e', 'x', 'G', 'M', 'T', 'U', 'C', 'N', 'o', 'v'];
/// Multibyte characters of 2, 3 and 4 bytes: accents, CJK, emoji, a combining mark, no-break and
/// zero-width spaces, a BOM, the replacement character, full-width and Arabic-Indic digits.
const MULTIBYTE: &[char] = &[
    'é', 'ß', 'ø', '東', '京', '€', '😀', '𝟙', '\u{301}', '\u{A0}', '\u{200B}', '\u{FEFF}',
    '\u{FFFD}', '１', '٣', '：',
];
/// Control characters.
const CONTROLS: &[char] = &['\0', '\n', '\r', '\u{7F}', '\u{1B}', '\u{85}'];
/// JSON punctuation.
const JSONISH: &[char] = &['"', '\\', '{', '}', '[', ']'];

/// The base seed of this run: `AC_PROPTEST_SEED`, else from the clock (different each run).
pub(crate) fn base_seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| match std::env::var("AC_PROPTEST_SEED") {
        Ok(s) => {
            let s = s.trim();
            let parsed = match s.strip_prefix("0x") {
                Some(h) => u64::from_str_radix(h, 16),
                None => s.parse(),
            };
            parsed.unwrap_or_else(|_| panic!("AC_PROPTEST_SEED={s:?} is not a number"))
        }
        Err(_) => {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0);
            t ^ ((std::process::id() as u64) << 32)
        }
    })
}

/// Cases per test: `AC_PROPTEST_CASES`, default 12,000.
pub(crate) fn cases() -> usize {
    std::env::var("AC_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(12_000)
}

/// `n` scaled from the default 12,000 cases to this run's: the least number of cases that must
/// reach one side of a rule (accepted, refused, parsed), so `AC_PROPTEST_CASES` may be lowered.
pub(crate) fn share(n: usize) -> usize {
    n * cases() / 12_000
}

/// Prints the seed when the test it guards fails (panics), with the command that reruns it.
pub(crate) struct SeedReport {
    name: &'static str,
    seed: u64,
}

impl Drop for SeedReport {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "proptest '{}' failed with seed {}: rerun with AC_PROPTEST_SEED={} cargo test --lib -p source-activecampaign {}",
                self.name, self.seed, self.seed, self.name
            );
        }
    }
}

/// A generator for one test: the run's seed mixed with the test's name (so tests explore
/// different inputs), and the guard that prints the seed on failure.
pub(crate) fn start(name: &'static str) -> (Gen, SeedReport) {
    let seed = base_seed();
    eprintln!("proptest '{name}': AC_PROPTEST_SEED={seed}");
    let mut mix = seed ^ 0x9E37_79B9_7F4A_7C15;
    for b in name.bytes() {
        mix = (mix ^ b as u64).wrapping_mul(0x100_0000_01B3);
    }
    (Gen::new(mix), SeedReport { name, seed })
}

/// xorshift64* (never zero).
pub(crate) struct Gen(u64);

impl Gen {
    /// A generator from any seed.
    pub(crate) fn new(seed: u64) -> Gen {
        Gen(seed | 1)
    }
    /// The next 64 random bits.
    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// A number in `0..n` (0 when n is 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    /// True with probability 1/n.
    pub(crate) fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
    /// One item of a non-empty slice.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    /// A character of a random class, digits and multibyte text the likeliest.
    pub(crate) fn char(&mut self) -> char {
        match self.below(20) {
            0..=5 => *self.pick(DIGITS),
            6..=9 => *self.pick(MULTIBYTE),
            10..=11 => *self.pick(SIGNS),
            12..=14 => *self.pick(SEPARATORS),
            15..=16 => *self.pick(LETTERS),
            17 => *self.pick(CONTROLS),
            18 => *self.pick(JSONISH),
            _ => char::from_u32(self.below(0x11_0000) as u32).unwrap_or('\u{FFFD}'),
        }
    }
    /// Free text of up to `max` characters from every class.
    pub(crate) fn text(&mut self, max: u64) -> String {
        let n = self.below(max + 1);
        (0..n).map(|_| self.char()).collect()
    }
    /// Up to three edits at character boundaries: insert, delete, replace, duplicate.
    pub(crate) fn mangle(&mut self, s: &str) -> String {
        let mut chars: Vec<char> = s.chars().collect();
        for _ in 0..1 + self.below(3) {
            let i = self.below(chars.len() as u64 + 1) as usize;
            match self.below(4) {
                0 => chars.insert(i, self.char()),
                1 if i < chars.len() => {
                    chars.remove(i);
                }
                2 if i < chars.len() => chars[i] = self.char(),
                _ if i < chars.len() => {
                    let c = chars[i];
                    chars.insert(i, c)
                }
                _ => chars.push(self.char()),
            }
        }
        chars.into_iter().collect()
    }
    /// Leading or trailing whitespace now and then (the parsers trim).
    pub(crate) fn padding(&mut self, s: String) -> String {
        match self.below(8) {
            0 => format!(" {s}"),
            1 => format!("{s}\t"),
            _ => s,
        }
    }
}

/// Shapes of field values, each valid or damaged.
impl Gen {
    /// A UTC offset: sign, digits, maybe a colon, with multibyte characters among them; or a
    /// named zone; or free text.
    pub(crate) fn offset_text(&mut self) -> String {
        match self.below(10) {
            0 => self
                .pick(&["Z", "z", "UTC", "utc", "GMT", "+00:00", "America/New_York"])
                .to_string(),
            1 => self.text(6),
            2..=4 => {
                // Well-formed, hours up to 16 and minutes up to 61 (some out of range).
                let sign = *self.pick(&["+", "-"]);
                let h = self.below(17);
                let m = self.below(62);
                match self.below(4) {
                    0 => format!("{sign}{h:02}:{m:02}"),
                    1 => format!("{sign}{h:02}{m:02}"),
                    2 => format!("{sign}{h}"),
                    _ => format!("{sign}{h}:{m:02}"),
                }
            }
            5 => {
                let base = self.offset_text();
                self.mangle(&base)
            }
            _ => {
                // A sign (or not), then 1 to 5 characters mostly digits, some separators and
                // multibyte characters: reaches `+1é1`, `-0€`, `+05：30`.
                let mut s = String::new();
                if !self.one_in(8) {
                    s.push(*self.pick(SIGNS));
                }
                for _ in 0..1 + self.below(5) {
                    let c = match self.below(10) {
                        0..=5 => *self.pick(DIGITS),
                        6 | 7 => *self.pick(MULTIBYTE),
                        8 => ':',
                        _ => self.char(),
                    };
                    s.push(c);
                }
                s
            }
        }
    }

    /// Date and time parts, valid or out of range.
    pub(crate) fn stamp_parts(&mut self) -> StampParts {
        let wild = self.one_in(5);
        StampParts {
            y: if wild {
                self.below(10_000)
            } else {
                1900 + self.below(300)
            },
            mo: if wild {
                self.below(14)
            } else {
                1 + self.below(12)
            },
            d: if wild {
                self.below(33)
            } else {
                1 + self.below(28)
            },
            h: if wild { self.below(26) } else { self.below(24) },
            mi: if wild { self.below(62) } else { self.below(60) },
            s: if wild { self.below(62) } else { self.below(60) },
            frac: if self.one_in(4) {
                Some(self.below(12) as usize + 1)
            } else {
                None
            },
            frac_digits: self.next(),
            zone: match self.below(6) {
                0 => Zone::None,
                1 => Zone::Z,
                2 => Zone::Colon(
                    self.one_in(2),
                    self.below(if wild { 26 } else { 15 }),
                    self.below(if wild { 61 } else { 60 }),
                ),
                3 => Zone::Plain(self.one_in(2), self.below(15), self.below(60)),
                _ => Zone::Colon(true, 5, 0),
            },
            sep: if self.one_in(3) { ' ' } else { 'T' },
            date_only: self.one_in(6),
        }
    }

    /// A timestamp: canonical, damaged, a zero date, or text.
    pub(crate) fn timestamp_text(&mut self) -> (String, Option<StampParts>) {
        match self.below(10) {
            0 => (
                self.pick(&[
                    "0000-00-00",
                    "0000-00-00 00:00:00",
                    "0000-00-00T00:00:00",
                    "",
                    " ",
                ])
                .to_string(),
                None,
            ),
            1 => (self.text(24), None),
            2 | 3 => {
                let p = self.stamp_parts();
                let s = p.render();
                (self.mangle(&s), None)
            }
            _ => {
                let p = self.stamp_parts();
                let s = self.padding(p.render());
                (s, Some(p))
            }
        }
    }

    /// An HTTP date (IMF-fixdate), damaged now and then.
    pub(crate) fn http_date_text(&mut self) -> (String, Option<StampParts>) {
        const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        let mut p = self.stamp_parts();
        p.zone = Zone::Z;
        p.frac = None;
        p.date_only = false;
        let month = if (1..=12).contains(&p.mo) {
            [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ][p.mo as usize - 1]
        } else {
            "Foo"
        };
        let zone = *self.pick(&["GMT", "GMT", "UTC", "EST", "+0000"]);
        let s = format!(
            "{}, {:02} {month} {:04} {:02}:{:02}:{:02} {zone}",
            self.pick(&DAYS),
            p.d,
            p.y,
            p.h,
            p.mi,
            p.s
        );
        match self.below(4) {
            0 => (self.mangle(&s), None),
            1 => (self.text(30), None),
            _ if zone == "GMT" || zone == "UTC" => (s, Some(p)),
            _ => (s, None),
        }
    }

    /// A Retry-After value: delta-seconds, an HTTP date, or anything.
    pub(crate) fn retry_after_text(&mut self) -> String {
        match self.below(6) {
            0 => self.below(1000).to_string(),
            1 => format!("{}", self.next()),
            2 => self.http_date_text().0,
            3 => {
                let n = self.below(100).to_string();
                self.mangle(&n)
            }
            4 => self
                .pick(&[
                    "-1", "1.5", "NaN", "inf", "-0", "+3", "1e3", " 7 ", "", "１",
                ])
                .to_string(),
            _ => self.text(8),
        }
    }

    /// An `api_url`: scheme, host of generated characters, maybe a port and a path.
    pub(crate) fn url_text(&mut self) -> (String, bool) {
        let scheme = *self.pick(&[
            "https://", "https://", "HTTPS://", "http://", "ftp://", "", "https:/",
        ]);
        let clean_host = self.one_in(2);
        let host: String = if clean_host {
            let labels: Vec<String> = (0..1 + self.below(3))
                .map(|_| {
                    (0..1 + self.below(8))
                        .map(|_| *self.pick(&['a', 'b', 'z', '0', '9', '-', 'A']))
                        .collect()
                })
                .collect();
            labels.join(".")
        } else {
            let mut h = "acme.api-us1.com".to_string();
            for _ in 0..1 + self.below(2) {
                h = self.mangle(&h);
            }
            h
        };
        let port = match self.below(5) {
            0 => format!(":{}", 1 + self.below(65_535)),
            1 => self.pick(&[":0", ":99999", ":é", ":"]).to_string(),
            _ => String::new(),
        };
        let clean_port = port.is_empty() || port[1..].parse::<u16>().is_ok_and(|p| p > 0);
        let path = *self.pick(&[
            "", "/", "/api/3", "/api/3/", "/?k=v", "/é", "#f", "/api/3?x",
        ]);
        let clean_path = ["", "/", "/api/3", "/api/3/"].contains(&path);
        let valid = scheme.eq_ignore_ascii_case("https://")
            && clean_host
            && clean_port
            && clean_path
            && !host.starts_with('.')
            && !host.is_empty()
            // A last part of digits only is an address in an odd spelling (`a.0`, `10.1`); at
            // most three parts are made here, so never a plain IPv4 address.
            && !host
                .rsplit('.')
                .next()
                .is_some_and(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()));
        (format!("{scheme}{host}{port}{path}"), valid)
    }
}

/// The zone suffix of a generated timestamp.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Zone {
    /// No zone: account time.
    None,
    /// `Z`.
    Z,
    /// `±HH:MM` (true: minus).
    Colon(bool, u64, u64),
    /// `±HHMM` (true: minus).
    Plain(bool, u64, u64),
}

/// The parts of a generated timestamp, kept so the oracle can compute the expected instant.
#[derive(Debug, Clone)]
pub(crate) struct StampParts {
    /// Year.
    pub(crate) y: u64,
    /// Month (1-12 when valid).
    pub(crate) mo: u64,
    /// Day of month.
    pub(crate) d: u64,
    /// Hour.
    pub(crate) h: u64,
    /// Minute.
    pub(crate) mi: u64,
    /// Second.
    pub(crate) s: u64,
    /// Number of fractional digits.
    pub(crate) frac: Option<usize>,
    /// Source of the fractional digits.
    pub(crate) frac_digits: u64,
    pub(crate) zone: Zone,
    /// `T` or space.
    pub(crate) sep: char,
    /// `YYYY-MM-DD` alone.
    pub(crate) date_only: bool,
}

impl StampParts {
    /// The fractional digits as text.
    pub(crate) fn frac_text(&self) -> String {
        let digits = format!("{:020}", self.frac_digits);
        digits[..self.frac.unwrap_or(0).min(20)].to_string()
    }
    /// The timestamp text.
    pub(crate) fn render(&self) -> String {
        let date = format!("{:04}-{:02}-{:02}", self.y, self.mo, self.d);
        if self.date_only {
            return date;
        }
        let mut s = format!(
            "{date}{}{:02}:{:02}:{:02}",
            self.sep, self.h, self.mi, self.s
        );
        if self.frac.is_some() {
            s.push('.');
            s.push_str(&self.frac_text());
        }
        match self.zone {
            Zone::None => {}
            Zone::Z => s.push('Z'),
            Zone::Colon(neg, h, m) => {
                s.push_str(&format!("{}{h:02}:{m:02}", if neg { '-' } else { '+' }))
            }
            Zone::Plain(neg, h, m) => {
                s.push_str(&format!("{}{h:02}{m:02}", if neg { '-' } else { '+' }))
            }
        }
        s
    }
}
