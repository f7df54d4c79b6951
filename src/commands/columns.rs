//! Custom field columns at the command level: discovery declares them on the contacts stream
//! (from the account's `/fields`, one request per 100 fields, at discover time only), and a read
//! takes the ones its configured catalog declares (no request).

use crate::api::custom_fields::{
    columns_stream, contact_columns, declared_fields, declared_object_fields, with_columns, Choice,
};
use crate::api::schemas::schema_for;
use crate::documents::config::Config;
use crate::engine::Client;
use crate::http::response::{parse_page, BadPage};
use serde_json::Value;

/// The contacts schema with a column per custom field the config chooses, for the discovered
/// catalog; none when there are none or `/fields` cannot be read (the contacts stream is then
/// declared as it is: discovery does not fail for a feature).
pub(crate) fn discovered(client: &mut Client, config: &Config) -> Option<(String, Value)> {
    if config.custom_field_columns == Choice::Nothing {
        return None;
    }
    let mut fields: Vec<Value> = Vec::new();
    let mut offset = 0u64;
    loop {
        let resp = client
            .get(&format!("fields?limit=100&offset={offset}"))
            .ok()?;
        let page = match parse_page(&resp.body, "fields", &[]) {
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
    let columns = contact_columns(&fields, &config.custom_field_columns);
    let stream = columns_stream();
    (!columns.is_empty()).then(|| {
        (
            stream.to_string(),
            with_columns(schema_for(stream), &columns),
        )
    })
}

/// The contacts schema of a configured catalog (Airbyte's `json_schema`) when it declares
/// custom field columns: what a read fills.
pub(crate) fn configured(catalog: Option<&str>) -> Option<Value> {
    let c: Value = serde_json::from_str(catalog?).ok()?;
    let schema = c["streams"]
        .as_array()?
        .iter()
        .find(|s| s["stream"]["name"] == columns_stream())
        .map(|s| s["stream"]["json_schema"].clone())?;
    (!declared_fields(&schema).is_empty()).then_some(schema)
}

/// The custom object streams of a configured catalog that declare field columns, with their
/// schemas: their records fill them from their own `fields` lists.
pub(crate) fn configured_objects(catalog: Option<&str>) -> Vec<(String, Value)> {
    let Some(c) = catalog.and_then(|t| serde_json::from_str::<Value>(t).ok()) else {
        return Vec::new();
    };
    c["streams"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| {
            let name = s["stream"]["name"].as_str()?;
            let schema = &s["stream"]["json_schema"];
            (crate::api::streams::is_custom_object_stream(name)
                && !declared_object_fields(schema).is_empty())
            .then(|| (name.to_string(), schema.clone()))
        })
        .collect()
}

#[cfg(test)]
#[path = "columns_tests.rs"]
mod tests;
