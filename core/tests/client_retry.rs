//! Retry transcripts: which failures are retried, the jittered back-off, attempts, the
//! per-operation deadline.
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
use imds_core::{Client, ErrorKind, Source};

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
fn transport_failures_are_not_retried_by_default() {
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
fn a_reset_mid_response_is_an_io_error() {
    let mut c = warmed_up(&settings());
    c.start_get(t(1_000), "instance-id").unwrap();
    expect_send!(c, at 1_000, contains "GET");
    feed!(c, at 1_000, *b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    expect_receive(&mut c, 1_000);
    c.handle_io_error(t(1_001), IoError::ConnectionReset)
        .unwrap();
    expect_error!(c, at 1_001, ErrorKind::Io);
}

#[test]
fn the_read_deadline_moves_with_each_arrival_but_not_past_the_operation_deadline() {
    let mut c = warmed_up(&settings());
    c.start_get(t(1_000), "instance-id").unwrap();
    expect_send!(c, at 1_000, contains "GET");
    assert_eq!(expect_receive(&mut c, 1_000), t(2_000));
    c.handle_data(t(1_900), b"HTTP/1.1 200 OK\r\n").unwrap();
    assert_eq!(expect_receive(&mut c, 1_900), t(2_900));
    // A server trickling a byte every 900 ms is cut off at 30 s after the start.
    let mut at = 1_900;
    while at + 900 < 31_000 {
        at += 900;
        c.handle_data(t(at), b"X").unwrap();
        let deadline = expect_receive(&mut c, at);
        assert!(deadline <= t(31_000));
    }
    let deadline = expect_receive(&mut c, at);
    assert_eq!(deadline, t(31_000));
    let error = expect_error!(c, at 31_000, ErrorKind::Timeout);
    assert!(error.to_string().contains("timed out"));
}

#[test]
fn the_operation_deadline_stops_retries() {
    let mut settings = settings();
    settings.attempts.value = 200;
    settings.attempts.source = Source::Explicit;
    let mut c = warmed_up(&settings);
    c.start_get(t(1_000), "instance-id").unwrap();
    let mut at = 1_000;
    let mut requests = 0;
    loop {
        expect_send!(c, at at, contains "GET /latest/meta-data/instance-id");
        requests += 1;
        feed!(c, at at, status(500));
        match c.poll(t(at)) {
            Ok(imds_core::Action::Wait { until }) => at = until.as_millis(),
            Err(error) => {
                assert_eq!(error.kind(), ErrorKind::HttpStatus);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(requests < 200, "retries must stop at the 30 s deadline");
    }
    assert!(
        at < 31_000,
        "no attempt after the operation deadline ({at})"
    );
    assert!(
        requests > 10,
        "retried until close to the deadline ({requests})"
    );
}
