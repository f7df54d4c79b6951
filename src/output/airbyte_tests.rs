use super::*;
use crate::vocab::json::json_string;

#[test]
fn record_is_valid_json_with_data_verbatim() {
    let data = json!({"id": "1", "name": "Zoë \"q\""});
    let line = record_line(&json_string("tags"), &data.to_string(), 5);
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["type"], "RECORD");
    assert_eq!(v["record"]["data"], data);
    assert_eq!(v["record"]["stream"], "tags");
    assert_eq!(v["record"]["emitted_at"], 5);
}

#[test]
fn error_trace_names_stream() {
    let v: Value = serde_json::from_str(&error_line(
        Some("accounts"),
        "m",
        "i",
        FailureType::Config,
        1,
    ))
    .unwrap();
    assert_eq!(v["trace"]["error"]["stream_descriptor"]["name"], "accounts");
    assert_eq!(v["trace"]["error"]["failure_type"], "config_error");
}

#[test]
fn state_shape() {
    let v: Value = serde_json::from_str(&state_line("tags", &json!({"a": 1}), 3)).unwrap();
    assert_eq!(v["state"]["type"], "STREAM");
    assert_eq!(v["state"]["stream"]["stream_descriptor"]["name"], "tags");
    assert_eq!(v["state"]["stream"]["stream_state"]["a"], 1);
}

/// The exact shape of every Airbyte message the connector writes.
mod boundaries {
    use crate::output::airbyte::{
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
            parse(&log_line(crate::engine::Level::Warn, "a \"quoted\" note")),
            json!({"type": "LOG", "log": {"level": "WARN", "message": "a \"quoted\" note"}})
        );
        assert_eq!(
            parse(&status_line(
                "tags",
                crate::engine::StreamStatus::Complete,
                1_700_000_000_123
            )),
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
}
