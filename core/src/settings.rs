//! Settings resolution: code, environment, the active config-file profile, defaults.
//!
//! A [`Resolver`] collects raw values with their [`Source`]; [`Resolver::resolve`] keeps, for each
//! [`Setting`], the value of the highest-precedence source (`Explicit > Env > Profile > Default`),
//! parses it, and returns [`Settings`] in which every value remembers where it came from (which is
//! what `imds settings` prints). An endpoint from any source beats every endpoint-mode source.
//!
//! The resolver does not read the environment or any file: the host feeds it (see `host` with the
//! `std` feature).

use core::fmt;

use crate::endpoint::Endpoint;
use crate::error::Error;

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

/// Resolved settings: every value with its source. Build with [`Resolver::resolve`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// IMDS disabled.
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
}

/// Collects raw setting values from every source and resolves them. See the module docs.
#[derive(Clone, Debug, Default)]
pub struct Resolver {
    // Filled in by the settings work (issue 2).
}

impl Resolver {
    /// An empty resolver: resolving it gives the defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `value` for `setting` from `source`.
    ///
    /// A later call with the same setting and source replaces the earlier value. Values are trimmed;
    /// an empty value means "unset". Only the value of the highest-precedence source is parsed by
    /// [`Resolver::resolve`]. Fails only when the value cannot be stored (longer than the fixed
    /// capacity) or the setting has no such source.
    pub fn set(&mut self, setting: Setting, source: Source, value: &str) -> Result<(), Error> {
        let _ = (setting, source, value);
        Ok(())
    }

    /// Resolves every setting. Errors name the setting, its source, the offending value and what is
    /// accepted. Any invalid value, including an invalid `AWS_EC2_METADATA_DISABLED`, is an error, so
    /// no [`Settings`] exist and no request can be made (fail closed).
    pub fn resolve(&self) -> Result<Settings, Error> {
        Err(Error::detail(
            crate::ErrorKind::InvalidState,
            "settings resolution not implemented yet",
        ))
    }
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
