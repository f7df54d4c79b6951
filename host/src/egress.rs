//! Egress: which requests the component may send, and the per-account rate gate.
//!
//! The rule is `connector.json`'s `network` section: only the scheme and host(:port) of the
//! config's `api_url`, and plain http only to a loopback host. The wasmtime CLI cannot enforce it
//! (its `-S http` lets a component reach any host), so the host checks every outgoing request in
//! the `send_request` hook; a refused request never leaves the process and is counted and named in
//! the account's report.

// The connector's own address rule, so the component and the host accept the same hosts.
use anyhow::{bail, Result};
use source_activecampaign::address::{is_loopback_host, non_public_kind};
use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One origin the component may contact: scheme, host (lower case) and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    /// `http` or `https`.
    pub(crate) scheme: String,
    /// Host name or address, lower case, brackets kept for IPv6.
    pub(crate) host: String,
    /// Port, the scheme's default when the URL has none.
    pub(crate) port: u16,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

fn default_port(scheme: &str) -> u16 {
    if scheme == "https" {
        443
    } else {
        80
    }
}

impl Origin {
    /// The origin of a URL such as the config's `api_url`; errors say what to fix.
    pub(crate) fn parse(url: &str) -> Result<Origin> {
        let uri: http::Uri = url.trim().parse().map_err(|_| {
            anyhow::anyhow!("{url:?} is not a URL like https://ACCOUNT.api-us1.com")
        })?;
        let scheme = match uri.scheme_str() {
            Some(s @ ("http" | "https")) => s.to_string(),
            _ => bail!("{url:?} must start with https:// (or http:// for a loopback test server)"),
        };
        let Some(auth) = uri.authority() else {
            bail!("{url:?} has no host");
        };
        let host = auth.host().to_ascii_lowercase();
        if scheme == "http" && !is_loopback_host(&host) {
            bail!("{url:?}: plain http is allowed only to a loopback host (127.0.0.1, localhost); use https");
        }
        let port = auth.port_u16().unwrap_or_else(|| default_port(&scheme));
        Ok(Origin { scheme, host, port })
    }

    /// Whether a request to this scheme and authority goes to this origin.
    pub(crate) fn admits(&self, scheme: &str, authority: &str) -> bool {
        let Ok(auth) = authority.parse::<http::uri::Authority>() else {
            return false;
        };
        scheme.eq_ignore_ascii_case(&self.scheme)
            && auth.host().eq_ignore_ascii_case(&self.host)
            && auth.port_u16().unwrap_or_else(|| default_port(scheme)) == self.port
    }
}

/// Which resolved addresses a connection may go to: public ones always; loopback when the
/// config's `api_url` names a loopback host (a test server); every other non-public address
/// (private, link-local, unique-local, IPv4-mapped forms, …) only with `--allow-private`.
/// Checked on the resolved address of every connection, before it is opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct AddressPolicy {
    /// Loopback addresses allowed (the config's `api_url` is loopback).
    pub(crate) loopback: bool,
    /// Every address allowed (`--allow-private`).
    pub(crate) private: bool,
}

impl AddressPolicy {
    /// The policy for a config's `api_url` host (brackets kept or not) and `--allow-private`.
    pub(crate) fn new(api_url_host: &str, allow_private: bool) -> AddressPolicy {
        AddressPolicy {
            loopback: is_loopback_host(api_url_host),
            private: allow_private,
        }
    }

    /// `Err(kind)` when the connection must not go to `ip`.
    pub(crate) fn check(&self, ip: IpAddr) -> std::result::Result<(), &'static str> {
        match non_public_kind(ip) {
            None => Ok(()),
            Some(_) if self.private => Ok(()),
            Some("loopback" | "loopback (IPv4-mapped)") if self.loopback => Ok(()),
            Some(kind) => Err(kind),
        }
    }
}

/// What the egress check saw for one account; shared between the hook and the report.
#[derive(Debug, Default)]
pub(crate) struct EgressLog {
    /// Requests let through.
    pub(crate) allowed: u64,
    /// Refused requests per origin (`scheme://host:port`).
    pub(crate) refused: BTreeMap<String, u64>,
    /// Start times of the requests let through, for the most begun in any one second.
    pub(crate) starts: Vec<Instant>,
    /// Time from each request's start to its response headers.
    pub(crate) to_headers: Vec<Duration>,
}

impl EgressLog {
    /// Refused requests in all.
    pub(crate) fn refused_total(&self) -> u64 {
        self.refused.values().sum()
    }

    /// Mean and largest time from a request's start to its response headers, ms.
    pub(crate) fn headers_ms(&self) -> (f64, f64) {
        let n = self.to_headers.len().max(1) as f64;
        let sum: f64 = self
            .to_headers
            .iter()
            .map(|d| d.as_secs_f64() * 1000.0)
            .sum();
        let max = self
            .to_headers
            .iter()
            .map(|d| d.as_secs_f64() * 1000.0)
            .fold(0.0, f64::max);
        (sum / n, max)
    }

    /// The most requests begun within any one second.
    pub(crate) fn max_in_one_second(&self) -> usize {
        // Logged as their answers came, so not always in the order they were written.
        let mut starts = self.starts.clone();
        starts.sort();
        let mut best = 0;
        let mut lo = 0;
        for hi in 0..starts.len() {
            while starts[hi].duration_since(starts[lo]) >= Duration::from_secs(1) {
                lo += 1;
            }
            best = best.max(hi - lo + 1);
        }
        best
    }
}

/// Keeps an account's requests at most `rps` begun in any one second (a sliding window), so the
/// limit holds even if a component's own limiter is wrong; the component's limiter normally keeps
/// it below this already, so the gate rarely waits.
///
/// A request counts from the moment its first bytes were written ([`Booking::confirm`]), not from
/// the moment the gate let it go: if the thread that writes it is held up (a busy machine), the
/// next requests are spaced from when it really went out, so the server never sees them bunched.
/// Until then it counts as going out now.
#[derive(Debug)]
pub(crate) struct RateGate {
    rps: usize,
    window: Duration,
    state: Mutex<GateState>,
}

/// The gate's bookings, oldest first: (id, when its request was written, if it was yet).
#[derive(Debug, Default)]
struct GateState {
    next_id: u64,
    slots: VecDeque<(u64, Option<Instant>)>,
}

impl RateGate {
    /// A gate of `rps` requests per second. The window is a little over a second so that a
    /// request's travel time cannot put rps + 1 of them into one second at the server.
    pub(crate) fn new(rps: u32) -> RateGate {
        RateGate {
            rps: rps.max(1) as usize,
            window: Duration::from_millis(1050),
            state: Mutex::new(GateState::default()),
        }
    }

    /// Waits until one more request may begin, and books it; write it, then confirm the booking.
    pub(crate) async fn acquire(self: &Arc<Self>) -> Booking {
        loop {
            let wait = {
                let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
                let now = Instant::now();
                // Written requests leave the window from the front; an unwritten one holds it.
                while let Some((_, Some(t))) = st.slots.front() {
                    if now.duration_since(*t) < self.window {
                        break;
                    }
                    st.slots.pop_front();
                }
                if st.slots.len() < self.rps {
                    let id = st.next_id;
                    st.next_id += 1;
                    st.slots.push_back((id, None));
                    return Booking {
                        gate: Arc::clone(self),
                        id,
                        written: std::sync::OnceLock::new(),
                    };
                }
                // The oldest written start leaves the window first.
                match st.slots.front() {
                    Some((_, Some(t))) => self.window.saturating_sub(now.duration_since(*t)),
                    _ => Duration::from_millis(10),
                }
            };
            tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
        }
    }

    fn confirm(&self, id: u64, at: Instant) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = st.slots.iter_mut().find(|(i, _)| *i == id) {
            slot.1 = Some(at);
        }
    }
}

/// One request's place in its account's [`RateGate`]. Confirmed when its first bytes are
/// written, or when dropped unwritten (then it counts from the drop, which errs on the safe side).
#[derive(Debug)]
pub(crate) struct Booking {
    gate: Arc<RateGate>,
    id: u64,
    written: std::sync::OnceLock<Instant>,
}

impl Booking {
    /// Marks the request written now (only the first call counts).
    pub(crate) fn confirm(&self) {
        let mut first = false;
        let at = *self.written.get_or_init(|| {
            first = true;
            Instant::now()
        });
        if first {
            self.gate.confirm(self.id, at);
        }
    }

    /// When the request was written, if it was.
    pub(crate) fn written_at(&self) -> Option<Instant> {
        self.written.get().copied()
    }
}

impl Drop for Booking {
    fn drop(&mut self) {
        self.confirm();
    }
}

/// The check the `send_request` hook applies: the allow-list, the rate gate and the log.
#[derive(Debug, Clone)]
pub(crate) struct Egress {
    /// Origins the component may contact.
    pub(crate) allow: Arc<Vec<Origin>>,
    /// This account's rate gate.
    pub(crate) gate: Arc<RateGate>,
    /// This account's egress log.
    pub(crate) log: Arc<Mutex<EgressLog>>,
    /// Which resolved addresses connections may go to.
    pub(crate) addresses: AddressPolicy,
}

impl Egress {
    /// Decides on one request (scheme and authority from its URI); books it either way.
    pub(crate) fn decide(&self, scheme: &str, authority: &str) -> bool {
        let ok = self.allow.iter().any(|o| o.admits(scheme, authority));
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        if ok {
            log.allowed += 1;
        } else {
            *log.refused
                .entry(format!("{scheme}://{authority}"))
                .or_insert(0) += 1;
        }
        ok
    }

    /// Of the addresses `host` resolved to, those a connection may go to; when there are none,
    /// the refusal is counted in the log (by origin, with the address and its kind) and its
    /// message returned.
    pub(crate) fn permitted(
        &self,
        origin: &str,
        resolved: &[std::net::SocketAddr],
    ) -> std::result::Result<Vec<std::net::SocketAddr>, String> {
        let ok: Vec<std::net::SocketAddr> = resolved
            .iter()
            .copied()
            .filter(|a| self.addresses.check(a.ip()).is_ok())
            .collect();
        if !ok.is_empty() {
            return Ok(ok);
        }
        let why = match resolved.first() {
            Some(a) => format!(
                "{origin} resolves to {} ({} address; --allow-private allows it)",
                a.ip(),
                self.addresses.check(a.ip()).err().unwrap_or("non-public")
            ),
            None => format!("{origin} resolves to no address"),
        };
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        log.allowed = log.allowed.saturating_sub(1);
        *log.refused.entry(why.clone()).or_insert(0) += 1;
        Err(why)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_api_urls_and_rejects_plain_http_elsewhere() {
        let o = Origin::parse("https://Acme.api-us1.com/").unwrap();
        assert_eq!(o.to_string(), "https://acme.api-us1.com:443");
        let o = Origin::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(o.port, 8080);
        let e = Origin::parse("http://acme.api-us1.com")
            .unwrap_err()
            .to_string();
        assert!(e.contains("loopback"), "{e}");
        assert!(Origin::parse("ftp://x").is_err());
        assert!(Origin::parse("not a url").is_err());
    }

    #[test]
    fn admits_only_the_same_scheme_host_and_port() {
        let o = Origin::parse("https://acme.api-us1.com").unwrap();
        assert!(o.admits("https", "acme.api-us1.com"));
        assert!(o.admits("https", "ACME.api-us1.com:443"));
        assert!(!o.admits("http", "acme.api-us1.com"));
        assert!(!o.admits("https", "acme.api-us1.com:8443"));
        assert!(!o.admits("https", "evil.example.com"));
        assert!(!o.admits("https", "acme.api-us1.com.evil.example.com"));
        assert!(!o.admits("https", "user@evil.example.com"));
    }

    #[test]
    fn decide_counts_refusals_per_origin() {
        let e = Egress {
            allow: Arc::new(vec![Origin::parse("http://127.0.0.1:9000").unwrap()]),
            gate: Arc::new(RateGate::new(5)),
            log: Arc::default(),
            addresses: AddressPolicy::default(),
        };
        assert!(e.decide("http", "127.0.0.1:9000"));
        assert!(!e.decide("http", "127.0.0.1:9001"));
        assert!(!e.decide("http", "127.0.0.1:9001"));
        let log = e.log.lock().unwrap();
        assert_eq!(log.allowed, 1);
        assert_eq!(log.refused.get("http://127.0.0.1:9001"), Some(&2));
        assert_eq!(log.refused_total(), 2);
    }

    #[test]
    fn max_in_one_second_slides() {
        let t = Instant::now();
        let log = EgressLog {
            starts: [0, 100, 900, 999, 1000, 1001, 2500]
                .iter()
                .map(|ms| t + Duration::from_millis(*ms))
                .collect(),
            ..Default::default()
        };
        assert_eq!(log.max_in_one_second(), 5);
    }

    #[tokio::test]
    async fn gate_spaces_requests_beyond_the_rate() {
        let g = Arc::new(RateGate::new(3));
        let t = Instant::now();
        for _ in 0..4 {
            g.acquire().await.confirm();
        }
        assert!(
            t.elapsed() >= Duration::from_millis(1000),
            "{:?}",
            t.elapsed()
        );
    }

    #[tokio::test]
    async fn gate_counts_a_request_from_when_it_was_written() {
        let g = Arc::new(RateGate::new(2));
        let t = Instant::now();
        let first = g.acquire().await;
        g.acquire().await.confirm();
        // The first request goes out 300 ms after the gate let it go.
        tokio::time::sleep(Duration::from_millis(300)).await;
        first.confirm();
        assert_eq!(
            first
                .written_at()
                .map(|w| w >= t + Duration::from_millis(300)),
            Some(true)
        );
        // The third waits for the window of the first's write, not of its booking.
        g.acquire().await.confirm();
        let waited = t.elapsed();
        assert!(waited >= Duration::from_millis(1350), "{waited:?}");
        // A booking dropped unwritten counts from its drop and frees its place then.
        let g = Arc::new(RateGate::new(1));
        drop(g.acquire().await);
        let t = Instant::now();
        g.acquire().await.confirm();
        assert!(
            t.elapsed() >= Duration::from_millis(1000),
            "{:?}",
            t.elapsed()
        );
    }

    /// Connections go to public addresses; loopback only when the config's api_url
    /// is loopback; private, link-local, unique-local and IPv4-mapped private addresses only
    /// with --allow-private; a refusal is logged by origin, address and kind.
    #[test]
    fn resolved_addresses_by_policy() {
        let sa = |s: &str| -> std::net::SocketAddr { s.parse().unwrap() };
        let public = AddressPolicy::new("acme.api-us1.com", false);
        let test = AddressPolicy::new("127.0.0.1", false);
        let test6 = AddressPolicy::new("[::1]", false);
        let open = AddressPolicy::new("acme.api-us1.com", true);
        for (ip, kind) in [
            ("10.0.0.5", "private"),
            ("169.254.169.254", "link-local"),
            ("::ffff:10.0.0.5", "private (IPv4-mapped)"),
            ("fc00::1", "unique-local"),
            ("fd00::1", "unique-local"),
            ("fe80::1", "link-local"),
            ("0.0.0.0", "unspecified"),
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(public.check(ip), Err(kind), "{ip}");
            assert_eq!(
                test.check(ip),
                Err(kind),
                "{ip}: loopback api_url allows only loopback"
            );
            assert_eq!(open.check(ip), Ok(()), "{ip}");
        }
        for ip in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(public.check(ip).is_err(), "{ip}");
            assert_eq!(test.check(ip), Ok(()), "{ip}");
            assert_eq!(test6.check(ip), Ok(()), "{ip}");
        }
        assert_eq!(public.check("8.8.8.8".parse().unwrap()), Ok(()));
        let e = Egress {
            allow: Arc::new(vec![Origin::parse("https://acme.api-us1.com").unwrap()]),
            gate: Arc::new(RateGate::new(5)),
            log: Arc::default(),
            addresses: public,
        };
        assert!(e.decide("https", "acme.api-us1.com"));
        let only_public = e
            .permitted(
                "https://acme.api-us1.com:443",
                &[sa("10.0.0.5:443"), sa("8.8.8.8:443")],
            )
            .unwrap();
        assert_eq!(only_public, [sa("8.8.8.8:443")]);
        let why = e
            .permitted(
                "https://acme.api-us1.com:443",
                &[sa("[::ffff:10.0.0.5]:443")],
            )
            .unwrap_err();
        assert!(
            why.contains("resolves to ::ffff:10.0.0.5 (private (IPv4-mapped) address"),
            "{why}"
        );
        assert!(why.contains("--allow-private"), "{why}");
        let log = e.log.lock().unwrap();
        assert_eq!(log.refused.get(&why), Some(&1));
        assert_eq!(
            log.allowed, 0,
            "a refused connection is not counted as allowed"
        );
    }
}
