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
