//! The custom field columns of a contacts page (the pivot itself is `api::custom_fields`): the
//! fields the read's catalog declares, from the field values the page carries.

use crate::api::custom_fields::{field_values_sideload, PageColumns, FIELD_VALUES};
use crate::api::streams::Sideload;
use crate::documents::config::Config;
use crate::vocab::page::Record;

/// The sideload that carries the field values, when the catalog declares custom field columns:
/// the stream table's row riding on its parent with `include=fieldValues`.
pub(super) fn field_values_for(config: &Config) -> Option<Sideload> {
    if config.contact_columns.is_empty() {
        return None;
    }
    field_values_sideload()
}

/// The columns for `stream`'s records on a page of `lists`: only the field values' parent, and
/// only when the catalog declares custom field columns.
pub(super) fn page_columns<'a>(
    config: &'a Config,
    stream: &str,
    lists: &'a [(String, Vec<Record>)],
) -> Option<PageColumns<'a>> {
    if field_values_for(config).is_none_or(|s| s.parent != stream) {
        return None;
    }
    let values = lists
        .iter()
        .filter(|(k, _)| k == FIELD_VALUES)
        .flat_map(|(_, recs)| recs.iter().map(|r| r.get()));
    Some(PageColumns::new(&config.contact_columns, values))
}
