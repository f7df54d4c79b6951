//! Egress: records carry links (as the real API's do) that point at a second loopback listener;
//! a full read must not open a single connection to it.

mod common;
use ac_test_server::{Dataset, EgressListener, Server, ServerConfig};
use common::*;
use std::time::{Duration, Instant};

const KEY: &str = "egress-key-0ff1ce";

#[test]
fn a_full_read_follows_no_link_in_the_records() {
    let _g = serial();
    let trap = EgressListener::start().expect("egress listener");
    let cfg = ServerConfig {
        api_key: KEY.into(),
        rate_limit_per_sec: None,
        link_origin: Some(trap.url()),
        ..ServerConfig::default()
    };
    let srv = Server::start(cfg, Dataset::generate(4, 100)).expect("server");
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
