//! A host that sees the server close the kept connection while the client is not using it says so
//! with `handle_closed`: between operations, after an operation started but before its first
//! action, or during a back-off. The next request then goes on a new connection, with no request
//! logged that was never sent and the one stale-connection re-send still unspent. While the host
//! is connecting, sending or receiving, `handle_closed` is out of order.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[macro_use]
mod client_support;

use client_support::*;
use imds_core::{Action, ErrorKind};

#[test]
fn closed_after_the_operation_started_connects_anew_without_a_phantom_request() {
    let mut c = client();
    full_exchange(&mut c, 0);
    diagnostics(&mut c);
    c.start_get(t(10), "instance-id").unwrap();
    c.handle_closed().unwrap();
    expect_connect!(c, at 10);
    expect_send!(c, at 10, contains "GET /latest/meta-data/instance-id", "x-aws-ec2-metadata-token: ");
    feed!(c, at 11, ok("i-1"));
    expect_done!(c, at 11);
    assert_eq!(c.body(), Some(&b"i-1"[..]));
    assert_eq!(
        requests(&diagnostics(&mut c)),
        ["GET /latest/meta-data/instance-id"]
    );
}

#[test]
fn unreported_the_same_close_costs_a_request_and_the_resend() {
    // What `handle_closed` spares: the request goes on the dead connection, fails, and is re-sent.
    let mut c = client();
    full_exchange(&mut c, 0);
    diagnostics(&mut c);
    c.start_get(t(10), "instance-id").unwrap();
    expect_send!(c, at 10, contains "GET /latest/meta-data/instance-id");
    feed_eof(&mut c, 10);
    expect_close!(c, at 10);
    expect_connect!(c, at 10);
    expect_send!(c, at 10, contains "GET /latest/meta-data/instance-id");
    feed!(c, at 11, ok("i-1"));
    expect_done!(c, at 11);
    assert_eq!(
        requests(&diagnostics(&mut c)),
        [
            "GET /latest/meta-data/instance-id",
            "GET /latest/meta-data/instance-id"
        ]
    );
}

#[test]
fn closed_during_a_back_off_connects_anew_when_it_ends() {
    let mut c = client();
    c.start_get(t(0), "instance-id").unwrap();
    expect_connect!(c, at 0);
    expect_send!(c, at 0, contains "PUT /latest/api/token");
    feed!(c, at 1, status(500));
    let until = expect_wait!(c, at 1);
    c.handle_closed().unwrap();
    expect_connect!(c, at until);
    expect_send!(c, at until, contains "PUT /latest/api/token");
}

#[test]
fn closed_while_an_action_is_pending_is_out_of_order() {
    let mut c = client();
    c.start_get(t(0), "instance-id").unwrap();
    assert!(matches!(c.poll(t(0)).unwrap(), Action::Connect { .. }));
    assert_eq!(
        c.handle_closed().unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    c.handle_connected(t(0)).unwrap();
    expect_send!(c, at 0, contains "PUT /latest/api/token");
    assert_eq!(
        c.handle_closed().unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    expect_receive(&mut c, 0);
    assert_eq!(
        c.handle_closed().unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    // The exchange carries on.
    c.handle_data(t(1), &token_ok(21_600)).unwrap();
    expect_send!(c, at 1, contains "GET /latest/meta-data/instance-id");
}
