//! The names of settings and of the sources a value comes from: [`Setting`] with its code name,
//! environment variable and config-file key, and [`Source`] in precedence order.
//!
//! A leaf module: errors name settings and sources, so nothing here may depend on the rest of the
//! crate.

use core::fmt;

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
