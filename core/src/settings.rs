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
//! | `instance_profile_name` | an IAM name, see [`crate::role::is_valid_iam_name`] |
//! | `token_ttl` | whole seconds from 1 to [`MAX_TOKEN_TTL_SECS`] |
//! | `credentials_api` | `legacy` or `extended`, ASCII-case-insensitive |
//! | `refresh_window` | whole seconds from 0 to [`MAX_REFRESH_WINDOW_SECS`] |
//!
//! Only the winning value of each setting is parsed: an invalid value that a higher-precedence
//! source overrides is not an error. The winning value of every setting must be valid, even the
//! endpoint mode when an endpoint makes it irrelevant.
//!
//! The module is split by concern: [`names`] (settings and sources, a leaf that errors use),
//! `parse` (the value parsers of the table above), `resolver` ([`Resolver`]) and `report`
//! ([`Settings::write_report`], [`Settings::write_value`]); this file holds the resolved
//! [`Settings`] themselves.

pub mod names;
mod parse;
mod report;
mod resolver;

pub use self::names::{Setting, Source};
pub use self::resolver::Resolver;

use crate::endpoint::{Endpoint, EndpointMode};
use crate::error::{Context, Error, ErrorKind};
use crate::role::RoleName;
use crate::text::ShortText;

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

impl<T> Resolved<T> {
    /// `value` from [`Source::Default`].
    const fn default_of(value: T) -> Self {
        Self {
            value,
            source: Source::Default,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            disabled: Resolved::default_of(false),
            v1_disabled: Resolved::default_of(false),
            endpoint: Resolved::default_of(Endpoint::for_mode(EndpointMode::Ipv4)),
            endpoint_mode: Resolved::default_of(EndpointMode::Ipv4),
            timeout_ms: Resolved::default_of(DEFAULT_TIMEOUT_MS),
            attempts: Resolved::default_of(DEFAULT_ATTEMPTS),
            instance_profile_name: Resolved::default_of(None),
            token_ttl_secs: Resolved::default_of(DEFAULT_TOKEN_TTL_SECS),
            credentials_api: Resolved::default_of(CredentialsApi::Legacy),
            refresh_window_secs: Resolved::default_of(DEFAULT_REFRESH_WINDOW_SECS),
            config_origin: None,
            disabled_text: ShortText::new("false"),
            endpoint_from_mode: true,
        }
    }
}

impl Settings {
    /// The [`ErrorKind::Disabled`] error to report when IMDS is disabled (`None` when enabled):
    /// "IMDS is disabled by AWS_EC2_METADATA_DISABLED (env) = `true`; …". Clients and front ends
    /// return it instead of making any request (exit status 3 for `imds`).
    pub fn disabled_error(&self) -> Option<Error> {
        self.disabled.value.then(|| {
            Error::new(
                ErrorKind::Disabled,
                Context::Disabled {
                    source: self.disabled.source,
                    value: self.disabled_text,
                },
            )
        })
    }

    /// Whether the endpoint came from the endpoint mode (no endpoint was configured).
    pub const fn endpoint_from_mode(&self) -> bool {
        self.endpoint_from_mode
    }
}
