//! A host that answers `Connect` with a pooled keep-alive connection (`handle_connected_reused`):
//! the exchange runs on it as on a new one, and a request that fails on it before any byte comes
//! back is re-sent once on a new connection, since the server may have closed it while idle.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[macro_use]
mod client_support;

use client_support::*;
use imds_core::{Action, Client, ErrorKind};

/// Polls at `at`, expects `Connect`, and hands over a pooled connection.
fn connect_pooled(c: &mut Client, at: u64) {
    let action = c.poll(t(at)).unwrap();
    assert!(matches!(action, Action::Connect { .. }), "{action:?}");
    c.handle_connected_reused(t(at)).unwrap();
}

#[test]
fn a_full_exchange_runs_on_a_pooled_connection() {
    let mut c = client();
    c.start_credentials(t(0), WALL).unwrap();
    connect_pooled(&mut c, 0);
    expect_send!(c, at 0, contains "PUT /latest/api/token");
    feed!(c, at 1, token_ok(21_600));
    expect_send!(c, at 1, contains "security-credentials/ ");
    feed!(c, at 2, ok(ROLE));
    expect_send!(c, at 2, contains "security-credentials/my-role ");
    feed!(c, at 3, credentials_ok());
    expect_done!(c, at 3);
    assert_eq!(
        c.credentials().unwrap().expiration().as_secs(),
        EXPIRATION_SECS
    );
}

#[test]
fn a_pooled_connection_the_server_closed_is_replaced_once() {
    let mut c = client();
    c.start_get(t(0), "instance-id").unwrap();
    connect_pooled(&mut c, 0);
    expect_send!(c, at 0, contains "PUT /latest/api/token");
    feed_eof(&mut c, 0);
    expect_close!(c, at 0);
    expect_connect!(c, at 0);
    expect_send!(c, at 0, contains "PUT /latest/api/token");
    feed!(c, at 1, token_ok(21_600));
    expect_send!(c, at 1, contains "GET /latest/meta-data/instance-id");
    feed!(c, at 2, ok("i-1"));
    expect_done!(c, at 2);
    assert_eq!(c.body(), Some(&b"i-1"[..]));
}

#[test]
fn a_new_connection_that_closes_at_once_is_a_retried_failure_not_a_free_resend() {
    let mut settings = settings();
    settings.attempts.value = 2;
    let mut c = client_with(&settings);
    c.start_get(t(0), "instance-id").unwrap();
    expect_connect!(c, at 0);
    expect_send!(c, at 0, contains "PUT /latest/api/token");
    feed_eof(&mut c, 0);
    // IMDS accepted and dropped the connection: an attempt, with a back-off.
    let until = expect_wait!(c, at 0);
    expect_close!(c, at until);
    expect_connect!(c, at until);
    expect_send!(c, at until, contains "PUT /latest/api/token");
    feed_eof(&mut c, until);
    expect_error!(c, at until, ErrorKind::ConnectionClosed);
}
