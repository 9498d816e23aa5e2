//! IMDSv1 fallback transcripts: which token-request outcomes fall back, for how long, and what
//! `v1_disabled` turns them into.
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
use imds_core::error::{Context, FallbackReason, Step};
use imds_core::{Client, ErrorKind, Source};

fn v1_disabled_client(source: Source) -> Client {
    let mut settings = settings();
    settings.v1_disabled.value = true;
    settings.v1_disabled.source = source;
    client_with(&settings)
}

/// The rest of a credentials exchange without a token, from the role request on.
fn finish_without_token(c: &mut Client, at: u64) {
    let role = expect_send!(*c, at at, contains "GET /latest/meta-data/iam/security-credentials/ ");
    assert!(!role.contains("x-aws-ec2-metadata-token"), "{role}");
    feed!(*c, at at + 1, ok(ROLE));
    let creds = expect_send!(*c, at at + 1, contains "GET /latest/meta-data/iam/security-credentials/my-role ");
    assert!(!creds.contains("x-aws-ec2-metadata-token"), "{creds}");
    feed!(*c, at at + 2, credentials_ok());
    expect_done!(*c, at at + 2);
}

#[test]
fn token_403_404_405_fall_back_to_v1_for_good() {
    for code in [403, 404, 405] {
        let mut c = client();
        c.start_credentials(t(0), WALL).unwrap();
        expect_connect!(c, at 0);
        expect_send!(c, at 0, contains "PUT /latest/api/token");
        feed!(c, at 1, status(code));
        finish_without_token(&mut c, 1);
        let log = diagnostics(&mut c);
        assert!(log.contains(&Diagnostic::FallbackToV1 {
            reason: FallbackReason::TokenStatus(code),
            sticky: true
        }));

        // Sticky: the next operation goes straight to IMDSv1.
        c.start_get(t(100), "instance-id").unwrap();
        let get = expect_send!(c, at 100, contains "GET /latest/meta-data/instance-id ");
        assert!(!get.contains("x-aws-ec2-metadata-token"));
        feed!(c, at 101, ok("i-1"));
        expect_done!(c, at 101);
    }
}

#[test]
fn token_403_404_405_with_v1_disabled_name_the_setting_and_its_source() {
    for (code, source) in [
        (403, Source::Env),
        (404, Source::Profile),
        (405, Source::Explicit),
    ] {
        let mut c = v1_disabled_client(source);
        c.start_credentials(t(0), WALL).unwrap();
        expect_connect!(c, at 0);
        expect_send!(c, at 0, contains "PUT /latest/api/token");
        feed!(c, at 1, status(code));
        let error = expect_error!(c, at 1, ErrorKind::V1FallbackBlocked);
        assert_eq!(
            *error.context(),
            Context::FallbackBlocked {
                reason: FallbackReason::TokenStatus(code),
                source
            }
        );
        let message = error.to_string();
        let setting = match source {
            Source::Env => "AWS_EC2_METADATA_V1_DISABLED",
            Source::Profile => "ec2_metadata_v1_disabled",
            _ => "v1_disabled",
        };
        assert!(message.contains(setting), "{message}");
    }
}

#[test]
fn token_400_is_an_error_without_fallback() {
    for v1_disabled in [false, true] {
        let mut settings = settings();
        settings.v1_disabled.value = v1_disabled;
        let mut c = client_with(&settings);
        c.start_credentials(t(0), WALL).unwrap();
        expect_connect!(c, at 0);
        expect_send!(c, at 0, contains "PUT /latest/api/token");
        feed!(c, at 1, status(400));
        let error = expect_error!(c, at 1, ErrorKind::HttpStatus);
        assert_eq!(
            *error.context(),
            Context::Step {
                step: Step::Token,
                status: 400
            }
        );
    }
}

/// Answers the token request `attempts` times with `code`, checking each back-off; returns the
/// time after the last answer and the diagnostics so far.
fn token_fails_every_attempt(c: &mut Client, code: u16, attempts: u8) -> (u64, Vec<Diagnostic>) {
    let mut log = Vec::new();
    c.start_credentials(t(0), WALL).unwrap();
    expect_connect!(*c, at 0);
    let mut at = 0;
    for attempt in 1..=attempts {
        expect_send!(*c, at at, contains "PUT /latest/api/token");
        at += 1;
        feed!(*c, at at, status(code));
        log.extend(diagnostics(c));
        if attempt < attempts {
            let until = expect_wait!(*c, at at);
            let ceiling = if code == 429 {
                (1_000u64 << (attempt - 1)).min(2_000)
            } else {
                (50u64 << (attempt - 1)).min(1_000)
            };
            assert!(
                until >= at && until < at + ceiling,
                "attempt {attempt}: {until}"
            );
            // Polling early repeats the wait.
            assert_eq!(expect_wait!(*c, at at), until);
            at = until;
        }
    }
    (at, log)
}

#[test]
fn token_5xx_and_429_after_retries_fall_back_for_this_operation_only() {
    for code in [500, 503, 429] {
        let mut c = client();
        let (at, mut log) = token_fails_every_attempt(&mut c, code, 4);
        finish_without_token(&mut c, at);
        log.extend(diagnostics(&mut c));
        assert!(log.contains(&Diagnostic::FallbackToV1 {
            reason: FallbackReason::TokenRetriesExhausted(code),
            sticky: false
        }));
        let retries = log
            .iter()
            .filter(|d| {
                matches!(
                    d,
                    Diagnostic::RetryScheduled {
                        step: Step::Token,
                        ..
                    }
                )
            })
            .count();
        assert_eq!(retries, 3);

        // Not sticky: the next operation asks for a token again.
        c.start_get(t(at + 100), "instance-id").unwrap();
        expect_send!(c, at at + 100, contains "PUT /latest/api/token");
    }
}

#[test]
fn token_5xx_after_retries_with_v1_disabled_is_blocked() {
    let mut c = v1_disabled_client(Source::Env);
    let (at, _) = token_fails_every_attempt(&mut c, 500, 4);
    let error = expect_error!(c, at at, ErrorKind::V1FallbackBlocked);
    assert_eq!(
        *error.context(),
        Context::FallbackBlocked {
            reason: FallbackReason::TokenRetriesExhausted(500),
            source: Source::Env
        }
    );
}

#[test]
fn attempts_setting_bounds_token_retries() {
    let mut settings = settings();
    settings.attempts.value = 2;
    settings.attempts.source = Source::Env;
    let mut c = client_with(&settings);
    let (at, _) = token_fails_every_attempt(&mut c, 503, 2);
    finish_without_token(&mut c, at);
}

#[test]
fn token_read_timeout_after_connect_falls_back_for_good_with_a_hop_limit_hint() {
    let mut c = client();
    c.start_credentials(t(0), WALL).unwrap();
    let connect_deadline = expect_connect!(c, at 0);
    assert_eq!(connect_deadline, t(1_000));
    expect_send!(c, at 0, contains "PUT /latest/api/token");
    let deadline = expect_receive(&mut c, 0);
    assert_eq!(deadline, t(1_000));
    // Polling at the deadline is the timeout.
    finish_after_close(&mut c, 1_000);
    let log = diagnostics(&mut c);
    assert!(log.contains(&Diagnostic::HopLimitHint));
    assert!(log.contains(&Diagnostic::FallbackToV1 {
        reason: FallbackReason::TokenReadTimeout,
        sticky: true
    }));
    c.start_get(t(2_000), "instance-id").unwrap();
    let get = expect_send!(c, at 2_000, contains "GET /latest/meta-data/instance-id");
    assert!(!get.contains("x-aws-ec2-metadata-token"));
}

/// After a timed-out request the connection is closed and a new one made before going on.
fn finish_after_close(c: &mut Client, at: u64) {
    expect_close!(*c, at at);
    expect_connect!(*c, at at);
    finish_without_token(c, at);
}

#[test]
fn token_read_timeout_reported_by_the_host_is_the_same() {
    let mut c = client();
    c.start_credentials(t(0), WALL).unwrap();
    expect_connect!(c, at 0);
    expect_send!(c, at 0, contains "PUT /latest/api/token");
    expect_receive(&mut c, 0);
    c.handle_timeout(t(1_000)).unwrap();
    finish_after_close(&mut c, 1_000);
}

#[test]
fn token_read_timeout_with_v1_disabled_is_blocked() {
    let mut c = v1_disabled_client(Source::Profile);
    c.start_credentials(t(0), WALL).unwrap();
    expect_connect!(c, at 0);
    expect_send!(c, at 0, contains "PUT /latest/api/token");
    expect_receive(&mut c, 0);
    c.handle_timeout(t(1_000)).unwrap();
    let error = expect_error!(c, at 1_000, ErrorKind::V1FallbackBlocked);
    assert_eq!(
        *error.context(),
        Context::FallbackBlocked {
            reason: FallbackReason::TokenReadTimeout,
            source: Source::Profile
        }
    );
    assert!(diagnostics(&mut c).contains(&Diagnostic::HopLimitHint));
}

#[test]
fn connection_refused_is_retried_within_the_attempts_and_never_falls_back() {
    for v1_disabled in [false, true] {
        let mut settings = settings();
        settings.v1_disabled.value = v1_disabled;
        let mut c = client_with(&settings);
        c.start_credentials(t(0), WALL).unwrap();
        let mut at = 0;
        for _ in 1..4 {
            expect_connect_failing(&mut c, at, IoError::ConnectionRefused);
            at = expect_wait!(c, at at);
        }
        expect_connect_failing(&mut c, at, IoError::ConnectionRefused);
        let error = expect_error!(c, at at, ErrorKind::ConnectFailed);
        assert_eq!(
            error.to_string(),
            "could not connect to IMDS at http://127.0.0.1:1338 (connection refused); \
             is this an EC2 instance, and is the endpoint right?"
        );
        assert!(
            !diagnostics(&mut c)
                .iter()
                .any(|d| matches!(d, Diagnostic::FallbackToV1 { .. }))
        );
    }
}

#[test]
fn a_token_answer_that_trickles_in_is_a_timeout_not_the_hop_limit_case() {
    // Bytes that reach the client show the hop limit is not what holds the answer back: a slow
    // server, final like every timeout at the default attempts, and never an IMDSv1 fallback.
    let mut c = client();
    c.start_credentials(t(0), WALL).unwrap();
    expect_connect!(c, at 0);
    expect_send!(c, at 0, contains "PUT /latest/api/token");
    let answer = token_ok(21_600);
    for (i, byte) in answer.iter().take(40).enumerate() {
        let at = 20 * i as u64;
        assert_eq!(
            expect_receive(&mut c, at),
            t(1_000),
            "the deadline never moves"
        );
        c.handle_data(t(at), &[*byte]).unwrap();
    }
    expect_receive(&mut c, 999);
    let error = expect_error!(c, at 1_000, ErrorKind::Timeout);
    assert_eq!(
        *error.context(),
        Context::Step {
            step: Step::Token,
            status: 0
        }
    );
    let log = diagnostics(&mut c);
    assert!(!log.contains(&Diagnostic::HopLimitHint), "{log:?}");
    assert!(
        !log.iter()
            .any(|d| matches!(d, Diagnostic::FallbackToV1 { .. }))
    );
}

#[test]
fn connect_timeout_is_final_and_never_falls_back() {
    let mut c = client();
    c.start_credentials(t(0), WALL).unwrap();
    match c.poll(t(0)) {
        Ok(imds_core::Action::Connect { deadline, .. }) => assert_eq!(deadline, t(1_000)),
        other => panic!("expected Connect, got {other:?}"),
    }
    // Polling before the deadline repeats the request to connect.
    assert!(matches!(
        c.poll(t(999)),
        Ok(imds_core::Action::Connect { .. })
    ));
    expect_error!(c, at 1_000, ErrorKind::ConnectFailed);

    let mut c = client();
    c.start_credentials(t(0), WALL).unwrap();
    assert!(matches!(
        c.poll(t(0)),
        Ok(imds_core::Action::Connect { .. })
    ));
    c.handle_timeout(t(1_000)).unwrap();
    expect_error!(c, at 1_000, ErrorKind::ConnectFailed);
}

#[test]
fn a_401_drops_the_token_mid_operation_and_retries_with_a_new_one() {
    let mut c = client();
    c.start_credentials(t(0), WALL).unwrap();
    expect_connect!(c, at 0);
    expect_send!(c, at 0, contains "PUT /latest/api/token");
    feed!(c, at 1, token_ok(21_600));
    expect_send!(c, at 1, contains "security-credentials/ ", "x-aws-ec2-metadata-token: ");
    feed!(c, at 2, ok(ROLE));
    expect_send!(c, at 2, contains "security-credentials/my-role ", "x-aws-ec2-metadata-token: ");
    feed!(c, at 3, status(401));
    let until = expect_wait!(c, at 3);
    assert!(until < 3 + 50);
    expect_send!(c, at until, contains "PUT /latest/api/token");
    feed!(c, at until + 1, token_ok(21_600));
    expect_send!(c, at until + 1, contains "security-credentials/my-role ", "x-aws-ec2-metadata-token: ");
    feed!(c, at until + 2, credentials_ok());
    expect_done!(c, at until + 2);
    let log = diagnostics(&mut c);
    assert!(log.contains(&Diagnostic::TokenDropped));
    assert!(log.contains(&Diagnostic::RetryScheduled {
        step: Step::Credentials,
        attempt: 1,
        status: 401,
        delay_ms: u32::try_from(until - 3).unwrap(),
    }));
}

#[test]
fn a_401_ends_a_sticky_fallback() {
    let mut c = client();
    c.start_credentials(t(0), WALL).unwrap();
    expect_connect!(c, at 0);
    expect_send!(c, at 0, contains "PUT /latest/api/token");
    feed!(c, at 1, status(403));
    expect_send!(c, at 1, contains "security-credentials/ ");
    // IMDS now requires tokens.
    feed!(c, at 2, status(401));
    let until = expect_wait!(c, at 2);
    expect_send!(c, at until, contains "PUT /latest/api/token");
    feed!(c, at until + 1, token_ok(21_600));
    expect_send!(c, at until + 1, contains "security-credentials/ ", "x-aws-ec2-metadata-token: ");
    feed!(c, at until + 2, ok(ROLE));
    expect_send!(c, at until + 2, contains "security-credentials/my-role ", "x-aws-ec2-metadata-token: ");
    feed!(c, at until + 3, credentials_ok());
    expect_done!(c, at until + 3);
    // And later operations use the token again.
    c.start_get(t(10_000), "instance-id").unwrap();
    expect_send!(c, at 10_000, contains "GET /latest/meta-data/instance-id", "x-aws-ec2-metadata-token: ");
}

#[test]
fn repeated_401_exhausts_the_attempts() {
    let mut c = client();
    c.start_get(t(0), "instance-id").unwrap();
    expect_connect!(c, at 0);
    let mut at = 0;
    for attempt in 1..=4 {
        expect_send!(c, at at, contains "PUT /latest/api/token");
        feed!(c, at at, token_ok(21_600));
        expect_send!(c, at at, contains "GET /latest/meta-data/instance-id");
        feed!(c, at at, status(401));
        if attempt < 4 {
            at = expect_wait!(c, at at);
        }
    }
    let error = expect_error!(c, at at, ErrorKind::HttpStatus);
    assert_eq!(
        *error.context(),
        Context::Step {
            step: Step::Metadata,
            status: 401
        }
    );
}

#[test]
fn a_token_timeout_on_a_kept_alive_connection_tries_a_new_connection_before_falling_back() {
    let mut c = client();
    full_exchange(&mut c, 0);
    // Seven hours later the token (6 h) is stale; the kept-alive connection stays silent.
    let later = 7 * 3600 * 1000;
    c.start_get(t(later), "instance-id").unwrap();
    expect_send!(c, at later, contains "PUT /latest/api/token");
    expect_receive(&mut c, later);
    c.handle_timeout(t(later + 1_000)).unwrap();
    assert!(!diagnostics(&mut c).contains(&Diagnostic::HopLimitHint));
    expect_close!(c, at later + 1_000);
    expect_connect!(c, at later + 1_000);
    expect_send!(c, at later + 1_000, contains "PUT /latest/api/token");
    // On a new connection, silence is the hop-limit case.
    expect_receive(&mut c, later + 1_000);
    c.handle_timeout(t(later + 2_000)).unwrap();
    assert!(diagnostics(&mut c).contains(&Diagnostic::HopLimitHint));
    expect_close!(c, at later + 2_000);
    expect_connect!(c, at later + 2_000);
    let get = expect_send!(c, at later + 2_000, contains "GET /latest/meta-data/instance-id");
    assert!(!get.contains("x-aws-ec2-metadata-token"));
}
