//! Core errors as JavaScript errors: `err.code` is the core's `ErrorKind::as_str()` and
//! `err.message` its `Display`, so Node reports exactly what the C and Python front ends report.

use std::cell::Cell;

use imds_core::chain::ChainOutcome;
use imds_core::{Error, ErrorKind, cli};
use napi_derive::napi;

/// The string that becomes a thrown error's `code` (`"timeout"`, `"no_role"`, ...).
#[derive(Clone, Copy, Debug)]
pub struct Code(&'static str);

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        self.0
    }
}

/// Results of the addon's functions: failures carry a [`Code`].
pub type Result<T> = napi::Result<T, Code>;

thread_local! {
    /// The last core error turned into a JavaScript error on this thread (for `bin/imds.js`).
    static LAST_ERROR: Cell<Option<Error>> = const { Cell::new(None) };
}

/// Converts a core error into a JavaScript error and remembers it for [`last_error_line`].
pub fn to_js(error: Error) -> napi::Error<Code> {
    LAST_ERROR.with(|last| last.set(Some(error)));
    napi::Error::new(Code(error.kind().as_str()), error.to_string())
}

/// An error raised by the addon itself (not the core), e.g. an option name the core does not know.
pub fn invalid_argument(message: String) -> napi::Error<Code> {
    napi::Error::new(Code(ErrorKind::InvalidArgument.as_str()), message)
}

/// Converts a napi error (argument conversion) into one with a [`Code`].
pub fn from_napi(error: napi::Error) -> napi::Error<Code> {
    invalid_argument(error.reason.clone())
}

/// The `imds: …` line `cli::write_error_line` writes for the last core error this addon threw on
/// this thread, or `null` when it threw none. `bin/imds.js` prints it, so its error lines are the
/// Rust and C commands' byte for byte.
#[napi(catch_unwind)]
pub fn last_error_line() -> Option<String> {
    let error = LAST_ERROR.with(Cell::get)?;
    let mut line = String::new();
    cli::write_error_line(&error, &mut line).ok()?;
    Some(line)
}

/// The exit status `cli::exit_code` gives for an error `code` (`err.code`), or `null` for a code
/// the core does not define.
#[napi(catch_unwind)]
pub fn exit_code_for(code: String) -> Option<u8> {
    kind_from_code(&code).map(cli::exit_code)
}

/// How an AWS SDK credential chain treats an error `code` (`err.code`), as the core names it:
/// `next_provider` (go on quietly), `next_provider_with_warning` (go on after one warning per
/// provider) or `stop` (a configuration error); `null` for a code the core does not define. See
/// `imds_core::chain`.
#[napi(
    catch_unwind,
    ts_return_type = "'next_provider' | 'next_provider_with_warning' | 'stop' | null"
)]
pub fn chain_outcome(code: String) -> Option<&'static str> {
    kind_from_code(&code).map(|kind| ChainOutcome::of(kind).as_str())
}

/// Every error `code` the core can produce, in the core's frozen number order.
#[napi(catch_unwind)]
pub fn error_codes() -> Vec<&'static str> {
    ErrorKind::ALL.iter().map(|kind| kind.as_str()).collect()
}

fn kind_from_code(code: &str) -> Option<ErrorKind> {
    ErrorKind::ALL
        .into_iter()
        .find(|kind| kind.as_str() == code)
}
