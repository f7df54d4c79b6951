//! The catalog a read runs with. Without `--catalog`, and for a discovered catalog given as
//! `--catalog`, every stream is read incremental where it offers it and its deletions are
//! tracked (`append_dedup`, what a deduplicating destination gets), so the same command run
//! again is the cheap incremental sync. A configured catalog (entries with `stream` and
//! `sync_mode`) is passed on as it is.

use serde_json::{json, Value};

/// The configured catalog of a discovered one: a CATALOG message, or its `catalog` object, whose
/// streams are entries with `name` and `supported_sync_modes`.
pub(crate) fn from_discovered(discovered: &Value) -> Value {
    let streams = discovered
        .get("catalog")
        .unwrap_or(discovered)
        .get("streams")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let configured: Vec<Value> = streams
        .iter()
        .map(|s| {
            let incremental = s
                .get("supported_sync_modes")
                .and_then(Value::as_array)
                .is_some_and(|m| m.iter().any(|x| x == "incremental"));
            json!({
                "stream": s,
                "sync_mode": if incremental { "incremental" } else { "full_refresh" },
                "destination_sync_mode": "append_dedup",
            })
        })
        .collect();
    json!({ "streams": configured })
}

/// Whether a catalog text is a discovered catalog (its streams are not wrapped in `stream` with
/// a `sync_mode`). Text that is not a catalog at all is left to the component to refuse.
fn is_discovered(v: &Value) -> bool {
    let Some(streams) = v
        .get("catalog")
        .unwrap_or(v)
        .get("streams")
        .and_then(Value::as_array)
    else {
        return false;
    };
    !streams.is_empty()
        && streams
            .iter()
            .all(|s| s.get("stream").is_none() && s.get("name").is_some())
}

/// The catalog text to pass to `read` for a `--catalog` file: a discovered catalog becomes the
/// configured one of [`from_discovered`], anything else is passed on unchanged.
pub(crate) fn configured(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(v) if is_discovered(&v) => from_discovered(&v).to_string(),
        _ => text.to_string(),
    }
}

#[cfg(test)]
#[path = "catalog_tests.rs"]
mod tests;
