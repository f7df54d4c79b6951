//! Pure rules: offset paging under churn, keyset fences, timestamps. No I/O, no engine.

pub(crate) mod datetime;
pub(crate) mod keyset;
pub(crate) mod paging;
