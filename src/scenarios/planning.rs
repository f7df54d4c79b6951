//! The engine's planning rules: the server filter's value and where it goes, the pass start, shared lists and riding children.

use crate::documents::state::Resume;
use crate::rules::datetime::parse_instant;
use crate::test_support::reads::*;
use crate::vocab::page::IdRange;

/// The server filter starts one day before the cursor less the lookback window, so a server that
/// reads the value in another zone still returns everything; the cursor does the exact cut.
#[test]
fn the_server_filter_overlaps_by_the_lookback_and_one_day() {
    let state = StreamState {
        cursor: Some(t("2024-03-01T00:00:00Z")),
        ..Default::default()
    };
    let (paths, _) = deals_pass(json!({}), state.clone(), &["2024-03-01T01:00:00Z"]);
    assert_eq!(paths.len(), 1, "{paths:?}");
    assert_eq!(
        updated_after(&paths[0]).as_deref(),
        Some("2024-02-29T00:00:00Z"),
        "{}",
        paths[0]
    );
    let (paths, _) = deals_pass(
        json!({"lookback_window_seconds": 7200}),
        state,
        &["2024-03-01T01:00:00Z"],
    );
    assert_eq!(
        updated_after(&paths[0]).as_deref(),
        Some("2024-02-28T22:00:00Z"),
        "{}",
        paths[0]
    );
    // Without a cursor, start_date (less the day) is the server filter.
    let (paths, _) = deals_pass(
        json!({"start_date": "2024-02-10T00:00:00Z"}),
        StreamState::default(),
        &["2024-03-01T01:00:00Z"],
    );
    assert_eq!(
        updated_after(&paths[0]).as_deref(),
        Some("2024-02-09T00:00:00Z"),
        "{}",
        paths[0]
    );
    // A full pass (no cursor, no start_date) has no server filter.
    let (paths, _) = deals_pass(json!({}), StreamState::default(), &["2024-03-01T01:00:00Z"]);
    assert_eq!(updated_after(&paths[0]), None, "{}", paths[0]);
}

/// The pass start is the first answer's `Date` less the time since the pass's first request
/// (rounded up to whole seconds) and a further 5 s: with records newer than that, the cursor stops
/// exactly there.
#[test]
fn the_pass_start_takes_off_the_elapsed_time_and_five_seconds() {
    let date = parse_instant("2024-03-01T12:00:00Z", 0).unwrap();
    let (paths, state) = deals_pass(
        json!({}),
        StreamState {
            cursor: Some(t("2024-03-01T00:00:00Z")),
            ..Default::default()
        },
        &["2024-03-01T06:00:00Z", "2024-03-01T13:00:00Z"],
    );
    assert_eq!(paths.len(), 1);
    let cursor = parse_instant(state["cursor"].as_str().unwrap(), 0).unwrap();
    // The scripted answer takes 1 to 3 whole seconds, by path.
    let behind_s = (date.0 - cursor.0) / 1_000_000_000;
    assert_eq!((date.0 - cursor.0) % 1_000_000_000, 0);
    // 5 s margin plus the 1 to 3 s the answer took.
    assert!(
        (6..=8).contains(&behind_s),
        "cursor {} is {behind_s} s before the Date",
        cursor.to_rfc3339()
    );
    assert_eq!(state["cursor_ids"], json!([]));
}

/// With sideloading off, contact children page their own lists, so an incremental contacts pass
/// keeps its server filter.
#[test]
fn without_sideloading_contacts_keep_their_server_filter() {
    let cfg = client_config(json!({"sideload_contact_children": false}));
    let seen = Rc::new(RefCell::new(Vec::<String>::new()));
    let log = seen.clone();
    let mut fake = Fake::new(1_000_000, move |p: &str| {
        log.borrow_mut().push(p.to_string());
        let key = if p.contains("/contactTags") {
            "contactTags"
        } else {
            "contacts"
        };
        Ok(HttpResponse {
            status: 200,
            headers: vec![],
            body: json!({ key: [] }).to_string().into_bytes(),
        })
    });
    let def = |n: &str| fixed_streams().into_iter().find(|d| d.name == n).unwrap();
    let jobs = vec![
        Job {
            def: def("contacts"),
            incremental: true,
            state: StreamState {
                cursor: Some(t("2024-03-01T00:00:00Z")),
                ..Default::default()
            },
            deletions: false,
        },
        Job {
            def: def("contact_tags"),
            incremental: false,
            state: StreamState::default(),
            deletions: false,
        },
    ];
    let mut client = Client::new(&mut fake, &cfg);
    read(&mut client, &cfg, jobs, &mut Lines::default());
    let paths = seen.borrow();
    let contacts = paths.iter().find(|p| p.contains("/contacts?")).unwrap();
    assert!(
        contacts.contains("filters%5Bupdated_after%5D="),
        "{contacts}"
    );
    assert!(!contacts.contains("include="), "{contacts}");
    assert!(
        paths.iter().any(|p| p.contains("/contactTags?")),
        "{paths:?}"
    );
}

/// Which requests carry the server filter: incremental streams that have one, except contacts
/// while a child riding on them needs a complete pass (its sweep is due, or it is read in full):
/// then every stream of that pass is cut on its own cursor. Between sweeps contacts
/// are filtered and carry the children of the changed contacts, and contact_tags, which can be
/// read newest first, pages its own list so; never full-refresh streams.
#[test]
fn the_server_filter_goes_where_it_may() {
    // Contacts alone, sideloading on: nothing rides, so the filter stays.
    let p = plan_paths(json!({}), vec![job_of("contacts", true, with_cursor())]);
    assert!(request_for(&p, "contacts")[0].contains(FILTER), "{p:?}");
    // Deletions tracked and no complete pass on record: the sweep is due.
    let due = |name| Job {
        deletions: true,
        ..job_of(name, true, with_cursor())
    };
    // A child's sweep is due: it rides, contacts go unfiltered; deals keep theirs.
    let p = plan_paths(
        json!({}),
        vec![
            job_of("contacts", true, with_cursor()),
            due("contact_tags"),
            job_of("deals", true, with_cursor()),
        ],
    );
    let c = request_for(&p, "contacts");
    assert!(
        !c[0].contains(FILTER) && c[0].contains("include=contactTags"),
        "{p:?}"
    );
    assert!(request_for(&p, "contactTags").is_empty(), "{p:?}");
    assert!(request_for(&p, "deals")[0].contains(FILTER), "{p:?}");
    // Between sweeps: contacts filtered with contact_lists riding; contact_tags newest first.
    let p = plan_paths(
        json!({}),
        vec![
            job_of("contacts", true, with_cursor()),
            job_of("contact_tags", true, with_cursor()),
            job_of("contact_lists", true, with_cursor()),
        ],
    );
    let c = request_for(&p, "contacts");
    assert!(
        c[0].contains(FILTER) && c[0].contains("include=contactLists"),
        "{p:?}"
    );
    let tags = request_for(&p, "contactTags");
    assert!(tags[0].contains("orders%5Bcdate%5D=DESC"), "{p:?}");
    assert!(request_for(&p, "contactLists").is_empty(), "{p:?}");
    // A child read in full makes the contacts pass complete.
    let p = plan_paths(
        json!({}),
        vec![
            job_of("contacts", true, with_cursor()),
            job_of("contact_lists", false, StreamState::default()),
        ],
    );
    assert!(!request_for(&p, "contacts")[0].contains(FILTER), "{p:?}");
    // Full refresh never filters, even with a start_date.
    let p = plan_paths(
        json!({"start_date": "2024-01-01"}),
        vec![job_of("deals", false, StreamState::default())],
    );
    assert!(!request_for(&p, "deals")[0].contains(FILTER), "{p:?}");
}

/// Streams of one list (the `/fields` family) resume together when their states agree, and all
/// start over when they don't.
#[test]
fn a_shared_list_resumes_only_when_all_agree() {
    let at = |o| StreamState {
        resume: Some(Resume::Offset(o)),
        ..Default::default()
    };
    let p = plan_paths(
        json!({}),
        vec![
            job_of("contact_custom_fields", false, at(100)),
            job_of("contact_custom_field_options", false, at(100)),
        ],
    );
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].contains("offset=100"), "{p:?}");
    let p = plan_paths(
        json!({}),
        vec![
            job_of("contact_custom_fields", false, at(100)),
            job_of(
                "contact_custom_field_options",
                false,
                StreamState::default(),
            ),
        ],
    );
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].contains("offset=0"), "{p:?}");
}

/// Lists are shared by path and key together: two custom objects (same key `records`, other
/// paths) are two lists.
#[test]
fn custom_objects_are_separate_lists() {
    let job = |slug, id| Job {
        def: crate::api::streams::custom_object_stream(slug, id),
        incremental: false,
        state: StreamState::default(),
        deletions: false,
    };
    let p = plan_paths(json!({}), vec![job("a", "11"), job("b", "22")]);
    assert_eq!(
        request_for(&p, "customObjects/records/11").len(),
        1,
        "{p:?}"
    );
    assert_eq!(
        request_for(&p, "customObjects/records/22").len(),
        1,
        "{p:?}"
    );
}

/// Contact children ride only on a contacts task that resumes from where they do; otherwise, and
/// next to any other stream, they page their own lists.
#[test]
fn children_ride_only_on_a_matching_contacts_task() {
    let p = plan_paths(
        json!({}),
        vec![
            job_of("tags", false, StreamState::default()),
            job_of("contact_tags", false, StreamState::default()),
        ],
    );
    assert_eq!(request_for(&p, "contactTags").len(), 1, "{p:?}");
    let resumed = StreamState {
        resume: Some(Resume::Ranges(vec![IdRange {
            after: Some("5".into()),
            below: None,
        }])),
        ..Default::default()
    };
    let p = plan_paths(
        json!({}),
        vec![
            job_of("contacts", false, resumed),
            job_of("contact_tags", false, StreamState::default()),
        ],
    );
    assert_eq!(request_for(&p, "contactTags").len(), 1, "{p:?}");
    assert!(
        !request_for(&p, "contacts")[0].contains("include="),
        "{p:?}"
    );
}

/// A resumed incremental pass keeps the pass start it saved: the cursor stops there, not at the
/// resumed run's own start.
#[test]
fn a_resumed_pass_keeps_its_saved_start() {
    let saved = t("2024-03-01T10:00:00Z");
    let (_, state) = deals_pass(
        json!({}),
        StreamState {
            cursor: Some(t("2024-03-01T00:00:00Z")),
            resume: Some(Resume::Offset(0)),
            pass_start: Some(saved),
            ..Default::default()
        },
        &["2024-03-01T13:00:00Z"],
    );
    assert_eq!(state["cursor"], json!("2024-03-01T10:00:00Z"), "{state}");
}

/// The pass start goes to incremental streams only: a full-refresh stream read from the same
/// pages (contact children riding on contacts) saves none.
#[test]
fn full_refresh_streams_get_no_pass_start() {
    let cfg = client_config(json!({}));
    let mut fake = Fake::new(1_000_000, |p: &str| {
        let after: u64 = p
            .split("id_greater=")
            .nth(1)
            .and_then(|v| v.split('&').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let ids: Vec<u64> = if p.contains("DESC") {
            vec![150]
        } else {
            (after + 1..=150.min(after + 100)).collect()
        };
        let body = json!({
            "contacts": ids.iter().map(|i| json!({"id": i.to_string(), "udate": "2024-03-01T06:00:00Z"})).collect::<Vec<_>>(),
            "contactTags": ids.iter().map(|i| json!({"id": format!("9{i}"), "contact": i.to_string()})).collect::<Vec<_>>(),
        });
        Ok(HttpResponse {
            status: 200,
            headers: vec![("date".into(), SERVER_DATE.into())],
            body: body.to_string().into_bytes(),
        })
    });
    let jobs = vec![
        job_of("contacts", true, StreamState::default()),
        job_of("contact_tags", false, StreamState::default()),
    ];
    let mut client = Client::new(&mut fake, &cfg);
    let mut sink = Lines::default();
    read(&mut client, &cfg, jobs, &mut sink);
    let states: Vec<Value> = sink
        .0
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["type"] == "STATE")
        .collect();
    let of = |name: &str| -> Vec<&Value> {
        states
            .iter()
            .filter(|v| v["state"]["stream"]["stream_descriptor"]["name"] == name)
            .map(|v| &v["state"]["stream"]["stream_state"])
            .collect()
    };
    assert!(
        of("contacts").iter().any(|s| s.get("pass_start").is_some()),
        "{states:?}"
    );
    assert!(of("contact_tags").len() >= 2, "{states:?}");
    assert!(
        of("contact_tags")
            .iter()
            .all(|s| s.get("pass_start").is_none()),
        "{states:?}"
    );
}

/// Whole reads that share one list between streams.
mod whole_reads {

    use crate::engine::*;

    use crate::test_support::{config, job, ok, Fake, Lines};
    use serde_json::json;

    use std::collections::BTreeMap;

    #[test]
    fn fields_family_shares_one_request() {
        let mut fake = Fake::new(1, |_p: &str| {
            ok(
                json!({"fields": [{"id": "1"}], "fieldOptions": [{"id": "5"}, {"id": "6"}], "fieldRels": [{"id": "9"}], "meta": {"total": "1"}}),
            )
        });
        let cfg = config(5.0);
        let mut client = Client::new(&mut fake, &cfg);
        let mut sink = Lines::default();
        let jobs = vec![
            job("contact_custom_fields"),
            job("contact_custom_field_options"),
            job("contact_custom_field_rels"),
        ];
        let s = read(&mut client, &cfg, jobs, &mut sink);
        assert_eq!(s.requests, 1);
        let by: BTreeMap<String, u64> = s
            .streams
            .iter()
            .map(|x| (x.name.clone(), x.records))
            .collect();
        assert_eq!(by["contact_custom_field_options"], 2);
        assert_eq!(by["contact_custom_field_rels"], 1);
    }
}
