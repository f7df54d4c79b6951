//! Switches, all off by default, that make the server behave as the real API may where the
//! connector must not lose records: counts that lie, lists that change during a read,
//! orders and `id_less` ignored, empty lists answered without a list, custom object schemas
//! unavailable, `include=` ignored; and one that must not read as a mass deletion: a stream
//! answered with an empty list.

use crate::rng::hash_str;
use serde_json::Value;

/// What `meta.total` says instead of the truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotalQuirk {
    /// `"0"` (singer-io's tap reads it as "unknown").
    Zero,
    /// Half the true count (stale, or counting something else).
    Half,
    /// Twice the true count (stale after deletes).
    Double,
}

/// How a page with no records is answered instead of `{"<key>": [], …}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmptyShape {
    /// `{}`.
    Braces,
    /// A 200 with an empty body.
    EmptyBody,
    /// `{"meta": {"total": "0"}}`: no list key.
    NoListKey,
}

/// The switches.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Quirks {
    /// `meta.total` of fixed-stream lists lies this way.
    pub total: Option<TotalQuirk>,
    /// After every this many answered API requests (0 = never), each stream of `churn_streams`
    /// loses one record (at a position that moves around the list) and gains one.
    pub churn_every: u32,
    /// Streams that change during a read (stream names, as in [`crate::Dataset::ids`]).
    pub churn_streams: Vec<String>,
    /// Offset-paged lists (every fixed stream but contacts) come in a stable order that is not
    /// by id, whatever `orders[...]` asks.
    pub ignore_order: bool,
    /// Contacts come in a stable order that is not by id, whatever `orders[id]=...` asks
    /// (`id_greater` and offsets still honoured): keyset paging cannot work.
    pub ignore_contacts_order: bool,
    /// `id_less` is ignored on contacts.
    pub ignore_id_less: bool,
    /// Pages with no records are answered in this shape.
    pub empty_as: Option<EmptyShape>,
    /// `customObjects/schemas` answers 503 (an HTML page).
    pub schemas_unavailable: bool,
    /// Every non-empty list of a fixed-stream answer (main list and sideloads) comes as PHP's
    /// `json_encode` writes an array with gaps in its keys: an object `{"0": …, "2": …}`,
    /// its keys written in descending order.
    pub object_lists: bool,
    /// Streams whose list key holds a string (`""`) instead of a list, on every page.
    pub string_lists: Vec<String>,
    /// Streams whose last record (by id) is served nested 100 levels deep (an extra field).
    pub deep_records: Vec<String>,
    /// Streams answered as if they had no records, on every page: the list key `[]` and a
    /// `meta.total` of 0 (`"0"`, or `0` where the API writes a number: deals, custom object
    /// records), a glitch or a key that lost a permission, which must not read as a mass
    /// deletion. Stream names as in [`crate::Dataset::ids`] (`tags`, `contact_tags`,
    /// `custom_object:<slug>`), like the stream names of `ServerConfig::disabled_features`; a
    /// child stream of a shared answer is emptied there too (`contact_custom_field_options` in
    /// `fields`, `deal_stages` in `dealGroups`, `contact_tags` … in a contacts page's
    /// `include=`, `deal_custom_field_values` in a deals page's), and emptying the parent
    /// (`contacts`, `contact_custom_fields`, `deal_groups`) empties what rides on it. Change it
    /// between syncs with `Server::with_config`.
    pub empty_streams: Vec<String>,
    /// Lists (`contacts`, `deals`, `accounts`) that answer as if no `include=` were given: no
    /// sideloaded list, no id arrays on the records. Whether the API honours an include outside
    /// contacts is undocumented, so a client must notice when it was not.
    pub ignore_include: Vec<String>,
}

impl Quirks {
    /// Turns one switch on by its command-line name (see `--quirk` in the usage text).
    pub fn set(&mut self, name: &str) -> Result<(), String> {
        let (key, value) = name.split_once('=').unwrap_or((name, ""));
        match key.trim() {
            "total-zero" => self.total = Some(TotalQuirk::Zero),
            "total-half" => self.total = Some(TotalQuirk::Half),
            "total-double" => self.total = Some(TotalQuirk::Double),
            "ignore-order" => self.ignore_order = true,
            "ignore-id-less" => self.ignore_id_less = true,
            "ignore-contacts-order" => self.ignore_contacts_order = true,
            "empty-braces" => self.empty_as = Some(EmptyShape::Braces),
            "empty-body" => self.empty_as = Some(EmptyShape::EmptyBody),
            "empty-no-list" => self.empty_as = Some(EmptyShape::NoListKey),
            "schemas-503" => self.schemas_unavailable = true,
            "object-lists" => self.object_lists = true,
            "string-list" => self.string_lists.push(value.trim().to_string()),
            "deep-record" => self.deep_records.push(value.trim().to_string()),
            "empty-stream" => self.empty_streams.push(value.trim().to_string()),
            "ignore-include" => self.ignore_include.push(value.trim().to_string()),
            "churn" => {
                // churn=N:stream,stream
                let (every, streams) = value.split_once(':').unwrap_or((value, "contacts"));
                self.churn_every = every
                    .trim()
                    .parse()
                    .map_err(|_| format!("--quirk churn={value}: use churn=N:stream,stream"))?;
                self.churn_streams = streams.split(',').map(|s| s.trim().to_string()).collect();
            }
            other => return Err(format!("unknown quirk {other:?}")),
        }
        Ok(())
    }

    /// Whether [`Quirks::empty_streams`] names this stream.
    pub fn emptied(&self, stream: &str) -> bool {
        self.empty_streams.iter().any(|s| s == stream)
    }

    /// Whether [`Quirks::ignore_include`] names this list.
    pub fn ignores_include(&self, stream: &str) -> bool {
        self.ignore_include.iter().any(|s| s == stream)
    }

    /// The `meta.total` to show for a true count.
    pub fn total_shown(&self, total: usize) -> usize {
        match self.total {
            None => total,
            Some(TotalQuirk::Zero) => 0,
            Some(TotalQuirk::Half) => total / 2,
            Some(TotalQuirk::Double) => total * 2,
        }
    }

    /// A list as PHP writes an array with gaps in its keys (see [`Quirks::object_lists`]); an
    /// empty list stays `[]`, as PHP writes it.
    pub fn php_object(list: Vec<Value>) -> Value {
        if list.is_empty() {
            return Value::Array(list);
        }
        let mut o = serde_json::Map::new();
        for (i, r) in list.into_iter().enumerate().rev() {
            o.insert((i * 2).to_string(), r);
        }
        Value::Object(o)
    }

    /// Records of a stream in the order served to offset paging.
    pub fn served_order<'a>(&self, stream: &str, recs: &'a [Value]) -> Vec<&'a Value> {
        let mut v: Vec<&Value> = recs.iter().collect();
        let contacts = stream == "contacts";
        if (self.ignore_order && !contacts) || (self.ignore_contacts_order && contacts) {
            v.sort_by_key(|r| hash_str(r.get("id").and_then(Value::as_str).unwrap_or("")));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn switches_by_name() {
        let mut q = Quirks::default();
        for n in [
            "total-zero",
            "ignore-order",
            "ignore-id-less",
            "ignore-contacts-order",
            "empty-body",
            "schemas-503",
            "object-lists",
            "string-list=tags",
            "deep-record=deals",
            "churn=3:tags,contacts",
            "empty-stream=accounts",
            "empty-stream= custom_object:subscription",
            "ignore-include=deals",
            "ignore-include=contacts",
        ] {
            assert!(q.set(n).is_ok(), "{n}");
        }
        assert_eq!(q.total, Some(TotalQuirk::Zero));
        assert_eq!(q.empty_as, Some(EmptyShape::EmptyBody));
        assert_eq!(q.churn_every, 3);
        assert_eq!(q.churn_streams, ["tags", "contacts"]);
        assert!(q.ignore_order && q.ignore_id_less && q.schemas_unavailable && q.object_lists);
        assert!(q.ignore_contacts_order);
        assert_eq!(
            (&q.string_lists[..], &q.deep_records[..]),
            (&["tags".to_string()][..], &["deals".to_string()][..])
        );
        assert_eq!(Quirks::php_object(vec![]), json!([]));
        let o = Quirks::php_object(vec![json!({"id": "1"}), json!({"id": "2"})]);
        assert_eq!(o, json!({"0": {"id": "1"}, "2": {"id": "2"}}));
        assert_eq!(q.empty_streams, ["accounts", "custom_object:subscription"]);
        assert!(q.emptied("accounts") && !q.emptied("account_contacts"));
        assert_eq!(q.ignore_include, ["deals", "contacts"]);
        assert!(q.ignores_include("deals") && !q.ignores_include("accounts"));
        assert!(q.set("churn=x").is_err());
        assert!(q.set("nope").is_err());
        assert_eq!(Quirks::default(), Quirks::default().clone());
    }

    #[test]
    fn totals_and_order() {
        let mut q = Quirks::default();
        assert_eq!(q.total_shown(10), 10);
        q.total = Some(TotalQuirk::Half);
        assert_eq!(q.total_shown(10), 5);
        q.total = Some(TotalQuirk::Double);
        assert_eq!(q.total_shown(10), 20);
        let recs: Vec<Value> = (1..=50).map(|i| json!({"id": i.to_string()})).collect();
        let ids = |v: Vec<&Value>| -> Vec<String> {
            v.iter()
                .map(|r| r["id"].as_str().unwrap_or("").to_string())
                .collect()
        };
        let plain = ids(q.served_order("tags", &recs));
        assert_eq!(plain[0], "1");
        q.ignore_order = true;
        let mixed = ids(q.served_order("tags", &recs));
        assert_ne!(mixed, plain);
        assert_eq!(mixed, ids(q.served_order("tags", &recs)), "stable");
        assert_eq!(ids(q.served_order("contacts", &recs)), plain);
        q.ignore_contacts_order = true;
        assert_eq!(ids(q.served_order("contacts", &recs)), mixed);
    }

    #[test]
    fn the_api_answers_with_the_switches_on() {
        use crate::api::route_with;
        use crate::query::Query;
        let ds = crate::Dataset::generate(3, 300);
        let get = |q: &Quirks, path: &str, query: &str| {
            route_with(path, &Query::parse(query), &ds, &[], q)
        };
        let mut q = Quirks::default();
        let far = "limit=100&offset=100000";
        assert_eq!(get(&q, "/api/3/tags", far).body["tags"], json!([]));
        q.empty_as = Some(EmptyShape::Braces);
        assert_eq!(get(&q, "/api/3/tags", far).body, json!({}));
        q.empty_as = Some(EmptyShape::NoListKey);
        assert!(get(&q, "/api/3/tags", far).body.get("tags").is_none());
        q.empty_as = Some(EmptyShape::EmptyBody);
        assert!(get(&q, "/api/3/tags", far).body.is_null());
        assert!(get(&q, "/api/3/tags", "limit=5").body["tags"].is_array());
        q.total = Some(TotalQuirk::Zero);
        assert_eq!(get(&q, "/api/3/tags", "").body["meta"]["total"], json!("0"));
        let ids = |v: &Value| -> Vec<u64> {
            v["contacts"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["id"].as_str()?.parse().ok())
                .collect()
        };
        let range = "limit=100&id_greater=10&id_less=20&orders%5Bid%5D=ASC";
        assert!(ids(&get(&q, "/api/3/contacts", range).body)
            .iter()
            .all(|&i| i < 20));
        q.ignore_id_less = true;
        assert!(ids(&get(&q, "/api/3/contacts", range).body)
            .iter()
            .any(|&i| i >= 20));
        q.ignore_order = true;
        let first: Vec<String> = get(&q, "/api/3/tags", "limit=100&orders%5Bid%5D=ASC").body
            ["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["id"].as_str().map(String::from))
            .collect();
        assert!(first
            .windows(2)
            .any(|w| w[0].parse::<u64>().ok() > w[1].parse::<u64>().ok()));
    }

    #[test]
    fn an_emptied_stream_answers_an_empty_list_everywhere_it_is_served() {
        use crate::api::route_with;
        use crate::query::Query;
        let ds = crate::Dataset::generate(3, 300);
        let get = |q: &Quirks, path: &str, query: &str| {
            route_with(path, &Query::parse(query), &ds, &[], q)
        };
        let count = |v: &Value, key: &str| v[key].as_array().map(Vec::len);
        let off = Quirks::default();
        let on = |names: &[&str]| Quirks {
            empty_streams: names.iter().map(|s| s.to_string()).collect(),
            ..Quirks::default()
        };
        // Its own list, on every page: `[]` and a total of "0".
        let q = on(&["tags"]);
        for query in [
            "",
            "limit=100",
            "limit=5&offset=5",
            "limit=100&offset=100000",
        ] {
            let r = get(&q, "/api/3/tags", query);
            assert_eq!(r.status, 200);
            assert_eq!(r.body["tags"], json!([]), "{query}");
            assert_eq!(r.body["meta"]["total"], json!("0"), "{query}");
        }
        assert_eq!(
            count(&get(&off, "/api/3/tags", "limit=100").body, "tags"),
            Some(12)
        );
        // Other streams are untouched, among them those that name it (contact_tags).
        let r = get(&q, "/api/3/contactTags", "limit=100");
        assert_eq!(count(&r.body, "contactTags"), Some(100));
        assert_eq!(r.body["meta"]["total"], json!("450"));
        // Deals and custom object records write their totals as numbers.
        let r = get(&on(&["deals"]), "/api/3/deals", "limit=100");
        assert_eq!(
            (r.body["deals"].clone(), r.body["meta"]["total"].clone()),
            (json!([]), json!(0))
        );
        assert_eq!(r.body["meta"]["currencies"], json!({}));
        let sid = get(&off, "/api/3/customObjects/schemas", "").body["schemas"][0]["id"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let records = format!("/api/3/customObjects/records/{sid}");
        let slug = get(&off, "/api/3/customObjects/schemas", "").body["schemas"][0]["slug"]
            .as_str()
            .unwrap_or("")
            .to_string();
        assert_eq!(
            count(&get(&off, &records, "limit=100").body, "records"),
            Some(15)
        );
        let r = get(
            &on(&[&format!("custom_object:{slug}")]),
            &records,
            "limit=100",
        );
        assert_eq!(
            (r.body["records"].clone(), r.body["meta"]["total"].clone()),
            (json!([]), json!(0))
        );
        // A child stream riding on its parent's answer is emptied there, the parent is not.
        let r = get(
            &on(&["contact_custom_field_options"]),
            "/api/3/fields",
            "limit=100",
        );
        assert_eq!(count(&r.body, "fields"), Some(8));
        assert_eq!(
            (count(&r.body, "fieldOptions"), count(&r.body, "fieldRels")),
            (Some(0), Some(8))
        );
        let r = get(
            &on(&["contact_tags"]),
            "/api/3/contacts",
            "limit=100&include=contactTags.tag,contactLists",
        );
        assert_eq!(count(&r.body, "contacts"), Some(100));
        assert_eq!(
            (count(&r.body, "contactTags"), count(&r.body, "tags")),
            (Some(0), Some(0))
        );
        assert!(count(&r.body, "contactLists").is_some_and(|n| n > 0));
        let contacts = r.body["contacts"].as_array().cloned().unwrap_or_default();
        assert!(contacts.iter().all(|c| c["contactTags"] == json!([])));
        assert!(contacts.iter().any(|c| c["contactLists"] != json!([])));
        // An emptied parent takes its riders with it.
        let r = get(
            &on(&["contacts"]),
            "/api/3/contacts",
            "limit=100&include=fieldValues",
        );
        assert_eq!(
            (count(&r.body, "contacts"), count(&r.body, "fieldValues")),
            (Some(0), Some(0))
        );
        assert_eq!(r.body["meta"]["total"], json!("0"));
        let r = get(&on(&["deal_groups"]), "/api/3/dealGroups", "");
        assert_eq!(
            (count(&r.body, "dealGroups"), count(&r.body, "dealStages")),
            (Some(0), Some(0))
        );
        // With an empty-shape quirk on too, the empty pages take that shape.
        let q = Quirks {
            empty_as: Some(EmptyShape::Braces),
            ..on(&["tags"])
        };
        assert_eq!(get(&q, "/api/3/tags", "limit=100").body, json!({}));
    }
}
