//! The custom field columns of a page (the pivot itself is `api::field_values`): the fields the
//! read's catalog declares, filled from the values the page carries (`include=`), or, where the
//! API ignored the `include=`, from the values' own list, read once per read and joined.

use super::client::Client;
use crate::api::custom_fields::{owner_of, Owner};
use crate::api::field_values::ValueTable;
use crate::api::streams::Sideload;
use crate::documents::config::Config;
use crate::http::response::{parse_page, BadPage};
use crate::vocab::failure::{Failure, FailureType};
use crate::vocab::page::{record_id, Record};

/// Most values a join holds (about 80 bytes each: 20 MB). A larger account whose API ignores the
/// `include=` is told to take fewer fields rather than have the read's memory grow with it.
pub(crate) const MAX_JOINED_VALUES: usize = 250_000;

/// Page size of the values' own list.
const PAGE: usize = 100;

/// Times a join starts its list over when a page does not continue the one before.
const MAX_RESTARTS: u32 = 3;

/// The declared fields of `stream`'s custom field columns in this read, with their owner.
fn declared<'c>(config: &'c Config, stream: &str) -> Option<(&'static Owner, &'c [String])> {
    let (_, fields) = config
        .field_columns
        .iter()
        .find(|(s, f)| s == stream && !f.is_empty())?;
    Some((owner_of(stream)?, fields))
}

/// The sideloads that carry custom field values: one for each owner whose columns the catalog
/// declares.
pub(super) fn value_sideloads(config: &Config) -> Vec<Sideload> {
    config
        .field_columns
        .iter()
        .filter(|(_, fields)| !fields.is_empty())
        .filter_map(|(s, _)| owner_of(s))
        .map(Owner::sideload)
        .collect()
}

/// Where a page's columns come from.
pub(super) enum Values {
    /// The values the page carries.
    Page(ValueTable),
    /// The page does not carry them (the API ignored the `include=`): the owner's join.
    Join(&'static Owner),
}

/// The values for `stream`'s records on a page of `lists`, when the read fills columns on them.
pub(super) fn page_values(
    config: &Config,
    stream: &str,
    lists: &[(String, Vec<Record>)],
) -> Option<Values> {
    let (owner, fields) = declared(config, stream)?;
    Some(match lists.iter().find(|(k, _)| k == owner.values) {
        Some((_, records)) => {
            let mut table = ValueTable::new(owner, fields);
            for r in records {
                table.add(r.get());
            }
            Values::Page(table)
        }
        None => Values::Join(owner),
    })
}

/// The table a page's records take their columns from: the page's own, or the owner's join.
pub(super) fn table<'a>(
    values: &'a Option<Values>,
    joined: &'a [ValueTable],
) -> Option<&'a ValueTable> {
    match values {
        Some(Values::Page(table)) => Some(table),
        Some(Values::Join(owner)) => joined.iter().find(|j| j.owner() == *owner),
        None => None,
    }
}

/// The warning for a stream whose value records name no owner or field (once a read).
pub(super) fn unreadable(stream: &str, n: usize) -> String {
    format!("{stream}: {n} custom field values on a page name no record or field id the connector knows; their columns are null (the key/value stream keeps them whole)")
}

/// The owner whose declared values a page of `stream`'s records lacks (the API ignored the
/// `include=`), if any.
pub(super) fn lacks_values(
    config: &Config,
    stream: &str,
    lists: &[(String, Vec<Record>)],
) -> Option<&'static Owner> {
    let (owner, _) = declared(config, stream)?;
    (!lists.iter().any(|(k, _)| k == owner.values)).then_some(owner)
}

/// The owner's declared values from their own list (`/dealCustomFieldData`, pages of 100 that
/// overlap by one, so a list that shifts meanwhile is read again rather than skipped), and the
/// requests it took; more than `max_values` values fail it ([`MAX_JOINED_VALUES`] in a read).
pub(super) fn join(
    client: &mut Client,
    config: &Config,
    owner: &'static Owner,
    max_values: usize,
) -> Result<(ValueTable, u64), Failure> {
    let fields = declared(config, owner.stream).map_or(&[][..], |(_, f)| f);
    let fail = |kind, why: String| {
        Failure::new(
            kind,
            format!(
                "{}: the API ignored include={} on its pages, and reading /{} for the custom field columns failed: {why}",
                owner.stream, owner.values, owner.values
            ),
        )
    };
    let mut requests = 0u64;
    let mut restarts = 0u32;
    'list: loop {
        let mut table = ValueTable::new(owner, fields);
        let (mut offset, mut last): (usize, Option<String>) = (0, None);
        loop {
            let path = format!("{}?limit={PAGE}&offset={offset}", owner.values);
            requests += 1;
            let resp = client.get(&path).map_err(|f| fail(f.kind, f.message))?;
            let records = match parse_page(&resp.body, owner.values, &[]) {
                Ok(p) => p.main,
                Err(BadPage::Empty(_)) => Vec::new(),
                Err(bad) => return Err(fail(FailureType::System, bad.to_string())),
            };
            let fresh = match &last {
                None => &records[..],
                Some(id) if records.first().map(|r| record_id(r)).as_ref() == Some(id) => {
                    &records[1..]
                }
                Some(_) if records.is_empty() => &records[..],
                Some(_) => {
                    restarts += 1;
                    if restarts > MAX_RESTARTS {
                        let why = format!("the list shifted under every one of {} reads (records added or deleted meanwhile, or no stable order); try again later", MAX_RESTARTS + 1);
                        return Err(fail(FailureType::Transient, why));
                    }
                    continue 'list;
                }
            };
            for r in fresh {
                table.add(r.get());
            }
            if table.values > max_values {
                return Err(Failure::new(
                    FailureType::Config,
                    format!(
                        "{}: the API ignored include={} on its pages, and joining /{} would hold more than {max_values} values; take fewer custom fields as columns (config custom_field_columns, e.g. \"{}.12,{}.TAG\") or none; the {} key/value stream has every value",
                        owner.stream, owner.values, owner.values, owner.stream, owner.stream,
                        crate::api::streams::fixed_streams()
                            .into_iter()
                            .find(|d| d.path == owner.values)
                            .map_or(owner.values.to_string(), |d| d.name)
                    ),
                ));
            }
            if records.len() < PAGE {
                return Ok((table, requests));
            }
            last = records.last().map(|r| record_id(r));
            offset += PAGE - 1;
        }
    }
}

#[cfg(test)]
#[path = "columns_tests.rs"]
mod tests;
