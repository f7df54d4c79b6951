//! Airbyte protocol messages, written as JSON lines.
//!
//! Records are written by hand around the API's own JSON (no re-wrapping into a new `Value`),
//! because they are the hot path; everything else goes through `serde_json::json!`.

use serde_json::{json, Value};

/// Failure classes shared by the protocol, the WIT interface and the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureType {
    /// The user must act: fix the config, the key, the plan, the catalog or the state.
    Config,
    /// A later retry may succeed (network, server, rate limit).
    Transient,
    /// A bug or an answer the connector cannot handle.
    System,
}

impl FailureType {
    /// Airbyte's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureType::Config => "config_error",
            FailureType::Transient => "transient_error",
            FailureType::System => "system_error",
        }
    }
}

/// The JSON string of a stream name, made once per page rather than per record.
pub fn json_string(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// A RECORD line around a record's JSON text (`stream_json`: the stream name as a JSON string).
pub fn record_line(stream_json: &str, data_json: &str, emitted_at: u64) -> String {
    let mut s = String::with_capacity(data_json.len() + stream_json.len() + 64);
    s.push_str("{\"type\":\"RECORD\",\"record\":{\"stream\":");
    s.push_str(stream_json);
    s.push_str(",\"emitted_at\":");
    s.push_str(&emitted_at.to_string());
    s.push_str(",\"data\":");
    s.push_str(data_json);
    s.push_str("}}");
    s
}

/// A per-stream STATE line.
pub fn state_line(stream: &str, stream_state: &Value, records: u64) -> String {
    json!({"type": "STATE", "state": {"type": "STREAM",
        "stream": {"stream_descriptor": {"name": stream}, "stream_state": stream_state},
        "sourceStats": {"recordCount": records as f64}}})
    .to_string()
}

/// A LOG line.
pub fn log_line(level: &str, message: &str) -> String {
    json!({"type": "LOG", "log": {"level": level, "message": message}}).to_string()
}

/// Stream status values of TRACE STREAM_STATUS.
pub fn status_line(stream: &str, status: &str, emitted_at: u64) -> String {
    json!({"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": emitted_at as f64,
        "stream_status": {"stream_descriptor": {"name": stream}, "status": status}}})
    .to_string()
}

/// A TRACE ERROR line; `stream` names the failed stream when there is one.
pub fn error_line(
    stream: Option<&str>,
    message: &str,
    internal: &str,
    kind: FailureType,
    emitted_at: u64,
) -> String {
    let mut error =
        json!({"message": message, "internal_message": internal, "failure_type": kind.as_str()});
    if let Some(s) = stream {
        error["stream_descriptor"] = json!({"name": s});
    }
    json!({"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": emitted_at as f64, "error": error}}).to_string()
}

/// The SPEC message.
pub fn spec_message(connection_specification: Value) -> Value {
    json!({"type": "SPEC", "spec": {
        "documentationUrl": "https://developers.activecampaign.com/reference/overview",
        "connectionSpecification": connection_specification,
        "supportsIncremental": true,
        "supported_destination_sync_modes": ["overwrite", "append", "append_dedup"]}})
}

/// A CONNECTION_STATUS message.
pub fn connection_status(ok: bool, message: &str) -> Value {
    json!({"type": "CONNECTION_STATUS", "connectionStatus": {
        "status": if ok { "SUCCEEDED" } else { "FAILED" }, "message": message}})
}

/// A CATALOG message around a list of Airbyte streams.
pub fn catalog_message(streams: Vec<Value>) -> Value {
    json!({"type": "CATALOG", "catalog": {"streams": streams}})
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
