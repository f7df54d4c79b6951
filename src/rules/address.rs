//! Which hosts an API URL may name, and which addresses the API key may be sent to: the one
//! address rule of the connector and of `ac-host` (which uses this crate for it). Plain http is
//! allowed only to a host that never leaves the machine: a test server on loopback. Addresses of
//! the machine's own or a private network (private, link-local, unique-local, IPv4-mapped forms of
//! those, …) are refused: ActiveCampaign is on the public internet, and in a multi-tenant pipeline
//! a tenant's `api_url` must not reach into the pipeline's own network (singer-io's tap refuses
//! them too). Loopback is the exception for tests: the component accepts it, and `ac-host`
//! connects to it only when the config's `api_url` itself names a loopback host.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// True for a host that never leaves the machine: `localhost`, `::1` (with or without its
/// brackets) and IPv4 `127.0.0.0/8` written as four decimal parts.
pub fn is_loopback_host(host: &str) -> bool {
    let host = unbracket(host);
    host.eq_ignore_ascii_case("localhost")
        || host == "::1"
        || host.strip_prefix("127.").is_some_and(|rest| {
            let parts: Vec<&str> = rest.split('.').collect();
            parts.len() == 3
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.parse::<u8>().is_ok())
        })
}

/// The host without the brackets of an IPv6 literal.
fn unbracket(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

/// What kind of address that is not on the public internet `ip` is (`None`: a public one):
/// "loopback", "private", "link-local", "unique-local", "shared (carrier-grade NAT)",
/// "unspecified", "multicast", "reserved", or one of these with " (IPv4-mapped)" and the like
/// for an IPv4 address written inside an IPv6 one.
pub fn non_public_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => v6_kind(v6),
    }
}

/// [`non_public_kind`] of an IPv4 address.
fn v4_kind(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    Some(match (a, b) {
        (127, _) => "loopback",
        (10, _) | (172, 16..=31) | (192, 168) => "private",
        (169, 254) => "link-local",
        (100, 64..=127) => "shared (carrier-grade NAT)",
        (0, _) => "unspecified",
        (224..=239, _) => "multicast",
        (240..=255, _) => "reserved",
        (192, 0) if ip.octets()[2] == 0 => "reserved",
        (198, 18..=19) => "reserved",
        _ => return None,
    })
}

/// [`non_public_kind`] of an IPv6 address, looking inside the forms that carry an IPv4 one.
fn v6_kind(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_loopback() {
        return Some("loopback");
    }
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_kind(v4).map(|k| mapped(k, "IPv4-mapped"));
    }
    let embedded = |hi: usize| Ipv4Addr::from(((s[hi] as u32) << 16) | s[hi + 1] as u32);
    // `::a.b.c.d` (IPv4-compatible, deprecated) and `64:ff9b::a.b.c.d` (NAT64).
    if s[..6] == [0; 6] {
        return v4_kind(embedded(6)).map(|k| mapped(k, "IPv4-compatible"));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return v4_kind(embedded(6)).map(|k| mapped(k, "NAT64"));
    }
    Some(match s[0] {
        0xfc00..=0xfdff => "unique-local",
        0xfe80..=0xfebf => "link-local",
        0xfec0..=0xfeff => "site-local",
        0xff00..=0xffff => "multicast",
        _ => return None,
    })
}

/// A kind of IPv4 address as seen through an IPv6 form.
fn mapped(kind: &'static str, form: &'static str) -> &'static str {
    match (kind, form) {
        ("loopback", "IPv4-mapped") => "loopback (IPv4-mapped)",
        ("private", "IPv4-mapped") => "private (IPv4-mapped)",
        ("link-local", "IPv4-mapped") => "link-local (IPv4-mapped)",
        (_, "IPv4-mapped") => "non-public (IPv4-mapped)",
        (_, "NAT64") => "non-public (NAT64)",
        _ => "non-public (IPv4-compatible)",
    }
}

/// Why the component refuses an `api_url` host written as an address (`None`: it may be used).
/// A host written as an address must be four decimal parts or an IPv6 literal, on the public
/// internet or loopback (test servers); a name whose last part is a number (`10.1`, `0x7f.1`,
/// `167772165`: other spellings of addresses that resolvers accept) is refused, and names are
/// left to the host that resolves them.
pub fn refused_literal(host: &str) -> Option<String> {
    let bare = unbracket(host).trim_end_matches('.');
    let ip = match bare.parse::<IpAddr>() {
        Ok(ip) => ip,
        Err(_) if bare.contains(':') || bare.contains('%') => {
            return Some(format!(
                "{host} is not an IPv6 address this connector accepts"
            ))
        }
        Err(_) => {
            let last = bare.rsplit('.').next().unwrap_or("");
            let numeric = !last.is_empty()
                && (last.bytes().all(|b| b.is_ascii_digit())
                    || last.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("0x")));
            return numeric.then(|| {
                format!(
                    "{host} is an address in an unusual spelling; write it as four decimal parts"
                )
            });
        }
    };
    match non_public_kind(ip) {
        None | Some("loopback") => None,
        Some(kind) => Some(format!(
            "{host} is a {kind} address, not on the public internet"
        )),
    }
}

#[cfg(test)]
#[path = "address_tests.rs"]
mod tests;
