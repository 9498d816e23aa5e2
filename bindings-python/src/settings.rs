//! Resolved settings, with the source of every value.
//!
//! `Settings.load()` calls the core's `host::load_settings` (process environment and config file)
//! or `host::load_settings_with` (an environment given as a mapping, for tests and for hosts whose
//! environment is not the process's). The core parses and validates every value; an invalid one
//! raises `imds.InvalidSettingError` naming the setting, its source and what is accepted.

use std::collections::HashMap;

use imds_core::settings::{Resolved, Setting};
use pyo3::exceptions::{PyKeyError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyMapping};

use crate::error::check;

/// Resolved IMDS settings. Build with `Settings.load()`; read values and `source(name)`.
#[pyclass(frozen, module = "imds._imds", name = "Settings")]
pub struct Settings {
    pub(crate) inner: imds_core::Settings,
}

/// A Python value given for a setting in code, as the text the core parses.
fn explicit_text(value: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(flag) = value.cast::<PyBool>() {
        return Ok(if flag.is_true() { "true" } else { "false" }.to_owned());
    }
    if let Ok(text) = value.extract::<String>() {
        return Ok(text);
    }
    if value.extract::<f64>().is_ok() {
        return Ok(value.str()?.to_string());
    }
    Err(PyTypeError::new_err(format!(
        "a setting value must be str, bool, int or float, not {}",
        value.get_type().name()?
    )))
}

fn setting_named(name: &str) -> PyResult<Setting> {
    Setting::from_code_name(name).ok_or_else(|| {
        let known: Vec<&str> = Setting::ALL.iter().map(|s| s.code_name()).collect();
        PyTypeError::new_err(format!(
            "unknown setting {name:?}; known settings: {}",
            known.join(", ")
        ))
    })
}

fn source_of<T>(resolved: &Resolved<T>) -> &'static str {
    resolved.source.as_str()
}

#[pymethods]
impl Settings {
    /// Resolves settings from `explicit` values (source `code`, keyed by code name such as
    /// `endpoint` or `timeout`), the environment (the process's when `env` is None, else the
    /// mapping) and the config file it names.
    #[staticmethod]
    #[pyo3(signature = (explicit = None, env = None))]
    fn load(
        py: Python<'_>,
        explicit: Option<&Bound<'_, PyMapping>>,
        env: Option<&Bound<'_, PyMapping>>,
    ) -> PyResult<Self> {
        let mut values: Vec<(Setting, String)> = Vec::new();
        if let Some(explicit) = explicit {
            for item in explicit.items()?.iter() {
                let (key, value): (String, Bound<'_, PyAny>) = item.extract()?;
                if value.is_none() {
                    continue;
                }
                values.push((setting_named(&key)?, explicit_text(&value)?));
            }
        }
        let pairs: Vec<(Setting, &str)> = values.iter().map(|(s, v)| (*s, v.as_str())).collect();
        let result = match env {
            None => imds_core::host::load_settings(&pairs),
            Some(env) => {
                let mut map: HashMap<String, String> = HashMap::new();
                for item in env.items()?.iter() {
                    let (key, value): (String, String) = item.extract()?;
                    map.insert(key, value);
                }
                let lookup = |name: &str| map.get(name).cloned();
                imds_core::host::load_settings_with(&lookup, &pairs)
            }
        };
        Ok(Self {
            inner: check(py, result)?,
        })
    }

    /// Whether IMDS is disabled (no request will be made).
    #[getter]
    fn disabled(&self) -> bool {
        self.inner.disabled.value
    }

    /// Whether the IMDSv1 fallback is refused.
    #[getter]
    fn v1_disabled(&self) -> bool {
        self.inner.v1_disabled.value
    }

    /// The endpoint URL in force, e.g. `http://169.254.169.254`.
    #[getter]
    fn endpoint(&self) -> String {
        self.inner.endpoint.value.to_string()
    }

    /// `IPv4` or `IPv6`.
    #[getter]
    fn endpoint_mode(&self) -> &'static str {
        self.inner.endpoint_mode.value.as_str()
    }

    /// Connect and read timeout, milliseconds.
    #[getter]
    fn timeout_ms(&self) -> u32 {
        self.inner.timeout_ms.value
    }

    /// Attempts per request.
    #[getter]
    fn attempts(&self) -> u8 {
        self.inner.attempts.value
    }

    /// The configured instance profile (role) name, if any.
    #[getter]
    fn instance_profile_name(&self) -> Option<String> {
        self.inner
            .instance_profile_name
            .value
            .as_ref()
            .map(|name| name.as_str().to_owned())
    }

    /// The IMDSv2 token TTL requested, seconds.
    #[getter]
    fn token_ttl_secs(&self) -> u32 {
        self.inner.token_ttl_secs.value
    }

    /// `legacy` or `extended`.
    #[getter]
    fn credentials_api(&self) -> &'static str {
        self.inner.credentials_api.value.as_str()
    }

    /// Credentials are refreshed this many seconds before they expire.
    #[getter]
    fn refresh_window_secs(&self) -> u32 {
        self.inner.refresh_window_secs.value
    }

    /// Where the value of setting `name` came from: `default`, `profile`, `env` or `code`.
    fn source(&self, name: &str) -> PyResult<&'static str> {
        let s = &self.inner;
        let setting =
            Setting::from_code_name(name).ok_or_else(|| PyKeyError::new_err(name.to_owned()))?;
        Ok(match setting {
            Setting::Disabled => source_of(&s.disabled),
            Setting::V1Disabled => source_of(&s.v1_disabled),
            Setting::Endpoint => source_of(&s.endpoint),
            Setting::EndpointMode => source_of(&s.endpoint_mode),
            Setting::Timeout => source_of(&s.timeout_ms),
            Setting::Attempts => source_of(&s.attempts),
            Setting::InstanceProfileName => source_of(&s.instance_profile_name),
            Setting::TokenTtl => source_of(&s.token_ttl_secs),
            Setting::CredentialsApi => source_of(&s.credentials_api),
            Setting::RefreshWindow => source_of(&s.refresh_window_secs),
        })
    }

    /// Every setting's source, keyed by code name, in report order.
    #[getter]
    fn sources<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for setting in Setting::ALL {
            dict.set_item(setting.code_name(), self.source(setting.code_name())?)?;
        }
        Ok(dict)
    }

    /// The report `imds settings` prints: every setting, its value and its source.
    fn report(&self) -> PyResult<String> {
        let mut out = String::new();
        self.inner
            .write_report(&mut out)
            .map_err(crate::format_failed)?;
        Ok(out)
    }

    fn __repr__(&self) -> String {
        format!(
            "Settings(endpoint={}, disabled={}, v1_disabled={}, timeout_ms={}, attempts={})",
            crate::quote(&self.endpoint()),
            crate::py_bool(self.disabled()),
            crate::py_bool(self.v1_disabled()),
            self.timeout_ms(),
            self.attempts()
        )
    }
}
