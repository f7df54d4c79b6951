//! Record generators: one realistic record of any stream, as a pure function of the seed, the
//! stream, the record id and the parent records generated before it.

use crate::rng::{combine, hash_str, Rng};
use crate::time::{fmt_date, fmt_iso, fmt_naive, fmt_naive_utc, GEN_END, GEN_START};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

mod custom_fields;
pub use custom_fields::{value_count as custom_value_count, CUSTOM_FIELD_DEFS, CUSTOM_FIELD_SLIPS};

/// Host used in every `links` URL.
pub const LINK_BASE: &str = "https://acct.api-us1.com/api/3";

const FIRST: &[(&str, &str)] = &[
    ("Adam", "adam"),
    ("Zoë", "zoe"),
    ("José", "jose"),
    ("Mia", "mia"),
    ("Liam", "liam"),
    ("Søren", "soren"),
    ("Chloé", "chloe"),
    ("Hiro", "hiro"),
    ("Anaïs", "anais"),
    ("Mateo", "mateo"),
    ("Fatima", "fatima"),
    ("Emma", "emma"),
    ("Lucas", "lucas"),
    ("Olivia", "olivia"),
    ("Jürgen", "jurgen"),
    ("Priya", "priya"),
    ("Kenji", "kenji"),
    ("Ingrid", "ingrid"),
    ("Noah", "noah"),
    ("Ava", "ava"),
];
const LAST: &[(&str, &str)] = &[
    ("Smith", "smith"),
    ("Ångström", "angstrom"),
    ("García", "garcia"),
    ("Müller", "muller"),
    ("Nguyen", "nguyen"),
    ("Brown", "brown"),
    ("Kowalski", "kowalski"),
    ("Tanaka", "tanaka"),
    ("O'Brien", "obrien"),
    ("Dubois", "dubois"),
    ("Rossi", "rossi"),
    ("Johnson", "johnson"),
    ("Novák", "novak"),
    ("Østergaard", "ostergaard"),
    ("Silva", "silva"),
    ("Yamamoto", "yamamoto"),
];
const DOMAINS: &[&str] = &[
    "example.com",
    "example.org",
    "example.net",
    "mail.example.co.jp",
];
const WORDS: &[&str] = &[
    "Able", "Hyena", "Bright", "Falcon", "Quiet", "River", "Crimson", "Harbor", "Swift", "Maple",
    "東京", "Ümlaut", "Nordic", "Summit", "Velvet", "Orbit", "Café", "Lagoon",
];
const COMPANIES: &[&str] = &[
    "Acme Corp",
    "Ångström AB",
    "東京 Trading KK",
    "Globex",
    "Initech",
    "Umbrella Ltd",
    "Société Générale de Test",
    "Stark Industries",
    "Wayne Enterprises",
    "Müller & Söhne GmbH",
    "Hooli",
    "Vandelay Industries",
];
const CITIES: &[&str] = &[
    "Chicago",
    "東京",
    "München",
    "São Paulo",
    "Reykjavík",
    "Austin",
    "Paris",
    "Kraków",
];

/// Contact custom fields generated at the start: (title, type, options).
pub const FIELD_DEFS: &[(&str, &str, &[&str])] = &[
    ("Favorite Color", "dropdown", &["Red", "Green", "Blåbær"]),
    ("Company Size", "radio", &["1-10", "11-50", "51+"]),
    ("Interests", "checkbox", &["Sports", "Music", "Travel"]),
    ("Birthday", "date", &[]),
    ("Notes", "textarea", &[]),
    ("Job Title", "text", &[]),
    ("Internal Ref", "hidden", &[]),
    ("Last Demo", "datetime", &[]),
];

/// Generation context for one record.
pub struct G<'a> {
    /// Per-record random source.
    pub rng: Rng,
    /// The record's id.
    pub id: u64,
    /// Index used to pick parents deterministically (generation position, or random for inserts).
    pub idx: usize,
    /// Records of the streams generated so far.
    pub data: &'a BTreeMap<String, Vec<Value>>,
    /// True for records made by `Dataset::insert` (not part of the initial generation).
    pub fresh: bool,
}

impl<'a> G<'a> {
    /// A context for record `id` of `stream`.
    pub fn new(
        seed: u64,
        stream: &str,
        id: u64,
        idx: usize,
        data: &'a BTreeMap<String, Vec<Value>>,
    ) -> G<'a> {
        G {
            rng: Rng::new(combine(combine(seed, hash_str(stream)), id)),
            id,
            idx,
            data,
            fresh: false,
        }
    }

    fn sid(&self) -> String {
        self.id.to_string()
    }

    fn recs(&self, stream: &str) -> &'a [Value] {
        self.data.get(stream).map(|v| v.as_slice()).unwrap_or(&[])
    }

    /// Parent record at position `idx` (wrapping).
    fn parent(&self, stream: &str, idx: usize) -> Option<&'a Value> {
        let r = self.recs(stream);
        if r.is_empty() {
            None
        } else {
            r.get(idx % r.len())
        }
    }

    /// Id of the parent at position `idx` (wrapping), "0" when there is none.
    fn fk(&self, stream: &str, idx: usize) -> String {
        self.parent(stream, idx)
            .and_then(|v| v.get("id"))
            .and_then(|v| v.as_str())
            .unwrap_or("0")
            .to_string()
    }

    /// Id of a random parent.
    fn rfk(&mut self, stream: &str) -> String {
        let i = self.rng.next_u64() as usize;
        self.fk(stream, i)
    }

    fn t(&mut self) -> i64 {
        self.rng.range(GEN_START, GEN_END - 1)
    }

    fn before(&mut self, t: i64) -> i64 {
        self.rng.range(GEN_START, t)
    }

    fn num(&mut self, lo: i64, hi: i64) -> String {
        self.rng.range(lo, hi).to_string()
    }

    fn pick(&mut self, items: &[&'static str]) -> &'static str {
        self.rng.pick(items).copied().unwrap_or("")
    }

    fn words(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| self.pick(WORDS))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn links(&self, path: &str, rels: &[&str]) -> Value {
        let mut m = Map::new();
        for r in rels {
            m.insert(
                (*r).to_string(),
                Value::String(format!("{LINK_BASE}/{path}/{}/{r}", self.id)),
            );
        }
        Value::Object(m)
    }
}

fn iso(t: i64) -> Value {
    Value::String(fmt_iso(t))
}
fn naive(t: i64) -> Value {
    Value::String(fmt_naive(t))
}
fn id_int(s: &str) -> i64 {
    s.parse().unwrap_or(0)
}

/// One record of `stream` (never for custom objects). Unknown stream names give `{"id":..}`.
pub fn record(stream: &str, g: &mut G<'_>) -> Value {
    let id = g.sid();
    let i = g.idx;
    let u = g.t();
    let c = g.before(u);
    match stream {
        "users" => {
            let (f, l, un) = [
                ("John", "Doe", "admin"),
                ("Zoë", "Ångström", "zoe"),
                ("Kenji", "Tanaka", "kenji"),
            ][i % 3];
            let un = if g.id <= 3 {
                un.to_string()
            } else {
                format!("{un}{}", g.id)
            };
            json!({"username": un, "firstName": f, "lastName": l, "email": format!("{un}@example.com"), "phone": "",
                "signature": null, "links": g.links("users", &["lists", "userGroup", "dealGroupTotals", "dealGroupUsers", "configs"]), "id": id})
        }
        "groups" => {
            let title = ["Admin", "Sales Team", "Support — 東京"][i % 3];
            json!({"title": title, "descript": format!("{title} group"), "unsubscribelink": "0", "optinconfirm": "0",
                "p_admin": if i.is_multiple_of(3) {"1"} else {"0"}, "pgListAdd": "1", "pgListEdit": "1", "pgListDelete": "0",
                "pgContactAdd": "1", "pgContactEdit": "1", "pgContactDelete": "0", "pgMessageAdd": "1", "pgDealView": "1",
                "pgReportsCampaign": "1", "sdate": iso(c), "reqApproval": "0", "reqApproval1st": "2", "reqApprovalNotify": "",
                "socialdata": "0", "links": g.links("groups", &["userGroups", "groupLimit", "dealGroupGroups", "listGroups", "addressGroups"]), "id": id})
        }
        "addresses" => {
            let city = if i % 2 == 1 { "東京" } else { "Chicago" };
            json!({"companyName": g.pick(COMPANIES), "address1": format!("{} Main St", g.num(1, 999)), "address2": "",
                "city": city, "state": if city == "Chicago" {"IL"} else {""}, "district": "", "zip": g.num(10000, 99999),
                "country": if city == "Chicago" {"US"} else {"JP"}, "allgroup": "0", "isDefault": if i == 0 {"1"} else {"0"},
                "links": g.links("addresses", &["addressGroup", "addressList", "forms"]), "id": id})
        }
        "brandings" => {
            json!({"groupid": "3", "siteName": "ActiveCampaign Email Marketing", "siteLogo": "https://example.com/logo.png",
            "siteLogoSmall": "https://example.com/logo-small.png", "headerTextValue": "", "headerHtmlValue": "", "footerTextValue": "",
            "footerHtmlValue": "", "copyright": "1", "version": "1", "license": "1", "help": "1", "adminTemplateHtm": "",
            "adminTemplateCss": "", "publicTemplateHtm": "", "publicTemplateCss": "", "favicon": null,
            "links": g.links("brandings", &["group"]), "id": id})
        }
        "lists" => {
            let name = [
                "Email Subscription",
                "Newsletter",
                "Product Updates",
                "Événements 東京",
                "Partners",
            ][i % 5];
            let slug = name.to_lowercase().replace(' ', "-");
            json!({"stringid": format!("{slug}-{}", g.id), "userid": "1", "name": name, "cdate": iso(c), "p_use_tracking": "1",
                "p_embed_image": "1", "use_analytics_read": "0", "private": "0", "sender_name": "Acme Corp",
                "sender_addr1": "1 Main St", "sender_city": "Chicago", "sender_country": "US",
                "sender_url": "http://example.com", "sender_reminder": "You signed up for my mailing list.",
                "fulladdress": "Acme Corp, 1 Main St, Chicago, US", "optinmessageid": "0", "optoutconf": "0",
                "deletestamp": null, "udate": null, "created_timestamp": naive(c), "updated_timestamp": naive(u),
                "created_by": "1", "updated_by": if g.rng.one_in(2) {Value::Null} else {json!("1")},
                "links": g.links("lists", &["addressLists", "contactGoalLists", "user"]), "id": id, "user": "1"})
        }
        "tags" => {
            let tag = [
                "vip",
                "customer",
                "lead",
                "newsletter",
                "東京-event",
                "churn-risk",
                "webinar",
                "partner",
                "beta",
                "Zoë's list",
                "trial",
                "enterprise",
            ][i % 12];
            json!({"tagType": if i % 6 == 5 {"template"} else {"contact"}, "tag": if g.id > 12 { format!("{tag}-{}", g.id) } else { tag.to_string() },
                "description": format!("Contacts tagged {tag}"), "cdate": iso(c),
                "links": g.links("tags", &["contactGoalTags"]), "id": id})
        }
        "contact_custom_fields" => {
            let (title, ty) = FIELD_DEFS
                .get(i)
                .map(|f| (f.0.to_string(), f.1))
                .unwrap_or((format!("Custom Field {}", g.id), "text"));
            let perstag = title.to_uppercase().replace(' ', "_");
            json!({"title": title, "descript": null, "type": ty, "isrequired": "0", "perstag": perstag, "defval": null,
                "show_in_list": "0", "rows": "0", "cols": "0", "visible": "1", "service": "", "ordernum": (i + 1).to_string(),
                "cdate": iso(c), "udate": iso(u), "options": [], "relations": [],
                "links": g.links("fields", &["options", "relations"]), "id": id})
        }
        "contact_custom_field_options" => {
            // Three options for each of the three option-typed fields (the first three fields).
            let field_idx = (i / 3) % 3;
            let value = FIELD_DEFS[field_idx]
                .2
                .get(i % 3)
                .copied()
                .unwrap_or("Other");
            json!({"field": g.fk("contact_custom_fields", field_idx), "orderid": ((i % 3) + 1).to_string(), "value": value,
                "label": value, "isdefault": "0", "cdate": iso(c), "udate": iso(u),
                "links": g.links("fieldOptions", &["field"]), "id": id})
        }
        "contact_custom_field_rels" => {
            json!({"field": g.fk("contact_custom_fields", i), "relid": "0", "dorder": (i % 8).to_string(),
            "cdate": iso(c), "links": g.links("fieldRels", &["field"]), "id": id})
        }
        "contacts" => contact(g, id, c, u),
        "contact_custom_field_values" => {
            let ci = i / 2;
            let nf = g.recs("contact_custom_fields").len().max(1);
            let fi = (ci + i % 2) % nf;
            let contact = g.fk("contacts", ci);
            let field = g.fk("contact_custom_fields", fi);
            let ty = g
                .parent("contact_custom_fields", fi)
                .and_then(|f| f.get("type"))
                .and_then(|t| t.as_str())
                .unwrap_or("text");
            let opts: &[&str] = FIELD_DEFS.get(fi).map(|f| f.2).unwrap_or(&[]);
            let value = match ty {
                "dropdown" | "radio" => g.rng.pick(opts).copied().unwrap_or("").to_string(),
                "checkbox" => format!(
                    "||{}||{}||",
                    opts.first().copied().unwrap_or("A"),
                    opts.get(2).copied().unwrap_or("B")
                ),
                "date" => fmt_date(g.t()),
                "datetime" => fmt_iso(g.t()),
                "textarea" => format!("Met at {} — {}", g.pick(CITIES), g.words(3)),
                "hidden" => format!("REF-{}", g.rng.hex(6)),
                _ => g
                    .pick(&[
                        "Engineer",
                        "Product Manager",
                        "Directeur général",
                        "営業部長",
                        "CTO",
                        "Designer",
                    ])
                    .to_string(),
            };
            json!({"contact": contact, "field": field, "value": value, "cdate": iso(c), "udate": iso(u),
                "created_by": null, "updated_by": null, "links": g.links("fieldValues", &["owner", "field"]), "id": id, "owner": contact})
        }
        "contact_tags" => {
            let ci = 2 * i / 3;
            let nt = g.recs("tags").len().max(1);
            json!({"contact": g.fk("contacts", ci), "tag": g.fk("tags", (ci * 5 + i) % nt), "cdate": iso(c),
                "created_timestamp": naive(c), "updated_timestamp": naive(u), "created_by": null, "updated_by": null,
                "links": g.links("contactTags", &["contact", "tag"]), "id": id})
        }
        "contact_lists" => {
            let contact = g.parent("contacts", i);
            let cid = g.fk("contacts", i);
            let first = contact
                .and_then(|c| c.get("firstName"))
                .cloned()
                .unwrap_or(json!(""));
            let last = contact
                .and_then(|c| c.get("lastName"))
                .cloned()
                .unwrap_or(json!(""));
            let status = g.pick(&["1", "1", "1", "1", "2", "0", "3"]);
            json!({"contact": cid, "list": g.rfk("lists"), "form": null, "seriesid": "0", "sdate": iso(c), "udate": iso(u),
                "status": status, "responder": "1", "sync": "0", "unsubreason": if status == "2" {json!("No longer interested")} else {Value::Null},
                "campaign": null, "message": null, "first_name": first, "last_name": last, "ip4Sub": "0", "sourceid": "1",
                "autosyncLog": null, "ip4_last": "0", "ip4Unsub": "0", "created_timestamp": naive(c), "updated_timestamp": naive(u),
                "created_by": null, "updated_by": null, "unsubscribeAutomation": null,
                "links": g.links("contactLists", &["automation", "list", "contact", "form", "autosyncLog", "campaign", "unsubscribeAutomation", "message"]),
                "id": id, "automation": null})
        }
        "accounts" => {
            json!({"name": COMPANIES[i % COMPANIES.len()], "accountUrl": if i.is_multiple_of(3) {Value::Null} else {json!(format!("https://www.example.com/a{}", g.id))},
            "createdTimestamp": iso(c), "updatedTimestamp": iso(u), "contactCount": g.num(0, 40), "dealCount": g.num(0, 9),
            "owner": "1", "links": g.links("accounts", &["notes", "accountCustomFieldData", "accountContacts"]), "id": id})
        }
        "account_contacts" => {
            let account = g.rfk("accounts");
            json!({"account": account, "contact": g.fk("contacts", i * 7), "jobTitle": g.pick(&["Product Manager", "CEO", "Ingénieure", "Buyer", "部長"]),
                "createdTimestamp": iso(c), "updatedTimestamp": iso(u), "links": g.links("accountContacts", &["account", "contact"]), "id": id})
        }
        "account_custom_fields" | "deal_custom_fields" => custom_fields::field(stream, g, c, u),
        "account_custom_field_values" | "deal_custom_field_values" => {
            custom_fields::value(stream, g, c, u)
        }
        "deal_groups" => {
            let stages: Vec<String> = if !g.fresh {
                (1..=3).map(|k| (3 * i + k).to_string()).collect()
            } else {
                vec![]
            };
            json!({"allgroups": "1", "allusers": "1", "autoassign": "1", "cdate": iso(c), "currency": "usd", "id": id,
                "links": g.links("dealGroups", &["stages", "dealGroupGroups", "dealGroupUsers"]), "stages": stages,
                "title": (["Pipeline A", "Ventes — Europe"].get(i).copied().unwrap_or("Pipeline")), "udate": iso(u)})
        }
        "deal_stages" => {
            json!({"cardRegion1": "title", "cardRegion2": "next-action", "cardRegion3": "show-avatar",
            "cardRegion4": "contact-fullname-orgname", "cardRegion5": "value", "cdate": iso(c),
            "color": (["32B0FC", "FFA500", "5CB85C"][i % 3]), "dealOrder": "next-action DESC", "group": g.fk("deal_groups", i / 3), "id": id,
            "links": g.links("dealStages", &["group"]), "order": ((i % 3) + 1).to_string(),
            "title": (["Initial Contact", "Qualified", "Proposal"][i % 3]), "udate": iso(u), "width": "280"})
        }
        "deal_group_users" => {
            json!({"userid": g.fk("users", i), "groupid": g.fk("deal_groups", i / 2), "notify": "0",
            "links": g.links("dealGroupUsers", &["user", "group"]), "id": id})
        }
        "deals" => {
            let stage = g.rng.next_u64() as usize;
            let stage_id = g.fk("deal_stages", stage);
            let group = g
                .parent("deal_stages", stage)
                .and_then(|s| s.get("group"))
                .cloned()
                .unwrap_or(json!("1"));
            let org = if g.rng.one_in(3) {
                Value::Null
            } else {
                json!(g.rfk("accounts"))
            };
            let winp = g.rng.range(0, 100);
            let mut deal = json!({"owner": g.rfk("users"), "contact": g.rfk("contacts"), "organization": org, "group": group, "stage": stage_id,
                "title": g.words(2), "description": format!("{} deal.", g.words(4)), "percent": "0", "cdate": iso(c), "mdate": iso(u),
                "nextdate": if g.rng.one_in(2) {Value::Null} else {iso(g.t())}, "nexttaskid": null, "value": g.num(1000, 5_000_000),
                "currency": if g.rng.one_in(5) {"eur"} else {"usd"}, "winProbability": winp, "winProbabilityMdate": iso(c),
                "status": g.pick(&["0", "0", "0", "1", "2"]), "activitycount": g.num(0, 12), "nextdealid": id,
                "edate": if g.rng.one_in(3) {naive(c)} else {Value::Null},
                "links": g.links("deals", &["account", "contact", "contactDeals", "group", "nextTask", "notes", "organization", "owner", "scoreValues", "stage", "tasks", "dealCustomFieldData"]),
                "id": id, "isDisabled": false, "account": org, "customerAccount": org});
            slip(&mut deal, g.id, 10, DEAL_SLIPS);
            deal
        }
        "contact_deals" => {
            let deal = g.fk("deals", i);
            let contact = g
                .parent("deals", i)
                .and_then(|d| d.get("contact"))
                .cloned()
                .unwrap_or(json!("1"));
            json!({"deal": deal, "contact": contact, "role": "0", "cdate": iso(c), "created_timestamp": naive(c),
                "updated_timestamp": naive(u), "created_by": "1", "updated_by": null,
                "links": g.links("contactDeals", &["deal", "contact", "role"]), "id": id})
        }
        "deal_activities" => {
            let di = g.rng.next_u64() as usize;
            let deal = g.fk("deals", di);
            let stage = g
                .parent("deals", di)
                .and_then(|d| d.get("stage"))
                .cloned()
                .unwrap_or(json!("1"));
            let user = g.rfk("users");
            json!({"d_id": deal, "d_stageid": stage, "userid": user, "cdate": iso(u), "reltype": "", "relid": "0",
                "dataType": g.pick(&["deal", "note", "task"]), "dataId": g.num(1, 50), "dataAction": g.pick(&["add", "update"]),
                "dataOldval": null, "dataNewval": g.words(3), "links": g.links("dealActivities", &["deal", "user"]),
                "id": id, "deal": deal, "user": user})
        }
        "task_types" => {
            json!({"cdate": if i.is_multiple_of(2) {Value::Null} else {iso(c)}, "defduration": "0", "id": id, "links": [],
            "status": "0", "title": (["Call", "Email", "Meeting", "To-do"].get(i).copied().unwrap_or("Follow-up")),
            "udate": if i.is_multiple_of(2) {Value::Null} else {iso(u)}})
        }
        "tasks" => {
            let on_deal = g.rng.one_in(2);
            let relid = if on_deal {
                g.rfk("deals")
            } else {
                g.rfk("contacts")
            };
            let due = g.t();
            json!({"id": id, "duedate": iso(due), "edate": iso(due + 900), "status": g.rng.range(0, 1),
                "title": if g.rng.one_in(3) {Value::Null} else {json!(g.words(2))}, "note": format!("Follow up: {}", g.words(3)),
                "relid": relid, "reltype": if on_deal {"Deal"} else {"Subscriber"}, "dealTasktype": g.rfk("task_types"),
                "cdate": iso(c), "udate": iso(u), "automation": null, "doneAutomation": null, "user": "1", "assignee": g.rfk("users"),
                "owner": {"type": if on_deal {"deal"} else {"contact"}, "id": relid}, "outcomeId": null, "outcomeInfo": null,
                "links": g.links("dealTasks", &["notes", "activities", "deal", "user", "dealTasktype", "taskNotifications", "automation"])})
        }
        "messages" => {
            json!({"userid": "1", "ed_instanceid": "0", "ed_version": "1", "cdate": iso(c), "mdate": iso(u),
            "name": format!("Message {}", g.id), "fromname": "John Doe", "fromemail": "noreply@example.com",
            "reply2": "hello@example.com", "priority": "3", "charset": "utf-8", "encoding": "quoted-printable", "format": "mime",
            "subject": format!("{} — news", g.words(2)), "preheader_text": "", "text": "Hello %FIRSTNAME%,\n\nNews from 東京.",
            "html": "<!DOCTYPE html><html><body><p>Hello %FIRSTNAME%</p></body></html>", "htmlfetch": "", "textfetch": "",
            "hidden": "0", "prev_id": "0", "sourceid": "0", "links": g.links("messages", &["user", "messageLists", "campaignMessage"]),
            "id": id, "user": "1"})
        }
        "campaigns" => {
            let sent = g.rng.one_in(2);
            json!({"type": "single", "userid": "1", "segmentid": "0", "bounceid": "-1", "realcid": "0", "sendid": "0", "threadid": "0",
                "seriesid": "0", "formid": "0", "basetemplateid": "0", "basemessageid": "0", "addressid": "0", "source": "web",
                "name": format!("Campaign {id}: {}", g.words(2)), "cdate": iso(c), "mdate": iso(u),
                "sdate": if sent {iso(c)} else {Value::Null}, "ldate": if sent {iso(u)} else {Value::Null},
                "send_amt": g.num(0, 5000), "total_amt": g.num(0, 5000), "opens": g.num(0, 3000), "uniqueopens": g.num(0, 2000),
                "linkclicks": g.num(0, 900), "uniquelinkclicks": g.num(0, 500), "subscriberclicks": "0", "forwards": "0",
                "uniqueforwards": "0", "hardbounces": g.num(0, 10), "softbounces": g.num(0, 20), "unsubscribes": g.num(0, 30),
                "unsubreasons": "0", "updates": "0", "socialshares": "0", "replies": "0", "uniquereplies": "0",
                "status": if sent {"5"} else {"0"}, "public": "1", "mail_transfer": "0", "mail_send": "0", "mail_cleanup": "0",
                "mailer_log_file": "0", "tracklinks": "all", "tracklinksanalytics": "0", "trackreads": "1", "trackreadsanalytics": "0",
                "analytics_campaign_name": "", "tweet": "0", "facebook": "0", "survey": "", "embed_images": "0", "htmlunsub": "1",
                "textunsub": "1", "htmlunsubdata": null, "textunsubdata": null, "recurring": "", "willrecur": "0", "split_type": "even",
                "split_content": "0", "split_offset": "0", "split_offset_type": "day", "split_winner_messageid": "0",
                "split_winner_awaiting": "0", "responder_offset": "0", "responder_type": "subscribe", "responder_existing": "0",
                "reminder_field": "sdate", "reminder_format": null, "reminder_type": "month_day", "reminder_offset": "0",
                "reminder_offset_type": "day", "reminder_offset_sign": "+", "reminder_last_cron_run": null, "activerss_interval": "day1",
                "activerss_url": null, "activerss_items": "10", "ip4": "0", "laststep": "", "managetext": "0", "schedule": "0",
                "scheduleddate": null, "waitpreview": "0", "deletestamp": null, "replysys": "0", "created_timestamp": naive(c),
                "updated_timestamp": naive(u), "created_by": "1", "updated_by": null, "ip": "0", "series_send_lock_time": null,
                "can_skip_approval": "0", "use_quartz_scheduler": "0",
                "links": g.links("campaigns", &["user", "automation", "campaignMessage", "campaignMessages", "links", "aggregateRevenues", "segment", "campaignLists"]),
                "id": id, "user": "1", "automation": null})
        }
        "campaign_lists" => {
            let (cm, l) = (g.fk("campaigns", i), g.rfk("lists"));
            json!({"campaignid": cm, "listid": l, "list_amt": g.num(0, 900), "ldate": null,
                "links": g.links("campaignLists", &["campaign", "list"]), "id": id, "campaign": cm, "list": l})
        }
        "campaign_messages" => {
            let (cm, m) = (g.fk("campaigns", i), g.rfk("messages"));
            json!({"campaignid": cm, "messageid": m, "percentage": "100", "sourcesize": "0", "send_amt": g.num(0, 900),
                "spamcheck_score": null, "spamcheck_max": null, "links": g.links("campaignMessages", &["campaign", "message"]),
                "id": id, "campaign": cm, "message": m})
        }
        "campaign_links" => {
            let (cm, m) = (g.rfk("campaigns"), g.rfk("messages"));
            json!({"campaignid": cm, "messageid": m, "link": format!("https://www.example.com/landing/{}", g.id),
                "name": format!("Link {}", g.words(1)), "ref": "", "tracked": "1", "created_timestamp": naive(c),
                "updated_timestamp": naive(u), "created_by": null, "updated_by": null,
                "links": g.links("links", &["campaign", "message"]), "id": id, "campaign": cm, "message": m})
        }
        "automations" => {
            json!({"name": (["Email Subscription", "Welcome Series", "Abandoned Cart", "Re-engagement", "Webinar 東京", "Onboarding"].get(i).copied().unwrap_or("Automation")),
            "cdate": iso(c), "mdate": iso(u), "userid": "1", "status": g.pick(&["1", "2"]), "entered": g.num(0, 900),
            "exited": g.num(0, 400), "hidden": "0", "defaultscreenshot": "http://img-us1.com/default-series.gif",
            "screenshot": format!("https://example.com/screenshots/{}.png", g.id),
            "links": g.links("automations", &["campaigns", "contactGoals", "contactAutomations", "blocks", "goals", "sms", "sitemessages"]),
            "id": id})
        }
        "automation_blocks" => {
            let a = g.fk("automations", i / 4);
            json!({"seriesid": a, "parent": "0", "type": (["start", "send", "wait", "if"][i % 4]), "params": "",
                "ordernum": ((i % 4) + 1).to_string(), "cdate": iso(c), "mdate": iso(u),
                "links": g.links("automationBlocks", &["automation"]), "id": id, "automation": a})
        }
        "contact_automations" => {
            let a = g.rfk("automations");
            let done = g.rng.one_in(2);
            json!({"contact": g.rfk("contacts"), "seriesid": a, "startid": "0", "status": if done {"2"} else {"1"}, "batchid": null,
                "adddate": iso(c), "remdate": if done {iso(u)} else {Value::Null}, "timespan": "0", "lastblock": g.num(1, 6),
                "lastlogid": g.num(0, 9999), "lastdate": iso(u), "in_als": "0", "completedElements": if done {"4"} else {"1"},
                "totalElements": "4", "completed": if done {1} else {0}, "completeValue": if done {100} else {25},
                "links": g.links("contactAutomations", &["automation", "contact", "contactGoals", "automationLogs"]),
                "id": id, "automation": a})
        }
        "goals" => {
            let a = g.fk("automations", i);
            json!({"title": format!("Goal {}", g.words(1)), "seriesid": a, "automation": a, "cdate": iso(c),
                "links": g.links("goals", &["automation"]), "id": id})
        }
        "activities" => {
            let contact = g.rfk("contacts");
            let (rt, action) = [
                ("Open", "open"),
                ("Click", "click"),
                ("Subscription", "subscribe"),
                ("Forward", "forward"),
            ][(g.rng.next_u64() % 4) as usize];
            json!({"subscriberid": contact, "userid": "0", "d_id": "0", "account": "0", "reference_type": rt,
                "reference_id": g.rfk("campaigns"), "reference2_type": "", "reference2_id": "0", "reference_action": action,
                "reference_modelname": "Campaign", "link": if rt == "Click" {json!(format!("https://www.example.com/p/{}", g.id))} else {Value::Null},
                "tstamp": iso(u), "links": g.links("activities", &["contact", "user", "deal", "reference"]),
                "id": id, "contact": contact, "user": "0", "deal": "0"})
        }
        "email_activities" => {
            let contact = g.rfk("contacts");
            let user = g.rfk("users");
            json!({"subscriberid": contact, "userid": user, "d_id": "0", "account": null, "reltype": "log", "relid": g.num(1, 9999),
                "from_name": "John Doe", "fromAddress": "john@example.com", "toAddress": format!("contact{contact}@example.com"),
                "ccAddress": "", "subject": format!("Re: {}", g.words(2)), "message": "Thanks — talk soon.", "message_type": "text",
                "series_id": "0", "tstamp": iso(u), "links": g.links("emailActivities", &["contact", "user", "deal"]),
                "id": id, "contact": contact, "user": user, "deal": "0"})
        }
        "contact_emails" => {
            let contact = g.rfk("contacts");
            json!({"contact": contact, "campaign": g.rfk("campaigns"), "message": g.rfk("messages"), "sdate": iso(u),
                "subject": format!("{} — weekly", g.words(2)), "opened": g.num(0, 3), "clicked": g.num(0, 2),
                "links": g.links("contactEmails", &["contact", "campaign", "message"]), "id": id})
        }
        "bounce_logs" => {
            let contact = g.rfk("contacts");
            json!({"email": format!("bounce{}@example.net", g.id), "subscriberid": contact, "campaignid": g.rfk("campaigns"),
                "messageid": g.rfk("messages"), "bounceid": "1", "tstamp": iso(c), "code": "5.1.1",
                "error": "550 5.1.1 The email account that you tried to reach does not exist", "source": "smtp",
                "created_timestamp": naive(c), "updated_timestamp": naive(u), "created_by": null, "updated_by": null,
                "links": g.links("bounceLogs", &["contact", "bounce"]), "id": id, "contact": contact})
        }
        "ecommerce_connections" => json!({"service": if i == 0 {"shopify"} else {"woocommerce"},
            "externalid": format!("store{}.example.com", g.id), "name": if i == 0 {"Foo, Inc."} else {"Bäckerei Ångström"},
            "isInternal": "0", "status": "1", "syncStatus": "0", "lastSync": iso(u), "logoUrl": "", "linkUrl": "", "listId": "0",
            "cdate": iso(c), "udate": iso(u), "links": g.links("connections", &["options", "customers"]), "id": id}),
        "ecommerce_customers" => {
            let conn = g.rfk("ecommerce_connections");
            let orders = g.rng.range(0, 6);
            json!({"connectionid": conn, "externalid": g.num(10000, 99999), "email": format!("buyer{}@example.com", g.id),
                "totalRevenue": g.num(0, 90000), "totalOrders": orders.to_string(), "totalProducts": (orders * 2).to_string(),
                "avgRevenuePerOrder": g.num(0, 9000), "avgProductCategory": g.pick(&["Electronics", "Books", "Café supplies"]),
                "tstamp": iso(u), "links": g.links("ecomCustomers", &["connection", "orders"]), "id": id, "connection": conn})
        }
        "ecommerce_orders" => {
            let conn = g.rfk("ecommerce_connections");
            let cust = g.rfk("ecommerce_customers");
            let products: Vec<String> = if !g.fresh {
                vec![(2 * i + 1).to_string(), (2 * i + 2).to_string()]
            } else {
                vec![]
            };
            let (ship, tax, disc) = (
                g.rng.range(0, 1500),
                g.rng.range(0, 900),
                g.rng.range(0, 500),
            );
            let total = g.rng.range(1000, 50000) + ship + tax - disc;
            let created = g.before(c);
            json!({"externalid": g.num(1_000_000_000, 9_999_999_999), "source": "1", "email": format!("buyer{}@example.com", g.id),
                "currency": "USD", "connectionid": conn, "customerid": cust, "orderUrl": format!("https://example.com/orders/{}", g.id),
                "shippingMethod": g.pick(&["UPS Ground", "FedEx", "Yamato 宅急便"]), "totalPrice": total, "shippingAmount": ship,
                "taxAmount": tax, "discountAmount": disc, "externalCreatedDate": iso(created), "totalProducts": products.len(),
                "createdDate": iso(c), "updatedDate": iso(u), "state": g.rng.range(0, 4), "connection": conn, "orderProducts": products,
                "customer": cust, "orderDate": iso(created), "tstamp": iso(u),
                "links": g.links("ecomOrders", &["connection", "customer", "orderProducts", "orderDiscounts", "orderActivities"]), "id": id})
        }
        "ecommerce_order_products" => {
            let order = g.fk("ecommerce_orders", i / 2);
            let (sku, name, cat) = [
                ("SKATE-8", "My Cool Skateboard", "skateboards"),
                ("MUG-1", "Café Mug ☕", "kitchen"),
                ("TEE-M", "東京 T-shirt", "apparel"),
                ("BOOK-7", "Rust in Action", "books"),
            ][(g.rng.next_u64() % 4) as usize];
            json!({"orderid": order, "connectionid": g.rfk("ecommerce_connections"), "externalid": g.num(1_000_000_000, 9_999_999_999),
                "sku": sku, "name": name, "description": format!("{name} — {}", g.words(2)), "price": g.num(500, 9000),
                "quantity": g.num(1, 3), "category": cat, "imageUrl": format!("https://example.com/img/{sku}.png"),
                "productUrl": format!("https://example.com/p/{sku}"), "createdDate": iso(c), "updatedDate": iso(u), "tstamp": iso(u),
                "links": g.links("ecomOrderProducts", &["ecomOrder"]), "id": id, "ecomOrder": order})
        }
        "ecommerce_order_activities" => {
            let order = g.rfk("ecommerce_orders");
            json!({"ecomOrderid": order, "connectionid": g.rfk("ecommerce_connections"),
                "activityType": g.pick(&["order_created", "order_updated", "order_shipped"]), "activityData": null,
                "activityDate": iso(c), "createdDate": iso(c), "updatedDate": iso(u),
                "links": g.links("ecomOrderActivities", &["ecomOrder"]), "id": id, "ecomOrder": order})
        }
        "forms" => {
            json!({"name": (["Newsletter signup", "Contact us", "Anmeldung — Café"].get(i).copied().unwrap_or("Form")), "action": "",
            "actiondata": {"actions": [{"type": "subscribe-to-list", "email": "", "list": g.rfk("lists")}]}, "layout": "inline-form",
            "button": "Submit", "style": {"background": "FFFFFF", "dark": true, "fontcolor": "000000", "layout": "normal", "border": {"width": 0, "style": "solid", "color": "B0B0B0", "radius": 0}, "width": 500, "ac_branding": true},
            "options": {"blanks_overwrite": true, "confaction": "show-message", "sendoptin": true, "optin_id": 1, "confform": "2"},
            "cfields": [{"type": "email", "header": "Email", "required": true}], "parentformid": "0", "userid": "1",
            "addressid": "0", "cdate": iso(c), "udate": iso(u), "entries": g.num(0, 500), "aid": "0", "recent": [], "contacts": g.rng.range(0, 500),
            "deals": g.rng.range(0, 20), "links": g.links("forms", &["address"]), "id": id, "address": null})
        }
        "segments" => {
            json!({"id": id, "name": format!("Segment of Automation {}", g.id), "logic": if i.is_multiple_of(2) {"and"} else {"or"},
            "hidden": "0", "seriesid": g.fk("automations", i), "created_timestamp": naive(c), "updated_timestamp": naive(u),
            "created_by": null, "updated_by": null, "links": []})
        }
        "scores" => {
            json!({"reltype": if i == 1 {"deal"} else {"contact"}, "name": (["Link Engagement Score", "Deal Health", "Lead Score"].get(i).copied().unwrap_or("Score")),
            "descript": "+50 points when user clicks any link sent", "status": "1", "cdate": iso(c), "mdate": iso(u), "links": [], "id": id})
        }
        "saved_responses" => {
            json!({"title": format!("Response {}", g.id), "subject": format!("Re: {}", g.words(2)),
            "body": "Thanks for reaching out — we'll get back to you.", "ldate": if g.rng.one_in(2) {Value::Null} else {iso(c)},
            "last_sent_user_id": null, "cdate": iso(c), "mdate": iso(u), "links": g.links("savedResponses", &["user"]), "id": id})
        }
        "templates" => {
            json!({"userid": "1", "ed_instanceid": "0", "ed_version": "0", "name": format!("Template {}", g.words(1)),
            "subject": null, "content": "<p>Template body</p>", "categoryid": "1", "used": g.num(0, 9), "waitpreview": "1",
            "importnum": "0", "mdate": naive(u), "preview_content": null, "modified": "1", "hidden": "0", "screenshot": null,
            "links": [], "id": id})
        }
        "calendars" => {
            json!({"userid": "1", "title": format!("Calendar {}", g.words(1)), "type": "All", "token": g.rng.hex(32),
            "notification": "0", "cdate": iso(c), "mdate": iso(u), "links": g.links("calendars", &["calendarRels", "calendarUsers"]), "id": id})
        }
        "webhooks" => {
            json!({"cdate": format!("{}-00:00", &fmt_naive_utc(c).replace(' ', "T")), "listid": "0",
            "name": format!("My Hook {}", g.id), "url": format!("http://example.com/my-hook/{}", g.id),
            "events": ["subscribe", "unsubscribe", "sent"], "sources": ["public", "system"], "links": [], "id": id})
        }
        "configs" => {
            json!({"userid": "1", "section": (["contacts.index", "deals.index", "campaigns.index", "app"][i % 4]),
            "item": (["columns", "filters", "sort", "theme"][i % 4]), "val": format!("v{}", g.num(1, 99)), "created_timestamp": naive(c),
            "updated_timestamp": naive(u), "links": g.links("configs", &["user"]), "id": id})
        }
        "conversions" => {
            json!({"name": format!("Conversion {}", g.words(1)), "status": "1", "cdate": iso(c), "udate": iso(u),
            "links": g.links("conversions", &["conversionTriggers"]), "id": id})
        }
        "conversion_triggers" => {
            json!({"conversion": g.rfk("conversions"), "type": g.pick(&["tag", "page_visit", "event"]),
            "param": g.words(1), "cdate": iso(c), "udate": iso(u), "links": g.links("conversionTriggers", &["conversion"]), "id": id})
        }
        "contact_conversions" => {
            json!({"contact": g.rfk("contacts"), "conversion": g.rfk("conversions"), "value": g.num(0, 100),
            "cdate": iso(u), "links": g.links("contactConversions", &["contact", "conversion"]), "id": id})
        }
        "contact_data" => {
            json!({"contact": g.rfk("contacts"), "tstamp": iso(u), "geoTstamp": iso(c), "geoIp4": format!("203.0.113.{}", g.num(1, 254)),
            "geoCountry2": "US", "geoCountry": "United States", "geoState": "IL", "geoCity": g.pick(CITIES), "geoZip": g.num(10000, 99999),
            "geoArea": "0", "geoLat": "41.878", "geoLon": "-87.629", "geoTz": "America/Chicago", "geoTzOffset": "-05:00",
            "ga_campaign_source": "", "ga_campaign_name": "", "ga_campaign_medium": "", "ga_campaign_term": "",
            "ga_campaign_content": "", "ga_campaign_customsegment": "", "ga_first_visit": null, "ga_times_visited": "0",
            "fb_id": "", "fb_name": "", "tw_id": "", "links": g.links("contactData", &["contact"]), "id": id})
        }
        "site_messages" => {
            json!({"name": format!("Site message {}", g.id), "status": "1", "content": format!("<p>{}</p>", g.words(3)),
            "contentType": "html", "cdate": iso(c), "ldate": iso(u), "links": g.links("siteMessages", &["automation"]), "id": id})
        }
        "sms" => {
            json!({"contact": g.rfk("contacts"), "automation": g.rfk("automations"), "phone": format!("+1312555{:04}", g.rng.range(0, 9999)),
            "text": format!("Hi! {}", g.words(2)), "status": g.pick(&["sent", "delivered", "failed"]), "tstamp": iso(u),
            "links": g.links("sms", &["contact", "automation"]), "id": id})
        }
        _ => json!({"id": id, "links": {}}),
    }
}

fn contact(g: &mut G<'_>, id: String, c: i64, u: i64) -> Value {
    let (first, fa) = g.rng.pick(FIRST).copied().unwrap_or(("Adam", "adam"));
    let (last, la) = g.rng.pick(LAST).copied().unwrap_or(("Smith", "smith"));
    let domain = g.pick(DOMAINS);
    let email = format!("{fa}.{la}{}@{domain}", g.id);
    let zero = g.rng.one_in(7);
    let bounced = !zero && g.rng.one_in(10);
    let org = if g.rng.one_in(4) {
        json!(g.rfk("accounts"))
    } else {
        Value::Null
    };
    let orgname = if org.is_null() { "" } else { g.pick(COMPANIES) };
    let opened = g.rng.one_in(2);
    let links = g.links(
        "contacts",
        &[
            "bounceLogs",
            "contactAutomations",
            "contactData",
            "contactGoals",
            "contactLists",
            "contactLogs",
            "contactTags",
            "contactDeals",
            "deals",
            "fieldValues",
            "geoIps",
            "notes",
            "organization",
            "plusAppend",
            "trackingLogs",
            "scoreValues",
            "accountContacts",
            "automationEntryCounts",
        ],
    );
    let mut v = json!({
        "cdate": iso(c), "email": email, "phone": if g.rng.one_in(3) { String::new() } else { format!("+1-312-555-{:04}", g.rng.range(0, 9999)) },
        "firstName": first, "lastName": last, "orgid": org.as_str().unwrap_or("0"), "orgname": orgname, "segmentio_id": "",
        "bounced_hard": if bounced {"1"} else {"0"}, "bounced_soft": "0",
        "bounced_date": if zero { json!("0000-00-00") } else if bounced { json!(fmt_date(u)) } else { Value::Null },
        "ip": if g.rng.one_in(2) { "0".to_string() } else { format!("203.0.113.{}", g.rng.range(1, 254)) }, "ua": "",
        "hash": g.rng.hex(32),
        "socialdata_lastcheck": if zero { json!("0000-00-00 00:00:00") } else { Value::Null },
        "email_local": "", "email_domain": "", "sentcnt": g.num(0, 60),
        "rating_tstamp": if zero { json!("0000-00-00") } else { json!(fmt_date(c)) },
        "gravatar": g.pick(&["0", "1"]), "deleted": "0", "anonymized": "0",
        "adate": if opened { iso(g.before(u)) } else { Value::Null }, "udate": iso(u),
        "edate": if opened { iso(g.before(u)) } else { Value::Null },
        "deleted_at": if zero { json!("0000-00-00 00:00:00") } else { Value::Null },
        "created_utc_timestamp": fmt_naive_utc(c), "updated_utc_timestamp": fmt_naive_utc(u),
        "created_timestamp": naive(c), "updated_timestamp": naive(u),
        "created_by": if g.rng.one_in(2) { Value::Null } else { json!("1") }, "updated_by": null,
        "email_empty": false, "mpp_tracking": "0",
        "last_click_date": if opened && g.rng.one_in(2) { iso(g.before(u)) } else { Value::Null },
        "last_open_date": if opened { iso(g.before(u)) } else { Value::Null },
        "last_mpp_open_date": null, "best_send_hour": null,
        "scoreValues": [], "links": links, "id": id, "organization": org,
    });
    slip(&mut v, g.id, 50, CONTACT_SLIPS);
    v
}

/// Values the real API lets through where a number or a date belongs (it is PHP): every 50 ids,
/// at these offsets, the field gets this value. The connector must send each out null in its
/// column and whole in `_ac_originals`.
pub const CONTACT_SLIPS: &[(u64, &str, &str)] = &[
    (7, "sentcnt", ""),
    (19, "sentcnt", "0.5"),
    (31, "rating_tstamp", "2023-02-30"),
    (43, "created_timestamp", "2023-13-01 10:00:00"),
];
/// The same for deals, every 10 ids.
pub const DEAL_SLIPS: &[(u64, &str, &str)] = &[(3, "value", "12.5.0"), (8, "value", "")];

/// Applies the slip of `slips` whose offset is `id` modulo `every`.
fn slip(record: &mut Value, id: u64, every: u64, slips: &[(u64, &str, &str)]) {
    for (at, field, value) in slips {
        if id % every == *at {
            record[*field] = json!(value);
        }
    }
}

/// A custom object schema definition: (slug, singular, plural, description, fields as (id, label, type)).
pub type SchemaDef = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str, &'static str)],
);

/// The custom object schemas every dataset has.
pub const SCHEMA_DEFS: &[SchemaDef] = &[
    (
        "subscription",
        "Subscription",
        "Subscriptions",
        "A contact's product subscription",
        &[
            ("plan", "Plan", "text"),
            ("seats", "Seats", "number"),
            ("monthly-amount", "Monthly Amount", "number"),
            ("renewal-date", "Renewal Date", "date"),
        ],
    ),
    (
        "support-ticket",
        "Support Ticket",
        "Support Tickets",
        "Tickets from the help desk",
        &[
            ("subject", "Subject", "text"),
            ("priority", "Priority", "number"),
            ("opened-on", "Opened On", "date"),
        ],
    ),
];

/// The schema record for schema number `i` (0-based).
pub fn schema(seed: u64, i: usize) -> Value {
    let (slug, sing, plural, desc, fields) = SCHEMA_DEFS[i % SCHEMA_DEFS.len()];
    let mut rng = Rng::new(combine(seed, hash_str(&format!("schema:{slug}"))));
    let id = rng.uuid();
    let t = rng.range(GEN_START, GEN_START + 86_400 * 30);
    let ts = crate::time::fmt_rfc3339_nanos(t, rng.below(1_000_000_000) as u32);
    let fields: Vec<Value> = fields
        .iter()
        .map(|(fid, label, ty)| {
            let mut f = json!({"id": fid, "labels": {"singular": label, "plural": if label.ends_with('s') { label.to_string() } else { format!("{label}s") }}, "type": ty, "required": *fid == "plan" || *fid == "subject"});
            if *ty == "number" {
                f["scale"] = json!(if *fid == "monthly-amount" { 2 } else { 0 });
            }
            f
        })
        .collect();
    json!({"id": id, "slug": slug, "visibility": "private", "labels": {"singular": sing, "plural": plural},
        "description": desc, "createdTimestamp": ts, "updatedTimestamp": ts, "fields": fields,
        "icons": {"default": "https://example.com/icons/custom-object.png"},
        "relationships": [{"id": "primary-contact", "labels": {"singular": "Primary Contact", "plural": "Primary Contacts"},
            "description": format!("Primary contact of this {}", sing.to_lowercase()), "namespace": "contacts", "hasMany": false}]})
}

/// One custom object record of `schema` (its schema record), numbered `n` within the schema.
pub fn custom_record(g: &mut G<'_>, schema: &Value, n: u64) -> Value {
    let slug = schema
        .get("slug")
        .and_then(|s| s.as_str())
        .unwrap_or("object");
    let schema_id = schema.get("id").cloned().unwrap_or(Value::Null);
    let u = g.t();
    let c = g.before(u);
    let uuid = g.rng.uuid();
    let mut fields = Vec::new();
    if let Some(defs) = schema.get("fields").and_then(|f| f.as_array()) {
        for f in defs {
            let fid = f.get("id").and_then(|v| v.as_str()).unwrap_or("");
            let value = match (
                f.get("type").and_then(|v| v.as_str()),
                f.get("scale").and_then(|v| v.as_i64()),
            ) {
                (Some("number"), Some(2)) => json!(g.rng.range(900, 49_900) as f64 / 100.0),
                (Some("number"), _) => json!(g.rng.range(1, 50)),
                (Some("date"), _) => json!(fmt_date(g.t())),
                _ => json!(match fid {
                    "plan" => g
                        .pick(&["Starter", "Pro", "Enterprise", "Équipe"])
                        .to_string(),
                    _ => format!(
                        "{} — {}",
                        g.words(2),
                        g.pick(&["login issue", "billing", "請求書"])
                    ),
                }),
            };
            fields.push(json!({"id": fid, "value": value}));
        }
    }
    let contact = g.rfk("contacts");
    let (cn, un) = (
        g.rng.below(1_000_000_000) as u32,
        g.rng.below(1_000_000_000) as u32,
    );
    json!({"id": uuid, "externalId": format!("{slug}-{n:06}"), "schemaId": schema_id, "fields": fields,
        "relationships": {"primary-contact": [contact]},
        "createdTimestamp": crate::time::fmt_rfc3339_nanos(c, cn), "updatedTimestamp": crate::time::fmt_rfc3339_nanos(u, un)})
}
