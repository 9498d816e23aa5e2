//! `Settings`: the core's resolved settings, each value with the source it came from.

use std::collections::HashMap;

use imds_core::settings::{Resolved, Setting};
use napi_derive::napi;

use crate::error::{Result, invalid_argument, to_js};

/// A boolean setting and where its value came from.
#[napi(object)]
pub struct ResolvedBoolean {
    /// The value in force.
    pub value: bool,
    /// Where it came from.
    #[napi(ts_type = "'default' | 'profile' | 'env' | 'code'")]
    pub source: String,
}

/// A numeric setting (seconds, or a count) and where its value came from.
#[napi(object)]
pub struct ResolvedNumber {
    /// The value in force.
    pub value: f64,
    /// Where it came from.
    #[napi(ts_type = "'default' | 'profile' | 'env' | 'code'")]
    pub source: String,
}

/// A text setting (`null` when unset) and where its value came from.
#[napi(object)]
pub struct ResolvedString {
    /// The value in force.
    pub value: Option<String>,
    /// Where it came from.
    #[napi(ts_type = "'default' | 'profile' | 'env' | 'code'")]
    pub source: String,
}

/// Resolved settings: every value with its source. Build with `Settings.load`; print the report
/// `imds settings` prints with `report()`.
#[napi]
pub struct Settings {
    pub(crate) inner: imds_core::Settings,
}

/// The code name of a setting: `v1_disabled`, `endpoint`, ... (`Setting::code_name`).
fn setting_named(name: &str) -> Result<Setting> {
    Setting::from_code_name(name).ok_or_else(|| {
        let known: Vec<&str> = Setting::ALL.iter().map(|s| s.code_name()).collect();
        invalid_argument(format!(
            "unknown setting `{name}`; expected one of {}",
            known.join(", ")
        ))
    })
}

/// The code names of every setting, in report order (`disabled`, `v1_disabled`, `endpoint`, ...).
#[napi(catch_unwind)]
pub fn setting_names() -> Vec<&'static str> {
    Setting::ALL.iter().map(|s| s.code_name()).collect()
}

fn source_of<T>(resolved: &Resolved<T>) -> String {
    resolved.source.as_str().to_owned()
}

#[napi]
impl Settings {
    /// Resolves settings from `explicit` values (keys are the core's code names, `endpoint`,
    /// `v1_disabled`, ...; source `code`), the environment and the active profile of the config
    /// file the environment names. `env` replaces the process environment when given (a plain
    /// object of variable names to values). Throws with `code` `invalid_setting`, `config_file`,
    /// ... when a value is not accepted: no settings exist then, so no request can be made.
    #[napi(factory, catch_unwind)]
    pub fn load(
        explicit: Option<HashMap<String, String>>,
        env: Option<HashMap<String, String>>,
    ) -> Result<Self> {
        let explicit = explicit.unwrap_or_default();
        let mut pairs: Vec<(Setting, &str)> = Vec::with_capacity(explicit.len());
        for (name, value) in &explicit {
            pairs.push((setting_named(name)?, value.as_str()));
        }
        // Report order, so that with several bad values the first one named is deterministic.
        pairs.sort_by_key(|(setting, _)| Setting::ALL.iter().position(|s| s == setting));
        let resolved = match env {
            Some(env) => {
                imds_core::host::load_settings_with(&|name| env.get(name).cloned(), &pairs)
            }
            None => imds_core::host::load_settings(&pairs),
        };
        resolved.map(|inner| Self { inner }).map_err(to_js)
    }

    /// The report `imds settings` prints (`Settings::write_report`): every setting, its value and
    /// its source, one per line.
    #[napi(catch_unwind)]
    pub fn report(&self) -> String {
        let mut report = String::new();
        // Writing into a String cannot fail.
        let _ = self.inner.write_report(&mut report);
        report
    }

    /// Throws the core's `disabled` error (naming the setting and its source) when IMDS is
    /// disabled; does nothing otherwise.
    #[napi(catch_unwind)]
    pub fn check_enabled(&self) -> Result<()> {
        match self.inner.disabled_error() {
            Some(error) => Err(to_js(error)),
            None => Ok(()),
        }
    }

    /// Whether IMDS is disabled (`AWS_EC2_METADATA_DISABLED`).
    #[napi(getter, catch_unwind)]
    pub fn disabled(&self) -> ResolvedBoolean {
        let r = &self.inner.disabled;
        ResolvedBoolean {
            value: r.value,
            source: source_of(r),
        }
    }

    /// Whether the IMDSv1 fallback is refused (`AWS_EC2_METADATA_V1_DISABLED`).
    #[napi(getter, catch_unwind)]
    pub fn v1_disabled(&self) -> ResolvedBoolean {
        let r = &self.inner.v1_disabled;
        ResolvedBoolean {
            value: r.value,
            source: source_of(r),
        }
    }

    /// The endpoint URL in force (`AWS_EC2_METADATA_SERVICE_ENDPOINT`, or the mode's default).
    #[napi(getter, catch_unwind)]
    pub fn endpoint(&self) -> ResolvedString {
        let r = &self.inner.endpoint;
        let mut url = String::new();
        let value = r.value.write_url("", &mut url).ok().map(|()| url);
        ResolvedString {
            value,
            source: source_of(r),
        }
    }

    /// `IPv4` or `IPv6` (`AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE`).
    #[napi(getter, catch_unwind)]
    pub fn endpoint_mode(&self) -> ResolvedString {
        let r = &self.inner.endpoint_mode;
        ResolvedString {
            value: Some(r.value.as_str().to_owned()),
            source: source_of(r),
        }
    }

    /// Connect and read timeout in seconds (`AWS_METADATA_SERVICE_TIMEOUT`).
    #[napi(getter, catch_unwind)]
    pub fn timeout(&self) -> ResolvedNumber {
        let r = &self.inner.timeout_ms;
        ResolvedNumber {
            value: f64::from(r.value) / 1000.0,
            source: source_of(r),
        }
    }

    /// Attempts per request (`AWS_METADATA_SERVICE_NUM_ATTEMPTS`).
    #[napi(getter, catch_unwind)]
    pub fn attempts(&self) -> ResolvedNumber {
        let r = &self.inner.attempts;
        ResolvedNumber {
            value: f64::from(r.value),
            source: source_of(r),
        }
    }

    /// The configured role name, or `null` to discover it (`AWS_EC2_INSTANCE_PROFILE_NAME`).
    #[napi(getter, catch_unwind)]
    pub fn instance_profile_name(&self) -> ResolvedString {
        let r = &self.inner.instance_profile_name;
        ResolvedString {
            value: r.value.as_ref().map(|name| name.as_str().to_owned()),
            source: source_of(r),
        }
    }

    /// The IMDSv2 token TTL requested, in seconds.
    #[napi(getter, catch_unwind)]
    pub fn token_ttl(&self) -> ResolvedNumber {
        let r = &self.inner.token_ttl_secs;
        ResolvedNumber {
            value: f64::from(r.value),
            source: source_of(r),
        }
    }

    /// `legacy` or `extended`.
    #[napi(getter, catch_unwind)]
    pub fn credentials_api(&self) -> ResolvedString {
        let r = &self.inner.credentials_api;
        ResolvedString {
            value: Some(r.value.as_str().to_owned()),
            source: source_of(r),
        }
    }

    /// Credentials are refreshed this many seconds before they expire.
    #[napi(getter, catch_unwind)]
    pub fn refresh_window(&self) -> ResolvedNumber {
        let r = &self.inner.refresh_window_secs;
        ResolvedNumber {
            value: f64::from(r.value),
            source: source_of(r),
        }
    }
}
