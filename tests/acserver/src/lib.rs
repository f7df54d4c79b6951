#![recursion_limit = "512"]
//! placeholder
mod api;
mod data;
mod gen;
mod query;
mod rng;
mod streams;
mod time;
pub use data::Dataset;
