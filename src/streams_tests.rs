//! Tests of the stream table.

use super::*;
use std::collections::HashSet;

#[test]
fn fifty_nine_unique_streams() {
    let s = fixed_streams();
    assert_eq!(s.len(), 59);
    let names: HashSet<_> = s.iter().map(|d| d.name.clone()).collect();
    assert_eq!(names.len(), 59);
}

#[test]
fn fields_family_pages_by_fields() {
    let s = fixed_streams();
    let fam: Vec<_> = s.iter().filter(|d| d.path == "fields").collect();
    assert_eq!(fam.len(), 3);
    assert!(fam.iter().all(|d| d.page_key == "fields"));
}

#[test]
fn only_contacts_use_keyset_and_filters_are_where_the_api_has_them() {
    for d in fixed_streams() {
        assert_eq!(d.paging == Paging::Keyset, d.name == "contacts");
        let want = match d.name.as_str() {
            "contacts" | "deals" => ServerFilter::UpdatedAfter,
            "activities" => ServerFilter::After,
            _ => ServerFilter::None,
        };
        assert_eq!(d.filter, want, "{}", d.name);
        if d.filter != ServerFilter::None {
            assert!(d.cursor.is_some());
        }
    }
}

#[test]
fn event_time_cursors_get_an_overlap_and_change_times_none() {
    let s = fixed_streams();
    for (name, cursor) in [
        ("activities", "tstamp"),
        ("email_activities", "tstamp"),
        ("sms", "tstamp"),
        ("contact_emails", "sdate"),
        ("deal_activities", "cdate"),
        ("contact_conversions", "cdate"),
    ] {
        let d = s.iter().find(|d| d.name == name).unwrap();
        assert_eq!(d.cursor.as_deref(), Some(cursor), "{name}");
        assert_eq!(d.lookback_s, EVENT_TIME_LOOKBACK_S, "{name}");
    }
    assert_eq!(s.iter().filter(|d| d.lookback_s > 0).count(), 6);
    let ordered: Vec<&str> = s
        .iter()
        .filter(|d| d.orders_by_id())
        .map(|d| d.path.as_str())
        .collect();
    assert_eq!(ordered, ["emailActivities", "lists"]);
    assert_eq!(custom_object_stream("x", "1").lookback_s, 0);
}

#[test]
fn custom_object_names() {
    assert_eq!(
        custom_object_stream_name("support-ticket"),
        "custom_object_support_ticket"
    );
    let d = custom_object_stream("my-object", "6449c3f3");
    assert_eq!(d.path, "customObjects/records/6449c3f3");
    assert_eq!(d.list_key, "records");
}
