//! Diagnostics: what happened during an operation, as values the host can log.
//!
//! The [`crate::Client`] queues diagnostics (fallbacks taken and why, retries, expiration extended,
//! each request and status for tracing); the host drains them with `Client::poll_diagnostic` and
//! logs them at [`Diagnostic::level`]. They never contain a secret: no token, secret key or session
//! token is ever copied into one.

use core::fmt;

use crate::error::{FallbackReason, Step};
use crate::text::ShortText;

/// How loud a diagnostic is, mapped by hosts to their logging levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Request-level detail (what `--trace` shows).
    Trace,
    /// Normal but noteworthy.
    Info,
    /// Something a user should know about (fallbacks, extended expirations).
    Warn,
}

/// HTTP methods IMDS requests use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// `PUT` (token).
    Put,
    /// `GET` (everything else).
    Get,
}

impl Method {
    /// `PUT` or `GET`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Put => "PUT",
            Self::Get => "GET",
        }
    }
}

/// One thing that happened, for the host to log.
// Diagnostics live in a fixed queue of equal-sized slots, so the larger trace variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Diagnostic {
    /// A request was written (for `--trace`). `with_token` says whether an IMDSv2 token was attached
    /// (the token itself is never included).
    RequestSent {
        /// `PUT` or `GET`.
        method: Method,
        /// The request target (path), truncated.
        target: ShortText<200>,
        /// Whether `x-aws-ec2-metadata-token` was sent.
        with_token: bool,
    },
    /// A response status arrived (for `--trace`).
    ResponseReceived {
        /// Which request.
        step: Step,
        /// HTTP status.
        status: u16,
    },
    /// IMDSv1 is used instead of a token.
    FallbackToV1 {
        /// Why.
        reason: FallbackReason,
        /// Whether later operations keep using IMDSv1 (until a 401).
        sticky: bool,
    },
    /// The token request timed out after connecting: typical of a container behind an instance
    /// whose IMDS hop limit is 1.
    HopLimitHint,
    /// A 401 made the client drop its token (and leave a sticky IMDSv1 state).
    TokenDropped,
    /// A request will be retried after a back-off.
    RetryScheduled {
        /// Which request.
        step: Step,
        /// The attempt that failed (1-based).
        attempt: u8,
        /// The HTTP status that caused the retry (0 for a transport failure).
        status: u16,
        /// The back-off before the next attempt.
        delay_ms: u32,
    },
    /// IMDS returned credentials that were already expired; they are used for a few more minutes.
    ExpirationExtended {
        /// Minutes until the next refresh attempt.
        minutes: u32,
    },
    /// IMDS failed; the last good credentials are returned and refresh is paused.
    UsingLastGoodCredentials {
        /// Minutes until the next refresh attempt.
        retry_in_minutes: u32,
    },
    /// Cached credentials are still fresh; no request was made.
    CredentialsFromCache,
    /// The role was not found where discovery said; discovering it again.
    RoleRediscovery,
    /// The extended credentials API is not available; using the legacy API from now on.
    ExtendedApiUnavailable,
    /// Bytes came that no request asked for (before a request was written, or behind a whole
    /// response): the connection was closed and what came on it discarded, the IMDSv2 token
    /// read on it included (its answer may have been one of those stray responses).
    UnsolicitedBytes {
        /// How many bytes the host reported (the first read of them).
        len: usize,
        /// Whether the token the client held came on that connection and was dropped.
        token_dropped: bool,
    },
}

impl Diagnostic {
    /// How loud this diagnostic is.
    pub const fn level(&self) -> Level {
        match self {
            Self::RequestSent { .. } | Self::ResponseReceived { .. } => Level::Trace,
            Self::RetryScheduled { .. }
            | Self::CredentialsFromCache
            | Self::RoleRediscovery
            | Self::ExtendedApiUnavailable => Level::Info,
            Self::FallbackToV1 { .. }
            | Self::HopLimitHint
            | Self::TokenDropped
            | Self::UnsolicitedBytes { .. }
            | Self::ExpirationExtended { .. }
            | Self::UsingLastGoodCredentials { .. } => Level::Warn,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RequestSent {
                method,
                target,
                with_token,
            } => write!(
                f,
                "> {} {}{}",
                method.as_str(),
                target,
                if *with_token { " (token)" } else { "" }
            ),
            Self::ResponseReceived { status, .. } => write!(f, "< {status}"),
            Self::FallbackToV1 { reason, sticky } => write!(
                f,
                "falling back to IMDSv1 because {reason}{}",
                if *sticky { " (until IMDS answers 401)" } else { " (this operation only)" }
            ),
            Self::HopLimitHint => f.write_str(
                "the token request timed out after connecting: in a container, raise the instance's \
                 metadata hop limit to 2 (http-put-response-hop-limit)",
            ),
            Self::TokenDropped => f.write_str("IMDS answered 401: dropping the token and retrying with a new one"),
            Self::RetryScheduled {
                step,
                attempt,
                status,
                delay_ms,
            } if *status == 0 => write!(
                f,
                "{} attempt {attempt} failed; retrying in {delay_ms} ms",
                step.as_str()
            ),
            Self::RetryScheduled {
                step,
                attempt,
                status,
                delay_ms,
            } => write!(
                f,
                "{} attempt {attempt} failed ({status}); retrying in {delay_ms} ms",
                step.as_str()
            ),
            Self::ExpirationExtended { minutes } => write!(
                f,
                "Attempting credential expiration extension due to a credential service availability issue. \
                 A refresh of these credentials will be attempted again within the next {minutes} minutes."
            ),
            Self::UsingLastGoodCredentials { retry_in_minutes } => write!(
                f,
                "IMDS failed; using the last good credentials and trying again in {retry_in_minutes} minutes"
            ),
            Self::CredentialsFromCache => f.write_str("using cached credentials"),
            Self::RoleRediscovery => f.write_str("role not found at the discovered name; discovering it again"),
            Self::ExtendedApiUnavailable => {
                f.write_str("the extended credentials API is not available; using the legacy API")
            }
            Self::UnsolicitedBytes {
                len,
                token_dropped: false,
            } => write!(
                f,
                "IMDS sent {len} bytes that no request asked for: closed the connection and \
                 discarded them"
            ),
            Self::UnsolicitedBytes {
                len,
                token_dropped: true,
            } => write!(
                f,
                "IMDS sent {len} bytes that no request asked for: closed the connection, \
                 discarded them and dropped the token that came on it"
            ),
        }
    }
}
