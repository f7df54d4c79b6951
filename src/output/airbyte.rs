//! Airbyte protocol messages, written as JSON lines.
//!
//! Records are written by hand around the API's own JSON (no re-wrapping into a new `Value`),
//! because they are the hot path; everything else goes through `serde_json::json!`.

use crate::engine::{Level, StreamStatus};
use crate::vocab::failure::FailureType;
use serde_json::{json, Value};

/// A RECORD line around a record's JSON text (`stream_json`: the stream name as a JSON string).
pub(crate) fn record_line(stream_json: &str, data_json: &str, emitted_at: u64) -> String {
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

/// A deletion record's data: the primary key and `column` (when the deletion was found).
pub(crate) fn deletion_data(id: &str, column: &str, emitted_at: u64) -> String {
    let at = crate::rules::datetime::Instant::from_epoch_ms(emitted_at).to_rfc3339();
    let mut m = serde_json::Map::new();
    m.insert("id".into(), json!(id));
    m.insert(column.into(), json!(at));
    Value::Object(m).to_string()
}

/// A per-stream STATE line.
pub(crate) fn state_line(stream: &str, stream_state: &Value, records: u64) -> String {
    json!({"type": "STATE", "state": {"type": "STREAM",
        "stream": {"stream_descriptor": {"name": stream}, "stream_state": stream_state},
        "sourceStats": {"recordCount": records as f64}}})
    .to_string()
}

/// A LOG line.
pub(crate) fn log_line(level: Level, message: &str) -> String {
    json!({"type": "LOG", "log": {"level": level.as_str(), "message": message}}).to_string()
}

/// Stream status values of TRACE STREAM_STATUS.
pub(crate) fn status_line(stream: &str, status: StreamStatus, emitted_at: u64) -> String {
    json!({"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": emitted_at as f64,
        "stream_status": {"stream_descriptor": {"name": stream}, "status": status.as_str()}}})
    .to_string()
}

/// A TRACE ERROR line; `stream` names the failed stream when there is one.
pub(crate) fn error_line(
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
pub(crate) fn spec_message(connection_specification: Value) -> Value {
    json!({"type": "SPEC", "spec": {
        "documentationUrl": "https://developers.activecampaign.com/reference/overview",
        "connectionSpecification": connection_specification,
        "supportsIncremental": true,
        "supported_destination_sync_modes": ["overwrite", "append", "append_dedup"]}})
}

/// A CONNECTION_STATUS message.
pub(crate) fn connection_status(ok: bool, message: &str) -> Value {
    json!({"type": "CONNECTION_STATUS", "connectionStatus": {
        "status": if ok { "SUCCEEDED" } else { "FAILED" }, "message": message}})
}

/// A CATALOG message around a list of Airbyte streams.
pub(crate) fn catalog_message(streams: Vec<Value>) -> Value {
    json!({"type": "CATALOG", "catalog": {"streams": streams}})
}

#[cfg(test)]
#[path = "airbyte_tests.rs"]
mod tests;
