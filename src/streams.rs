//! Every stream the connector reads, as data.
//!
//! One row per stream: where it lives, which key of the answer holds its records, which field moves
//! when a record changes, and how the server can filter or page it. The engine reads any row the
//! same way; adding a stream is adding a row (and its schema in `schemas.json`).

/// How the API can narrow a list to recently changed records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerFilter {
    /// No server-side filter: page everything, filter on the cursor client-side.
    None,
    /// `filters[updated_after]=<value>` (contacts, deals; "greater than or equal").
    UpdatedAfter,
    /// `after=<value>` (activities).
    After,
}

/// How pages are walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// `limit` + `offset`, in the server's default (id) order.
    Offset,
    /// `orders[id]=ASC&id_greater=<last id>`: stable under inserts and deletes, resumable.
    Keyset,
}

/// One stream's description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamDef {
    /// Stream (table) name, as Singer users already have it.
    pub name: String,
    /// Path below `/api/3/`.
    pub path: String,
    /// Key of the answer that holds this stream's records.
    pub list_key: String,
    /// Key that drives paging: differs from `list_key` for records sideloaded by another list.
    pub page_key: String,
    /// Record field that moves when the record changes (API spelling), if any.
    pub cursor: Option<String>,
    /// Server-side change filter.
    pub filter: ServerFilter,
    /// Paging method.
    pub paging: Paging,
    /// Default overlap of incremental reads, in seconds: a cursor that records when something
    /// happened (not when its row was written) may see rows written after a sync already passed
    /// that time. The config's `lookback_window_seconds` applies when larger.
    pub lookback_s: i64,
}

/// Offset-paged lists documented to sort by id (`orders[id]=ASC`; ../shared/api-filters-and-orders.md):
/// their pages ask for it. Elsewhere an unknown order is ignored at best, so none is sent; the
/// engine checks that ids rise either way and reads on safely when they don't.
pub const ORDERED_BY_ID: &[&str] = &["lists", "emailActivities"];

impl StreamDef {
    /// Whether offset pages ask for ascending id order.
    pub fn orders_by_id(&self) -> bool {
        ORDERED_BY_ID.contains(&self.path.as_str())
    }

    /// Whether incremental sync is offered.
    pub fn supports_incremental(&self) -> bool {
        self.cursor.is_some()
    }
}

/// Static row: (name, path, list key, cursor, server filter).
type Row = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    ServerFilter,
);

use ServerFilter::{After, None as NoFilter, UpdatedAfter};

/// The fixed streams of ActiveCampaign's v3 API (../shared/streams.md).
const ROWS: &[Row] = &[
    (
        "accounts",
        "accounts",
        "accounts",
        Some("updatedTimestamp"),
        NoFilter,
    ),
    (
        "account_contacts",
        "accountContacts",
        "accountContacts",
        Some("updatedTimestamp"),
        NoFilter,
    ),
    (
        "account_custom_fields",
        "accountCustomFieldMeta",
        "accountCustomFieldMeta",
        Some("updatedTimestamp"),
        NoFilter,
    ),
    (
        "account_custom_field_values",
        "accountCustomFieldData",
        "accountCustomFieldData",
        Some("updatedTimestamp"),
        NoFilter,
    ),
    (
        "activities",
        "activities",
        "activities",
        Some("tstamp"),
        After,
    ),
    ("addresses", "addresses", "addresses", None, NoFilter),
    (
        "automations",
        "automations",
        "automations",
        Some("mdate"),
        NoFilter,
    ),
    (
        "automation_blocks",
        "automationBlocks",
        "automationBlocks",
        Some("mdate"),
        NoFilter,
    ),
    (
        "bounce_logs",
        "bounceLogs",
        "bounceLogs",
        Some("updated_timestamp"),
        NoFilter,
    ),
    ("brandings", "brandings", "brandings", None, NoFilter),
    (
        "calendars",
        "calendars",
        "calendars",
        Some("mdate"),
        NoFilter,
    ),
    (
        "campaigns",
        "campaigns",
        "campaigns",
        Some("updated_timestamp"),
        NoFilter,
    ),
    (
        "campaign_links",
        "links",
        "links",
        Some("updated_timestamp"),
        NoFilter,
    ),
    (
        "campaign_lists",
        "campaignLists",
        "campaignLists",
        None,
        NoFilter,
    ),
    (
        "campaign_messages",
        "campaignMessages",
        "campaignMessages",
        None,
        NoFilter,
    ),
    (
        "configs",
        "configs",
        "configs",
        Some("updated_timestamp"),
        NoFilter,
    ),
    (
        "contacts",
        "contacts",
        "contacts",
        Some("udate"),
        UpdatedAfter,
    ),
    (
        "contact_automations",
        "contactAutomations",
        "contactAutomations",
        Some("lastdate"),
        NoFilter,
    ),
    (
        "contact_conversions",
        "contactConversions",
        "contactConversions",
        Some("cdate"),
        NoFilter,
    ),
    ("contact_custom_fields", "fields", "fields", None, NoFilter),
    (
        "contact_custom_field_options",
        "fields",
        "fieldOptions",
        None,
        NoFilter,
    ),
    (
        "contact_custom_field_rels",
        "fields",
        "fieldRels",
        None,
        NoFilter,
    ),
    (
        "contact_custom_field_values",
        "fieldValues",
        "fieldValues",
        Some("udate"),
        NoFilter,
    ),
    (
        "contact_data",
        "contactData",
        "contactData",
        Some("tstamp"),
        NoFilter,
    ),
    (
        "contact_deals",
        "contactDeals",
        "contactDeals",
        Some("updated_timestamp"),
        NoFilter,
    ),
    (
        "contact_emails",
        "contactEmails",
        "contactEmails",
        Some("sdate"),
        NoFilter,
    ),
    (
        "contact_lists",
        "contactLists",
        "contactLists",
        Some("updated_timestamp"),
        NoFilter,
    ),
    (
        "contact_tags",
        "contactTags",
        "contactTags",
        Some("updated_timestamp"),
        NoFilter,
    ),
    (
        "conversions",
        "conversions",
        "conversions",
        Some("udate"),
        NoFilter,
    ),
    (
        "conversion_triggers",
        "conversionTriggers",
        "conversionTriggers",
        Some("udate"),
        NoFilter,
    ),
    ("deals", "deals", "deals", Some("mdate"), UpdatedAfter),
    (
        "deal_activities",
        "dealActivities",
        "dealActivities",
        Some("cdate"),
        NoFilter,
    ),
    (
        "deal_custom_fields",
        "dealCustomFieldMeta",
        "dealCustomFieldMeta",
        Some("updatedTimestamp"),
        NoFilter,
    ),
    (
        "deal_custom_field_values",
        "dealCustomFieldData",
        "dealCustomFieldData",
        Some("updatedTimestamp"),
        NoFilter,
    ),
    (
        "deal_groups",
        "dealGroups",
        "dealGroups",
        Some("udate"),
        NoFilter,
    ),
    (
        "deal_group_users",
        "dealGroupUsers",
        "dealGroupUsers",
        None,
        NoFilter,
    ),
    (
        "deal_stages",
        "dealStages",
        "dealStages",
        Some("udate"),
        NoFilter,
    ),
    (
        "ecommerce_connections",
        "connections",
        "connections",
        Some("udate"),
        NoFilter,
    ),
    (
        "ecommerce_customers",
        "ecomCustomers",
        "ecomCustomers",
        Some("tstamp"),
        NoFilter,
    ),
    (
        "ecommerce_orders",
        "ecomOrders",
        "ecomOrders",
        Some("updatedDate"),
        NoFilter,
    ),
    (
        "ecommerce_order_products",
        "ecomOrderProducts",
        "ecomOrderProducts",
        None,
        NoFilter,
    ),
    (
        "ecommerce_order_activities",
        "ecomOrderActivities",
        "ecomOrderActivities",
        Some("updatedDate"),
        NoFilter,
    ),
    (
        "email_activities",
        "emailActivities",
        "emailActivities",
        Some("tstamp"),
        NoFilter,
    ),
    ("forms", "forms", "forms", Some("udate"), NoFilter),
    ("goals", "goals", "goals", None, NoFilter),
    ("groups", "groups", "groups", None, NoFilter),
    (
        "lists",
        "lists",
        "lists",
        Some("updated_timestamp"),
        NoFilter,
    ),
    ("messages", "messages", "messages", Some("mdate"), NoFilter),
    (
        "saved_responses",
        "savedResponses",
        "savedResponses",
        Some("mdate"),
        NoFilter,
    ),
    ("scores", "scores", "scores", Some("mdate"), NoFilter),
    ("segments", "segments", "segments", None, NoFilter),
    (
        "site_messages",
        "siteMessages",
        "siteMessages",
        Some("ldate"),
        NoFilter,
    ),
    ("sms", "sms", "sms", Some("tstamp"), NoFilter),
    ("tags", "tags", "tags", None, NoFilter),
    ("tasks", "dealTasks", "dealTasks", Some("udate"), NoFilter),
    (
        "task_types",
        "dealTasktypes",
        "dealTasktypes",
        None,
        NoFilter,
    ),
    (
        "templates",
        "templates",
        "templates",
        Some("mdate"),
        NoFilter,
    ),
    ("users", "users", "users", None, NoFilter),
    ("webhooks", "webhooks", "webhooks", None, NoFilter),
];

/// Overlap given to event-time cursors (one hour): rows that record an event are written some
/// time after it (delivery logs, tracking batches).
pub const EVENT_TIME_LOOKBACK_S: i64 = 3600;

/// Streams whose cursor is the time of an event rather than of the row's last change, with their
/// default overlap: `tstamp` of activities, email activities and SMS, the send date of contact
/// emails, the creation date of deal activities and contact conversions.
const EVENT_TIME_CURSORS: &[(&str, i64)] = &[
    ("activities", EVENT_TIME_LOOKBACK_S),
    ("email_activities", EVENT_TIME_LOOKBACK_S),
    ("sms", EVENT_TIME_LOOKBACK_S),
    ("contact_emails", EVENT_TIME_LOOKBACK_S),
    ("deal_activities", EVENT_TIME_LOOKBACK_S),
    ("contact_conversions", EVENT_TIME_LOOKBACK_S),
];

/// The fixed streams, in catalog order.
pub fn fixed_streams() -> Vec<StreamDef> {
    ROWS.iter()
        .map(|&(name, path, list_key, cursor, filter)| StreamDef {
            name: name.into(),
            path: path.into(),
            list_key: list_key.into(),
            // A sideloaded list is paged by the main list of its path (`/fields` → `fields`).
            page_key: if list_key == "fieldOptions" || list_key == "fieldRels" {
                "fields".into()
            } else {
                list_key.into()
            },
            cursor: cursor.map(Into::into),
            filter,
            paging: if name == "contacts" {
                Paging::Keyset
            } else {
                Paging::Offset
            },
            lookback_s: EVENT_TIME_CURSORS
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(0, |(_, s)| *s),
        })
        .collect()
}

/// Stream name for a custom object schema: `custom_object_` + its slug in snake case.
pub fn custom_object_stream_name(slug: &str) -> String {
    let mut out = String::from("custom_object_");
    for c in slug.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else {
            out.push('_');
        }
    }
    out
}

/// The stream that reads one custom object schema's records.
pub fn custom_object_stream(slug: &str, schema_id: &str) -> StreamDef {
    StreamDef {
        name: custom_object_stream_name(slug),
        path: format!("customObjects/records/{schema_id}"),
        list_key: "records".into(),
        page_key: "records".into(),
        cursor: Some("updatedTimestamp".into()),
        filter: ServerFilter::None,
        paging: Paging::Offset,
        lookback_s: 0,
    }
}

#[cfg(test)]
mod tests {
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
        assert!(EVENT_TIME_CURSORS
            .iter()
            .all(|(n, _)| s.iter().any(|d| d.name == *n && d.cursor.is_some())));
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
}
