//! Test kit for `imds`: the loopback mock IMDS server, the conformance scenarios' runner, and the
//! Rust `imds` command (binary `imds`) that the scenarios hold every front end to.
//!
//! * [`mock`]: [`mock::MockServer`], an HTTP/1.1 IMDS on `127.0.0.1` or `[::1]` that serves what a
//!   [`script::Script`] says and logs every request; a script may throttle it as IMDS throttles an
//!   instance (a token bucket on requests, a limit on connections: 429, refuse or drop).
//! * [`conformance`]: reads `tests/conformance/*.json` and runs each scenario against any `imds`
//!   command line, comparing requests, stdout, stderr and exit code.
//! * [`recorded`]: real IMDS traffic recorded by smithy-rs (`tests/vectors/recorded-imds/`), read
//!   into requests and the bytes of their answers, for tests that replay it.
//!
//! The kit's own files (mock scripts, scenarios, request logs) are JSON, read and written with
//! `serde_json`.

pub mod conformance;
pub mod mock;
pub mod recorded;
pub mod script;
mod throttle;
