//! The client refuses out-of-order calls with `InvalidState` (never a panic), validates paths, and
//! keeps secrets out of `Debug`, errors and diagnostics.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[macro_use]
mod client_support;

use client_support::*;
use imds_core::client::{DIAGNOSTIC_CAPACITY, IoError};
use imds_core::diagnostic::Diagnostic;
use imds_core::{Action, ErrorKind};

#[test]
fn events_that_answer_no_pending_action_are_invalid_state() {
    let mut c = client();
    assert_eq!(
        c.handle_data(t(0), b"x").unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    assert_eq!(
        c.handle_eof(t(0)).unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    assert_eq!(
        c.handle_connected(t(0)).unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    assert_eq!(
        c.handle_timeout(t(0)).unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    assert_eq!(
        c.handle_io_error(t(0), IoError::Other).unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    assert_eq!(c.poll(t(0)).unwrap_err().kind(), ErrorKind::InvalidState);

    c.start_credentials(t(0), WALL).unwrap();
    // Connect pending: data is out of order.
    assert!(matches!(c.poll(t(0)), Ok(Action::Connect { .. })));
    assert_eq!(
        c.handle_data(t(0), b"x").unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    c.handle_connected(t(0)).unwrap();
    assert_eq!(
        c.handle_connected(t(0)).unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    // Send pending: a connect is out of order (data is bytes no request asked for: see
    // client_unsolicited.rs).
    expect_send!(c, at 0, contains "PUT");
    assert_eq!(
        c.handle_connected(t(0)).unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    // The exchange carries on normally afterwards.
    feed!(c, at 1, token_ok(21_600));
}

#[test]
fn starting_while_running_is_invalid_state_and_does_not_disturb_the_operation() {
    let mut c = client();
    c.start_credentials(t(0), WALL).unwrap();
    expect_connect!(c, at 0);
    assert_eq!(
        c.start_get(t(0), "instance-id").unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    assert_eq!(
        c.start_credentials(t(0), WALL).unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    expect_send!(c, at 0, contains "PUT /latest/api/token");
    feed!(c, at 1, token_ok(21_600));
    expect_send!(c, at 1, contains "GET /latest/meta-data/iam/security-credentials/ ");
}

#[test]
fn time_going_backwards_is_invalid_state() {
    let mut c = client();
    c.start_credentials(t(100), WALL).unwrap();
    assert_eq!(c.poll(t(99)).unwrap_err().kind(), ErrorKind::InvalidState);
    expect_connect!(c, at 100);
    assert_eq!(
        c.handle_data(t(50), b"x").unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    expect_send!(c, at 100, contains "PUT");
}

#[test]
fn cancel_keeps_the_caches_and_forgets_the_connection() {
    let mut c = client();
    full_exchange(&mut c, 0);
    c.start_get(t(10), "instance-id").unwrap();
    expect_send!(c, at 10, contains "GET /latest/meta-data/instance-id", "x-aws-ec2-metadata-token: ");
    c.cancel();
    assert_eq!(c.poll(t(10)).unwrap_err().kind(), ErrorKind::InvalidState);
    c.start_get(t(20), "instance-id").unwrap();
    expect_connect!(c, at 20);
    expect_send!(c, at 20, contains "GET /latest/meta-data/instance-id", "x-aws-ec2-metadata-token: ");
}

#[test]
fn errors_repeat_until_the_next_operation_and_the_client_stays_usable() {
    let mut c = client();
    c.start_get(t(0), "instance-id").unwrap();
    expect_connect_failing(&mut c, 0, IoError::ConnectFailed);
    expect_error!(c, at 0, ErrorKind::ConnectFailed);
    expect_error!(c, at 1, ErrorKind::ConnectFailed);
    c.start_get(t(2), "instance-id").unwrap();
    expect_connect!(c, at 2);
}

#[test]
fn bad_metadata_paths_are_invalid_arguments_without_any_action() {
    let mut c = client();
    for path in [
        "",
        "a b",
        "x\r\nHost: evil",
        "/etc/passwd",
        &"p".repeat(257),
    ] {
        assert_eq!(
            c.start_get(t(0), path).unwrap_err().kind(),
            ErrorKind::InvalidArgument,
            "{path:?}"
        );
    }
    assert_eq!(c.poll(t(0)).unwrap_err().kind(), ErrorKind::InvalidState);
    c.start_get(t(0), "/latest/dynamic/instance-identity/document")
        .unwrap();
    expect_connect!(c, at 0);
    expect_send!(c, at 0, contains "PUT");
    feed!(c, at 0, token_ok(21_600));
    expect_send!(c, at 0, contains "GET /latest/dynamic/instance-identity/document HTTP/1.1");
}

#[test]
fn secrets_never_show_in_debug_diagnostics_or_errors() {
    let mut c = client();
    full_exchange(&mut c, 0);
    let shown = format!("{c:?} {:?}", c.credentials());
    for secret in [TOKEN, "wJalrSECRETKEY", "SESSIONTOKENVALUE"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(shown.contains("ASIAEXAMPLE"));
    for diagnostic in diagnostics(&mut c) {
        let text = format!("{diagnostic} {diagnostic:?}");
        assert!(!text.contains(TOKEN), "{text}");
    }
    // An invalid token is not echoed in the error.
    let mut c = client();
    c.start_get(t(0), "instance-id").unwrap();
    expect_connect!(c, at 0);
    expect_send!(c, at 0, contains "PUT");
    feed!(c, at 0, ok("secret token with spaces"));
    let error = expect_error!(c, at 0, ErrorKind::InvalidToken);
    assert!(!format!("{error} {error:?}").contains("secret"));
}

#[test]
fn the_diagnostic_queue_keeps_the_newest_when_full() {
    let mut settings = settings();
    settings.attempts.value = 20;
    let mut c = client_with(&settings);
    c.start_get(t(0), "instance-id").unwrap();
    expect_connect!(c, at 0);
    let mut at = 0;
    for _ in 0..DIAGNOSTIC_CAPACITY + 2 {
        expect_send!(c, at at, contains "PUT");
        feed!(c, at at, status(500));
        at = expect_wait!(c, at at);
    }
    let log = diagnostics(&mut c);
    assert_eq!(log.len(), DIAGNOSTIC_CAPACITY);
    assert!(matches!(
        log.last(),
        Some(Diagnostic::RetryScheduled { attempt, .. }) if usize::from(*attempt) == DIAGNOSTIC_CAPACITY + 2
    ));
}

#[test]
fn the_client_is_under_20_kib() {
    let size = core::mem::size_of::<imds_core::Client>();
    assert!(size < 20 * 1024, "Client is {size} bytes");
    println!("size_of::<Client>() = {size}");
}

#[test]
fn reset_forgets_token_role_and_credentials() {
    let mut c = client();
    full_exchange(&mut c, 0);
    c.reset();
    assert!(c.credentials().is_none());
    full_exchange(&mut c, 100);
}
