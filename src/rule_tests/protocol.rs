//! The exact shape of every Airbyte message the connector writes.

use crate::protocol::{
    catalog_message, connection_status, error_line, log_line, spec_message, status_line,
    FailureType,
};
use serde_json::{json, Value};

/// A written line as JSON.
fn parse(line: &str) -> Value {
    serde_json::from_str(line).unwrap()
}

/// LOG, STREAM_STATUS and ERROR traces, field by field.
#[test]
fn log_status_and_error_lines() {
    assert_eq!(
        parse(&log_line("WARN", "a \"quoted\" note")),
        json!({"type": "LOG", "log": {"level": "WARN", "message": "a \"quoted\" note"}})
    );
    assert_eq!(
        parse(&status_line("tags", "COMPLETE", 1_700_000_000_123)),
        json!({"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": 1_700_000_000_123.0,
            "stream_status": {"stream_descriptor": {"name": "tags"}, "status": "COMPLETE"}}})
    );
    assert_eq!(
        parse(&error_line(None, "m", "i", FailureType::Transient, 7)),
        json!({"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": 7.0, "error": {
            "message": "m", "internal_message": "i", "failure_type": "transient_error"}}})
    );
    assert_eq!(FailureType::System.as_str(), "system_error");
}

/// SPEC, CONNECTION_STATUS and CATALOG messages.
#[test]
fn spec_status_and_catalog_messages() {
    let spec = spec_message(json!({"type": "object"}));
    assert_eq!(spec["type"], "SPEC");
    assert_eq!(
        spec["spec"]["connectionSpecification"],
        json!({"type": "object"})
    );
    assert_eq!(spec["spec"]["supportsIncremental"], json!(true));
    assert_eq!(
        spec["spec"]["supported_destination_sync_modes"],
        json!(["overwrite", "append", "append_dedup"])
    );
    assert!(spec["spec"]["documentationUrl"]
        .as_str()
        .unwrap()
        .starts_with("https://"));
    assert_eq!(
        connection_status(true, "ok"),
        json!({"type": "CONNECTION_STATUS", "connectionStatus": {"status": "SUCCEEDED", "message": "ok"}})
    );
    assert_eq!(
        connection_status(false, "no")["connectionStatus"]["status"],
        "FAILED"
    );
    assert_eq!(
        catalog_message(vec![json!({"name": "tags"})]),
        json!({"type": "CATALOG", "catalog": {"streams": [{"name": "tags"}]}})
    );
}
