//! Retry transcripts: which failures are retried, the jittered back-off, attempts, and the
//! request's deadline (the whole response within `timeout`; nothing else bounds an operation).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[macro_use]
mod client_support;

use client_support::*;
use imds_core::client::IoError;
use imds_core::diagnostic::Diagnostic;
use imds_core::error::{Context, Step};
use imds_core::{Action, Client, ErrorKind, Source};

/// A client that already holds a token and role (so each request below is one GET).
fn warmed_up(settings: &imds_core::Settings) -> Client {
    let mut c = client_with(settings);
    c.start_get(t(0), "instance-id").unwrap();
    expect_connect!(c, at 0);
    expect_send!(c, at 0, contains "PUT /latest/api/token");
    feed!(c, at 0, token_ok(21_600));
    expect_send!(c, at 0, contains "GET /latest/meta-data/instance-id");
    feed!(c, at 0, ok("i-1"));
    expect_done!(c, at 0);
    diagnostics(&mut c);
    c
}

#[test]
fn five_hundreds_are_retried_with_capped_jittered_backoff_then_fail() {
    let mut settings = settings();
    settings.attempts.value = 8;
    settings.attempts.source = Source::Explicit;
    let mut c = warmed_up(&settings);
    c.start_get(t(1_000), "placement/region").unwrap();
    let mut at = 1_000;
    let mut log = Vec::new();
    for attempt in 1..=8u8 {
        expect_send!(c, at at, contains "GET /latest/meta-data/placement/region");
        feed!(c, at at, status(503));
        log.extend(diagnostics(&mut c));
        if attempt < 8 {
            let until = expect_wait!(c, at at);
            let ceiling = (50u64 << (attempt - 1)).min(1_000);
            assert!(
                until - at < ceiling,
                "attempt {attempt}: back-off {} ≥ {ceiling}",
                until - at
            );
            at = until;
        }
    }
    let error = expect_error!(c, at at, ErrorKind::HttpStatus);
    assert_eq!(
        *error.context(),
        Context::Step {
            step: Step::Metadata,
            status: 503
        }
    );
    let retries: Vec<(u8, u16)> = log
        .iter()
        .filter_map(|d| match d {
            Diagnostic::RetryScheduled {
                attempt, status, ..
            } => Some((*attempt, *status)),
            _ => None,
        })
        .collect();
    assert_eq!(retries, (1..=7).map(|a| (a, 503)).collect::<Vec<_>>());
}

#[test]
fn backoff_delays_are_spread_by_the_seed() {
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..20 {
        let mut c = Client::new(&settings(), seed);
        c.start_get(t(0), "instance-id").unwrap();
        expect_connect!(c, at 0);
        expect_send!(c, at 0, contains "PUT");
        feed!(c, at 0, status(500));
        let until = expect_wait!(c, at 0);
        assert!(until < 50);
        seen.insert(until);
    }
    assert!(seen.len() > 5, "jitter should vary with the seed: {seen:?}");
}

#[test]
fn throttling_429_is_retried_and_success_ends_the_retries() {
    let mut c = warmed_up(&settings());
    c.start_get(t(1_000), "instance-id").unwrap();
    expect_send!(c, at 1_000, contains "GET /latest/meta-data/instance-id");
    feed!(c, at 1_000, status(429));
    let until = expect_wait!(c, at 1_000);
    expect_send!(c, at until, contains "GET /latest/meta-data/instance-id");
    feed!(c, at until, ok("i-2"));
    expect_done!(c, at until);
    assert_eq!(c.body(), Some(&b"i-2"[..]));
}

#[test]
fn after_a_429_the_back_off_is_up_to_1_s_then_2_s_not_50_ms() {
    let mut longest = [0u64; 3];
    for seed in 0..40 {
        let mut c = Client::new(&settings(), seed);
        c.start_get(t(0), "instance-id").unwrap();
        expect_connect!(c, at 0);
        expect_send!(c, at 0, contains "PUT /latest/api/token");
        feed!(c, at 0, token_ok(21_600));
        let mut at = 0;
        for (attempt, ceiling) in [1_000u64, 2_000, 2_000].into_iter().enumerate() {
            expect_send!(c, at at, contains "GET /latest/meta-data/instance-id");
            feed!(c, at at, status(429));
            let until = expect_wait!(c, at at);
            assert!(
                until - at < ceiling,
                "attempt {}: {} ms",
                attempt + 1,
                until - at
            );
            longest[attempt] = longest[attempt].max(until - at);
            at = until;
        }
    }
    // Spread over the whole range, not bunched under 50 ms as after a 5xx.
    assert!(longest[0] > 500 && longest[1] > 1_000, "{longest:?}");
}

#[test]
fn other_4xx_are_final_and_a_404_names_the_metadata_step() {
    for code in [400, 403, 404, 405, 409] {
        let mut c = warmed_up(&settings());
        c.start_get(t(1_000), "no/such/path").unwrap();
        expect_send!(c, at 1_000, contains "GET /latest/meta-data/no/such/path");
        feed!(c, at 1_001, status(code));
        let error = expect_error!(c, at 1_001, ErrorKind::HttpStatus);
        assert_eq!(
            *error.context(),
            Context::Step {
                step: Step::Metadata,
                status: code
            }
        );
        assert!(
            error
                .to_string()
                .contains(&format!("{code} to the metadata request"))
        );
    }
}

#[test]
fn redirects_are_not_followed() {
    let mut c = warmed_up(&settings());
    c.start_get(t(1_000), "instance-id").unwrap();
    expect_send!(c, at 1_000, contains "GET");
    feed!(c, at 1_000, *b"HTTP/1.1 302 Found\r\nLocation: http://203.0.113.1/\r\nContent-Length: 0\r\n\r\n");
    let error = expect_error!(c, at 1_000, ErrorKind::HttpStatus);
    assert_eq!(
        *error.context(),
        Context::Step {
            step: Step::Metadata,
            status: 302
        }
    );
}

#[test]
fn timeouts_and_unreachable_networks_are_final_by_default() {
    // A response that did not come in time.
    let mut c = warmed_up(&settings());
    c.start_get(t(1_000), "instance-id").unwrap();
    expect_send!(c, at 1_000, contains "GET");
    expect_receive(&mut c, 1_000);
    c.handle_timeout(t(2_000)).unwrap();
    let error = expect_error!(c, at 2_000, ErrorKind::Timeout);
    assert_eq!(
        *error.context(),
        Context::Step {
            step: Step::Metadata,
            status: 0
        }
    );

    // A connect timeout, an unreachable network, another I/O error.
    let mut c = client();
    c.start_get(t(0), "instance-id").unwrap();
    expect_receive_never_connects(&mut c);
    c.handle_timeout(t(1_000)).unwrap();
    let error = expect_error!(c, at 1_000, ErrorKind::ConnectFailed);
    assert!(
        error.to_string().starts_with(
            "could not connect to IMDS at http://127.0.0.1:1338 (timed out); is this an EC2 instance"
        ),
        "{error}"
    );
    let mut c = client();
    c.start_get(t(0), "instance-id").unwrap();
    expect_connect_failing(&mut c, 0, IoError::ConnectFailed);
    let error = expect_error!(c, at 0, ErrorKind::ConnectFailed);
    assert!(error.to_string().contains("(unreachable)"), "{error}");
    let mut c = warmed_up(&settings());
    c.start_get(t(1_000), "instance-id").unwrap();
    expect_send!(c, at 1_000, contains "GET");
    feed!(c, at 1_000, *b"HTTP/1.1 200");
    expect_receive(&mut c, 1_000);
    c.handle_io_error(t(1_001), IoError::Other).unwrap();
    expect_error!(c, at 1_001, ErrorKind::Io);
}

/// Polls for a connect and leaves it pending.
fn expect_receive_never_connects(c: &mut Client) {
    assert!(matches!(c.poll(t(0)), Ok(Action::Connect { .. })));
}

#[test]
fn refused_dropped_and_reset_connections_are_retried_by_default() {
    // Refused: nothing listens (yet).
    let mut c = client();
    c.start_get(t(0), "instance-id").unwrap();
    expect_connect_failing(&mut c, 0, IoError::ConnectionRefused);
    let until = expect_wait!(c, at 0);
    assert!(until < 50, "the 5xx back-off: {until}");
    expect_connect!(c, at until);
    expect_send!(c, at until, contains "PUT /latest/api/token");

    // Accepted, then reset as the connect completed, while sending, while receiving; or closed.
    for fail in [
        |c: &mut Client, at: u64| {
            assert!(matches!(c.poll(t(at)), Ok(Action::Connect { .. })));
            c.handle_io_error(t(at), IoError::ConnectionReset).unwrap();
        },
        |c: &mut Client, at: u64| {
            expect_connect!(*c, at at);
            expect_send!(*c, at at, contains "PUT");
            c.handle_io_error(t(at), IoError::ConnectionReset).unwrap();
        },
        |c: &mut Client, at: u64| {
            expect_connect!(*c, at at);
            expect_send!(*c, at at, contains "PUT");
            expect_receive(c, at);
            c.handle_io_error(t(at), IoError::ConnectionReset).unwrap();
        },
        |c: &mut Client, at: u64| {
            expect_connect!(*c, at at);
            expect_send!(*c, at at, contains "PUT");
            feed_eof(c, at);
        },
    ] {
        let mut c = client();
        c.start_get(t(0), "instance-id").unwrap();
        let mut at = 0;
        for attempt in 1..=4 {
            fail(&mut c, at);
            if attempt < 4 {
                at = expect_wait!(c, at at);
                if matches!(c.poll(t(at)), Ok(Action::Close)) {
                    continue;
                }
            }
        }
        // One message however the drop showed: it is not a connect failure.
        let error = expect_error!(c, at at, ErrorKind::ConnectionClosed);
        assert_eq!(
            error.to_string(),
            "IMDS closed or reset the connection before the response was complete in the token request"
        );
    }
}

#[test]
fn transport_failures_are_retried_when_attempts_are_configured() {
    let mut settings = settings();
    settings.attempts.value = 3;
    settings.attempts.source = Source::Profile;
    let mut c = client_with(&settings);
    c.start_get(t(0), "instance-id").unwrap();
    expect_connect_failing(&mut c, 0, IoError::ConnectionRefused);
    let until = expect_wait!(c, at 0);
    expect_connect_failing(&mut c, until, IoError::ConnectFailed);
    let until = expect_wait!(c, at until);
    expect_connect_failing(&mut c, until, IoError::ConnectionRefused);
    expect_error!(c, at until, ErrorKind::ConnectFailed);

    // A read timeout on a GET is retried on a new connection.
    let mut c = warmed_up(&settings);
    c.start_get(t(1_000), "instance-id").unwrap();
    expect_send!(c, at 1_000, contains "GET");
    expect_receive(&mut c, 1_000);
    c.handle_timeout(t(2_000)).unwrap();
    let until = expect_wait!(c, at 2_000);
    expect_close!(c, at until);
    expect_connect!(c, at until);
    expect_send!(c, at until, contains "GET /latest/meta-data/instance-id");
    feed!(c, at until, ok("i-3"));
    expect_done!(c, at until);
}

#[test]
fn the_whole_response_must_come_within_timeout_of_the_request() {
    let mut c = warmed_up(&settings());
    c.start_get(t(1_000), "instance-id").unwrap();
    match c.poll(t(1_000)) {
        Ok(Action::Send { deadline, .. }) => assert_eq!(deadline, t(2_000)),
        other => panic!("expected Send, got {other:?}"),
    }
    assert_eq!(expect_receive(&mut c, 1_000), t(2_000));
    c.handle_data(t(1_500), b"HTTP/1.1 200 OK\r\n").unwrap();
    // Progress buys no time: a server trickling a byte every 100 ms is cut off at the deadline.
    let mut at = 1_500;
    while at + 100 < 2_000 {
        assert_eq!(expect_receive(&mut c, at), t(2_000));
        at += 100;
        c.handle_data(t(at), b"X").unwrap();
    }
    assert_eq!(expect_receive(&mut c, at), t(2_000));
    let error = expect_error!(c, at 2_000, ErrorKind::Timeout);
    assert_eq!(
        error.to_string(),
        "timed out waiting for IMDS in the metadata request"
    );

    // A body trickling after its head is the same.
    let mut c = warmed_up(&settings());
    c.start_get(t(1_000), "instance-id").unwrap();
    expect_send!(c, at 1_000, contains "GET");
    feed!(c, at 1_010, *b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
    for at in (1_100..2_000).step_by(100) {
        assert_eq!(expect_receive(&mut c, at), t(2_000));
        c.handle_data(t(at), b"x").unwrap();
    }
    expect_error!(c, at 2_000, ErrorKind::Timeout);
}

#[test]
fn attempts_alone_bound_the_retries_however_long_they_take() {
    // No hidden per-operation cap: 10 attempts of a request that times out after 5 s each run
    // to their end, well past the 30 s an earlier version stopped at.
    let mut settings = settings();
    settings.attempts.value = 10;
    settings.attempts.source = Source::Explicit;
    settings.timeout_ms.value = 5_000;
    let mut c = warmed_up(&settings);
    c.start_get(t(1_000), "instance-id").unwrap();
    let mut at = 1_000;
    let mut requests = 0;
    loop {
        expect_send!(c, at at, contains "GET /latest/meta-data/instance-id");
        requests += 1;
        assert_eq!(expect_receive(&mut c, at), t(at + 5_000));
        at += 5_000;
        c.handle_timeout(t(at)).unwrap();
        match c.poll(t(at)) {
            Ok(Action::Wait { until }) => {
                at = until.as_millis();
                expect_close!(c, at at);
                expect_connect!(c, at at);
            }
            Err(error) => {
                assert_eq!(error.kind(), ErrorKind::Timeout);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(requests, 10);
    assert!(at > 51_000, "ten 5 s timeouts plus back-offs: {at}");
}
