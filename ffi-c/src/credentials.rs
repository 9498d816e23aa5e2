//! `imds_credentials`: a view of the credentials a client holds.

use imds_core::Credentials;

use crate::text::imds_str;

/// Temporary AWS credentials, as views into the client that fetched them.
///
/// The strings are valid until the next call that takes that client as non-`const` (a new
/// operation may replace them); copy what you keep. The secret access key and the session token
/// are secrets: never log them.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct imds_credentials {
    /// The access key id (`ASIA…`).
    pub access_key_id: imds_str,
    /// The secret access key. Secret.
    pub secret_access_key: imds_str,
    /// The session token. Secret.
    pub session_token: imds_str,
    /// When the credentials expire, in seconds since the Unix epoch (UTC).
    pub expiration: i64,
    /// The AWS account id; empty when IMDS did not send one (legacy API).
    pub account_id: imds_str,
}

impl imds_credentials {
    /// Views of `credentials`; valid as long as they are.
    pub(crate) fn borrow(credentials: &Credentials) -> Self {
        Self {
            access_key_id: imds_str::borrow(credentials.access_key_id()),
            secret_access_key: imds_str::borrow(credentials.secret_access_key()),
            session_token: imds_str::borrow(credentials.session_token()),
            expiration: credentials.expiration().as_secs(),
            account_id: credentials
                .account_id()
                .map_or(imds_str::EMPTY, imds_str::borrow),
        }
    }
}
