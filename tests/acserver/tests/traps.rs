//! End to end: config strings that once trapped the component (multibyte text
//! where a parser split bytes) fail cleanly through wasmtime: exit 1, an error naming the field,
//! no panic or trap.

mod common;
use common::*;

#[test]
fn multibyte_config_strings_fail_cleanly() {
    let s = Scratch::new("traps");
    let cases = [
        ("account_timezone", "+1é1"),
        ("account_timezone", "-0€"),
        ("account_timezone", "+𝟙"),
        ("start_date", "2024-01-0１"),
        ("api_url", "https://acmé.api-us1.com"),
        ("requests_per_second", "５"),
    ];
    for (i, (field, value)) in cases.iter().enumerate() {
        let mut cfg = serde_json::json!({"api_url": "http://127.0.0.1:9", "api_key": "k-123"});
        cfg[*field] = serde_json::json!(value);
        let path = s.write(&format!("c{i}.json"), &cfg.to_string());
        for cmd in ["check", "discover", "read"] {
            let run = wasmtime(&s, &[cmd, "--config", &path]);
            assert_failed_cleanly(&run, &format!("{cmd} with {field} {value:?}"));
            assert!(
                run.stdout.contains(&format!("'{field}'")),
                "{cmd} with {field} {value:?}: the error must name the field: {}",
                run.stdout
            );
        }
    }
}
