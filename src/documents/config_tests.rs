use super::*;

fn cfg(v: Value) -> Result<Config, ConfigError> {
    Config::from_value(&v)
}

#[test]
fn url_forms_are_accepted() {
    for u in [
        "https://acme.api-us1.com",
        "https://acme.api-us1.com/",
        "https://acme.api-us1.com/api/3",
        "https://ACME.api-us1.com/api/3/",
    ] {
        let b = parse_base_url(u).unwrap();
        assert_eq!(b.authority, "acme.api-us1.com");
        assert_eq!(b.api_path, "/api/3");
        assert_eq!(b.scheme, "https");
    }
    let b = parse_base_url("https://acme.activehosted.com:8443").unwrap();
    assert_eq!(b.authority, "acme.activehosted.com:8443");
    assert_eq!(b.host, "acme.activehosted.com");
}

#[test]
fn plain_http_only_on_loopback() {
    assert!(parse_base_url("http://127.0.0.1:8080").is_ok());
    assert!(parse_base_url("http://localhost:8080/api/3").is_ok());
    assert!(parse_base_url("http://[::1]:8080").is_ok());
    let e = parse_base_url("http://acme.api-us1.com").unwrap_err();
    assert!(e.0.contains("https"), "{e}");
    assert!(parse_base_url("http://127.0.0.1.evil.com").is_err());
}

#[test]
fn credentials_and_queries_are_refused() {
    assert!(parse_base_url("https://user:pw@acme.api-us1.com")
        .unwrap_err()
        .0
        .contains("credentials"));
    assert!(parse_base_url("https://acme.api-us1.com/?api_key=x")
        .unwrap_err()
        .0
        .contains("query"));
    assert!(parse_base_url("acme.api-us1.com").is_err());
    assert!(parse_base_url("ftp://acme.api-us1.com").is_err());
    assert!(parse_base_url("https://acme .com").is_err());
}

#[test]
fn debug_never_shows_the_key() {
    let c = cfg(json!({"api_url": "https://a.api-us1.com", "api_key": "SECRET-KEY-77"})).unwrap();
    let shown = format!("{c:?} {c:#?}");
    assert!(!shown.contains("SECRET-KEY-77"), "{shown}");
    assert!(shown.contains("api_key: \"***\""), "{shown}");
    assert_eq!(c.api_key.expose(), "SECRET-KEY-77");
}

#[test]
fn defaults_and_fields() {
    let c = cfg(json!({"api_url": "https://a.api-us1.com", "api_key": "k"})).unwrap();
    assert_eq!(c.requests_per_second, 5.0);
    assert_eq!(c.account_utc_offset_minutes, 0);
    let c = cfg(json!({"api_url": "https://a.api-us1.com", "api_key": "k", "requests_per_second": 2, "account_timezone": "-05:00", "start_date": "2024-01-01"})).unwrap();
    assert_eq!(c.requests_per_second, 2.0);
    assert_eq!(c.account_utc_offset_minutes, -300);
    assert_eq!(c.start_date.unwrap().to_rfc3339(), "2024-01-01T05:00:00Z");
}

#[test]
fn errors_name_the_field() {
    let cases = [
        (json!([]), "object"),
        (json!({"api_key": "k"}), "'api_url' is missing"),
        (
            json!({"api_url": 5, "api_key": "k"}),
            "'api_url' must be a string",
        ),
        (json!({"api_url": "https://a.com"}), "'api_key' is missing"),
        (
            json!({"api_url": "https://a.com", "api_key": ""}),
            "'api_key' is empty",
        ),
        (
            json!({"api_url": "https://a.com", "api_key": "k", "requests_per_second": 0}),
            "'requests_per_second'",
        ),
        (
            json!({"api_url": "https://a.com", "api_key": "k", "requests_per_second": "fast"}),
            "'requests_per_second'",
        ),
        (
            json!({"api_url": "https://a.com", "api_key": "k", "start_date": "soon"}),
            "'start_date'",
        ),
        (
            json!({"api_url": "https://a.com", "api_key": "k", "account_timezone": "Mars"}),
            "'account_timezone'",
        ),
    ];
    for (v, want) in cases {
        let e = cfg(v.clone()).unwrap_err();
        assert!(e.0.contains(want), "{v}: {e}");
    }
    assert!(Config::parse("{not json")
        .unwrap_err()
        .0
        .contains("not valid JSON"));
}

#[test]
fn key_never_in_errors() {
    let e = cfg(json!({"api_url": "http://evil.example.com", "api_key": "SECRET123"})).unwrap_err();
    assert!(!e.0.contains("SECRET123"));
}

/// Config bounds and URL rules, exactly: each numeric field's inclusive limits and default, the
/// key's shape, loopback hosts, ports, paths, and the texts of messages.
mod boundaries {
    use crate::documents::config::{connection_specification, parse_base_url, Config, ConfigError};
    use crate::vocab::json::{short_json, type_name};
    use serde_json::{json, Value};

    /// A minimal valid config with `extra` fields set.
    fn with(extra: Value) -> Result<Config, ConfigError> {
        let mut v = json!({"api_url": "https://a.api-us1.com", "api_key": "k"});
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        Config::from_value(&v)
    }

    /// Every numeric field takes its limits inclusively, refuses just beyond them, reads numbers
    /// written as strings, and has its documented default.
    #[test]
    fn numeric_fields_limits_and_defaults() {
        let c = with(json!({})).unwrap();
        assert_eq!(c.requests_per_second, 5.0);
        assert_eq!(c.lookback_window_seconds, 0);
        assert_eq!(c.max_attempts, 8);
        assert_eq!(c.max_retry_wait_seconds, 600);
        assert!(c.sideload_contact_children);
        assert_eq!(c.start_date, None);
        let cases: [(&str, f64, f64, f64, f64); 4] = [
            ("requests_per_second", 0.001, 100.0, 0.0009, 100.5),
            (
                "lookback_window_seconds",
                0.0,
                2_592_000.0,
                -1.0,
                2_592_001.0,
            ),
            ("max_attempts", 1.0, 50.0, 0.0, 51.0),
            ("max_retry_wait_seconds", 1.0, 86_400.0, 0.5, 86_401.0),
        ];
        for (key, lo, hi, below, above) in cases {
            for ok in [lo, hi] {
                let c = with(json!({ key: ok })).unwrap_or_else(|e| panic!("{key} {ok}: {e}"));
                let got = match key {
                    "requests_per_second" => c.requests_per_second,
                    "lookback_window_seconds" => c.lookback_window_seconds as f64,
                    "max_attempts" => c.max_attempts as f64,
                    _ => c.max_retry_wait_seconds as f64,
                };
                assert_eq!(got, ok, "{key}");
            }
            for bad in [below, above] {
                let e = with(json!({ key: bad })).unwrap_err();
                assert!(
                    e.0.contains(&format!(
                        "'{key}' must be a number between {lo} and {hi}, got {bad}"
                    )),
                    "{e}"
                );
            }
            let e = with(json!({ key: true })).unwrap_err();
            assert!(e.0.ends_with("got true"), "{e}");
        }
        let c = with(json!({"max_attempts": " 3 ", "lookback_window_seconds": "60"})).unwrap();
        assert_eq!((c.max_attempts, c.lookback_window_seconds), (3, 60));
        let c = with(json!({"requests_per_second": null, "max_attempts": null})).unwrap();
        assert_eq!((c.requests_per_second, c.max_attempts), (5.0, 8));
    }

    /// The key: trimmed, at most 512 printable ASCII characters without spaces.
    #[test]
    fn api_key_shape() {
        assert_eq!(
            with(json!({"api_key": "  abc  "}))
                .unwrap()
                .api_key
                .expose(),
            "abc"
        );
        assert!(with(json!({"api_key": "k".repeat(512)})).is_ok());
        let e = with(json!({"api_key": "k".repeat(513)})).unwrap_err();
        assert!(e.0.contains("'api_key' is not a valid key"), "{e}");
        assert!(with(json!({"api_key": "a b"})).is_err());
        assert!(with(json!({"api_key": "clé"})).is_err());
        assert!(with(json!({"api_key": "   "}))
            .unwrap_err()
            .0
            .contains("is empty"));
        assert!(with(json!({"api_key": 5}))
            .unwrap_err()
            .0
            .contains("'api_key' must be a string, got a number"));
    }

    /// Where a `&str` is needed (the WASI edge's `Api-Token` header bytes) the key reads as itself;
    /// only `Debug` masks it.
    #[test]
    fn the_key_reads_as_itself_where_a_str_is_needed() {
        let c = with(json!({"api_key": "ab-12"})).unwrap();
        let as_str: &str = &c.api_key;
        assert_eq!(as_str, "ab-12");
        assert_eq!(c.api_key.as_bytes(), b"ab-12");
        assert_eq!(format!("{:?}", c.api_key), "\"***\"");
    }

    /// Optional text fields: an empty start_date is none; sideload must be a boolean.
    #[test]
    fn optional_fields() {
        assert_eq!(with(json!({"start_date": "  "})).unwrap().start_date, None);
        assert_eq!(with(json!({"start_date": null})).unwrap().start_date, None);
        assert!(
            !with(json!({"sideload_contact_children": false}))
                .unwrap()
                .sideload_contact_children
        );
        assert!(
            with(json!({"sideload_contact_children": null}))
                .unwrap()
                .sideload_contact_children
        );
        let e = with(json!({"sideload_contact_children": "yes"})).unwrap_err();
        assert!(
            e.0.contains("'sideload_contact_children' must be true or false, got \"yes\""),
            "{e}"
        );
        assert_eq!(
            with(json!({"account_timezone": "+05:30"}))
                .unwrap()
                .account_utc_offset_minutes,
            330
        );
        let e = with(json!({"account_timezone": "+15:00"})).unwrap_err();
        assert!(e.0.contains("'account_timezone'"), "{e}");
    }

    /// URL details: ports, brackets, paths, case, and the display form.
    #[test]
    fn url_details() {
        let b = parse_base_url("https://Acme.Example.com:443/prefix/api/3/").unwrap();
        assert_eq!(b.authority, "acme.example.com:443");
        assert_eq!(b.host, "acme.example.com");
        assert_eq!(b.api_path, "/prefix/api/3");
        assert_eq!(
            b.display("/api/3/tags?limit=1"),
            "https://acme.example.com:443/api/3/tags?limit=1"
        );
        assert_eq!(parse_base_url("HTTPS://a.com").unwrap().scheme, "https");
        let b = parse_base_url("http://[::1]:9/").unwrap();
        assert_eq!((b.host.as_str(), b.authority.as_str()), ("::1", "[::1]:9"));
        for (u, why) in [
            ("https://a.com:0", "invalid port"),
            ("https://a.com:70000", "invalid port"),
            ("https://a.com:x", "invalid port"),
            ("https://[::1", "unclosed ["),
            ("https://[::1]x", "invalid host"),
            ("https://a_b.com", "invalid host name"),
            ("https://:443", "invalid host name"),
            ("https://", "has no host"),
            ("https:///api/3", "has no host"),
            ("https://a.com/a b", "spaces"),
            ("https://a.com/%41", "invalid path"),
            ("https://a.com#x", "fragment"),
            ("", "is empty"),
            ("http://10.0.0.1", "plain http"),
            ("http://[::2]:80", "plain http"),
        ] {
            let e = parse_base_url(u).unwrap_err();
            assert!(e.0.contains(why), "{u}: {e}");
            assert!(e.0.starts_with("config field 'api_url' "), "{e}");
        }
        assert!(parse_base_url("https://[2606:4700::1111]:80").is_ok());
        assert!(parse_base_url("https://8.8.8.8").is_ok());
        assert!(parse_base_url("https://127.0.0.1:8443").is_ok());
        assert!(parse_base_url("HTTP://127.0.0.1:1").is_ok());
    }

    /// An `api_url` written as an address of a private network (or in an odd spelling
    /// of one) is refused, naming the host and its kind; loopback stays for test servers.
    #[test]
    fn private_addresses_are_refused() {
        for (u, why) in [
            ("https://10.0.0.5", "10.0.0.5 is a private address"),
            (
                "https://10.0.0.5:443/api/3",
                "10.0.0.5 is a private address",
            ),
            ("https://192.168.0.10", "private address"),
            ("https://172.20.1.1", "private address"),
            (
                "https://169.254.169.254",
                "169.254.169.254 is a link-local address",
            ),
            (
                "https://[::ffff:10.0.0.5]",
                "::ffff:10.0.0.5 is a private (IPv4-mapped) address",
            ),
            (
                "https://[::ffff:169.254.169.254]:8443",
                "link-local (IPv4-mapped)",
            ),
            ("https://[fc00::1]", "fc00::1 is a unique-local address"),
            ("https://[fd00::5]", "unique-local address"),
            ("https://[fe80::1]", "fe80::1 is a link-local address"),
            ("https://[::2]:80", "IPv4-compatible"),
            ("https://0.0.0.0", "unspecified"),
            ("https://167772165", "unusual spelling"),
            ("https://0xa.0.0.5", "unusual spelling"),
        ] {
            let e = parse_base_url(u).unwrap_err();
            assert!(e.0.contains(why), "{u}: {e}");
            assert!(e.0.contains("must not be sent to"), "{u}: {e}");
        }
        let cfg = json!({"api_url": "https://10.0.0.5", "api_key": "k"}).to_string();
        let e = Config::parse(&cfg).unwrap_err();
        assert!(e.0.contains("private address"), "{e}");
    }

    /// Message helpers: type names, and JSON cut at 60 characters.
    #[test]
    fn message_helpers() {
        let names: Vec<_> = [
            json!(null),
            json!(true),
            json!(1),
            json!("s"),
            json!([]),
            json!({}),
        ]
        .iter()
        .map(type_name)
        .collect();
        assert_eq!(
            names,
            [
                "null",
                "a boolean",
                "a number",
                "a string",
                "an array",
                "an object"
            ]
        );
        let s58 = "x".repeat(58); // 60 characters with the quotes
        assert_eq!(short_json(&json!(s58)), format!("\"{s58}\""));
        let s59 = "é".repeat(59);
        assert_eq!(short_json(&json!(s59)), format!("\"{}…", "é".repeat(59)));
        assert_eq!(ConfigError("why".into()).to_string(), "why");
        assert!(Config::parse("[]")
            .unwrap_err()
            .0
            .contains("must be a JSON object, got an array"));
    }

    /// The spec lists every field the parser reads, with the parser's limits and defaults.
    #[test]
    fn the_spec_matches_the_parser() {
        let spec = connection_specification();
        let p = &spec["properties"];
        assert_eq!(spec["required"], json!(["api_url", "api_key"]));
        assert_eq!(p["api_key"]["airbyte_secret"], json!(true));
        assert_eq!(p["requests_per_second"]["default"], json!(5.0));
        assert_eq!(p["requests_per_second"]["maximum"], json!(100.0));
        assert_eq!(p["requests_per_second"]["minimum"], json!(0.001));
        assert_eq!(p["lookback_window_seconds"]["maximum"], json!(2_592_000));
        assert_eq!(p["max_attempts"]["default"], json!(8));
        assert_eq!(p["max_attempts"]["maximum"], json!(50));
        assert_eq!(p["max_retry_wait_seconds"]["default"], json!(600));
        assert_eq!(p["max_retry_wait_seconds"]["maximum"], json!(86_400));
        assert_eq!(p["sideload_contact_children"]["default"], json!(true));
        assert_eq!(p["full_sweep_hours"]["default"], json!(24.0));
        assert_eq!(p["full_sweep_hours"]["minimum"], json!(0.0));
        assert_eq!(p["deletion_guard_share"]["default"], json!(0.25));
        assert_eq!(p["deletion_guard_share"]["maximum"], json!(1.0));
        assert_eq!(p["custom_field_columns"]["default"], json!("all"));
        assert_eq!(p.as_object().unwrap().len(), 12);
        let c = Config::parse(r#"{"api_url":"https://a.api-us1.com","api_key":"k","full_sweep_hours":0,"deletion_guard_share":"1"}"#).unwrap();
        assert_eq!((c.full_sweep_hours, c.deletion_guard_share), (0.0, 1.0));
        for bad in [r#""full_sweep_hours":-1"#, r#""deletion_guard_share":1.5"#] {
            let text = format!(r#"{{"api_url":"https://a.api-us1.com","api_key":"k",{bad}}}"#);
            assert!(Config::parse(&text)
                .unwrap_err()
                .0
                .contains("must be a number between"));
        }
    }
}

/// The README's config table says what the spec says: the same fields, which are required,
/// their defaults and their bounds (a field added to one and not the other fails here).
#[test]
fn the_readme_config_table_equals_the_spec() {
    let readme = include_str!("../../README.md");
    let table = readme
        .split("\n## Config\n")
        .nth(1)
        .and_then(|s| s.split("\n\n").map(str::trim).find(|b| b.starts_with('|')))
        .expect("a table under ## Config");
    let spec = connection_specification();
    let props = spec["properties"].as_object().unwrap();
    let required: Vec<&str> = spec["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    // Numbers as a person writes them: 5, not 5.0.
    let num = |v: &Value| match v.as_f64() {
        Some(x) if x.fract() == 0.0 => format!("{}", x as i64),
        Some(x) => format!("{x}"),
        None => v.to_string(),
    };
    let mut seen = Vec::new();
    for row in table.lines().skip(2) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (key, req, default, range) = (cells[1].trim_matches('`'), cells[2], cells[3], cells[4]);
        let p = props
            .get(key)
            .unwrap_or_else(|| panic!("README names `{key}`, the spec does not"));
        assert_eq!(req == "yes", required.contains(&key), "{key}: required");
        let want_default = match &p["default"] {
            Value::Null if req == "yes" => String::new(),
            Value::Null => "none".to_string(),
            Value::String(s) => format!("`{s}`"),
            v => num(v),
        };
        assert_eq!(default, want_default, "{key}: default");
        let want_range = match (&p["minimum"], &p["maximum"]) {
            (Value::Null, Value::Null) => String::new(),
            (lo, hi) => format!("{}–{}", num(lo), num(hi)),
        };
        assert_eq!(range, want_range, "{key}: range");
        seen.push(key.to_string());
    }
    let mut keys: Vec<String> = props.keys().cloned().collect();
    keys.sort();
    seen.sort();
    assert_eq!(seen, keys, "the README's fields and the spec's");
}

/// A near miss of a known key is named with the key it misses, before "missing" or a silent
/// default; a key far from every known one is a runner's own and passes.
#[test]
fn misspelt_keys_are_named_with_the_nearest_known_one() {
    let url = "https://a.api-us1.com";
    for (config, wrong, right) in [
        (json!({"api_url": url, "apikey": "k"}), "apikey", "api_key"),
        (json!({"api_url": url, "apiKey": "k"}), "apiKey", "api_key"),
        (json!({"apiurl": url, "api_key": "k"}), "apiurl", "api_url"),
        (
            json!({"api_url": url, "api_key": "k", "request_per_second": 2}),
            "request_per_second",
            "requests_per_second",
        ),
        (
            json!({"api_url": url, "api_key": "k", "full_sweep_hour": 0}),
            "full_sweep_hour",
            "full_sweep_hours",
        ),
    ] {
        let e = cfg(config).unwrap_err();
        assert_eq!(
            e.0,
            format!("unknown key `{wrong}`: did you mean `{right}`? Rename it in the config")
        );
    }
    // Not a near miss of anything, or the near key is there too: accepted as before.
    for extra in [
        json!({"user_agent": "tap/1.0"}),
        json!({"request_timeout": 300}),
        json!({"api_token": "x"}),
    ] {
        let mut v = json!({"api_url": url, "api_key": "k"});
        if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
            o.extend(e);
        }
        assert!(cfg(v.clone()).is_ok(), "{v}");
    }
    assert_eq!(key_distance("apikey", "api_key"), 0);
    assert_eq!(key_distance("max_atempts", "max_attempts"), 1);
    assert_eq!(key_distance("", "abc"), 3);
}

#[test]
fn custom_field_columns_takes_all_none_or_a_list() {
    use crate::api::custom_fields::Choice;
    let with = |v: Value| {
        Config::from_value(
            &json!({"api_url": "https://a.api-us1.com", "api_key": "k", "custom_field_columns": v}),
        )
    };
    assert_eq!(
        with(Value::Null).map(|c| c.custom_field_columns),
        Ok(Choice::All)
    );
    assert_eq!(
        with(json!("ALL")).map(|c| c.custom_field_columns),
        Ok(Choice::All)
    );
    assert_eq!(
        with(json!("none")).map(|c| c.custom_field_columns),
        Ok(Choice::Nothing)
    );
    assert_eq!(
        with(json!(["12", 7, " LEAD_SOURCE "])).map(|c| c.custom_field_columns),
        Ok(Choice::Only(vec![
            "12".into(),
            "7".into(),
            "LEAD_SOURCE".into()
        ]))
    );
    assert_eq!(
        with(json!("12, LEAD_SOURCE,")).map(|c| c.custom_field_columns),
        Ok(Choice::Only(vec!["12".into(), "LEAD_SOURCE".into()]))
    );
    for bad in [json!(" "), json!(true), json!([""]), json!([{"id": 1}])] {
        let e = with(bad.clone())
            .map(|c| c.custom_field_columns)
            .expect_err("refused");
        assert!(
            e.0.contains("'custom_field_columns'") && e.0.contains("\"all\""),
            "{bad}: {e}"
        );
    }
    assert!(connection_specification()["properties"]["custom_field_columns"].is_object());
}
