//! Custom field columns at the command level: discovery declares them on contacts, deals and
//! accounts (from each one's field definitions, one request per 100 fields, at discover time
//! only), and a read takes the ones its configured catalog declares (no request).

use crate::api::custom_fields::{
    columns, declared_fields, declared_object_fields, with_columns, Choice, Owner, OWNERS,
};
use crate::api::schemas::schema_for;
use crate::documents::config::Config;
use crate::engine::Client;
use crate::http::response::{parse_page, BadPage};
use serde_json::Value;

/// Each owner's schema with a column per custom field the config chooses, for the discovered
/// catalog; an owner is left out when it has no fields or they cannot be read (its stream is
/// then declared as it is: discovery does not fail for a feature the plan may lack).
pub(crate) fn discovered(client: &mut Client, config: &Config) -> Vec<(String, Value)> {
    if config.custom_field_columns == Choice::Nothing {
        return Vec::new();
    }
    OWNERS
        .iter()
        .filter_map(|owner| {
            let fields = definitions(client, owner)?;
            let columns = columns(owner, &fields, &config.custom_field_columns);
            (!columns.is_empty()).then(|| {
                (
                    owner.stream.to_string(),
                    with_columns(schema_for(owner.stream), &columns),
                )
            })
        })
        .collect()
}

/// Every field definition of an owner, page by page; `None` when a page cannot be read.
fn definitions(client: &mut Client, owner: &Owner) -> Option<Vec<Value>> {
    let mut fields: Vec<Value> = Vec::new();
    let mut offset = 0u64;
    loop {
        let resp = client
            .get(&format!("{}?limit=100&offset={offset}", owner.fields))
            .ok()?;
        let page = match parse_page(&resp.body, owner.fields, &[]) {
            Ok(p) => p,
            Err(BadPage::Empty(_)) => break,
            Err(_) => return None,
        };
        let n = page.main.len() as u64;
        fields.extend(
            page.main
                .iter()
                .filter_map(|r| serde_json::from_str(r.get()).ok()),
        );
        offset += n;
        if n < 100 || page.total.is_some_and(|t| offset >= t) {
            break;
        }
    }
    Some(fields)
}

/// The streams of a configured catalog that `keep` takes, with their schemas (Airbyte's
/// `json_schema`); only those are copied (a catalog's schemas are large).
fn catalog_schemas(
    catalog: Option<&str>,
    keep: impl Fn(&str, &Value) -> bool,
) -> Vec<(String, Value)> {
    let Some(c) = catalog.and_then(|t| serde_json::from_str::<Value>(t).ok()) else {
        return Vec::new();
    };
    c["streams"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| {
            let (name, schema) = (s["stream"]["name"].as_str()?, &s["stream"]["json_schema"]);
            keep(name, schema).then(|| (name.to_string(), schema.clone()))
        })
        .collect()
}

/// The schemas of a configured catalog's contacts, deals and accounts that declare custom field
/// columns: what a read fills.
pub(crate) fn configured(catalog: Option<&str>) -> Vec<(String, Value)> {
    catalog_schemas(catalog, |name, schema| {
        OWNERS.iter().any(|o| o.stream == name) && !declared_fields(schema).is_empty()
    })
}

/// The custom object streams of a configured catalog that declare field columns, with their
/// schemas: their records fill them from their own `fields` lists.
pub(crate) fn configured_objects(catalog: Option<&str>) -> Vec<(String, Value)> {
    catalog_schemas(catalog, |name, schema| {
        crate::api::streams::is_custom_object_stream(name)
            && !declared_object_fields(schema).is_empty()
    })
}

#[cfg(test)]
#[path = "columns_tests.rs"]
mod tests;
