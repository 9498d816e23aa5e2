//! Credentials as IMDS returns them, bounded, wiped and redacted in `Debug`.
//!
//! The credentials document (`GET …/security-credentials/<role>`) is parsed without allocating into
//! fixed-capacity strings. The secret access key and session token are shown by `Debug` as their
//! length only; they leave this type only through the explicit accessors and
//! [`Credentials::write_process_json`]. Every field is overwritten, over its whole capacity, when
//! the credentials are replaced or dropped (see [`crate::secret`]). The document itself is read by
//! `json`; expirations are [`UnixTime`]s.

use core::fmt;

use crate::secret::{Redacted, SecretString};
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
///
/// Not `Copy`: a copy could not be wiped. A clone is wiped when it is dropped, but a moved value
/// leaves its old bytes behind: keep credentials in one place (the client does), and wipe copies
/// you make of the strings yourself.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Credentials {
    pub(crate) access_key_id: SecretString<ACCESS_KEY_ID_CAPACITY>,
    pub(crate) secret_access_key: SecretString<SECRET_ACCESS_KEY_CAPACITY>,
    pub(crate) session_token: SecretString<SESSION_TOKEN_CAPACITY>,
    pub(crate) expiration: UnixTime,
    pub(crate) account_id: Option<SecretString<ACCOUNT_ID_CAPACITY>>,
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
    ///
    /// This is the only way besides the accessors that secrets leave the type: write it to the
    /// process that asked for credentials, never to a log.
    pub fn write_process_json(&self, out: &mut dyn fmt::Write) -> fmt::Result {
        out.write_str("{\"Version\":1,\"AccessKeyId\":")?;
        write_json_string(&self.access_key_id, out)?;
        out.write_str(",\"SecretAccessKey\":")?;
        write_json_string(&self.secret_access_key, out)?;
        out.write_str(",\"SessionToken\":")?;
        write_json_string(&self.session_token, out)?;
        write!(out, ",\"Expiration\":\"{}\"", self.expiration.rfc3339())?;
        if let Some(account_id) = self.account_id() {
            out.write_str(",\"AccountId\":")?;
            write_json_string(account_id, out)?;
        }
        out.write_str("}")
    }

    /// Overwrites every field (each string over its whole capacity: see [`crate::secret`]) and
    /// leaves the credentials empty. Dropped credentials wipe their fields too.
    pub(crate) fn wipe(&mut self) {
        self.access_key_id.wipe();
        self.secret_access_key.wipe();
        self.session_token.wipe();
        // Dropping the account id wipes it.
        self.account_id = None;
        self.expiration = UnixTime::default();
    }

    /// Wipes these credentials and copies `other` into them in place, field by field (no
    /// temporary holds a secret).
    pub(crate) fn replace_with(&mut self, other: &Self) {
        self.wipe();
        // Each field has the same capacity as the one it is copied from: the pushes cannot fail.
        self.access_key_id.push_str(&other.access_key_id);
        self.secret_access_key.push_str(&other.secret_access_key);
        self.session_token.push_str(&other.session_token);
        if let Some(account_id) = &other.account_id {
            self.account_id
                .insert(SecretString::new())
                .push_str(account_id);
        }
        self.expiration = other.expiration;
    }
}

/// Writes `text` as a JSON string literal: quotes, backslashes and control characters escaped
/// (hand-written rather than serde-json-core: see "Why not serde-json-core" in `json.rs`).
fn write_json_string(text: &str, out: &mut dyn fmt::Write) -> fmt::Result {
    out.write_char('"')?;
    let mut plain_from = 0;
    for (index, byte) in text.bytes().enumerate() {
        let escape = match byte {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            0x00..=0x1f => None,
            _ => continue,
        };
        out.write_str(text.get(plain_from..index).unwrap_or(""))?;
        match escape {
            Some(escape) => out.write_str(escape)?,
            None => write!(out, "\\u{byte:04x}")?,
        }
        plain_from = index + 1;
    }
    out.write_str(text.get(plain_from..).unwrap_or(""))?;
    out.write_char('"')
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id.as_str())
            .field("secret_access_key", &Redacted(self.secret_access_key.len()))
            .field("session_token", &Redacted(self.session_token.len()))
            .field("expiration", &format_args!("{}", self.expiration.rfc3339()))
            .field("account_id", &self.account_id())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::format;
    use std::string::String;

    use super::*;

    fn text<const N: usize>(value: &str) -> SecretString<N> {
        let mut text = SecretString::new();
        assert!(text.push_str(value));
        text
    }

    fn credentials(account_id: Option<&str>) -> Credentials {
        Credentials {
            access_key_id: text("ASIARTEST"),
            secret_access_key: text("wJalrXUtnFEMI/K7MDENG"),
            session_token: text("AQoEXAMPLEH4aoAH0gNCAPy"),
            expiration: UnixTime::from_secs(1_632_197_813),
            account_id: account_id.map(text),
        }
    }

    fn process_json(credentials: &Credentials) -> String {
        let mut out = String::new();
        credentials.write_process_json(&mut out).unwrap();
        out
    }

    #[test]
    fn process_json_has_the_documented_keys_in_order() {
        assert_eq!(
            process_json(&credentials(None)),
            r#"{"Version":1,"AccessKeyId":"ASIARTEST","SecretAccessKey":"wJalrXUtnFEMI/K7MDENG","SessionToken":"AQoEXAMPLEH4aoAH0gNCAPy","Expiration":"2021-09-21T04:16:53Z"}"#
        );
    }

    #[test]
    fn process_json_ends_with_the_account_id_when_known() {
        assert_eq!(
            process_json(&credentials(Some("123456789101"))),
            r#"{"Version":1,"AccessKeyId":"ASIARTEST","SecretAccessKey":"wJalrXUtnFEMI/K7MDENG","SessionToken":"AQoEXAMPLEH4aoAH0gNCAPy","Expiration":"2021-09-21T04:16:53Z","AccountId":"123456789101"}"#
        );
    }

    #[test]
    fn process_json_escapes_strings() {
        let mut tricky = credentials(Some("1\"2"));
        tricky.session_token = text("a\"b\\c\nd\re\tf\u{8}g\u{c}h\u{1}i\u{1f}j é\u{7f}");
        let json = process_json(&tricky);
        assert!(
            json.contains(r#""SessionToken":"a\"b\\c\nd\re\tf\bg\fh\u0001i\u001fj é"#),
            "{json}"
        );
        assert!(json.ends_with(r#""AccountId":"1\"2"}"#), "{json}");
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["SessionToken"], tricky.session_token.as_str());
        assert_eq!(value["AccountId"], "1\"2");
        assert_eq!(value["Version"], 1);
    }

    #[test]
    fn debug_redacts_secrets() {
        let shown = format!("{:?}", credentials(Some("123456789101")));
        assert!(!shown.contains("wJalrXUtnFEMI"), "{shown}");
        assert!(!shown.contains("AQoEXAMPLE"), "{shown}");
        assert!(shown.contains("ASIARTEST"), "{shown}");
        assert!(shown.contains("2021-09-21T04:16:53Z"), "{shown}");
        assert!(shown.contains("123456789101"), "{shown}");
        assert!(
            shown.contains("secret_access_key: <redacted, 21 bytes>"),
            "{shown}"
        );
        assert!(
            shown.contains("session_token: <redacted, 23 bytes>"),
            "{shown}"
        );
        let pretty = format!("{:#?}", credentials(None));
        assert!(!pretty.contains("wJalrXUtnFEMI") && !pretty.contains("AQoEXAMPLE"));
    }

    #[test]
    fn replace_with_copies_every_field_and_wipe_empties_them() {
        let mut slot = credentials(Some("123456789101"));
        let other = credentials(None);
        slot.replace_with(&other);
        assert_eq!(slot, other);
        slot.wipe();
        assert_eq!(slot, Credentials::default());
        assert!(slot.secret_access_key().is_empty() && slot.session_token().is_empty());
    }
}
