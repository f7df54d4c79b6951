use super::*;
use serde_json::value::RawValue;

fn config(columns: &[(&str, &[&str])]) -> Config {
    let mut c = crate::test_support::config(5.0);
    c.field_columns = columns
        .iter()
        .map(|(s, f)| (s.to_string(), f.iter().map(|x| x.to_string()).collect()))
        .collect();
    c
}

fn records(texts: &[&str]) -> Vec<Record> {
    texts
        .iter()
        .filter_map(|t| RawValue::from_string(t.to_string()).ok())
        .collect()
}

#[test]
fn each_owner_takes_its_own_declared_fields() {
    let c = config(&[
        ("contacts", &["1"]),
        ("deals", &["2", "3"]),
        ("accounts", &[]),
    ]);
    assert_eq!(
        declared(&c, "deals").map(|(o, f)| (o.stream, f.len())),
        Some(("deals", 2))
    );
    assert_eq!(
        declared(&c, "contacts").map(|(_, f)| f.to_vec()),
        Some(vec!["1".to_string()])
    );
    assert!(
        declared(&c, "accounts").is_none(),
        "no fields declared: no columns"
    );
    assert!(declared(&c, "tags").is_none());
    let includes: Vec<&str> = value_sideloads(&c).iter().map(|s| s.include).collect();
    assert_eq!(includes, ["fieldValues", "dealCustomFieldData"]);
}

#[test]
fn a_page_without_the_values_is_joined_and_one_with_them_is_not() {
    let c = config(&[("deals", &["1"])]);
    let deals = records(&[r#"{"id":"1"}"#]);
    let without = vec![("deals".to_string(), deals.clone())];
    assert_eq!(
        lacks_values(&c, "deals", &without).map(|o| o.stream),
        Some("deals")
    );
    assert!(matches!(
        page_values(&c, "deals", &without),
        Some(Values::Join(_))
    ));
    let with = vec![
        (
            "dealCustomFieldData".to_string(),
            records(&[
                r#"{"dealId":1,"customFieldId":1,"fieldValue":"x"}"#,
                r#"{"customFieldId":1}"#,
            ]),
        ),
        ("deals".to_string(), deals),
    ];
    assert!(lacks_values(&c, "deals", &with).is_none());
    let values = page_values(&c, "deals", &with);
    let own = table(&values, &[]).expect("the page's own values");
    assert_eq!((own.values, own.unreadable), (1, 1));
    assert!(own
        .apply(r#"{"id":"1"}"#.into(), "1")
        .contains(r#""custom_field_1":"x""#));
    assert!(
        table(&page_values(&c, "deals", &without), &[]).is_none(),
        "no join read yet"
    );
    assert!(page_values(&c, "tags", &with).is_none());
    assert_eq!(
        unreadable("deals", 1),
        "deals: 1 custom field values on a page name no record or field id the connector knows; their columns are null (the key/value stream keeps them whole)"
    );
}

/// A join of deals' field 1 over a values list that `change` may alter after each answer
/// (given the offset answered); its result, and the pages the list answered.
fn join_over(
    values: usize,
    max_values: usize,
    change: impl FnMut(u64, &mut Vec<serde_json::Value>) + 'static,
) -> Result<(ValueTable, u64), Failure> {
    join_counted(values, max_values, change).0
}

fn join_counted(
    values: usize,
    max_values: usize,
    mut change: impl FnMut(u64, &mut Vec<serde_json::Value>) + 'static,
) -> (Result<(ValueTable, u64), Failure>, u64) {
    use crate::test_support::{ok, query, Fake};
    let mut list: Vec<serde_json::Value> = (1..=values)
        .map(|i| serde_json::json!({"id": i.to_string(), "dealId": i, "customFieldId": 1, "fieldValue": format!("v{i}")}))
        .collect();
    let answered = std::rc::Rc::new(std::cell::Cell::new(0u64));
    let counter = answered.clone();
    let mut fake = Fake::new(1_000_000, move |path: &str| {
        counter.set(counter.get() + 1);
        let offset: u64 = query(path, "offset")
            .and_then(|o| o.parse().ok())
            .unwrap_or(0);
        let page: Vec<serde_json::Value> = list
            .iter()
            .skip(offset as usize)
            .take(100)
            .cloned()
            .collect();
        change(offset, &mut list);
        ok(serde_json::json!({"dealCustomFieldData": page, "meta": {"total": list.len()}}))
    });
    let c = config(&[("deals", &["1"])]);
    let mut client = Client::new(&mut fake, &c);
    let owner = owner_of("deals").expect("deals");
    let result = join(&mut client, &c, owner, max_values);
    (result, answered.get())
}

#[test]
fn a_join_reads_overlapping_pages_to_a_short_one() {
    let (t, requests) = join_over(250, 1000, |_, _| {}).expect("joined");
    assert_eq!((t.values, requests), (250, 3), "offsets 0, 99, 198");
    let (t, requests) = join_over(100, 1000, |_, _| {}).expect("joined");
    assert_eq!(
        (t.values, requests),
        (100, 2),
        "a full page asks for the next"
    );
}

#[test]
fn a_list_that_lost_its_tail_ends_on_an_empty_page() {
    // The last value goes after the first page: the page at offset 99 comes back empty.
    let (t, requests) = join_over(100, 1000, |offset, list| {
        if offset == 0 {
            list.truncate(99);
        }
    })
    .expect("joined");
    assert_eq!(
        (t.values, requests),
        (100, 2),
        "no read again for an empty page"
    );
}

#[test]
fn a_list_that_shifts_under_every_read_fails_after_four() {
    let (result, answered) = join_counted(250, 1000, |offset, list| {
        if offset == 0 {
            list.remove(0);
        }
    });
    let err = result.expect_err("fails");
    assert_eq!(answered, 8, "four reads of two pages each");
    assert_eq!(err.kind, FailureType::Transient);
    assert!(
        err.message.contains("shifted under every one of 4 reads"),
        "{}",
        err.message
    );
}

#[test]
fn a_join_over_its_bound_is_refused_with_the_remedy() {
    assert!(
        join_over(150, 150, |_, _| {}).is_ok(),
        "at the bound: joined"
    );
    let err = join_over(151, 150, |_, _| {}).expect_err("over the bound");
    assert_eq!(err.kind, FailureType::Config);
    assert!(
        err.message.contains("more than 150 values")
            && err.message.contains("custom_field_columns")
            && err.message.contains("deal_custom_field_values"),
        "{}",
        err.message
    );
}
