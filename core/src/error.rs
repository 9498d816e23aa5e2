//! The one error type of the core.
//!
//! [`Error`] is `Copy`, carries the context a user needs (which setting, from which source, with
//! which value; which step; which HTTP status; the `Code` IMDS returned) and renders, through
//! `Display`, one sentence that says what is wrong and what to do. [`ErrorKind`] is the stable,
//! fieldless classification that bindings map to C result codes, Python exception classes and Node
//! `code` strings. Errors never carry a secret: no token, secret key or session token is ever
//! copied into one.
//!
//! Errors are terminal for the operation that produced them; the [`crate::Client`] stays usable for
//! the next operation.

use core::fmt;

use crate::settings::names::{Setting, Source};
use crate::text::ShortText;

/// The stable classification of an [`Error`].
///
/// The numbers are frozen: bindings expose them (`IMDS_RESULT_*` in C). New kinds get new numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[repr(u16)]
pub enum ErrorKind {
    /// IMDS is disabled (`AWS_EC2_METADATA_DISABLED=true`). An invalid value of that setting is
    /// [`ErrorKind::InvalidSetting`] instead (no settings exist, so no request is made either).
    Disabled = 1,
    /// A setting has a value that is not accepted.
    InvalidSetting = 2,
    /// The shared config file is malformed.
    ConfigFile = 3,
    /// The host called the API out of order (e.g. `handle_data` with no receive pending).
    InvalidState = 4,
    /// An argument passed by the host is not acceptable (e.g. a metadata path with spaces).
    InvalidArgument = 5,
    /// The TCP connection could not be made (refused, unreachable, connect timeout); the message
    /// names the endpoint.
    ConnectFailed = 6,
    /// A request was not written and answered in full within `timeout` (a server that sends
    /// nothing and one that sends slowly alike).
    Timeout = 7,
    /// Another I/O error reported by the host.
    Io = 8,
    /// The server closed or reset the connection before a whole response arrived (end of stream,
    /// reset, broken pipe: which one a host sees depends on timing).
    ConnectionClosed = 9,
    /// The response is not valid HTTP/1.1 or is not what IMDS sends.
    MalformedResponse = 10,
    /// The response is larger than the fixed receive buffer.
    ResponseTooLarge = 11,
    /// IMDS answered with an HTTP status that ends the operation.
    HttpStatus = 12,
    /// The IMDSv2 token in the response is empty, too long or not header-safe.
    InvalidToken = 13,
    /// An IMDSv1 fallback was needed but `ec2_metadata_v1_disabled` blocks it.
    V1FallbackBlocked = 14,
    /// No IAM role is attached to the instance (404 on the role list).
    NoRole = 15,
    /// The role name IMDS returned (or that was configured) is not a valid IAM name.
    InvalidRoleName = 16,
    /// The role kept changing between discovery and fetch; gave up after a bounded number of tries.
    RoleUnstable = 17,
    /// The configured instance profile name does not exist on this instance.
    InvalidInstanceProfile = 18,
    /// IMDS returned a credentials document whose `Code` is not `Success`.
    CredentialsRejected = 19,
    /// The credentials document is not the JSON IMDS sends, or a required field is missing.
    MalformedCredentials = 20,
    /// The host cannot do what the settings need (e.g. an `https` endpoint with a plain-TCP driver).
    Unsupported = 21,
}

impl ErrorKind {
    /// A short, stable `snake_case` name: Node's `err.code`, Python's `ImdsError.kind`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Disabled => "disabled",
            Self::InvalidSetting => "invalid_setting",
            Self::ConfigFile => "config_file",
            Self::InvalidState => "invalid_state",
            Self::InvalidArgument => "invalid_argument",
            Self::ConnectFailed => "connect_failed",
            Self::Timeout => "timeout",
            Self::Io => "io",
            Self::ConnectionClosed => "connection_closed",
            Self::MalformedResponse => "malformed_response",
            Self::ResponseTooLarge => "response_too_large",
            Self::HttpStatus => "http_status",
            Self::InvalidToken => "invalid_token",
            Self::V1FallbackBlocked => "v1_fallback_blocked",
            Self::NoRole => "no_role",
            Self::InvalidRoleName => "invalid_role_name",
            Self::RoleUnstable => "role_unstable",
            Self::InvalidInstanceProfile => "invalid_instance_profile",
            Self::CredentialsRejected => "credentials_rejected",
            Self::MalformedCredentials => "malformed_credentials",
            Self::Unsupported => "unsupported",
        }
    }

    /// Every kind, in number order (for bindings that build tables).
    pub const ALL: [ErrorKind; 21] = [
        Self::Disabled,
        Self::InvalidSetting,
        Self::ConfigFile,
        Self::InvalidState,
        Self::InvalidArgument,
        Self::ConnectFailed,
        Self::Timeout,
        Self::Io,
        Self::ConnectionClosed,
        Self::MalformedResponse,
        Self::ResponseTooLarge,
        Self::HttpStatus,
        Self::InvalidToken,
        Self::V1FallbackBlocked,
        Self::NoRole,
        Self::InvalidRoleName,
        Self::RoleUnstable,
        Self::InvalidInstanceProfile,
        Self::CredentialsRejected,
        Self::MalformedCredentials,
        Self::Unsupported,
    ];

    /// The frozen number of this kind.
    pub const fn number(self) -> u16 {
        self as u16
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which request of an operation an error or diagnostic is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// `PUT /latest/api/token`.
    Token,
    /// `GET /latest/meta-data/iam/security-credentials[-extended]/` (role discovery).
    RoleName,
    /// `GET /latest/meta-data/iam/security-credentials[-extended]/<role>`.
    Credentials,
    /// A generic metadata read (`start_get`).
    Metadata,
}

impl Step {
    /// A lower-case description for messages ("token request", ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Token => "token request",
            Self::RoleName => "role name request",
            Self::Credentials => "credentials request",
            Self::Metadata => "metadata request",
        }
    }
}

/// Why a setting's value was refused; each says what is accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SettingProblem {
    /// Not `true` or `false`.
    NotABoolean,
    /// Not `IPv4` or `IPv6`.
    NotAnEndpointMode,
    /// Not an absolute `http`/`https` URL with a host.
    NotAUrl,
    /// The URL has userinfo (`user@host`), which IMDS never needs.
    UrlHasUserinfo,
    /// The URL has a `#fragment`.
    UrlHasFragment,
    /// The URL's scheme is not `http` or `https`.
    UnsupportedScheme,
    /// The URL contains a character that is not allowed (space, control, ...).
    InvalidUrlCharacter,
    /// The port is not a number from 1 to 65535.
    InvalidPort,
    /// Not a positive decimal number of seconds.
    NotATimeout,
    /// Not a whole number from 1 to 10 ([`crate::settings::MAX_ATTEMPTS`]).
    NotAnAttemptCount,
    /// Not a valid IAM name (`[\w+=,.@-]{1,128}`).
    NotAnIamName,
    /// Not a whole number of seconds in the accepted range.
    NotSeconds,
    /// Not `legacy` or `extended`.
    NotACredentialsApi,
    /// The value is longer than the core can store.
    TooLong,
    /// The key is not a setting this library knows.
    UnknownSetting,
    /// The URL's host is not a host name, an IPv4 address or a bracketed IPv6 address.
    InvalidHost,
    /// The setting cannot be given from this source (e.g. `token_ttl` from the environment).
    NotFromThisSource,
}

impl SettingProblem {
    /// What the setting accepts, for the second half of the error message.
    pub const fn accepted(self) -> &'static str {
        match self {
            Self::NotABoolean => "expected true or false",
            Self::NotAnEndpointMode => "is not a valid endpoint mode; expected IPv4 or IPv6",
            Self::NotAUrl => {
                "expected an absolute http:// or https:// URL such as http://127.0.0.1:1338"
            }
            Self::UrlHasUserinfo => "userinfo (user@) is not allowed in the endpoint",
            Self::UrlHasFragment => "a #fragment is not allowed in the endpoint",
            Self::UnsupportedScheme => "expected an http:// or https:// URL",
            Self::InvalidUrlCharacter => {
                "invalid uri character; spaces and control characters are not allowed"
            }
            Self::InvalidPort => "expected a port from 1 to 65535",
            Self::NotATimeout => "expected a positive number of seconds such as 1 or 0.5",
            Self::NotAnAttemptCount => "expected a whole number of attempts from 1 to 10",
            Self::NotAnIamName => "expected 1 to 128 characters from letters, digits and +=,.@_-",
            Self::NotSeconds => {
                "expected a whole number of seconds (token_ttl: 1 to 21600; refresh_window: 0 to 3600)"
            }
            Self::NotACredentialsApi => "expected legacy or extended",
            Self::TooLong => "the value is too long",
            Self::UnknownSetting => "not a setting this library knows",
            Self::InvalidHost => {
                "expected a host name, an IPv4 address or a bracketed IPv6 address such as [::1]"
            }
            Self::NotFromThisSource => {
                "this setting cannot be given from this source (see the settings table in README.md)"
            }
        }
    }
}

/// Why the IMDSv1 fallback was (or would have been) taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FallbackReason {
    /// The token request was answered 403, 404 or 405 (the status is kept).
    TokenStatus(u16),
    /// The token request timed out after the connection was made (container hop-limit case).
    TokenReadTimeout,
    /// The token request kept failing with 5xx/429 until attempts ran out (status kept).
    TokenRetriesExhausted(u16),
}

impl fmt::Display for FallbackReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TokenStatus(status) => write!(f, "the token request was answered {status}"),
            Self::TokenReadTimeout => f.write_str("the token request timed out after connecting"),
            Self::TokenRetriesExhausted(status) => {
                write!(
                    f,
                    "the token request kept failing ({status}) until attempts ran out"
                )
            }
        }
    }
}

/// Why a connection to IMDS could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConnectProblem {
    /// Nothing listens on the endpoint (`ECONNREFUSED`).
    Refused,
    /// The connect did not complete within `timeout`.
    TimedOut,
    /// The network or host is unreachable, or the name does not resolve.
    Unreachable,
}

impl ConnectProblem {
    /// A short description: `connection refused`, `timed out`, `unreachable`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Refused => "connection refused",
            Self::TimedOut => "timed out",
            Self::Unreachable => "unreachable",
        }
    }
}

/// Longest endpoint text kept in [`Context::Connect`] (longer ones end with `…`); chosen so that
/// an [`Error`] is no larger than its largest other context.
pub const CONNECT_ENDPOINT_CAPACITY: usize = 224;

/// Context attached to an [`Error`]: what was being done and with which (non-secret) value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Context {
    /// No further context.
    None,
    /// A setting, where its value came from, the offending value and what is accepted.
    Setting {
        /// The setting.
        setting: Setting,
        /// Where the value came from.
        source: Source,
        /// The offending value (truncated).
        value: ShortText<64>,
        /// What is wrong with it.
        problem: SettingProblem,
    },
    /// A step of the exchange, with the HTTP status when there was one.
    Step {
        /// The request.
        step: Step,
        /// The HTTP status, 0 when none was received.
        status: u16,
    },
    /// The setting that disabled IMDS, where it came from and the (valid) value that did it.
    Disabled {
        /// Where `disabled` was set.
        source: Source,
        /// The value as given (`true` in any case, truncated).
        value: ShortText<64>,
    },
    /// The IMDSv1 fallback that a setting blocked.
    FallbackBlocked {
        /// Why the fallback was needed.
        reason: FallbackReason,
        /// Where `ec2_metadata_v1_disabled` was set.
        source: Source,
    },
    /// The `Code` and `Message` of a rejected credentials document.
    Credentials {
        /// IMDS's `Code` (truncated).
        code: ShortText<64>,
        /// IMDS's `Message` (truncated).
        message: ShortText<160>,
    },
    /// A field of the credentials document that is missing or malformed.
    Field(&'static str),
    /// A line of the config file and what is wrong on it.
    ConfigLine {
        /// 1-based line number.
        line: u32,
        /// What is wrong.
        problem: &'static str,
    },
    /// A free explanation (static text).
    Detail(&'static str),
    /// The endpoint a connection could not be made to, and why.
    Connect {
        /// Where: `scheme://host:port`, as the endpoint's `write_origin` writes it (endpoints
        /// never carry userinfo, so no secret).
        endpoint: ShortText<CONNECT_ENDPOINT_CAPACITY>,
        /// Why.
        problem: ConnectProblem,
    },
}

/// An error of the core: a kind, plus the context that lets `Display` say what to do.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    context: Context,
}

impl Error {
    /// An error of `kind` with `context`.
    pub const fn new(kind: ErrorKind, context: Context) -> Self {
        Self { kind, context }
    }

    /// An error of `kind` with a static explanation.
    pub const fn detail(kind: ErrorKind, detail: &'static str) -> Self {
        Self::new(kind, Context::Detail(detail))
    }

    /// An error of `kind` about `step`, with the HTTP `status` (0 if none).
    pub const fn at_step(kind: ErrorKind, step: Step, status: u16) -> Self {
        Self::new(kind, Context::Step { step, status })
    }

    /// An invalid value for `setting` from `source`.
    pub fn invalid_setting(
        setting: Setting,
        source: Source,
        value: &str,
        problem: SettingProblem,
    ) -> Self {
        Self::new(
            ErrorKind::InvalidSetting,
            Context::Setting {
                setting,
                source,
                value: ShortText::new(value),
                problem,
            },
        )
    }

    /// The classification of this error.
    pub const fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The context of this error.
    pub const fn context(&self) -> &Context {
        &self.context
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &format_args!("{self}"))
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.kind, &self.context) {
            (_, Context::Disabled { source, value }) => write!(
                f,
                "IMDS is disabled by {} ({}) = `{}`; unset it or set it to false to use instance credentials",
                Setting::Disabled.name_for(*source),
                source,
                value
            ),
            (
                _,
                Context::Setting {
                    setting,
                    source,
                    value,
                    problem,
                },
            ) => write!(
                f,
                "invalid {} ({}): `{}` {}",
                setting.name_for(*source),
                source,
                value,
                problem.accepted()
            ),
            (ErrorKind::V1FallbackBlocked, Context::FallbackBlocked { reason, source }) => {
                write!(
                    f,
                    "IMDSv1 fallback blocked by {} ({}): {}; allow IMDSv1 or make the IMDSv2 token request succeed",
                    Setting::V1Disabled.name_for(*source),
                    source,
                    reason
                )
            }
            (_, Context::Credentials { code, message }) => {
                write!(f, "IMDS refused credentials: [{code}]")?;
                if !message.is_empty() {
                    write!(f, " {message}")?;
                }
                if code.as_str() == "AssumeRoleUnauthorizedAccess" {
                    f.write_str(" (hint: does the role have a trust relationship with EC2?)")?;
                }
                Ok(())
            }
            (_, Context::Connect { endpoint, problem }) => write!(
                f,
                "could not connect to IMDS at {endpoint} ({}); is this an EC2 instance, and is the endpoint right?",
                problem.as_str()
            ),
            (ErrorKind::NoRole, _) => f.write_str(
                "no IAM role is attached to this instance (404 on the role list); attach an instance profile",
            ),
            (ErrorKind::HttpStatus, Context::Step { step, status }) => {
                write!(f, "IMDS answered {status} to the {}", step.as_str())
            }
            (kind, Context::Step { step, status }) if *status != 0 => {
                write!(f, "{} (HTTP {status}) in the {}", describe(kind), step.as_str())
            }
            (kind, Context::Step { step, .. }) => {
                write!(f, "{} in the {}", describe(kind), step.as_str())
            }
            (kind, Context::Field(field)) => write!(f, "{}: field `{field}`", describe(kind)),
            (kind, Context::ConfigLine { line, problem }) => {
                write!(f, "{} at line {line}: {problem}", describe(kind))
            }
            // A config file that cannot be read is not "malformed": the detail says it all.
            (ErrorKind::ConfigFile, Context::Detail(detail)) => f.write_str(detail),
            (kind, Context::Detail(detail)) => write!(f, "{}: {detail}", describe(kind)),
            (kind, _) => f.write_str(describe(kind)),
        }
    }
}

/// The generic sentence for a kind, used when the context adds nothing more specific.
const fn describe(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Disabled => "IMDS is disabled",
        ErrorKind::InvalidSetting => "invalid setting",
        ErrorKind::ConfigFile => "malformed config file",
        ErrorKind::InvalidState => "API used out of order",
        ErrorKind::InvalidArgument => "invalid argument",
        ErrorKind::ConnectFailed => {
            "could not connect to IMDS (is this an EC2 instance, and is the endpoint right?)"
        }
        ErrorKind::Timeout => "timed out waiting for IMDS",
        ErrorKind::Io => "I/O error talking to IMDS",
        ErrorKind::ConnectionClosed => {
            "IMDS closed or reset the connection before the response was complete"
        }
        ErrorKind::MalformedResponse => "malformed HTTP response from IMDS",
        ErrorKind::ResponseTooLarge => "IMDS response is larger than the receive buffer",
        ErrorKind::HttpStatus => "unexpected HTTP status from IMDS",
        ErrorKind::InvalidToken => "IMDS returned an invalid session token",
        ErrorKind::V1FallbackBlocked => "IMDSv1 fallback blocked",
        ErrorKind::NoRole => "no IAM role is attached to this instance",
        ErrorKind::InvalidRoleName => "IMDS returned an invalid IAM role name",
        ErrorKind::RoleUnstable => "the instance's IAM role kept changing; gave up",
        ErrorKind::InvalidInstanceProfile => {
            "the configured instance profile name does not exist on this instance"
        }
        ErrorKind::CredentialsRejected => "IMDS refused credentials",
        ErrorKind::MalformedCredentials => "malformed credentials document from IMDS",
        ErrorKind::Unsupported => "not supported by this host",
    }
}

impl core::error::Error for Error {}
