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

/// The request line (first line) of each request.
fn request_line(request: &str) -> &str {
    request.lines().next().unwrap_or("")
}

/// The server wrote one whole response before any request, and it arrived only once the token
/// request was sent: it looks exactly like the token's answer and is taken for it. The real
/// token's answer then arrives as the answer to the role-list request. Its body, the token IMDS
/// issued (a valid IAM name, as a real token often is), must never become the role name: it would
/// go into the next request's path and the trace. The answer carries the token's TTL header, which
/// no metadata answer has: it is refused as out of order, the connection closed, the token taken
/// from it dropped, and the exchange starts again on a new connection.
fn a_single_early_response_taken_for_the_token(early: &[u8]) {
    assert!(imds_core::role::is_valid_iam_name(TOKEN));
    let mut c = client();
    c.start_credentials(t(0), WALL).unwrap();
    let mut sent = Vec::new();
    // Drained after each exchange: the queue keeps only the last few.
    let mut log = Vec::new();
    expect_connect!(c, at 0);
    sent.push(expect_send!(c, at 0, contains "PUT /latest/api/token"));
    feed!(c, at 1, early);
    log.extend(diagnostics(&mut c));
    sent.push(expect_send!(c, at 1, contains "GET /latest/meta-data/iam/security-credentials/ "));
    // The answer to the token request.
    feed!(c, at 2, token_ok(21_600));
    let until = expect_wait!(c, at 2);
    log.extend(diagnostics(&mut c));
    expect_close!(c, at until);
    expect_connect!(c, at until);
    // The token taken from the early response is not used again.
    sent.push(expect_send!(c, at until, contains "PUT /latest/api/token"));
    feed!(c, at until, token_ok(21_600));
    log.extend(diagnostics(&mut c));
    let role =
        expect_send!(c, at until, contains "GET /latest/meta-data/iam/security-credentials/ ");
    assert!(role.contains(&format!("x-aws-ec2-metadata-token: {TOKEN}\r\n")));
    sent.push(role);
    feed!(c, at until, ok(ROLE));
    sent.push(expect_send!(c, at until, contains "security-credentials/my-role "));
    feed!(c, at until, credentials_ok());
    expect_done!(c, at until);
    for request in &sent {
        assert!(!request_line(request).contains(TOKEN), "{request}");
    }
    log.extend(diagnostics(&mut c));
    for diagnostic in &log {
        assert!(!diagnostic.to_string().contains(TOKEN), "{diagnostic}");
        assert!(!format!("{diagnostic:?}").contains(TOKEN), "{diagnostic:?}");
    }
    assert_eq!(
        requests(&log),
        [
            "PUT /latest/api/token",
            "GET /latest/meta-data/iam/security-credentials/",
            "PUT /latest/api/token",
            "GET /latest/meta-data/iam/security-credentials/",
            "GET /latest/meta-data/iam/security-credentials/my-role",
        ]
    );
    assert!(log.iter().any(|d| d.to_string()
        == "IMDS answered the role name request with a token (its answers are out of order): \
            closed the connection, dropped the token and discarded the answer"));
}

#[test]
fn an_early_token_answer_never_lets_the_issued_token_into_a_path() {
    let body = "early-token";
    let early = format!(
        "HTTP/1.1 200 OK\r\nx-aws-ec2-metadata-token-ttl-seconds: 21600\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    a_single_early_response_taken_for_the_token(early.as_bytes());
}

#[test]
fn an_early_role_list_answer_never_lets_the_issued_token_into_a_path() {
    a_single_early_response_taken_for_the_token(&ok("demo-role"));
}

#[test]
fn a_token_answering_a_metadata_request_is_never_the_body() {
    let mut c = client();
    c.start_get(t(0), "instance-id").unwrap();
    expect_connect!(c, at 0);
    expect_send!(c, at 0, contains "PUT /latest/api/token");
    feed!(c, at 1, ok("early-token"));
    expect_send!(c, at 1, contains "GET /latest/meta-data/instance-id");
    feed!(c, at 2, token_ok(21_600));
    let mut at = expect_wait!(c, at 2);
    expect_close!(c, at at);
    expect_connect!(c, at at);
    expect_send!(c, at at, contains "PUT /latest/api/token");
    feed!(c, at at, token_ok(21_600));
    // An IMDS that keeps answering with tokens uses up the attempts, then the error says why.
    for attempt in 1..=3 {
        expect_send!(c, at at, contains "GET /latest/meta-data/instance-id");
        feed!(c, at at, token_ok(21_600));
        if attempt < 3 {
            at = expect_wait!(c, at at);
            expect_close!(c, at at);
            expect_connect!(c, at at);
            expect_send!(c, at at, contains "PUT /latest/api/token");
            feed!(c, at at, token_ok(21_600));
        }
    }
    let error = expect_error!(c, at at, ErrorKind::MalformedResponse);
    assert!(!error.to_string().contains(TOKEN));
    assert_eq!(
        error.to_string(),
        "malformed HTTP response from IMDS: IMDS answered with a token where no token was asked \
         for, on every attempt (its answers are out of order); each connection was closed"
    );
    assert_eq!(c.body(), None);
}
