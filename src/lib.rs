//! ActiveCampaign source connector: a WASI 0.2 component that extracts an ActiveCampaign account
//! as Airbyte (or Singer) JSON lines.
//!
//! How a read flows through the modules:
//!
//! ```text
//!  wasi/ (edge: wasi:http, clocks, files, stdout)      ── the only code that touches WASI
//!    │
//!  commands/ (cli → commands → connector)             ── parse the command line, load documents
//!    │   documents/ (config, state)                    ── what people write, checked
//!    │   api/ (streams, schemas, catalog → ReadPlan)   ── the API as data
//!    ▼
//!  engine/ (task → run → offset | id_ranges → emit)    ── one loop reads every stream
//!    │     (newest: between sweeps; deletions: ids gone since the last complete pass)
//!    │   rules/ (paging, keyset, datetime, id_set)    ── pure rules the engine asks
//!    │   http/ (request, response, retry, limiter)     ── pages out, answers in, one budget
//!    ▼
//!  output/ (Sink → Writer: airbyte | singer; redact)   ── typed events become lines
//! ```
//!
//! Everything but `wasi/` is plain Rust, tested natively with `cargo test`: each module's unit
//! tests sit beside it in `x_tests.rs`, whole reads against a scripted server in `scenarios/`,
//! generated inputs in `proptests/`, and the one set of test helpers in `test_support/`.

// Natively the library exists for `cargo test` alone, so every item would read as unused; the
// wasm32 build (whose exports use everything) is where clippy checks for dead code.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

mod api;
mod commands;
mod documents;
mod engine;

mod http;
mod output;
mod rules;
mod vocab;

// The one item other crates use: ac-host applies the same address rule.
pub use rules::address;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod scenarios;
#[cfg(test)]
mod test_support;

#[cfg(target_arch = "wasm32")]
mod wasi;
