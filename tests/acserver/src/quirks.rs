//! Switches, all off by default, that make the server behave as the real API may where the
//! connector must not lose records (issue 10): counts that lie, lists that change during a read,
//! orders and `id_less` ignored, empty lists answered without a list, custom object schemas
//! unavailable.

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
    /// (`id_greater` and offsets still honoured): keyset paging cannot work (issue 18).
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
}
