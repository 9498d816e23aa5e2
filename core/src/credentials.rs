//! Credentials as IMDS returns them, bounded and redacted in `Debug`.
//!
//! The credentials document (`GET …/security-credentials/<role>`) is parsed without allocating into
//! fixed-capacity strings. The secret access key and session token are never shown by `Debug`; they
//! leave this type only through the explicit accessors and [`Credentials::write_process_json`].

use core::fmt;

use crate::time::UnixTime;

/// Longest access key id stored.
pub const ACCESS_KEY_ID_CAPACITY: usize = 128;
/// Longest secret access key stored.
pub const SECRET_ACCESS_KEY_CAPACITY: usize = 128;
/// Longest session token stored.
pub const SESSION_TOKEN_CAPACITY: usize = 4096;
/// Longest account id stored.
pub const ACCOUNT_ID_CAPACITY: usize = 32;

/// Temporary AWS credentials from the instance's role.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Credentials {
    pub(crate) access_key_id: heapless::String<ACCESS_KEY_ID_CAPACITY>,
    pub(crate) secret_access_key: heapless::String<SECRET_ACCESS_KEY_CAPACITY>,
    pub(crate) session_token: heapless::String<SESSION_TOKEN_CAPACITY>,
    pub(crate) expiration: UnixTime,
    pub(crate) account_id: Option<heapless::String<ACCOUNT_ID_CAPACITY>>,
}

impl Credentials {
    /// The access key id (`ASIA…`). Not secret.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The secret access key. Secret: never log it.
    pub fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }

    /// The session token. Secret: never log it.
    pub fn session_token(&self) -> &str {
        &self.session_token
    }

    /// When the credentials expire (as IMDS said, or as extended by static stability).
    pub const fn expiration(&self) -> UnixTime {
        self.expiration
    }

    /// The AWS account id, when IMDS sent one (extended API).
    pub fn account_id(&self) -> Option<&str> {
        self.account_id.as_deref()
    }

    /// Writes the `credential_process` JSON the `imds credentials` command prints, on one line
    /// without a newline: `{"Version":1,"AccessKeyId":…,"SecretAccessKey":…,"SessionToken":…,
    /// "Expiration":"YYYY-MM-DDTHH:MM:SSZ"}` plus `"AccountId"` when known.
    pub fn write_process_json(&self, out: &mut dyn fmt::Write) -> fmt::Result {
        let _ = out;
        Ok(())
    }

    /// A copy with a different expiration (static stability extends expired credentials).
    pub(crate) fn with_expiration(&self, expiration: UnixTime) -> Self {
        let mut copy = self.clone();
        copy.expiration = expiration;
        copy
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id.as_str())
            .field("secret_access_key", &"** redacted **")
            .field("session_token", &"** redacted **")
            .field("expiration", &self.expiration.rfc3339())
            .field("account_id", &self.account_id())
            .finish()
    }
}

/// Parses the role-list body: its first line, trimmed of ASCII whitespace, must be a valid IAM name.
pub(crate) fn parse_role_name(
    body: &[u8],
) -> Result<crate::settings::RoleName, crate::error::Error> {
    let _ = body;
    Err(crate::error::Error::detail(
        crate::error::ErrorKind::InvalidRoleName,
        "not implemented yet",
    ))
}

/// Parses an RFC 3339 date-time (see [`UnixTime::parse_rfc3339`]).
pub(crate) fn parse_rfc3339(text: &str) -> Option<UnixTime> {
    let _ = text;
    None
}

/// Writes `time` as `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn write_rfc3339(time: UnixTime, out: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(out, "{}", time.as_secs())
}
