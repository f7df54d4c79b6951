//! The API itself: maps a request path + query onto the dataset and builds the JSON answer.

use crate::data::Dataset;
use crate::query::Query;
use crate::quirks::{EmptyShape, Quirks};
use crate::rng::{hash_str, Rng};
use crate::streams::{self, StreamDef};
use crate::time::parse_instant_ms;
use serde_json::{json, Map, Value};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Status and JSON body of an API answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: Value,
}

impl Reply {
    fn ok(body: Value) -> Reply {
        Reply { status: 200, body }
    }
    fn message(status: u16, msg: &str) -> Reply {
        Reply {
            status,
            body: json!({ "message": msg }),
        }
    }
    fn invalid(detail: String) -> Reply {
        Reply {
            status: 422,
            body: json!({"errors": [{"status": 422, "title": "Invalid Input Parameter", "detail": detail}]}),
        }
    }
}

/// The API paths a disabled feature covers (a feature may also be a stream name or a raw path).
fn feature_paths(feature: &str) -> Vec<String> {
    let fixed: &[&str] = match feature {
        "accounts" => &[
            "accounts",
            "accountContacts",
            "accountCustomFieldMeta",
            "accountCustomFieldData",
        ],
        "deals" => &[
            "deals",
            "dealActivities",
            "dealCustomFieldMeta",
            "dealCustomFieldData",
            "dealGroups",
            "dealGroupUsers",
            "dealStages",
            "dealTasks",
            "dealTasktypes",
            "contactDeals",
        ],
        "ecommerce" => &[
            "connections",
            "ecomCustomers",
            "ecomOrders",
            "ecomOrderProducts",
            "ecomOrderActivities",
        ],
        "custom_objects" | "customObjects" => &["customObjects"],
        _ => &[],
    };
    if !fixed.is_empty() {
        return fixed.iter().map(|s| s.to_string()).collect();
    }
    match streams::by_name(feature) {
        Some(d) => vec![d.path.to_string()],
        None => vec![feature.trim_matches('/').to_string()],
    }
}

/// The feature (from `disabled`) that covers this API path, if any.
pub fn disabled_feature<'a>(rest: &str, disabled: &'a [String]) -> Option<&'a str> {
    disabled.iter().map(|s| s.as_str()).find(|f| {
        feature_paths(f)
            .iter()
            .any(|p| !p.is_empty() && (rest == p || rest.starts_with(&format!("{p}/"))))
    })
}

/// The path relative to `/api/3/` (without trailing slashes), or `None` outside the API.
pub fn api_rest(path: &str) -> Option<&str> {
    path.strip_prefix("/api/3/")
        .map(|r| r.trim_end_matches('/'))
}

/// Answers a GET of `path` (the full path, e.g. `/api/3/contacts`) with `query`.
#[cfg(test)]
pub fn route(path: &str, q: &Query, ds: &Dataset, disabled: &[String]) -> Reply {
    route_with(path, q, ds, disabled, &Quirks::default())
}

/// [`route`] with the [`Quirks`] switched on. An empty-body answer is a `null` body here.
pub fn route_with(
    path: &str,
    q: &Query,
    ds: &Dataset,
    disabled: &[String],
    quirks: &Quirks,
) -> Reply {
    let Some(rest) = api_rest(path) else {
        return Reply::message(404, &format!("No Result found for {path}"));
    };
    if rest == "users/me" {
        return users_me(ds);
    }
    if let Some(feature) = disabled_feature(rest, disabled) {
        return Reply {
            status: 403,
            body: json!({"errors": [{"status": 403, "title": "Forbidden", "detail": format!("You do not have permission to view {feature}.")}]}),
        };
    }
    if rest == "customObjects/schemas" {
        return custom_list(ds.schemas(), "schemas", q);
    }
    if let Some(schema_id) = rest.strip_prefix("customObjects/records/") {
        return match ds.custom_stream_of(schema_id) {
            Some(stream) => {
                let recs = served(ds, quirks, &stream);
                match newest_first("custom_object", recs, q, quirks) {
                    Some(sorted) => custom_list(&sorted, "records", q),
                    None => custom_list(recs, "records", q),
                }
            }
            None => Reply::message(404, "Not Found"),
        };
    }
    match streams::by_path(rest) {
        Some(def) => match list(def, q, ds, quirks) {
            Ok(r) | Err(r) => r,
        },
        None => Reply::message(404, &format!("No Result found for {rest}")),
    }
}

fn users_me(ds: &Dataset) -> Reply {
    let users = ds.slice("users");
    let user = users
        .iter()
        .find(|u| u.get("id").and_then(|i| i.as_str()) == Some("1"))
        .or(users.first())
        .map(|u| ds.out("users", u))
        .unwrap_or_else(|| json!({"username": "admin", "firstName": "John", "lastName": "Doe", "email": "johndoe@example.com", "phone": "", "signature": null, "links": {}, "id": "1"}));
    Reply::ok(json!({ "user": user }))
}

fn numeric_id(r: &Value) -> Option<u64> {
    r.get("id")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse().ok())
}

/// One date condition: `field` instant `>=` (after) or `<` (before) `ms`.
struct DateCond {
    field: &'static str,
    at_least: bool,
    ms: i64,
}

/// Server-side filters of a list request.
#[derive(Default)]
struct Filter {
    id_greater: Option<u64>,
    id_less: Option<u64>,
    dates: Vec<DateCond>,
}

impl Filter {
    fn matches(&self, r: &Value) -> bool {
        if self.id_greater.is_some() || self.id_less.is_some() {
            let Some(id) = numeric_id(r) else {
                return false;
            };
            if self.id_greater.map(|g| id <= g).unwrap_or(false)
                || self.id_less.map(|l| id >= l).unwrap_or(false)
            {
                return false;
            }
        }
        self.dates.iter().all(|c| {
            match r
                .get(c.field)
                .and_then(|v| v.as_str())
                .and_then(|s| parse_instant_ms(s).ok())
            {
                Some(t) => {
                    if c.at_least {
                        t >= c.ms
                    } else {
                        t < c.ms
                    }
                }
                None => false,
            }
        })
    }
}

/// Builds the filter for a stream from the query (422 reply for an unparsable date).
fn build_filter(name: &str, q: &Query, quirks: &Quirks) -> Result<Filter, Reply> {
    let mut f = Filter::default();
    let date_params: &[(&str, &'static str, bool)] = match name {
        "contacts" => {
            f.id_greater = q.get("id_greater").and_then(|v| v.trim().parse().ok());
            if !quirks.ignore_id_less {
                f.id_less = q.get("id_less").and_then(|v| v.trim().parse().ok());
            }
            &[
                ("filters[updated_after]", "udate", true),
                ("filters[updated_before]", "udate", false),
                ("filters[created_after]", "cdate", true),
                ("filters[created_before]", "cdate", false),
            ]
        }
        "deals" => &[
            ("filters[updated_after]", "mdate", true),
            ("filters[updated_before]", "mdate", false),
            ("filters[created_after]", "cdate", true),
            ("filters[created_before]", "cdate", false),
        ],
        // The real API documents `contact` as required on /activities; this server does not require
        // it so that the whole stream can be read (and filtered with `after=`) in one listing.
        "activities" => &[("after", "tstamp", true)],
        _ => &[],
    };
    for (param, field, at_least) in date_params {
        if let Some(v) = q.get(param) {
            if v.trim().is_empty() {
                continue;
            }
            let ms = parse_instant_ms(v)
                .map_err(|e| Reply::invalid(format!("Parameter {param}: {e}")))?;
            f.dates.push(DateCond {
                field,
                at_least: *at_least,
                ms,
            });
        }
    }
    Ok(f)
}

/// The orders the server honours besides `orders[id]`, newest first (`orders[<field>]=DESC`) by
/// stream: contactTags by `cdate` (documented), contactAutomations by `adddate`, emailActivities
/// by `tstamp` and custom object records by `updatedTimestamp` (the connector checks those it reads; the `ignore-order` quirk
/// makes the server ignore them, as the real API ignores an order it does not know).
const NEWEST_FIRST: &[(&str, &str)] = &[
    ("contact_tags", "cdate"),
    ("contact_automations", "adddate"),
    ("email_activities", "tstamp"),
    ("custom_object", "updatedTimestamp"),
];

/// `recs` newest first by `field` when the query asks for it and the stream honours it.
fn newest_first(stream: &str, recs: &[Value], q: &Query, quirks: &Quirks) -> Option<Vec<Value>> {
    let field = NEWEST_FIRST
        .iter()
        .find(|(s, f)| {
            stream.starts_with(s)
                && q.get(&format!("orders[{f}]"))
                    .is_some_and(|v| v.trim().eq_ignore_ascii_case("desc"))
        })
        .map(|(_, f)| *f)?;
    if quirks.ignore_order {
        return None;
    }
    let at = |r: &Value| {
        r.get(field)
            .and_then(|v| v.as_str())
            .and_then(|s| crate::time::parse_instant_ms(s).ok())
            .unwrap_or(i64::MIN)
    };
    let mut out: Vec<(usize, &Value)> = recs.iter().enumerate().collect();
    out.sort_by(|(i, a), (j, b)| at(b).cmp(&at(a)).then(j.cmp(i)));
    Some(out.into_iter().map(|(_, r)| r.clone()).collect())
}

/// Filters, orders (id ascending unless `desc`) and pages `recs`: (total matches, page).
fn paginate<'a>(
    recs: &'a [Value],
    f: &Filter,
    desc: bool,
    offset: usize,
    limit: usize,
) -> (usize, Vec<&'a Value>) {
    let mut total = 0;
    let mut page = Vec::new();
    let mut visit = |r: &'a Value| {
        if f.matches(r) {
            if total >= offset && page.len() < limit {
                page.push(r);
            }
            total += 1;
        }
    };
    if desc {
        recs.iter().rev().for_each(&mut visit);
    } else {
        recs.iter().for_each(&mut visit);
    }
    (total, page)
}

/// The served form (with `links`) of stored records of `stream`.
fn out(ds: &Dataset, stream: &str, recs: &[&Value]) -> Value {
    Value::Array(recs.iter().map(|r| ds.out(stream, r)).collect())
}

fn ids_of(page: &[&Value]) -> HashSet<String> {
    page.iter()
        .filter_map(|r| r.get("id").and_then(|v| v.as_str()))
        .map(str::to_string)
        .collect()
}

/// The stored records of `stream` as this answer shows them: none while
/// [`Quirks::empty_streams`] names it.
fn served<'a>(ds: &'a Dataset, quirks: &Quirks, stream: &str) -> &'a [Value] {
    if quirks.emptied(stream) {
        &[]
    } else {
        ds.slice(stream)
    }
}

/// Records of `stream` whose `fk` is one of `ids` (none while the stream is emptied).
fn children<'a>(
    ds: &'a Dataset,
    quirks: &Quirks,
    stream: &str,
    fk: &str,
    ids: &HashSet<String>,
) -> Vec<&'a Value> {
    served(ds, quirks, stream)
        .iter()
        .filter(|r| key_of(r, fk).is_some_and(|k| ids.contains(k.as_ref())))
        .collect()
}

/// The id a record's `fk` names, a string or (as in `dealId`) a number.
fn key_of<'a>(r: &'a Value, fk: &str) -> Option<Cow<'a, str>> {
    match r.get(fk)? {
        Value::String(s) => Some(Cow::Borrowed(s.as_str())),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

fn list(def: &StreamDef, q: &Query, ds: &Dataset, quirks: &Quirks) -> Result<Reply, Reply> {
    let filter = build_filter(def.name, q, quirks)?;
    let (limit, offset) = (q.limit(), q.offset());
    let reordered: Vec<Value>;
    let recs = if let Some(sorted) = newest_first(def.name, served(ds, quirks, def.name), q, quirks)
    {
        reordered = sorted;
        &reordered[..]
    } else if quirks.ignore_order || quirks.ignore_contacts_order {
        reordered = quirks
            .served_order(def.name, served(ds, quirks, def.name))
            .into_iter()
            .cloned()
            .collect();
        &reordered[..]
    } else {
        served(ds, quirks, def.name)
    };
    let (total, page) = paginate(recs, &filter, q.id_desc(), offset, limit);
    if page.is_empty() {
        match quirks.empty_as {
            Some(EmptyShape::Braces) => return Ok(Reply::ok(json!({}))),
            Some(EmptyShape::NoListKey) => return Ok(Reply::ok(json!({"meta": {"total": "0"}}))),
            Some(EmptyShape::EmptyBody) => return Ok(Reply::ok(Value::Null)),
            None => {}
        }
    }
    let total = quirks.total_shown(total);
    let mut body = Map::new();
    let mut meta = Map::new();
    meta.insert("total".into(), json!(total.to_string()));
    match def.name {
        "contacts" => {
            let contacts = with_includes(ds, q, quirks, def.name, &page, &mut body);
            body.insert("scoreValues".into(), json!([]));
            body.insert("contacts".into(), contacts);
            let mut cache = Rng::new(hash_str(&format!("{:?}", q.pairs)));
            meta.insert(
                "page_input".into(),
                json!({"segmentid": 0, "formid": 0, "listid": 0, "tagid": 0, "limit": limit, "offset": offset,
                    "search": null, "sort": null, "seriesid": 0, "waitid": 0, "status": -1, "forceQuery": 0,
                    "cacheid": cache.hex(32)}),
            );
        }
        "contact_custom_fields" => {
            let ids = ids_of(&page);
            let opts = children(ds, quirks, "contact_custom_field_options", "field", &ids);
            let rels = children(ds, quirks, "contact_custom_field_rels", "field", &ids);
            body.insert(
                "fieldOptions".into(),
                out(ds, "contact_custom_field_options", &opts),
            );
            body.insert(
                "fieldRels".into(),
                out(ds, "contact_custom_field_rels", &rels),
            );
            body.insert("fields".into(), out(ds, def.name, &page));
        }
        "deal_groups" => {
            let ids = ids_of(&page);
            let stages = children(ds, quirks, "deal_stages", "group", &ids);
            body.insert("dealStages".into(), out(ds, "deal_stages", &stages));
            body.insert("dealGroups".into(), out(ds, def.name, &page));
        }
        "deals" => {
            meta.insert("total".into(), json!(total));
            // Currency totals over every matching deal.
            let mut cur: BTreeMap<String, (u64, i64)> = BTreeMap::new();
            let (_, all) = paginate(recs, &filter, false, 0, usize::MAX);
            for d in all {
                let c = d
                    .get("currency")
                    .and_then(|v| v.as_str())
                    .unwrap_or("usd")
                    .to_uppercase();
                let v: i64 = d
                    .get("value")
                    .and_then(|v| v.as_str())
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                let e = cur.entry(c).or_insert((0, 0));
                e.0 += 1;
                e.1 += v;
            }
            let currencies: Map<String, Value> = cur
                .into_iter()
                .map(|(c, (n, v))| {
                    (
                        c.clone(),
                        json!({"currency": c, "total": n.to_string(), "value": v.to_string()}),
                    )
                })
                .collect();
            meta.insert("currencies".into(), Value::Object(currencies));
            let deals = with_includes(ds, q, quirks, def.name, &page, &mut body);
            body.insert("deals".into(), deals);
        }
        _ => {
            let recs = with_includes(ds, q, quirks, def.name, &page, &mut body);
            body.insert(def.key.into(), recs);
        }
    }
    body.insert("meta".into(), Value::Object(meta));
    apply_shape_quirks(def, ds, quirks, &mut body);
    Ok(Reply::ok(Value::Object(body)))
}

/// The list-shape switches: object-lists, a string for a list, a record nested too deep.
fn apply_shape_quirks(
    def: &StreamDef,
    ds: &Dataset,
    quirks: &Quirks,
    body: &mut Map<String, Value>,
) {
    if quirks.deep_records.iter().any(|s| s == def.name) {
        let last = ds.slice(def.name).last().and_then(|r| r.get("id")).cloned();
        if let Some(Value::Array(list)) = body.get_mut(def.key) {
            for r in list.iter_mut().filter(|r| r.get("id") == last.as_ref()) {
                let mut deep = json!(1);
                for _ in 0..100 {
                    deep = json!([deep]);
                }
                r["deep"] = deep;
            }
        }
    }
    if quirks.string_lists.iter().any(|s| s == def.name) {
        body.insert(def.key.into(), json!(""));
    }
    if quirks.object_lists {
        for (k, v) in body.iter_mut() {
            if k == "meta" {
                continue;
            }
            if let Value::Array(list) = std::mem::take(v) {
                *v = Quirks::php_object(list);
            }
        }
    }
}

/// The `include=` names a list answers: (list, include name, child stream, the child's field
/// naming its parent). Other names are ignored.
#[rustfmt::skip]
const INCLUDES: &[(&str, &str, &str, &str)] = &[
    ("contacts", "fieldValues", "contact_custom_field_values", "contact"),
    ("contacts", "contactTags", "contact_tags", "contact"),
    ("contacts", "contactLists", "contact_lists", "contact"),
    ("contacts", "deals", "deals", "contact"),
    ("contacts", "contactAutomations", "contact_automations", "contact"),
    ("contacts", "accountContacts", "account_contacts", "contact"),
    ("deals", "dealCustomFieldData", "deal_custom_field_values", "dealId"),
    ("accounts", "accountCustomFieldData", "account_custom_field_values", "accountId"),
];

/// Second hops of dotted includes: (include.hop, child fk field, parent stream, top-level key).
const HOPS: &[(&str, &str, &str, &str)] = &[
    ("contactTags.tag", "tag", "tags", "tags"),
    ("contactLists.list", "list", "lists", "lists"),
    (
        "fieldValues.field",
        "field",
        "contact_custom_fields",
        "fields",
    ),
];

/// The served records of a page of `stream`, with what `include=` asks of them: an id array on
/// each record and a top-level list beside them in `body` per include.
fn with_includes(
    ds: &Dataset,
    q: &Query,
    quirks: &Quirks,
    stream: &str,
    page: &[&Value],
    body: &mut Map<String, Value>,
) -> Value {
    let mut recs: Vec<Value> = page.iter().map(|r| ds.out(stream, r)).collect();
    if !quirks.ignores_include(stream) {
        sideload(ds, q, quirks, stream, &mut recs, body);
    }
    Value::Array(recs)
}

/// The include names of the query (dotted ones whole).
fn wanted_includes(q: &Query) -> Vec<&str> {
    q.get("include")
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

fn sideload(
    ds: &Dataset,
    q: &Query,
    quirks: &Quirks,
    stream: &str,
    parents: &mut [Value],
    body: &mut Map<String, Value>,
) {
    let wanted = wanted_includes(q);
    if wanted.is_empty() {
        return;
    }
    let ids: HashSet<String> = parents
        .iter()
        .filter_map(|c| c.get("id").and_then(|v| v.as_str()))
        .map(str::to_string)
        .collect();
    for (_, name, child, fk) in INCLUDES.iter().filter(|i| i.0 == stream) {
        if !wanted
            .iter()
            .any(|w| w == name || w.starts_with(&format!("{name}.")))
        {
            continue;
        }
        let kids = children(ds, quirks, child, fk, &ids);
        attach_ids(parents, name, fk, &kids);
        sideload_hops(ds, quirks, name, &wanted, &kids, body);
        body.insert((*name).to_string(), out(ds, child, &kids));
    }
}

/// Sets `name` on each parent to the ids of its `kids` (by their `fk`), `[]` when it has none.
fn attach_ids(parents: &mut [Value], name: &str, fk: &str, kids: &[&Value]) {
    let mut by_parent: HashMap<Cow<'_, str>, Vec<Value>> = HashMap::new();
    for k in kids {
        if let (Some(p), Some(id)) = (key_of(k, fk), k.get("id")) {
            by_parent.entry(p).or_default().push(id.clone());
        }
    }
    for p in parents.iter_mut() {
        let pid = p.get("id").and_then(|v| v.as_str()).unwrap_or("");
        let list = by_parent.get(pid).cloned().unwrap_or_default();
        p[name] = Value::Array(list);
    }
}

/// The top-level lists of the dotted includes of `name` (`contactTags.tag` adds `tags`).
fn sideload_hops(
    ds: &Dataset,
    quirks: &Quirks,
    name: &str,
    wanted: &[&str],
    kids: &[&Value],
    body: &mut Map<String, Value>,
) {
    for (hop, fk, parent, key) in HOPS {
        if !(hop.starts_with(name) && wanted.contains(hop)) {
            continue;
        }
        let pids: HashSet<String> = kids
            .iter()
            .filter_map(|k| k.get(*fk).and_then(|v| v.as_str()))
            .map(str::to_string)
            .collect();
        let parents: Vec<&Value> = served(ds, quirks, parent)
            .iter()
            .filter(|p| {
                p.get("id")
                    .and_then(|v| v.as_str())
                    .is_some_and(|s| pids.contains(s))
            })
            .collect();
        body.insert((*key).to_string(), out(ds, parent, &parents));
    }
}

fn custom_list(recs: &[Value], key: &str, q: &Query) -> Reply {
    let (limit, offset) = (q.limit(), q.offset());
    let (total, page) = paginate(recs, &Filter::default(), false, offset, limit);
    Reply::ok(
        json!({ key: page, "meta": {"total": total, "count": page.len(), "limit": limit, "offset": offset} }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(ds: &Dataset, path_q: &str) -> Reply {
        let (p, qs) = path_q.split_once('?').unwrap_or((path_q, ""));
        route(p, &Query::parse(qs), ds, &[])
    }

    fn ids(v: &Value, key: &str) -> Vec<String> {
        v[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["id"].as_str().map(str::to_string))
            .collect()
    }

    #[test]
    fn paging_defaults_clamp_and_past_end() {
        let ds = Dataset::generate(42, 250);
        let r = get(&ds, "/api/3/contacts");
        assert_eq!(r.status, 200);
        assert_eq!(ids(&r.body, "contacts").len(), 20);
        assert_eq!(r.body["meta"]["total"], json!("250"));
        assert_eq!(r.body["scoreValues"], json!([]));
        assert_eq!(r.body["meta"]["page_input"]["limit"], json!(20));
        let r = get(&ds, "/api/3/contacts?limit=500&offset=10");
        let got = ids(&r.body, "contacts");
        assert_eq!(got.len(), 100);
        assert_eq!(got[0], "11");
        let r = get(&ds, "/api/3/contacts?limit=abc&offset=1000");
        assert_eq!(r.status, 200);
        assert!(ids(&r.body, "contacts").is_empty());
        assert_eq!(r.body["meta"]["total"], json!("250"));
        let r = get(&ds, "/api/3/tags?limit=5&offset=10&bogus=1");
        assert_eq!(ids(&r.body, "tags"), vec!["11", "12"]);
        assert_eq!(r.body["meta"]["total"], json!("12"));
        let r = get(&ds, "/api/3/tags?orders%5Bid%5D=DESC&limit=2");
        assert_eq!(ids(&r.body, "tags"), vec!["12", "11"]);
    }

    #[test]
    fn keyset_on_contacts() {
        let ds = Dataset::generate(42, 250);
        let r = get(
            &ds,
            "/api/3/contacts?orders%5Bid%5D=ASC&id_greater=240&limit=100",
        );
        let got = ids(&r.body, "contacts");
        assert_eq!(got, (241..=250).map(|i| i.to_string()).collect::<Vec<_>>());
        let r = get(&ds, "/api/3/contacts?id_greater=100&id_less=104");
        assert_eq!(ids(&r.body, "contacts"), vec!["101", "102", "103"]);
        let r = get(&ds, "/api/3/contacts?id_greater=250");
        assert!(ids(&r.body, "contacts").is_empty());
    }

    #[test]
    fn updated_filters_and_422() {
        let mut ds = Dataset::generate(42, 250);
        let touched = ds.touch("contacts", 3);
        let r = get(
            &ds,
            "/api/3/contacts?filters%5Bupdated_after%5D=2025-01-01T00:00:00-05:00",
        );
        let mut got = ids(&r.body, "contacts");
        got.sort();
        let mut want = touched.clone();
        want.sort();
        assert_eq!(got, want);
        assert_eq!(r.body["meta"]["total"], json!("3"));
        // The same instant in other spellings.
        for v in ["2025-01-01", "2025-01-01+00:00:00", "2025-01-01T05:00:00Z"] {
            let r = get(&ds, &format!("/api/3/contacts?filters[updated_after]={v}"));
            assert_eq!(r.body["meta"]["total"], json!("3"), "{v}");
        }
        let r = get(&ds, "/api/3/contacts?filters[updated_before]=2025-01-01");
        assert_eq!(r.body["meta"]["total"], json!("247"));
        let r = get(&ds, "/api/3/contacts?filters[updated_after]=last+tuesday");
        assert_eq!(r.status, 422);
        assert_eq!(
            r.body["errors"][0]["title"],
            json!("Invalid Input Parameter")
        );
        let t = ds.touch("deals", 2);
        let r = get(&ds, "/api/3/deals?filters[updated_after]=2025-01-01");
        assert_eq!(r.body["meta"]["total"], json!(2));
        assert_eq!(
            r.body["meta"]["currencies"]
                .as_object()
                .map(|m| !m.is_empty()),
            Some(true)
        );
        assert_eq!(ids(&r.body, "deals").len(), t.len());
        ds.touch("activities", 4);
        let r = get(&ds, "/api/3/activities?after=2025-01-01T00:00:00-05:00");
        assert_eq!(r.body["meta"]["total"], json!("4"));
    }

    #[test]
    fn include_sideloads_all_children() {
        let ds = Dataset::generate(42, 100);
        let r = get(
            &ds,
            "/api/3/contacts?limit=10&include=fieldValues,contactTags.tag,contactLists",
        );
        let contacts = r.body["contacts"].as_array().cloned().unwrap_or_default();
        assert_eq!(contacts.len(), 10);
        let page: HashSet<String> = contacts
            .iter()
            .filter_map(|c| c["id"].as_str().map(str::to_string))
            .collect();
        for (key, stream) in [
            ("fieldValues", "contact_custom_field_values"),
            ("contactTags", "contact_tags"),
            ("contactLists", "contact_lists"),
        ] {
            let want: Vec<String> = ds
                .records(stream)
                .iter()
                .filter(|r| {
                    r["contact"]
                        .as_str()
                        .map(|c| page.contains(c))
                        .unwrap_or(false)
                })
                .filter_map(|r| r["id"].as_str().map(str::to_string))
                .collect();
            assert!(!want.is_empty());
            assert_eq!(ids(&r.body, key), want, "{key}");
            let per_contact: usize = contacts
                .iter()
                .map(|c| c[key].as_array().map(|a| a.len()).unwrap_or(99))
                .sum();
            assert_eq!(per_contact, want.len());
        }
        assert!(r.body["tags"]
            .as_array()
            .map(|a| !a.is_empty())
            .unwrap_or(false));
        let plain = get(&ds, "/api/3/contacts?limit=1");
        assert!(plain.body["contacts"][0].get("fieldValues").is_none());
        assert!(plain.body.get("fieldValues").is_none());
    }

    #[test]
    fn fields_groups_custom_objects_users_404() {
        let ds = Dataset::generate(42, 100);
        let r = get(&ds, "/api/3/fields?limit=2");
        assert_eq!(ids(&r.body, "fields"), vec!["1", "2"]);
        assert!(r.body["fieldOptions"]
            .as_array()
            .map(|a| a.len() == 6)
            .unwrap_or(false));
        assert_eq!(ids(&r.body, "fieldRels"), vec!["1", "2"]);
        let r = get(&ds, "/api/3/dealGroups");
        assert_eq!(r.body["dealStages"].as_array().map(|a| a.len()), Some(6));
        assert_eq!(r.body["meta"]["total"], json!("2"));
        let r = get(&ds, "/api/3/customObjects/schemas");
        assert_eq!(
            r.body["meta"],
            json!({"total": 2, "count": 2, "limit": 20, "offset": 0})
        );
        let sid = r.body["schemas"][1]["id"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let r = get(
            &ds,
            &format!("/api/3/customObjects/records/{sid}?limit=5&offset=10"),
        );
        assert_eq!(r.status, 200);
        assert_eq!(
            r.body["meta"],
            json!({"total": 12, "count": 2, "limit": 5, "offset": 10})
        );
        assert_eq!(
            get(&ds, "/api/3/customObjects/records/nope").body,
            json!({"message": "Not Found"})
        );
        let r = get(&ds, "/api/3/users/me");
        assert_eq!(r.body["user"]["id"], json!("1"));
        let r = get(&ds, "/api/3/nothing");
        assert_eq!(r.status, 404);
        assert!(r.body["message"]
            .as_str()
            .map(|m| m.starts_with("No Result found for"))
            .unwrap_or(false));
        assert_eq!(get(&ds, "/other").status, 404);
        // Every stream path answers with its list key and a total.
        for def in streams::STREAMS {
            let r = get(&ds, &format!("/api/3/{}?limit=100", def.path));
            assert_eq!(r.status, 200, "{}", def.path);
            let n = r.body[def.key].as_array().map(|a| a.len()).unwrap_or(0);
            assert!(n >= 1, "{} has no {}", def.path, def.key);
            assert!(r.body["meta"]["total"].is_string() || def.name == "deals");
        }
    }

    #[test]
    fn disabled_feature_is_403() {
        let ds = Dataset::generate(42, 20);
        let off = vec!["accounts".to_string()];
        for p in [
            "accounts",
            "accountContacts",
            "accountCustomFieldMeta",
            "accountCustomFieldData",
        ] {
            let r = route(&format!("/api/3/{p}"), &Query::default(), &ds, &off);
            assert_eq!(r.status, 403);
            assert_eq!(
                r.body["errors"][0]["detail"],
                json!("You do not have permission to view accounts.")
            );
        }
        assert_eq!(
            route("/api/3/contacts", &Query::default(), &ds, &off).status,
            200
        );
        assert_eq!(
            route("/api/3/users/me", &Query::default(), &ds, &off).status,
            200
        );
    }

    /// The value ids of `stream` whose `fk` names one of `owners`, in list order.
    fn values_of(ds: &Dataset, stream: &str, fk: &str, owners: &[String]) -> Vec<String> {
        ds.records(stream)
            .iter()
            .filter(|v| owners.contains(&v[fk].to_string()))
            .filter_map(|v| v["id"].as_str().map(str::to_string))
            .collect()
    }

    const CUSTOM_DATA: [(&str, &str, &str, &str); 2] = [
        (
            "deals",
            "dealCustomFieldData",
            "deal_custom_field_values",
            "dealId",
        ),
        (
            "accounts",
            "accountCustomFieldData",
            "account_custom_field_values",
            "accountId",
        ),
    ];

    #[test]
    fn include_custom_field_data_on_deals_and_accounts() {
        let ds = Dataset::generate(42, 300);
        for (list, key, stream, fk) in CUSTOM_DATA {
            let r = get(
                &ds,
                &format!("/api/3/{list}?limit=4&offset=1&include={key}"),
            );
            let page = ids(&r.body, list);
            assert_eq!(page, ["2", "3", "4", "5"], "{list}");
            let want = values_of(&ds, stream, fk, &page);
            assert!(want.len() >= 4, "{list}: {want:?}");
            assert_eq!(ids(&r.body, key), want, "{list}");
            for rec in r.body[list].as_array().into_iter().flatten() {
                let own = values_of(&ds, stream, fk, &[rec["id"].as_str().unwrap_or("").into()]);
                assert_eq!(rec[key], json!(own), "{list} {}", rec["id"]);
            }
            // The sideloaded records are served whole, links and all.
            assert!(r.body[key][0]["links"]["customField"].is_string());
            // Without the include, or with another name: neither key nor id arrays.
            for query in ["limit=4", "limit=4&include=notes", "limit=4&include="] {
                let r = get(&ds, &format!("/api/3/{list}?{query}"));
                assert!(r.body.get(key).is_none(), "{list}?{query}");
                assert!(r.body[list][0].get(key).is_none(), "{list}?{query}");
            }
        }
    }

    #[test]
    fn a_page_without_custom_field_data_still_answers_the_include() {
        let ds = Dataset::generate(42, 300);
        let r = get(
            &ds,
            "/api/3/deals?limit=5&offset=20&include=dealCustomFieldData",
        );
        assert_eq!(ids(&r.body, "deals").len(), 5);
        assert_eq!(r.body["dealCustomFieldData"], json!([]));
        for d in r.body["deals"].as_array().into_iter().flatten() {
            assert_eq!(d["dealCustomFieldData"], json!([]));
        }
        // Past the end too: no deals, an empty sideload.
        let r = get(&ds, "/api/3/deals?offset=500&include=dealCustomFieldData");
        assert_eq!(
            (
                r.body["deals"].clone(),
                r.body["dealCustomFieldData"].clone()
            ),
            (json!([]), json!([]))
        );
    }

    #[test]
    fn include_switches_ignored_emptied_and_as_objects() {
        let ds = Dataset::generate(42, 300);
        let with = |q: Quirks, path: &str| {
            let (p, qs) = path.split_once('?').unwrap_or((path, ""));
            route_with(p, &Query::parse(qs), &ds, &[], &q)
        };
        for (list, key, stream, _) in CUSTOM_DATA {
            let path = format!("/api/3/{list}?limit=5&include={key}");
            let ignoring = Quirks {
                ignore_include: vec![list.to_string()],
                ..Quirks::default()
            };
            let r = with(ignoring, &path);
            assert_eq!(ids(&r.body, list).len(), 5);
            assert!(r.body.get(key).is_none(), "{list}");
            assert!(r.body[list][0].get(key).is_none(), "{list}");
            let emptied = Quirks {
                empty_streams: vec![stream.to_string()],
                ..Quirks::default()
            };
            let r = with(emptied, &path);
            assert_eq!(r.body[key], json!([]), "{list}");
            assert_eq!(r.body[list][0][key], json!([]), "{list}");
            let objects = Quirks {
                object_lists: true,
                ..Quirks::default()
            };
            let r = with(objects, &path);
            assert!(
                r.body[key].is_object() && r.body[list].is_object(),
                "{list}"
            );
        }
        // On contacts, ignoring leaves every include unanswered; other lists keep theirs.
        let ignoring = Quirks {
            ignore_include: vec!["contacts".into()],
            ..Quirks::default()
        };
        let r = with(
            ignoring.clone(),
            "/api/3/contacts?limit=5&include=fieldValues,contactTags.tag",
        );
        assert_eq!(ids(&r.body, "contacts").len(), 5);
        for key in ["fieldValues", "contactTags", "tags"] {
            assert!(r.body.get(key).is_none(), "{key}");
            assert!(r.body["contacts"][0].get(key).is_none(), "{key}");
        }
        let r = with(ignoring, "/api/3/deals?limit=5&include=dealCustomFieldData");
        assert!(r.body["dealCustomFieldData"].is_array());
    }

    /// Newest first where the server honours it, ignored under `ignore-order`.
    #[test]
    fn newest_first_orders_are_honoured_unless_ignored() {
        let ds = Dataset::generate(5, 200);
        let ms = |v: &Value, key: &str, field: &str| -> Vec<i64> {
            v[key]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| {
                    crate::time::parse_instant_ms(r[field].as_str().unwrap_or("")).unwrap_or(0)
                })
                .collect()
        };
        for (path, key, field) in [
            ("contactTags", "contactTags", "cdate"),
            ("contactAutomations", "contactAutomations", "adddate"),
            ("emailActivities", "emailActivities", "tstamp"),
        ] {
            let q = Query::parse(&format!("limit=100&orders%5B{field}%5D=DESC"));
            let r = route_with(&format!("/api/3/{path}"), &q, &ds, &[], &Quirks::default());
            let got = ms(&r.body, key, field);
            assert!(
                got.len() > 10 && got.windows(2).all(|w| w[0] >= w[1]),
                "{path}: {got:?}"
            );
            let ignoring = Quirks {
                ignore_order: true,
                ..Quirks::default()
            };
            let r = route_with(&format!("/api/3/{path}"), &q, &ds, &[], &ignoring);
            let got = ms(&r.body, key, field);
            assert!(
                !got.windows(2).all(|w| w[0] >= w[1]),
                "{path} ignored: still newest first"
            );
        }
        let sid = ds.schemas()[0]["id"].as_str().unwrap().to_string();
        let q = Query::parse("limit=100&orders%5BupdatedTimestamp%5D=DESC");
        let r = route_with(
            &format!("/api/3/customObjects/records/{sid}"),
            &q,
            &ds,
            &[],
            &Quirks::default(),
        );
        let got = ms(&r.body, "records", "updatedTimestamp");
        assert!(
            got.len() >= 5 && got.windows(2).all(|w| w[0] >= w[1]),
            "{got:?}"
        );
    }
}
