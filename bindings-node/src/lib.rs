//! Node bindings over `imds-core` (napi-rs). The JavaScript package (`lib/`, `bin/imds.js`)
//! drives the core's sans-IO [`client::Client`] over `node:net`; this crate only maps types.
//! Every export is `#[napi(catch_unwind)]`, so a panic becomes a JavaScript exception instead
//! of aborting Node.
#![deny(clippy::all)]

pub mod cli;
pub mod client;
pub mod diagnostic;
pub mod error;
pub mod settings;

use napi_derive::napi;

/// The version of the core (`imds_core::VERSION`).
#[napi(catch_unwind)]
pub fn version() -> &'static str {
    imds_core::VERSION
}
