//! Role discovery transcripts (legacy API): no role, role cached, re-discovery bounded.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[macro_use]
mod client_support;

use client_support::*;
use imds_core::client::MAX_ROLE_RESOLUTIONS;
use imds_core::diagnostic::Diagnostic;
use imds_core::error::{Context, Step};
use imds_core::{Client, ErrorKind};

fn after_token() -> Client {
    let mut c = client();
    c.start_credentials(t(0), WALL).unwrap();
    expect_connect!(c, at 0);
    expect_send!(c, at 0, contains "PUT /latest/api/token");
    feed!(c, at 1, token_ok(21_600));
    c
}

#[test]
fn a_404_on_the_role_list_means_no_role_is_attached() {
    let mut c = after_token();
    expect_send!(c, at 1, contains "GET /latest/meta-data/iam/security-credentials/ ");
    feed!(c, at 2, status(404));
    let error = expect_error!(c, at 2, ErrorKind::NoRole);
    assert_eq!(
        *error.context(),
        Context::Step {
            step: Step::RoleName,
            status: 404
        }
    );
    assert!(error.to_string().contains("no IAM role is attached"));
}

#[test]
fn the_first_line_of_the_role_list_is_the_role_and_it_is_cached() {
    let mut c = after_token();
    expect_send!(c, at 1, contains "security-credentials/ ");
    feed!(c, at 2, ok("  first-role \nsecond-role\n"));
    expect_send!(c, at 2, contains "GET /latest/meta-data/iam/security-credentials/first-role HTTP/1.1");
    feed!(c, at 3, credentials_ok());
    expect_done!(c, at 3);
    c.start_credentials(t(10), WALL.add_secs(6 * 3600)).unwrap();
    expect_send!(c, at 10, contains "GET /latest/meta-data/iam/security-credentials/first-role HTTP/1.1");
}

#[test]
fn a_404_on_the_credentials_path_rediscovers_the_role() {
    let mut c = after_token();
    expect_send!(c, at 1, contains "security-credentials/ ");
    feed!(c, at 2, ok("old-role"));
    expect_send!(c, at 2, contains "security-credentials/old-role ");
    feed!(c, at 3, status(404));
    expect_send!(c, at 3, contains "security-credentials/ ");
    feed!(c, at 4, ok("new-role"));
    expect_send!(c, at 4, contains "security-credentials/new-role ");
    feed!(c, at 5, credentials_ok());
    expect_done!(c, at 5);
    assert!(diagnostics(&mut c).contains(&Diagnostic::RoleRediscovery));
}

#[test]
fn rediscovery_is_bounded() {
    let mut c = after_token();
    let mut at = 1;
    for _ in 0..MAX_ROLE_RESOLUTIONS {
        expect_send!(c, at at, contains "GET /latest/meta-data/iam/security-credentials/ ");
        feed!(c, at at, ok("flapping-role"));
        expect_send!(c, at at, contains "GET /latest/meta-data/iam/security-credentials/flapping-role ");
        feed!(c, at at, status(404));
        at += 1;
    }
    let error = expect_error!(c, at at, ErrorKind::RoleUnstable);
    assert_eq!(
        *error.context(),
        Context::Step {
            step: Step::Credentials,
            status: 404
        }
    );
}

#[test]
fn a_404_for_a_configured_profile_is_invalid_instance_profile() {
    let mut settings = settings();
    settings.instance_profile_name.value = Some("missing-profile".try_into().unwrap());
    let mut c = client_with(&settings);
    c.start_credentials(t(0), WALL).unwrap();
    expect_connect!(c, at 0);
    expect_send!(c, at 0, contains "PUT");
    feed!(c, at 1, token_ok(21_600));
    expect_send!(c, at 1, contains "security-credentials/missing-profile ");
    feed!(c, at 2, status(404));
    expect_error!(c, at 2, ErrorKind::InvalidInstanceProfile);
}

#[test]
fn five_hundreds_on_the_role_list_are_retried() {
    let mut c = after_token();
    expect_send!(c, at 1, contains "security-credentials/ ");
    feed!(c, at 2, status(500));
    let until = expect_wait!(c, at 2);
    expect_send!(c, at until, contains "security-credentials/ ");
    feed!(c, at until, ok(ROLE));
    expect_send!(c, at until, contains "security-credentials/my-role ");
    feed!(c, at until, credentials_ok());
    expect_done!(c, at until);
}

#[test]
fn a_role_list_that_holds_the_token_is_refused_and_never_sent() {
    // The server answers out of order: the role list is the token itself.
    let mut c = after_token();
    expect_send!(c, at 1, contains "security-credentials/ ");
    feed!(c, at 2, ok(TOKEN));
    let error = expect_error!(c, at 2, ErrorKind::InvalidRoleName);
    assert!(
        error.to_string().contains("contains the IMDSv2 token"),
        "{error}"
    );
    assert!(!error.to_string().contains(TOKEN));
    let sent = requests(&diagnostics(&mut c));
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent.iter().all(|line| !line.contains(TOKEN)), "{sent:?}");
}

#[test]
fn a_role_name_that_holds_the_token_is_never_sent_in_a_path() {
    // The configured role name holds the text of the token the server hands out.
    let mut settings = settings();
    settings.instance_profile_name.value = Some("role-second-token".try_into().unwrap());
    let mut c = client_with(&settings);
    c.start_credentials(t(10), WALL).unwrap();
    expect_connect!(c, at 10);
    expect_send!(c, at 10, contains "PUT /latest/api/token");
    feed!(c, at 11, ok("second-token"));
    let error = expect_error!(c, at 11, ErrorKind::InvalidRoleName);
    assert!(
        error
            .to_string()
            .contains("the request path would contain the IMDSv2 token"),
        "{error}"
    );
    let sent = requests(&diagnostics(&mut c));
    assert_eq!(sent, ["PUT /latest/api/token"]);
}
