//! Credentials as IMDS returns them, bounded and redacted in `Debug`.
//!
//! The credentials document (`GET …/security-credentials/<role>`) is parsed without allocating into
//! fixed-capacity strings. The secret access key and session token are never shown by `Debug`; they
//! leave this type only through the explicit accessors and [`Credentials::write_process_json`].
//!
//! The role-list body and the RFC 3339 expirations are parsed here too (civil-date arithmetic in
//! integers, as in Howard Hinnant's `days_from_civil`).

use core::fmt;

use crate::error::{Error, ErrorKind};
use crate::settings::{RoleName, is_valid_iam_name};
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

/// Writes `text` as a JSON string literal: quotes, backslashes and control characters escaped.
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

/// Parses the role-list body: its first line, trimmed of ASCII whitespace, must be a valid IAM
/// name (`[\w+=,.@-]{1,128}`); anything else is rejected so that it is never spliced into a request.
pub(crate) fn parse_role_name(body: &[u8]) -> Result<RoleName, Error> {
    let invalid = |detail| Err(Error::detail(ErrorKind::InvalidRoleName, detail));
    let Ok(text) = core::str::from_utf8(body) else {
        return invalid("the role list is not UTF-8 text");
    };
    let first_line = text.trim_ascii().lines().next().unwrap_or("").trim_ascii();
    if first_line.is_empty() {
        return invalid("the role list is empty");
    }
    if !is_valid_iam_name(first_line) {
        return invalid(
            "the role name is not 1 to 128 characters from letters, digits and +=,.@_-",
        );
    }
    let mut name = RoleName::new();
    match name.push_str(first_line) {
        Ok(()) => Ok(name),
        Err(_) => invalid("the role name is longer than 128 bytes"),
    }
}

/// Seconds in a day.
const SECS_PER_DAY: i64 = 86_400;
/// Days from 0000-03-01 to 1970-01-01 in the proleptic Gregorian calendar.
const DAYS_TO_UNIX_EPOCH: i64 = 719_468;
/// Days in a 400-year cycle of the Gregorian calendar.
const DAYS_PER_ERA: i64 = 146_097;
/// The earliest time [`write_rfc3339`] can print (0000-01-01T00:00:00Z).
const EARLIEST_PRINTABLE: i64 = -62_167_219_200;
/// The latest time [`write_rfc3339`] can print (9999-12-31T23:59:59Z).
const LATEST_PRINTABLE: i64 = 253_402_300_799;

/// Parses an RFC 3339 date-time (see [`UnixTime::parse_rfc3339`]): `YYYY-MM-DDTHH:MM:SS`, an
/// optional fraction (dropped), then `Z` or `±HH:MM`, normalised to UTC. Impossible dates and times
/// (month 13, February 30, hour 24, second 60) are rejected.
pub(crate) fn parse_rfc3339(text: &str) -> Option<UnixTime> {
    let mut cursor = Digits(text.as_bytes());
    let year = cursor.number(4)?;
    cursor.literal(b'-')?;
    let month = cursor.number(2)?;
    cursor.literal(b'-')?;
    let day = cursor.number(2)?;
    cursor.either(b'T', b't')?;
    let hour = cursor.number(2)?;
    cursor.literal(b':')?;
    let minute = cursor.number(2)?;
    cursor.literal(b':')?;
    let second = cursor.number(2)?;
    if cursor.peek() == Some(b'.') {
        cursor.advance();
        cursor.fraction()?;
    }
    let offset_secs = match cursor.next()? {
        b'Z' | b'z' => 0,
        sign @ (b'+' | b'-') => {
            let offset_hour = cursor.number(2)?;
            cursor.literal(b':')?;
            let offset_minute = cursor.number(2)?;
            if offset_hour > 23 || offset_minute > 59 {
                return None;
            }
            let magnitude = offset_hour * 3_600 + offset_minute * 60;
            if sign == b'+' { magnitude } else { -magnitude }
        }
        _ => return None,
    };
    if !cursor.0.is_empty()
        || !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let local = days * SECS_PER_DAY + hour * 3_600 + minute * 60 + second;
    Some(UnixTime::from_secs(local - offset_secs))
}

/// Writes `time` as `YYYY-MM-DDTHH:MM:SSZ`. Times outside years 0000–9999 are clamped to that range
/// so that the output is always a valid RFC 3339 date-time.
pub(crate) fn write_rfc3339(time: UnixTime, out: &mut fmt::Formatter<'_>) -> fmt::Result {
    let secs = time.as_secs().clamp(EARLIEST_PRINTABLE, LATEST_PRINTABLE);
    let days = secs.div_euclid(SECS_PER_DAY);
    let second_of_day = secs.rem_euclid(SECS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        second_of_day / 3_600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

/// Whether `year` is a leap year of the Gregorian calendar.
const fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days in `month` (1–12) of `year`.
const fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a valid civil date (Howard Hinnant's `days_from_civil`).
const fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * DAYS_PER_ERA + day_of_era - DAYS_TO_UNIX_EPOCH
}

/// The civil date `(year, month, day)` of a day count since 1970-01-01 (Hinnant's `civil_from_days`).
const fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + DAYS_TO_UNIX_EPOCH;
    let era = days.div_euclid(DAYS_PER_ERA);
    let day_of_era = days - era * DAYS_PER_ERA;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

/// A cursor over the bytes of a date-time being parsed.
struct Digits<'a>(&'a [u8]);

impl Digits<'_> {
    fn peek(&self) -> Option<u8> {
        self.0.first().copied()
    }

    fn advance(&mut self) {
        self.0 = self.0.get(1..).unwrap_or(&[]);
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.advance();
        Some(byte)
    }

    fn literal(&mut self, expected: u8) -> Option<()> {
        (self.next()? == expected).then_some(())
    }

    fn either(&mut self, first: u8, second: u8) -> Option<()> {
        let byte = self.next()?;
        (byte == first || byte == second).then_some(())
    }

    /// Exactly `count` ASCII digits as a number.
    fn number(&mut self, count: usize) -> Option<i64> {
        let mut value = 0;
        for _ in 0..count {
            let byte = self.next()?;
            if !byte.is_ascii_digit() {
                return None;
            }
            value = value * 10 + i64::from(byte - b'0');
        }
        Some(value)
    }

    /// One or more digits of a fraction of a second, which is dropped.
    fn fraction(&mut self) -> Option<()> {
        let digits = self
            .0
            .iter()
            .take_while(|byte| byte.is_ascii_digit())
            .count();
        if digits == 0 {
            return None;
        }
        self.0 = self.0.get(digits..).unwrap_or(&[]);
        Some(())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::format;
    use std::string::String;

    use super::*;
    use crate::error::Context;

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

    fn role(body: &str) -> Result<RoleName, Error> {
        parse_role_name(body.as_bytes())
    }

    fn role_detail(body: &[u8]) -> &'static str {
        let error = parse_role_name(body).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidRoleName);
        match error.context() {
            Context::Detail(detail) => detail,
            other => panic!("expected a detail, got {other:?}"),
        }
    }

    #[test]
    fn role_name_is_the_first_line_trimmed() {
        assert_eq!(role("my-role").unwrap().as_str(), "my-role");
        assert_eq!(role("my-role\n").unwrap().as_str(), "my-role");
        assert_eq!(
            role("  my-role \r\nother-role\n").unwrap().as_str(),
            "my-role"
        );
        assert_eq!(role("\n\n\tmy-role\n").unwrap().as_str(), "my-role");
        assert_eq!(role("a+=,.@_-Z9").unwrap().as_str(), "a+=,.@_-Z9");
    }

    #[test]
    fn role_name_of_128_characters_is_accepted() {
        let name = "r".repeat(128);
        assert_eq!(role(&name).unwrap().as_str(), name);
    }

    #[test]
    fn empty_role_list_is_an_invalid_role_name() {
        for body in ["", "\n", "  \r\n \t "] {
            assert_eq!(
                role_detail(body.as_bytes()),
                "the role list is empty",
                "{body:?}"
            );
        }
    }

    #[test]
    fn role_names_that_are_not_iam_names_are_refused() {
        let too_long = "r".repeat(129);
        for body in [
            "my role",
            "../../latest/api/token",
            "role/with/slashes",
            "role?x=1",
            "role%20",
            "rôle",
            "role\u{0}",
            "<html><body>404</body></html>",
            too_long.as_str(),
        ] {
            assert_eq!(
                role_detail(body.as_bytes()),
                "the role name is not 1 to 128 characters from letters, digits and +=,.@_-",
                "{body:?}"
            );
        }
    }

    #[test]
    fn role_list_that_is_not_utf8_is_refused() {
        assert_eq!(role_detail(b"role\xff"), "the role list is not UTF-8 text");
    }
}
