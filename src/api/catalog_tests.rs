use super::*;
use crate::api::streams::fixed_streams;

#[test]
fn parse_and_validate() {
    let known = fixed_streams();
    let c = r#"{"streams":[{"stream":{"name":"contacts"},"sync_mode":"incremental","cursor_field":["udate"]},{"stream":{"name":"tags"},"sync_mode":"full_refresh"}]}"#;
    let s = parse_configured_catalog(c, &known).unwrap();
    assert_eq!(
        s,
        vec![
            Selected {
                name: "contacts".into(),
                incremental: true,
                deletions: true,
                note: None
            },
            Selected {
                name: "tags".into(),
                incremental: false,
                deletions: false,
                note: None
            }
        ]
    );
    for (bad, want) in [
        ("{", "not valid JSON"),
        ("[]", "'streams' list"),
        (
            r#"{"streams":[{"stream":{"name":"nope"}}]}"#,
            "unknown stream 'nope'",
        ),
        (
            r#"{"streams":[{"stream":{"name":"tags"},"sync_mode":"sometimes"}]}"#,
            "unknown sync_mode",
        ),
        (r#"{"streams":[{"stream":{}}]}"#, "no stream.name"),
    ] {
        let e = parse_configured_catalog(bad, &known).unwrap_err();
        assert!(e.contains(want), "{bad}: {e}");
    }
}

/// What PyAirbyte sends (every stream incremental, its own cursor_field, a
/// destination_sync_mode) is read as Airbyte's CDK reads it, with a note, never refused.
#[test]
fn incremental_without_cursor_reads_in_full_like_the_cdk() {
    let known = fixed_streams();
    let c = r#"{"streams":[
        {"stream":{"name":"tags"},"sync_mode":"incremental","cursor_field":[],"destination_sync_mode":"append_dedup"},
        {"stream":{"name":"deals"},"sync_mode":"incremental","cursor_field":["cdate"],"destination_sync_mode":"append"},
        {"stream":{"name":"contacts"},"sync_mode":"incremental","destination_sync_mode":"overwrite"}]}"#;
    let s = parse_configured_catalog(c, &known).unwrap();
    assert!(!s[0].incremental, "no cursor: full read");
    assert!(s[0].note.as_deref().unwrap().contains("read in full"));
    assert!(s[1].incremental, "the source-defined cursor stays");
    let n = s[1].note.as_deref().unwrap();
    assert!(n.contains("cdate") && n.contains("mdate"), "{n}");
    assert!(s[2].incremental && s[2].note.is_none());
}

#[test]
fn discovered_entries() {
    let defs = fixed_streams();
    let streams = discovered_streams(&defs, &[]);
    let contacts = streams.iter().find(|s| s["name"] == "contacts").unwrap();
    assert_eq!(contacts["default_cursor_field"], json!(["udate"]));
    assert_eq!(
        contacts["supported_sync_modes"],
        json!(["full_refresh", "incremental"])
    );
    let tags = streams.iter().find(|s| s["name"] == "tags").unwrap();
    assert_eq!(tags["supported_sync_modes"], json!(["full_refresh"]));
    assert!(streams.iter().all(|s| s["json_schema"]["type"] == "object"));
}

/// Catalog rules: custom schemas go to their own stream only; cursor_field and duplicate checks.
mod boundaries {
    use crate::api::catalog::{discovered_streams, parse_configured_catalog};
    use crate::api::schemas::schema_for;
    use crate::api::streams::fixed_streams;
    use serde_json::json;

    /// A custom schema replaces the schema of the stream it names and of no other.
    #[test]
    fn custom_schemas_apply_to_their_stream_only() {
        let defs = fixed_streams();
        let custom = json!({"type": "object", "properties": {"id": {"type": "string"}, "x": {}}});
        let streams = discovered_streams(&defs, &[("tags".into(), custom.clone())]);
        assert_eq!(streams.len(), defs.len());
        // Every schema declares the deletion column, nullable.
        let with_deleted_at = |mut s: serde_json::Value| {
            s["properties"]["_ab_cdc_deleted_at"] =
                json!({"type": ["null", "string"], "format": "date-time"});
            s
        };
        let tags = streams.iter().find(|s| s["name"] == "tags").unwrap();
        assert_eq!(tags["json_schema"], with_deleted_at(custom.clone()));
        let deals = streams.iter().find(|s| s["name"] == "deals").unwrap();
        assert_eq!(deals["json_schema"], with_deleted_at(schema_for("deals")));
        assert_ne!(deals["json_schema"], with_deleted_at(custom));
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
}

/// The read plan: the catalog parsed once, custom object streams taken by name.
mod read_plan {
    use crate::api::catalog::ReadPlan;
    use crate::api::streams::{custom_object_stream, fixed_streams};

    #[test]
    fn without_a_catalog_every_known_stream_is_read_in_full_and_custom_objects_are_wanted() {
        let plan = ReadPlan::new(None, &fixed_streams()).unwrap();
        let known = vec![
            fixed_streams()[0].clone(),
            custom_object_stream("ticket", "1"),
        ];
        let streams: Vec<(String, bool, bool)> = plan
            .streams(&known)
            .into_iter()
            .map(|s| (s.name, s.incremental, s.deletions))
            .collect();
        assert_eq!(
            streams,
            vec![
                (known[0].name.clone(), false, false),
                ("custom_object_ticket".to_string(), false, false)
            ]
        );
        assert!(plan.wants_custom(std::iter::empty()));
        assert_eq!(plan.notes().count(), 0);
    }

    #[test]
    fn a_catalog_keeps_its_order_modes_and_notes_and_names_custom_streams_it_has_no_schema_for() {
        let catalog = r#"{"streams":[
            {"stream":{"name":"tags"},"sync_mode":"incremental"},
            {"stream":{"name":"custom_object_gone"},"sync_mode":"incremental"},
            {"stream":{"name":"deals"},"sync_mode":"incremental","cursor_field":["cdate"]},
            {"stream":{"name":"users"},"sync_mode":"full_refresh","destination_sync_mode":"append_dedup"},
            {"stream":{"name":"lists"},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}]}"#;
        let plan = ReadPlan::new(Some(catalog), &fixed_streams()).unwrap();
        // Deletions go where the destination keeps rows: incremental, or a dedup mode.
        let streams: Vec<(String, bool, bool)> = plan
            .streams(&fixed_streams())
            .into_iter()
            .map(|s| (s.name, s.incremental, s.deletions))
            .collect();
        assert_eq!(
            streams,
            vec![
                ("tags".to_string(), false, false),
                ("custom_object_gone".to_string(), true, true),
                ("deals".to_string(), true, true),
                ("users".to_string(), false, true),
                ("lists".to_string(), false, false)
            ]
        );
        let notes: Vec<&str> = plan.notes().collect();
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].starts_with("tags: incremental asked"), "{notes:?}");
        assert!(notes[1].starts_with("deals: cursor_field"), "{notes:?}");
        assert!(plan.wants_custom(std::iter::empty()));
    }

    #[test]
    fn custom_objects_are_wanted_for_a_catalog_only_when_it_or_the_state_names_one() {
        let catalog = r#"{"streams":[{"stream":{"name":"tags"}}]}"#;
        let plan = ReadPlan::new(Some(catalog), &fixed_streams()).unwrap();
        assert!(!plan.wants_custom(std::iter::empty()));
        let saved = ["tags".to_string(), "custom_object_ticket".to_string()];
        assert!(plan.wants_custom(saved.iter()));
        assert!(!plan.wants_custom(saved[..1].iter()));
    }

    #[test]
    fn a_bad_catalog_is_refused_before_any_request() {
        for (catalog, says) in [
            ("not json", "not valid JSON"),
            (
                r#"{"streams":[{"stream":{"name":"nope"}}]}"#,
                "unknown stream 'nope'",
            ),
            (
                r#"{"streams":[{"stream":{"name":"tags"}},{"stream":{"name":"tags"}}]}"#,
                "twice",
            ),
        ] {
            let e = ReadPlan::new(Some(catalog), &fixed_streams()).unwrap_err();
            assert!(e.contains(says), "{catalog}: {e}");
        }
    }
}
