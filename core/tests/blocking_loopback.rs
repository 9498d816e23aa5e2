//! The blocking driver over real TCP against a loopback IMDS written here (std `TcpListener` on
//! 127.0.0.1:0): credentials, metadata reads, keep-alive reuse, `Connection: close`, timeouts (an
//! answer trickling in too), refused connections, and bytes no request asked for.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

use imds_core::blocking::{self, BlockingClient};
use imds_core::diagnostic::Diagnostic;
use imds_core::endpoint::Endpoint;
use imds_core::{ErrorKind, Settings};

const TOKEN: &str = "loopback-token";
const CREDENTIALS: &str = r#"{"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"ASIALOOPBACK","SecretAccessKey":"loopback-secret","Token":"loopback-session","Expiration":"2999-01-01T00:00:00Z"}"#;

/// What the loopback IMDS does with one request.
enum Reply {
    /// Answer with these bytes and keep the connection.
    Send(Vec<u8>),
    /// Answer with these bytes, then close.
    SendAndClose(Vec<u8>),
    /// Answer with these bytes (a keep-alive answer), close, and log `"<conn> closed"`.
    SendThenClose(Vec<u8>),
    /// Read on without answering (until the client closes).
    Ignore,
    /// Answer with these bytes one at a time, this many milliseconds apart.
    Drip(Vec<u8>, u64),
    /// Answer with the first bytes, then this many milliseconds later send the second (which no
    /// request asked for) on the same connection.
    SendThenLater(Vec<u8>, u64, Vec<u8>),
}

fn ok(body: &str) -> Reply {
    Reply::Send(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

/// A loopback IMDS: each request (`PUT /latest/api/token`, `GET …`) goes to `script` with the
/// number of the connection it came on; every request line is logged as `"<conn> <line>"`.
struct Server {
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(script: impl Fn(usize, &str) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(script);
        let server_log = Arc::clone(&log);
        thread::spawn(move || {
            for (number, stream) in listener.incoming().enumerate() {
                let Ok(stream) = stream else { return };
                let log = Arc::clone(&server_log);
                let script = Arc::clone(&script);
                thread::spawn(move || serve(number + 1, stream, &log, &*script));
            }
        });
        Self { port, log }
    }

    fn settings(&self) -> Settings {
        let mut settings = Settings::default();
        settings.endpoint.value =
            Endpoint::parse(&format!("http://127.0.0.1:{}", self.port)).unwrap();
        settings
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Returns once `line` is in the log (the server did what it logs), failing after 10 s.
    fn wait_for(&self, line: &str) {
        let give_up = std::time::Instant::now() + core::time::Duration::from_secs(10);
        while !self.log().iter().any(|l| l == line) {
            assert!(
                std::time::Instant::now() < give_up,
                "the server never logged {line:?}"
            );
            thread::yield_now();
        }
    }
}

fn serve(
    number: usize,
    mut stream: TcpStream,
    log: &Mutex<Vec<String>>,
    script: &(dyn Fn(usize, &str) -> Reply + Send + Sync),
) {
    let mut pending = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head: Vec<u8> = pending.drain(..end + 4).collect();
            let head = String::from_utf8(head).unwrap();
            let line = head.lines().next().unwrap_or("").to_owned();
            let request = format!("{line}\n{head}");
            log.lock().unwrap().push(format!("{number} {line}"));
            match script(number, &request) {
                Reply::Send(bytes) => {
                    if stream.write_all(&bytes).is_err() {
                        return;
                    }
                }
                Reply::SendAndClose(bytes) => {
                    let _ = stream.write_all(&bytes);
                    return;
                }
                Reply::SendThenClose(bytes) => {
                    let _ = stream.write_all(&bytes);
                    let _ = stream.shutdown(std::net::Shutdown::Both);
                    drop(stream);
                    log.lock().unwrap().push(format!("{number} closed"));
                    return;
                }
                Reply::Ignore => {}
                Reply::Drip(bytes, every_ms) => {
                    for byte in bytes {
                        thread::sleep(core::time::Duration::from_millis(every_ms));
                        if stream.write_all(&[byte]).is_err() {
                            return;
                        }
                    }
                }
                Reply::SendThenLater(bytes, after_ms, later) => {
                    if stream.write_all(&bytes).is_err() {
                        return;
                    }
                    thread::sleep(core::time::Duration::from_millis(after_ms));
                    if stream.write_all(&later).is_err() {
                        return;
                    }
                }
            }
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
        }
    }
}

/// A well-behaved IMDSv2 with role `loopback-role`.
fn imds(_connection: usize, request: &str) -> Reply {
    let line = request.lines().next().unwrap_or("");
    let with_token = request.contains(&format!("x-aws-ec2-metadata-token: {TOKEN}\r\n"));
    match line {
        "PUT /latest/api/token HTTP/1.1" => Reply::Send(
            format!(
                "HTTP/1.1 200 OK\r\nx-aws-ec2-metadata-token-ttl-seconds: 21600\r\nContent-Length: {}\r\n\r\n{TOKEN}",
                TOKEN.len()
            )
            .into_bytes(),
        ),
        _ if !with_token => Reply::Send(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n".to_vec()),
        "GET /latest/meta-data/iam/security-credentials/ HTTP/1.1" => ok("loopback-role"),
        "GET /latest/meta-data/iam/security-credentials/loopback-role HTTP/1.1" => ok(CREDENTIALS),
        "GET /latest/meta-data/placement/region HTTP/1.1" => ok("eu-west-1"),
        _ => Reply::Send(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec()),
    }
}

#[test]
fn fetches_credentials_over_one_keep_alive_connection() {
    let server = Server::start(imds);
    let credentials = blocking::fetch_credentials(&server.settings()).unwrap();
    assert_eq!(credentials.access_key_id(), "ASIALOOPBACK");
    assert_eq!(credentials.secret_access_key(), "loopback-secret");
    assert_eq!(credentials.session_token(), "loopback-session");
    assert_eq!(
        server.log(),
        [
            "1 PUT /latest/api/token HTTP/1.1",
            "1 GET /latest/meta-data/iam/security-credentials/ HTTP/1.1",
            "1 GET /latest/meta-data/iam/security-credentials/loopback-role HTTP/1.1",
        ]
    );
}

#[test]
fn a_long_lived_client_reuses_token_connection_and_cached_credentials() {
    let server = Server::start(imds);
    let mut client = BlockingClient::with_seed(&server.settings(), 1);
    let traced = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&traced);
    client.on_diagnostic(move |d| sink.lock().unwrap().push(*d));

    let first = client.fetch_credentials().unwrap();
    let second = client.fetch_credentials().unwrap();
    assert_eq!(first, second);
    assert_eq!(client.get("placement/region").unwrap(), b"eu-west-1");
    assert_eq!(
        server.log(),
        [
            "1 PUT /latest/api/token HTTP/1.1",
            "1 GET /latest/meta-data/iam/security-credentials/ HTTP/1.1",
            "1 GET /latest/meta-data/iam/security-credentials/loopback-role HTTP/1.1",
            "1 GET /latest/meta-data/placement/region HTTP/1.1",
        ]
    );
    let traced = traced.lock().unwrap();
    assert!(traced.contains(&Diagnostic::CredentialsFromCache));
    let requests = traced
        .iter()
        .filter(|d| matches!(d, Diagnostic::RequestSent { .. }))
        .count();
    assert_eq!(requests, 4);
}

#[test]
fn get_returns_the_body_and_404_is_an_http_status_error() {
    let server = Server::start(imds);
    assert_eq!(
        blocking::get(&server.settings(), "placement/region").unwrap(),
        b"eu-west-1"
    );
    let error = blocking::get(&server.settings(), "no/such/thing").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::HttpStatus);
    assert!(error.to_string().contains("404"));
}

#[test]
fn connection_close_makes_the_driver_reconnect() {
    let server = Server::start(|connection, request| match imds(connection, request) {
        Reply::Send(bytes) => Reply::SendAndClose(bytes),
        other => other,
    });
    let credentials = blocking::fetch_credentials(&server.settings()).unwrap();
    assert_eq!(credentials.access_key_id(), "ASIALOOPBACK");
    let connections: Vec<String> = server
        .log()
        .iter()
        .map(|l| l.split(' ').next().unwrap().to_owned())
        .collect();
    assert_eq!(connections, ["1", "2", "3"]);
}

#[test]
fn a_kept_connection_the_server_closed_is_noticed_before_the_next_request() {
    let server = Server::start(|connection, request| {
        match (connection, request.lines().next().unwrap_or("")) {
            (1, "GET /latest/meta-data/placement/region HTTP/1.1") => match ok("eu-west-1") {
                Reply::Send(bytes) => Reply::SendThenClose(bytes),
                other => other,
            },
            _ => imds(connection, request),
        }
    });
    let mut client = BlockingClient::with_seed(&server.settings(), 1);
    let traced = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&traced);
    client.on_diagnostic(move |d| sink.lock().unwrap().push(*d));
    assert_eq!(client.get("placement/region").unwrap(), b"eu-west-1");
    server.wait_for("1 closed");
    assert_eq!(client.get("placement/region").unwrap(), b"eu-west-1");
    assert_eq!(
        server.log(),
        [
            "1 PUT /latest/api/token HTTP/1.1",
            "1 GET /latest/meta-data/placement/region HTTP/1.1",
            "1 closed",
            "2 GET /latest/meta-data/placement/region HTTP/1.1",
        ]
    );
    // Nothing was sent on the closed connection (a re-send would count one more).
    let requests = traced
        .lock()
        .unwrap()
        .iter()
        .filter(|d| matches!(d, Diagnostic::RequestSent { .. }))
        .count();
    assert_eq!(requests, 3);
}

#[test]
fn a_token_request_that_times_out_falls_back_to_v1_on_a_new_connection() {
    let server = Server::start(|connection, request| {
        let line = request.lines().next().unwrap_or("");
        match line {
            // A container behind a hop limit of 1: the PUT's answer never arrives.
            "PUT /latest/api/token HTTP/1.1" => Reply::Ignore,
            "GET /latest/meta-data/placement/region HTTP/1.1" if connection > 1 => ok("us-east-2"),
            _ => Reply::Send(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec()),
        }
    });
    let mut settings = server.settings();
    settings.timeout_ms.value = 200;
    let mut client = BlockingClient::with_seed(&settings, 1);
    let traced = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&traced);
    client.on_diagnostic(move |d| sink.lock().unwrap().push(*d));
    assert_eq!(client.get("placement/region").unwrap(), b"us-east-2");
    assert!(traced.lock().unwrap().contains(&Diagnostic::HopLimitHint));
    assert_eq!(
        server.log(),
        [
            "1 PUT /latest/api/token HTTP/1.1",
            "2 GET /latest/meta-data/placement/region HTTP/1.1",
        ]
    );
}

#[test]
fn a_refused_connection_is_retried_then_connect_failed_naming_the_endpoint() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut settings = Settings::default();
    settings.endpoint.value = Endpoint::parse(&format!("http://127.0.0.1:{port}")).unwrap();
    let mut client = BlockingClient::with_seed(&settings, 1);
    let traced = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&traced);
    client.on_diagnostic(move |d| sink.lock().unwrap().push(*d));
    let error = client.fetch_credentials().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ConnectFailed);
    assert_eq!(
        error.to_string(),
        format!(
            "could not connect to IMDS at http://127.0.0.1:{port} (connection refused); is this \
             an EC2 instance, and is the endpoint right?"
        )
    );
    // Four attempts: three back-offs between them.
    let retries: Vec<u8> = traced
        .lock()
        .unwrap()
        .iter()
        .filter_map(|d| match d {
            Diagnostic::RetryScheduled {
                attempt, status: 0, ..
            } => Some(*attempt),
            _ => None,
        })
        .collect();
    assert_eq!(retries, [1, 2, 3]);
}

#[test]
fn an_answer_trickling_in_times_out_at_the_request_deadline() {
    let server = Server::start(|connection, request| match imds(connection, request) {
        Reply::Send(bytes) if request.starts_with("GET /latest/meta-data/placement/region") => {
            Reply::Drip(bytes, 100)
        }
        other => other,
    });
    let mut settings = server.settings();
    settings.timeout_ms.value = 500;
    let started = std::time::Instant::now();
    let error = blocking::get(&settings, "placement/region").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert_eq!(
        error.to_string(),
        "timed out waiting for IMDS in the metadata request"
    );
    // A generous bound: the request's deadline ended it, not a cap of 30 s.
    assert!(started.elapsed() < core::time::Duration::from_secs(10));
}

#[test]
fn an_answer_arriving_on_the_kept_connection_between_operations_is_discarded() {
    let unsolicited = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nearly".to_vec();
    let server =
        Server::start(
            move |connection, request| match (connection, imds(connection, request)) {
                (1, Reply::Send(bytes))
                    if request.starts_with("GET /latest/meta-data/placement") =>
                {
                    Reply::SendThenLater(bytes, 20, unsolicited.clone())
                }
                (_, reply) => reply,
            },
        );
    let settings = server.settings();
    let mut client = imds_core::Client::new(&settings, 1);
    let origin = std::time::Instant::now();
    let clock = move || {
        imds_core::Instant::from_millis(u64::try_from(origin.elapsed().as_millis()).unwrap())
    };
    let mut stream: Option<TcpStream> = None;
    client.start_get(clock(), "placement/region").unwrap();
    blocking::drive(&mut client, &mut stream, &clock, None).unwrap();
    assert_eq!(client.body(), Some(&b"eu-west-1"[..]));
    // The unsolicited answer is on the kept connection before the next operation starts.
    let kept = stream.as_ref().expect("kept");
    kept.set_read_timeout(Some(core::time::Duration::from_secs(10)))
        .unwrap();
    assert_eq!(kept.peek(&mut [0u8; 1]).unwrap(), 1);
    client.start_get(clock(), "placement/region").unwrap();
    blocking::drive(&mut client, &mut stream, &clock, None).unwrap();
    assert_eq!(client.body(), Some(&b"eu-west-1"[..]), "not `early`");
    let warned = core::iter::from_fn(|| client.poll_diagnostic()).any(|d| {
        matches!(
            d,
            Diagnostic::UnsolicitedBytes {
                len: 43,
                token_dropped: true
            }
        )
    });
    assert!(warned);
    // The token came on the connection that brought the stray answer: a new one is asked for.
    assert_eq!(
        server.log(),
        [
            "1 PUT /latest/api/token HTTP/1.1",
            "1 GET /latest/meta-data/placement/region HTTP/1.1",
            "2 PUT /latest/api/token HTTP/1.1",
            "2 GET /latest/meta-data/placement/region HTTP/1.1",
        ]
    );
    blocking::close(&mut client, &mut stream);
}

#[test]
fn https_endpoints_are_unsupported_and_disabled_settings_are_disabled() {
    let mut settings = Settings::default();
    settings.endpoint.value = Endpoint::parse("https://127.0.0.1:9").unwrap();
    assert_eq!(
        blocking::fetch_credentials(&settings).unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    let mut settings = Settings::default();
    settings.disabled.value = true;
    assert_eq!(
        blocking::get(&settings, "instance-id").unwrap_err().kind(),
        ErrorKind::Disabled
    );
}
