//! The custom field columns of a contacts page (the pivot itself is `api::custom_fields`): the
//! fields the read's catalog declares, from the field values the page carries.

use crate::api::custom_fields::PageColumns;
use crate::documents::config::Config;
use crate::http::response::Record;

/// The list key of the field values on a contacts page (`include=fieldValues`).
pub(super) const FIELD_VALUES: &str = "fieldValues";

/// The columns for `stream`'s records on a page of `lists`: only contacts, and only when the
/// catalog declares custom field columns.
pub(super) fn page_columns<'a>(
    config: &'a Config,
    stream: &str,
    lists: &'a [(String, Vec<Record>)],
) -> Option<PageColumns<'a>> {
    if stream != "contacts" || config.contact_columns.is_empty() {
        return None;
    }
    let values = lists
        .iter()
        .filter(|(k, _)| k == FIELD_VALUES)
        .flat_map(|(_, recs)| recs.iter().map(|r| r.get()));
    Some(PageColumns::new(&config.contact_columns, values))
}
