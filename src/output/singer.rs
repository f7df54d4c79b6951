//! Singer mode: the same streams, cursors and guarantees, spoken the way Singer taps speak
//! (`--discover` catalog with metadata, SCHEMA before RECORDs, STATE with bookmarks).

use crate::rules::datetime::Instant;
use serde_json::{json, Map, Value};

/// A stream a Singer catalog selected, with what its SCHEMA message needs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SingerStream {
    /// Stream name.
    pub(crate) name: String,
    /// JSON schema.
    pub(crate) schema: Value,
    /// Key properties.
    pub(crate) key_properties: Vec<String>,
    /// Replication key, when the stream syncs incrementally.
    pub(crate) bookmark: Option<String>,
    /// INCREMENTAL (true) or FULL_TABLE.
    pub(crate) incremental: bool,
}

/// The Singer catalog for an Airbyte CATALOG message: one entry per stream, with the standard
/// metadata (table-key-properties, valid-replication-keys, forced-replication-method).
pub(crate) fn singer_catalog(airbyte: &Value) -> Value {
    let streams = airbyte
        .pointer("/catalog/streams")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let entries: Vec<Value> = streams
        .iter()
        .map(|s| {
            let name = s["name"].as_str().unwrap_or("");
            let cursor = s.pointer("/default_cursor_field/0").and_then(Value::as_str);
            let mut top = json!({"inclusion": "available", "selected-by-default": true, "table-key-properties": ["id"],
                "forced-replication-method": if cursor.is_some() { "INCREMENTAL" } else { "FULL_TABLE" }});
            if let Some(c) = cursor {
                top["valid-replication-keys"] = json!([c]);
            }
            let mut metadata = vec![json!({"breadcrumb": [], "metadata": top})];
            let schema = singer_schema(&s["json_schema"]);
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for p in props.keys() {
                    let automatic = p == "id" || Some(p.as_str()) == cursor;
                    metadata.push(json!({"breadcrumb": ["properties", p], "metadata": {"inclusion": if automatic { "automatic" } else { "available" }}}));
                }
            }
            let mut e = json!({"tap_stream_id": name, "stream": name, "schema": schema, "key_properties": ["id"],
                "replication_method": if cursor.is_some() { "INCREMENTAL" } else { "FULL_TABLE" }, "metadata": metadata});
            if let Some(c) = cursor {
                e["replication_key"] = json!(c);
            }
            e
        })
        .collect();
    json!({"streams": entries})
}

/// The column that marks a deletion in Singer: targets with `hard_delete` delete the row whose
/// record carries it (target-duckdb, pipelinewise targets, Meltano SDK targets).
pub(crate) const SINGER_DELETED_AT: &str = "_sdc_deleted_at";

/// A stream's Airbyte schema in Singer's terms: the deletion column under Singer's name, and a
/// zoneless date-time without `format` (Singer's `date-time` is RFC 3339, with a zone; the
/// targets that check formats refuse `2021-04-08 11:17:44`, and no zone may be made up for it).
fn singer_schema(airbyte: &Value) -> Value {
    let mut schema = airbyte.clone();
    if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        if let Some(column) = props.remove(crate::api::catalog::AIRBYTE_DELETED_AT) {
            props.insert(SINGER_DELETED_AT.into(), column);
        }
        for field in props.values_mut().filter_map(Value::as_object_mut) {
            if field.get("airbyte_type").and_then(Value::as_str)
                == Some("timestamp_without_timezone")
            {
                field.remove("format");
            }
        }
    }
    schema
}

/// The Singer catalog as `--discover` prints it: indented, as Singer taps print theirs, so no
/// line comes near the 64 KiB a line may have when Meltano reads the tap's output through asyncio
/// (one line of the whole catalog is several hundred KB and fails discovery).
pub(crate) fn catalog_text(airbyte: &Value) -> String {
    let catalog = singer_catalog(airbyte);
    serde_json::to_string_pretty(&catalog).unwrap_or_else(|_| catalog.to_string())
}

/// The top-level (empty breadcrumb) metadata of a catalog entry.
fn top_metadata(entry: &Value) -> Option<&Map<String, Value>> {
    entry
        .get("metadata")?
        .as_array()?
        .iter()
        .find(|m| {
            m.get("breadcrumb")
                .and_then(Value::as_array)
                .is_some_and(|b| b.is_empty())
        })?
        .get("metadata")?
        .as_object()
}

/// The selected streams of a Singer catalog (stream-level `selected`, or `selected` in the
/// top-level metadata, else its `selected-by-default`; `--properties` style catalogs too).
pub(crate) fn selected_streams(text: &str) -> Result<Vec<SingerStream>, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("the catalog is not valid JSON ({e}); pass the catalog --discover printed, with the streams to sync marked \"selected\": true in their metadata"))?;
    let entries = v
        .get("streams")
        .and_then(Value::as_array)
        .ok_or("the catalog must be an object with a 'streams' list (the output of --discover)")?;
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let name = e
            .get("tap_stream_id")
            .or_else(|| e.get("stream"))
            .and_then(Value::as_str)
            .ok_or_else(|| format!("catalog stream {i} has no tap_stream_id"))?;
        let meta = top_metadata(e);
        let flag = |key: &str| meta.and_then(|m| m.get(key)).and_then(Value::as_bool);
        // `selected` wins; a stream without it follows its `selected-by-default`, as the Singer
        // spec and Meltano read a catalog (a catalog straight from --discover syncs every stream).
        let selected = e
            .get("selected")
            .and_then(Value::as_bool)
            .or_else(|| flag("selected"))
            .or_else(|| flag("selected-by-default"))
            .unwrap_or(false);
        if !selected {
            continue;
        }
        let method = meta
            .and_then(|m| m.get("replication-method"))
            .or_else(|| e.get("replication_method"))
            .and_then(Value::as_str);
        let key = e
            .get("replication_key")
            .and_then(Value::as_str)
            .map(String::from)
            .or_else(|| {
                meta.and_then(|m| m.get("valid-replication-keys"))
                    .and_then(|k| k.get(0))
                    .and_then(Value::as_str)
                    .map(String::from)
            });
        let incremental = match method {
            Some("FULL_TABLE") => false,
            Some("INCREMENTAL") | None => key.is_some(),
            Some(other) => return Err(format!("catalog stream '{name}': unknown replication method '{}'; use INCREMENTAL or FULL_TABLE", other.chars().take(30).collect::<String>())),
        };
        if method == Some("INCREMENTAL") && key.is_none() {
            return Err(format!("catalog stream '{name}' asks for INCREMENTAL replication, but it has no replication key; use FULL_TABLE"));
        }
        let key_properties = e
            .get("key_properties")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_else(|| vec!["id".to_string()]);
        out.push(SingerStream {
            name: name.to_string(),
            schema: e
                .get("schema")
                .cloned()
                .unwrap_or_else(|| json!({"type": "object"})),
            key_properties,
            bookmark: if incremental { key } else { None },
            incremental,
        });
    }
    if out.is_empty() {
        return Err("the catalog selects no stream: mark the streams to sync with \"selected\": true in their top-level metadata (or leave \"selected\" out where \"selected-by-default\" is true)".into());
    }
    Ok(out)
}

/// The streams to sync when no catalog is given: those the discovered catalog (an Airbyte CATALOG
/// message) marks `selected-by-default`, which is every stream, the account's custom objects too.
pub(crate) fn default_streams(airbyte: &Value) -> Result<Vec<SingerStream>, String> {
    selected_streams(&singer_catalog(airbyte).to_string())
}

/// The Airbyte configured catalog for the selected streams, so the one read path serves both modes.
pub(crate) fn as_configured_catalog(streams: &[SingerStream]) -> String {
    let list: Vec<Value> = streams
        .iter()
        .map(|s| json!({"stream": {"name": s.name, "json_schema": s.schema}, "sync_mode": if s.incremental { "incremental" } else { "full_refresh" }, "destination_sync_mode": "append_dedup"}))
        .collect();
    json!({"streams": list}).to_string()
}

/// A SCHEMA message.
pub(crate) fn schema_message(s: &SingerStream) -> String {
    let mut m = json!({"type": "SCHEMA", "stream": s.name, "schema": s.schema, "key_properties": s.key_properties});
    if let Some(b) = &s.bookmark {
        m["bookmark_properties"] = json!([b]);
    }
    m.to_string()
}

/// A RECORD message around a record's JSON text.
pub(crate) fn record_message(stream_json: &str, data_json: &str, emitted_at_ms: u64) -> String {
    let extracted = Instant::from_epoch_ms(emitted_at_ms).to_rfc3339();
    let mut s = String::with_capacity(data_json.len() + stream_json.len() + 80);
    s.push_str("{\"type\":\"RECORD\",\"stream\":");
    s.push_str(stream_json);
    s.push_str(",\"record\":");
    s.push_str(data_json);
    s.push_str(",\"time_extracted\":\"");
    s.push_str(&extracted);
    s.push_str("\"}");
    s
}

/// A STATE message carrying every stream's bookmark.
pub(crate) fn state_message(bookmarks: &Map<String, Value>) -> String {
    json!({"type": "STATE", "value": {"bookmarks": bookmarks}}).to_string()
}

/// Turns the engine's records and states into Singer messages: SCHEMA before a stream's first
/// message, STATE with every stream's bookmark (those not synced this run kept as they were).
#[derive(Debug, Default)]
pub(crate) struct SingerWriter {
    streams: Vec<SingerStream>,
    announced: std::collections::HashSet<String>,
    bookmarks: Map<String, Value>,
    /// Bytes of RECORD lines since the last STATE line.
    record_bytes: usize,
    /// Length of the last STATE line.
    state_bytes: usize,
    /// A newer state than the last STATE line is held back.
    pending: bool,
}

impl SingerWriter {
    /// A writer for these streams, starting from the input state's bookmarks.
    pub(crate) fn new(streams: Vec<SingerStream>, bookmarks: Map<String, Value>) -> SingerWriter {
        SingerWriter {
            streams,
            announced: Default::default(),
            bookmarks,
            record_bytes: 0,
            state_bytes: 0,
            pending: false,
        }
    }

    fn announce(&mut self, stream: &str, out: &mut Vec<String>) {
        if self.announced.insert(stream.to_string()) {
            if let Some(s) = self.streams.iter().find(|s| s.name == stream) {
                out.push(schema_message(s));
            }
        }
    }

    /// Lines for one record.
    pub(crate) fn record(
        &mut self,
        stream: &str,
        stream_json: &str,
        data_json: &str,
        emitted_at_ms: u64,
    ) -> Vec<String> {
        let mut out = Vec::with_capacity(1);
        self.announce(stream, &mut out);
        let line = record_message(stream_json, data_json, emitted_at_ms);
        self.record_bytes += line.len();
        out.push(line);
        out
    }

    /// Lines for one stream's new state. One STATE carries every stream's bookmark, and
    /// bookmarks can be large (the ids deletions are found against), so a STATE goes out only
    /// once the records since the last one outweigh it; a held one goes out at the latest with
    /// the next stream end ([`SingerWriter::flush`]).
    pub(crate) fn state(&mut self, stream: &str, state: &Value) -> Vec<String> {
        let mut out = Vec::with_capacity(1);
        self.announce(stream, &mut out);
        self.bookmarks.insert(stream.to_string(), state.clone());
        self.pending = true;
        if self.record_bytes >= self.state_bytes {
            out.extend(self.flush());
        }
        out
    }

    /// The input's bookmarks as the first STATE line, when there are any. A target echoes the
    /// first STATE it was given when no record follows (target-duckdb 0.8.0), and a pipeline
    /// saves the echo: without this, a run with no records could hand on some stream's mid-pass
    /// state, and the next run would resume that stream mid-pass (finding no deletions).
    pub(crate) fn opening(&mut self) -> Option<String> {
        if self.bookmarks.is_empty() {
            return None;
        }
        let line = state_message(&self.bookmarks);
        self.state_bytes = line.len();
        Some(line)
    }

    /// The held STATE line, if any.
    pub(crate) fn flush(&mut self) -> Option<String> {
        if !std::mem::take(&mut self.pending) {
            return None;
        }
        let line = state_message(&self.bookmarks);
        self.state_bytes = line.len();
        self.record_bytes = 0;
        Some(line)
    }
}

#[cfg(test)]
#[path = "singer_tests.rs"]
mod tests;
