//! ActiveCampaign source connector: a WASI 0.2 component that extracts an ActiveCampaign account
//! as Airbyte (or Singer) JSON lines.
//!
//! The layers, bottom first: a module uses its own layer and those below it, never one above
//! (`make lint` checks it with `scripts/layers.py`; docs/architecture.md is the full map).
//!
//! ```text
//!  wasi/       the only code that touches WASI: wasi:http, clocks, files, stdout   (wasm32 only)
//!  commands/   the command line and the four operations: spec, check, discover, read
//!  output/     Writer: the engine's typed events as Airbyte or Singer lines; the key masked
//!  engine/     plan (the planner: what pass each stream gets) → task → run → offset | id_ranges
//!              → emit, deletions, decision: one engine reads every stream under one rate budget
//!  http/       a page's path and query, an answer read into a page, the retry policy, the limiter
//!  documents/  config (and the spec) and state: what people write, checked
//!  api/        the stream table, schemas, catalogs: the API as data
//!  rules/      pure rules: offset chains, the keyset fence, instants, id sets, the address rule
//!  vocab/      the shapes every layer speaks of: Failure, Page, IdRange, JSON names
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
