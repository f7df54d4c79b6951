//! The API as data: every stream (the table), its JSON schema, and the catalogs built from them.

pub(crate) mod catalog;
pub(crate) mod custom_fields;
pub(crate) mod field_values;
pub(crate) mod schemas;
pub(crate) mod streams;
