//! The client overwrites its buffers over their whole capacity once their content is no longer
//! needed, and the token and credentials on reset (checked on the raw arrays, which only this
//! crate can see).

extern crate std;

use std::format;
use std::string::String;

use super::*;
use crate::endpoint::Endpoint;

const TOKEN: &str = "AQAEAWipeTestToken-0123456789==";
const SECRET_KEY: &str = "wJalrWipeTestSecretKey";
const SESSION_TOKEN: &str = "IQoJWipeTestSessionToken";

fn t(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

fn wall() -> UnixTime {
    UnixTime::from_secs(1_735_689_600)
}

fn client() -> Client {
    let mut settings = Settings::default();
    settings.endpoint.value = Endpoint::parse("http://127.0.0.1:1338").unwrap();
    Client::new(&settings, 7)
}

fn ok(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// The same body, chunked in pieces (decoding moves bytes down, leaving copies above the end).
fn ok_chunked(body: &str) -> String {
    let mut out = String::from("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    for piece in body.as_bytes().chunks(7) {
        out.push_str(&format!(
            "{:x}\r\n{}\r\n",
            piece.len(),
            core::str::from_utf8(piece).unwrap()
        ));
    }
    out.push_str("0\r\n\r\n");
    out
}

fn credentials_document() -> String {
    format!(
        r#"{{"Code":"Success","AccessKeyId":"ASIAWIPE","SecretAccessKey":"{SECRET_KEY}","Token":"{SESSION_TOKEN}","Expiration":"2025-01-01T06:00:00Z"}}"#
    )
}

fn all_zero(bytes: &[u8]) -> bool {
    bytes.iter().all(|&byte| byte == 0)
}

#[track_caller]
fn assert_buffers_wiped(client: &Client) {
    let (send, receive) = client.transport.raw_buffers();
    assert!(all_zero(send), "the send buffer holds data");
    assert!(all_zero(receive), "the receive buffer holds data");
}

/// Polls for a request, checks that the send buffer holds it, and has it "sent".
#[track_caller]
fn send(client: &mut Client, at: u64, needle: &str) {
    match client.poll(t(at)) {
        Ok(Action::Send { data, .. }) => {
            let request = core::str::from_utf8(data).unwrap();
            assert!(request.contains(needle), "{request}");
        }
        other => panic!("expected Send, got {other:?}"),
    }
    assert!(matches!(client.poll(t(at)), Ok(Action::Receive { .. })));
    // Asking to receive means the request went out: it is gone from the send buffer.
    assert!(all_zero(client.transport.raw_buffers().0));
}

/// Connects at 0 ms and has the token request answered at 1 ms: the client holds the token.
fn connected_with_token(c: &mut Client) {
    assert!(matches!(c.poll(t(0)), Ok(Action::Connect { .. })));
    c.handle_connected(t(0)).unwrap();
    send(c, 0, "PUT /latest/api/token");
    c.handle_data(t(1), ok(TOKEN).as_bytes()).unwrap();
}

#[test]
fn each_exchange_leaves_both_buffers_wiped() {
    let mut c = client();
    c.start_credentials(t(0), wall()).unwrap();
    connected_with_token(&mut c);
    assert_buffers_wiped(&c);
    send(&mut c, 1, TOKEN);
    c.handle_data(t(2), ok_chunked("my-role").as_bytes())
        .unwrap();
    assert_buffers_wiped(&c);
    send(&mut c, 2, "security-credentials/my-role");
    // Fed in two pieces: all but the last chunk, decoded and compacted (which leaves copies of
    // the framing and data above the buffer's end), then the last chunk, which is short.
    let response = ok_chunked(&credentials_document());
    let (first, second) = response.as_bytes().split_at(response.len() - 5);
    c.handle_data(t(3), first).unwrap();
    assert!(!all_zero(c.transport.raw_buffers().1));
    assert!(matches!(c.poll(t(3)), Ok(Action::Receive { .. })));
    c.handle_data(t(3), second).unwrap();
    assert_buffers_wiped(&c);
    assert!(matches!(c.poll(t(3)), Ok(Action::Done)));
    assert_eq!(c.credentials().unwrap().secret_access_key(), SECRET_KEY);
}

#[test]
fn a_metadata_body_stays_until_the_next_operation() {
    let mut c = client();
    c.start_get(t(0), "instance-id").unwrap();
    connected_with_token(&mut c);
    send(&mut c, 1, "instance-id");
    c.handle_data(t(2), ok("i-0123").as_bytes()).unwrap();
    assert!(matches!(c.poll(t(2)), Ok(Action::Done)));
    assert_eq!(c.body(), Some(&b"i-0123"[..]));
    c.start_get(t(3), "instance-id").unwrap();
    assert_buffers_wiped(&c);
}

#[test]
fn reset_wipes_the_token_the_credentials_and_a_partial_response() {
    let mut c = client();
    c.start_credentials(t(0), wall()).unwrap();
    connected_with_token(&mut c);
    send(&mut c, 1, TOKEN);
    c.handle_data(t(2), ok("my-role").as_bytes()).unwrap();
    send(&mut c, 2, "my-role");
    c.handle_data(t(3), ok(&credentials_document()).as_bytes())
        .unwrap();
    assert!(matches!(c.poll(t(3)), Ok(Action::Done)));
    // A second operation with a request in the send buffer and half a response received.
    c.start_get(t(4), "instance-id").unwrap();
    assert!(matches!(c.poll(t(4)), Ok(Action::Send { .. })));
    assert!(!all_zero(c.transport.raw_buffers().0));
    assert!(matches!(c.poll(t(4)), Ok(Action::Receive { .. })));
    c.handle_data(
        t(5),
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsecret-ish",
    )
    .unwrap();
    c.reset();
    assert_buffers_wiped(&c);
    assert_eq!(c.policy.secrets(), ["", "", ""]);
    assert!(c.credentials().is_none());
}

#[test]
fn cancel_wipes_the_exchange_in_flight() {
    let mut c = client();
    c.start_credentials(t(0), wall()).unwrap();
    assert!(matches!(c.poll(t(0)), Ok(Action::Connect { .. })));
    c.handle_connected(t(0)).unwrap();
    assert!(matches!(c.poll(t(0)), Ok(Action::Send { .. })));
    c.cancel();
    assert_buffers_wiped(&c);
}

#[test]
fn debug_shows_the_send_action_by_length() {
    let mut c = client();
    c.start_credentials(t(0), wall()).unwrap();
    connected_with_token(&mut c);
    let action = c.poll(t(1)).unwrap();
    let Action::Send { data, .. } = action else {
        panic!("expected Send, got {action:?}");
    };
    let shown = format!("{action:?}");
    assert!(
        shown.starts_with(&format!(
            "Send {{ data: <redacted, {} bytes>, deadline: ",
            data.len()
        )),
        "{shown}"
    );
    assert!(!shown.contains(TOKEN) && !shown.contains("PUT") && !shown.contains("GET"));
    let client = format!("{c:?}");
    assert!(!client.contains(TOKEN), "{client}");
    assert!(
        client.contains(&format!("<redacted, {} bytes>", TOKEN.len())),
        "{client}"
    );
}
