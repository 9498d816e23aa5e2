//! What an AWS SDK credential chain does when the IMDS provider fails: one rule for every
//! integration (Node's `CredentialsProviderError.tryNextLink`, botocore's and aiobotocore's
//! `load()` returning `None` or raising).
//!
//! When IMDS cannot give credentials (unreachable, disabled, no role, an error answer, bad data)
//! the chain goes on to its next provider: on a machine that is not an EC2 instance, or whose
//! instance has no role, the credentials come from elsewhere. An invalid setting stops the chain
//! with the configuration error instead, since going on would hide the mistake behind "no
//! credentials found". An IMDS that answered with an error (not merely absent) is worth one
//! warning per provider: the next provider's credentials may not be the ones the user expected.
//!
//! ```
//! use imds_core::chain::ChainOutcome;
//! use imds_core::ErrorKind;
//!
//! assert_eq!(ChainOutcome::of(ErrorKind::ConnectFailed), ChainOutcome::NextProvider);
//! assert_eq!(ChainOutcome::of(ErrorKind::HttpStatus), ChainOutcome::NextProviderWithWarning);
//! assert_eq!(ChainOutcome::of(ErrorKind::InvalidSetting), ChainOutcome::Stop);
//! assert!(ChainOutcome::of(ErrorKind::NoRole).goes_on());
//! ```

use crate::error::ErrorKind;

/// How a credential chain treats an IMDS provider error of some [`ErrorKind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChainOutcome {
    /// IMDS is not there to give credentials (unreachable, timed out, cut off, disabled, or no
    /// role attached): go on to the next provider; log at debug level only.
    NextProvider,
    /// IMDS answered with an error or with data the core refuses: go on to the next provider,
    /// after logging the error once per provider at warning level.
    NextProviderWithWarning,
    /// The settings are invalid (or the API was misused): stop the chain with this error, which
    /// says what to fix.
    Stop,
}

impl ChainOutcome {
    /// The outcome for an error of `kind`.
    pub const fn of(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::Disabled
            | ErrorKind::ConnectFailed
            | ErrorKind::Timeout
            | ErrorKind::Io
            | ErrorKind::ConnectionClosed
            | ErrorKind::NoRole => Self::NextProvider,
            ErrorKind::MalformedResponse
            | ErrorKind::ResponseTooLarge
            | ErrorKind::HttpStatus
            | ErrorKind::InvalidToken
            | ErrorKind::V1FallbackBlocked
            | ErrorKind::InvalidRoleName
            | ErrorKind::RoleUnstable
            | ErrorKind::InvalidInstanceProfile
            | ErrorKind::CredentialsRejected
            | ErrorKind::MalformedCredentials => Self::NextProviderWithWarning,
            // A setting that is invalid, or valid but impossible for this host (an `https`
            // endpoint for a plain-TCP driver), and misuse of the API: going on would hide them.
            ErrorKind::InvalidSetting
            | ErrorKind::ConfigFile
            | ErrorKind::InvalidArgument
            | ErrorKind::InvalidState
            | ErrorKind::Unsupported => Self::Stop,
        }
    }

    /// Whether the chain goes on to its next provider (`tryNextLink` in the AWS SDK for
    /// JavaScript; `load()` returning `None` in botocore).
    pub const fn goes_on(self) -> bool {
        !matches!(self, Self::Stop)
    }

    /// Whether the error is logged once per provider at warning level.
    pub const fn warns(self) -> bool {
        matches!(self, Self::NextProviderWithWarning)
    }

    /// `next_provider`, `next_provider_with_warning` or `stop`: how bindings name the outcome.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NextProvider => "next_provider",
            Self::NextProviderWithWarning => "next_provider_with_warning",
            Self::Stop => "stop",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_configuration_errors_stop_the_chain() {
        let stopping: heapless::Vec<ErrorKind, 21> = ErrorKind::ALL
            .into_iter()
            .filter(|kind| !ChainOutcome::of(*kind).goes_on())
            .collect();
        assert_eq!(
            stopping.as_slice(),
            &[
                ErrorKind::InvalidSetting,
                ErrorKind::ConfigFile,
                ErrorKind::InvalidState,
                ErrorKind::InvalidArgument,
                ErrorKind::Unsupported,
            ]
        );
    }

    #[test]
    fn an_absent_imds_is_quiet_and_an_error_answer_warns() {
        for quiet in [
            ErrorKind::Disabled,
            ErrorKind::ConnectFailed,
            ErrorKind::Timeout,
            ErrorKind::NoRole,
        ] {
            assert_eq!(ChainOutcome::of(quiet), ChainOutcome::NextProvider);
            assert!(!ChainOutcome::of(quiet).warns());
        }
        for answered in [
            ErrorKind::HttpStatus,
            ErrorKind::CredentialsRejected,
            ErrorKind::MalformedCredentials,
        ] {
            assert!(ChainOutcome::of(answered).goes_on());
            assert!(ChainOutcome::of(answered).warns());
        }
        assert!(!ChainOutcome::Stop.warns());
    }
}
