//! Every stream the connector reads, as data.
//!
//! One row per stream: where it lives, which key of the answer holds its records, which field moves
//! when a record changes, and how the server can filter or page it. The engine reads any row the
//! same way; adding a stream is adding a row (and its schema in `schemas.json`).

/// How the API can narrow a list to recently changed records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ServerFilter {
    /// No server-side filter: page everything, filter on the cursor client-side.
    None,
    /// `filters[updated_after]=<value>` (contacts, deals; "greater than or equal").
    UpdatedAfter,
    /// `after=<value>` (activities).
    After,
}

/// How pages are walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Paging {
    /// `limit` + `offset`, in the server's default (id) order.
    Offset,
    /// `orders[id]=ASC&id_greater=<last id>`: stable under inserts and deletes, resumable.
    Keyset,
}

/// One stream's description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StreamDef {
    /// Stream (table) name, as Singer users already have it.
    pub(crate) name: String,
    /// Path below `/api/3/`.
    pub(crate) path: String,
    /// Key of the answer that holds this stream's records.
    pub(crate) list_key: String,
    /// Key that drives paging: differs from `list_key` for records sideloaded by another list.
    pub(crate) page_key: String,
    /// Record field that moves when the record changes (API spelling), if any.
    pub(crate) cursor: Option<String>,
    /// Fields read, in order, for a record that lacks `cursor` (the first one present wins): the
    /// documented records of some lists carry another field.
    pub(crate) cursor_else: Vec<String>,
    /// Server-side change filter.
    pub(crate) filter: ServerFilter,
    /// Paging method.
    pub(crate) paging: Paging,
    /// Default overlap of incremental reads, in seconds: a cursor that records when something
    /// happened (not when its row was written) may see rows written after a sync already passed
    /// that time. The config's `lookback_window_seconds` applies when larger.
    pub(crate) lookback_s: i64,
    /// The parent stream whose pages can carry this stream's records (`include=`).
    pub(crate) rides_on: Option<Sideload>,
    /// Whether offset pages ask for ascending id order (`orders[id]=ASC`): only lists documented
    /// to sort by id (../shared/api-filters-and-orders.md). Elsewhere an unknown order is ignored
    /// at best, so none is sent; the engine checks that ids rise either way and reads on safely
    /// when they don't.
    pub(crate) ordered_by_id: bool,
    /// A field the list can be ordered by, newest first (`orders[<field>]=DESC`), whose order
    /// follows the cursor: a sync between sweeps reads from the top down to the cursor
    /// Undocumented orders are checked on every page (see `engine::newest`).
    pub(crate) newest_first: Option<String>,
}

impl StreamDef {
    /// Whether offset pages ask for ascending id order.
    pub(crate) fn orders_by_id(&self) -> bool {
        self.ordered_by_id
    }

    /// Whether incremental sync is offered.
    pub(crate) fn supports_incremental(&self) -> bool {
        self.cursor.is_some()
    }

    /// The cursor fields a record is read by, in order: `cursor`, then `cursor_else`.
    pub(crate) fn cursor_fields(&self) -> Vec<String> {
        self.cursor
            .iter()
            .chain(self.cursor_else.iter())
            .cloned()
            .collect()
    }
}

/// A stream whose records can come sideloaded on another stream's pages (`include=`): its
/// records are read with the parent's pages when both are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sideload {
    /// The stream whose pages carry these records.
    pub(crate) parent: &'static str,
    /// The `include=` name, which is also the answer's key for these records.
    pub(crate) include: &'static str,
    /// The field of each of these records that holds its parent's id.
    pub(crate) parent_key: &'static str,
}

/// One row of the stream table.
#[derive(Debug, Clone, Copy)]
struct Row {
    /// Stream name.
    name: &'static str,
    /// Path below `/api/3/`.
    path: &'static str,
    /// Key of the answer that holds the records.
    list_key: &'static str,
    /// Key that drives paging, when it is another list's (records sideloaded by that list).
    page_key: Option<&'static str>,
    /// Record field that moves when the record changes.
    cursor: Option<&'static str>,
    /// Fields read, in order, when a record lacks `cursor`.
    cursor_else: &'static [&'static str],
    /// Server-side change filter.
    filter: ServerFilter,
    /// Paging method.
    paging: Paging,
    /// The parent stream whose pages can carry this stream's records.
    rides_on: Option<Sideload>,
    /// Default overlap of incremental reads in seconds (event-time cursors).
    lookback_s: i64,
    /// Whether offset pages ask for ascending id order (documented for this list).
    ordered_by_id: bool,
    /// Field to read newest first by, down to the cursor, between sweeps.
    newest_first: Option<&'static str>,
}

/// The defaults a row starts from: no cursor, no server filter, offset paging, its own list, no
/// sideload. Rows state only what differs from these (a restated default is a line no test can
/// tell from its absence).
const ROW: Row = Row {
    name: "",
    path: "",
    list_key: "",
    page_key: None,
    cursor: None,
    cursor_else: &[],
    filter: ServerFilter::None,
    paging: Paging::Offset,
    rides_on: None,
    lookback_s: 0,
    ordered_by_id: false,
    newest_first: None,
};

use ServerFilter::{After, UpdatedAfter};

/// The fixed streams of ActiveCampaign's v3 API (../shared/streams.md).
const ROWS: &[Row] = &[
    Row {
        name: "accounts",
        path: "accounts",
        list_key: "accounts",
        cursor: Some("updatedTimestamp"),
        ..ROW
    },
    Row {
        name: "account_contacts",
        path: "accountContacts",
        list_key: "accountContacts",
        cursor: Some("updatedTimestamp"),
        ..ROW
    },
    Row {
        name: "account_custom_fields",
        path: "accountCustomFieldMeta",
        list_key: "accountCustomFieldMeta",
        cursor: Some("updatedTimestamp"),
        ..ROW
    },
    Row {
        name: "account_custom_field_values",
        path: "accountCustomFieldData",
        list_key: "accountCustomFieldData",
        cursor: Some("updatedTimestamp"),
        ..ROW
    },
    Row {
        name: "activities",
        path: "activities",
        list_key: "activities",
        cursor: Some("tstamp"),
        filter: After,
        lookback_s: EVENT_TIME_LOOKBACK_S,
        ..ROW
    },
    Row {
        name: "addresses",
        path: "addresses",
        list_key: "addresses",
        ..ROW
    },
    Row {
        name: "automations",
        path: "automations",
        list_key: "automations",
        cursor: Some("mdate"),
        ..ROW
    },
    Row {
        name: "automation_blocks",
        path: "automationBlocks",
        list_key: "automationBlocks",
        cursor: Some("mdate"),
        ..ROW
    },
    Row {
        name: "bounce_logs",
        path: "bounceLogs",
        list_key: "bounceLogs",
        cursor: Some("updated_timestamp"),
        ..ROW
    },
    Row {
        name: "brandings",
        path: "brandings",
        list_key: "brandings",
        ..ROW
    },
    Row {
        name: "calendars",
        path: "calendars",
        list_key: "calendars",
        cursor: Some("mdate"),
        ..ROW
    },
    Row {
        name: "campaigns",
        path: "campaigns",
        list_key: "campaigns",
        cursor: Some("updated_timestamp"),
        // Evidence: the documented campaign has `mdate` and no `updated_timestamp`.
        cursor_else: &["mdate"],
        ..ROW
    },
    Row {
        name: "campaign_links",
        path: "links",
        list_key: "links",
        cursor: Some("updated_timestamp"),
        ..ROW
    },
    Row {
        name: "campaign_lists",
        path: "campaignLists",
        list_key: "campaignLists",
        ..ROW
    },
    Row {
        name: "campaign_messages",
        path: "campaignMessages",
        list_key: "campaignMessages",
        ..ROW
    },
    Row {
        name: "configs",
        path: "configs",
        list_key: "configs",
        cursor: Some("updated_timestamp"),
        ..ROW
    },
    Row {
        name: "contacts",
        path: "contacts",
        list_key: "contacts",
        cursor: Some("udate"),
        filter: UpdatedAfter,
        paging: Paging::Keyset,
        ..ROW
    },
    Row {
        name: "contact_automations",
        path: "contactAutomations",
        list_key: "contactAutomations",
        cursor: Some("lastdate"),
        // New enrolments newest first (`orders[adddate]`, listed by ActiveCampaign's MCP server,
        // not documented: checked on every page); runs that only progressed wait for the sweep.
        newest_first: Some("adddate"),
        ..ROW
    },
    Row {
        name: "contact_conversions",
        path: "contactConversions",
        list_key: "contactConversions",
        cursor: Some("cdate"),
        lookback_s: EVENT_TIME_LOOKBACK_S,
        ..ROW
    },
    Row {
        name: "contact_custom_fields",
        path: "fields",
        list_key: "fields",
        ..ROW
    },
    Row {
        name: "contact_custom_field_options",
        path: "fields",
        list_key: "fieldOptions",
        page_key: Some("fields"),
        ..ROW
    },
    Row {
        name: "contact_custom_field_rels",
        path: "fields",
        list_key: "fieldRels",
        page_key: Some("fields"),
        ..ROW
    },
    Row {
        name: "contact_custom_field_values",
        path: "fieldValues",
        list_key: "fieldValues",
        cursor: Some("udate"),
        rides_on: Some(Sideload {
            parent: "contacts",
            include: "fieldValues",
            parent_key: "contact",
        }),
        ..ROW
    },
    Row {
        name: "contact_data",
        path: "contactData",
        list_key: "contactData",
        cursor: Some("tstamp"),
        ..ROW
    },
    Row {
        name: "contact_deals",
        path: "contactDeals",
        list_key: "contactDeals",
        cursor: Some("updated_timestamp"),
        ..ROW
    },
    Row {
        name: "contact_emails",
        path: "contactEmails",
        list_key: "contactEmails",
        cursor: Some("sdate"),
        lookback_s: EVENT_TIME_LOOKBACK_S,
        ..ROW
    },
    Row {
        name: "contact_lists",
        path: "contactLists",
        list_key: "contactLists",
        cursor: Some("updated_timestamp"),
        rides_on: Some(Sideload {
            parent: "contacts",
            include: "contactLists",
            parent_key: "contact",
        }),
        ..ROW
    },
    Row {
        name: "contact_tags",
        path: "contactTags",
        list_key: "contactTags",
        cursor: Some("updated_timestamp"),
        // Documented: "order with orders[cdate]=desc and stop paging when cdate passes the date".
        newest_first: Some("cdate"),
        rides_on: Some(Sideload {
            parent: "contacts",
            include: "contactTags",
            parent_key: "contact",
        }),
        ..ROW
    },
    Row {
        name: "conversions",
        path: "conversions",
        list_key: "conversions",
        cursor: Some("udate"),
        ..ROW
    },
    Row {
        name: "conversion_triggers",
        path: "conversionTriggers",
        list_key: "conversionTriggers",
        cursor: Some("udate"),
        ..ROW
    },
    Row {
        name: "deals",
        path: "deals",
        list_key: "deals",
        cursor: Some("mdate"),
        filter: UpdatedAfter,
        ..ROW
    },
    Row {
        name: "deal_activities",
        path: "dealActivities",
        list_key: "dealActivities",
        cursor: Some("cdate"),
        lookback_s: EVENT_TIME_LOOKBACK_S,
        ..ROW
    },
    Row {
        name: "deal_custom_fields",
        path: "dealCustomFieldMeta",
        list_key: "dealCustomFieldMeta",
        cursor: Some("updatedTimestamp"),
        ..ROW
    },
    Row {
        name: "deal_custom_field_values",
        path: "dealCustomFieldData",
        list_key: "dealCustomFieldData",
        cursor: Some("updatedTimestamp"),
        ..ROW
    },
    Row {
        name: "deal_groups",
        path: "dealGroups",
        list_key: "dealGroups",
        cursor: Some("udate"),
        ..ROW
    },
    Row {
        name: "deal_group_users",
        path: "dealGroupUsers",
        list_key: "dealGroupUsers",
        ..ROW
    },
    Row {
        name: "deal_stages",
        path: "dealStages",
        list_key: "dealStages",
        cursor: Some("udate"),
        ..ROW
    },
    Row {
        name: "ecommerce_connections",
        path: "connections",
        list_key: "connections",
        cursor: Some("udate"),
        ..ROW
    },
    Row {
        name: "ecommerce_customers",
        path: "ecomCustomers",
        list_key: "ecomCustomers",
        cursor: Some("tstamp"),
        ..ROW
    },
    Row {
        name: "ecommerce_orders",
        path: "ecomOrders",
        list_key: "ecomOrders",
        cursor: Some("updatedDate"),
        ..ROW
    },
    Row {
        name: "ecommerce_order_products",
        path: "ecomOrderProducts",
        list_key: "ecomOrderProducts",
        ..ROW
    },
    Row {
        name: "ecommerce_order_activities",
        path: "ecomOrderActivities",
        list_key: "ecomOrderActivities",
        cursor: Some("updatedDate"),
        ..ROW
    },
    Row {
        name: "email_activities",
        path: "emailActivities",
        list_key: "emailActivities",
        cursor: Some("tstamp"),
        lookback_s: EVENT_TIME_LOOKBACK_S,
        ordered_by_id: true,
        // Listed by ActiveCampaign's MCP server, not documented: checked on every page.
        newest_first: Some("tstamp"),
        ..ROW
    },
    Row {
        name: "forms",
        path: "forms",
        list_key: "forms",
        cursor: Some("udate"),
        ..ROW
    },
    Row {
        name: "goals",
        path: "goals",
        list_key: "goals",
        ..ROW
    },
    Row {
        name: "groups",
        path: "groups",
        list_key: "groups",
        ..ROW
    },
    Row {
        name: "lists",
        path: "lists",
        list_key: "lists",
        cursor: Some("updated_timestamp"),
        // Evidence: the four documented lists have `udate` and no `updated_timestamp`.
        cursor_else: &["udate"],
        ordered_by_id: true,
        ..ROW
    },
    Row {
        name: "messages",
        path: "messages",
        list_key: "messages",
        cursor: Some("mdate"),
        ..ROW
    },
    Row {
        name: "saved_responses",
        path: "savedResponses",
        list_key: "savedResponses",
        cursor: Some("mdate"),
        ..ROW
    },
    Row {
        name: "scores",
        path: "scores",
        list_key: "scores",
        cursor: Some("mdate"),
        ..ROW
    },
    Row {
        name: "segments",
        path: "segments",
        list_key: "segments",
        ..ROW
    },
    Row {
        name: "site_messages",
        path: "siteMessages",
        list_key: "siteMessages",
        cursor: Some("ldate"),
        ..ROW
    },
    Row {
        name: "sms",
        path: "sms",
        list_key: "sms",
        cursor: Some("tstamp"),
        lookback_s: EVENT_TIME_LOOKBACK_S,
        ..ROW
    },
    Row {
        name: "tags",
        path: "tags",
        list_key: "tags",
        ..ROW
    },
    Row {
        name: "tasks",
        path: "dealTasks",
        list_key: "dealTasks",
        cursor: Some("udate"),
        ..ROW
    },
    Row {
        name: "task_types",
        path: "dealTasktypes",
        list_key: "dealTasktypes",
        ..ROW
    },
    Row {
        name: "templates",
        path: "templates",
        list_key: "templates",
        cursor: Some("mdate"),
        ..ROW
    },
    Row {
        name: "users",
        path: "users",
        list_key: "users",
        ..ROW
    },
    Row {
        name: "webhooks",
        path: "webhooks",
        list_key: "webhooks",
        ..ROW
    },
];

/// Overlap given to event-time cursors (one hour), the `lookback_s` of their rows: the `tstamp` of
/// activities, email activities and SMS, the send date of contact emails, the creation date of
/// deal activities and contact conversions say when something happened, and the row recording it
/// is written some time after (delivery logs, tracking batches).
pub(crate) const EVENT_TIME_LOOKBACK_S: i64 = 3600;

/// The fixed streams, in catalog order.
pub(crate) fn fixed_streams() -> Vec<StreamDef> {
    ROWS.iter()
        .map(|r| StreamDef {
            name: r.name.into(),
            path: r.path.into(),
            list_key: r.list_key.into(),
            page_key: r.page_key.unwrap_or(r.list_key).into(),
            cursor: r.cursor.map(Into::into),
            cursor_else: r.cursor_else.iter().map(|c| c.to_string()).collect(),
            filter: r.filter,
            paging: r.paging,
            lookback_s: r.lookback_s,
            rides_on: r.rides_on,
            ordered_by_id: r.ordered_by_id,
            newest_first: r.newest_first.map(Into::into),
        })
        .collect()
}

/// The prefix of every custom object stream's name.
pub(crate) const CUSTOM_OBJECT_PREFIX: &str = "custom_object_";

/// Whether a stream name is a custom object's (whose schema the account may or may not have).
pub(crate) fn is_custom_object_stream(name: &str) -> bool {
    name.starts_with(CUSTOM_OBJECT_PREFIX)
}

/// Stream name for a custom object schema: `custom_object_` + its slug in snake case.
pub(crate) fn custom_object_stream_name(slug: &str) -> String {
    let mut out = String::from(CUSTOM_OBJECT_PREFIX);
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
pub(crate) fn custom_object_stream(slug: &str, schema_id: &str) -> StreamDef {
    StreamDef {
        name: custom_object_stream_name(slug),
        path: format!("customObjects/records/{schema_id}"),
        list_key: "records".into(),
        page_key: "records".into(),
        cursor: Some("updatedTimestamp".into()),
        cursor_else: Vec::new(),
        filter: ServerFilter::None,
        paging: Paging::Offset,
        lookback_s: 0,
        rides_on: None,
        ordered_by_id: false,
        // The documented order syntax (`orders[createdTimestamp]=DESC` is the example); that it
        // works for updatedTimestamp is not checked live: checked on every page.
        newest_first: Some("updatedTimestamp".into()),
    }
}

#[cfg(test)]
#[path = "streams_tests.rs"]
mod tests;
