use super::*;

fn discovered() -> Value {
    json!({"type": "CATALOG", "catalog": {"streams": [
        {"name": "contacts", "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
        {"name": "tags", "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
    ]}})
}

/// Incremental where offered, deletions tracked everywhere; the discovered entry is kept whole.
#[test]
fn a_discovered_catalog_becomes_incremental_with_deletions() {
    let c = from_discovered(&discovered());
    let modes: Vec<(&str, &str, &str)> = c["streams"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            (
                s["stream"]["name"].as_str().unwrap_or(""),
                s["sync_mode"].as_str().unwrap_or(""),
                s["destination_sync_mode"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        modes,
        [
            ("contacts", "incremental", "append_dedup"),
            ("tags", "full_refresh", "append_dedup")
        ]
    );
    assert_eq!(
        c["streams"][0]["stream"],
        discovered()["catalog"]["streams"][0]
    );
}

/// `--catalog` with a discovered catalog (the message, or its `catalog` object) means the same as
/// no catalog; a configured one and text that is no catalog pass unchanged.
#[test]
fn only_a_discovered_catalog_is_converted() {
    let want = from_discovered(&discovered()).to_string();
    assert_eq!(configured(&discovered().to_string()), want);
    assert_eq!(configured(&discovered()["catalog"].to_string()), want);
    for text in [
        r#"{"streams": [{"stream": {"name": "tags"}, "sync_mode": "full_refresh"}]}"#,
        r#"{"streams": []}"#,
        "not json",
    ] {
        assert_eq!(configured(text), text);
    }
}
