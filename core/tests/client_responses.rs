//! Response-framing transcripts: chunked, close-delimited, `Connection: close`, truncated,
//! oversized and malformed responses, and refused credentials documents.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[macro_use]
mod client_support;

use client_support::*;
use imds_core::client::RECEIVE_CAPACITY;
use imds_core::error::{Context, Step};
use imds_core::{Client, ErrorKind};

/// Starts a credentials operation and answers token and role, leaving the credentials request
/// sent at time 2.
fn up_to_credentials_request() -> Client {
    up_to_credentials_request_with(&settings())
}

/// [`up_to_credentials_request`] with `settings`.
fn up_to_credentials_request_with(settings: &imds_core::Settings) -> Client {
    let mut c = client_with(settings);
    c.start_credentials(t(0), WALL).unwrap();
    expect_connect!(c, at 0);
    expect_send!(c, at 0, contains "PUT /latest/api/token");
    feed!(c, at 1, token_ok(21_600));
    expect_send!(c, at 1, contains "security-credentials/ ");
    feed!(c, at 2, ok(ROLE));
    expect_send!(c, at 2, contains "security-credentials/my-role ");
    c
}

fn chunked(body: &str, piece: usize) -> Vec<u8> {
    let mut out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for part in body.as_bytes().chunks(piece) {
        out.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        out.extend_from_slice(part);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

#[test]
fn chunked_credentials_fed_byte_by_byte() {
    let mut c = up_to_credentials_request();
    let response = chunked(&credentials_json(EXPIRATION), 7);
    expect_receive(&mut c, 3);
    let (last, rest) = response.split_last().unwrap();
    for byte in rest {
        c.handle_data(t(3), core::slice::from_ref(byte)).unwrap();
        expect_receive(&mut c, 3);
    }
    c.handle_data(t(3), core::slice::from_ref(last)).unwrap();
    expect_done!(c, at 3);
    assert_eq!(c.credentials().unwrap().access_key_id(), "ASIAEXAMPLE");
}

#[test]
fn a_chunked_body_larger_in_framing_than_the_buffer_still_fits_once_decoded() {
    // Six-byte chunks carry four bytes of framing each: the raw response exceeds the buffer.
    let body = "x".repeat(RECEIVE_CAPACITY - 200);
    let response = chunked(&body, 6);
    assert!(response.len() > RECEIVE_CAPACITY);
    let mut c = client();
    c.start_get(t(0), "user-data").unwrap();
    expect_connect!(c, at 0);
    expect_send!(c, at 0, contains "PUT");
    feed!(c, at 0, token_ok(21_600));
    expect_send!(c, at 0, contains "GET /latest/meta-data/user-data");
    for piece in response.chunks(1000) {
        feed!(c, at 1, *piece);
    }
    expect_done!(c, at 1);
    assert_eq!(c.body().map(<[u8]>::len), Some(body.len()));
}

#[test]
fn connection_close_is_honoured_before_the_next_request() {
    let mut c = client();
    c.start_credentials(t(0), WALL).unwrap();
    expect_connect!(c, at 0);
    expect_send!(c, at 0, contains "PUT /latest/api/token");
    feed!(c, at 1, format!(
        "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{TOKEN}",
        TOKEN.len()
    ).into_bytes());
    expect_close!(c, at 1);
    expect_connect!(c, at 1);
    expect_send!(c, at 1, contains "security-credentials/ ");
    feed!(c, at 2, ok(ROLE));
    expect_send!(c, at 2, contains "security-credentials/my-role ");
    // Close-delimited body: complete at end of stream; the close comes before Done.
    let document = credentials_json(EXPIRATION);
    feed!(c, at 3, format!("HTTP/1.1 200 OK\r\n\r\n{document}").into_bytes());
    feed_eof(&mut c, 3);
    expect_close!(c, at 3);
    expect_done!(c, at 3);
    assert_eq!(c.credentials().unwrap().access_key_id(), "ASIAEXAMPLE");
}

#[test]
fn a_truncated_body_is_retried_never_a_partial_result() {
    let mut c = up_to_credentials_request();
    let full = credentials_ok();
    feed!(c, at 3, full[..full.len() - 10]);
    feed_eof(&mut c, 3);
    assert!(c.credentials().is_none());
    // Dropped before the whole answer came: asked again on a new connection.
    let until = expect_wait!(c, at 3);
    expect_close!(c, at until);
    expect_connect!(c, at until);
    expect_send!(c, at until, contains "security-credentials/my-role ");
    feed!(c, at until, credentials_ok());
    expect_done!(c, at until);
    assert_eq!(c.credentials().unwrap().access_key_id(), "ASIAEXAMPLE");
}

#[test]
fn a_truncated_body_on_the_last_attempt_is_connection_closed() {
    let mut settings = settings();
    settings.attempts.value = 1;
    settings.attempts.source = imds_core::Source::Env;
    let mut c = up_to_credentials_request_with(&settings);
    let full = credentials_ok();
    feed!(c, at 3, full[..full.len() - 10]);
    feed_eof(&mut c, 3);
    let error = expect_error!(c, at 3, ErrorKind::ConnectionClosed);
    assert_eq!(
        *error.context(),
        Context::Step {
            step: Step::Credentials,
            status: 0
        }
    );
    assert!(c.credentials().is_none());
}

#[test]
fn an_oversized_body_is_response_too_large() {
    let mut c = up_to_credentials_request();
    feed!(c, at 3, format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", RECEIVE_CAPACITY).into_bytes());
    let error = expect_error!(c, at 3, ErrorKind::ResponseTooLarge);
    assert_eq!(
        *error.context(),
        Context::Step {
            step: Step::Credentials,
            status: 200
        }
    );

    // Without a length: the bytes that do not fit end it.
    let mut c = up_to_credentials_request();
    feed!(c, at 3, *b"HTTP/1.1 200 OK\r\n\r\n");
    let big = vec![b'a'; RECEIVE_CAPACITY];
    feed!(c, at 3, big);
    expect_error!(c, at 3, ErrorKind::ResponseTooLarge);
    assert!(c.credentials().is_none());
}

#[test]
fn malformed_http_is_malformed_response() {
    for garbage in [
        &b"SSH-2.0-OpenSSH\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nnot-hex\r\n",
    ] {
        let mut c = up_to_credentials_request();
        feed!(c, at 3, *garbage);
        expect_error!(c, at 3, ErrorKind::MalformedResponse);
    }
}

#[test]
fn malformed_credentials_json_is_malformed_credentials() {
    for body in [
        "not json",
        "{\"AccessKeyId\":\"A\"}",
        "{\"Code\":\"Success\"",
    ] {
        let mut c = up_to_credentials_request();
        feed!(c, at 3, ok(body));
        expect_error!(c, at 3, ErrorKind::MalformedCredentials);
    }
}

#[test]
fn a_code_other_than_success_is_credentials_rejected_with_code_and_message() {
    let mut c = up_to_credentials_request();
    feed!(c, at 3, ok(r#"{"Code":"AssumeRoleUnauthorizedAccess","Message":"EC2 cannot assume the role","LastUpdated":"2025-01-01T00:00:00Z"}"#));
    let error = expect_error!(c, at 3, ErrorKind::CredentialsRejected);
    let message = error.to_string();
    assert!(
        message.contains("AssumeRoleUnauthorizedAccess"),
        "{message}"
    );
    assert!(message.contains("EC2 cannot assume the role"), "{message}");
}

#[test]
fn an_invalid_role_name_is_never_spliced_into_a_request() {
    for body in ["../../admin", "role with space", "", "r\u{e9}le"] {
        let mut c = client();
        c.start_credentials(t(0), WALL).unwrap();
        expect_connect!(c, at 0);
        expect_send!(c, at 0, contains "PUT");
        feed!(c, at 1, token_ok(21_600));
        expect_send!(c, at 1, contains "security-credentials/ ");
        feed!(c, at 2, ok(body));
        expect_error!(c, at 2, ErrorKind::InvalidRoleName);
    }
}

#[test]
fn invalid_tokens_are_invalid_token_errors() {
    for body in ["", "tok en", &"t".repeat(513)] {
        let mut c = client();
        c.start_credentials(t(0), WALL).unwrap();
        expect_connect!(c, at 0);
        expect_send!(c, at 0, contains "PUT");
        feed!(c, at 1, ok(body));
        let error = expect_error!(c, at 1, ErrorKind::InvalidToken);
        assert!(!error.to_string().contains("tok en"));
    }
}

#[test]
fn a_stale_keep_alive_connection_is_replaced_once_transparently() {
    let mut c = client();
    full_exchange(&mut c, 0);
    // The server closed the idle connection: the next request sees end of stream at once.
    c.start_get(t(5_000), "instance-id").unwrap();
    expect_send!(c, at 5_000, contains "GET /latest/meta-data/instance-id");
    feed_eof(&mut c, 5_000);
    expect_close!(c, at 5_000);
    expect_connect!(c, at 5_000);
    expect_send!(c, at 5_000, contains "GET /latest/meta-data/instance-id");
    feed!(c, at 5_001, ok("i-1"));
    expect_done!(c, at 5_001);

    // A second early close on the new connection is a real failure: an attempt.
    let mut c = client();
    full_exchange(&mut c, 0);
    diagnostics(&mut c);
    c.start_get(t(5_000), "instance-id").unwrap();
    expect_send!(c, at 5_000, contains "GET");
    feed_eof(&mut c, 5_000);
    expect_close!(c, at 5_000);
    expect_connect!(c, at 5_000);
    expect_send!(c, at 5_000, contains "GET");
    feed_eof(&mut c, 5_000);
    expect_wait!(c, at 5_000);
    assert!(diagnostics(&mut c).iter().any(|d| matches!(
        d,
        imds_core::Diagnostic::RetryScheduled {
            attempt: 1,
            status: 0,
            ..
        }
    )));
}

#[test]
fn a_host_that_closed_the_connection_between_operations_says_so() {
    let mut c = client();
    full_exchange(&mut c, 0);
    c.handle_closed().unwrap();
    c.start_get(t(5_000), "instance-id").unwrap();
    expect_connect!(c, at 5_000);
    expect_send!(c, at 5_000, contains "GET /latest/meta-data/instance-id");
}
