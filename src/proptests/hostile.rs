//! Generated hostile answers: whole reads natively, one page of a list answered in a
//! hostile shape (numbers out of range, deep nesting, huge strings, lone surrogates and invalid
//! UTF-8, odd and duplicate ids, a list as an object or a string, a record as a string or null,
//! an odd `meta`, a truncated or doubled body, HTML or a byte order mark on a 200, a top-level
//! array or number), once or on every ask, for a paged list and for a sideload. For each: no
//! panic (a trap in wasm), no spin (the scripted transport counts waits), and a stream that could
//! not use a record never reports COMPLETE; where every record is usable, the stream completes
//! with every record. The seed is printed (see the module above).

use super::gen::{cases, start, Gen};
use crate::engine::{read, Client, HttpResponse, ReadSummary};
use crate::test_support::reads::{client_config, job_of, StreamState, SECOND};
use crate::test_support::{query, Fake, Lines};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The shapes a hostile page comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    OutOfRange,
    Deep,
    HugeString,
    LoneSurrogate,
    InvalidUtf8,
    OddId,
    DuplicateIds,
    ListAsObject,
    ListAsString,
    RecordAsString,
    RecordAsNull,
    OddMeta,
    Truncated,
    Doubled,
    Html,
    Bom,
    TopArray,
    TopNumber,
}

const KINDS: &[Kind] = &[
    Kind::OutOfRange,
    Kind::Deep,
    Kind::HugeString,
    Kind::LoneSurrogate,
    Kind::InvalidUtf8,
    Kind::OddId,
    Kind::DuplicateIds,
    Kind::ListAsObject,
    Kind::ListAsString,
    Kind::RecordAsString,
    Kind::RecordAsNull,
    Kind::OddMeta,
    Kind::Truncated,
    Kind::Doubled,
    Kind::Html,
    Kind::Bom,
    Kind::TopArray,
    Kind::TopNumber,
];

/// What the read must do, by an independent reading of the shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Every record is usable: COMPLETE, every id delivered.
    Whole,
    /// A record could not be used: never COMPLETE.
    NotComplete,
    /// Either outcome is right (odd ids); only no panic and no spin.
    Either,
}

/// One hostile page: its body, and what it asks of the read.
struct Hostile {
    body: Vec<u8>,
    expect: Expect,
}

/// Records of one page, as the true list has them.
fn records(ids: &[u64]) -> Vec<Value> {
    ids.iter()
        .map(|i| json!({"id": i.to_string(), "tag": format!("t{i}")}))
        .collect()
}

/// `key`'s page of `recs` in the hostile shape `kind`; `persistent`: sent on every ask.
fn hostile(g: &mut Gen, kind: Kind, key: &str, recs: Vec<Value>, persistent: bool) -> Hostile {
    let page = |list: Value| json!({ key: list, "meta": {"total": "300"} });
    let garbage = if persistent {
        Expect::NotComplete
    } else {
        Expect::Whole
    };
    let whole = page(Value::Array(recs.clone())).to_string();
    let mut recs = recs;
    let i = g.below(recs.len().max(1) as u64) as usize;
    let (body, expect) = match kind {
        Kind::OutOfRange => {
            let n = g.pick(&[
                "1e400",
                "-1e400",
                "123456789012345678901234567890",
                "-0.0e-999",
            ]);
            let text = whole.replacen("\"id\":", &format!("\"n\":{n},\"id\":"), 1);
            (text, Expect::Whole)
        }
        Kind::Deep => {
            let levels = 1 + g.below(200) as usize;
            let deep = format!("{}1{}", "[".repeat(levels), "]".repeat(levels));
            let text = whole.replacen("\"id\":", &format!("\"deep\":{deep},\"id\":"), 1);
            // The record is level 1, the lists inside it 2 ..= levels + 1.
            let e = if levels < 64 {
                Expect::Whole
            } else {
                Expect::NotComplete
            };
            (text, e)
        }
        Kind::HugeString => {
            let n = 100_000 + g.below(2_000_000) as usize;
            recs[i]["note"] = json!("é\\\"".repeat(n / 3));
            (page(Value::Array(recs)).to_string(), Expect::Whole)
        }
        Kind::LoneSurrogate => {
            let s = g.pick(&["\\ud800", "\\udfff", "x\\ud83d", "\\udc00\\ud800"]);
            // Two records with one: each must keep its id.
            let text = whole.replacen("\"id\":", &format!("\"s\":\"{s}\",\"id\":"), 2);
            (text, Expect::Whole)
        }
        Kind::InvalidUtf8 => {
            let mut b = whole.into_bytes();
            let at = b.iter().position(|&c| c == b't').unwrap_or(0);
            b.insert(at, *g.pick(&[0xFF, 0xC0, 0x80, 0xED]));
            return Hostile {
                body: b,
                expect: garbage,
            };
        }
        Kind::OddId => {
            recs[i]["id"] = g
                .pick(&[
                    json!(null),
                    json!({"x": 1}),
                    json!(1.5),
                    json!(""),
                    json!(18446744073709551616u128 as f64),
                    json!("99999999999999999999999999"),
                    json!(true),
                    json!([1]),
                ])
                .clone();
            if g.one_in(2) {
                recs[i].as_object_mut().map(|o| o.remove("id"));
            }
            (page(Value::Array(recs)).to_string(), Expect::Either)
        }
        Kind::DuplicateIds => {
            let dup = recs[i].clone();
            recs.insert(g.below(recs.len() as u64 + 1) as usize, dup);
            (page(Value::Array(recs)).to_string(), Expect::Either)
        }
        Kind::ListAsObject => {
            let mut o = serde_json::Map::new();
            for (n, r) in recs.into_iter().enumerate().rev() {
                o.insert((n * 3).to_string(), r);
            }
            (page(Value::Object(o)).to_string(), Expect::Whole)
        }
        Kind::ListAsString => {
            let v = g
                .pick(&[json!(""), json!("[]"), json!(0), json!(false)])
                .clone();
            (page(v).to_string(), Expect::NotComplete)
        }
        Kind::RecordAsString | Kind::RecordAsNull => {
            recs[i] = if kind == Kind::RecordAsNull {
                Value::Null
            } else {
                json!(recs[i].to_string())
            };
            (page(Value::Array(recs)).to_string(), Expect::NotComplete)
        }
        Kind::OddMeta => {
            let meta = g
                .pick(&[
                    json!(null),
                    json!("x"),
                    json!([]),
                    json!({"total": -5}),
                    json!({"total": 1e30}),
                    json!({"total": "99999999999999999999999"}),
                    json!({"total": {"n": 1}}),
                ])
                .clone();
            let mut b = page(Value::Array(recs));
            b["meta"] = meta;
            (b.to_string(), Expect::Whole)
        }
        Kind::Truncated => {
            let cut = 1 + g.below(whole.len() as u64 - 2) as usize;
            let cut = (cut..whole.len())
                .find(|c| whole.is_char_boundary(*c))
                .unwrap_or(1);
            (whole[..cut].to_string(), garbage)
        }
        Kind::Doubled => (format!("{whole}{whole}"), garbage),
        Kind::Html => (
            "<html><body><h1>502 Bad Gateway</h1></body></html>".to_string(),
            garbage,
        ),
        Kind::Bom => (format!("\u{FEFF}{whole}"), Expect::Whole),
        Kind::TopArray => (Value::Array(recs).to_string(), garbage),
        Kind::TopNumber => (
            g.pick(&["42", "-1", "1e999", "null", "\"tags\""])
                .to_string(),
            garbage,
        ),
    };
    Hostile {
        body: body.into_bytes(),
        expect,
    }
}

/// The outcome of one read: its summary, its lines parsed, and the ids delivered per stream.
struct Outcome {
    summary: ReadSummary,
    lines: Vec<Value>,
}

impl Outcome {
    /// The ids (text) of a stream's records.
    fn ids(&self, stream: &str) -> BTreeSet<String> {
        self.lines
            .iter()
            .filter(|v| v["type"] == "RECORD" && v["record"]["stream"] == stream)
            .filter_map(|v| v["record"]["data"]["id"].as_str().map(String::from))
            .collect()
    }

    /// Whether a stream reported COMPLETE.
    fn completed(&self, stream: &str) -> bool {
        self.lines.iter().any(|v| {
            v["trace"]["stream_status"]["stream_descriptor"]["name"] == stream
                && v["trace"]["stream_status"]["status"] == "COMPLETE"
        })
    }
}

/// A read of 300 tags whose page at offset `at` (0, 99 or 198) is `h`.
fn tags_read(h: Hostile, at: u64, persistent: bool) -> Outcome {
    let cfg = client_config(json!({"max_attempts": 2, "max_retry_wait_seconds": 5}));
    let mut sent = false;
    let mut fake = Fake::new(SECOND / 100, move |p: &str| {
        let off = crate::test_support::offset_of(p);
        if off == at && (persistent || !sent) {
            sent = true;
            return Ok(HttpResponse {
                status: 200,
                headers: vec![],
                body: h.body.clone(),
            });
        }
        let ids: Vec<u64> = (off + 1..=300.min(off + 100)).collect();
        let body = json!({"tags": records(&ids), "meta": {"total": "300"}});
        Ok(HttpResponse {
            status: 200,
            headers: vec![],
            body: body.to_string().into_bytes(),
        })
    });
    run(
        &mut fake,
        &cfg,
        vec![job_of("tags", false, StreamState::default())],
    )
}

/// A read of 250 contacts (keyset) with their `contactTags` riding on the pages, the first
/// page's sideload being `h`.
fn sideload_read(h: Hostile, persistent: bool) -> Outcome {
    let cfg = client_config(json!({"max_attempts": 2, "max_retry_wait_seconds": 5}));
    let mut sent = false;
    let mut fake = Fake::new(SECOND / 100, move |p: &str| {
        let after: u64 = query(p, "id_greater")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let below: u64 = query(p, "id_less")
            .and_then(|v| v.parse().ok())
            .unwrap_or(u64::MAX);
        let ids: Vec<u64> = if p.contains("DESC") {
            vec![250]
        } else {
            (after + 1..=250.min(after + 100))
                .filter(|&i| i < below)
                .collect()
        };
        let contacts: Vec<Value> = ids.iter().map(|i| json!({"id": i.to_string()})).collect();
        let mut body = json!({"contacts": contacts, "meta": {"total": "250"}});
        if after == 0 && !p.contains("DESC") && (persistent || !sent) {
            sent = true;
            // The hostile sideload goes into the first page's answer, as text.
            let text = body.to_string();
            let sideload = String::from_utf8_lossy(&h.body).to_string();
            let inner = sideload
                .trim()
                .strip_prefix('{')
                .and_then(|s| s.strip_suffix('}'))
                .map(|s| format!("{{{s},{}", &text[1..]))
                .unwrap_or(text);
            return Ok(HttpResponse {
                status: 200,
                headers: vec![],
                body: inner.into_bytes(),
            });
        }
        body["contactTags"] = json!(ids
            .iter()
            .map(|i| json!({"id": (1000 + i).to_string(), "contact": i.to_string()}))
            .collect::<Vec<_>>());
        Ok(HttpResponse {
            status: 200,
            headers: vec![],
            body: body.to_string().into_bytes(),
        })
    });
    let jobs = vec![
        job_of("contacts", false, StreamState::default()),
        job_of("contact_tags", false, StreamState::default()),
    ];
    run(&mut fake, &cfg, jobs)
}

fn run(
    fake: &mut Fake,
    cfg: &crate::documents::config::Config,
    jobs: Vec<crate::engine::Job>,
) -> Outcome {
    let mut client = Client::new(fake, cfg);
    let mut sink = Lines::default();
    let summary = read(&mut client, cfg, jobs, &mut sink);
    // serde_json's Value refuses lone surrogates, which the records pass on as sent.
    let lines = sink
        .0
        .iter()
        .map(|l| {
            l.replace("\\ud", "\\u00")
                .replace("e400", "e40")
                .replace("e999", "e99")
        })
        .map(|l| serde_json::from_str(&l).unwrap_or_else(|e| panic!("{e}: {l:.300}")))
        .collect();
    Outcome { summary, lines }
}

/// A hostile page of a paged list: no panic, no spin; COMPLETE only when every record was
/// usable, and then with every record.
#[test]
fn hostile_pages_of_a_paged_list() {
    let (mut g, _seed) = start("hostile_pages_of_a_paged_list");
    let mut seen = [0usize; 3];
    for _ in 0..(cases() / 120).max(KINDS.len() * 3) {
        let kind = *g.pick(KINDS);
        let persistent = g.one_in(2);
        let at = *g.pick(&[0u64, 99, 198]);
        let ids: Vec<u64> = (at + 1..=300.min(at + 100)).collect();
        let h = hostile(&mut g, kind, "tags", records(&ids), persistent);
        let expect = h.expect;
        let o = tags_read(h, at, persistent);
        let what = format!("{kind:?} at offset {at}, persistent {persistent}");
        let completed = o.completed("tags");
        assert_eq!(completed, o.summary.streams[0].failure.is_none(), "{what}");
        match expect {
            Expect::Whole => {
                seen[0] += 1;
                assert!(completed, "{what}: {:?}", o.summary.streams[0].failure);
                let want: BTreeSet<String> = (1..=300).map(|i| i.to_string()).collect();
                assert_eq!(o.ids("tags"), want, "{what}");
            }
            Expect::NotComplete => {
                seen[1] += 1;
                assert!(!completed, "{what}: a record could not be used");
            }
            Expect::Either => seen[2] += 1,
        }
    }
    assert!(seen.iter().all(|&n| n > 0), "{seen:?}");
}

/// A hostile sideload riding on the contact pages: the child stream (and the task it shares with
/// contacts) never reports COMPLETE when a child could not be used.
#[test]
fn hostile_sideloads() {
    let (mut g, _seed) = start("hostile_sideloads");
    let mut seen = [0usize; 3];
    let json_kinds: Vec<Kind> = KINDS
        .iter()
        .copied()
        .filter(|k| {
            !matches!(
                k,
                Kind::InvalidUtf8
                    | Kind::Truncated
                    | Kind::Doubled
                    | Kind::Html
                    | Kind::Bom
                    | Kind::TopArray
                    | Kind::TopNumber
            )
        })
        .collect();
    for _ in 0..(cases() / 200).max(json_kinds.len() * 3) {
        let kind = *g.pick(&json_kinds);
        let persistent = g.one_in(2);
        let recs: Vec<Value> = (1..=100u64)
            .map(|i| json!({"id": (1000 + i).to_string(), "contact": i.to_string()}))
            .collect();
        let h = hostile(&mut g, kind, "contactTags", recs, persistent);
        let expect = h.expect;
        let o = sideload_read(h, persistent);
        let what = format!("{kind:?} in contactTags, persistent {persistent}");
        match expect {
            Expect::Whole => {
                seen[0] += 1;
                assert!(
                    o.completed("contact_tags"),
                    "{what}: {:?}",
                    o.summary.streams
                );
                assert_eq!(o.ids("contacts").len(), 250, "{what}");
                assert_eq!(o.ids("contact_tags").len(), 250, "{what}");
            }
            Expect::NotComplete => {
                seen[1] += 1;
                assert!(!o.completed("contact_tags"), "{what}");
            }
            Expect::Either => seen[2] += 1,
        }
    }
    assert!(seen.iter().all(|&n| n > 0), "{seen:?}");
}
