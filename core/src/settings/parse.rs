//! Value parsers: the text of a setting, as any source gives it, to its typed value, or the
//! [`SettingProblem`] that says what is accepted. Every value is trimmed of ASCII whitespace.

use super::{CredentialsApi, MAX_ATTEMPTS};
use crate::endpoint::EndpointMode;
use crate::error::SettingProblem;
use crate::role::{self, RoleName};

/// `true` or `false`, ASCII-case-insensitive.
pub(super) fn parse_bool(text: &str) -> Result<bool, SettingProblem> {
    let text = text.trim_ascii();
    if text.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if text.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(SettingProblem::NotABoolean)
    }
}

/// `IPv4` or `IPv6`, ASCII-case-insensitive.
pub(super) fn parse_endpoint_mode(text: &str) -> Result<EndpointMode, SettingProblem> {
    let text = text.trim_ascii();
    if text.eq_ignore_ascii_case("ipv4") {
        Ok(EndpointMode::Ipv4)
    } else if text.eq_ignore_ascii_case("ipv6") {
        Ok(EndpointMode::Ipv6)
    } else {
        Err(SettingProblem::NotAnEndpointMode)
    }
}

/// `legacy` or `extended`, ASCII-case-insensitive.
pub(super) fn parse_credentials_api(text: &str) -> Result<CredentialsApi, SettingProblem> {
    let text = text.trim_ascii();
    if text.eq_ignore_ascii_case("legacy") {
        Ok(CredentialsApi::Legacy)
    } else if text.eq_ignore_ascii_case("extended") {
        Ok(CredentialsApi::Extended)
    } else {
        Err(SettingProblem::NotACredentialsApi)
    }
}

/// The value of a non-empty run of ASCII digits, `None` on anything else or above `u64::MAX`.
fn parse_digits(text: &str) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    text.bytes().try_fold(0u64, |total, b| {
        let digit = (b as char).to_digit(10)?;
        total.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// Decimal seconds greater than 0 (`1`, `0.5`, `.25`, `2.`), as milliseconds rounded half up;
/// at most `u32::MAX` milliseconds.
pub(super) fn parse_timeout_ms(text: &str) -> Result<u32, SettingProblem> {
    let text = text.trim_ascii();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && fraction.is_empty() {
        return Err(SettingProblem::NotATimeout);
    }
    if !whole
        .bytes()
        .chain(fraction.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return Err(SettingProblem::NotATimeout);
    }
    let whole = if whole.is_empty() {
        0
    } else {
        parse_digits(whole).ok_or(SettingProblem::NotATimeout)?
    };
    let mut digits = fraction.bytes().map(|b| u64::from(b - b'0'));
    let mut millis = 0u64;
    for _ in 0..3 {
        millis = millis * 10 + digits.next().unwrap_or(0);
    }
    if digits.next().is_some_and(|d| d >= 5) {
        millis += 1;
    }
    let total = whole
        .checked_mul(1000)
        .and_then(|ms| ms.checked_add(millis))
        .ok_or(SettingProblem::NotATimeout)?;
    match u32::try_from(total) {
        Ok(ms) if ms > 0 => Ok(ms),
        _ => Err(SettingProblem::NotATimeout),
    }
}

/// A whole number of attempts from 1 to [`MAX_ATTEMPTS`].
pub(super) fn parse_attempts(text: &str) -> Result<u8, SettingProblem> {
    match parse_digits(text.trim_ascii()) {
        Some(n) if n >= 1 && n <= u64::from(MAX_ATTEMPTS) => {
            u8::try_from(n).map_err(|_| SettingProblem::NotAnAttemptCount)
        }
        _ => Err(SettingProblem::NotAnAttemptCount),
    }
}

/// Whole seconds from `min` to `max`.
pub(super) fn parse_seconds(text: &str, min: u32, max: u32) -> Result<u32, SettingProblem> {
    match parse_digits(text.trim_ascii()) {
        Some(n) if n >= u64::from(min) && n <= u64::from(max) => {
            u32::try_from(n).map_err(|_| SettingProblem::NotSeconds)
        }
        _ => Err(SettingProblem::NotSeconds),
    }
}

/// A configured instance profile name: a valid IAM name (a blank one is refused).
pub(super) fn parse_role_name(text: &str) -> Result<Option<RoleName>, SettingProblem> {
    role::parse_configured(text).map(Some)
}
