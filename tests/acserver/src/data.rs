//! The dataset: every record of every stream, generated deterministically and mutable through
//! `touch`, `insert` and `delete` with a logical clock that only moves forward.

use crate::gen::{self, G, SCHEMA_DEFS};
use crate::rng::{combine, hash_str};
use crate::streams::{self, Fmt, GEN_ORDER, PARENT_ARRAYS, STREAMS};
use crate::time::{
    fmt_iso_at, fmt_naive_at, fmt_naive_utc, fmt_rfc3339_nanos, Zone, ACCOUNT_OFFSET_MIN, GEN_END,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Prefix of the stream name of a custom object's records (`custom_object:<slug>`).
pub const CUSTOM_PREFIX: &str = "custom_object:";

/// All records of every stream (including custom objects), mutable.
#[derive(Debug, Clone)]
pub struct Dataset {
    seed: u64,
    /// Last instant handed out by the logical clock (epoch seconds).
    clock: i64,
    /// Number of mutation calls so far (salts the choice of records).
    ops: u64,
    streams: BTreeMap<String, Vec<Value>>,
    next_id: BTreeMap<String, u64>,
    schemas: Vec<Value>,
    /// Per stream, the `links` value with `{id}` in place of the record id. Records are stored
    /// without `links` (it is the same for every record of a stream) and get it back on output.
    links: BTreeMap<String, Value>,
    /// The account's zone for the dates that changes stamp (default: fixed UTC-05:00).
    zone: Zone,
}

/// Removes `links` from a record, remembering the stream's template the first time.
fn strip_links(stream: &str, rec: &mut Value, templates: &mut BTreeMap<String, Value>) {
    let Some(obj) = rec.as_object_mut() else {
        return;
    };
    let Some(links) = obj.remove("links") else {
        return;
    };
    if templates.contains_key(stream) {
        return;
    }
    let id = obj
        .get("id")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    let template = match links {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let url = v
                        .as_str()
                        .unwrap_or("")
                        .replacen(&format!("/{id}/"), "/{id}/", 1);
                    (k, Value::String(url))
                })
                .collect(),
        ),
        other => other,
    };
    templates.insert(stream.to_string(), template);
}

/// Picks `k` distinct indices out of `n` spread over the whole range, shifted by `salt`.
fn spread(n: usize, k: usize, salt: u64) -> Vec<usize> {
    if n == 0 || k == 0 {
        return Vec::new();
    }
    let k = k.min(n);
    let step = (n / k).max(1);
    let off = (salt % step as u64) as usize;
    (0..k).map(|i| i * n / k + off).collect()
}

fn id_of(v: &Value) -> String {
    v.get("id")
        .and_then(|i| i.as_str())
        .unwrap_or("")
        .to_string()
}

/// Changes a data value in a visible, deterministic way.
fn bump(v: &mut Value, ops: u64) {
    let new = match v {
        Value::String(s) => match s.parse::<i64>() {
            Ok(n) => Value::String((n + 1).to_string()),
            Err(_) => {
                let base = match s.find(" (edit ") {
                    Some(p) => &s[..p],
                    None => s.as_str(),
                };
                Value::String(format!("{base} (edit {ops})"))
            }
        },
        Value::Number(n) => match n.as_i64() {
            Some(i) => json!(i + 1),
            None => json!(n.as_f64().unwrap_or(0.0) + 1.0),
        },
        Value::Bool(b) => Value::Bool(!*b),
        Value::Null => Value::String("1".to_string()),
        _ => return,
    };
    *v = new;
}

fn fmt_at(fmt: Fmt, t: i64, off: i32) -> Value {
    Value::String(match fmt {
        Fmt::Iso => fmt_iso_at(t, off),
        Fmt::Naive => fmt_naive_at(t, off),
        Fmt::Nanos => fmt_rfc3339_nanos(t, 0),
    })
}

/// Sets the cursor (and the obvious "updated" twins) of a record to instant `t`, as a wall
/// clock at UTC offset `off`.
fn stamp_updated(stream: &str, rec: &mut Value, t: i64, off: i32) {
    if let Some(def) = streams::by_name(stream) {
        if let Some(cursor) = def.cursor {
            rec[cursor] = fmt_at(def.fmt, t, off);
        }
    } else if stream.starts_with(CUSTOM_PREFIX) {
        rec["updatedTimestamp"] = fmt_at(Fmt::Nanos, t, off);
    }
    match stream {
        "contacts" => {
            rec["updated_timestamp"] = Value::String(fmt_naive_at(t, off));
            rec["updated_utc_timestamp"] = Value::String(fmt_naive_utc(t));
        }
        "contact_lists" => rec["udate"] = Value::String(fmt_iso_at(t, off)),
        "ecommerce_orders" => rec["tstamp"] = Value::String(fmt_iso_at(t, off)),
        _ => {}
    }
}

/// Sets the creation fields of a freshly inserted record to instant `t` (wall clocks at `off`).
fn stamp_created(stream: &str, rec: &mut Value, t: i64, off: i32) {
    let Some(obj) = rec.as_object_mut() else {
        return;
    };
    let custom = stream.starts_with(CUSTOM_PREFIX);
    for (k, v) in obj.iter_mut() {
        let Some(s) = v.as_str() else { continue };
        let new = match k.as_str() {
            "cdate" | "createdDate" | "adddate" => fmt_iso_at(t, off),
            "created_timestamp" => fmt_naive_at(t, off),
            "created_utc_timestamp" => fmt_naive_utc(t),
            "createdTimestamp" if custom => fmt_rfc3339_nanos(t, 0),
            "createdTimestamp" if s.contains('T') => fmt_iso_at(t, off),
            "createdTimestamp" => fmt_naive_at(t, off),
            _ => continue,
        };
        *v = Value::String(new);
    }
}

impl Dataset {
    /// Generates every stream for `seed` and `contacts` contacts (at least one record per stream).
    /// The same seed and size always give byte-identical data.
    pub fn generate(seed: u64, contacts: usize) -> Dataset {
        let mut data: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let mut next_id = BTreeMap::new();
        let mut links = BTreeMap::new();
        for name in GEN_ORDER {
            let n = streams::count(name, contacts);
            let mut recs = Vec::with_capacity(n);
            for i in 0..n {
                let mut g = G::new(seed, name, i as u64 + 1, i, &data);
                let mut rec = gen::record(name, &mut g);
                strip_links(name, &mut rec, &mut links);
                recs.push(rec);
            }
            next_id.insert(name.to_string(), n as u64 + 1);
            data.insert(name.to_string(), recs);
        }
        let schemas: Vec<Value> = (0..SCHEMA_DEFS.len())
            .map(|i| gen::schema(seed, i))
            .collect();
        for (si, schema) in schemas.iter().enumerate() {
            let name = format!(
                "{CUSTOM_PREFIX}{}",
                schema
                    .get("slug")
                    .and_then(|s| s.as_str())
                    .unwrap_or("object")
            );
            let n = if si == 0 { (contacts / 20).max(1) } else { 12 };
            let mut recs = Vec::with_capacity(n);
            for i in 0..n {
                let mut g = G::new(seed, &name, i as u64 + 1, i, &data);
                recs.push(gen::custom_record(&mut g, schema, i as u64 + 1));
            }
            next_id.insert(name.clone(), n as u64 + 1);
            data.insert(name, recs);
        }
        Dataset {
            seed,
            clock: GEN_END - 1,
            ops: 0,
            streams: data,
            next_id,
            schemas,
            links,
            zone: Zone::default(),
        }
    }

    /// A copy of every record of a stream (by stream name, or `custom_object:<slug>`), in id order;
    /// empty for an unknown name.
    pub fn records(&self, stream: &str) -> Vec<Value> {
        self.slice(stream)
            .iter()
            .map(|r| self.out(stream, r))
            .collect()
    }

    /// A stored record as served: a copy with its `links` put back.
    pub(crate) fn out(&self, stream: &str, rec: &Value) -> Value {
        let mut r = rec.clone();
        if let (Some(t), Some(obj)) = (self.links.get(stream), r.as_object_mut()) {
            let links = match t {
                Value::Object(m) => {
                    let id = obj.get("id").and_then(|v| v.as_str()).unwrap_or("");
                    Value::Object(
                        m.iter()
                            .map(|(k, v)| {
                                (
                                    k.clone(),
                                    Value::String(v.as_str().unwrap_or("").replacen("{id}", id, 1)),
                                )
                            })
                            .collect(),
                    )
                }
                other => other.clone(),
            };
            obj.insert("links".to_string(), links);
        }
        r
    }

    /// The `id` of each record of the stream, in list order.
    pub fn ids(&self, stream: &str) -> Vec<String> {
        self.slice(stream).iter().map(id_of).collect()
    }

    /// The 59 stream names (in the order of `streams.md`), then one `custom_object:<slug>` per schema.
    pub fn stream_names(&self) -> Vec<String> {
        let mut v: Vec<String> = STREAMS.iter().map(|s| s.name.to_string()).collect();
        v.extend(self.schemas.iter().map(|s| {
            format!(
                "{CUSTOM_PREFIX}{}",
                s.get("slug").and_then(|x| x.as_str()).unwrap_or("")
            )
        }));
        v
    }

    /// Updates `count` records spread over the list: changes a data field and moves the cursor
    /// field to a new instant of the logical clock (one second later for each record). Returns
    /// their ids. Streams without a cursor only get the data change.
    pub fn touch(&mut self, stream: &str, count: usize) -> Vec<String> {
        let touch_field = match streams::by_name(stream) {
            Some(d) => Some(d.touch),
            None if stream.starts_with(CUSTOM_PREFIX) => None,
            None => return Vec::new(),
        };
        let Some(recs) = self.streams.get_mut(stream) else {
            return Vec::new();
        };
        self.ops += 1;
        let mut out = Vec::new();
        for idx in spread(recs.len(), count, self.ops) {
            let Some(rec) = recs.get_mut(idx) else {
                continue;
            };
            self.clock += 1;
            match touch_field {
                Some(f) => {
                    if let Some(v) = rec.get_mut(f) {
                        bump(v, self.ops);
                    }
                }
                None => {
                    // Custom object: bump the first numeric field value.
                    if let Some(fields) = rec.get_mut("fields").and_then(|f| f.as_array_mut()) {
                        if let Some(v) = fields
                            .iter_mut()
                            .filter_map(|f| f.get_mut("value"))
                            .find(|v| v.is_number())
                        {
                            bump(v, self.ops);
                        }
                    }
                }
            }
            stamp_updated(stream, rec, self.clock, self.zone.offset_at(self.clock));
            out.push(id_of(rec));
        }
        out
    }

    /// Appends `count` new records with new, higher ids; their cursor (and creation dates) are
    /// new instants of the logical clock. Returns their ids.
    pub fn insert(&mut self, stream: &str, count: usize) -> Vec<String> {
        let schema = if let Some(slug) = stream.strip_prefix(CUSTOM_PREFIX) {
            match self
                .schemas
                .iter()
                .find(|s| s.get("slug").and_then(|x| x.as_str()) == Some(slug))
            {
                Some(s) => Some(s.clone()),
                None => return Vec::new(),
            }
        } else if streams::by_name(stream).is_some() {
            None
        } else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for _ in 0..count {
            let id = self
                .next_id
                .get(stream)
                .copied()
                .unwrap_or_else(|| self.slice(stream).len() as u64 + 1);
            self.next_id.insert(stream.to_string(), id + 1);
            self.clock += 1;
            let idx = (combine(combine(self.seed, hash_str(stream)), id ^ 0x5eed) % 1_000_000_007)
                as usize;
            // The generator sees the stream's own records too: a new custom field value goes
            // to an (owner, field) pair that has none.
            let mut g = G::new(self.seed, stream, id, idx, &self.streams);
            g.fresh = true;
            let mut rec = match &schema {
                Some(s) => gen::custom_record(&mut g, s, id),
                None => gen::record(stream, &mut g),
            };
            let off = self.zone.offset_at(self.clock);
            stamp_created(stream, &mut rec, self.clock, off);
            stamp_updated(stream, &mut rec, self.clock, off);
            strip_links(stream, &mut rec, &mut self.links);
            out.push(id_of(&rec));
            self.link_parent(stream, &rec, true);
            self.streams
                .entry(stream.to_string())
                .or_default()
                .push(rec);
        }
        out
    }

    /// Appends `record` to the stream under the next id (returned), as it is otherwise: a field,
    /// a field value, a record a test shapes itself.
    pub fn put(&mut self, stream: &str, mut record: Value) -> String {
        let id = self.next_id.get(stream).copied().unwrap_or(1);
        self.next_id.insert(stream.to_string(), id + 1);
        record["id"] = Value::String(id.to_string());
        self.streams
            .entry(stream.to_string())
            .or_default()
            .push(record);
        id.to_string()
    }

    /// Sets `field` of the record `id` of the stream to `value` (a rename, a changed value);
    /// false when there is no such record.
    pub fn set(&mut self, stream: &str, id: &str, field: &str, value: Value) -> bool {
        let rec = self
            .streams
            .get_mut(stream)
            .and_then(|recs| recs.iter_mut().find(|r| id_of(r) == id));
        match rec {
            Some(r) => {
                r[field] = value;
                true
            }
            None => false,
        }
    }

    /// Removes `count` records spread over the list and returns their ids. Children are not
    /// removed (no cascade).
    pub fn delete(&mut self, stream: &str, count: usize) -> Vec<String> {
        let Some(recs) = self.streams.get_mut(stream) else {
            return Vec::new();
        };
        self.ops += 1;
        let idxs = spread(recs.len(), count, self.ops);
        let mut removed = Vec::new();
        for idx in idxs.into_iter().rev() {
            if idx < recs.len() {
                removed.push(recs.remove(idx));
            }
        }
        removed.reverse();
        for rec in &removed {
            self.link_parent(stream, rec, false);
        }
        removed.iter().map(id_of).collect()
    }

    /// Removes `count` contacts spread over the list with what the API deletes with a contact:
    /// the records of [`Dataset::CONTACT_CASCADE`] whose `contact` names them. Returns the
    /// removed contacts' ids. (No other cascade is modelled: the API reference documents none for
    /// deals or accounts, and documents that a deleted tag's `contactTags` rows stay listed.)
    pub fn delete_contacts(&mut self, count: usize) -> Vec<String> {
        self.delete_with_children("contacts", count, &Self::CONTACT_CASCADE, "contact")
    }

    /// The streams whose records a deleted contact takes with it (by their `contact` field): its
    /// tags, list memberships and custom field values.
    pub const CONTACT_CASCADE: [&'static str; 3] = [
        "contact_tags",
        "contact_lists",
        "contact_custom_field_values",
    ];

    /// Removes the records with these ids from `stream` (custom objects: `custom_object:<slug>`),
    /// without cascade, and returns the ids found, in list order.
    pub fn delete_ids(&mut self, stream: &str, ids: &[String]) -> Vec<String> {
        let Some(recs) = self.streams.get_mut(stream) else {
            return Vec::new();
        };
        self.ops += 1;
        let mut removed = Vec::new();
        recs.retain(|r| {
            let keep = !ids.contains(&id_of(r));
            if !keep {
                removed.push(r.clone());
            }
            keep
        });
        for rec in &removed {
            self.link_parent(stream, rec, false);
        }
        removed.iter().map(id_of).collect()
    }

    /// Removes `count` records spread over the list together with the records of `children`
    /// whose `fk` names them (a deleted contact's tags, lists and field values), leaving gaps in
    /// the ids the way deletions do in a real account. Returns the removed records' ids.
    pub fn delete_with_children(
        &mut self,
        stream: &str,
        count: usize,
        children: &[&str],
        fk: &str,
    ) -> Vec<String> {
        let gone = self.delete(stream, count);
        for child in children {
            if let Some(recs) = self.streams.get_mut(*child) {
                recs.retain(|r| {
                    r.get(fk)
                        .and_then(|v| v.as_str())
                        .is_none_or(|id| !gone.iter().any(|g| g == id))
                });
            }
        }
        gone
    }

    /// The server's "now" (epoch seconds): the logical clock's last instant. Every record changed
    /// at or before it; `touch`/`insert` stamp later instants.
    pub fn now(&self) -> i64 {
        self.clock
    }

    /// The account's UTC offset in minutes (-300, i.e. UTC-05:00, no daylight saving).
    pub fn account_utc_offset_minutes(&self) -> i32 {
        ACCOUNT_OFFSET_MIN
    }

    /// Test-server switch: the account's zone for every date stamped from now on (`touch`,
    /// `insert`, `backdate`); generated data keeps UTC-05:00.
    pub fn set_zone(&mut self, zone: Zone) {
        self.zone = zone;
    }

    /// Moves the logical clock (the server's `Date`) forward to `epoch`; never back.
    pub fn set_clock(&mut self, epoch: i64) {
        self.clock = self.clock.max(epoch);
    }

    /// Updates the records with these ids, like [`Dataset::touch`], one clock second each, in
    /// the order given. Returns the ids found.
    pub fn touch_ids(&mut self, stream: &str, ids: &[&str]) -> Vec<String> {
        let Some(def) = streams::by_name(stream) else {
            return Vec::new();
        };
        self.ops += 1;
        let (ops, zone) = (self.ops, self.zone);
        let mut out = Vec::new();
        for id in ids {
            let Some(rec) = self.streams.get_mut(stream).and_then(|r| {
                r.iter_mut()
                    .find(|r| r.get("id").and_then(Value::as_str) == Some(id))
            }) else {
                continue;
            };
            self.clock += 1;
            if let Some(v) = rec.get_mut(def.touch) {
                bump(v, ops);
            }
            stamp_updated(stream, rec, self.clock, zone.offset_at(self.clock));
            out.push(id.to_string());
        }
        out
    }

    /// Test-server switch for rows written late: sets the cursor of these records to `epoch`, an
    /// instant that may be before the clock (an event logged after it happened). Returns the ids
    /// found.
    pub fn backdate(&mut self, stream: &str, ids: &[String], epoch: i64) -> Vec<String> {
        let zone = self.zone;
        let Some(recs) = self.streams.get_mut(stream) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for rec in recs.iter_mut() {
            let id = id_of(rec);
            if ids.contains(&id) {
                stamp_updated(stream, rec, epoch, zone.offset_at(epoch));
                out.push(id);
            }
        }
        out
    }

    /// Adds (or removes) a child's id in its parent's id array (e.g. a deal group's `stages`).
    fn link_parent(&mut self, stream: &str, child: &Value, add: bool) {
        for (c, fk, parent, arr) in PARENT_ARRAYS {
            if *c != stream {
                continue;
            }
            let (Some(pid), cid) = (child.get(*fk).and_then(|v| v.as_str()), id_of(child)) else {
                continue;
            };
            let Some(parents) = self.streams.get_mut(*parent) else {
                continue;
            };
            if let Some(p) = parents
                .iter_mut()
                .find(|p| p.get("id").and_then(|v| v.as_str()) == Some(pid))
            {
                if let Some(list) = p.get_mut(*arr).and_then(|a| a.as_array_mut()) {
                    list.retain(|v| v.as_str() != Some(cid.as_str()));
                    if add {
                        list.push(Value::String(cid));
                    }
                }
            }
        }
    }

    /// The records of a stream without copying.
    pub(crate) fn slice(&self, stream: &str) -> &[Value] {
        self.streams
            .get(stream)
            .map(|v| v.as_slice())
            .unwrap_or(&[])
    }

    /// The custom object schemas.
    pub(crate) fn schemas(&self) -> &[Value] {
        &self.schemas
    }

    /// The stream name holding the records of the schema with this id.
    pub(crate) fn custom_stream_of(&self, schema_id: &str) -> Option<String> {
        self.schemas
            .iter()
            .find(|s| s.get("id").and_then(|x| x.as_str()) == Some(schema_id))
            .and_then(|s| s.get("slug").and_then(|x| x.as_str()))
            .map(|slug| format!("{CUSTOM_PREFIX}{slug}"))
    }

    /// Deletes the custom object schema with this slug and its records, as an account admin
    /// may between a discover and a read. Returns whether it existed.
    pub fn drop_schema(&mut self, slug: &str) -> bool {
        let before = self.schemas.len();
        self.schemas
            .retain(|s| s.get("slug").and_then(|x| x.as_str()) != Some(slug));
        self.streams.remove(&format!("{CUSTOM_PREFIX}{slug}"));
        self.schemas.len() < before
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_instant_ms;

    fn cursor_ms(stream: &str, rec: &Value) -> Option<i64> {
        let field = if stream.starts_with(CUSTOM_PREFIX) {
            "updatedTimestamp"
        } else {
            streams::by_name(stream)?.cursor?
        };
        parse_instant_ms(rec.get(field)?.as_str()?).ok()
    }

    #[test]
    fn same_seed_same_bytes() {
        let a = Dataset::generate(42, 200);
        let b = Dataset::generate(42, 200);
        let c = Dataset::generate(43, 200);
        let dump = |d: &Dataset| {
            d.stream_names()
                .iter()
                .map(|s| serde_json::to_string(&d.records(s)).unwrap_or_default())
                .collect::<String>()
        };
        assert_eq!(dump(&a), dump(&b));
        assert_ne!(dump(&a), dump(&c));
        assert_eq!(
            serde_json::to_string(a.schemas()).ok(),
            serde_json::to_string(b.schemas()).ok()
        );
    }

    #[test]
    fn every_stream_has_records_with_string_ids_and_cursors() {
        let d = Dataset::generate(7, 120);
        let names = d.stream_names();
        assert_eq!(names.len(), 61);
        for name in &names {
            let recs = d.records(name);
            assert!(!recs.is_empty(), "{name} is empty");
            for r in &recs {
                let id = r.get("id").and_then(|v| v.as_str());
                assert!(
                    id.map(|s| !s.is_empty()).unwrap_or(false),
                    "{name}: id not a string: {r}"
                );
                let has_cursor = name.starts_with(CUSTOM_PREFIX)
                    || streams::by_name(name).and_then(|s| s.cursor).is_some();
                if has_cursor {
                    let t = cursor_ms(name, r);
                    assert!(t.is_some(), "{name}: cursor missing/unparsable in {r}");
                    let t = t.unwrap_or(0) / 1000;
                    assert!(
                        (crate::time::GEN_START..GEN_END).contains(&t),
                        "{name}: cursor out of range"
                    );
                }
                if !name.starts_with(CUSTOM_PREFIX) {
                    assert!(r.get("links").is_some(), "{name}: no links");
                }
            }
            if !name.starts_with(CUSTOM_PREFIX) {
                let ids: Vec<u64> = d.ids(name).iter().filter_map(|s| s.parse().ok()).collect();
                assert_eq!(ids.len(), recs.len(), "{name}: ids must be integers");
                assert_eq!(ids[0], 1);
                assert!(ids.windows(2).all(|w| w[0] < w[1]));
            }
        }
    }

    #[test]
    fn sizes_and_references() {
        let d = Dataset::generate(1, 1200);
        assert_eq!(d.records("contacts").len(), 1200);
        assert_eq!(d.records("contact_custom_field_values").len(), 2400);
        assert_eq!(d.records("deals").len(), 120);
        assert_eq!(
            d.records("ecommerce_order_products").len(),
            2 * d.records("ecommerce_orders").len()
        );
        let contacts: std::collections::HashSet<String> = d.ids("contacts").into_iter().collect();
        for child in [
            "contact_custom_field_values",
            "contact_tags",
            "contact_lists",
            "account_contacts",
            "deals",
        ] {
            for r in d.records(child) {
                let c = r.get("contact").and_then(|v| v.as_str()).unwrap_or("");
                assert!(
                    contacts.contains(c),
                    "{child} refers to missing contact {c}"
                );
            }
        }
        let accounts = d.ids("accounts");
        for c in d.records("contacts") {
            let org = &c["organization"];
            assert!(
                org.is_null() || accounts.iter().any(|a| Some(a.as_str()) == org.as_str()),
                "bad organization {org}"
            );
        }
        for deal in d.records("deals") {
            for (k, s) in [
                ("owner", "users"),
                ("stage", "deal_stages"),
                ("group", "deal_groups"),
            ] {
                assert!(
                    d.ids(s)
                        .iter()
                        .any(|x| Some(x.as_str()) == deal[k].as_str()),
                    "deal {k}"
                );
            }
        }
        let orders = d.records("ecommerce_orders");
        let products = d.ids("ecommerce_order_products");
        for o in &orders {
            for p in o["orderProducts"].as_array().into_iter().flatten() {
                assert!(products.iter().any(|x| Some(x.as_str()) == p.as_str()));
            }
        }
        // Zero dates appear in some contacts, never in cursors.
        let zeros = d
            .records("contacts")
            .iter()
            .filter(|c| c["bounced_date"] == json!("0000-00-00"))
            .count();
        assert!(zeros > 100 && zeros < 250, "zero-date contacts: {zeros}");
        let text = serde_json::to_string(&d.records("contacts")).unwrap_or_default();
        assert!(text.contains("Zoë") && text.contains("Ångström"));
    }

    #[test]
    fn touch_insert_delete() {
        let mut d = Dataset::generate(3, 100);
        let before = d.records("contacts");
        let ids = d.touch("contacts", 5);
        assert_eq!(ids.len(), 5);
        let after = d.records("contacts");
        let mut last = 0;
        for id in &ids {
            let b = before
                .iter()
                .find(|r| r["id"] == json!(id))
                .cloned()
                .unwrap_or_default();
            let a = after
                .iter()
                .find(|r| r["id"] == json!(id))
                .cloned()
                .unwrap_or_default();
            assert_ne!(a["sentcnt"], b["sentcnt"]);
            let t = cursor_ms("contacts", &a).unwrap_or(0);
            assert!(t / 1000 >= GEN_END);
            assert!(t > last);
            last = t;
            assert_eq!(
                a["updated_timestamp"],
                json!(crate::time::fmt_naive(t / 1000))
            );
        }
        // Touch again: strictly later instants.
        let ids2 = d.touch("deals", 2);
        let deals = d.records("deals");
        for id in &ids2 {
            let r = deals
                .iter()
                .find(|r| r["id"] == json!(id))
                .cloned()
                .unwrap_or_default();
            assert!(cursor_ms("deals", &r).unwrap_or(0) > last);
        }
        let new = d.insert("contacts", 3);
        assert_eq!(new, vec!["101", "102", "103"]);
        let gone = d.delete("contacts", 2);
        assert_eq!(gone.len(), 2);
        assert_eq!(d.records("contacts").len(), 101);
        let again = d.insert("contacts", 1);
        assert_eq!(again, vec!["104"]);
        // Cursor-less and custom streams.
        assert_eq!(d.touch("tags", 1).len(), 1);
        let cid = d.insert("custom_object:subscription", 1);
        assert_eq!(cid.len(), 1);
        assert_eq!(cid[0].len(), 36);
        assert_eq!(d.touch("custom_object:support-ticket", 100).len(), 12);
        assert!(d.touch("nope", 1).is_empty());
        assert!(d.insert("nope", 1).is_empty());
        // Parent arrays follow inserts and deletes.
        let st = d.insert("deal_stages", 1);
        let groups = d.records("deal_groups");
        assert!(groups.iter().any(|g| g["stages"]
            .as_array()
            .map(|a| a.contains(&json!(st[0])))
            .unwrap_or(false)));
    }

    #[test]
    fn zone_clock_touch_ids_and_backdate() {
        let mut d = Dataset::generate(5, 30);
        d.set_zone(Zone::NewYork);
        // 2025-11-02 05:30Z is 01:30 EDT; an hour later it is 01:30 EST again.
        let t = 1_762_061_400;
        d.set_clock(t - 1);
        d.set_clock(0);
        assert_eq!(d.now(), t - 1, "the clock never goes back");
        let id = d.ids("contact_deals")[0].clone();
        assert_eq!(
            d.touch_ids("contact_deals", &[&id, "nope"]),
            vec![id.clone()]
        );
        let rec = |d: &Dataset| {
            d.records("contact_deals")
                .into_iter()
                .find(|r| r["id"] == json!(id))
                .unwrap_or_default()
        };
        assert_eq!(rec(&d)["updated_timestamp"], json!("2025-11-02 01:30:00"));
        d.set_clock(t + 3599);
        d.touch_ids("contact_deals", &[&id]);
        assert_eq!(rec(&d)["updated_timestamp"], json!("2025-11-02 01:30:00"));
        // ISO fields carry the offset of their moment.
        let ids = d.insert("email_activities", 1);
        assert!(d.records("email_activities").last().unwrap()["tstamp"]
            .as_str()
            .unwrap_or("")
            .ends_with("-05:00"));
        assert_eq!(d.backdate("email_activities", &ids, t), ids);
        let last = d
            .records("email_activities")
            .last()
            .cloned()
            .unwrap_or_default();
        assert_eq!(last["tstamp"], json!("2025-11-02T01:30:00-04:00"));
    }

    #[test]
    fn links_are_per_record() {
        let mut d = Dataset::generate(5, 30);
        let c = d.records("contacts");
        assert_eq!(
            c[4]["links"]["contactTags"],
            json!("https://acct.api-us1.com/api/3/contacts/5/contactTags")
        );
        for s in ["scores", "webhooks", "templates", "task_types", "segments"] {
            assert_eq!(d.records(s)[0]["links"], json!([]), "{s}");
        }
        let id = d.insert("contacts", 1);
        let rec = d.records("contacts").pop().unwrap_or_default();
        assert_eq!(
            rec["links"]["deals"],
            json!(format!(
                "https://acct.api-us1.com/api/3/contacts/{}/deals",
                id[0]
            ))
        );
        assert!(d.records("custom_object:subscription")[0]
            .get("links")
            .is_none());
    }

    #[test]
    fn mutations_are_deterministic() {
        let run = || {
            let mut d = Dataset::generate(9, 50);
            d.touch("contacts", 4);
            d.insert("deals", 2);
            d.delete("contact_tags", 3);
            serde_json::to_string(&(
                d.records("contacts"),
                d.records("deals"),
                d.records("contact_tags"),
            ))
            .unwrap_or_default()
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn a_deleted_contact_takes_its_tags_lists_and_field_values() {
        let mut d = Dataset::generate(4, 200);
        let before: BTreeMap<String, Vec<String>> = d
            .stream_names()
            .into_iter()
            .map(|s| (s.clone(), d.ids(&s)))
            .collect();
        let gone = d.delete_contacts(5);
        assert_eq!(gone.len(), 5);
        assert!(gone.iter().all(|g| !d.ids("contacts").contains(g)));
        for child in Dataset::CONTACT_CASCADE {
            let kept = d.records(child);
            assert!(
                kept.iter()
                    .all(|r| !gone.iter().any(|g| r["contact"] == json!(g))),
                "{child} keeps a deleted contact's row"
            );
            // Exactly the deleted contacts' rows went.
            let had = Dataset::generate(4, 200)
                .records(child)
                .into_iter()
                .filter(|r| gone.iter().any(|g| r["contact"] == json!(g)))
                .count();
            assert!(had > 0, "{child}: the deleted contacts had rows");
            assert_eq!(kept.len() + had, before[child].len(), "{child}");
        }
        // Nothing else changed (account_contacts and deals keep their rows: no documented cascade).
        for (stream, ids) in &before {
            if stream != "contacts" && !Dataset::CONTACT_CASCADE.contains(&stream.as_str()) {
                assert_eq!(&d.ids(stream), ids, "{stream}");
            }
        }
        // delete_ids: exactly those, custom objects too; unknown ids and streams are ignored.
        let tags = d.ids("tags");
        let pick = vec![tags[2].clone(), tags[7].clone(), "999".to_string()];
        assert_eq!(
            d.delete_ids("tags", &pick),
            vec![tags[2].clone(), tags[7].clone()]
        );
        assert_eq!(d.ids("tags").len(), tags.len() - 2);
        let obj = "custom_object:support-ticket";
        let uuid = d.ids(obj)[3].clone();
        assert_eq!(uuid.len(), 36);
        assert_eq!(
            d.delete_ids(obj, std::slice::from_ref(&uuid)),
            vec![uuid.clone()]
        );
        assert!(!d.ids(obj).contains(&uuid));
        assert!(d.delete_ids("nope", &pick).is_empty());
        // A deleted deal stage leaves its group's `stages`.
        let stage = d.ids("deal_stages")[0].clone();
        d.delete_ids("deal_stages", std::slice::from_ref(&stage));
        assert!(d.records("deal_groups").iter().all(|g| !g["stages"]
            .as_array()
            .is_some_and(|a| a.contains(&json!(stage)))));
    }

    /// A deal field added with a value, renamed, then deleted with its values, as an account
    /// admin may between syncs; each step shows in the next `/deals?include=` page.
    #[test]
    fn deal_custom_fields_change_between_syncs() {
        use crate::api::route;
        use crate::query::Query;
        let mut d = Dataset::generate(42, 300);
        let page = |d: &Dataset| {
            let q = Query::parse("limit=100&include=dealCustomFieldData");
            route("/api/3/deals", &q, d, &[]).body
        };
        let field = d.put(
            "deal_custom_fields",
            json!({"fieldLabel": "Churn Risk", "fieldType": "dropdown", "fieldOptions": ["Low", "High"],
                "personalization": "%DEAL_CHURN_RISK%", "createdTimestamp": "2025-01-02 03:04:05",
                "updatedTimestamp": "2025-01-02 03:04:05"}),
        );
        let fid: u64 = field.parse().unwrap_or(0);
        assert_eq!(fid, 12, "after the 11 generated fields");
        let value = d.put(
            "deal_custom_field_values",
            json!({"dealCustomFieldMetumId": fid, "dealId": 30, "customFieldId": fid,
                "createdTimestamp": "2025-01-02 03:04:05", "updatedTimestamp": "2025-01-02 03:04:05",
                "fieldValue": "High", "fieldCurrency": null}),
        );
        let body = page(&d);
        let sent: Vec<&Value> = body["dealCustomFieldData"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|v| v["id"] == json!(value))
            .collect();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0]["fieldValue"], json!("High"));
        assert!(
            sent[0]["links"]["deal"].is_string(),
            "served with its links"
        );
        let deal30 = body["deals"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["id"] == json!("30"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(deal30["dealCustomFieldData"], json!([value]));
        // Renamed.
        assert!(d.set(
            "deal_custom_fields",
            &field,
            "fieldLabel",
            json!("Churn Risk (beta)")
        ));
        let renamed = d.records("deal_custom_fields").pop().unwrap_or_default();
        assert_eq!(renamed["fieldLabel"], json!("Churn Risk (beta)"));
        // Deleted, with its values (the deletion does not cascade by itself).
        assert_eq!(
            d.delete_ids("deal_custom_fields", std::slice::from_ref(&field)),
            std::slice::from_ref(&field)
        );
        let values: Vec<String> = d
            .records("deal_custom_field_values")
            .iter()
            .filter(|v| v["customFieldId"] == json!(fid))
            .filter_map(|v| v["id"].as_str().map(String::from))
            .collect();
        assert_eq!(values, std::slice::from_ref(&value));
        d.delete_ids("deal_custom_field_values", &values);
        let body = page(&d);
        assert!(!body["dealCustomFieldData"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|v| v["id"] == json!(value)));
        // Touched and inserted values stay on the page of their deal.
        let touched = d.touch("deal_custom_field_values", 1);
        let added = d.insert("deal_custom_field_values", 1);
        let body = page(&d);
        let sent: Vec<&str> = body["dealCustomFieldData"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v["id"].as_str())
            .collect();
        assert!(touched
            .iter()
            .chain(&added)
            .all(|t| sent.contains(&t.as_str())));
    }

    #[test]
    fn spread_is_distinct_and_in_range() {
        for n in 1..40 {
            for k in 1..=n {
                for salt in 0..5 {
                    let v = spread(n, k, salt);
                    assert_eq!(v.len(), k);
                    assert!(v.windows(2).all(|w| w[0] < w[1]));
                    assert!(v.iter().all(|&i| i < n));
                }
            }
        }
    }
}
