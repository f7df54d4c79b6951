#![recursion_limit = "512"]
#![warn(missing_docs)]
//! A deterministic ActiveCampaign API v3 test server.
//!
//! [`Dataset::generate`] builds realistic records for the 59 streams of the connector (plus two
//! custom objects) from a seed; [`Server`] serves them over plain HTTP/1.1 on 127.0.0.1 with the
//! real API's envelopes, paging, filters, `Api-Token` auth, the 5 requests/second account limit and
//! optional injected faults, and logs every request so tests can check the client's behaviour.

mod accounts;
mod api;
mod arrival;
mod data;
mod gen;
mod http;
mod modes;
mod query;
mod quirks;
mod rng;
mod server;
mod streams;
mod time;

pub use accounts::account_keys;
pub use data::{Dataset, CUSTOM_PREFIX};
pub use gen::{CONTACT_SLIPS, CUSTOM_FIELD_DEFS, CUSTOM_FIELD_SLIPS, DEAL_SLIPS};
pub use modes::{relink, EgressListener, LINK_ORIGIN};
pub use quirks::{EmptyShape, Quirks, TotalQuirk};
pub use server::{FaultKind, LoggedRequest, Server, ServerConfig};
pub use time::{parse_instant_ms, Zone};

/// The cursor field of a stream (server name; `custom_object:<slug>` streams use
/// `updatedTimestamp`), if it has one.
pub fn cursor_field(stream: &str) -> Option<&'static str> {
    if stream.starts_with(CUSTOM_PREFIX) {
        return Some("updatedTimestamp");
    }
    streams::by_name(stream).and_then(|d| d.cursor)
}
