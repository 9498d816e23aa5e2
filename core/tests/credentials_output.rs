//! Credentials as users see them, through the public API: documents IMDS sends go through a
//! [`Client`] (bytes fed by hand, no socket), then out as the `credential_process` JSON, as `Debug`
//! and as error messages.

// Test code: a failed unwrap is a failed test. The crate's lints target the library.
#![allow(clippy::unwrap_used, clippy::panic)]

#[macro_use]
mod client_support;

use client_support::{TOKEN, WALL, client, ok, t, token_ok};
use imds_core::{Client, Error, ErrorKind};

/// Runs token, role and credentials requests, answering the last with `document`; returns the
/// client after `Done`, or the error that ended the operation.
fn fetch(document: &str) -> Result<Client, Error> {
    let mut client = client();
    client.start_credentials(t(0), WALL).unwrap();
    expect_connect!(client, at 0);
    expect_send!(client, at 0, contains "PUT /latest/api/token ");
    feed!(client, at 1, token_ok(21_600));
    expect_send!(client, at 1, contains "GET /latest/meta-data/iam/security-credentials/ ");
    feed!(client, at 2, ok("my-role"));
    expect_send!(client, at 2, contains "GET /latest/meta-data/iam/security-credentials/my-role ");
    feed!(client, at 3, ok(document));
    match client.poll(t(3)) {
        Ok(imds_core::Action::Done) => Ok(client),
        Ok(other) => panic!("expected Done or an error, got {other:?}"),
        Err(error) => Err(error),
    }
}

fn process_json(client: &Client) -> String {
    let mut out = String::new();
    client
        .credentials()
        .unwrap()
        .write_process_json(&mut out)
        .unwrap();
    out
}

/// A document the way the extended API sends it, with escapes, an offset and a fraction.
const EXTENDED: &str = r#"{
  "Code" : "Success",
  "LastUpdated" : "2025-01-01T00:00:00Z",
  "Type" : "AWS-HMAC",
  "AccessKeyId" : "ASIAEXAMPLEKEYID",
  "SecretAccessKey" : "wJalrXUtnFEMI\/K7MDENG+bPxRfiCYEXAMPLEKEY",
  "Token" : "IQoJb3JpZ2luX2VjE\u002fEXAMPLE==",
  "Expiration" : "2025-01-01T07:30:00.123456+01:30",
  "AccountId" : "123456789101",
  "UnexpectedElement1" : {"Name" : ["ignore-me", 1, true, null]}
}"#;

#[test]
fn process_json_is_one_line_in_the_documented_order() {
    let client = fetch(EXTENDED).unwrap();
    assert_eq!(
        process_json(&client),
        concat!(
            r#"{"Version":1,"AccessKeyId":"ASIAEXAMPLEKEYID","#,
            r#""SecretAccessKey":"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY","#,
            r#""SessionToken":"IQoJb3JpZ2luX2VjE/EXAMPLE==","#,
            r#""Expiration":"2025-01-01T06:00:00Z","AccountId":"123456789101"}"#
        )
    );
}

#[test]
fn process_json_leaves_out_an_unknown_account_id() {
    let document = r#"{"AccessKeyId":"AKID","SecretAccessKey":"S","Token":"T","Expiration":"2025-01-01T06:00:00Z"}"#;
    assert_eq!(
        process_json(&fetch(document).unwrap()),
        r#"{"Version":1,"AccessKeyId":"AKID","SecretAccessKey":"S","SessionToken":"T","Expiration":"2025-01-01T06:00:00Z"}"#
    );
}

#[test]
fn process_json_escapes_what_json_requires() {
    let document = r#"{"AccessKeyId":"A\"B\\C","SecretAccessKey":"sl\/ash ~","Token":"T","Expiration":"2025-01-01T06:00:00Z"}"#;
    let json = process_json(&fetch(document).unwrap());
    assert_eq!(
        json,
        r#"{"Version":1,"AccessKeyId":"A\"B\\C","SecretAccessKey":"sl/ash ~","SessionToken":"T","Expiration":"2025-01-01T06:00:00Z"}"#
    );
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed["AccessKeyId"], "A\"B\\C");
}

#[test]
fn control_characters_and_non_ascii_in_credentials_are_refused() {
    for (key, value) in [
        ("AccessKeyId", r#""AKID\u0000""#),
        ("SecretAccessKey", r#""line\r\nbreak\u001b[31m""#),
        ("Token", r#""caf\u00e9""#),
        ("Expiration", r#""2025-01-01T06:00:00Z\u007f""#),
        ("AccountId", r#""1234\t5678""#),
    ] {
        let mut members = vec![
            r#""AccessKeyId":"AKID""#.to_string(),
            r#""SecretAccessKey":"S""#.to_string(),
            r#""Token":"T""#.to_string(),
            r#""Expiration":"2025-01-01T06:00:00Z""#.to_string(),
        ];
        members.push(format!(r#""{key}":{value}"#));
        let error = fetch(&format!("{{{}}}", members.join(","))).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::MalformedCredentials);
        assert_eq!(
            error.to_string(),
            format!(
                "malformed credentials document from IMDS: `{key}` contains a control character \
                 or non-ASCII text"
            )
        );
    }
}

#[test]
fn a_refusal_shows_no_secret_and_no_raw_control_character() {
    // The message echoes the IMDS token, the document's secret key and session token, and
    // carries a terminal escape.
    let document = format!(
        r#"{{"Code":"Denied\u001b[2J","Message":"token {TOKEN} key docSecretKey0 session docSession0\r\n\u00e9","SecretAccessKey":"docSecretKey0","Token":"docSession0"}}"#
    );
    let error = fetch(&document).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::CredentialsRejected);
    assert_eq!(
        error.to_string(),
        "IMDS refused credentials: [Denied\\x1b[2J] token [redacted] key [redacted] session \
         [redacted]\\x0d\\x0a\\u{e9}"
    );
    assert!(!format!("{error:?}").contains(TOKEN));
}

#[test]
fn credentials_accessors_return_decoded_values() {
    let client = fetch(EXTENDED).unwrap();
    let credentials = client.credentials().unwrap();
    assert_eq!(credentials.access_key_id(), "ASIAEXAMPLEKEYID");
    assert_eq!(
        credentials.secret_access_key(),
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    );
    assert_eq!(credentials.session_token(), "IQoJb3JpZ2luX2VjE/EXAMPLE==");
    assert_eq!(
        credentials.expiration().as_secs(),
        1_735_689_600 + 6 * 3_600
    );
    assert_eq!(credentials.account_id(), Some("123456789101"));
}

#[test]
fn debug_shows_no_secret() {
    let client = fetch(EXTENDED).unwrap();
    for shown in [
        format!("{:?}", client.credentials().unwrap()),
        format!("{:#?}", client.credentials().unwrap()),
        format!("{client:?}"),
    ] {
        assert!(!shown.contains("wJalrXUtnFEMI"), "{shown}");
        assert!(!shown.contains("IQoJb3JpZ2luX2VjE"), "{shown}");
    }
    let shown = format!("{:?}", client.credentials().unwrap());
    assert!(shown.contains("ASIAEXAMPLEKEYID"), "{shown}");
    assert!(shown.contains("2025-01-01T06:00:00Z"), "{shown}");
}

#[test]
fn rejected_credentials_say_code_message_and_hint() {
    let document = r#"{"Code":"AssumeRoleUnauthorizedAccess","Message":"EC2 cannot assume the role my-role.","LastUpdated":"2025-01-01T00:00:00Z"}"#;
    let error = fetch(document).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::CredentialsRejected);
    assert_eq!(
        error.to_string(),
        "IMDS refused credentials: [AssumeRoleUnauthorizedAccess] EC2 cannot assume the role my-role. (hint: does the role have a trust relationship with EC2?)"
    );
}

#[test]
fn rejected_credentials_without_message_say_the_code() {
    let error = fetch(r#"{"Code":"InvalidToken"}"#).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::CredentialsRejected);
    assert_eq!(
        error.to_string(),
        "IMDS refused credentials: [InvalidToken]"
    );
}

#[test]
fn a_missing_field_is_named_and_no_value_is_echoed() {
    let document = r#"{"AccessKeyId":"AKID","SecretAccessKey":"wJalrXUtnFEMISECRET","Expiration":"2025-01-01T06:00:00Z"}"#;
    let error = fetch(document).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::MalformedCredentials);
    assert_eq!(
        error.to_string(),
        "malformed credentials document from IMDS: field `Token`"
    );
    assert!(!format!("{error:?}").contains("wJalrXUtnFEMISECRET"));
}

#[test]
fn truncated_json_says_so() {
    let error =
        fetch(r#"{"AccessKeyId":"AKID","SecretAccessKey":"wJalrXUtnFEMISECRET""#).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::MalformedCredentials);
    assert_eq!(
        error.to_string(),
        "malformed credentials document from IMDS: the document ends before its JSON object is complete"
    );
}

#[test]
fn a_malformed_field_says_what_is_wrong_without_its_value() {
    let bad_expiration = r#"{"AccessKeyId":"AKID","SecretAccessKey":"wJalrXUtnFEMISECRET","Token":"T","Expiration":"tomorrow-wJalrXUtnFEMISECRET"}"#;
    let error = fetch(bad_expiration).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::MalformedCredentials);
    assert_eq!(
        error.to_string(),
        "malformed credentials document from IMDS: `Expiration` is not an RFC 3339 date-time (2025-01-01T00:00:00Z)"
    );
    let long_token = format!(
        r#"{{"AccessKeyId":"AKID","SecretAccessKey":"S","Token":"{}","Expiration":"2025-01-01T06:00:00Z"}}"#,
        "t".repeat(imds_core::credentials::SESSION_TOKEN_CAPACITY + 1)
    );
    let error = fetch(&long_token).unwrap_err();
    assert_eq!(
        error.to_string(),
        "malformed credentials document from IMDS: `Token` is longer than 4096 bytes"
    );
    assert!(!format!("{error:?}").contains("ttt"));
}
