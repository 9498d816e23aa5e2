//! Extended credentials API transcripts beyond the SEP vectors: the diagnostic when falling back
//! to legacy, the state kept across operations, and non-404 errors never falling back.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[macro_use]
mod client_support;

use client_support::*;
use imds_core::diagnostic::Diagnostic;
use imds_core::settings::CredentialsApi;
use imds_core::{Client, ErrorKind};

fn extended_client() -> Client {
    let mut settings = settings();
    settings.credentials_api.value = CredentialsApi::Extended;
    client_with(&settings)
}

fn after_token(c: &mut Client) {
    c.start_credentials(t(0), WALL).unwrap();
    expect_connect!(*c, at 0);
    expect_send!(*c, at 0, contains "PUT /latest/api/token");
    feed!(*c, at 1, token_ok(21_600));
}

#[test]
fn extended_api_unavailable_switches_to_legacy_for_good() {
    let mut c = extended_client();
    after_token(&mut c);
    expect_send!(c, at 1, contains "GET /latest/meta-data/iam/security-credentials-extended/ HTTP/1.1");
    feed!(c, at 2, status(404));
    expect_send!(c, at 2, contains "GET /latest/meta-data/iam/security-credentials/ HTTP/1.1");
    feed!(c, at 3, ok(ROLE));
    expect_send!(c, at 3, contains "GET /latest/meta-data/iam/security-credentials/my-role HTTP/1.1");
    feed!(c, at 4, credentials_ok());
    expect_done!(c, at 4);
    assert!(diagnostics(&mut c).contains(&Diagnostic::ExtendedApiUnavailable));
    assert_eq!(c.credentials().unwrap().account_id(), None);

    c.start_credentials(t(10), WALL.add_secs(6 * 3600 - 100))
        .unwrap();
    expect_send!(c, at 10, contains "GET /latest/meta-data/iam/security-credentials/my-role HTTP/1.1");
}

#[test]
fn extended_api_keeps_the_account_id() {
    let mut c = extended_client();
    after_token(&mut c);
    expect_send!(c, at 1, contains "security-credentials-extended/ ");
    feed!(c, at 2, ok(ROLE));
    expect_send!(c, at 2, contains "GET /latest/meta-data/iam/security-credentials-extended/my-role HTTP/1.1");
    let document = credentials_json(EXPIRATION).replace('}', r#","AccountId":"123456789012"}"#);
    feed!(c, at 3, ok(&document));
    expect_done!(c, at 3);
    assert_eq!(c.credentials().unwrap().account_id(), Some("123456789012"));
}

#[test]
fn non_404_errors_never_fall_back_to_legacy() {
    for code in [403, 500] {
        let mut c = extended_client();
        after_token(&mut c);
        let mut at = 1;
        for attempt in 1..=4 {
            expect_send!(c, at at, contains "security-credentials-extended/ ");
            feed!(c, at at, status(code));
            if code == 403 || attempt == 4 {
                break;
            }
            at = expect_wait!(c, at at);
        }
        expect_error!(c, at at, ErrorKind::HttpStatus);
        assert!(!diagnostics(&mut c).contains(&Diagnostic::ExtendedApiUnavailable));
    }
}
