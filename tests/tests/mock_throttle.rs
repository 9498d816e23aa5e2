//! The mock's throttle, each mode over raw TCP: a token bucket on requests and a limit on the
//! connections open at once; past them the mock answers 429, refuses new connections, or accepts
//! and drops them, and logs what became of every request with its time.

mod common;

use std::io::{ErrorKind, Read};
use std::net::TcpStream;
use std::time::Duration;

use common::{RawClient, TTL};
use imds_testkit::mock::{EventKind, Limit, MockServer, Outcome};
use imds_testkit::script::Script;

const TOKEN: &str = "/latest/api/token";
const ROLES: &str = "/latest/meta-data/iam/security-credentials/";

fn start(throttle: &str) -> MockServer {
    let script = format!(r#"{{"throttle": {throttle}}}"#);
    MockServer::start(Script::from_json_text(&script).expect("valid script")).expect("starts")
}

fn outcomes(server: &MockServer) -> Vec<(u16, Outcome)> {
    server
        .requests()
        .iter()
        .map(|r| (r.status, r.outcome))
        .collect()
}

/// Whether the peer closed the connection: end of stream, or a reset.
fn closed_by_peer(stream: &mut TcpStream) -> bool {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() == ErrorKind::ConnectionReset,
    }
}

#[test]
fn past_the_burst_429_mode_answers_429_and_keeps_the_connection() {
    // 0.001 tokens per second: none come back during the test.
    let server = start(r#"{"rate": 0.001, "burst": 2, "mode": "429"}"#);
    let mut client = RawClient::connect(server.addr());
    assert_eq!(client.request("PUT", TOKEN, &[TTL]).status, 200);
    assert_eq!(client.request("GET", ROLES, &[]).status, 200);
    let throttled = client.request("GET", ROLES, &[]);
    assert_eq!(throttled.status, 429);
    assert_eq!(throttled.text(), "Too Many Requests");
    assert_eq!(throttled.header("connection"), None);
    // The same connection carries the next request (still over the rate).
    assert_eq!(client.request("PUT", TOKEN, &[TTL]).status, 429);
    assert_eq!(
        outcomes(&server),
        vec![
            (200, Outcome::Served),
            (200, Outcome::Served),
            (429, Outcome::Throttled(Limit::Rate)),
            (429, Outcome::Throttled(Limit::Rate)),
        ]
    );
    let times: Vec<u64> = server.requests().iter().map(|r| r.time_us).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}

#[test]
fn the_bucket_gives_back_tokens_at_its_rate_and_no_faster() {
    // 200 per second and a burst of 1: the k-th request served (counting from 1) cannot arrive
    // before (k - 1) x 5 ms after the mock started, however fast the client asks.
    let server = start(r#"{"rate": 200, "burst": 1, "mode": "429"}"#);
    let mut client = RawClient::connect(server.addr());
    let mut served = 0;
    for _ in 0..200_000 {
        if client.request("GET", ROLES, &[]).status == 200 {
            served += 1;
            if served == 6 {
                break;
            }
        }
    }
    assert_eq!(served, 6, "the bucket never gave tokens back");
    let served_at: Vec<u64> = server
        .requests()
        .iter()
        .filter(|r| r.outcome == Outcome::Served)
        .map(|r| r.time_us)
        .collect();
    for (k, at) in served_at.iter().enumerate() {
        assert!(
            *at >= k as u64 * 5_000,
            "request {} served at {at} us: {served_at:?}",
            k + 1
        );
    }
}

#[test]
fn past_the_connection_limit_429_mode_answers_429_and_closes_that_connection() {
    let server = start(r#"{"rate": 1000, "burst": 100, "max_connections": 1, "mode": "429"}"#);
    let mut first = RawClient::connect(server.addr());
    assert_eq!(first.request("PUT", TOKEN, &[TTL]).status, 200);
    let mut second = RawClient::connect(server.addr());
    let refused = second.request("PUT", TOKEN, &[TTL]);
    assert_eq!(refused.status, 429);
    assert_eq!(refused.header("connection"), Some("close"));
    assert!(second.at_eof());
    // The connection within the limit is served on.
    assert_eq!(first.request("GET", ROLES, &[]).status, 200);
    assert_eq!(
        outcomes(&server),
        vec![
            (200, Outcome::Served),
            (429, Outcome::Throttled(Limit::Connections)),
            (200, Outcome::Served),
        ]
    );
}

#[test]
fn past_the_burst_drop_mode_closes_the_connection_without_an_answer() {
    let server = start(r#"{"rate": 0.001, "burst": 1, "mode": "drop"}"#);
    let mut client = RawClient::connect(server.addr());
    assert_eq!(client.request("PUT", TOKEN, &[TTL]).status, 200);
    client.send("GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(client.at_eof(), "an answer came");
    assert_eq!(
        outcomes(&server),
        vec![(200, Outcome::Served), (0, Outcome::Dropped(Limit::Rate))]
    );
}

#[test]
fn past_the_connection_limit_drop_mode_accepts_and_closes_the_new_connection() {
    let server = start(r#"{"rate": 1000, "burst": 100, "max_connections": 1, "mode": "drop"}"#);
    let mut first = RawClient::connect(server.addr());
    assert_eq!(first.request("PUT", TOKEN, &[TTL]).status, 200);
    let mut second = TcpStream::connect(server.addr()).expect("the connection is accepted");
    assert!(closed_by_peer(&mut second));
    assert_eq!(first.request("GET", ROLES, &[]).status, 200);
    let events: Vec<EventKind> = server.events().iter().map(|e| e.kind).collect();
    assert_eq!(
        events,
        vec![EventKind::ConnectionDropped {
            connection: 2,
            limit: Limit::Connections
        }]
    );
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn at_the_connection_limit_refuse_mode_refuses_new_connections_until_one_closes() {
    let server = start(r#"{"rate": 1000, "burst": 100, "max_connections": 1, "mode": "refuse"}"#);
    let mut first = RawClient::connect(server.addr());
    assert_eq!(first.request("PUT", TOKEN, &[TTL]).status, 200);
    let refused = TcpStream::connect(server.addr()).expect_err("the connection is refused");
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
    assert_eq!(first.request("GET", ROLES, &[]).status, 200);
    drop(first);
    assert!(server.wait_until_listening(Duration::from_secs(10)));
    let mut third = RawClient::connect(server.addr());
    assert_eq!(third.request("PUT", TOKEN, &[TTL]).status, 200);
    let events: Vec<EventKind> = server.events().iter().map(|e| e.kind).collect();
    assert_eq!(
        events,
        vec![
            EventKind::StoppedListening {
                limit: Limit::Connections
            },
            EventKind::Listening,
            EventKind::StoppedListening {
                limit: Limit::Connections
            },
        ]
    );
}

#[test]
fn with_the_bucket_empty_refuse_mode_refuses_new_connections_and_drops_requests() {
    let server = start(r#"{"rate": 0.001, "burst": 1, "mode": "refuse"}"#);
    let mut client = RawClient::connect(server.addr());
    // This request takes the last token: once it is answered, the mock no longer listens.
    assert_eq!(client.request("PUT", TOKEN, &[TTL]).status, 200);
    let refused = TcpStream::connect(server.addr()).expect_err("the connection is refused");
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
    assert!(!server.wait_until_listening(Duration::from_millis(1)));
    // A request on the connection already open cannot be refused: it is dropped.
    client.send("GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(client.at_eof(), "an answer came");
    assert_eq!(
        outcomes(&server),
        vec![(200, Outcome::Served), (0, Outcome::Dropped(Limit::Rate))]
    );
    let events: Vec<EventKind> = server.events().iter().map(|e| e.kind).collect();
    assert_eq!(
        events,
        vec![EventKind::StoppedListening { limit: Limit::Rate }]
    );
}
