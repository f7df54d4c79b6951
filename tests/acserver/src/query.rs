//! Query-string parsing with percent-decoding (`+` is a space, as in form encoding).

/// Decodes `%XX` escapes (invalid escapes are kept literally); `+` becomes a space when
/// `plus_is_space`. Invalid UTF-8 is replaced with U+FFFD.
pub fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex_val(b[i + 1]), hex_val(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// A decoded query string: ordered name/value pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// The decoded pairs in the order received.
    pub pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses the part after `?` (without the `?`). Empty pieces are skipped; a piece without `=`
    /// has an empty value.
    pub fn parse(raw: &str) -> Query {
        let pairs = raw
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (percent_decode(k, true), percent_decode(v, true)),
                None => (percent_decode(p, true), String::new()),
            })
            .collect();
        Query { pairs }
    }

    /// The value of the last occurrence of `name` (PHP semantics), if any.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `limit`: default 20, values over 100 clamp to 100, non-numeric or 0 means the default.
    pub fn limit(&self) -> usize {
        match self.get("limit").and_then(|v| v.trim().parse::<u64>().ok()) {
            Some(0) | None => 20,
            Some(n) => n.min(100) as usize,
        }
    }

    /// `offset`: default 0, non-numeric means 0.
    pub fn offset(&self) -> usize {
        self.get("offset")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|n| n.min(usize::MAX as u64 / 2) as usize)
            .unwrap_or(0)
    }

    /// True when `orders[id]=DESC` (case-insensitive) was asked for.
    pub fn id_desc(&self) -> bool {
        self.get("orders[id]")
            .map(|v| v.trim().eq_ignore_ascii_case("desc"))
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_brackets_plus_and_bad_escapes() {
        assert_eq!(
            percent_decode("filters%5Bupdated_after%5D", true),
            "filters[updated_after]"
        );
        assert_eq!(percent_decode("a+b", true), "a b");
        assert_eq!(percent_decode("a+b", false), "a+b");
        assert_eq!(percent_decode("100%", true), "100%");
        assert_eq!(percent_decode("%zz%4", true), "%zz%4");
        assert_eq!(percent_decode("%41%", true), "A%");
        assert_eq!(percent_decode("Z%C3%B6e", true), "Zöe");
        assert_eq!(percent_decode("%FF", true), "\u{FFFD}");
    }

    #[test]
    fn parses_pairs() {
        let q = Query::parse(
            "limit=5&offset=10&filters%5Bupdated_after%5D=2024-01-01+10:00:00&flag&&x=1&x=2",
        );
        assert_eq!(q.get("limit"), Some("5"));
        assert_eq!(q.get("filters[updated_after]"), Some("2024-01-01 10:00:00"));
        assert_eq!(q.get("flag"), Some(""));
        assert_eq!(q.get("x"), Some("2"));
        assert_eq!(q.get("missing"), None);
        assert_eq!(q.limit(), 5);
        assert_eq!(q.offset(), 10);
    }

    #[test]
    fn limit_and_offset_rules() {
        assert_eq!(Query::parse("").limit(), 20);
        assert_eq!(Query::parse("limit=500").limit(), 100);
        assert_eq!(Query::parse("limit=abc").limit(), 20);
        assert_eq!(Query::parse("limit=-3").limit(), 20);
        assert_eq!(Query::parse("limit=0").limit(), 20);
        assert_eq!(Query::parse("limit=100").limit(), 100);
        assert_eq!(Query::parse("offset=x").offset(), 0);
        assert_eq!(Query::parse("offset=99999999999999999999999").offset(), 0);
        assert!(Query::parse("orders%5Bid%5D=desc").id_desc());
        assert!(!Query::parse("orders[id]=ASC").id_desc());
    }
}
