//! Which hosts an API URL may name: the one address rule of the connector and of `ac-host`
//! (which uses this crate for it). Plain http is allowed only to a host that never leaves the
//! machine: a test server on loopback.

/// True for a host that never leaves the machine: `localhost`, `::1` (with or without its
/// brackets) and IPv4 `127.0.0.0/8` written as four decimal parts.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
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

#[cfg(test)]
#[path = "address_tests.rs"]
mod tests;
