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

/// The stream table of the API notes (../shared/streams.md, columns stream, path, list key,
/// cursor, server filter), copied here as the independent expectation the rows must match.
const SPEC: &str = "
| accounts | accounts | accounts | updatedTimestamp | — |
| account_contacts | accountContacts | accountContacts | updatedTimestamp | — |
| account_custom_fields | accountCustomFieldMeta | accountCustomFieldMeta | updatedTimestamp | — |
| account_custom_field_values | accountCustomFieldData | accountCustomFieldData | updatedTimestamp | — |
| activities | activities | activities | tstamp | `after=` |
| addresses | addresses | addresses | — | — |
| automations | automations | automations | mdate | — |
| automation_blocks | automationBlocks | automationBlocks | mdate | — |
| bounce_logs | bounceLogs | bounceLogs | updated_timestamp | — |
| brandings | brandings | brandings | — | — |
| calendars | calendars | calendars | mdate | — |
| campaigns | campaigns | campaigns | updated_timestamp | — |
| campaign_links | links | links | updated_timestamp | — |
| campaign_lists | campaignLists | campaignLists | — | — |
| campaign_messages | campaignMessages | campaignMessages | — | — |
| configs | configs | configs | updated_timestamp | — |
| contacts | contacts | contacts | udate | `filters[updated_after]` |
| contact_automations | contactAutomations | contactAutomations | lastdate | — |
| contact_conversions | contactConversions | contactConversions | cdate | — |
| contact_custom_fields | fields | fields | — | — |
| contact_custom_field_options | fields | fieldOptions | — | — |
| contact_custom_field_rels | fields | fieldRels | — | — |
| contact_custom_field_values | fieldValues | fieldValues | udate | — |
| contact_data | contactData | contactData | tstamp | — |
| contact_deals | contactDeals | contactDeals | updated_timestamp | — |
| contact_emails | contactEmails | contactEmails | sdate | — |
| contact_lists | contactLists | contactLists | updated_timestamp | — |
| contact_tags | contactTags | contactTags | updated_timestamp | — |
| conversions | conversions | conversions | udate | — |
| conversion_triggers | conversionTriggers | conversionTriggers | udate | — |
| deals | deals | deals | mdate | `filters[updated_after]` |
| deal_activities | dealActivities | dealActivities | cdate | — |
| deal_custom_fields | dealCustomFieldMeta | dealCustomFieldMeta | updatedTimestamp | — |
| deal_custom_field_values | dealCustomFieldData | dealCustomFieldData | updatedTimestamp | — |
| deal_groups | dealGroups | dealGroups | udate | — |
| deal_group_users | dealGroupUsers | dealGroupUsers | — | — |
| deal_stages | dealStages | dealStages | udate | — |
| ecommerce_connections | connections | connections | udate | — |
| ecommerce_customers | ecomCustomers | ecomCustomers | tstamp | — |
| ecommerce_orders | ecomOrders | ecomOrders | updatedDate | — |
| ecommerce_order_products | ecomOrderProducts | ecomOrderProducts | — | — |
| ecommerce_order_activities | ecomOrderActivities | ecomOrderActivities | updatedDate | — |
| email_activities | emailActivities | emailActivities | tstamp | — |
| forms | forms | forms | udate | — |
| goals | goals | goals | — | — |
| groups | groups | groups | — | — |
| lists | lists | lists | updated_timestamp | — |
| messages | messages | messages | mdate | — |
| saved_responses | savedResponses | savedResponses | mdate | — |
| scores | scores | scores | mdate | — |
| segments | segments | segments | — | — |
| site_messages | siteMessages | siteMessages | ldate | — |
| sms | sms | sms | tstamp | — |
| tags | tags | tags | — | — |
| tasks | dealTasks | dealTasks | udate | — |
| task_types | dealTasktypes | dealTasktypes | — | — |
| templates | templates | templates | mdate | — |
| users | users | users | — | — |
| webhooks | webhooks | webhooks | — | — |
";

#[test]
fn every_row_matches_the_api_notes() {
    let spec: Vec<Vec<&str>> = SPEC
        .lines()
        .filter(|l| l.starts_with('|'))
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .collect();
    let s = fixed_streams();
    assert_eq!(spec.len(), s.len());
    for (d, want) in s.iter().zip(&spec) {
        let cursor = (want[3] != "\u{2014}").then_some(want[3]);
        let filter = match want[4] {
            "`after=`" => ServerFilter::After,
            "`filters[updated_after]`" => ServerFilter::UpdatedAfter,
            _ => ServerFilter::None,
        };
        assert_eq!(
            (d.name.as_str(), d.path.as_str(), d.list_key.as_str()),
            (want[0], want[1], want[2]),
            "catalog order, name, path and list key"
        );
        assert_eq!(d.cursor.as_deref(), cursor, "{}", d.name);
        assert_eq!(d.supports_incremental(), cursor.is_some(), "{}", d.name);
        assert_eq!(d.filter, filter, "{}", d.name);
    }
}

#[test]
fn only_the_contact_sideloads_ride_on_contacts() {
    let s = fixed_streams();
    let riders: Vec<(&str, Sideload)> = s
        .iter()
        .filter_map(|d| d.rides_on.map(|r| (d.name.as_str(), r)))
        .collect();
    let want = |include| Sideload {
        parent: "contacts",
        include,
        parent_key: "contact",
    };
    assert_eq!(
        riders,
        [
            ("contact_custom_field_values", want("fieldValues")),
            ("contact_lists", want("contactLists")),
            ("contact_tags", want("contactTags")),
        ]
    );
}
