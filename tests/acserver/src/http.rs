//! A minimal HTTP/1.1 request reader and response writer (one request per connection).

use std::io::{self, Read, Write};
use std::time::Instant;

/// Largest accepted request head (request line + headers).
pub const MAX_HEAD: usize = 64 * 1024;

/// A parsed request head.
#[derive(Debug, Clone)]
pub struct Request {
    /// Method, e.g. `GET`.
    pub method: String,
    /// Request target as received (`/api/3/contacts?limit=1`).
    pub target: String,
    /// Header names (as received) and trimmed values.
    pub headers: Vec<(String, String)>,
    /// When the request line had been read.
    pub start: Instant,
}

impl Request {
    /// The value of a header (case-insensitive name), first occurrence.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path part of the target (absolute-form targets are reduced to their path).
    pub fn path(&self) -> &str {
        let t = origin_form(&self.target);
        t.split_once('?').map(|(p, _)| p).unwrap_or(t)
    }

    /// The raw query string (without `?`), empty when absent.
    pub fn query(&self) -> &str {
        origin_form(&self.target)
            .split_once('?')
            .map(|(_, q)| q)
            .unwrap_or("")
    }
}

fn origin_form(target: &str) -> &str {
    for scheme in ["http://", "https://"] {
        if let Some(rest) = target.strip_prefix(scheme) {
            return match rest.find('/') {
                Some(i) => &rest[i..],
                None => "/",
            };
        }
    }
    target
}

/// Why no request could be read.
#[derive(Debug)]
pub enum ReadError {
    /// The client closed (or reset) the connection before a full head arrived.
    Closed,
    /// The read timed out.
    Timeout,
    /// The head exceeded [`MAX_HEAD`] (start instant if the request line had been read).
    TooLarge(Option<Instant>),
    /// The head could not be parsed.
    Malformed(Option<Instant>),
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Reads one request head from `r`. The start instant is taken as soon as the first line is in.
pub fn read_request<R: Read>(r: &mut R) -> Result<Request, ReadError> {
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let mut start: Option<Instant> = None;
    let end = loop {
        if let Some(e) = find_head_end(&buf) {
            break e;
        }
        if buf.len() > MAX_HEAD {
            return Err(ReadError::TooLarge(start));
        }
        match r.read(&mut chunk) {
            Ok(0) => return Err(ReadError::Closed),
            Ok(n) => {
                if start.is_none() && chunk[..n].contains(&b'\n') {
                    start = Some(Instant::now());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(ReadError::Timeout)
            }
            Err(_) => return Err(ReadError::Closed),
        }
    };
    let start = start.unwrap_or_else(Instant::now);
    let head = String::from_utf8_lossy(&buf[..end]);
    let mut lines = head.split('\n').map(|l| l.trim_end_matches('\r'));
    let request_line = lines.next().unwrap_or("");
    let parts: Vec<&str> = request_line.split(' ').filter(|p| !p.is_empty()).collect();
    let (method, target, version) = match parts.as_slice() {
        [m, t, v] => (*m, *t, *v),
        _ => return Err(ReadError::Malformed(Some(start))),
    };
    if !version.starts_with("HTTP/1.")
        || method.is_empty()
        || !method.bytes().all(|b| b.is_ascii_uppercase())
    {
        return Err(ReadError::Malformed(Some(start)));
    }
    let mut headers = Vec::new();
    for line in lines {
        if line.is_empty() {
            continue;
        }
        match line.split_once(':') {
            Some((k, v)) if !k.trim().is_empty() => {
                headers.push((k.trim().to_string(), v.trim().to_string()))
            }
            _ => return Err(ReadError::Malformed(Some(start))),
        }
    }
    Ok(Request {
        method: method.to_string(),
        target: target.to_string(),
        headers,
        start,
    })
}

/// A response to write.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Extra headers (Content-Length and Connection are added when writing).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// A JSON response.
    pub fn json(status: u16, body: &serde_json::Value) -> Response {
        Response {
            status,
            headers: vec![(
                "Content-Type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: serde_json::to_vec(body).unwrap_or_default(),
        }
    }

    /// An HTML response.
    pub fn html(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// Adds a header.
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// Status line and headers, announcing `content_length` bytes.
    pub fn head(&self, content_length: usize) -> Vec<u8> {
        let mut s = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (k, v) in &self.headers {
            s.push_str(&format!("{k}: {v}\r\n"));
        }
        s.push_str(&format!(
            "Content-Length: {content_length}\r\nConnection: close\r\n\r\n"
        ));
        s.into_bytes()
    }

    /// Writes the whole response.
    pub fn write_to<W: Write>(&self, w: &mut W) -> io::Result<()> {
        let mut out = self.head(self.body.len());
        out.extend_from_slice(&self.body);
        w.write_all(&out)?;
        w.flush()
    }

    /// Writes the head with the full Content-Length but only the first half of the body.
    pub fn write_truncated<W: Write>(&self, w: &mut W) -> io::Result<()> {
        let mut out = self.head(self.body.len());
        out.extend_from_slice(&self.body[..self.body.len() / 2]);
        w.write_all(&out)?;
        w.flush()
    }
}

/// The reason phrase of a status code.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out the input in small pieces, then EOF.
    struct Drip<'a>(&'a [u8], usize);
    impl Read for Drip<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(self.0.len()).min(out.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn parses_head_in_pieces() {
        let raw = b"GET /api/3/contacts?limit=5&filters%5Bupdated_after%5D=2024-01-01 HTTP/1.1\r\nHost: x\r\napi-token: k\r\n\r\n";
        let req = read_request(&mut Drip(raw, 3)).map_err(|e| format!("{e:?}"));
        let req = match req {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(req.method, "GET");
        assert_eq!(req.path(), "/api/3/contacts");
        assert_eq!(req.query(), "limit=5&filters%5Bupdated_after%5D=2024-01-01");
        assert_eq!(req.header("API-TOKEN"), Some("k"));
        assert_eq!(req.header("missing"), None);
    }

    #[test]
    fn absolute_form_and_bare_lf() {
        let req = read_request(&mut Drip(
            b"GET http://127.0.0.1:9/api/3/tags?x=1 HTTP/1.0\nHost: y\n\n",
            100,
        ));
        assert!(matches!(&req, Ok(r) if r.path() == "/api/3/tags" && r.query() == "x=1"));
    }

    #[test]
    fn errors() {
        assert!(matches!(
            read_request(&mut Drip(b"", 10)),
            Err(ReadError::Closed)
        ));
        assert!(matches!(
            read_request(&mut Drip(b"GET / HTTP/1.1\r\nHost", 10)),
            Err(ReadError::Closed)
        ));
        assert!(matches!(
            read_request(&mut Drip(b"NONSENSE\r\n\r\n", 10)),
            Err(ReadError::Malformed(_))
        ));
        assert!(matches!(
            read_request(&mut Drip(b"GET / HTTP/1.1\r\nbad header\r\n\r\n", 10)),
            Err(ReadError::Malformed(_))
        ));
        let big = vec![b'a'; MAX_HEAD + 10];
        assert!(matches!(
            read_request(&mut Drip(&big, 4096)),
            Err(ReadError::TooLarge(_))
        ));
    }

    #[test]
    fn writes_length_and_close() {
        let r = Response::json(200, &serde_json::json!({"a": 1})).with("RateLimit-Limit", "5");
        let mut out = Vec::new();
        assert!(r.write_to(&mut out).is_ok());
        let s = String::from_utf8_lossy(&out);
        assert!(s.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(s.contains("Content-Length: 7\r\n"));
        assert!(s.contains("Connection: close\r\n"));
        assert!(s.ends_with("\r\n\r\n{\"a\":1}"));
        let mut out = Vec::new();
        assert!(r.write_truncated(&mut out).is_ok());
        let s = String::from_utf8_lossy(&out);
        assert!(s.contains("Content-Length: 7\r\n") && s.ends_with("\r\n\r\n{\"a"));
    }
}
