//! The mock's unscripted IMDS behaviour, checked over raw TCP.

mod common;

use std::net::SocketAddr;

use common::{RawClient, TTL, token_header};
use imds_testkit::mock::{IPV6_LOOPBACK, MockServer, StartError};
use imds_testkit::script::{DEFAULT_ACCESS_KEY_ID, Script};

fn start() -> MockServer {
    MockServer::start(Script::default()).expect("mock starts")
}

#[test]
fn token_request_needs_the_ttl_header_and_echoes_it() {
    let server = start();
    let mut client = RawClient::connect(server.addr());
    let refused = client.request("PUT", "/latest/api/token", &[]);
    assert_eq!(refused.status, 400);
    let answered = client.request(
        "PUT",
        "/latest/api/token",
        &["x-aws-ec2-metadata-token-ttl-seconds: 300"],
    );
    assert_eq!(answered.status, 200);
    assert_eq!(
        answered.header("x-aws-ec2-metadata-token-ttl-seconds"),
        Some("300")
    );
    assert_eq!(answered.text(), "mock-imds-token-1");
    for bad in ["0", "21601", "abc"] {
        let header = format!("x-aws-ec2-metadata-token-ttl-seconds: {bad}");
        assert_eq!(
            client
                .request("PUT", "/latest/api/token", &[&header])
                .status,
            400,
            "TTL {bad}"
        );
    }
    assert_eq!(
        client.request("GET", "/latest/api/token", &[TTL]).status,
        405
    );
}

#[test]
fn serves_role_credentials_and_metadata_on_one_keep_alive_connection() {
    let server = start();
    let mut client = RawClient::connect(server.addr());
    let token = client.request("PUT", "/latest/api/token", &[TTL]).text();
    let auth = token_header(&token);
    let role = client.request(
        "GET",
        "/latest/meta-data/iam/security-credentials/",
        &[&auth],
    );
    assert_eq!((role.status, role.text().as_str()), (200, "demo-role"));
    let creds = client.request(
        "GET",
        "/latest/meta-data/iam/security-credentials/demo-role",
        &[&auth],
    );
    assert_eq!(creds.status, 200);
    let body = creds.text();
    assert!(body.starts_with(r#"{"Code":"Success","#), "{body}");
    assert!(body.contains(DEFAULT_ACCESS_KEY_ID));
    assert!(
        !body.contains("AccountId"),
        "legacy document has no AccountId"
    );
    let region = client.request("GET", "/latest/meta-data/placement/region", &[&auth]);
    assert_eq!(region.text(), "us-east-1");
    let id = client.request("GET", "/latest/meta-data/instance-id", &[]);
    assert_eq!(id.text(), "i-0123456789abcdef0");
    for path in [
        "/latest/meta-data/iam/security-credentials/other-role",
        "/latest/meta-data/nothing-here",
        "/latest/meta-data/iam/security-credentials-extended/",
        "/elsewhere",
    ] {
        assert_eq!(client.request("GET", path, &[&auth]).status, 404, "{path}");
    }

    let log = server.requests();
    assert_eq!(log.len(), 9);
    assert!(
        log.iter().all(|r| r.connection == 1),
        "one connection: {log:?}"
    );
    assert_eq!(log[0].summary(), "PUT /latest/api/token ttl=21600");
    assert_eq!(
        log[1].summary(),
        "GET /latest/meta-data/iam/security-credentials/ (token)"
    );
    assert_eq!(log[4].summary(), "GET /latest/meta-data/instance-id");
    assert_eq!(log[5].status, 404);
    assert_eq!(server.issued_tokens(), vec![token]);
}

/// The TTL header of `answer`, as a number.
fn seconds_left(answer: &common::RawResponse) -> Option<u64> {
    answer
        .header("x-aws-ec2-metadata-token-ttl-seconds")
        .map(|v| v.parse().expect("a whole number of seconds"))
}

#[test]
fn every_answer_to_a_request_with_a_valid_token_says_how_long_it_has_left() {
    // As IMDS does (its recorded answers to the role list and the credentials carry it): the
    // token's remaining lifetime, on 200 and 404 alike.
    let server = start();
    let mut client = RawClient::connect(server.addr());
    let asked = client.request(
        "PUT",
        "/latest/api/token",
        &["x-aws-ec2-metadata-token-ttl-seconds: 300"],
    );
    let auth = token_header(&asked.text());
    for (path, status) in [
        ("/latest/meta-data/iam/security-credentials/", 200),
        ("/latest/meta-data/iam/security-credentials/demo-role", 200),
        ("/latest/meta-data/instance-id", 200),
        ("/latest/meta-data/nothing-here", 404),
    ] {
        let answer = client.request("GET", path, &[&auth]);
        assert_eq!(answer.status, status, "{path}");
        let left = seconds_left(&answer).unwrap_or_else(|| panic!("{path}: no TTL header"));
        assert!((1..=300).contains(&left), "{path}: {left}");
    }
    // Without a token, or with one the mock did not issue, there is no lifetime to tell.
    let untokened = client.request("GET", "/latest/meta-data/instance-id", &[]);
    assert_eq!((untokened.status, seconds_left(&untokened)), (200, None));
    let forged = client.request(
        "GET",
        "/latest/meta-data/instance-id",
        &[&token_header("forged")],
    );
    assert_eq!((forged.status, seconds_left(&forged)), (401, None));
}

#[test]
fn a_used_up_token_gets_no_ttl_header() {
    let script = Script {
        token_max_uses: Some(1),
        ..Script::default()
    };
    let server = MockServer::start(script).expect("mock starts");
    let mut client = RawClient::connect(server.addr());
    let auth = token_header(&client.request("PUT", "/latest/api/token", &[TTL]).text());
    let first = client.request("GET", "/latest/meta-data/instance-id", &[&auth]);
    assert_eq!(first.status, 200);
    assert!(seconds_left(&first).is_some());
    let second = client.request("GET", "/latest/meta-data/instance-id", &[&auth]);
    assert_eq!((second.status, seconds_left(&second)), (401, None));
}

#[test]
fn a_client_connection_close_is_honoured_and_connections_are_numbered() {
    let server = start();
    let mut first = RawClient::connect(server.addr());
    let answer = first.request(
        "GET",
        "/latest/meta-data/instance-id",
        &["Connection: close"],
    );
    assert_eq!(answer.header("connection"), Some("close"));
    assert!(first.at_eof());
    let mut second = RawClient::connect(server.addr());
    second.request("GET", "/latest/meta-data/instance-id", &[]);
    let connections: Vec<u64> = server.requests().iter().map(|r| r.connection).collect();
    assert_eq!(connections, vec![1, 2]);
    assert_eq!(server.connection_count(), 2);
}

#[test]
fn unknown_or_invalid_tokens_are_refused() {
    let server = start();
    let mut client = RawClient::connect(server.addr());
    let answer = client.request(
        "GET",
        "/latest/meta-data/instance-id",
        &[&token_header("forged")],
    );
    assert_eq!(answer.status, 401);
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = start();
    let mut client = RawClient::connect(server.addr());
    client.send(
        "GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: x\r\n\r\n\
         GET /latest/meta-data/placement/region HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    assert_eq!(client.read_response().text(), "i-0123456789abcdef0");
    assert_eq!(client.read_response().text(), "us-east-1");
}

#[test]
fn a_request_without_host_gets_400() {
    let server = start();
    let mut client = RawClient::connect(server.addr());
    client.send("GET /latest/meta-data/instance-id HTTP/1.1\r\n\r\n");
    assert_eq!(client.read_response().status, 400);
}

#[test]
fn malformed_requests_get_400_and_a_close() {
    let server = start();
    let mut client = RawClient::connect(server.addr());
    client.send("NONSENSE\r\n\r\n");
    assert_eq!(client.read_response().status, 400);
    assert!(client.at_eof());
}

#[test]
fn listens_on_ipv6_loopback() {
    let Ok(server) =
        MockServer::start_on(Script::default(), SocketAddr::new(IPV6_LOOPBACK, 0), None)
    else {
        // A machine without IPv6 loopback cannot run this check; the scenarios say so too.
        eprintln!("no [::1] on this machine; skipped");
        return;
    };
    assert!(server.endpoint().starts_with("http://[::1]:"));
    let mut client = RawClient::connect(server.addr());
    assert_eq!(
        client
            .request("GET", "/latest/meta-data/placement/region", &[])
            .text(),
        "us-east-1"
    );
}

#[test]
fn refuses_every_address_but_loopback() {
    for addr in ["0.0.0.0:0", "127.0.0.2:0", "[::]:0", "169.254.169.254:80"] {
        let addr: SocketAddr = addr.parse().unwrap();
        match MockServer::start_on(Script::default(), addr, None) {
            Err(StartError::NotLoopback(ip)) => assert_eq!(ip, addr.ip()),
            Err(other) => panic!("{addr}: wrong error {other}"),
            Ok(_) => panic!("{addr}: the mock must not listen there"),
        }
    }
}
