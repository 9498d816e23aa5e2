//! `imds_config`: raw setting values with their sources, resolved into an `imds_settings`.
//!
//! Two ways to get settings:
//!
//! * **Like the AWS SDKs** (`imds_config_load()`): the process environment, the active profile of
//!   the shared config file, and the values set here with `IMDS_SOURCE_CODE`, which beat both.
//! * **Fully host-fed** (`imds_config_resolve()`): only the values set here, from whatever source
//!   the host says (`IMDS_SOURCE_ENV`, `IMDS_SOURCE_PROFILE`, `IMDS_SOURCE_CODE`); nothing is read
//!   from the process. This is what embedded hosts and tests use.
//!
//! Precedence, parsing and error messages are the core's (`imds_core::settings::Resolver`).

use core::ffi::c_char;
use core::ptr::NonNull;

use imds_core::error::SettingProblem;
use imds_core::host;
use imds_core::{Error, Resolver, Setting, Source};

use crate::failure::{self, Failure, KeepsLastError, LastError, Rendering};
use crate::ffi::{self, Castable, OwnershipBox};
use crate::result::imds_result;
use crate::settings::{Settings, imds_settings, source_from_c};

/// Raw setting values with their sources (opaque). Create with `imds_config_new()`, free with
/// `imds_config_free()`. Not thread-safe: use one thread at a time.
pub struct imds_config {
    _private: [u8; 0],
}

/// The longest value `imds_config_set()` keeps for `imds_config_load()`.
const EXPLICIT_VALUE_CAPACITY: usize = 1024;

/// What an `imds_config` handle points to.
#[derive(Default)]
pub(crate) struct Config {
    resolver: Resolver,
    /// The `IMDS_SOURCE_CODE` values, by position in [`Setting::ALL`], for `imds_config_load()`.
    explicit: [Option<heapless::String<EXPLICIT_VALUE_CAPACITY>>; Setting::ALL.len()],
    last_error: LastError,
}

impl Castable for imds_config {
    type Ownership = OwnershipBox;
    type Rust = Config;
}

impl KeepsLastError for Config {
    fn last_error(&self) -> &LastError {
        &self.last_error
    }

    fn last_error_slot(object: NonNull<Self>) -> NonNull<LastError> {
        // SAFETY: the caller passes a pointer to a live `Config`; this only computes the address of
        // one of its fields (nothing is read or borrowed), which is not NULL.
        unsafe { NonNull::new_unchecked(core::ptr::addr_of_mut!((*object.as_ptr()).last_error)) }
    }
}

/// Runs `call` on the configuration behind `config` and records its failure as the
/// configuration's last error.
fn with_config(
    config: *mut imds_config,
    call: impl FnOnce(&mut Config) -> Result<(), Failure>,
) -> imds_result {
    failure::recorded(ffi::try_mut(config), call)
}

impl Config {
    fn set(&mut self, source: Source, key: &str, value: &str) -> Result<(), Failure> {
        let setting = setting_named(source, key).ok_or(Failure::invalid_argument(
            "unknown setting key; expected disabled, v1_disabled, endpoint, endpoint_mode, \
             timeout, attempts, instance_profile_name, token_ttl, credentials_api or \
             refresh_window (or the environment variable / profile key for that source)",
        ))?;
        let stored = match source {
            Source::Explicit => Some(heapless::String::try_from(value).map_err(|_| {
                Error::invalid_setting(setting, source, value, SettingProblem::TooLong)
            })?),
            _ => None,
        };
        self.resolver.set(setting, source, value)?;
        if let Some(stored) = stored
            && let Some(slot) = Setting::ALL
                .iter()
                .position(|s| *s == setting)
                .and_then(|at| self.explicit.get_mut(at))
        {
            *slot = Some(stored);
        }
        Ok(())
    }

    fn load(&self) -> Result<Settings, Failure> {
        let explicit: heapless::Vec<(Setting, &str), { Setting::ALL.len() }> = Setting::ALL
            .iter()
            .zip(self.explicit.iter())
            .filter_map(|(setting, value)| Some((*setting, value.as_deref()?)))
            .collect();
        Ok(host::load_settings(&explicit)?)
    }
}

/// The setting `key` names for `source`: its code name, or its environment variable for
/// `IMDS_SOURCE_ENV`, or its profile key for `IMDS_SOURCE_PROFILE`.
fn setting_named(source: Source, key: &str) -> Option<Setting> {
    let by_source = match source {
        Source::Env => Setting::from_env_name(key),
        Source::Profile => Setting::from_profile_key(key),
        Source::Explicit | Source::Default => None,
    };
    by_source.or_else(|| Setting::from_code_name(key))
}

/// Creates an empty configuration and stores it in `*config_out` (free it with
/// `imds_config_free()`). Resolving an empty configuration gives the defaults.
#[unsafe(no_mangle)]
pub extern "C" fn imds_config_new(config_out: *mut *mut imds_config) -> imds_result {
    ffi_boundary! {
        failure::result_of(ffi::try_out(config_out).map(|out| {
            ffi::set_boxed::<imds_config>(out, Config::default());
        }))
    }
}

/// Frees a configuration. NULL does nothing; never free the same configuration twice.
#[unsafe(no_mangle)]
pub extern "C" fn imds_config_free(config: *mut imds_config) {
    ffi_boundary! { ffi::free_box(config) }
}

/// Sets `key` to `value` as coming from `source` (an `IMDS_SOURCE_*` constant other than
/// `IMDS_SOURCE_DEFAULT`). A later value for the same key and source replaces the earlier one;
/// an empty or all-blank value unsets it.
///
/// `key` is the setting's code name (`endpoint`, `timeout`, ... as in `imds settings`); for
/// `IMDS_SOURCE_ENV` its environment variable (`AWS_EC2_METADATA_SERVICE_ENDPOINT`) and for
/// `IMDS_SOURCE_PROFILE` its config-file key (`ec2_metadata_service_endpoint`) are accepted too.
/// `key` and `value` are UTF-8, `key_len` and `value_len` bytes long, not NUL-terminated; they
/// are copied. Values are parsed when the configuration is resolved, so an invalid value is
/// reported then, with the key, source and value in the message.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_INVALID_ARGUMENT` for an unknown key, bad
/// UTF-8 or an unknown source; `IMDS_RESULT_INVALID_SETTING` when the setting cannot come from
/// that source (`disabled` has no profile key; `token_ttl`, `credentials_api`, `refresh_window`
/// are code-only) or a code value is longer than 1024 bytes. The message is in
/// `imds_config_last_error()`.
#[unsafe(no_mangle)]
pub extern "C" fn imds_config_set(
    config: *mut imds_config,
    source: u32,
    key: *const c_char,
    key_len: usize,
    value: *const c_char,
    value_len: usize,
) -> imds_result {
    ffi_boundary! {
        with_config(config, |config| {
            let source = source_from_c(source)?;
            let key = ffi::try_str(key, key_len, "the setting key is not valid UTF-8")?;
            let value = ffi::try_str(value, value_len, "the setting value is not valid UTF-8")?;
            config.set(source, key, value)
        })
    }
}

/// Resolves only the values set with `imds_config_set()` (nothing is read from the process) and
/// stores the settings in `*settings_out` (free them with `imds_settings_free()`).
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_INVALID_SETTING` naming the setting, its
/// source and value, and what is accepted (message in `imds_config_last_error()`).
#[unsafe(no_mangle)]
pub extern "C" fn imds_config_resolve(
    config: *mut imds_config,
    settings_out: *mut *mut imds_settings,
) -> imds_result {
    ffi_boundary! {
        with_config(config, |config| {
            let out = ffi::try_out(settings_out)?;
            ffi::set_boxed::<imds_settings>(out, config.resolver.resolve()?);
            Ok(())
        })
    }
}

/// Resolves settings the way the AWS SDKs do and the `imds` command does: the process
/// environment (`AWS_EC2_METADATA_*`, `AWS_METADATA_SERVICE_*`, `AWS_EC2_INSTANCE_PROFILE_NAME`),
/// the active profile (`AWS_PROFILE`, else `default`) of the config file (`AWS_CONFIG_FILE`, else
/// `~/.aws/config`; a missing file is not an error), and the values set on `config` with
/// `IMDS_SOURCE_CODE`, which beat both. Values set with other sources are not used here. Stores
/// the settings in `*settings_out` (free them with `imds_settings_free()`).
///
/// Reads the environment, so do not call it while another thread changes the environment.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_INVALID_SETTING`;
/// `IMDS_RESULT_CONFIG_FILE` (a file that exists but cannot be read or is malformed). The message
/// is in `imds_config_last_error()`.
#[unsafe(no_mangle)]
pub extern "C" fn imds_config_load(
    config: *mut imds_config,
    settings_out: *mut *mut imds_settings,
) -> imds_result {
    ffi_boundary! {
        with_config(config, |config| {
            let out = ffi::try_out(settings_out)?;
            ffi::set_boxed::<imds_settings>(out, config.load()?);
            Ok(())
        })
    }
}

/// Copies the message of the configuration's most recent failure into `buf` (`len` bytes; no
/// NUL is added) and its length into `*written_out`: the core's full sentence, e.g.
/// "invalid AWS_METADATA_SERVICE_TIMEOUT (env): `abc` expected a positive number of seconds such
/// as 1 or 0.5". `IMDS_TEXT_CAPACITY` bytes always suffice.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_NOT_AVAILABLE` when nothing failed yet;
/// `IMDS_RESULT_INSUFFICIENT_SIZE` (nothing written).
#[unsafe(no_mangle)]
pub extern "C" fn imds_config_last_error(
    config: *const imds_config,
    buf: *mut u8,
    len: usize,
    written_out: *mut usize,
) -> imds_result {
    ffi_boundary! {
        failure::write_last_error(ffi::try_ref(config), Rendering::Message, buf, len, written_out)
    }
}

/// Like `imds_config_last_error()`, but writes the line the `imds` command prints on stderr:
/// `imds: <message>\n`.
#[unsafe(no_mangle)]
pub extern "C" fn imds_config_last_error_line(
    config: *const imds_config,
    buf: *mut u8,
    len: usize,
    written_out: *mut usize,
) -> imds_result {
    ffi_boundary! {
        failure::write_last_error(ffi::try_ref(config), Rendering::Line, buf, len, written_out)
    }
}
