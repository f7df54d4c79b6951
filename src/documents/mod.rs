//! The documents people write and runners keep: the config and the state.

pub(crate) mod config;
pub(crate) mod state;
