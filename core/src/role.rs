//! IAM role names: the one check every role name passes, whether a program configured it
//! (`ec2_instance_profile_name`) or IMDS listed it (the role-list body).
//!
//! A name is 1 to [`ROLE_NAME_CAPACITY`] characters from ASCII letters, digits and `+=,.@_-`
//! (IAM's own rule). Anything else is refused, so that no text from a setting or a server is ever
//! spliced into a request path. A role list that holds a secret the client knows (the IMDSv2
//! token, say, when answers arrive out of order) is refused too: a secret never goes into a path.

use crate::error::{Error, ErrorKind, SettingProblem};

/// The longest IAM role / instance profile name (IAM's own limit).
pub const ROLE_NAME_CAPACITY: usize = 128;

/// A validated IAM role name (`[\w+=,.@-]{1,128}`).
pub type RoleName = heapless::String<ROLE_NAME_CAPACITY>;

/// Whether `name` is a valid IAM role / instance profile name: 1 to 128 characters from ASCII
/// letters, digits and `+=,.@_-`.
pub fn is_valid_iam_name(name: &str) -> bool {
    iam_name(name).is_some()
}

/// `name` as a [`RoleName`], when it is a valid IAM name.
fn iam_name(name: &str) -> Option<RoleName> {
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
    {
        return None;
    }
    RoleName::try_from(name)
        .ok()
        .filter(|stored| !stored.is_empty())
}

/// A configured instance profile name (trimmed): a valid IAM name, a blank one included in the
/// refusal.
pub(crate) fn parse_configured(text: &str) -> Result<RoleName, SettingProblem> {
    iam_name(text.trim_ascii()).ok_or(SettingProblem::NotAnIamName)
}

/// Parses the role-list body IMDS sends: its first line, trimmed of ASCII whitespace, must be a
/// valid IAM name; anything else is [`ErrorKind::InvalidRoleName`], and so is a body that contains
/// one of `secrets` (the secrets the client holds) anywhere.
pub(crate) fn parse_role_list(body: &[u8], secrets: &[&str]) -> Result<RoleName, Error> {
    let invalid = |detail| Err(Error::detail(ErrorKind::InvalidRoleName, detail));
    if crate::secret::contains_any(body, secrets) {
        return invalid(
            "the role list contains the IMDSv2 token or a credentials secret (are IMDS's answers \
             out of order?); it is not used",
        );
    }
    let Ok(text) = core::str::from_utf8(body) else {
        return invalid("the role list is not UTF-8 text");
    };
    let first_line = text.trim_ascii().lines().next().unwrap_or("").trim_ascii();
    if first_line.is_empty() {
        return invalid("the role list is empty");
    }
    if !first_line.bytes().all(|b| matches!(b, b' '..=b'~')) {
        return invalid("the role name contains a control character or non-ASCII text");
    }
    match iam_name(first_line) {
        Some(name) => Ok(name),
        None => {
            invalid("the role name is not 1 to 128 characters from letters, digits and +=,.@_-")
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::string::String;

    use super::*;
    use crate::error::Context;

    fn role(body: &str) -> Result<RoleName, Error> {
        parse_role_list(body.as_bytes(), &[])
    }

    fn role_detail(body: &[u8]) -> &'static str {
        role_detail_with(body, &[])
    }

    fn role_detail_with(body: &[u8], secrets: &[&str]) -> &'static str {
        let error = parse_role_list(body, secrets).unwrap_err();
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
        let name: String = "r".repeat(128);
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
        let too_long: String = "r".repeat(129);
        for body in [
            "my role",
            "../../latest/api/token",
            "role/with/slashes",
            "role?x=1",
            "role%20",
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
    fn role_names_with_control_characters_or_non_ascii_are_refused() {
        for body in [
            "rôle",
            "role\u{0}",
            "ro\u{1b}[31mle",
            "role\u{7f}",
            "r\u{202e}ole",
        ] {
            assert_eq!(
                role_detail(body.as_bytes()),
                "the role name contains a control character or non-ASCII text",
                "{body:?}"
            );
        }
    }

    #[test]
    fn a_role_list_holding_a_secret_of_the_client_is_refused() {
        let refused = "the role list contains the IMDSv2 token or a credentials secret (are \
                       IMDS's answers out of order?); it is not used";
        for body in [
            "mock-imds-token-1",
            "role-mock-imds-token-1-x",
            "my-role\nmock-imds-token-1\n",
        ] {
            assert_eq!(
                role_detail_with(body.as_bytes(), &["mock-imds-token-1", "", ""]),
                refused,
                "{body:?}"
            );
        }
        assert_eq!(role_detail_with(b"my-role", &["", "my-role", ""]), refused);
        let role = parse_role_list(b"my-role", &["mock-imds-token-1", "", ""]).unwrap();
        assert_eq!(role.as_str(), "my-role");
    }

    #[test]
    fn role_list_that_is_not_utf8_is_refused() {
        assert_eq!(role_detail(b"role\xff"), "the role list is not UTF-8 text");
    }

    #[test]
    fn configured_names_are_trimmed_and_checked_by_the_same_rule() {
        assert_eq!(parse_configured("  my-role\t").unwrap().as_str(), "my-role");
        for text in ["", "   ", "my role", "role/x", &"r".repeat(129)] {
            assert_eq!(
                parse_configured(text).unwrap_err(),
                SettingProblem::NotAnIamName,
                "{text:?}"
            );
        }
        assert!(is_valid_iam_name(&"r".repeat(128)));
        assert!(!is_valid_iam_name(""));
    }
}
