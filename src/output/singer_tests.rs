use super::*;

fn airbyte() -> Value {
    json!({"type": "CATALOG", "catalog": {"streams": [
        {"name": "contacts", "json_schema": {"type": "object", "properties": {"id": {"type": "string"}, "udate": {"type": ["string", "null"]}, "email": {}}},
         "supported_sync_modes": ["full_refresh", "incremental"], "default_cursor_field": ["udate"]},
        {"name": "tags", "json_schema": {"type": "object", "properties": {"id": {"type": "string"}}}, "supported_sync_modes": ["full_refresh"]}]}})
}

#[test]
fn discover_then_select() {
    let mut cat = singer_catalog(&airbyte());
    assert_eq!(cat["streams"][0]["replication_key"], "udate");
    assert_eq!(
        cat["streams"][0]["metadata"][0]["metadata"]["forced-replication-method"],
        "INCREMENTAL"
    );
    let all = selected_streams(&cat.to_string()).unwrap();
    assert_eq!(all.len(), 2, "no `selected`: `selected-by-default` decides");
    assert_eq!(default_streams(&airbyte()).unwrap(), all);
    cat["streams"][0]["metadata"][0]["metadata"]["selected"] = json!(false);
    cat["streams"][1]["metadata"][0]["metadata"]["selected-by-default"] = json!(false);
    assert!(selected_streams(&cat.to_string())
        .unwrap_err()
        .contains("selects no stream"));
    cat["streams"][0]["metadata"][0]["metadata"]["selected"] = json!(true);
    cat["streams"][1]["selected"] = json!(true);
    let sel = selected_streams(&cat.to_string()).unwrap();
    assert_eq!(sel.len(), 2);
    assert!(sel[0].incremental && sel[0].bookmark.as_deref() == Some("udate"));
    assert!(!sel[1].incremental);
    let conf: Value = serde_json::from_str(&as_configured_catalog(&sel)).unwrap();
    assert_eq!(conf["streams"][0]["sync_mode"], "incremental");
    // Singer targets upsert on key_properties: deletions are wanted for every stream.
    assert_eq!(conf["streams"][0]["destination_sync_mode"], "append_dedup");
    cat["streams"][0]["metadata"][0]["metadata"]["replication-method"] = json!("FULL_TABLE");
    assert!(!selected_streams(&cat.to_string()).unwrap()[0].incremental);
}

#[test]
fn discover_output_has_short_lines_and_parses_back() {
    let defs = crate::api::streams::fixed_streams();
    let streams = crate::api::catalog::discovered_streams(&defs, &[]);
    let airbyte = json!({"type": "CATALOG", "catalog": {"streams": streams}});
    let text = catalog_text(&airbyte);
    assert!(
        text.len() > 65_536,
        "the whole catalog is larger than a line may be"
    );
    let longest = text.lines().map(str::len).max().unwrap();
    assert!(longest < 4_096, "longest line {longest} bytes");
    let back: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(back, singer_catalog(&airbyte));
}

#[test]
fn messages() {
    let s = SingerStream {
        name: "contacts".into(),
        schema: json!({"type": "object"}),
        key_properties: vec!["id".into()],
        bookmark: Some("udate".into()),
        incremental: true,
    };
    let v: Value = serde_json::from_str(&schema_message(&s)).unwrap();
    assert_eq!(v["bookmark_properties"], json!(["udate"]));
    let r: Value = serde_json::from_str(&record_message(
        "\"contacts\"",
        "{\"id\":\"1\"}",
        1_700_000_000_000,
    ))
    .unwrap();
    assert_eq!(r["record"]["id"], "1");
    assert_eq!(r["time_extracted"], "2023-11-14T22:13:20Z");
    let mut b = Map::new();
    b.insert("contacts".into(), json!({"cursor": "x"}));
    let st: Value = serde_json::from_str(&state_message(&b)).unwrap();
    assert_eq!(st["value"]["bookmarks"]["contacts"]["cursor"], "x");
}

#[test]
fn writer_announces_schemas_and_keeps_other_bookmarks() {
    let s = SingerStream {
        name: "tags".into(),
        schema: json!({"type": "object"}),
        key_properties: vec!["id".into()],
        bookmark: None,
        incremental: false,
    };
    let mut old = Map::new();
    old.insert("deals".into(), json!({"cursor": "2024-01-01T00:00:00Z"}));
    let mut w = SingerWriter::new(vec![s], old);
    let first = w.record("tags", "\"tags\"", "{\"id\":\"1\"}", 0);
    assert_eq!(first.len(), 2);
    assert!(first[0].contains("\"SCHEMA\""));
    assert_eq!(w.record("tags", "\"tags\"", "{\"id\":\"2\"}", 0).len(), 1);
    let st: Value = serde_json::from_str(&w.state("tags", &json!({}))[0]).unwrap();
    assert_eq!(
        st["value"]["bookmarks"]["deals"]["cursor"],
        "2024-01-01T00:00:00Z"
    );
    assert!(st["value"]["bookmarks"]["tags"].is_object());
}

#[test]
fn bad_catalogs() {
    assert!(selected_streams("{")
        .unwrap_err()
        .contains("not valid JSON"));
    assert!(selected_streams("[]").is_err());
    let c = json!({"streams": [{"tap_stream_id": "tags", "selected": true, "replication_method": "INCREMENTAL"}]});
    assert!(selected_streams(&c.to_string())
        .unwrap_err()
        .contains("no replication key"));
}

/// Singer catalog metadata: which properties are automatic.
mod boundaries {
    use crate::output::singer::singer_catalog;
    use serde_json::json;

    /// `id` and the replication key are `automatic` (a target always gets them); other properties
    /// are `available`; a stream without a cursor has only `id` automatic.
    #[test]
    fn id_and_the_replication_key_are_automatic() {
        let airbyte = json!({"catalog": {"streams": [
            {"name": "deals", "default_cursor_field": ["mdate"],
             "json_schema": {"properties": {"id": {}, "mdate": {}, "title": {}}}},
            {"name": "tags", "json_schema": {"properties": {"id": {}, "mdate": {}}}}
        ]}});
        let c = singer_catalog(&airbyte);
        let inclusion = |stream: usize, prop: &str| {
            c["streams"][stream]["metadata"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["breadcrumb"] == json!(["properties", prop]))
                .map(|m| m["metadata"]["inclusion"].clone())
                .unwrap()
        };
        assert_eq!(inclusion(0, "id"), "automatic");
        assert_eq!(inclusion(0, "mdate"), "automatic");
        assert_eq!(inclusion(0, "title"), "available");
        assert_eq!(inclusion(1, "id"), "automatic");
        assert_eq!(inclusion(1, "mdate"), "available");
        assert_eq!(c["streams"][0]["replication_key"], "mdate");
        assert_eq!(c["streams"][1]["replication_method"], "FULL_TABLE");
    }
}

/// A STATE goes out once the records since the last one outweigh it; a held one goes out with
/// the next stream end, so a large bookmark (deletion ids) is not repeated after every page.
#[test]
fn large_bookmarks_are_not_repeated_after_every_page() {
    let mut w = SingerWriter::new(vec![], Map::new());
    let big = json!({"seen": {"runs": "A".repeat(5000)}});
    assert_eq!(w.state("tags", &big).len(), 1, "the first state goes out");
    let mut states = 0;
    for page in 0..20 {
        w.record("tags", "\"tags\"", &format!("{{\"id\":\"{page}\"}}"), 0);
        states += w.state("tags", &big).len();
    }
    assert_eq!(states, 0, "20 small records do not outweigh a 5 KB state");
    let held = w.flush().expect("the held state");
    assert!(held.contains("\"STATE\"") && held.len() > 5000);
    assert!(w.flush().is_none(), "nothing held twice");
    let long = format!("{{\"id\":\"1\",\"text\":\"{}\"}}", "x".repeat(6000));
    w.record("tags", "\"tags\"", &long, 0);
    assert_eq!(
        w.state("tags", &big).len(),
        1,
        "records outweigh it: out again"
    );
}

/// The input's bookmarks go out first, so a target that echoes its first STATE when no record
/// comes echoes the input, never a stream's mid-pass state; no bookmarks, no opening line.
#[test]
fn the_input_bookmarks_open_the_output() {
    let mut bookmarks = Map::new();
    bookmarks.insert("tags".into(), json!({"seen": {"count": 1}}));
    let mut w = SingerWriter::new(vec![], bookmarks);
    let line = w.opening().expect("an opening state");
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["value"]["bookmarks"]["tags"]["seen"]["count"], 1);
    assert!(SingerWriter::new(vec![], Map::new()).opening().is_none());
}

#[test]
fn a_zoneless_date_time_is_plain_text_in_singer_schemas() {
    let airbyte = json!({"properties": {
        "udate": {"type": ["string", "null"], "format": "date-time", "airbyte_type": "timestamp_with_timezone"},
        "created_timestamp": {"type": ["string", "null"], "format": "date-time", "airbyte_type": "timestamp_without_timezone"},
        "birthday": {"type": ["string", "null"], "format": "date"}
    }});
    let s = singer_schema(&airbyte);
    assert_eq!(s["properties"]["udate"]["format"], "date-time");
    assert!(s["properties"]["created_timestamp"].get("format").is_none());
    assert_eq!(s["properties"]["birthday"]["format"], "date");
}
