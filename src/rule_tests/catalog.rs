//! Catalog rules: custom schemas go to their own stream only; cursor_field and duplicate checks.

use crate::catalog::{discovered_streams, parse_configured_catalog};
use crate::schemas::schema_for;
use crate::streams::fixed_streams;
use serde_json::json;

/// A custom schema replaces the schema of the stream it names and of no other.
#[test]
fn custom_schemas_apply_to_their_stream_only() {
    let defs = fixed_streams();
    let custom = json!({"type": "object", "properties": {"id": {"type": "string"}, "x": {}}});
    let streams = discovered_streams(&defs, &[("tags".into(), custom.clone())]);
    assert_eq!(streams.len(), defs.len());
    let tags = streams.iter().find(|s| s["name"] == "tags").unwrap();
    assert_eq!(tags["json_schema"], custom);
    let deals = streams.iter().find(|s| s["name"] == "deals").unwrap();
    assert_eq!(deals["json_schema"], schema_for("deals"));
    assert_ne!(deals["json_schema"], custom);
    assert_eq!(deals["source_defined_primary_key"], json!([["id"]]));
    assert_eq!(deals["source_defined_cursor"], json!(true));
    assert!(tags.get("source_defined_cursor").is_none());
}

/// cursor_field: the stream's own cursor or nothing is fine; another field is refused only for
/// incremental streams; a stream named twice is refused; a missing sync_mode is full refresh.
#[test]
fn configured_catalog_checks() {
    let known = fixed_streams();
    let parse = |s: &str| parse_configured_catalog(s, &known);
    let one = |stream: &str| format!(r#"{{"streams":[{stream}]}}"#);
    let ok = parse(&one(
        r#"{"stream":{"name":"deals"},"sync_mode":"incremental","cursor_field":["mdate"]}"#,
    ))
    .unwrap();
    assert!(ok[0].incremental);
    let ok = parse(&one(
        r#"{"stream":{"name":"deals"},"sync_mode":"incremental","cursor_field":[]}"#,
    ))
    .unwrap();
    assert!(ok[0].incremental);
    let ok = parse(&one(
        r#"{"stream":{"name":"deals"},"sync_mode":"full_refresh","cursor_field":["cdate"]}"#,
    ))
    .unwrap();
    assert!(!ok[0].incremental);
    let ok = parse(&one(r#"{"name":"deals"}"#)).unwrap();
    assert_eq!((ok[0].name.as_str(), ok[0].incremental), ("deals", false));
    let e = parse(&one(r#"{"stream":{"name":"deals"},"sync_mode":5}"#)).unwrap_err();
    assert!(e.contains("sync_mode must be a string, found 5"), "{e}");
    let e = parse(r#"{"streams":[{"stream":{"name":"tags"}},{"stream":{"name":"tags"}}]}"#)
        .unwrap_err();
    assert!(e.contains("names stream 'tags' twice"), "{e}");
    let two = parse(
        r#"{"catalog":{"streams":[{"stream":{"name":"tags"}},{"stream":{"name":"deals"}}]}}"#,
    )
    .unwrap();
    assert_eq!(two.len(), 2);
}
