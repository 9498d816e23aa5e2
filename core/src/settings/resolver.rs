//! The [`Resolver`]: raw values from every source, kept in fixed slots, resolved into
//! [`Settings`] (see the module docs of [`crate::settings`] for the rules).

use core::fmt;

use super::names::{Setting, Source};
use super::parse::{
    parse_attempts, parse_bool, parse_credentials_api, parse_endpoint_mode, parse_role_name,
    parse_seconds, parse_timeout_ms,
};
use super::{
    ConfigOrigin, CredentialsApi, DEFAULT_ATTEMPTS, DEFAULT_REFRESH_WINDOW_SECS,
    DEFAULT_TIMEOUT_MS, DEFAULT_TOKEN_TTL_SECS, MAX_REFRESH_WINDOW_SECS, MAX_TOKEN_TTL_SECS,
    Resolved, Settings,
};
use crate::config_file::ConfigFile;
use crate::endpoint::{Endpoint, EndpointMode};
use crate::error::{Context, Error, ErrorKind, SettingProblem};
use crate::text::ShortText;

/// Capacity of a stored endpoint value.
const ENDPOINT_TEXT_CAPACITY: usize = 640;
/// Capacity of every other stored value.
const TEXT_CAPACITY: usize = 160;
/// Sources a value can be set from, in precedence order.
const SOURCES: [Source; 3] = [Source::Explicit, Source::Env, Source::Profile];

/// One raw value as set.
#[derive(Clone, Debug, Default)]
enum Slot<const N: usize> {
    #[default]
    Unset,
    Value(heapless::String<N>),
    /// Longer than `N`: an error if it wins, with the start of the text for the message.
    TooLong(ShortText<64>),
}

/// The winning raw value of a setting.
enum Raw<'a> {
    Text(&'a str),
    TooLong(&'a ShortText<64>),
}

/// A slot of any capacity, as the resolver reads and writes it.
trait Stored {
    /// The value, if one is set.
    fn raw(&self) -> Option<Raw<'_>>;
    /// Sets the value (`None` unsets it); a value longer than the slot is remembered as too long.
    fn store(&mut self, value: Option<&str>);
}

impl<const N: usize> Stored for Slot<N> {
    fn raw(&self) -> Option<Raw<'_>> {
        match self {
            Self::Unset => None,
            Self::Value(text) => Some(Raw::Text(text.as_str())),
            Self::TooLong(start) => Some(Raw::TooLong(start)),
        }
    }

    fn store(&mut self, value: Option<&str>) {
        *self = match value {
            None => Self::Unset,
            Some(value) => match heapless::String::try_from(value) {
                Ok(text) => Self::Value(text),
                Err(_) => Self::TooLong(ShortText::new(value)),
            },
        };
    }
}

/// Collects raw setting values from every source and resolves them. See the module docs.
///
/// Values are stored in fixed-capacity slots (640 bytes for the endpoint, 160 for the others);
/// a longer value is remembered as too long and is an error only if it wins.
#[derive(Clone, Debug, Default)]
pub struct Resolver {
    /// `[setting][source]` for every setting but the endpoint, settings in [`Setting::ALL`] order
    /// without the endpoint, sources as in [`SOURCES`].
    values: [[Slot<TEXT_CAPACITY>; 3]; 9],
    /// The endpoint's longer slots, sources as in [`SOURCES`].
    endpoint: [Slot<ENDPOINT_TEXT_CAPACITY>; 3],
    origin: Option<ConfigOrigin>,
}

/// Where `setting` is in [`Resolver::values`]: its position in [`Setting::ALL`] without the
/// endpoint (`None` for the endpoint, which has its own slots).
fn value_index(setting: Setting) -> Option<usize> {
    Setting::ALL
        .iter()
        .filter(|s| **s != Setting::Endpoint)
        .position(|s| *s == setting)
}

/// Where a value from `source` is in a row of slots (`None` for [`Source::Default`]).
fn source_index(source: Source) -> Option<usize> {
    SOURCES.iter().position(|s| *s == source)
}

/// Whether `setting` can be given from `source`.
const fn has_source(setting: Setting, source: Source) -> bool {
    match source {
        Source::Explicit => true,
        Source::Env => setting.env_name().is_some(),
        Source::Profile => setting.profile_key().is_some(),
        Source::Default => false,
    }
}

impl Resolver {
    /// An empty resolver: resolving it gives the defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The slot of `setting` from `source`: the one place that knows the endpoint's slots are
    /// longer ([`Resolver::slot_mut`] is its twin for writing).
    fn slot(&self, setting: Setting, source: Source) -> Option<&dyn Stored> {
        let at = source_index(source)?;
        match value_index(setting) {
            None => Some(self.endpoint.get(at)?),
            Some(row) => Some(self.values.get(row)?.get(at)?),
        }
    }

    /// [`Resolver::slot`], for writing.
    fn slot_mut(&mut self, setting: Setting, source: Source) -> Option<&mut dyn Stored> {
        let at = source_index(source)?;
        match value_index(setting) {
            None => Some(self.endpoint.get_mut(at)?),
            Some(row) => Some(self.values.get_mut(row)?.get_mut(at)?),
        }
    }

    /// Records `value` for `setting` from `source`.
    ///
    /// A later call with the same setting and source replaces the earlier value. Values are
    /// trimmed; an empty value means "unset" (except for the instance profile name, where it is
    /// kept and refused by [`Resolver::resolve`]). Only the value of the highest-precedence source
    /// is parsed by [`Resolver::resolve`]. Fails only when the setting has no such source
    /// ([`SettingProblem::NotFromThisSource`]: `disabled` has no profile key, the code-only
    /// settings no environment variable or profile key, and nothing is set with
    /// [`Source::Default`]); a value longer than its slot is remembered and refused only if it
    /// wins.
    pub fn set(&mut self, setting: Setting, source: Source, value: &str) -> Result<(), Error> {
        if !has_source(setting, source) {
            return Err(Error::invalid_setting(
                setting,
                source,
                value,
                SettingProblem::NotFromThisSource,
            ));
        }
        let value = value.trim_ascii();
        let unset = value.is_empty() && setting != Setting::InstanceProfileName;
        if let Some(slot) = self.slot_mut(setting, source) {
            slot.store((!unset).then_some(value));
        }
        Ok(())
    }

    /// Removes the value of `setting` from `source`, if any.
    pub fn unset(&mut self, setting: Setting, source: Source) {
        if !has_source(setting, source) {
            return;
        }
        if let Some(slot) = self.slot_mut(setting, source) {
            slot.store(None);
        }
    }

    /// Records, with [`Source::Profile`], every IMDS key of the profile `profile` in `file` (the
    /// active profile: `AWS_PROFILE`, else `default`). Keys are matched ASCII-case-insensitively,
    /// the last definition wins; other keys are ignored. Returns whether the file has a section
    /// for the profile. Fails with [`ErrorKind::ConfigFile`] when any line of the file is
    /// malformed, even outside the profile.
    pub fn set_profile(&mut self, file: &ConfigFile<'_>, profile: &str) -> Result<bool, Error> {
        file.check()?;
        for property in file.properties(profile)? {
            let property = property?;
            let Some(setting) = Setting::from_profile_key(property.key) else {
                continue;
            };
            match property.value.as_single_line() {
                Some(text) => self.set(setting, Source::Profile, text)?,
                None => {
                    // A continued value: never valid for an IMDS key, kept for the error message.
                    let mut joined = heapless::String::<64>::new();
                    let _ = fmt::write(&mut joined, format_args!("{}", property.value));
                    self.set(setting, Source::Profile, &joined)?;
                }
            }
        }
        file.has_profile(profile)
    }

    /// Records which config file and profile the host used, for [`Settings::write_report`].
    pub fn set_origin(&mut self, origin: ConfigOrigin) {
        self.origin = Some(origin);
    }

    /// The winning raw value of `setting` and its source.
    fn winner(&self, setting: Setting) -> Option<(Raw<'_>, Source)> {
        SOURCES.into_iter().find_map(|source| {
            let raw = self.slot(setting, source)?.raw()?;
            Some((raw, source))
        })
    }

    /// Parses the winning value of `setting` with `parse`, or gives `default`.
    fn resolve_one<T>(
        &self,
        setting: Setting,
        default: T,
        parse: impl Fn(&str) -> Result<T, SettingProblem>,
    ) -> Result<Resolved<T>, Error> {
        match self.winner(setting) {
            None => Ok(Resolved::default_of(default)),
            Some((Raw::Text(text), source)) => match parse(text) {
                Ok(value) => Ok(Resolved { value, source }),
                Err(problem) => Err(Error::invalid_setting(setting, source, text, problem)),
            },
            Some((Raw::TooLong(start), source)) => {
                let problem = match setting {
                    Setting::InstanceProfileName => SettingProblem::NotAnIamName,
                    _ => SettingProblem::TooLong,
                };
                Err(Error::new(
                    ErrorKind::InvalidSetting,
                    Context::Setting {
                        setting,
                        source,
                        value: *start,
                        problem,
                    },
                ))
            }
        }
    }

    /// Resolves every setting. Errors name the setting, its source, the offending value and what is
    /// accepted. Any invalid value, including an invalid `AWS_EC2_METADATA_DISABLED`, is an error, so
    /// no [`Settings`] exist and no request can be made (fail closed). Settings are checked in
    /// [`Setting::ALL`] order and the first invalid one is reported.
    pub fn resolve(&self) -> Result<Settings, Error> {
        let disabled = self.resolve_one(Setting::Disabled, false, parse_bool)?;
        let disabled_text = match self.winner(Setting::Disabled) {
            Some((Raw::Text(text), _)) => ShortText::new(text),
            _ => ShortText::new("false"),
        };
        let v1_disabled = self.resolve_one(Setting::V1Disabled, false, parse_bool)?;
        let endpoint = match self.winner(Setting::Endpoint) {
            None => None,
            Some(_) => {
                Some(self.resolve_one(Setting::Endpoint, Endpoint::default(), Endpoint::parse)?)
            }
        };
        let endpoint_mode = self.resolve_one(
            Setting::EndpointMode,
            EndpointMode::Ipv4,
            parse_endpoint_mode,
        )?;
        let timeout_ms =
            self.resolve_one(Setting::Timeout, DEFAULT_TIMEOUT_MS, parse_timeout_ms)?;
        let attempts = self.resolve_one(Setting::Attempts, DEFAULT_ATTEMPTS, parse_attempts)?;
        let instance_profile_name =
            self.resolve_one(Setting::InstanceProfileName, None, parse_role_name)?;
        let token_ttl_secs = self.resolve_one(Setting::TokenTtl, DEFAULT_TOKEN_TTL_SECS, |t| {
            parse_seconds(t, 1, MAX_TOKEN_TTL_SECS)
        })?;
        let credentials_api = self.resolve_one(
            Setting::CredentialsApi,
            CredentialsApi::Legacy,
            parse_credentials_api,
        )?;
        let refresh_window_secs =
            self.resolve_one(Setting::RefreshWindow, DEFAULT_REFRESH_WINDOW_SECS, |t| {
                parse_seconds(t, 0, MAX_REFRESH_WINDOW_SECS)
            })?;
        let endpoint_from_mode = endpoint.is_none();
        let endpoint = endpoint.unwrap_or_else(|| Resolved {
            value: Endpoint::for_mode(endpoint_mode.value),
            source: endpoint_mode.source,
        });
        Ok(Settings {
            disabled,
            v1_disabled,
            endpoint,
            endpoint_mode,
            timeout_ms,
            attempts,
            instance_profile_name,
            token_ttl_secs,
            credentials_api,
            refresh_window_secs,
            config_origin: self.origin,
            disabled_text,
            endpoint_from_mode,
        })
    }
}
