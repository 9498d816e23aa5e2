//! Transcript harness for the client (smoltcp style): every step names its time explicitly.
//!
//! Helpers poll the client at a given millisecond and assert the action it asks for, then feed
//! the host's answer. The macros are thin wrappers that read like a transcript:
//! `expect_send!(c, at 0, contains "PUT /latest/api/token")`. Declare it with
//! `#[macro_use] mod client_support;` to get the macros.
#![allow(dead_code, unused_macros, unused_imports, unreachable_pub)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use imds_core::client::IoError;
use imds_core::endpoint::Endpoint;
use imds_core::{Action, Client, Diagnostic, Error, ErrorKind, Instant, Settings, UnixTime};

/// The mock endpoint every transcript talks to (no packet leaves the process).
pub const ENDPOINT: &str = "http://127.0.0.1:1338";
/// Wall-clock time at the start of every transcript: 2025-01-01T00:00:00Z.
pub const WALL: UnixTime = UnixTime::from_secs(1_735_689_600);
/// Credentials expiring six hours after [`WALL`].
pub const EXPIRATION: &str = "2025-01-01T06:00:00Z";
/// [`EXPIRATION`] as seconds.
pub const EXPIRATION_SECS: i64 = 1_735_689_600 + 6 * 3600;
/// The token every transcript's IMDS hands out.
pub const TOKEN: &str = "AQAEAExampleToken-0123456789==";
pub const ROLE: &str = "my-role";

pub fn t(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

/// Default settings pointed at [`ENDPOINT`].
pub fn settings() -> Settings {
    let mut settings = Settings::default();
    settings.endpoint.value = Endpoint::parse(ENDPOINT).expect("test endpoint parses");
    settings
}

pub fn client() -> Client {
    Client::new(&settings(), 42)
}

pub fn client_with(settings: &Settings) -> Client {
    Client::new(settings, 42)
}

/// A `200 OK` with a `Content-Length` body.
pub fn ok(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A token response with a TTL header.
pub fn token_ok(ttl: u32) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nx-aws-ec2-metadata-token-ttl-seconds: {ttl}\r\nContent-Length: {}\r\n\r\n{TOKEN}",
        TOKEN.len()
    )
    .into_bytes()
}

/// An empty response with `code`.
pub fn status(code: u16) -> Vec<u8> {
    format!("HTTP/1.1 {code} Status\r\nContent-Length: 0\r\n\r\n").into_bytes()
}

/// A credentials document expiring at `expiration`.
pub fn credentials_json(expiration: &str) -> String {
    format!(
        r#"{{"Code":"Success","LastUpdated":"2024-12-31T23:00:00Z","Type":"AWS-HMAC","AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":"wJalrSECRETKEY","Token":"SESSIONTOKENVALUE","Expiration":"{expiration}"}}"#
    )
}

pub fn credentials_ok() -> Vec<u8> {
    ok(&credentials_json(EXPIRATION))
}

#[track_caller]
pub fn expect_connect(client: &mut Client, at: u64) -> Instant {
    match client.poll(t(at)) {
        Ok(Action::Connect {
            host,
            port,
            tls,
            deadline,
        }) => {
            assert_eq!((host, port, tls), ("127.0.0.1", 1338, false));
            client.handle_connected(t(at)).expect("connected");
            deadline
        }
        other => panic!("at {at} ms expected Connect, got {other:?}"),
    }
}

/// Polls for a connect and reports a failure instead.
#[track_caller]
pub fn expect_connect_failing(client: &mut Client, at: u64, error: IoError) {
    match client.poll(t(at)) {
        Ok(Action::Connect { .. }) => client.handle_io_error(t(at), error).expect("io error"),
        other => panic!("at {at} ms expected Connect, got {other:?}"),
    }
}

/// Polls for a request, asserts it contains each of `needles`, returns it.
#[track_caller]
pub fn expect_send(client: &mut Client, at: u64, needles: &[&str]) -> String {
    match client.poll(t(at)) {
        Ok(Action::Send { data, .. }) => {
            let request = String::from_utf8(data.to_vec()).expect("request is text");
            for needle in needles {
                assert!(
                    request.contains(needle),
                    "at {at} ms the request lacks {needle:?}:\n{request}"
                );
            }
            request
        }
        other => panic!("at {at} ms expected Send, got {other:?}"),
    }
}

/// Polls for a receive and returns its deadline (without feeding anything).
#[track_caller]
pub fn expect_receive(client: &mut Client, at: u64) -> Instant {
    match client.poll(t(at)) {
        Ok(Action::Receive { deadline }) => deadline,
        other => panic!("at {at} ms expected Receive, got {other:?}"),
    }
}

/// Polls for a receive and feeds `bytes`.
#[track_caller]
pub fn feed(client: &mut Client, at: u64, bytes: &[u8]) {
    expect_receive(client, at);
    client.handle_data(t(at), bytes).expect("data accepted");
}

/// Polls for a receive and reports end of stream.
#[track_caller]
pub fn feed_eof(client: &mut Client, at: u64) {
    expect_receive(client, at);
    client.handle_eof(t(at)).expect("eof accepted");
}

#[track_caller]
pub fn expect_close(client: &mut Client, at: u64) {
    match client.poll(t(at)) {
        Ok(Action::Close) => {}
        other => panic!("at {at} ms expected Close, got {other:?}"),
    }
}

/// Polls for a back-off wait and returns when it ends.
#[track_caller]
pub fn expect_wait(client: &mut Client, at: u64) -> u64 {
    match client.poll(t(at)) {
        Ok(Action::Wait { until }) => until.as_millis(),
        other => panic!("at {at} ms expected Wait, got {other:?}"),
    }
}

#[track_caller]
pub fn expect_done(client: &mut Client, at: u64) {
    match client.poll(t(at)) {
        Ok(Action::Done) => {}
        other => panic!("at {at} ms expected Done, got {other:?}"),
    }
}

#[track_caller]
pub fn expect_error(client: &mut Client, at: u64, kind: ErrorKind) -> Error {
    match client.poll(t(at)) {
        Err(error) if error.kind() == kind => error,
        other => panic!("at {at} ms expected a {kind:?} error, got {other:?}"),
    }
}

/// Every queued diagnostic.
pub fn diagnostics(client: &mut Client) -> Vec<Diagnostic> {
    core::iter::from_fn(|| client.poll_diagnostic()).collect()
}

/// The request lines (`PUT /latest/api/token`, ...) among `diagnostics`.
pub fn requests(diagnostics: &[Diagnostic]) -> Vec<String> {
    diagnostics
        .iter()
        .filter_map(|d| match d {
            Diagnostic::RequestSent { method, target, .. } => {
                Some(format!("{} {}", method.as_str(), target))
            }
            _ => None,
        })
        .collect()
}

/// A full IMDSv2 exchange on a fresh connection, starting at `at`: token, role, credentials.
#[track_caller]
pub fn full_exchange(client: &mut Client, at: u64) {
    client.start_credentials(t(at), WALL).expect("start");
    expect_connect(client, at);
    expect_send(client, at, &["PUT /latest/api/token HTTP/1.1\r\n"]);
    feed(client, at + 1, &token_ok(21_600));
    expect_send(
        client,
        at + 1,
        &["GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\n"],
    );
    feed(client, at + 2, &ok(ROLE));
    expect_send(
        client,
        at + 2,
        &["GET /latest/meta-data/iam/security-credentials/my-role HTTP/1.1\r\n"],
    );
    feed(client, at + 3, &credentials_ok());
    expect_done(client, at + 3);
}

macro_rules! expect_connect {
    ($client:expr, at $at:expr) => {
        $crate::client_support::expect_connect(&mut $client, $at)
    };
}

macro_rules! expect_send {
    ($client:expr, at $at:expr, contains $($needle:expr),+) => {
        $crate::client_support::expect_send(&mut $client, $at, &[$($needle),+])
    };
}

macro_rules! feed {
    ($client:expr, at $at:expr, $bytes:expr) => {
        $crate::client_support::feed(&mut $client, $at, &$bytes)
    };
}

macro_rules! expect_done {
    ($client:expr, at $at:expr) => {
        $crate::client_support::expect_done(&mut $client, $at)
    };
}

macro_rules! expect_error {
    ($client:expr, at $at:expr, $kind:expr) => {
        $crate::client_support::expect_error(&mut $client, $at, $kind)
    };
}

macro_rules! expect_wait {
    ($client:expr, at $at:expr) => {
        $crate::client_support::expect_wait(&mut $client, $at)
    };
}

macro_rules! expect_close {
    ($client:expr, at $at:expr) => {
        $crate::client_support::expect_close(&mut $client, $at)
    };
}
