//! The `imds settings` report and the per-setting value writer: what every front end prints,
//! byte for byte, and what the C ABI's per-setting getter returns.

use core::fmt;

use super::names::{Setting, Source};
use super::{ConfigFileStatus, Resolved, Settings};
use crate::endpoint::TOKEN_PATH;

impl Settings {
    /// Writes the value of `setting` the way the setting accepts it (booleans `true`/`false`, the
    /// endpoint URL, the mode `IPv4`/`IPv6`, the timeout in decimal seconds such as `0.5`, whole
    /// numbers, an unset instance profile name as nothing) and returns where it came from. The
    /// `imds settings` report and the C ABI's per-setting getter both use it.
    pub fn write_value(
        &self,
        setting: Setting,
        out: &mut dyn fmt::Write,
    ) -> Result<Source, fmt::Error> {
        Ok(match setting {
            Setting::Disabled => write_bool(out, self.disabled)?,
            Setting::V1Disabled => write_bool(out, self.v1_disabled)?,
            Setting::Endpoint => {
                write!(out, "{}", self.endpoint.value)?;
                self.endpoint.source
            }
            Setting::EndpointMode => {
                out.write_str(self.endpoint_mode.value.as_str())?;
                self.endpoint_mode.source
            }
            Setting::Timeout => {
                write_seconds(out, self.timeout_ms.value)?;
                self.timeout_ms.source
            }
            Setting::Attempts => {
                write!(out, "{}", self.attempts.value)?;
                self.attempts.source
            }
            Setting::InstanceProfileName => {
                out.write_str(self.instance_profile_name.value.as_deref().unwrap_or(""))?;
                self.instance_profile_name.source
            }
            Setting::TokenTtl => {
                write!(out, "{}", self.token_ttl_secs.value)?;
                self.token_ttl_secs.source
            }
            Setting::CredentialsApi => {
                out.write_str(self.credentials_api.value.as_str())?;
                self.credentials_api.source
            }
            Setting::RefreshWindow => {
                write!(out, "{}", self.refresh_window_secs.value)?;
                self.refresh_window_secs.source
            }
        })
    }

    /// Writes the `imds settings` report: what every front end prints, byte for byte.
    ///
    /// One line per setting in [`Setting::ALL`] order, `NAME = VALUE (SOURCE)`, where `NAME` is the
    /// code name, `VALUE` is written the way the setting accepts it (timeout in decimal seconds,
    /// `(discover)` for an unset instance profile name) and `SOURCE` is `default`, or the source
    /// and the name the value was read under: `env AWS_…`, `profile ec2_…`, `code …`. The endpoint
    /// derived from a mode carries the mode's source; a mode that an endpoint overrides says
    /// `; ignored: an endpoint is set`. The `attempts` line is followed by a note, indented, on
    /// which failures it retries. Then `token_url = URL`, and when the host
    /// recorded them,
    /// `profile = NAME (SOURCE[, not in the config file])` and
    /// `config_file = PATH (SOURCE[, not found])` (`(none) (default, HOME is not set)` without a
    /// path). Every line ends with `\n`. For example:
    ///
    /// ```text
    /// disabled = false (default)
    /// v1_disabled = false (default)
    /// endpoint = http://127.0.0.1:1338 (env AWS_EC2_METADATA_SERVICE_ENDPOINT)
    /// endpoint_mode = IPv4 (default)
    /// timeout = 0.5 (profile metadata_service_timeout)
    /// attempts = 4 (default)
    ///   note: a timeout or an unreachable network is final unless attempts is set
    /// instance_profile_name = (discover) (default)
    /// token_ttl = 21600 (default)
    /// credentials_api = legacy (default)
    /// refresh_window = 300 (default)
    /// token_url = http://127.0.0.1:1338/latest/api/token
    /// profile = default (default)
    /// config_file = /home/user/.aws/config (default)
    /// ```
    pub fn write_report(&self, out: &mut dyn fmt::Write) -> fmt::Result {
        for setting in Setting::ALL {
            write!(out, "{} = ", setting.code_name())?;
            if setting == Setting::InstanceProfileName && self.instance_profile_name.value.is_none()
            {
                out.write_str("(discover)")?;
            }
            let source = self.write_value(setting, out)?;
            match setting {
                Setting::Endpoint if self.endpoint_from_mode => {
                    write_source(out, Setting::EndpointMode, source, "")?
                }
                Setting::EndpointMode if !self.endpoint_from_mode => {
                    write_source(out, setting, source, "ignored: an endpoint is set")?
                }
                _ => write_source(out, setting, source, "")?,
            }
            out.write_char('\n')?;
            if setting == Setting::Attempts {
                out.write_str(attempts_note(source))?;
            }
        }
        out.write_str("token_url = ")?;
        self.endpoint.value.write_url(TOKEN_PATH, out)?;
        out.write_char('\n')?;
        if let Some(origin) = &self.config_origin {
            write!(
                out,
                "profile = {} ({}",
                origin.profile, origin.profile_source
            )?;
            if origin.profile_source == Source::Env {
                out.write_str(" AWS_PROFILE")?;
            }
            if !origin.profile_found {
                out.write_str(", not in the config file")?;
            }
            out.write_str(")\n")?;
            match origin.status {
                ConfigFileStatus::NoHome => {
                    out.write_str("config_file = (none) (default, HOME is not set)\n")?
                }
                ConfigFileStatus::Read | ConfigFileStatus::NotFound => {
                    write!(out, "config_file = {} ({}", origin.path, origin.path_source)?;
                    if origin.path_source == Source::Env {
                        out.write_str(" AWS_CONFIG_FILE")?;
                    }
                    if origin.status == ConfigFileStatus::NotFound {
                        out.write_str(", not found")?;
                    }
                    out.write_str(")\n")?;
                }
            }
        }
        Ok(())
    }
}

fn write_bool(out: &mut dyn fmt::Write, value: Resolved<bool>) -> Result<Source, fmt::Error> {
    out.write_str(if value.value { "true" } else { "false" })?;
    Ok(value.source)
}

/// ` (default)`, ` (env AWS_…)`, ` (profile key)`, ` (code name)`, with `; note` when given.
fn write_source(
    out: &mut dyn fmt::Write,
    setting: Setting,
    source: Source,
    note: &str,
) -> fmt::Result {
    write!(out, " ({source}")?;
    if source != Source::Default {
        write!(out, " {}", setting.name_for(source))?;
    }
    if !note.is_empty() {
        write!(out, "; {note}")?;
    }
    out.write_char(')')
}

/// Milliseconds as decimal seconds without trailing zeros: `1`, `0.5`, `1.25`.
fn write_seconds(out: &mut dyn fmt::Write, ms: u32) -> fmt::Result {
    write!(out, "{}", ms / 1000)?;
    let fraction = ms % 1000;
    if fraction != 0 {
        let (mut digits, mut width) = (fraction, 3);
        while digits % 10 == 0 {
            digits /= 10;
            width -= 1;
        }
        write!(out, ".{digits:0width$}")?;
    }
    Ok(())
}

/// The note under `attempts` in the report: with the default, refused, dropped and reset
/// connections, bytes no request asked for and 5xx, 429 and 401 answers are retried, but a
/// timeout or an unreachable network ends the operation at once (off EC2 it means there is no
/// IMDS to wait for); set explicitly, every transport failure is retried too.
fn attempts_note(source: Source) -> &'static str {
    if source == Source::Default {
        "  note: a timeout or an unreachable network is final unless attempts is set\n"
    } else {
        "  note: timeouts and unreachable networks are retried too, as attempts is set\n"
    }
}
