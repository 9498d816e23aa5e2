//! Settings resolution: code, environment, the active config-file profile, defaults.
//!
//! A [`Resolver`] collects raw values with their [`Source`]; [`Resolver::resolve`] keeps, for each
//! [`Setting`], the value of the highest-precedence source (`Explicit > Env > Profile > Default`),
//! parses it, and returns [`Settings`] in which every value remembers where it came from (which is
//! what `imds settings` prints). An endpoint from any source beats every endpoint-mode source.
//!
//! The resolver does not read the environment or any file: the host feeds it (see `host` with the
//! `std` feature).
//!
//! ```
//! use imds_core::config_file::ConfigFile;
//! use imds_core::settings::{Resolver, Setting, Source};
//!
//! let mut resolver = Resolver::new();
//! let file = ConfigFile::new("[default]\nec2_metadata_service_endpoint_mode = IPv6\n");
//! resolver.set_profile(&file, "default").unwrap();
//! resolver.set(Setting::Timeout, Source::Env, "0.5").unwrap();
//! let settings = resolver.resolve().unwrap();
//! assert_eq!(settings.endpoint.value.to_string(), "http://[fd00:ec2::254]");
//! assert_eq!(settings.endpoint.source, Source::Profile);
//! assert_eq!(settings.timeout_ms.value, 500);
//! ```
//!
//! Parsing rules (every value is trimmed of ASCII whitespace first; an empty value means "unset",
//! except for the instance profile name, where a blank configured name is an error):
//!
//! | setting | accepted |
//! |---|---|
//! | `disabled`, `v1_disabled` | `true` or `false`, ASCII-case-insensitive |
//! | `endpoint` | an absolute `http`/`https` URL, see [`Endpoint::parse`] |
//! | `endpoint_mode` | `IPv4` or `IPv6`, ASCII-case-insensitive |
//! | `timeout` | decimal seconds greater than 0 (`1`, `0.5`); rounded to milliseconds |
//! | `attempts` | a whole number from 1 to [`MAX_ATTEMPTS`] |
//! | `instance_profile_name` | an IAM name, see [`is_valid_iam_name`] |
//! | `token_ttl` | whole seconds from 1 to [`MAX_TOKEN_TTL_SECS`] |
//! | `credentials_api` | `legacy` or `extended`, ASCII-case-insensitive |
//! | `refresh_window` | whole seconds from 0 to [`MAX_REFRESH_WINDOW_SECS`] |
//!
//! Only the winning value of each setting is parsed: an invalid value that a higher-precedence
//! source overrides is not an error. The winning value of every setting must be valid, even the
//! endpoint mode when an endpoint makes it irrelevant.

use core::fmt;

use crate::config_file::ConfigFile;
use crate::endpoint::Endpoint;
use crate::error::{Context, Error, ErrorKind, SettingProblem};
use crate::text::ShortText;

/// Where a value came from, in increasing precedence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// The library's default.
    Default,
    /// The active profile of the shared config file.
    Profile,
    /// A process environment variable.
    Env,
    /// Set by the program (code, C option, Python/Node argument).
    Explicit,
}

impl Source {
    /// `default`, `profile`, `env` or `code`: how reports and errors name the source.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Profile => "profile",
            Self::Env => "env",
            Self::Explicit => "code",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every setting the library resolves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Setting {
    /// Disable IMDS entirely (`AWS_EC2_METADATA_DISABLED`; env or code only).
    Disabled,
    /// Refuse the IMDSv1 fallback (`AWS_EC2_METADATA_V1_DISABLED` / `ec2_metadata_v1_disabled`).
    V1Disabled,
    /// The IMDS endpoint URL (`AWS_EC2_METADATA_SERVICE_ENDPOINT` / `ec2_metadata_service_endpoint`).
    Endpoint,
    /// `IPv4` or `IPv6` default endpoint (`AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE` /
    /// `ec2_metadata_service_endpoint_mode`).
    EndpointMode,
    /// Connect and read timeout in decimal seconds (`AWS_METADATA_SERVICE_TIMEOUT` /
    /// `metadata_service_timeout`).
    Timeout,
    /// Attempts per request (`AWS_METADATA_SERVICE_NUM_ATTEMPTS` / `metadata_service_num_attempts`).
    Attempts,
    /// Skip role discovery and use this role (`AWS_EC2_INSTANCE_PROFILE_NAME` /
    /// `ec2_instance_profile_name`).
    InstanceProfileName,
    /// IMDSv2 token TTL in seconds (code only).
    TokenTtl,
    /// `legacy` or `extended` credentials API (code only).
    CredentialsApi,
    /// Refresh credentials this many seconds before they expire (code only).
    RefreshWindow,
}

impl Setting {
    /// Every setting, in report order.
    pub const ALL: [Setting; 10] = [
        Self::Disabled,
        Self::V1Disabled,
        Self::Endpoint,
        Self::EndpointMode,
        Self::Timeout,
        Self::Attempts,
        Self::InstanceProfileName,
        Self::TokenTtl,
        Self::CredentialsApi,
        Self::RefreshWindow,
    ];

    /// The name programs use (`Source::Explicit`): C keys, Python keywords; Node uses camelCase.
    pub const fn code_name(self) -> &'static str {
        match self {
            Self::Disabled => "disabled",
            Self::V1Disabled => "v1_disabled",
            Self::Endpoint => "endpoint",
            Self::EndpointMode => "endpoint_mode",
            Self::Timeout => "timeout",
            Self::Attempts => "attempts",
            Self::InstanceProfileName => "instance_profile_name",
            Self::TokenTtl => "token_ttl",
            Self::CredentialsApi => "credentials_api",
            Self::RefreshWindow => "refresh_window",
        }
    }

    /// The environment variable, if the setting has one.
    pub const fn env_name(self) -> Option<&'static str> {
        match self {
            Self::Disabled => Some("AWS_EC2_METADATA_DISABLED"),
            Self::V1Disabled => Some("AWS_EC2_METADATA_V1_DISABLED"),
            Self::Endpoint => Some("AWS_EC2_METADATA_SERVICE_ENDPOINT"),
            Self::EndpointMode => Some("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"),
            Self::Timeout => Some("AWS_METADATA_SERVICE_TIMEOUT"),
            Self::Attempts => Some("AWS_METADATA_SERVICE_NUM_ATTEMPTS"),
            Self::InstanceProfileName => Some("AWS_EC2_INSTANCE_PROFILE_NAME"),
            Self::TokenTtl | Self::CredentialsApi | Self::RefreshWindow => None,
        }
    }

    /// The shared config file key, if the setting has one.
    pub const fn profile_key(self) -> Option<&'static str> {
        match self {
            Self::V1Disabled => Some("ec2_metadata_v1_disabled"),
            Self::Endpoint => Some("ec2_metadata_service_endpoint"),
            Self::EndpointMode => Some("ec2_metadata_service_endpoint_mode"),
            Self::Timeout => Some("metadata_service_timeout"),
            Self::Attempts => Some("metadata_service_num_attempts"),
            Self::InstanceProfileName => Some("ec2_instance_profile_name"),
            Self::Disabled | Self::TokenTtl | Self::CredentialsApi | Self::RefreshWindow => None,
        }
    }

    /// The name a user would recognise for a value from `source`: the environment variable for
    /// [`Source::Env`], the config key for [`Source::Profile`], the code name otherwise.
    pub const fn name_for(self, source: Source) -> &'static str {
        let by_source = match source {
            Source::Env => self.env_name(),
            Source::Profile => self.profile_key(),
            Source::Explicit | Source::Default => None,
        };
        match by_source {
            Some(name) => name,
            None => self.code_name(),
        }
    }

    /// The setting named `name` by code (exact, lower-case `snake_case`).
    pub fn from_code_name(name: &str) -> Option<Setting> {
        Self::ALL.into_iter().find(|s| s.code_name() == name)
    }

    /// The setting read from environment variable `name` (exact, case-sensitive as on Linux).
    pub fn from_env_name(name: &str) -> Option<Setting> {
        Self::ALL.into_iter().find(|s| s.env_name() == Some(name))
    }

    /// The setting read from config key `key` (ASCII-case-insensitive, as profile keys are).
    pub fn from_profile_key(key: &str) -> Option<Setting> {
        Self::ALL
            .into_iter()
            .find(|s| s.profile_key().is_some_and(|k| k.eq_ignore_ascii_case(key)))
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code_name())
    }
}

/// Which default endpoint to use when none is configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum EndpointMode {
    /// `http://169.254.169.254`.
    #[default]
    Ipv4,
    /// `http://[fd00:ec2::254]`.
    Ipv6,
}

impl EndpointMode {
    /// `IPv4` or `IPv6`, as AWS documents the values.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ipv4 => "IPv4",
            Self::Ipv6 => "IPv6",
        }
    }
}

/// Which IMDS credentials API to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum CredentialsApi {
    /// `security-credentials/` only (what every AWS SDK does today).
    #[default]
    Legacy,
    /// `security-credentials-extended/` (with `AccountId`), falling back to legacy on 404, per the
    /// IMDS credentials provider SEP v2.1.1.
    Extended,
}

impl CredentialsApi {
    /// `legacy` or `extended`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Legacy => "legacy",
            Self::Extended => "extended",
        }
    }
}

/// The longest IAM role / instance profile name (IAM's own limit).
pub const ROLE_NAME_CAPACITY: usize = 128;

/// A validated IAM role name (`[\w+=,.@-]{1,128}`).
pub type RoleName = heapless::String<ROLE_NAME_CAPACITY>;

/// A resolved value with the source it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolved<T> {
    /// The value in force.
    pub value: T,
    /// Where it came from.
    pub source: Source,
}

/// Default IMDSv2 token TTL requested, in seconds (every SDK but Go uses 21600).
pub const DEFAULT_TOKEN_TTL_SECS: u32 = 21_600;
/// Default connect and read timeout, in milliseconds.
pub const DEFAULT_TIMEOUT_MS: u32 = 1_000;
/// Default attempts per request.
pub const DEFAULT_ATTEMPTS: u8 = 4;
/// Default refresh window: credentials are refreshed this long before they expire, in seconds.
pub const DEFAULT_REFRESH_WINDOW_SECS: u32 = 300;
/// Most attempts per request accepted (more only delays the answer on an instance without IMDS).
pub const MAX_ATTEMPTS: u8 = 10;
/// Longest token TTL IMDS grants, in seconds (6 hours).
pub const MAX_TOKEN_TTL_SECS: u32 = 21_600;
/// Longest refresh window accepted, in seconds (1 hour; IMDS credentials last about 6 hours).
pub const MAX_REFRESH_WINDOW_SECS: u32 = 3_600;

/// Whether the config file was found, for the `imds settings` report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConfigFileStatus {
    /// The file was read.
    Read,
    /// Nothing exists at the path (not an error, even for a path named by `AWS_CONFIG_FILE`).
    NotFound,
    /// No path could be formed: `AWS_CONFIG_FILE` and `HOME` are both unset.
    NoHome,
}

/// Which config file and profile the host used: recorded by [`Resolver::set_origin`] and printed
/// by [`Settings::write_report`] so that a user can see why a profile value was (not) applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigOrigin {
    /// The active profile (`AWS_PROFILE`, else `default`), truncated for display.
    pub profile: ShortText<64>,
    /// [`Source::Env`] when `AWS_PROFILE` named it, else [`Source::Default`].
    pub profile_source: Source,
    /// Whether the config file has a section for the profile.
    pub profile_found: bool,
    /// The config file path (empty with [`ConfigFileStatus::NoHome`]), truncated for display.
    pub path: ShortText<256>,
    /// [`Source::Env`] when `AWS_CONFIG_FILE` named it, else [`Source::Default`] (`~/.aws/config`).
    pub path_source: Source,
    /// Whether it was read.
    pub status: ConfigFileStatus,
}

/// Resolved settings: every value with its source. Build with [`Resolver::resolve`];
/// [`Settings::default`] is what resolving nothing gives.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// IMDS disabled. When `true`, make no request: report [`Settings::disabled_error`].
    pub disabled: Resolved<bool>,
    /// IMDSv1 fallback refused.
    pub v1_disabled: Resolved<bool>,
    /// The endpoint in force; its source is the endpoint's, or the mode's when derived from a mode.
    pub endpoint: Resolved<Endpoint>,
    /// The endpoint mode as resolved (informational when an endpoint is configured).
    pub endpoint_mode: Resolved<EndpointMode>,
    /// Connect and read timeout, milliseconds.
    pub timeout_ms: Resolved<u32>,
    /// Attempts per request; transport failures are retried only when this is not the default.
    pub attempts: Resolved<u8>,
    /// Configured instance profile (role) name, skipping discovery.
    pub instance_profile_name: Resolved<Option<RoleName>>,
    /// Token TTL requested, seconds.
    pub token_ttl_secs: Resolved<u32>,
    /// Credentials API.
    pub credentials_api: Resolved<CredentialsApi>,
    /// Refresh window, seconds.
    pub refresh_window_secs: Resolved<u32>,
    /// Which config file and profile were used, when the host recorded it.
    pub config_origin: Option<ConfigOrigin>,
    /// The text that set `disabled` (for the Disabled error message).
    disabled_text: ShortText<64>,
    /// Whether the endpoint was derived from the endpoint mode (no endpoint configured).
    endpoint_from_mode: bool,
}

const fn default_of<T>(value: T) -> Resolved<T> {
    Resolved {
        value,
        source: Source::Default,
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            disabled: default_of(false),
            v1_disabled: default_of(false),
            endpoint: default_of(Endpoint::for_mode(EndpointMode::Ipv4)),
            endpoint_mode: default_of(EndpointMode::Ipv4),
            timeout_ms: default_of(DEFAULT_TIMEOUT_MS),
            attempts: default_of(DEFAULT_ATTEMPTS),
            instance_profile_name: default_of(None),
            token_ttl_secs: default_of(DEFAULT_TOKEN_TTL_SECS),
            credentials_api: default_of(CredentialsApi::Legacy),
            refresh_window_secs: default_of(DEFAULT_REFRESH_WINDOW_SECS),
            config_origin: None,
            disabled_text: ShortText::new("false"),
            endpoint_from_mode: true,
        }
    }
}

/// The request path of the IMDSv2 token, reported as `token_url`.
pub const TOKEN_PATH: &str = "/latest/api/token";

impl Settings {
    /// The [`ErrorKind::Disabled`] error to report when IMDS is disabled (`None` when enabled):
    /// "IMDS is disabled by AWS_EC2_METADATA_DISABLED (env) = `true`; …". Clients and front ends
    /// return it instead of making any request (exit status 3 for `imds`).
    pub fn disabled_error(&self) -> Option<Error> {
        self.disabled.value.then(|| {
            Error::new(
                ErrorKind::Disabled,
                Context::Setting {
                    setting: Setting::Disabled,
                    source: self.disabled.source,
                    value: self.disabled_text,
                    problem: SettingProblem::NotABoolean,
                },
            )
        })
    }

    /// Whether the endpoint came from the endpoint mode (no endpoint was configured).
    pub const fn endpoint_from_mode(&self) -> bool {
        self.endpoint_from_mode
    }

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
    /// `; ignored: an endpoint is set`. Then `token_url = URL`, and when the host recorded them,
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

impl<const N: usize> Slot<N> {
    fn store(value: &str) -> Self {
        match heapless::String::try_from(value) {
            Ok(text) => Self::Value(text),
            Err(_) => Self::TooLong(ShortText::new(value)),
        }
    }
}

/// The winning raw value of a setting.
enum Raw<'a> {
    Text(&'a str),
    TooLong(&'a ShortText<64>),
}

/// Collects raw setting values from every source and resolves them. See the module docs.
///
/// Values are stored in fixed-capacity slots (640 bytes for the endpoint, 160 for the others);
/// a longer value is remembered as too long and is an error only if it wins.
#[derive(Clone, Debug, Default)]
pub struct Resolver {
    /// `[setting][source]` for every setting but the endpoint, sources as in [`SOURCES`].
    values: [[Slot<TEXT_CAPACITY>; 3]; 9],
    endpoint: [Slot<ENDPOINT_TEXT_CAPACITY>; 3],
    origin: Option<ConfigOrigin>,
}

/// Index of `setting` in [`Resolver::values`] (the endpoint has its own slots).
const fn value_index(setting: Setting) -> usize {
    match setting {
        Setting::Disabled => 0,
        Setting::V1Disabled => 1,
        Setting::EndpointMode => 2,
        Setting::Timeout => 3,
        Setting::Attempts => 4,
        Setting::InstanceProfileName => 5,
        Setting::TokenTtl => 6,
        Setting::CredentialsApi => 7,
        Setting::RefreshWindow | Setting::Endpoint => 8,
    }
}

const fn source_index(source: Source) -> usize {
    match source {
        Source::Explicit => 0,
        Source::Env => 1,
        Source::Profile | Source::Default => 2,
    }
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
        let at = source_index(source);
        if setting == Setting::Endpoint {
            if let Some(slot) = self.endpoint.get_mut(at) {
                *slot = if unset {
                    Slot::Unset
                } else {
                    Slot::store(value)
                };
            }
        } else if let Some(slot) = self
            .values
            .get_mut(value_index(setting))
            .and_then(|slots| slots.get_mut(at))
        {
            *slot = if unset {
                Slot::Unset
            } else {
                Slot::store(value)
            };
        }
        Ok(())
    }

    /// Removes the value of `setting` from `source`, if any.
    pub fn unset(&mut self, setting: Setting, source: Source) {
        let at = source_index(source);
        if !has_source(setting, source) {
            return;
        }
        if setting == Setting::Endpoint {
            if let Some(slot) = self.endpoint.get_mut(at) {
                *slot = Slot::Unset;
            }
        } else if let Some(slot) = self
            .values
            .get_mut(value_index(setting))
            .and_then(|slots| slots.get_mut(at))
        {
            *slot = Slot::Unset;
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
        for (at, source) in SOURCES.into_iter().enumerate() {
            let raw = if setting == Setting::Endpoint {
                match self.endpoint.get(at) {
                    Some(Slot::Value(text)) => Some(Raw::Text(text.as_str())),
                    Some(Slot::TooLong(start)) => Some(Raw::TooLong(start)),
                    Some(Slot::Unset) | None => None,
                }
            } else {
                match self
                    .values
                    .get(value_index(setting))
                    .and_then(|slots| slots.get(at))
                {
                    Some(Slot::Value(text)) => Some(Raw::Text(text.as_str())),
                    Some(Slot::TooLong(start)) => Some(Raw::TooLong(start)),
                    Some(Slot::Unset) | None => None,
                }
            };
            if let Some(raw) = raw {
                return Some((raw, source));
            }
        }
        None
    }

    /// Parses the winning value of `setting` with `parse`, or gives `default`.
    fn resolve_one<T>(
        &self,
        setting: Setting,
        default: T,
        parse: impl Fn(&str) -> Result<T, SettingProblem>,
    ) -> Result<Resolved<T>, Error> {
        match self.winner(setting) {
            None => Ok(default_of(default)),
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

/// `true` or `false`, ASCII-case-insensitive.
pub fn parse_bool(text: &str) -> Result<bool, SettingProblem> {
    let text = text.trim_ascii();
    if text.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if text.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(SettingProblem::NotABoolean)
    }
}

/// `IPv4` or `IPv6`, ASCII-case-insensitive.
pub fn parse_endpoint_mode(text: &str) -> Result<EndpointMode, SettingProblem> {
    let text = text.trim_ascii();
    if text.eq_ignore_ascii_case("ipv4") {
        Ok(EndpointMode::Ipv4)
    } else if text.eq_ignore_ascii_case("ipv6") {
        Ok(EndpointMode::Ipv6)
    } else {
        Err(SettingProblem::NotAnEndpointMode)
    }
}

/// `legacy` or `extended`, ASCII-case-insensitive.
pub fn parse_credentials_api(text: &str) -> Result<CredentialsApi, SettingProblem> {
    let text = text.trim_ascii();
    if text.eq_ignore_ascii_case("legacy") {
        Ok(CredentialsApi::Legacy)
    } else if text.eq_ignore_ascii_case("extended") {
        Ok(CredentialsApi::Extended)
    } else {
        Err(SettingProblem::NotACredentialsApi)
    }
}

/// The value of a non-empty run of ASCII digits, `None` on anything else or above `u64::MAX`.
fn parse_digits(text: &str) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    text.bytes().try_fold(0u64, |total, b| {
        let digit = (b as char).to_digit(10)?;
        total.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// Decimal seconds greater than 0 (`1`, `0.5`, `.25`, `2.`), as milliseconds rounded half up;
/// at most `u32::MAX` milliseconds.
pub fn parse_timeout_ms(text: &str) -> Result<u32, SettingProblem> {
    let text = text.trim_ascii();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && fraction.is_empty() {
        return Err(SettingProblem::NotATimeout);
    }
    if !whole
        .bytes()
        .chain(fraction.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return Err(SettingProblem::NotATimeout);
    }
    let whole = if whole.is_empty() {
        0
    } else {
        parse_digits(whole).ok_or(SettingProblem::NotATimeout)?
    };
    let mut digits = fraction.bytes().map(|b| u64::from(b - b'0'));
    let mut millis = 0u64;
    for _ in 0..3 {
        millis = millis * 10 + digits.next().unwrap_or(0);
    }
    if digits.next().is_some_and(|d| d >= 5) {
        millis += 1;
    }
    let total = whole
        .checked_mul(1000)
        .and_then(|ms| ms.checked_add(millis))
        .ok_or(SettingProblem::NotATimeout)?;
    match u32::try_from(total) {
        Ok(ms) if ms > 0 => Ok(ms),
        _ => Err(SettingProblem::NotATimeout),
    }
}

/// A whole number of attempts from 1 to [`MAX_ATTEMPTS`].
pub fn parse_attempts(text: &str) -> Result<u8, SettingProblem> {
    match parse_digits(text.trim_ascii()) {
        Some(n) if n >= 1 && n <= u64::from(MAX_ATTEMPTS) => {
            u8::try_from(n).map_err(|_| SettingProblem::NotAnAttemptCount)
        }
        _ => Err(SettingProblem::NotAnAttemptCount),
    }
}

/// Whole seconds from `min` to `max`.
fn parse_seconds(text: &str, min: u32, max: u32) -> Result<u32, SettingProblem> {
    match parse_digits(text.trim_ascii()) {
        Some(n) if n >= u64::from(min) && n <= u64::from(max) => {
            u32::try_from(n).map_err(|_| SettingProblem::NotSeconds)
        }
        _ => Err(SettingProblem::NotSeconds),
    }
}

/// A configured instance profile name: a valid IAM name (a blank one is refused).
fn parse_role_name(text: &str) -> Result<Option<RoleName>, SettingProblem> {
    let text = text.trim_ascii();
    if !is_valid_iam_name(text) {
        return Err(SettingProblem::NotAnIamName);
    }
    RoleName::try_from(text)
        .map(Some)
        .map_err(|_| SettingProblem::NotAnIamName)
}

/// Whether `name` is a valid IAM role / instance profile name: 1 to 128 characters from ASCII
/// letters, digits and `+=,.@_-`. Anything else is refused, never spliced into a request path.
pub fn is_valid_iam_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= ROLE_NAME_CAPACITY
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}
