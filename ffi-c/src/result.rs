//! `imds_result`: the outcome of every fallible function, with frozen numbers.
//!
//! `IMDS_RESULT_OK` is 0. Codes 1 to 999 are the binding's own (NULL pointer, buffer too small,
//! ...). Codes from 1000 are the core's errors: `1000 + ErrorKind::number()`, so
//! `IMDS_RESULT_DISABLED` is 1001 because `ErrorKind::Disabled` is 1. Numbers are never reused;
//! retired ones stay listed here as reserved.

use core::ffi::c_char;

use imds_core::ErrorKind;

/// The outcome of a fallible `imds_*` function. Outputs are written only on `IMDS_RESULT_OK`,
/// with one documented exception: `IMDS_RESULT_BUFFER_TOO_SMALL` writes the length needed.
///
/// `imds_result_str()` gives a short static description; objects keep the full message of their
/// last failure (`imds_client_last_error()`, `imds_config_last_error()`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum imds_result {
    /// Success.
    Ok = 0,
    /// A pointer argument was NULL.
    NullParameter = 1,
    /// The library panicked (a bug); the object involved should be freed.
    Panic = 2,
    /// A caller buffer or storage is too small; nothing was written.
    InsufficientSize = 3,
    /// Caller storage is not aligned to `imds_client_align()`.
    Misaligned = 4,
    /// There is nothing to return (no credentials yet, no body, no queued diagnostic, no error).
    NotAvailable = 5,
    /// The client was deinitialised (or never initialised) with `imds_client_deinit()`.
    NotInitialized = 6,
    /// The command line does not follow the `imds` command's usage.
    Usage = 7,
    /// The data is longer than the caller's buffer: the only output written is the length the
    /// buffer needs, in the function's length out-parameter (`imds_fetch_metadata()`'s
    /// `*body_len_out`); the buffer is left untouched. Unlike `IMDS_RESULT_INSUFFICIENT_SIZE`,
    /// which writes nothing, this tells how much to allocate.
    BufferTooSmall = 8,
    /// A core error of a kind this version of the binding does not know by name.
    OtherError = 1000,
    /// IMDS is disabled (`AWS_EC2_METADATA_DISABLED=true`; an invalid value of that setting is
    /// `IMDS_RESULT_INVALID_SETTING`).
    Disabled = 1001,
    /// A setting has a value that is not accepted.
    InvalidSetting = 1002,
    /// The shared config file is malformed.
    ConfigFile = 1003,
    /// Functions were called out of order (e.g. data fed with no receive pending).
    InvalidState = 1004,
    /// An argument is not acceptable (bad path, unknown setting key, not UTF-8, bad enum value).
    InvalidArgument = 1005,
    /// The TCP connection could not be made.
    ConnectFailed = 1006,
    /// A read timed out, or the operation's deadline passed.
    Timeout = 1007,
    /// Another I/O error reported by the host.
    Io = 1008,
    /// The server closed the connection before a whole response arrived.
    ConnectionClosed = 1009,
    /// The response is not valid HTTP/1.1 or not what IMDS sends.
    MalformedResponse = 1010,
    /// The response is larger than the client's receive buffer.
    ResponseTooLarge = 1011,
    /// IMDS answered with an HTTP status that ends the operation.
    HttpStatus = 1012,
    /// The IMDSv2 token in the response is empty, too long or not header-safe.
    InvalidToken = 1013,
    /// An IMDSv1 fallback was needed but `ec2_metadata_v1_disabled` blocks it.
    V1FallbackBlocked = 1014,
    /// No IAM role is attached to the instance.
    NoRole = 1015,
    /// The role name is not a valid IAM name.
    InvalidRoleName = 1016,
    /// The role kept changing between discovery and fetch.
    RoleUnstable = 1017,
    /// The configured instance profile name does not exist on this instance.
    InvalidInstanceProfile = 1018,
    /// IMDS returned a credentials document whose `Code` is not `Success`.
    CredentialsRejected = 1019,
    /// The credentials document is malformed or misses a field.
    MalformedCredentials = 1020,
    /// The host cannot do what the settings need (e.g. an https endpoint with a plain-TCP driver).
    Unsupported = 1021,
}

impl From<ErrorKind> for imds_result {
    fn from(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::Disabled => Self::Disabled,
            ErrorKind::InvalidSetting => Self::InvalidSetting,
            ErrorKind::ConfigFile => Self::ConfigFile,
            ErrorKind::InvalidState => Self::InvalidState,
            ErrorKind::InvalidArgument => Self::InvalidArgument,
            ErrorKind::ConnectFailed => Self::ConnectFailed,
            ErrorKind::Timeout => Self::Timeout,
            ErrorKind::Io => Self::Io,
            ErrorKind::ConnectionClosed => Self::ConnectionClosed,
            ErrorKind::MalformedResponse => Self::MalformedResponse,
            ErrorKind::ResponseTooLarge => Self::ResponseTooLarge,
            ErrorKind::HttpStatus => Self::HttpStatus,
            ErrorKind::InvalidToken => Self::InvalidToken,
            ErrorKind::V1FallbackBlocked => Self::V1FallbackBlocked,
            ErrorKind::NoRole => Self::NoRole,
            ErrorKind::InvalidRoleName => Self::InvalidRoleName,
            ErrorKind::RoleUnstable => Self::RoleUnstable,
            ErrorKind::InvalidInstanceProfile => Self::InvalidInstanceProfile,
            ErrorKind::CredentialsRejected => Self::CredentialsRejected,
            ErrorKind::MalformedCredentials => Self::MalformedCredentials,
            ErrorKind::Unsupported => Self::Unsupported,
            _ => Self::OtherError,
        }
    }
}

impl imds_result {
    /// The core error kind behind a result from 1000 up, if any.
    pub fn error_kind(self) -> Option<ErrorKind> {
        ErrorKind::ALL
            .into_iter()
            .find(|kind| Self::from(*kind) == self)
    }

    /// A short static description, NUL-terminated for C.
    pub const fn describe(self) -> &'static core::ffi::CStr {
        match self {
            Self::Ok => c"success",
            Self::NullParameter => c"a pointer argument was NULL",
            Self::Panic => c"the library panicked (a bug; please report it)",
            Self::InsufficientSize => c"the buffer or storage is too small",
            Self::Misaligned => c"the storage is not aligned to imds_client_align()",
            Self::NotAvailable => c"nothing to return",
            Self::NotInitialized => {
                c"the client is not initialised (deinitialised or never set up)"
            }
            Self::Usage => c"the command line does not follow the usage",
            Self::BufferTooSmall => {
                c"the buffer is too small for the data; the length it needs was written"
            }
            Self::OtherError => c"error",
            Self::Disabled => c"IMDS is disabled",
            Self::InvalidSetting => c"invalid setting",
            Self::ConfigFile => c"malformed config file",
            Self::InvalidState => c"API used out of order",
            Self::InvalidArgument => c"invalid argument",
            Self::ConnectFailed => c"could not connect to IMDS",
            Self::Timeout => c"timed out waiting for IMDS",
            Self::Io => c"I/O error talking to IMDS",
            Self::ConnectionClosed => {
                c"IMDS closed the connection before the response was complete"
            }
            Self::MalformedResponse => c"malformed HTTP response from IMDS",
            Self::ResponseTooLarge => c"IMDS response is larger than the receive buffer",
            Self::HttpStatus => c"unexpected HTTP status from IMDS",
            Self::InvalidToken => c"IMDS returned an invalid session token",
            Self::V1FallbackBlocked => c"IMDSv1 fallback blocked",
            Self::NoRole => c"no IAM role is attached to this instance",
            Self::InvalidRoleName => c"IMDS returned an invalid IAM role name",
            Self::RoleUnstable => c"the instance's IAM role kept changing",
            Self::InvalidInstanceProfile => {
                c"the configured instance profile name does not exist on this instance"
            }
            Self::CredentialsRejected => c"IMDS refused credentials",
            Self::MalformedCredentials => c"malformed credentials document from IMDS",
            Self::Unsupported => c"not supported by this host",
        }
    }

    /// Every result, in number order (for tables and tests).
    pub const ALL: [imds_result; 31] = [
        Self::Ok,
        Self::NullParameter,
        Self::Panic,
        Self::InsufficientSize,
        Self::Misaligned,
        Self::NotAvailable,
        Self::NotInitialized,
        Self::Usage,
        Self::BufferTooSmall,
        Self::OtherError,
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
}

/// A short static description of `result` (NUL-terminated, never NULL, do not free). Numbers
/// that are not an `imds_result` give "unknown result".
///
/// For the full message of a failure (which setting, which value, what to do) use the failing
/// object's `_last_error` function.
#[unsafe(no_mangle)]
pub extern "C" fn imds_result_str(result: u32) -> *const c_char {
    ffi_boundary! {
        imds_result::ALL
            .into_iter()
            .find(|r| *r as u32 == result)
            .map_or(c"unknown result".as_ptr(), |r| r.describe().as_ptr())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_kinds_map_to_1000_plus_their_frozen_number() {
        for kind in ErrorKind::ALL {
            let result = imds_result::from(kind);
            assert_eq!(result as u32, 1000 + u32::from(kind.number()), "{kind:?}");
            assert_eq!(result.error_kind(), Some(kind));
        }
    }

    #[test]
    fn all_lists_every_result_once_in_order() {
        let numbers: Vec<u32> = imds_result::ALL.iter().map(|r| *r as u32).collect();
        let mut sorted = numbers.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(numbers, sorted);
        assert_eq!(numbers.len(), 9 + 1 + ErrorKind::ALL.len());
    }
}
