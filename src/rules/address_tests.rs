use super::is_loopback_host;

#[test]
fn loopback_hosts_are_localhost_v6_one_and_127_slash_8() {
    for h in [
        "localhost",
        "LOCALHOST",
        "::1",
        "[::1]",
        "127.0.0.1",
        "127.255.0.9",
    ] {
        assert!(is_loopback_host(h), "{h}");
    }
    for h in [
        "",
        "localhost.evil.com",
        "127.0.0",
        "127.0.0.256",
        "127.0.0.1.5",
        "127..0.1",
        "128.0.0.1",
        "::2",
        "[::1",
        "10.0.0.1",
        "0x7f.0.0.1",
        "127.0.0.x",
        "127.0.0.1.2",
    ] {
        assert!(!is_loopback_host(h), "{h}");
    }
}

/// Every form of an address that is not on the public internet has its kind; public ones none.
#[test]
fn non_public_addresses_by_kind() {
    use super::non_public_kind;
    use std::net::IpAddr;
    for (ip, kind) in [
        ("10.0.0.5", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "shared (carrier-grade NAT)"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("255.255.255.255", "reserved"),
        ("192.0.0.8", "reserved"),
        ("198.18.0.1", "reserved"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("::ffff:10.0.0.5", "private (IPv4-mapped)"),
        ("::ffff:127.0.0.1", "loopback (IPv4-mapped)"),
        ("::ffff:169.254.169.254", "link-local (IPv4-mapped)"),
        ("::ffff:0.0.0.0", "non-public (IPv4-mapped)"),
        ("::10.0.0.5", "non-public (IPv4-compatible)"),
        ("64:ff9b::a9fe:a9fe", "non-public (NAT64)"),
        ("fc00::1", "unique-local"),
        ("fd12:3456::1", "unique-local"),
        ("fe80::1", "link-local"),
        ("febf::1", "link-local"),
        ("fec0::1", "site-local"),
        ("ff02::1", "multicast"),
    ] {
        let parsed: IpAddr = ip.parse().unwrap();
        assert_eq!(non_public_kind(parsed), Some(kind), "{ip}");
    }
    for ip in [
        "8.8.8.8",
        "172.15.255.255",
        "172.32.0.1",
        "100.63.255.255",
        "100.128.0.1",
        "169.253.0.1",
        "192.169.0.1",
        "11.0.0.1",
        "192.0.1.1",
        "198.20.0.1",
        "223.255.255.255",
        "2606:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "fbff::1",
        "fe7f::1",
        "2001:db8::1",
    ] {
        let parsed: IpAddr = ip.parse().unwrap();
        assert_eq!(non_public_kind(parsed), None, "{ip}");
    }
}

/// The component's rule for a host written as an address: loopback and public ones pass, every
/// other kind and every odd spelling of an address is refused with its reason; names pass.
#[test]
fn literal_hosts_the_component_refuses() {
    use super::refused_literal;
    for (host, why) in [
        ("10.0.0.5", "private address"),
        ("169.254.169.254", "link-local address"),
        ("[::ffff:10.0.0.5]", "private (IPv4-mapped) address"),
        ("::ffff:a00:5", "private (IPv4-mapped) address"),
        ("[fc00::1]", "unique-local address"),
        ("[fd00:ec2::254]", "unique-local address"),
        ("[fe80::1]", "link-local address"),
        ("[fe80::1%25eth0]", "not an IPv6 address"),
        ("0.0.0.0", "unspecified"),
        ("10.0.0.5.", "private address"),
        ("167772165", "unusual spelling"),
        ("10.1", "unusual spelling"),
        ("0x7f.1", "unusual spelling"),
        ("127.1", "unusual spelling"),
        ("a.0X0A", "unusual spelling"),
    ] {
        let got = refused_literal(host).unwrap_or_else(|| panic!("{host} passed"));
        assert!(got.contains(why) && got.contains(host), "{host}: {got}");
    }
    for host in [
        "acme.api-us1.com",
        "localhost",
        "127.0.0.1",
        "[::1]",
        "8.8.8.8",
        "[2606:4700::1111]",
        "vm",
        "x1.example.com",
        "10.0.0.5.nip.io",
    ] {
        assert_eq!(refused_literal(host), None, "{host}");
    }
}
