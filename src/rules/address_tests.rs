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
