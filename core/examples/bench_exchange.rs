//! Benchmark of the core alone: one full IMDS exchange (token PUT, role GET, credentials GET with
//! the JSON parse) against a scripted in-memory peer, and a cached-token refresh (one GET).
//!
//! The full exchange runs on a long-lived client after [`Client::reset`], so it measures the
//! protocol work (writing three requests, parsing three responses and the credentials JSON), not
//! moving the 19 KiB client around; constructing a client is measured on its own.
//!
//! Prints wall time per exchange and `size_of::<Client>()`. For instruction counts, run it under
//! callgrind, collecting only inside one measured function (`full_exchange`, `refresh` or
//! `construct`):
//!
//! ```text
//! cargo build --release -p imds-core --example bench_exchange
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out \
//!     --toggle-collect='bench_exchange::full_exchange' \
//!     target/release/examples/bench_exchange 1000
//! callgrind_annotate /tmp/cg.out | head -20   # "PROGRAM TOTALS" Ir / 1000 = per exchange
//! ```

// A benchmark program: a failed step should stop it loudly.
#![allow(clippy::expect_used, clippy::panic, clippy::std_instead_of_core)]

use std::hint::black_box;
use std::time::Instant as WallInstant;

use imds_core::endpoint::Endpoint;
use imds_core::{Action, Client, Instant, Settings, UnixTime};

const TOKEN_RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nx-aws-ec2-metadata-token-ttl-seconds: 21600\r\nContent-Length: 56\r\n\r\nAQAEAHExampleTokenExampleTokenExampleTokenExampleToken==";
const ROLE_RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nexample-role";
const CREDENTIALS_BODY: &str = r#"{
  "Code" : "Success",
  "LastUpdated" : "2025-01-01T00:00:00Z",
  "Type" : "AWS-HMAC",
  "AccessKeyId" : "ASIAIOSFODNN7EXAMPLE",
  "SecretAccessKey" : "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  "Token" : "IQoJb3JpZ2luX2VjEXAMPLETOKENIQoJb3JpZ2luX2VjEXAMPLETOKENIQoJb3JpZ2luX2VjEXAMPLETOKENIQoJb3JpZ2luX2VjEXAMPLETOKENIQoJb3JpZ2luX2VjEXAMPLETOKENIQoJb3JpZ2luX2VjEXAMPLETOKENIQoJb3JpZ2luX2VjEXAMPLETOKENIQoJb3JpZ2luX2VjEXAMPLETOKENIQoJb3JpZ2luX2VjEXAMPLETOKENIQoJb3JpZ2luX2VjEXAMPLETOKENIQoJb3JpZ2luX2VjEXAMPLETOKENIQoJb3JpZ2luX2VjEXAMPLETOKENIQoJb3JpZ2luX2VjEXAMPLETOKENIQoJb3JpZ2luX2VjEXAMPLETOKENIQoJb3JpZ2luX2VjEXAMPLETOKEN",
  "Expiration" : "2025-01-01T06:00:00Z"
}"#;

/// 2025-01-01T00:00:00Z.
const WALL: UnixTime = UnixTime::from_secs(1_735_689_600);

fn settings() -> Settings {
    let mut settings = Settings::default();
    settings.endpoint.value = Endpoint::parse("http://127.0.0.1:1338").expect("endpoint");
    settings
}

/// Answers each action the way a well-behaved IMDS on a kept-alive connection would, until Done.
fn drive(client: &mut Client, credentials_response: &[u8], now: Instant) {
    let mut next: &[u8] = &[];
    for _ in 0..32 {
        match client.poll(now) {
            Ok(Action::Connect { .. }) => client.handle_connected(now).expect("connected"),
            Ok(Action::Send { data, .. }) => {
                next = match data.get(..4) {
                    Some(b"PUT ") => TOKEN_RESPONSE,
                    _ if data.starts_with(b"GET /latest/meta-data/iam/security-credentials/ ") => {
                        ROLE_RESPONSE
                    }
                    _ => credentials_response,
                };
            }
            Ok(Action::Receive { .. }) => client.handle_data(now, next).expect("data"),
            Ok(Action::Done) => return,
            other => panic!("unexpected {other:?}"),
        }
        while client.poll_diagnostic().is_some() {}
    }
    panic!("the exchange did not finish");
}

/// A client that knows nothing (reset) performing token → role → credentials on a new connection.
#[inline(never)]
fn full_exchange(client: &mut Client, credentials_response: &[u8], at: u64) {
    let now = Instant::from_millis(at);
    client.reset();
    client.start_credentials(now, WALL).expect("start");
    drive(client, credentials_response, now);
}

/// Constructing a client (copies the settings, zeroes its buffers).
#[inline(never)]
fn construct(settings: &Settings, seed: u64) -> Box<Client> {
    Box::new(Client::new(settings, seed))
}

/// A refresh with token and role cached: one GET on the open connection.
#[inline(never)]
fn refresh(client: &mut Client, credentials_response: &[u8], at: u64) {
    let now = Instant::from_millis(at);
    client
        .start_credentials(now, WALL.add_secs(6 * 3600 - 200))
        .expect("start");
    drive(client, credentials_response, now);
}

fn main() {
    let iterations: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let settings = settings();
    let credentials_response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{CREDENTIALS_BODY}",
        CREDENTIALS_BODY.len()
    )
    .into_bytes();

    let start = WallInstant::now();
    for seed in 0..iterations {
        black_box(construct(&settings, seed));
    }
    let construction = start.elapsed();

    let mut client = construct(&settings, 0);
    let start = WallInstant::now();
    for i in 0..iterations {
        full_exchange(&mut client, &credentials_response, i);
        black_box(client.credentials().map(|c| c.expiration()));
    }
    let full = start.elapsed();

    let start = WallInstant::now();
    for i in 0..iterations {
        refresh(&mut client, &credentials_response, iterations + i);
        black_box(client.credentials().map(|c| c.expiration()));
    }
    let refreshes = start.elapsed();

    let per = |total: std::time::Duration| total.as_nanos() as f64 / iterations as f64 / 1_000.0;
    println!("iterations: {iterations}");
    println!(
        "full exchange (token + role + credentials):   {:.2} µs",
        per(full)
    );
    println!(
        "refresh with cached token and role (one GET): {:.2} µs",
        per(refreshes)
    );
    println!(
        "Client::new (boxed):                          {:.2} µs",
        per(construction)
    );
    println!(
        "size_of::<Client>(): {} bytes ({:.1} KiB)",
        std::mem::size_of::<Client>(),
        std::mem::size_of::<Client>() as f64 / 1024.0
    );
}
