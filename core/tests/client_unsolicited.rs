//! Only answers to requests: bytes that come when no request is outstanding (found on the
//! connection before a request is written, or behind a complete response) are a protocol error
//! for that connection. It is closed, whatever came on it is discarded (a complete response
//! included: the connection can no longer tell which answer is whose), and the request goes on a
//! new connection within the attempts, with a warning.
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
use imds_core::{Action, Client, ErrorKind};

/// Polls for a request and reports, instead of writing it, that `bytes` were already there.
#[track_caller]
fn found_before_sending(c: &mut Client, at: u64, bytes: &[u8]) {
    assert!(matches!(c.poll(t(at)), Ok(Action::Send { .. })));
    c.handle_data(t(at), bytes).unwrap();
}

fn unsolicited(log: &[Diagnostic]) -> Vec<usize> {
    log.iter()
        .filter_map(|d| match d {
            Diagnostic::UnsolicitedBytes { len } => Some(*len),
            _ => None,
        })
        .collect()
}

#[test]
fn a_response_waiting_on_a_new_connection_is_never_taken_for_the_answer() {
    // The server wrote a whole token-shaped answer as soon as it accepted, before any request.
    let early = token_ok(21_600);
    let mut c = client();
    c.start_credentials(t(0), WALL).unwrap();
    expect_connect!(c, at 0);
    found_before_sending(&mut c, 0, &early);
    let until = expect_wait!(c, at 0);
    expect_close!(c, at until);
    expect_connect!(c, at until);
    expect_send!(c, at until, contains "PUT /latest/api/token");
    feed!(c, at until, token_ok(21_600));
    let role =
        expect_send!(c, at until, contains "GET /latest/meta-data/iam/security-credentials/ ");
    assert!(role.contains(&format!("x-aws-ec2-metadata-token: {TOKEN}\r\n")));
    feed!(c, at until, ok(ROLE));
    expect_send!(c, at until, contains "security-credentials/my-role ");
    feed!(c, at until, credentials_ok());
    expect_done!(c, at until);
    let log = diagnostics(&mut c);
    assert_eq!(unsolicited(&log), [early.len()]);
    assert!(log.iter().any(|d| d.to_string()
        == format!(
            "IMDS sent {} bytes that no request asked for: closed the connection and discarded them",
            early.len()
        )));
    // The request the host did not write is not in the trace.
    assert_eq!(
        requests(&log),
        [
            "PUT /latest/api/token",
            "GET /latest/meta-data/iam/security-credentials/",
            "GET /latest/meta-data/iam/security-credentials/my-role",
        ]
    );
}

#[test]
fn a_second_response_behind_the_answer_discards_both() {
    // The token request is answered twice at once: which one is its answer cannot be known.
    let mut twice = token_ok(21_600);
    twice.extend_from_slice(&ok("demo-role"));
    let mut c = client();
    c.start_get(t(0), "instance-id").unwrap();
    expect_connect!(c, at 0);
    expect_send!(c, at 0, contains "PUT /latest/api/token");
    feed!(c, at 1, twice);
    let until = expect_wait!(c, at 1);
    expect_close!(c, at until);
    expect_connect!(c, at until);
    // No token was kept from the discarded answers: the token request goes again.
    expect_send!(c, at until, contains "PUT /latest/api/token");
    feed!(c, at until, token_ok(21_600));
    expect_send!(c, at until, contains "GET /latest/meta-data/instance-id");
    feed!(c, at until, ok("i-1"));
    expect_done!(c, at until);
    assert_eq!(unsolicited(&diagnostics(&mut c)), [ok("demo-role").len()]);
}

#[test]
fn a_response_arriving_on_a_kept_connection_between_operations_is_discarded() {
    let mut c = client();
    full_exchange(&mut c, 0);
    diagnostics(&mut c);
    c.start_get(t(10_000), "instance-id").unwrap();
    // The kept connection holds an answer nobody asked for: found before the request is written.
    found_before_sending(&mut c, 10_000, &ok("not-the-answer"));
    let until = expect_wait!(c, at 10_000);
    expect_close!(c, at until);
    expect_connect!(c, at until);
    expect_send!(c, at until, contains "GET /latest/meta-data/instance-id", "x-aws-ec2-metadata-token: ");
    feed!(c, at until, ok("i-1"));
    expect_done!(c, at until);
    assert_eq!(c.body(), Some(&b"i-1"[..]));
    let log = diagnostics(&mut c);
    assert_eq!(unsolicited(&log), [ok("not-the-answer").len()]);
    assert_eq!(requests(&log), ["GET /latest/meta-data/instance-id"]);
}

#[test]
fn a_kept_connection_found_closed_before_sending_is_replaced_without_an_attempt() {
    let mut c = client();
    full_exchange(&mut c, 0);
    diagnostics(&mut c);
    c.start_get(t(10_000), "instance-id").unwrap();
    assert!(matches!(c.poll(t(10_000)), Ok(Action::Send { .. })));
    c.handle_eof(t(10_000)).unwrap();
    // No back-off, no warning, no phantom request in the trace.
    expect_close!(c, at 10_000);
    expect_connect!(c, at 10_000);
    expect_send!(c, at 10_000, contains "GET /latest/meta-data/instance-id");
    feed!(c, at 10_001, ok("i-1"));
    expect_done!(c, at 10_001);
    let log = diagnostics(&mut c);
    assert!(unsolicited(&log).is_empty());
    assert!(
        !log.iter()
            .any(|d| matches!(d, Diagnostic::RetryScheduled { .. }))
    );
    assert_eq!(requests(&log), ["GET /latest/meta-data/instance-id"]);
}

#[test]
fn bytes_on_every_connection_use_up_the_attempts() {
    let mut c = client();
    c.start_get(t(0), "instance-id").unwrap();
    let mut at = 0;
    for attempt in 1..=4 {
        expect_connect!(c, at at);
        found_before_sending(&mut c, at, b"HTTP/1.1 200 OK\r\n");
        if attempt < 4 {
            at = expect_wait!(c, at at);
            expect_close!(c, at at);
        }
    }
    let error = expect_error!(c, at at, ErrorKind::MalformedResponse);
    assert_eq!(
        error.to_string(),
        "malformed HTTP response from IMDS: IMDS sent bytes that no request asked for, on every \
         attempt; each connection was closed"
    );
    assert!(requests(&diagnostics(&mut c)).is_empty());
}
