//! Record contents, not just ids: a full read through wasmtime delivers every record of every
//! stream exactly as the server holds it, after the documented changes (MySQL zero dates
//! `0000-00-00`, `0000-00-00 00:00:00` become null; values typed as their schema declares, a
//! value that does not fit null and whole in `_ac_originals`), and valid against its discovered
//! schema.
//! Contacts read with their children (`include=`, the default) carry the children's ids as the
//! API sends them then.

mod common;
use ac_test_server::{CONTACT_SLIPS, DEAL_SLIPS};
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;

const KEY: &str = "contents-key-7e57ab1e";

/// The contact children a contacts page carries when asked with `include=` (the connector's
/// default when they are read together): the real API then adds to each contact the ids of its
/// children, in list order, under the include name.
const INCLUDED: &[(&str, &str)] = &[
    ("fieldValues", "contact_custom_field_values"),
    ("contactTags", "contact_tags"),
    ("contactLists", "contact_lists"),
];

fn id_of(v: &Value) -> String {
    match &v["id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[test]
fn a_full_read_delivers_every_record_as_the_server_holds_it() {
    let _g = serial();
    let srv = TestServer::new(KEY, 31, 300).start();
    let s = Scratch::new("contents");
    let c = s.write("c.json", &config(&srv.base_url(), KEY, 50.0));
    let disc = wasmtime(&s, &["discover", "--config", &c]);
    assert_eq!(disc.code, 0, "{}", disc.stderr);
    let schemas: BTreeMap<String, Value> = disc.of_type("CATALOG")[0]["catalog"]["streams"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|x| {
            (
                x["name"].as_str().unwrap_or("").to_string(),
                x["json_schema"].clone(),
            )
        })
        .collect();

    let run = wasmtime(&s, &["read", "--config", &c]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let names = srv.with_dataset(|d| d.stream_names());
    // contact id -> include name -> child ids, from the child streams themselves.
    let mut included: BTreeMap<String, BTreeMap<&str, Vec<Value>>> = BTreeMap::new();
    for (key, child) in INCLUDED {
        for r in srv.with_dataset(|d| d.records(child)) {
            if let Some(contact) = r["contact"].as_str() {
                included
                    .entry(contact.to_string())
                    .or_default()
                    .entry(key)
                    .or_default()
                    .push(r["id"].clone());
            }
        }
    }
    let (mut compared, mut nulled) = (0usize, 0usize);
    let mut slips = std::collections::BTreeSet::new();
    for name in &names {
        let cname = connector_name(name);
        let want: BTreeMap<String, Value> = srv
            .with_dataset(|d| d.records(name))
            .iter()
            .map(|r| (id_of(r), r.clone()))
            .collect();
        let got = run.records(&cname);
        assert_eq!(got.len(), want.len(), "{cname}: record count");
        assert!(!got.is_empty(), "{cname}: the server has records");
        let schema = schemas
            .get(&cname)
            .unwrap_or_else(|| panic!("{cname} not discovered"));
        assert_eq!(schema["required"], serde_json::json!(["id"]), "{cname}");
        let mut seen = std::collections::BTreeSet::new();
        for rec in &got {
            let id = id_of(rec);
            assert!(seen.insert(id.clone()), "{cname}: id {id} delivered twice");
            let server = want
                .get(&id)
                .unwrap_or_else(|| panic!("{cname}: id {id} is not on the server"));
            let mut expected = typed_form(server, schema);
            if cname == "contacts" {
                for (key, _) in INCLUDED {
                    let kids = included
                        .get(&id)
                        .and_then(|m| m.get(key))
                        .cloned()
                        .unwrap_or_default();
                    expected[*key] = Value::Array(kids);
                }
            }
            assert_eq!(rec, &expected, "{cname} id {id}: contents differ");
            if documented_form(server) != *server {
                nulled += 1;
            }
            if let Some(o) = expected["_ac_originals"].as_object() {
                for (field, value) in o {
                    slips.insert(format!("{cname}.{field}={value}"));
                }
            }
            validate(schema, rec, &cname).unwrap_or_else(|e| panic!("{cname}: {e}"));
            // Every field is declared: destinations that keep declared columns drop no data.
            let declared = schema["properties"].as_object();
            for field in rec.as_object().map(|o| o.keys()).into_iter().flatten() {
                assert!(
                    declared.is_some_and(|p| p.contains_key(field)),
                    "{cname}: field {field} is not in the discovered schema"
                );
            }
            compared += 1;
        }
        // The schema's `required` bites: the same record without its id is invalid.
        let mut no_id = got[0].clone();
        if let Some(o) = no_id.as_object_mut() {
            o.remove("id");
        }
        assert!(
            validate(schema, &no_id, &cname).is_err(),
            "{cname}: id not required"
        );
    }
    assert!(names.len() >= 61, "{} streams", names.len());
    assert!(
        nulled > 10,
        "the zero-date change was exercised on only {nulled} records"
    );
    // Every kind of value the test server slips in where a number or date belongs came out null
    // in its column and whole in the originals (the comparison above checks each record).
    for (stream, slipped) in [("contacts", CONTACT_SLIPS), ("deals", DEAL_SLIPS)] {
        for (_, field, value) in slipped {
            let want = format!("{stream}.{field}={}", Value::from(*value));
            assert!(slips.contains(&want), "{want} not seen in {slips:?}");
        }
    }
    eprintln!(
        "compared {compared} records of {} streams field by field; {nulled} had zero dates nulled",
        names.len()
    );
}
