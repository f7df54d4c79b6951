//! Small JSON helpers shared by every layer: a name as a JSON string, a value described in a
//! message.

use serde_json::Value;

/// The JSON string of a stream name, made once per page rather than per record.
pub(crate) fn json_string(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// The JSON type of a value, for messages.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A JSON value shortened for an error message.
pub(crate) fn short_json(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}
