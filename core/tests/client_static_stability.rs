//! Static stability transcripts: expired credentials from IMDS, IMDS down with last good
//! credentials, and the refresh window.
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
use imds_core::{ErrorKind, UnixTime};

#[test]
fn credentials_imds_returns_already_expired_get_10_to_15_more_minutes() {
    for seed in 0..20 {
        let mut c = imds_core::Client::new(&settings(), seed);
        c.start_credentials(t(0), WALL).unwrap();
        expect_connect!(c, at 0);
        expect_send!(c, at 0, contains "PUT");
        feed!(c, at 1, token_ok(21_600));
        expect_send!(c, at 1, contains "security-credentials/ ");
        feed!(c, at 2, ok(ROLE));
        expect_send!(c, at 2, contains "security-credentials/my-role ");
        // Expired one hour before WALL.
        feed!(c, at 3, ok(&credentials_json("2024-12-31T23:00:00Z")));
        expect_done!(c, at 3);
        let expiration = c.credentials().unwrap().expiration().as_secs();
        let extension = expiration - WALL.as_secs();
        assert!(
            (600..=900).contains(&extension),
            "seed {seed}: extended by {extension} s"
        );
        let minutes = diagnostics(&mut c).iter().find_map(|d| match d {
            Diagnostic::ExpirationExtended { minutes } => Some(*minutes),
            _ => None,
        });
        assert!(matches!(minutes, Some(10..=15)), "{minutes:?}");
    }
}

#[test]
fn credentials_that_are_not_expired_are_never_extended() {
    let mut c = client();
    c.start_credentials(t(0), WALL).unwrap();
    expect_connect!(c, at 0);
    expect_send!(c, at 0, contains "PUT");
    feed!(c, at 1, token_ok(21_600));
    expect_send!(c, at 1, contains "security-credentials/ ");
    feed!(c, at 2, ok(ROLE));
    expect_send!(c, at 2, contains "security-credentials/my-role ");
    // One minute left: inside the refresh window, yet not expired, so kept as IMDS said.
    feed!(c, at 3, ok(&credentials_json("2025-01-01T00:01:00Z")));
    expect_done!(c, at 3);
    assert_eq!(
        c.credentials().unwrap().expiration(),
        UnixTime::from_secs(WALL.as_secs() + 60)
    );
    assert!(
        !diagnostics(&mut c)
            .iter()
            .any(|d| matches!(d, Diagnostic::ExpirationExtended { .. }))
    );
}

#[test]
fn imds_down_with_last_good_credentials_returns_them_and_pauses() {
    let mut c = client();
    full_exchange(&mut c, 0);
    let good = c.credentials().cloned().unwrap();
    diagnostics(&mut c);

    // Six hours later the credentials are due; IMDS is unreachable.
    let due = WALL.add_secs(6 * 3600);
    c.handle_closed().unwrap();
    c.start_credentials(t(100_000), due).unwrap();
    expect_connect_failing(&mut c, 100_000, IoError::ConnectFailed);
    expect_done!(c, at 100_000);
    assert_eq!(
        c.credentials(),
        Some(&good),
        "returned unchanged (not extended)"
    );
    let log = diagnostics(&mut c);
    let minutes = log.iter().find_map(|d| match d {
        Diagnostic::UsingLastGoodCredentials { retry_in_minutes } => Some(*retry_in_minutes),
        _ => None,
    });
    assert!(matches!(minutes, Some(10..=15)), "{log:?}");

    // Within ten minutes: no request at all.
    c.start_credentials(t(100_000 + 599_999), due.add_secs(600))
        .unwrap();
    expect_done!(c, at 100_000 + 599_999);
    assert_eq!(diagnostics(&mut c), [Diagnostic::CredentialsFromCache]);

    // After fifteen minutes IMDS is asked again.
    c.start_credentials(t(100_000 + 900_001), due.add_secs(901))
        .unwrap();
    expect_connect!(c, at 100_000 + 900_001);
}

#[test]
fn imds_errors_with_last_good_credentials_return_them_too() {
    let mut c = client();
    full_exchange(&mut c, 0);
    c.start_credentials(t(100_000), WALL.add_secs(6 * 3600))
        .unwrap();
    expect_send!(c, at 100_000, contains "security-credentials/my-role ");
    feed!(c, at 100_001, status(400));
    expect_done!(c, at 100_001);
    assert_eq!(c.credentials().unwrap().access_key_id(), "ASIAEXAMPLE");
}

#[test]
fn without_last_good_credentials_the_error_stands() {
    let mut c = client();
    c.start_credentials(t(0), WALL).unwrap();
    expect_connect_failing(&mut c, 0, IoError::ConnectFailed);
    expect_error!(c, at 0, ErrorKind::ConnectFailed);
    assert!(c.credentials().is_none());
}

#[test]
fn the_refresh_window_decides_when_cached_credentials_are_refreshed() {
    let mut settings = settings();
    settings.refresh_window_secs.value = 3_600;
    let mut c = client_with(&settings);
    full_exchange(&mut c, 0);
    // Expiration − 1 h − 1 s: cached.
    c.start_credentials(t(10), UnixTime::from_secs(EXPIRATION_SECS - 3_601))
        .unwrap();
    expect_done!(c, at 10);
    // Expiration − 1 h: refreshed.
    c.start_credentials(t(20), UnixTime::from_secs(EXPIRATION_SECS - 3_600))
        .unwrap();
    expect_send!(c, at 20, contains "security-credentials/my-role ");
}
