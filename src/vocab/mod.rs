//! The bottom layer: the few types and helpers every other layer speaks of (a failure, a page of
//! records, an id range, a JSON name). It imports nothing from the crate.

pub(crate) mod failure;
pub(crate) mod json;
pub(crate) mod page;
