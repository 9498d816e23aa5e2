//! `imds_settings`: resolved settings, each value with the source it came from.
//!
//! Made by `imds_config_resolve()` or `imds_config_load()`; read with `imds_settings_report()`
//! (the `imds settings` text, byte for byte) and `imds_settings_value()`; handed to
//! `imds_client_new()` / `imds_client_init()`, which copy them.

use core::cell::Cell;
use core::ffi::c_char;

use imds_core::{Setting, Source};

use crate::failure::{self, Failure};
use crate::ffi::{self, Castable, OwnershipBox};
use crate::result::imds_result;
use crate::text::imds_str;

pub(crate) use imds_core::Settings;

/// Resolved settings (opaque). Free with `imds_settings_free()`. Immutable once made, so several
/// threads may read the same settings.
pub struct imds_settings {
    _private: [u8; 0],
}

impl Castable for imds_settings {
    type Ownership = OwnershipBox;
    type Rust = Settings;
}

/// Where a setting's value came from, in increasing precedence.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum imds_source {
    /// The library's default.
    Default = 0,
    /// The active profile of the shared config file.
    Profile = 1,
    /// A process environment variable.
    Env = 2,
    /// The program itself (`imds_config_set()` with this source); beats every other source.
    Code = 3,
}

impl From<Source> for imds_source {
    fn from(source: Source) -> Self {
        match source {
            Source::Default => Self::Default,
            Source::Profile => Self::Profile,
            Source::Env => Self::Env,
            Source::Explicit => Self::Code,
        }
    }
}

/// The source a C caller passed, or `IMDS_RESULT_INVALID_ARGUMENT`.
pub(crate) fn source_from_c(source: u32) -> Result<Source, Failure> {
    [
        Source::Default,
        Source::Profile,
        Source::Env,
        Source::Explicit,
    ]
    .into_iter()
    .find(|s| imds_source::from(*s) as u32 == source)
    .ok_or(Failure::invalid_argument(
        "the source is not one of the IMDS_SOURCE_* constants",
    ))
}

/// Frees settings made by `imds_config_resolve()` / `imds_config_load()`. NULL does nothing; never
/// free the same settings twice, nor the borrowed pointer from `imds_client_settings()`.
#[unsafe(no_mangle)]
pub extern "C" fn imds_settings_free(settings: *mut imds_settings) {
    ffi_boundary! { ffi::free_box(settings) }
}

/// Writes the `imds settings` report into `buf` (`len` bytes; no NUL is added) and its length into
/// `*written_out`: one `name = value (source)` line per setting, then the token URL, the profile
/// and the config file, exactly as every `imds` command prints it. `IMDS_REPORT_CAPACITY` bytes
/// always suffice.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_INSUFFICIENT_SIZE` (nothing written).
#[unsafe(no_mangle)]
pub extern "C" fn imds_settings_report(
    settings: *const imds_settings,
    buf: *mut u8,
    len: usize,
    written_out: *mut usize,
) -> imds_result {
    ffi_boundary! {
        failure::result_of((|| {
            let settings = ffi::try_ref(settings)?;
            ffi::write_text(buf, len, written_out, |out| settings.write_report(out))
        })())
    }
}

/// Writes the value of the setting `key` (its code name, e.g. `timeout`; `key_len` bytes of
/// UTF-8) into `buf` (`len` bytes; no NUL is added), its length into `*written_out` and where it
/// came from into `*source_out`. Values are written the way the setting accepts them: `true`,
/// `http://127.0.0.1:1338`, `IPv4`, `0.5` (seconds), `4`, the role name (empty when discovered),
/// `legacy`. `IMDS_TEXT_CAPACITY` bytes always suffice.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_INVALID_ARGUMENT` (unknown key, not UTF-8);
/// `IMDS_RESULT_INSUFFICIENT_SIZE` (nothing written).
#[unsafe(no_mangle)]
pub extern "C" fn imds_settings_value(
    settings: *const imds_settings,
    key: *const c_char,
    key_len: usize,
    buf: *mut u8,
    len: usize,
    written_out: *mut usize,
    source_out: *mut imds_source,
) -> imds_result {
    ffi_boundary! {
        failure::result_of((|| {
            let settings = ffi::try_ref(settings)?;
            let key = ffi::try_str(key, key_len, "the setting key is not valid UTF-8")?;
            let source_out = ffi::try_out(source_out)?;
            let setting = Setting::from_code_name(key)
                .ok_or(Failure::invalid_argument("unknown setting key"))?;
            let source = Cell::new(Source::Default);
            ffi::write_text(buf, len, written_out, |out| {
                source.set(settings.write_value(setting, out)?);
                Ok(())
            })?;
            ffi::write_out(source_out, imds_source::from(source.get()));
            Ok(())
        })())
    }
}

/// The name reports and errors use for a source: `default`, `profile`, `env` or `code` (static;
/// an unknown number gives the empty string).
#[unsafe(no_mangle)]
pub extern "C" fn imds_source_name(source: u32) -> imds_str {
    ffi_boundary! {
        source_from_c(source).map_or(imds_str::EMPTY, |s| imds_str::borrow(s.as_str()))
    }
}
