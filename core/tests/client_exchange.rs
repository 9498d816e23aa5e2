//! The core exchange, as transcripts: token → role → credentials on one keep-alive connection,
//! and what the caches save on later operations.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[macro_use]
mod client_support;

use client_support::*;
use imds_core::{Diagnostic, ErrorKind, UnixTime};

#[test]
fn full_exchange_on_one_keep_alive_connection() {
    let mut c = client();
    c.start_credentials(t(0), WALL).unwrap();
    expect_connect!(c, at 0);
    let put = expect_send!(c, at 0, contains
        "PUT /latest/api/token HTTP/1.1\r\n",
        "\r\nHost: 127.0.0.1:1338\r\n",
        concat!("\r\nUser-Agent: imds/", env!("CARGO_PKG_VERSION"), " (rust)\r\n"),
        "\r\nAccept: */*\r\n",
        "\r\nx-aws-ec2-metadata-token-ttl-seconds: 21600\r\n",
        "\r\nContent-Length: 0\r\n");
    assert!(put.ends_with("\r\n\r\n"));
    assert!(!put.contains("x-aws-ec2-metadata-token:"));
    feed!(c, at 3, token_ok(21_600));
    let role = expect_send!(c, at 3, contains
        "GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\n",
        "\r\nx-aws-ec2-metadata-token: AQAEAExampleToken-0123456789==\r\n");
    assert!(!role.contains("ttl-seconds"));
    feed!(c, at 5, ok("my-role\n"));
    expect_send!(c, at 5, contains
        "GET /latest/meta-data/iam/security-credentials/my-role HTTP/1.1\r\n",
        "\r\nx-aws-ec2-metadata-token: AQAEAExampleToken-0123456789==\r\n");
    feed!(c, at 7, credentials_ok());
    expect_done!(c, at 7);
    // Done is idempotent.
    expect_done!(c, at 8);

    let credentials = c.credentials().expect("credentials");
    assert_eq!(credentials.access_key_id(), "ASIAEXAMPLE");
    assert_eq!(credentials.secret_access_key(), "wJalrSECRETKEY");
    assert_eq!(credentials.session_token(), "SESSIONTOKENVALUE");
    assert_eq!(
        credentials.expiration(),
        UnixTime::from_secs(EXPIRATION_SECS)
    );
    assert_eq!(c.body(), None);

    let log = diagnostics(&mut c);
    assert_eq!(
        requests(&log),
        [
            "PUT /latest/api/token",
            "GET /latest/meta-data/iam/security-credentials/",
            "GET /latest/meta-data/iam/security-credentials/my-role",
        ]
    );
    let statuses: Vec<u16> = log
        .iter()
        .filter_map(|d| match d {
            Diagnostic::ResponseReceived { status, .. } => Some(*status),
            _ => None,
        })
        .collect();
    assert_eq!(statuses, [200, 200, 200]);
    let with_token: Vec<bool> = log
        .iter()
        .filter_map(|d| match d {
            Diagnostic::RequestSent { with_token, .. } => Some(*with_token),
            _ => None,
        })
        .collect();
    assert_eq!(with_token, [false, true, true]);
}

#[test]
fn fresh_credentials_come_from_the_cache_without_a_request() {
    let mut c = client();
    full_exchange(&mut c, 0);
    diagnostics(&mut c);
    // Five hours later the credentials (6 h) are still outside the 5-minute refresh window.
    c.start_credentials(t(10), WALL.add_secs(5 * 3600)).unwrap();
    expect_done!(c, at 10);
    assert_eq!(diagnostics(&mut c), [Diagnostic::CredentialsFromCache]);
}

#[test]
fn second_refresh_with_cached_token_and_role_is_one_request_on_the_same_connection() {
    let mut c = client();
    full_exchange(&mut c, 0);
    diagnostics(&mut c);
    // Inside the refresh window: refresh, reusing the token, the role and the open connection.
    let later = WALL.add_secs(6 * 3600 - 200);
    c.start_credentials(t(60_000), later).unwrap();
    expect_send!(c, at 60_000, contains
        "GET /latest/meta-data/iam/security-credentials/my-role HTTP/1.1\r\n",
        "x-aws-ec2-metadata-token: AQAEAExampleToken");
    feed!(c, at 60_002, ok(&credentials_json("2025-01-01T12:00:00Z")));
    expect_done!(c, at 60_002);
    assert_eq!(
        requests(&diagnostics(&mut c)),
        ["GET /latest/meta-data/iam/security-credentials/my-role"]
    );
    assert_eq!(
        c.credentials().unwrap().expiration(),
        UnixTime::from_secs(EXPIRATION_SECS + 6 * 3600)
    );
}

#[test]
fn token_is_refetched_when_its_ttl_minus_120_s_has_passed() {
    let mut c = client();
    c.start_credentials(t(0), WALL).unwrap();
    expect_connect!(c, at 0);
    expect_send!(c, at 0, contains "PUT /latest/api/token");
    feed!(c, at 1, token_ok(600));
    expect_send!(c, at 1, contains "security-credentials/ ");
    feed!(c, at 2, ok(ROLE));
    expect_send!(c, at 2, contains "security-credentials/my-role ");
    feed!(c, at 3, credentials_ok());
    expect_done!(c, at 3);

    // At 400 s the token (TTL 600 s) is still good: the refresh is one request.
    let refresh_wall = WALL.add_secs(6 * 3600);
    c.start_credentials(t(400_000), refresh_wall).unwrap();
    expect_send!(c, at 400_000, contains "security-credentials/my-role ", "x-aws-ec2-metadata-token: ");
    feed!(c, at 400_001, ok(&credentials_json("2025-01-02T00:00:00Z")));
    expect_done!(c, at 400_001);

    // The token arrived at 1 ms: at 1 ms + 600 s − 120 s it is stale, and a new one comes first.
    c.start_get(t(480_001), "instance-id").unwrap();
    expect_send!(c, at 480_001, contains "PUT /latest/api/token");
    feed!(c, at 480_002, token_ok(600));
    expect_send!(c, at 480_002, contains "GET /latest/meta-data/instance-id HTTP/1.1\r\n");
    feed!(c, at 480_003, ok("i-0123456789abcdef0"));
    expect_done!(c, at 480_003);
    assert_eq!(c.body(), Some(&b"i-0123456789abcdef0"[..]));
}

#[test]
fn token_ttl_defaults_to_the_requested_ttl_when_the_header_is_absent() {
    let mut settings = settings();
    settings.token_ttl_secs.value = 300;
    let mut c = client_with(&settings);
    c.start_get(t(0), "instance-id").unwrap();
    expect_connect!(c, at 0);
    expect_send!(c, at 0, contains "x-aws-ec2-metadata-token-ttl-seconds: 300\r\n");
    feed!(c, at 1, ok(TOKEN));
    expect_send!(c, at 1, contains "GET /latest/meta-data/instance-id");
    feed!(c, at 2, ok("i-1"));
    expect_done!(c, at 2);
    // Received at 1 ms: stale at 1 ms + 300 s − 120 s.
    c.start_get(t(180_000), "instance-id").unwrap();
    expect_send!(c, at 180_000, contains "GET /latest/meta-data/instance-id");
    feed!(c, at 180_000, ok("i-1"));
    expect_done!(c, at 180_000);
    c.start_get(t(180_001), "instance-id").unwrap();
    expect_send!(c, at 180_001, contains "PUT /latest/api/token");
}

#[test]
fn a_token_ttl_of_120_s_or_less_is_refetched_for_each_request() {
    let mut c = client();
    c.start_credentials(t(0), WALL).unwrap();
    expect_connect!(c, at 0);
    expect_send!(c, at 0, contains "PUT /latest/api/token");
    feed!(c, at 1, token_ok(120));
    expect_send!(c, at 1, contains "security-credentials/ ", "x-aws-ec2-metadata-token: ");
    feed!(c, at 2, ok(ROLE));
    expect_send!(c, at 2, contains "PUT /latest/api/token");
    feed!(c, at 3, token_ok(120));
    expect_send!(c, at 3, contains "security-credentials/my-role ", "x-aws-ec2-metadata-token: ");
    feed!(c, at 4, credentials_ok());
    expect_done!(c, at 4);
}

#[test]
fn the_user_agent_names_the_binding() {
    let mut c = client();
    c.set_binding("python");
    c.start_get(t(0), "instance-id").unwrap();
    expect_connect!(c, at 0);
    expect_send!(c, at 0, contains concat!("\r\nUser-Agent: imds/", env!("CARGO_PKG_VERSION"), " (python)\r\n"));
    let mut c = client();
    c.set_binding("no\r\nInjected: header");
    c.start_get(t(0), "instance-id").unwrap();
    expect_connect!(c, at 0);
    let request = expect_send!(c, at 0, contains "(noInjectedheader)");
    assert!(!request.contains("\r\nInjected"));
}

#[test]
fn configured_instance_profile_skips_role_discovery() {
    let mut settings = settings();
    settings.instance_profile_name.value = Some("configured-role".try_into().unwrap());
    let mut c = client_with(&settings);
    c.start_credentials(t(0), WALL).unwrap();
    expect_connect!(c, at 0);
    expect_send!(c, at 0, contains "PUT /latest/api/token");
    feed!(c, at 1, token_ok(21_600));
    expect_send!(c, at 1, contains "GET /latest/meta-data/iam/security-credentials/configured-role HTTP/1.1");
    feed!(c, at 2, credentials_ok());
    expect_done!(c, at 2);
}

#[test]
fn endpoint_path_prefix_is_part_of_every_target() {
    let mut settings = settings();
    settings.endpoint.value =
        imds_core::endpoint::Endpoint::parse("http://127.0.0.1:1338/prefix/").unwrap();
    let mut c = client_with(&settings);
    c.start_get(t(0), "placement/region").unwrap();
    expect_connect!(c, at 0);
    expect_send!(c, at 0, contains "PUT /prefix/latest/api/token HTTP/1.1");
    feed!(c, at 1, token_ok(21_600));
    expect_send!(c, at 1, contains "GET /prefix/latest/meta-data/placement/region HTTP/1.1");
    feed!(c, at 2, ok("eu-west-1"));
    expect_done!(c, at 2);
    assert_eq!(c.body(), Some(&b"eu-west-1"[..]));
}

#[test]
fn disabled_settings_refuse_to_start_without_any_action() {
    let mut settings = settings();
    settings.disabled.value = true;
    let mut c = client_with(&settings);
    assert_eq!(
        c.start_credentials(t(0), WALL).unwrap_err().kind(),
        ErrorKind::Disabled
    );
    assert_eq!(
        c.start_get(t(0), "instance-id").unwrap_err().kind(),
        ErrorKind::Disabled
    );
    assert_eq!(c.poll(t(0)).unwrap_err().kind(), ErrorKind::InvalidState);
}
