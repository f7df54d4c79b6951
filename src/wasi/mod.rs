//! The WASI edge (wasm32 only): the component's exports and the WASI versions of the transport,
//! the host and the terminal. Nothing here decides anything.

mod component;
mod edge;
