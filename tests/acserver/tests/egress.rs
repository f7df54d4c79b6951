//! Egress: records carry links (as the real API's do) that point at a second loopback listener;
//! a full read must not open a single connection to it.

mod common;
use ac_test_server::EgressListener;
use common::*;
use std::time::{Duration, Instant};

const KEY: &str = "egress-key-0ff1ce";

#[test]
fn a_full_read_follows_no_link_in_the_records() {
    let _g = serial();
    let trap = EgressListener::start().expect("egress listener");
    let srv = TestServer::new(KEY, 4, 100)
        .with(|c| c.link_origin = Some(trap.url()))
        .start();
    let s = Scratch::new("egress");
    let c = s.write("c.json", &config(&srv.base_url(), KEY, 50.0));
    for args in [
        vec!["check", "--config", &c],
        vec!["discover", "--config", &c],
        vec!["read", "--config", &c],
    ] {
        let run = wasmtime(&s, &args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        if args[0] == "read" {
            // The trap is armed: records point at the listener.
            let linked = run
                .of_type("RECORD")
                .iter()
                .filter(|m| m["record"]["data"].to_string().contains(&trap.url()))
                .count();
            assert!(linked > 1000, "only {linked} records link to the listener");
        }
    }
    assert_eq!(
        trap.connections(),
        0,
        "the connector connected to a host named only in record links"
    );
    // The listener does count: a connection made here shows up.
    let _probe = std::net::TcpStream::connect(trap.url().trim_start_matches("http://"))
        .expect("connect to the listener");
    let deadline = Instant::now() + Duration::from_secs(5);
    while trap.connections() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(trap.connections(), 1);
}

/// Through the wasmtime CLI (which has no other guard), an `api_url` written as a
/// private, link-local, unique-local or IPv4-mapped private address fails check and read with a
/// config error naming the address and its kind; the key is never in the output.
#[test]
fn private_address_literals_are_refused_by_the_component() {
    let _g = serial();
    let s = Scratch::new("private");
    for (url, kind) in [
        ("https://10.0.0.5", "10.0.0.5 is a private address"),
        (
            "https://169.254.169.254",
            "169.254.169.254 is a link-local address",
        ),
        (
            "https://[::ffff:10.0.0.5]",
            "::ffff:10.0.0.5 is a private (IPv4-mapped) address",
        ),
        ("https://[fc00::1]", "fc00::1 is a unique-local address"),
        ("https://[fdff::1]/api/3", "unique-local address"),
        ("https://[fe80::1]:8443", "fe80::1 is a link-local address"),
        ("https://167772165", "unusual spelling"),
    ] {
        let c = s.write("c.json", &config(url, KEY, 5.0));
        for cmd in ["check", "read"] {
            let run = wasmtime(&s, &[cmd, "--config", &c]);
            assert_failed_cleanly(&run, url);
            assert!(run.stdout.contains(kind), "{url} {cmd}: {}", run.stdout);
            assert!(
                run.stdout.contains("config_error") || cmd == "check",
                "{url}: {}",
                run.stdout
            );
            assert!(!run.stdout.contains(KEY) && !run.stderr.contains(KEY));
        }
    }
}
