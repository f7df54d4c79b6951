//! Deal and account custom fields: one field of each type the API offers, and their values, at
//! most one per (deal or account, field), in the forms the API sends them, a few malformed.

use super::{id_int, naive, CITIES, G};
use crate::time::{fmt_date, fmt_iso};
use serde_json::{json, Map, Value};

/// Deal and account custom fields generated at the start, one of each field type the API has,
/// in its order of types: (label, type, options).
#[rustfmt::skip]
pub const CUSTOM_FIELD_DEFS: &[(&str, &str, &[&str])] = &[
    ("Text Example", "text", &[]),
    ("Notes", "textarea", &[]),
    ("Renewal Date", "date", &[]),
    ("Kickoff Call", "datetime", &[]),
    ("Tier", "dropdown", &["Gold", "Silver", "Bronze"]),
    ("Region", "radio", &["Americas", "EMEA", "APAC — 東京"]),
    ("Channels", "checkbox", &["Email", "Phone", "Café visit"]),
    ("Products", "multiselect", &["Option A", "Option B", "Option C"]),
    ("Internal Ref", "hidden", &[]),
    ("Seats", "number", &[]),
    ("Contract Value", "currency", &[]),
];

/// Values the real API lets through (it is PHP), by field type: the first generated value of the
/// deal and of the account field of that type is this one.
pub const CUSTOM_FIELD_SLIPS: &[(&str, &str)] = &[("date", "2023-02-30"), ("number", "n/a")];

/// Every this many checkbox or multiselect values, starting with the first, one comes as a JSON
/// array instead of the API's `||A||B||` text (undocumented: the unhelpful case).
const ARRAY_EVERY: usize = 5;

/// The generated values go to the first this many deals (accounts), in turns.
const VALUE_OWNERS: usize = 10;

/// Values generated of each stream (at most 20) for this many deals (accounts): never more than
/// [`slot`] can place without giving an owner two values of one field.
pub fn value_count(owners: usize) -> usize {
    20.min(owners.clamp(1, VALUE_OWNERS) * CUSTOM_FIELD_DEFS.len())
}

/// The streams, paths and keys of the custom fields of deals or of accounts.
struct Owner {
    /// The stream whose records own the values (`deals`).
    owner: &'static str,
    fields: &'static str,
    values: &'static str,
    prefix: &'static str,
    meta_path: &'static str,
    data_path: &'static str,
    meta_key: &'static str,
    owner_key: &'static str,
    rel: &'static str,
}

const DEAL: Owner = Owner {
    owner: "deals",
    fields: "deal_custom_fields",
    values: "deal_custom_field_values",
    prefix: "DEAL",
    meta_path: "dealCustomFieldMeta",
    data_path: "dealCustomFieldData",
    meta_key: "dealCustomFieldMetumId",
    owner_key: "dealId",
    rel: "deal",
};

const ACCOUNT: Owner = Owner {
    owner: "accounts",
    fields: "account_custom_fields",
    values: "account_custom_field_values",
    prefix: "ACCOUNT",
    meta_path: "accountCustomFieldMeta",
    data_path: "accountCustomFieldData",
    meta_key: "accountCustomFieldMetumId",
    owner_key: "accountId",
    rel: "account",
};

fn owner_of(stream: &str) -> &'static Owner {
    if stream.starts_with("deal") {
        &DEAL
    } else {
        &ACCOUNT
    }
}

/// One field definition of `deal_custom_fields` or `account_custom_fields`.
pub(super) fn field(stream: &str, g: &mut G<'_>, c: i64, u: i64) -> Value {
    let o = owner_of(stream);
    let n = CUSTOM_FIELD_DEFS.len();
    let (label, ty, options) = CUSTOM_FIELD_DEFS[g.idx % n];
    // A field added later is another of some type: its label and tag must still be its own.
    let label = if g.fresh || g.idx >= n {
        format!("{label} {}", g.id)
    } else {
        label.to_string()
    };
    let tag = format!("%{}_{}%", o.prefix, label.to_uppercase().replace(' ', "_"));
    let order = if g.fresh {
        g.recs(o.fields).len() + 1
    } else {
        g.idx + 1
    };
    json!({"id": g.sid(), "fieldLabel": label, "fieldType": ty,
        "fieldOptions": if options.is_empty() {Value::Null} else {json!(options)},
        "fieldDefault": null, "fieldDefaultCurrency": if ty == "currency" {json!("USD")} else {Value::Null},
        "isFormVisible": 1, "isRequired": 0, "displayOrder": order,
        "personalization": tag, "knownFieldId": null,
        "hideFieldFlag": 0, "createdTimestamp": naive(c), "updatedTimestamp": naive(u),
        "links": g.links(o.meta_path, &[o.data_path])})
}

/// The (owner, field) positions of generated value `i`: the first [`VALUE_OWNERS`] owners take a
/// value in turn, each turn of the next field, so no owner has two values of one field while
/// there are no more values than owners × fields.
fn slot(i: usize, owners: usize, fields: usize) -> (usize, usize) {
    let m = owners.clamp(1, VALUE_OWNERS);
    let (owner, round) = (i % m, i / m);
    (owner, (owner + round) % fields.max(1))
}

/// Text of a value's reference to its owner or field (the API writes them as numbers).
fn key(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// The (owner, field) positions of a value added later: the newest owner lacking a value of some
/// field, its first such field (the generated layout's choice when every pair has one).
fn free_slot(g: &G<'_>, o: &Owner) -> (usize, usize) {
    let (owners, fields) = (g.recs(o.owner), g.recs(o.fields));
    let taken: std::collections::HashSet<(String, String)> = g
        .recs(o.values)
        .iter()
        .map(|v| (key(v.get(o.owner_key)), key(v.get("customFieldId"))))
        .collect();
    for (oi, owner) in owners.iter().enumerate().rev() {
        for (fi, field) in fields.iter().enumerate() {
            if !taken.contains(&(key(owner.get("id")), key(field.get("id")))) {
                return (oi, fi);
            }
        }
    }
    slot(g.idx, owners.len(), fields.len())
}

/// The type of the field at position `fi`.
fn type_at<'a>(g: &G<'a>, o: &Owner, fi: usize) -> &'a str {
    g.parent(o.fields, fi)
        .and_then(|f| f.get("fieldType"))
        .and_then(Value::as_str)
        .unwrap_or("text")
}

/// How generated value `i` (of the field at `fi`, of type `ty`) is sent: malformed (the slip of
/// its type when it is its field's first value), and whether a multi-value comes as an array.
fn form(g: &G<'_>, o: &Owner, fi: usize, ty: &str) -> (Option<&'static str>, bool) {
    if g.fresh {
        return (None, g.id.is_multiple_of(ARRAY_EVERY as u64));
    }
    let (owners, fields) = (g.recs(o.owner).len(), g.recs(o.fields).len());
    let before = || (0..g.idx).map(|p| slot(p, owners, fields).1);
    let slip = CUSTOM_FIELD_SLIPS
        .iter()
        .find(|(t, _)| *t == ty)
        .filter(|_| before().all(|f| f != fi))
        .map(|(_, v)| *v);
    let multi = before()
        .filter(|f| matches!(type_at(g, o, *f), "checkbox" | "multiselect"))
        .count();
    (slip, multi % ARRAY_EVERY == 0)
}

/// One value of `deal_custom_field_values` or `account_custom_field_values`.
pub(super) fn value(stream: &str, g: &mut G<'_>, c: i64, u: i64) -> Value {
    let o = owner_of(stream);
    let (oi, fi) = if g.fresh {
        free_slot(g, o)
    } else {
        slot(g.idx, g.recs(o.owner).len(), g.recs(o.fields).len())
    };
    let ty = type_at(g, o, fi);
    let options: Vec<&str> = g
        .parent(o.fields, fi)
        .and_then(|f| f.get("fieldOptions"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let field_value = match form(g, o, fi, ty) {
        (Some(bad), _) => json!(bad),
        (None, array) => typed_value(g, ty, &options, array),
    };
    let meta = id_int(&g.fk(o.fields, fi));
    let mut m = Map::new();
    m.insert("id".into(), json!(g.sid()));
    m.insert(o.meta_key.into(), json!(meta));
    m.insert(o.owner_key.into(), json!(id_int(&g.fk(o.owner, oi))));
    m.insert("customFieldId".into(), json!(meta));
    m.insert("createdTimestamp".into(), naive(c));
    m.insert("updatedTimestamp".into(), naive(u));
    m.insert("fieldValue".into(), field_value);
    let currency = if ty == "currency" {
        json!("USD")
    } else {
        Value::Null
    };
    m.insert("fieldCurrency".into(), currency);
    m.insert(
        "links".into(),
        g.links(o.data_path, &[o.rel, "customField"]),
    );
    Value::Object(m)
}

/// A well-formed value of a field of type `ty` with these options, as the API sends it (`array`:
/// a multi-value as a JSON array).
fn typed_value(g: &mut G<'_>, ty: &str, options: &[&str], array: bool) -> Value {
    match ty {
        "dropdown" | "radio" => json!(g.rng.pick(options).copied().unwrap_or("")),
        "checkbox" | "multiselect" => multi_value(g, options, array),
        "date" => json!(fmt_date(g.t())),
        "datetime" => json!(fmt_iso(g.t())),
        "number" if g.id % 2 == 1 => json!(format!("{}.{}", g.num(1, 99), g.num(1, 9))),
        "number" => json!(g.num(1, 500)),
        // In cents, a JSON number (the API's own form for currency values).
        "currency" => json!(g.rng.range(1_000, 5_000_000)),
        "textarea" => json!(format!("Met at {} — {}", g.pick(CITIES), g.words(3))),
        "hidden" => json!(format!("REF-{}", g.rng.hex(6))),
        _ => json!(g.words(2)),
    }
}

/// All options but one (chosen at random): `||A||C||`, or `["A", "C"]`.
fn multi_value(g: &mut G<'_>, options: &[&str], array: bool) -> Value {
    let skip = g.rng.below(options.len().max(1) as u64) as usize;
    let mut chosen: Vec<&str> = options
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != skip)
        .map(|(_, o)| *o)
        .collect();
    if chosen.is_empty() {
        chosen = options.to_vec();
    }
    if array {
        json!(chosen)
    } else {
        json!(format!("||{}||", chosen.join("||")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dataset;
    use std::collections::HashSet;

    const STREAMS: [(&str, &str, &str); 2] = [
        ("deal_custom_fields", "deal_custom_field_values", "dealId"),
        (
            "account_custom_fields",
            "account_custom_field_values",
            "accountId",
        ),
    ];

    fn type_of(fields: &[Value], id: &Value) -> String {
        fields
            .iter()
            .find(|f| f["id"].as_str() == Some(id.to_string().as_str()))
            .and_then(|f| f["fieldType"].as_str())
            .unwrap_or("")
            .to_string()
    }

    #[test]
    fn slots_never_repeat_a_pair_while_they_fit() {
        for owners in 1..14 {
            for fields in 1..13 {
                let n = owners.min(VALUE_OWNERS) * fields;
                let mut seen = HashSet::new();
                for i in 0..n {
                    let (o, f) = slot(i, owners, fields);
                    assert!(o < owners && f < fields);
                    assert!(seen.insert((o, f)), "{owners}x{fields}: {i} repeats");
                }
            }
        }
        assert_eq!(
            (value_count(1), value_count(2), value_count(120)),
            (11, 20, 20)
        );
    }

    #[test]
    fn one_field_of_each_type_with_its_own_label_and_tag() {
        let d = Dataset::generate(42, 300);
        for (fields, _, _) in STREAMS {
            let recs = d.records(fields);
            let types: Vec<&str> = recs
                .iter()
                .filter_map(|f| f["fieldType"].as_str())
                .collect();
            let want: Vec<&str> = CUSTOM_FIELD_DEFS.iter().map(|f| f.1).collect();
            assert_eq!(types, want, "{fields}");
            for key in ["fieldLabel", "personalization"] {
                let distinct: HashSet<&str> = recs.iter().filter_map(|f| f[key].as_str()).collect();
                assert_eq!(distinct.len(), recs.len(), "{fields} {key}");
            }
            for f in &recs {
                let tag = f["personalization"].as_str().unwrap_or("");
                let prefix = if fields.starts_with("deal") {
                    "%DEAL_"
                } else {
                    "%ACCOUNT_"
                };
                assert!(tag.starts_with(prefix) && tag.ends_with('%'), "{tag}");
                let options = matches!(
                    f["fieldType"].as_str(),
                    Some("dropdown" | "radio" | "checkbox" | "multiselect")
                );
                assert_eq!(f["fieldOptions"].is_array(), options, "{f}");
                assert!(options || f["fieldOptions"].is_null());
            }
        }
    }

    #[test]
    fn at_most_one_value_per_owner_and_field_at_any_size() {
        for contacts in [1, 20, 60, 300, 1200] {
            let d = Dataset::generate(42, contacts);
            for (_, values, owner) in STREAMS {
                let recs = d.records(values);
                let pairs: HashSet<String> = recs
                    .iter()
                    .map(|v| format!("{}/{}", v[owner], v["customFieldId"]))
                    .collect();
                assert_eq!(pairs.len(), recs.len(), "{values} at {contacts}");
                assert!(recs
                    .iter()
                    .all(|v| v[owner].is_u64() && v["customFieldId"].is_u64()));
            }
        }
        let d = Dataset::generate(42, 1200);
        assert_eq!(d.records("deal_custom_field_values").len(), 20);
        assert_eq!(d.records("account_custom_field_values").len(), 20);
    }

    /// Every type has a value, in the form the API sends for it.
    #[test]
    fn values_take_their_fields_forms() {
        let d = Dataset::generate(42, 300);
        for (fields, values, _) in STREAMS {
            let defs = d.records(fields);
            let mut typed: HashSet<String> = HashSet::new();
            let (mut arrays, mut texts) = (0, 0);
            for v in d.records(values) {
                let ty = type_of(&defs, &v["customFieldId"]);
                let fv = &v["fieldValue"];
                assert_eq!(v["fieldCurrency"] == json!("USD"), ty == "currency", "{v}");
                assert!(v["fieldCurrency"] == json!("USD") || v["fieldCurrency"].is_null());
                if CUSTOM_FIELD_SLIPS.iter().any(|(t, s)| *t == ty && fv == s) {
                    continue;
                }
                typed.insert(ty.clone());
                let text = fv.as_str().unwrap_or("");
                match ty.as_str() {
                    "date" => assert_eq!(text.len(), 10, "{fv}"),
                    "datetime" => assert!(text.len() == 25 && text.contains('T'), "{fv}"),
                    "number" => assert!(text.parse::<f64>().is_ok(), "{fv}"),
                    "currency" => assert!(fv.is_u64(), "{fv}"),
                    "checkbox" | "multiselect" if fv.is_array() => arrays += 1,
                    "checkbox" | "multiselect" => {
                        assert!(text.starts_with("||") && text.ends_with("||"), "{fv}");
                        texts += 1;
                    }
                    _ => assert!(!text.is_empty(), "{fv}"),
                }
            }
            assert_eq!(typed.len(), CUSTOM_FIELD_DEFS.len(), "{values}: {typed:?}");
            assert!(
                arrays >= 1 && texts > arrays,
                "{values}: {arrays} arrays, {texts} texts"
            );
        }
    }

    #[test]
    fn the_malformed_values_are_one_of_each_per_stream() {
        let d = Dataset::generate(42, 300);
        for (fields, values, _) in STREAMS {
            let defs = d.records(fields);
            for (ty, bad) in CUSTOM_FIELD_SLIPS {
                let found: Vec<Value> = d
                    .records(values)
                    .into_iter()
                    .filter(|v| v["fieldValue"] == json!(bad))
                    .collect();
                assert_eq!(found.len(), 1, "{values} {bad}");
                assert_eq!(type_of(&defs, &found[0]["customFieldId"]), *ty);
            }
        }
    }

    /// A value added later goes to a pair without one, and comes well-formed.
    #[test]
    fn inserted_values_keep_one_per_pair() {
        let mut d = Dataset::generate(42, 300);
        for (_, values, owner) in STREAMS {
            let ids = d.insert(values, 40);
            assert_eq!(ids.len(), 40);
            let recs = d.records(values);
            let pairs: HashSet<String> = recs
                .iter()
                .map(|v| format!("{}/{}", v[owner], v["customFieldId"]))
                .collect();
            assert_eq!(pairs.len(), recs.len(), "{values}");
            let slips = recs.iter().filter(|v| {
                CUSTOM_FIELD_SLIPS
                    .iter()
                    .any(|(_, s)| v["fieldValue"] == json!(s))
            });
            assert_eq!(slips.count(), 2, "{values}");
        }
        let f = d.insert("deal_custom_fields", 2);
        let labels: HashSet<String> = d
            .records("deal_custom_fields")
            .iter()
            .filter_map(|r| r["fieldLabel"].as_str().map(String::from))
            .collect();
        assert_eq!(labels.len(), CUSTOM_FIELD_DEFS.len() + f.len());
    }
}
