//! Pure rules: offset paging under churn, keyset fences, timestamps, the address rule. No I/O, no
//! engine.

pub mod address;
pub(crate) mod datetime;
pub(crate) mod id_set;
pub(crate) mod keyset;
pub(crate) mod paging;
pub(crate) mod values;
