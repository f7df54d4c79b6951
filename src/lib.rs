//! ActiveCampaign source connector: a WASI 0.2 component that extracts an ActiveCampaign account
//! as Airbyte protocol JSON lines.
//!
//! Everything but `wasi_edge` and `component` is plain Rust, tested natively with `cargo test`.

pub mod catalog;
pub mod cli;
pub mod commands;
#[cfg(test)]
mod commands_tests;
pub mod config;
pub mod connector;
#[cfg(test)]
mod cursor_tests;
pub mod datetime;
pub mod engine;
pub mod keyset;
#[cfg(test)]
mod keyset_tests;
pub mod limiter;
pub mod output;
pub mod paging;
#[cfg(test)]
mod proptests;
pub mod protocol;
#[cfg(test)]
mod rate_tests;
#[cfg(test)]
mod realism_tests;
pub mod redact;
pub mod request;
pub mod response;
pub mod retry;
#[cfg(test)]
mod rule_tests;
pub mod schemas;
pub mod singer;
pub mod state;
#[cfg(test)]
mod state_stats_tests;
pub mod streams;
#[cfg(test)]
mod test_support;

#[cfg(target_arch = "wasm32")]
mod component;
#[cfg(target_arch = "wasm32")]
mod wasi_edge;
