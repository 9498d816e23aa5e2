//! Only answers to requests: bytes that come when no request is outstanding (found on the
//! connection before a request is written, or behind a complete response) are a protocol error
//! for that connection. It is closed, whatever came on it is discarded (a complete response
//! included: the connection can no longer tell which answer is whose), and the request goes on a
//! new connection within the attempts, with a warning. A token whose answer came on that
//! connection is dropped with it (that answer may have been a response written before the token
//! request); a token from another connection is kept.
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

/// A token answer carrying `token`; `close` adds `Connection: close`.
fn token_answer(token: &str, close: bool) -> Vec<u8> {
    let close = if close { "Connection: close\r\n" } else { "" };
    format!(
        "HTTP/1.1 200 OK\r\nx-aws-ec2-metadata-token-ttl-seconds: 21600\r\n{close}\
         Content-Length: {}\r\n\r\n{token}",
        token.len()
    )
    .into_bytes()
}

/// The warning for `len` stray bytes, when the token that came on their connection was dropped
/// (`token_dropped`) or not.
fn warning(len: usize, token_dropped: bool) -> String {
    let what = if token_dropped {
        "closed the connection, discarded them and dropped the token that came on it"
    } else {
        "closed the connection and discarded them"
    };
    format!("IMDS sent {len} bytes that no request asked for: {what}")
}

fn unsolicited(log: &[Diagnostic]) -> Vec<usize> {
    log.iter()
        .filter_map(|d| match d {
            Diagnostic::UnsolicitedBytes { len, .. } => Some(*len),
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
    assert!(
        log.iter()
            .any(|d| d.to_string() == warning(early.len(), false))
    );
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
    // The token came on that connection: it is dropped with it, and a new one asked for.
    expect_send!(c, at until, contains "PUT /latest/api/token");
    feed!(c, at until, token_ok(21_600));
    expect_send!(c, at until, contains "GET /latest/meta-data/instance-id", "x-aws-ec2-metadata-token: ");
    feed!(c, at until, ok("i-1"));
    expect_done!(c, at until);
    assert_eq!(c.body(), Some(&b"i-1"[..]));
    let log = diagnostics(&mut c);
    assert_eq!(unsolicited(&log), [ok("not-the-answer").len()]);
    assert_eq!(
        requests(&log),
        ["PUT /latest/api/token", "GET /latest/meta-data/instance-id"]
    );
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

/// The rest of a credentials exchange once the token request was answered with [`TOKEN`]: the
/// role list and the credentials, each request carrying that token.
#[track_caller]
fn role_and_credentials(c: &mut Client, at: u64) -> Vec<String> {
    let role = expect_send!(*c, at at, contains "GET /latest/meta-data/iam/security-credentials/ ");
    assert!(role.contains(&format!("x-aws-ec2-metadata-token: {TOKEN}\r\n")));
    feed!(*c, at at, ok(ROLE));
    let credentials = expect_send!(*c, at at, contains "security-credentials/my-role ");
    assert!(credentials.contains(&format!("x-aws-ec2-metadata-token: {TOKEN}\r\n")));
    feed!(*c, at at, credentials_ok());
    expect_done!(*c, at at);
    vec![role, credentials]
}

#[test]
fn a_token_whose_connection_then_brings_stray_bytes_is_dropped() {
    // A response the server wrote before any request reaches the client only once the token
    // request was sent: it is taken for the token's answer (nothing in HTTP/1.1 tells them
    // apart). The real answer is on the connection when the next request is about to be
    // written: stray bytes, so the token read on that connection is suspect and dropped.
    let mut c = client();
    c.start_credentials(t(0), WALL).unwrap();
    expect_connect!(c, at 0);
    let mut sent = vec![expect_send!(c, at 0, contains "PUT /latest/api/token")];
    feed!(c, at 1, token_answer("early-token", false));
    let real_answer = token_ok(21_600);
    found_before_sending(&mut c, 1, &real_answer);
    let until = expect_wait!(c, at 1);
    // Drained on the way: the queue keeps only the last few.
    let mut log = diagnostics(&mut c);
    expect_close!(c, at until);
    expect_connect!(c, at until);
    sent.push(expect_send!(c, at until, contains "PUT /latest/api/token"));
    feed!(c, at until, token_ok(21_600));
    sent.extend(role_and_credentials(&mut c, until));
    for request in &sent {
        assert!(!request.contains("early-token"), "{request}");
    }
    log.extend(diagnostics(&mut c));
    assert_eq!(
        log.iter()
            .filter(|d| matches!(d, Diagnostic::UnsolicitedBytes { .. }))
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        [warning(real_answer.len(), true)]
    );
    assert_eq!(
        requests(&log),
        [
            "PUT /latest/api/token",
            "PUT /latest/api/token",
            "GET /latest/meta-data/iam/security-credentials/",
            "GET /latest/meta-data/iam/security-credentials/my-role",
        ]
    );
}

#[test]
fn stray_bytes_behind_a_later_answer_drop_the_token_of_that_connection() {
    let mut c = client();
    c.start_credentials(t(0), WALL).unwrap();
    expect_connect!(c, at 0);
    expect_send!(c, at 0, contains "PUT /latest/api/token");
    feed!(c, at 1, token_answer("first-token", false));
    expect_send!(c, at 1, contains "GET /latest/meta-data/iam/security-credentials/ ", "x-aws-ec2-metadata-token: first-token\r\n");
    // The role list's answer comes with another response behind it.
    let mut twice = ok(ROLE);
    twice.extend_from_slice(&ok("other-role"));
    feed!(c, at 2, twice);
    let until = expect_wait!(c, at 2);
    expect_close!(c, at until);
    expect_connect!(c, at until);
    expect_send!(c, at until, contains "PUT /latest/api/token");
    feed!(c, at until, token_ok(21_600));
    let sent = role_and_credentials(&mut c, until);
    assert!(sent.iter().all(|request| !request.contains("first-token")));
    let log = diagnostics(&mut c);
    assert!(
        log.iter()
            .any(|d| d.to_string() == warning(ok("other-role").len(), true))
    );
}

#[test]
fn a_token_from_another_connection_is_kept() {
    // The token's connection closed after its answer (as IMDS closes every connection): stray
    // bytes on the next connection say nothing about the token, which is used again.
    let mut c = client();
    c.start_credentials(t(0), WALL).unwrap();
    expect_connect!(c, at 0);
    expect_send!(c, at 0, contains "PUT /latest/api/token");
    feed!(c, at 1, token_answer(TOKEN, true));
    expect_close!(c, at 1);
    expect_connect!(c, at 1);
    found_before_sending(&mut c, 1, &ok("stray"));
    let until = expect_wait!(c, at 1);
    expect_close!(c, at until);
    expect_connect!(c, at until);
    role_and_credentials(&mut c, until);
    let log = diagnostics(&mut c);
    assert!(
        log.iter()
            .any(|d| d.to_string() == warning(ok("stray").len(), false))
    );
    assert_eq!(
        requests(&log),
        [
            "PUT /latest/api/token",
            "GET /latest/meta-data/iam/security-credentials/",
            "GET /latest/meta-data/iam/security-credentials/my-role",
        ]
    );
}
