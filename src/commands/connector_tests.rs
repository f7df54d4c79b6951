use super::*;
use crate::engine::HttpResponse;
use crate::test_support::{ok, Fake, Lines};
use serde_json::json;

fn cfg() -> Config {
    Config::parse(
        r#"{"api_url": "http://127.0.0.1:9", "api_key": "SECRETKEY", "requests_per_second": 50}"#,
    )
    .unwrap()
}

fn fake(answer: impl FnMut(&str) -> Result<HttpResponse, String> + 'static) -> Fake {
    Fake::new(1000, answer)
}

#[test]
fn check_reports_success_and_rejection() {
    let mut t = fake(|_| ok(json!({"user": {"username": "jdoe", "id": "1"}})));
    let (good, msg) = check(&mut t, &cfg());
    assert!(good, "{msg}");
    let mut t = fake(|_| {
        Ok(HttpResponse {
            status: 403,
            headers: vec![],
            body: br#"{"message":"Forbidden"}"#.to_vec(),
        })
    });
    let (good, msg) = check(&mut t, &cfg());
    assert!(!good);
    assert!(msg.contains("api_key") && msg.contains("403"), "{msg}");
    assert!(!msg.contains("SECRETKEY"));
}

#[test]
fn discover_adds_custom_objects() {
    let mut t = fake(|p| {
        if p.contains("customObjects/schemas") {
            ok(
                json!({"schemas": [{"id": "abc-1", "slug": "support-ticket", "fields": [{"id": "n", "type": "number"}]}], "meta": {"total": 1}}),
            )
        } else {
            ok(json!({"user": {"username": "u"}}))
        }
    });
    let cat = discover(&mut t, &cfg()).unwrap();
    let streams = cat["catalog"]["streams"].as_array().unwrap();
    assert_eq!(streams.len(), 60);
    assert!(streams
        .iter()
        .any(|s| s["name"] == "custom_object_support_ticket"));
}

#[test]
fn the_key_check_and_the_schemas_share_one_round_trip() {
    // Answers take a second: the schemas request begins before the key check's answer is in,
    // and the read uses its answer instead of asking again.
    let answer = |p: &str| {
        if p.contains("customObjects/schemas") {
            ok(
                json!({"schemas": [{"id": "abc-1", "slug": "ticket", "fields": []}], "meta": {"total": 1}}),
            )
        } else if p.contains("users/me") {
            ok(json!({"user": {"username": "u"}}))
        } else {
            ok(json!({"records": [{"id": "1"}], "meta": {"total": 1}}))
        }
    };
    let mut t = Fake::new(1_000_000_000, answer);
    let cat =
        r#"{"streams":[{"stream":{"name":"custom_object_ticket"},"sync_mode":"full_refresh"}]}"#;
    let s = read(&mut t, &mut Lines::default(), &cfg(), Some(cat), None).unwrap();
    assert!(s.streams[0].failure.is_none(), "{:?}", s.streams[0].failure);
    let paths: Vec<&str> = t.starts.iter().map(|(_, p)| p.as_str()).collect();
    assert_eq!(paths.len(), 3, "{paths:?}");
    assert!(paths[0].contains("users/me") && paths[1].contains("customObjects/schemas"));
    assert!(
        t.starts[1].0 < 1_000_000_000,
        "began before the key check's answer"
    );
    // A refused key still fails the read with the key check's error.
    let mut t = Fake::new(1000, |_| {
        Ok(HttpResponse {
            status: 403,
            headers: vec![],
            body: br#"{"message":"Forbidden"}"#.to_vec(),
        })
    });
    let e = read(&mut t, &mut Lines::default(), &cfg(), Some(cat), None).unwrap_err();
    assert_eq!(e.kind, FailureType::Config);
    assert!(e.message.contains("cannot read"), "{}", e.message);
}

/// Answers every fixed stream's list with one record, the key check and the schemas.
fn one_record_each(p: &str) -> Result<HttpResponse, String> {
    let path = p.split('?').next().unwrap_or(p);
    if path.ends_with("users/me") {
        return ok(json!({"user": {"username": "u"}}));
    }
    if path.ends_with("customObjects/schemas") {
        return ok(json!({"schemas": [], "meta": {"total": 0}}));
    }
    match fixed_streams()
        .into_iter()
        .find(|d| path.ends_with(&format!("/{}", d.path)))
    {
        Some(d) => ok(json!({ d.list_key: [{"id": "1"}], "meta": {"total": "1"} })),
        None => Err(format!("no such list: {p}")),
    }
}

#[test]
fn first_pages_begin_while_the_key_check_is_under_way() {
    // A slow API (a second or more per answer): the first pages of the catalog's first
    // streams begin before the key check's answer is in, and the read takes them over
    // instead of asking again.
    let mut t = Fake::new(1_000_000_000, one_record_each);
    let names = ["accounts", "deals", "tags", "lists"];
    let cat = json!({"streams": names.iter().map(|n| json!({"stream": {"name": n}, "sync_mode": "full_refresh"})).collect::<Vec<_>>()}).to_string();
    let s = read(&mut t, &mut Lines::default(), &cfg(), Some(&cat), None).unwrap();
    for st in &s.streams {
        assert!(st.failure.is_none(), "{}: {:?}", st.name, st.failure);
        assert_eq!(st.records, 1, "{}", st.name);
    }
    let paths: Vec<&str> = t.starts.iter().map(|(_, p)| p.as_str()).collect();
    assert!(paths[0].ends_with("users/me"), "{paths:?}");
    assert_eq!(
        paths.len(),
        1 + names.len(),
        "one request per list: {paths:?}"
    );
    let key_answer = 1_000_000_000;
    for (at, p) in &t.starts[1..] {
        assert!(
            *at < key_answer,
            "{p} began at {at} ns, after the key check's answer"
        );
    }
    assert!(
        !paths.iter().any(|p| p.contains("customObjects")),
        "{paths:?}"
    );
}

#[test]
fn a_refused_key_fails_the_read_once_though_pages_began_early() {
    let mut t = Fake::new(1_000_000_000, |_| {
        Ok(HttpResponse {
            status: 401,
            headers: vec![],
            body: br#"{"message":"No Result found for Subscriber with id 0"}"#.to_vec(),
        })
    });
    let mut sink = Lines::default();
    let e = read(&mut t, &mut sink, &cfg(), None, None).unwrap_err();
    assert_eq!(e.kind, FailureType::Config);
    assert!(e.message.contains("cannot read"), "{}", e.message);
    // What began early is bounded by the read's lanes, and nothing was emitted.
    assert!(t.starts.len() <= 2 + 8, "{:?}", t.starts);
    assert!(sink.0.iter().all(|l| !l.contains("\"RECORD\"")));
}

#[test]
fn a_retried_key_check_keeps_the_answers_that_came_meanwhile() {
    // The first key check gets an intermittent 403 and is asked again; the schemas page and
    // the early pages answered during the wait are kept, not lost (the read once waited for
    // such an answer for ever).
    let mut forbidden_once = true;
    let mut t = Fake::new(300_000_000, move |p| {
        if p.ends_with("users/me") && std::mem::take(&mut forbidden_once) {
            return Ok(HttpResponse {
                status: 403,
                headers: vec![],
                body: br#"{"message":"Forbidden"}"#.to_vec(),
            });
        }
        one_record_each(p)
    });
    let s = read(&mut t, &mut Lines::default(), &cfg(), None, None).unwrap();
    assert!(s.streams.iter().all(|st| st.failure.is_none()));
    let keys = t
        .starts
        .iter()
        .filter(|(_, p)| p.ends_with("users/me"))
        .count();
    assert_eq!(keys, 2);
    let schemas = t
        .starts
        .iter()
        .filter(|(_, p)| p.contains("customObjects/schemas"))
        .count();
    assert_eq!(schemas, 1, "{:?}", t.starts);
    let mut seen = std::collections::HashSet::new();
    for (_, p) in &t.starts {
        assert!(
            p.ends_with("users/me") || seen.insert(p.clone()),
            "{p} asked twice"
        );
    }
}

#[test]
fn bad_catalog_and_state_fail_before_any_request() {
    let mut t = fake(|_| ok(json!({})));
    let e = read(
        &mut t,
        &mut Lines::default(),
        &cfg(),
        Some(r#"{"streams":[{"stream":{"name":"nope"}}]}"#),
        None,
    )
    .unwrap_err();
    assert_eq!(e.kind, FailureType::Config);
    let e = read(
        &mut t,
        &mut Lines::default(),
        &cfg(),
        Some(r#"{"streams":[]}"#),
        Some(r#"{"ghost": {}}"#),
    )
    .unwrap_err();
    assert!(e.message.contains("ghost"));
    assert!(t.starts.is_empty());
}

#[test]
fn a_custom_object_schema_outage_fails_only_those_streams() {
    let catalog = r#"{"streams":[{"stream":{"name":"custom_object_ticket"},"sync_mode":"full_refresh"},{"stream":{"name":"tags"},"sync_mode":"full_refresh"}]}"#;
    let answer = |schemas_status: u16| {
        move |p: &str| {
            if p.contains("customObjects/schemas") {
                Ok(HttpResponse {
                    status: schemas_status,
                    headers: vec![],
                    body: if schemas_status == 200 {
                        br#"{"schemas": [], "meta": {"total": 0}}"#.to_vec()
                    } else {
                        b"<html>503</html>".to_vec()
                    },
                })
            } else if p.contains("/tags") {
                ok(json!({"tags": [{"id": "1"}], "meta": {"total": "1"}}))
            } else {
                ok(json!({"user": {"username": "u"}}))
            }
        }
    };
    for (status, kind) in [(503, FailureType::Transient), (200, FailureType::Config)] {
        let mut t = fake(answer(status));
        let mut sink = Lines::default();
        let s = read(
            &mut t,
            &mut sink,
            &cfg(),
            Some(catalog),
            Some(r#"{"custom_object_ticket": {}}"#),
        )
        .expect("the run goes on");
        let by: BTreeMap<&str, &crate::engine::StreamSummary> =
            s.streams.iter().map(|x| (x.name.as_str(), x)).collect();
        assert!(by["tags"].failure.is_none());
        assert_eq!(by["tags"].records, 1);
        assert_eq!(
            by["custom_object_ticket"].failure.as_ref().map(|f| f.kind),
            Some(kind),
            "{status}"
        );
        assert!(sink
            .0
            .iter()
            .any(|l| l.contains("INCOMPLETE") && l.contains("custom_object_ticket")));
        assert_eq!(worst_failure(&s), Some(kind));
    }
}

/// A 403 from the first request (the key check) is retried like any later one: four tries in
/// all, then a config error. docs/sync.md's 403 row says so in words, checked here.
#[test]
fn a_first_403_is_tried_four_times_as_the_docs_say() {
    let tries = std::rc::Rc::new(std::cell::Cell::new(0usize));
    let counted = tries.clone();
    let mut t = fake(move |_| {
        counted.set(counted.get() + 1);
        Ok(HttpResponse {
            status: 403,
            headers: vec![],
            body: br#"{"message":"Forbidden"}"#.to_vec(),
        })
    });
    let (good, msg) = check(&mut t, &cfg());
    assert!(!good, "{msg}");
    assert_eq!(
        tries.get(),
        1 + crate::http::retry::FORBIDDEN_RETRIES as usize
    );
    let said = ["once", "twice", "three times", "four times", "five times"][tries.get() - 1];
    let doc = include_str!("../../docs/sync.md");
    assert!(
        doc.contains(&format!("| 403 | tried {said} in all")),
        "docs/sync.md's 403 row must say `tried {said} in all`"
    );
}
