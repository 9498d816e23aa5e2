//! Credentials as IMDS returns them, bounded and redacted in `Debug`.
//!
//! The credentials document (`GET …/security-credentials/<role>`) is parsed without allocating into
//! fixed-capacity strings. The secret access key and session token are never shown by `Debug`; they
//! leave this type only through the explicit accessors and [`Credentials::write_process_json`].
//! The document itself is read by `json`; expirations are [`UnixTime`]s.

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

    /// A copy with a different expiration (static stability extends expired credentials).
    pub(crate) fn with_expiration(&self, expiration: UnixTime) -> Self {
        let mut copy = self.clone();
        copy.expiration = expiration;
        copy
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
            .field("secret_access_key", &"** redacted **")
            .field("session_token", &"** redacted **")
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

    fn credentials(account_id: Option<&str>) -> Credentials {
        Credentials {
            access_key_id: heapless::String::try_from("ASIARTEST").unwrap(),
            secret_access_key: heapless::String::try_from("wJalrXUtnFEMI/K7MDENG").unwrap(),
            session_token: heapless::String::try_from("AQoEXAMPLEH4aoAH0gNCAPy").unwrap(),
            expiration: UnixTime::from_secs(1_632_197_813),
            account_id: account_id.map(|id| heapless::String::try_from(id).unwrap()),
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
        tricky.session_token =
            heapless::String::try_from("a\"b\\c\nd\re\tf\u{8}g\u{c}h\u{1}i\u{1f}j é\u{7f}")
                .unwrap();
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
        assert!(shown.contains("redacted"), "{shown}");
        let pretty = format!("{:#?}", credentials(None));
        assert!(!pretty.contains("wJalrXUtnFEMI") && !pretty.contains("AQoEXAMPLE"));
    }

    #[test]
    fn with_expiration_changes_only_the_expiration() {
        let original = credentials(Some("123456789101"));
        let extended = original.with_expiration(UnixTime::from_secs(2_000_000_000));
        assert_eq!(extended.expiration(), UnixTime::from_secs(2_000_000_000));
        assert_eq!(original.expiration(), UnixTime::from_secs(1_632_197_813));
        assert_eq!(extended.with_expiration(original.expiration()), original);
    }
}
