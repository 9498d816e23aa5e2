//! Each scripted behaviour of the mock, checked over raw TCP.

mod common;

use std::time::Duration;

use common::{RawClient, TTL, token_header};
use imds_testkit::mock::MockServer;
use imds_testkit::script::Script;

fn start(script_json: &str) -> MockServer {
    MockServer::start(Script::from_json_text(script_json).expect("valid script")).expect("starts")
}

const CREDS: &str = "/latest/meta-data/iam/security-credentials/demo-role";
const ROLES: &str = "/latest/meta-data/iam/security-credentials/";

#[test]
fn statuses_per_path_are_served_in_order_then_normal_answers_resume() {
    let server = start(
        r#"{"responses": [
            {"path": "/latest/api/token", "status": 500, "times": 2},
            {"path": "/latest/api/token", "status": 429},
            {"path": "/latest/meta-data/iam/security-credentials/", "status": 503}
        ]}"#,
    );
    let mut client = RawClient::connect(server.addr());
    let statuses: Vec<u16> = (0..4)
        .map(|_| client.request("PUT", "/latest/api/token", &[TTL]).status)
        .collect();
    assert_eq!(statuses, vec![500, 500, 429, 200]);
    assert_eq!(client.request("GET", ROLES, &[]).status, 503);
    assert_eq!(client.request("GET", ROLES, &[]).status, 200);
    let logged: Vec<u16> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(logged, vec![500, 500, 429, 200, 503, 200]);
}

#[test]
fn a_global_rule_applies_to_whatever_request_comes_next() {
    let server =
        start(r#"{"responses": [{"status": 404}, {"method": "GET", "status": 500, "times": 0}]}"#);
    let mut client = RawClient::connect(server.addr());
    assert_eq!(
        client.request("PUT", "/latest/api/token", &[TTL]).status,
        404
    );
    assert_eq!(
        client.request("PUT", "/latest/api/token", &[TTL]).status,
        200
    );
    for _ in 0..3 {
        assert_eq!(
            client
                .request("GET", "/latest/meta-data/instance-id", &[])
                .status,
            500
        );
    }
}

#[test]
fn imdsv2_only_refuses_requests_without_a_token() {
    let server = start(r#"{"imdsv2_only": true}"#);
    let mut client = RawClient::connect(server.addr());
    assert_eq!(client.request("GET", ROLES, &[]).status, 401);
    let token = client.request("PUT", "/latest/api/token", &[TTL]).text();
    assert_eq!(
        client
            .request("GET", ROLES, &[&token_header(&token)])
            .status,
        200
    );
}

#[test]
fn tokens_expire_after_their_allowed_uses() {
    let server = start(r#"{"token_max_uses": 2}"#);
    let mut client = RawClient::connect(server.addr());
    let token = client.request("PUT", "/latest/api/token", &[TTL]).text();
    let auth = token_header(&token);
    let statuses: Vec<u16> = (0..3)
        .map(|_| client.request("GET", ROLES, &[&auth]).status)
        .collect();
    assert_eq!(statuses, vec![200, 200, 401]);
    let fresh = client.request("PUT", "/latest/api/token", &[TTL]).text();
    assert_ne!(fresh, token);
    assert_eq!(
        client
            .request("GET", ROLES, &[&token_header(&fresh)])
            .status,
        200
    );
}

#[test]
fn tokens_expire_after_their_lifetime() {
    let server = start(r#"{"token_lifetime_ms": 0}"#);
    let mut client = RawClient::connect(server.addr());
    let token = client.request("PUT", "/latest/api/token", &[TTL]).text();
    assert_eq!(
        client
            .request("GET", ROLES, &[&token_header(&token)])
            .status,
        401
    );
}

#[test]
fn a_delay_holds_the_answer_back() {
    let server = start(r#"{"responses": [{"path": "/latest/api/token", "delay_ms": 1500}]}"#);
    let mut client = RawClient::connect(server.addr());
    client
        .send("PUT /latest/api/token HTTP/1.1\r\nHost: 127.0.0.1\r\nx-aws-ec2-metadata-token-ttl-seconds: 60\r\n\r\n");
    client.set_read_timeout(Duration::from_millis(200));
    assert!(!client.anything_arrives(), "answered before the delay");
    client.set_read_timeout(Duration::from_secs(10));
    assert_eq!(client.read_response().status, 200);
    // The request is logged when it arrives, before the delay.
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn chunked_bodies_are_sent_in_chunks() {
    let server = start(r#"{"chunked": true}"#);
    let mut client = RawClient::connect(server.addr());
    let token = client.request("PUT", "/latest/api/token", &[TTL]);
    assert_eq!(token.header("transfer-encoding"), Some("chunked"));
    assert_eq!(token.header("content-length"), None);
    assert_eq!(token.text(), "mock-imds-token-1");
    let creds = client.request("GET", CREDS, &[]);
    assert!(
        creds
            .text()
            .ends_with(r#""Expiration":"2030-01-01T00:00:00Z"}"#)
    );
}

#[test]
fn a_cut_off_body_announces_more_than_it_sends_then_closes() {
    let server = start(&format!(
        r#"{{"responses": [{{"path": "{CREDS}", "cut_off": true}}]}}"#
    ));
    let mut client = RawClient::connect(server.addr());
    let answer = client.request("GET", CREDS, &[]);
    let announced: usize = answer.header("content-length").unwrap().parse().unwrap();
    assert!(!answer.complete);
    assert_eq!(answer.body.len(), announced / 2);
    assert!(client.at_eof());
}

#[test]
fn an_oversize_body_is_padded_to_the_size_asked() {
    let server = start(&format!(
        r#"{{"responses": [{{"path": "{CREDS}", "oversize": 9000}}]}}"#
    ));
    let mut client = RawClient::connect(server.addr());
    let answer = client.request("GET", CREDS, &[]);
    assert_eq!(answer.body.len(), 9000);
    assert!(answer.text().starts_with(r#"{"Code":"Success""#));
}

#[test]
fn bodies_can_be_replaced_with_malformed_json() {
    let server = start(&format!(
        r#"{{"responses": [{{"path": "{CREDS}", "body": "{{\"AccessKeyId\": "}}]}}"#
    ));
    let mut client = RawClient::connect(server.addr());
    let answer = client.request("GET", CREDS, &[]);
    assert_eq!(
        (answer.status, answer.text().as_str()),
        (200, r#"{"AccessKeyId": "#)
    );
}

#[test]
fn credentials_values_and_code_are_scripted() {
    let server = start(
        r#"{"role": "other", "credentials": {"Code": "AssumeRoleUnauthorizedAccess",
            "Message": "no trust", "AccessKeyId": null, "SecretAccessKey": null, "Token": null,
            "Expiration": null}}"#,
    );
    let mut client = RawClient::connect(server.addr());
    assert_eq!(client.request("GET", ROLES, &[]).text(), "other");
    let answer = client.request(
        "GET",
        "/latest/meta-data/iam/security-credentials/other",
        &[],
    );
    assert_eq!(
        answer.text(),
        r#"{"Code":"AssumeRoleUnauthorizedAccess","Message":"no trust","LastUpdated":"2025-01-01T00:00:00Z","Type":"AWS-HMAC"}"#
    );
}

#[test]
fn no_role_answers_404_on_the_role_list() {
    let server = start(r#"{"role": null}"#);
    let mut client = RawClient::connect(server.addr());
    assert_eq!(client.request("GET", ROLES, &[]).status, 404);
    assert_eq!(client.request("GET", CREDS, &[]).status, 404);
}

#[test]
fn connection_close_is_announced_and_done() {
    let server = start(r#"{"connection_close": true}"#);
    let mut client = RawClient::connect(server.addr());
    let answer = client.request("GET", ROLES, &[]);
    assert_eq!(answer.header("connection"), Some("close"));
    assert!(client.at_eof());
}

#[test]
fn a_connection_can_be_closed_without_an_answer() {
    let server =
        start(r#"{"responses": [{"path": "/latest/api/token", "close_without_response": true}]}"#);
    let mut client = RawClient::connect(server.addr());
    client
        .send("PUT /latest/api/token HTTP/1.1\r\nHost: 127.0.0.1\r\nx-aws-ec2-metadata-token-ttl-seconds: 60\r\n\r\n");
    assert!(client.at_eof());
    assert_eq!(server.requests()[0].status, 0);
}

#[test]
fn the_extended_api_exists_only_when_switched_on() {
    let on = start(r#"{"extended_api": true}"#);
    let mut client = RawClient::connect(on.addr());
    let extended = "/latest/meta-data/iam/security-credentials-extended/";
    assert_eq!(client.request("GET", extended, &[]).text(), "demo-role");
    let body = client
        .request("GET", &format!("{extended}demo-role"), &[])
        .text();
    assert!(body.ends_with(r#""AccountId":"123456789012"}"#), "{body}");
    assert!(
        !client
            .request("GET", CREDS, &[])
            .text()
            .contains("AccountId")
    );

    let off = start(r#"{"extended_api": false}"#);
    let mut client = RawClient::connect(off.addr());
    assert_eq!(client.request("GET", extended, &[]).status, 404);
    assert_eq!(
        client
            .request("GET", &format!("{extended}demo-role"), &[])
            .status,
        404
    );
}

#[test]
fn the_legacy_document_can_carry_the_account_id() {
    let server =
        start(r#"{"legacy_account_id": true, "credentials": {"AccountId": "999988887777"}}"#);
    let mut client = RawClient::connect(server.addr());
    assert!(
        client
            .request("GET", CREDS, &[])
            .text()
            .ends_with(r#""AccountId":"999988887777"}"#)
    );
}

#[test]
fn a_path_prefix_is_required_and_logged() {
    let server = start(r#"{"path_prefix": "/imds"}"#);
    let mut client = RawClient::connect(server.addr());
    assert_eq!(
        client
            .request("PUT", "/imds/latest/api/token", &[TTL])
            .status,
        200
    );
    assert_eq!(
        client.request("PUT", "/latest/api/token", &[TTL]).status,
        404
    );
    assert_eq!(server.requests()[0].path, "/imds/latest/api/token");
}

#[test]
fn the_ttl_header_can_be_left_out_and_headers_added() {
    let server = start(
        r#"{"responses": [{"path": "/latest/api/token", "omit_ttl_header": true,
             "headers": {"X-Extra": "yes"}}]}"#,
    );
    let mut client = RawClient::connect(server.addr());
    let answer = client.request("PUT", "/latest/api/token", &[TTL]);
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("x-aws-ec2-metadata-token-ttl-seconds"), None);
    assert_eq!(answer.header("x-extra"), Some("yes"));
}

#[test]
fn a_scripted_answer_to_a_request_with_a_token_carries_the_ttl_header_unless_left_out() {
    let server = start(
        r#"{"responses": [{"path": "/latest/meta-data/instance-id", "status": 500},
                          {"path": "/latest/meta-data/instance-id", "omit_ttl_header": true}]}"#,
    );
    let mut client = RawClient::connect(server.addr());
    let auth = token_header(&client.request("PUT", "/latest/api/token", &[TTL]).text());
    let failed = client.request("GET", "/latest/meta-data/instance-id", &[&auth]);
    assert_eq!(failed.status, 500);
    assert!(
        failed
            .header("x-aws-ec2-metadata-token-ttl-seconds")
            .is_some()
    );
    let without = client.request("GET", "/latest/meta-data/instance-id", &[&auth]);
    assert_eq!(without.status, 200);
    assert_eq!(without.header("x-aws-ec2-metadata-token-ttl-seconds"), None);
}

#[test]
fn metadata_paths_are_scripted() {
    let server = start(r#"{"metadata": {"placement/region": "eu-west-3", "ami-id": "ami-1"}}"#);
    let mut client = RawClient::connect(server.addr());
    assert_eq!(
        client
            .request("GET", "/latest/meta-data/placement/region", &[])
            .text(),
        "eu-west-3"
    );
    assert_eq!(
        client
            .request("GET", "/latest/meta-data/ami-id", &[])
            .text(),
        "ami-1"
    );
}

#[test]
fn raw_bytes_can_replace_the_answer() {
    let server =
        start(r#"{"responses": [{"path": "/latest/api/token", "raw": "HTTP/1.1 abc\r\n\r\n"}]}"#);
    let mut client = RawClient::connect(server.addr());
    client.send(
        "PUT /latest/api/token HTTP/1.1\r\nHost: 127.0.0.1\r\nx-aws-ec2-metadata-token-ttl-seconds: 60\r\n\r\n",
    );
    let mut received = Vec::new();
    while let Some(byte) = client.next_byte() {
        received.push(byte);
    }
    assert_eq!(received, b"HTTP/1.1 abc\r\n\r\n");
    assert_eq!(server.requests()[0].status, 0);
}
