//! The table of the 59 streams (name, path, list key, cursor) from `streams.md`, plus the record
//! field each stream's `touch` changes.

/// How a stream's cursor field is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fmt {
    /// `2024-03-05T10:11:12-05:00`.
    Iso,
    /// `2024-03-05 10:11:12` (account wall clock).
    Naive,
    /// `2024-03-05T15:11:12.123456789Z` (custom objects).
    Nanos,
}

/// One stream of the connector.
#[derive(Debug, Clone, Copy)]
pub struct StreamDef {
    /// Stream name (table name), e.g. `contact_custom_field_values`.
    pub name: &'static str,
    /// API path under `/api/3/`.
    pub path: &'static str,
    /// Key of the record array in the list response.
    pub key: &'static str,
    /// Cursor field, if the stream has one.
    pub cursor: Option<&'static str>,
    /// Format of the cursor field.
    pub fmt: Fmt,
    /// The data field `Dataset::touch` changes.
    pub touch: &'static str,
}

const fn d(
    name: &'static str,
    path: &'static str,
    key: &'static str,
    cursor: Option<&'static str>,
    fmt: Fmt,
    touch: &'static str,
) -> StreamDef {
    StreamDef {
        name,
        path,
        key,
        cursor,
        fmt,
        touch,
    }
}

use Fmt::{Iso, Naive};

/// All 59 streams, in the order of `streams.md`.
#[rustfmt::skip]
pub const STREAMS: &[StreamDef] = &[
    d("accounts", "accounts", "accounts", Some("updatedTimestamp"), Iso, "name"),
    d("account_contacts", "accountContacts", "accountContacts", Some("updatedTimestamp"), Iso, "jobTitle"),
    d("account_custom_fields", "accountCustomFieldMeta", "accountCustomFieldMeta", Some("updatedTimestamp"), Naive, "fieldLabel"),
    d("account_custom_field_values", "accountCustomFieldData", "accountCustomFieldData", Some("updatedTimestamp"), Naive, "fieldValue"),
    d("activities", "activities", "activities", Some("tstamp"), Iso, "reference_action"),
    d("addresses", "addresses", "addresses", None, Iso, "address1"),
    d("automations", "automations", "automations", Some("mdate"), Iso, "entered"),
    d("automation_blocks", "automationBlocks", "automationBlocks", Some("mdate"), Iso, "ordernum"),
    d("bounce_logs", "bounceLogs", "bounceLogs", Some("updated_timestamp"), Naive, "error"),
    d("brandings", "brandings", "brandings", None, Iso, "siteName"),
    d("calendars", "calendars", "calendars", Some("mdate"), Iso, "title"),
    d("campaigns", "campaigns", "campaigns", Some("updated_timestamp"), Naive, "opens"),
    d("campaign_links", "links", "links", Some("updated_timestamp"), Naive, "name"),
    d("campaign_lists", "campaignLists", "campaignLists", None, Iso, "list_amt"),
    d("campaign_messages", "campaignMessages", "campaignMessages", None, Iso, "send_amt"),
    d("configs", "configs", "configs", Some("updated_timestamp"), Naive, "val"),
    d("contacts", "contacts", "contacts", Some("udate"), Iso, "sentcnt"),
    d("contact_automations", "contactAutomations", "contactAutomations", Some("lastdate"), Iso, "lastblock"),
    d("contact_conversions", "contactConversions", "contactConversions", Some("cdate"), Iso, "value"),
    d("contact_custom_fields", "fields", "fields", None, Iso, "title"),
    d("contact_custom_field_options", "fields", "fieldOptions", None, Iso, "label"),
    d("contact_custom_field_rels", "fields", "fieldRels", None, Iso, "dorder"),
    d("contact_custom_field_values", "fieldValues", "fieldValues", Some("udate"), Iso, "value"),
    d("contact_data", "contactData", "contactData", Some("tstamp"), Iso, "geoCity"),
    d("contact_deals", "contactDeals", "contactDeals", Some("updated_timestamp"), Naive, "updated_by"),
    d("contact_emails", "contactEmails", "contactEmails", Some("sdate"), Iso, "opened"),
    d("contact_lists", "contactLists", "contactLists", Some("updated_timestamp"), Naive, "first_name"),
    d("contact_tags", "contactTags", "contactTags", Some("updated_timestamp"), Naive, "updated_by"),
    d("conversions", "conversions", "conversions", Some("udate"), Iso, "name"),
    d("conversion_triggers", "conversionTriggers", "conversionTriggers", Some("udate"), Iso, "param"),
    d("deals", "deals", "deals", Some("mdate"), Iso, "value"),
    d("deal_activities", "dealActivities", "dealActivities", Some("cdate"), Iso, "dataNewval"),
    d("deal_custom_fields", "dealCustomFieldMeta", "dealCustomFieldMeta", Some("updatedTimestamp"), Naive, "fieldLabel"),
    d("deal_custom_field_values", "dealCustomFieldData", "dealCustomFieldData", Some("updatedTimestamp"), Naive, "fieldValue"),
    d("deal_groups", "dealGroups", "dealGroups", Some("udate"), Iso, "title"),
    d("deal_group_users", "dealGroupUsers", "dealGroupUsers", None, Iso, "notify"),
    d("deal_stages", "dealStages", "dealStages", Some("udate"), Iso, "width"),
    d("ecommerce_connections", "connections", "connections", Some("udate"), Iso, "syncStatus"),
    d("ecommerce_customers", "ecomCustomers", "ecomCustomers", Some("tstamp"), Iso, "totalOrders"),
    d("ecommerce_orders", "ecomOrders", "ecomOrders", Some("updatedDate"), Iso, "totalPrice"),
    d("ecommerce_order_products", "ecomOrderProducts", "ecomOrderProducts", None, Iso, "quantity"),
    d("ecommerce_order_activities", "ecomOrderActivities", "ecomOrderActivities", Some("updatedDate"), Iso, "activityType"),
    d("email_activities", "emailActivities", "emailActivities", Some("tstamp"), Iso, "subject"),
    d("forms", "forms", "forms", Some("udate"), Iso, "entries"),
    d("goals", "goals", "goals", None, Iso, "title"),
    d("groups", "groups", "groups", None, Iso, "descript"),
    d("lists", "lists", "lists", Some("updated_timestamp"), Naive, "sender_reminder"),
    d("messages", "messages", "messages", Some("mdate"), Iso, "subject"),
    d("saved_responses", "savedResponses", "savedResponses", Some("mdate"), Iso, "body"),
    d("scores", "scores", "scores", Some("mdate"), Iso, "descript"),
    d("segments", "segments", "segments", None, Iso, "name"),
    d("site_messages", "siteMessages", "siteMessages", Some("ldate"), Iso, "content"),
    d("sms", "sms", "sms", Some("tstamp"), Iso, "text"),
    d("tags", "tags", "tags", None, Iso, "description"),
    d("tasks", "dealTasks", "dealTasks", Some("udate"), Iso, "note"),
    d("task_types", "dealTasktypes", "dealTasktypes", None, Iso, "defduration"),
    d("templates", "templates", "templates", Some("mdate"), Naive, "used"),
    d("users", "users", "users", None, Iso, "lastName"),
    d("webhooks", "webhooks", "webhooks", None, Iso, "name"),
];

/// The order in which streams are generated (parents before children).
#[rustfmt::skip]
pub const GEN_ORDER: &[&str] = &[
    "users", "groups", "addresses", "brandings", "lists", "tags", "contact_custom_fields",
    "contact_custom_field_options", "contact_custom_field_rels", "accounts", "contacts", "contact_custom_field_values",
    "contact_tags", "contact_lists", "account_contacts", "account_custom_fields",
    "account_custom_field_values", "deal_groups", "deal_stages", "deal_group_users", "deals", "contact_deals",
    "deal_custom_fields", "deal_custom_field_values", "deal_activities", "task_types", "tasks", "messages",
    "campaigns", "campaign_lists", "campaign_messages", "campaign_links", "automations", "automation_blocks",
    "contact_automations", "goals", "activities", "email_activities", "contact_emails", "bounce_logs",
    "ecommerce_connections", "ecommerce_customers", "ecommerce_orders", "ecommerce_order_products",
    "ecommerce_order_activities", "forms", "segments", "scores", "saved_responses", "templates", "calendars",
    "webhooks", "configs", "conversions", "conversion_triggers", "contact_conversions", "contact_data",
    "site_messages", "sms",
];

/// Child streams whose parent carries an array of the children's ids:
/// (child stream, child's foreign-key field, parent stream, parent's id-array field).
pub const PARENT_ARRAYS: &[(&str, &str, &str, &str)] = &[
    ("deal_stages", "group", "deal_groups", "stages"),
    (
        "ecommerce_order_products",
        "orderid",
        "ecommerce_orders",
        "orderProducts",
    ),
];

/// The definition of a stream by name.
pub fn by_name(name: &str) -> Option<&'static StreamDef> {
    STREAMS.iter().find(|s| s.name == name)
}

/// The (first) stream served at an API path.
pub fn by_path(path: &str) -> Option<&'static StreamDef> {
    STREAMS.iter().find(|s| s.path == path)
}

/// How many records of a stream `Dataset::generate` makes for `n` contacts (always at least 1).
pub fn count(name: &str, n: usize) -> usize {
    let n = n.max(1);
    let orders = (n / 20).max(1);
    let c = match name {
        "contacts" => n,
        "contact_custom_field_values" => 2 * n,
        "contact_tags" => n * 3 / 2,
        "contact_lists" => n,
        "deals" => n / 10,
        "activities" => n / 2,
        "ecommerce_orders" => orders,
        "ecommerce_order_products" => 2 * orders,
        "account_contacts" => n / 10,
        "email_activities" => n / 4,
        "contact_automations" => n / 4,
        "users" | "groups" | "brandings" | "forms" | "scores" | "calendars" | "webhooks" => {
            if name == "brandings" {
                1
            } else {
                3
            }
        }
        "addresses" | "deal_groups" | "ecommerce_connections" => 2,
        "lists"
        | "segments"
        | "saved_responses"
        | "templates"
        | "site_messages"
        | "conversion_triggers" => 5,
        "tags" => 12,
        "contact_custom_fields" | "contact_custom_field_rels" | "configs" => 8,
        "contact_custom_field_options" => 9,
        "accounts" | "messages" | "campaigns" | "campaign_lists" | "campaign_messages"
        | "bounce_logs" | "sms" => 10,
        "account_custom_fields" | "deal_custom_fields" => crate::gen::CUSTOM_FIELD_DEFS.len(),
        "deal_custom_field_values" => crate::gen::custom_value_count(count("deals", n)),
        "account_custom_field_values" => crate::gen::custom_value_count(count("accounts", n)),
        "deal_group_users" | "task_types" | "goals" | "conversions" => 4,
        "deal_stages" | "automations" => 6,
        "contact_deals" => (n / 10).clamp(1, 30),
        "campaign_links" | "contact_conversions" => 15,
        _ => 20,
    };
    c.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        assert_eq!(STREAMS.len(), 59);
        assert_eq!(GEN_ORDER.len(), 59);
        for s in STREAMS {
            assert!(
                GEN_ORDER.contains(&s.name),
                "{} missing from GEN_ORDER",
                s.name
            );
        }
        let mut names: Vec<_> = STREAMS.iter().map(|s| s.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 59);
        assert_eq!(
            by_path("fields").map(|s| s.name),
            Some("contact_custom_fields")
        );
        assert_eq!(by_name("tasks").map(|s| s.path), Some("dealTasks"));
    }

    #[test]
    fn counts_scale() {
        assert_eq!(count("contacts", 1200), 1200);
        assert_eq!(count("contact_custom_field_values", 1200), 2400);
        assert_eq!(count("contact_tags", 1200), 1800);
        assert_eq!(count("deals", 1200), 120);
        assert_eq!(count("ecommerce_order_products", 1200), 120);
        for s in STREAMS {
            assert!(count(s.name, 0) >= 1);
            assert!(count(s.name, 1200) >= 1);
        }
    }
}
