//! Arbitrary responses and host events through the whole machine (a deterministic, seeded
//! stand-in for the fuzz target): no panic, and every operation ends with `Done` or an error
//! within a bounded number of actions.
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
use imds_core::settings::CredentialsApi;
use imds_core::{Action, Source};

/// xorshift64*: reproducible randomness for the test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const FRAGMENTS: &[&[u8]] = &[
    b"HTTP/1.1 200 OK\r\n",
    b"HTTP/1.1 404 Not Found\r\n",
    b"HTTP/1.1 401 Unauthorized\r\n",
    b"HTTP/1.1 500 Oops\r\n",
    b"HTTP/1.0 403 Forbidden\r\n",
    b"Content-Length: 5\r\n",
    b"Content-Length: 99999999999999999999\r\n",
    b"Transfer-Encoding: chunked\r\n",
    b"Connection: close\r\n",
    b"x-aws-ec2-metadata-token-ttl-seconds: 1\r\n",
    b"\r\n",
    b"5\r\nhello\r\n",
    b"0\r\n\r\n",
    b"ffffffffffffffff\r\n",
    b"my-role\n",
    br#"{"Code":"Success","AccessKeyId":"A","SecretAccessKey":"S","Token":"T","Expiration":"2020-01-01T00:00:00Z"}"#,
    br#"{"Code":"Failure","Message":"no"}"#,
    b"{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
];

fn random_bytes(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rng.below(8) {
        if rng.below(3) == 0 {
            let len = rng.below(64) as usize;
            out.extend((0..len).map(|_| rng.next() as u8));
        } else {
            out.extend_from_slice(FRAGMENTS[rng.below(FRAGMENTS.len() as u64) as usize]);
        }
    }
    out
}

#[test]
fn arbitrary_input_never_panics_and_always_ends() {
    for seed in 1..=400u64 {
        let mut rng = Rng(seed);
        let mut settings = settings();
        if seed % 3 == 0 {
            settings.credentials_api.value = CredentialsApi::Extended;
        }
        if seed % 5 == 0 {
            settings.v1_disabled.value = true;
        }
        if seed % 7 == 0 {
            settings.attempts.value = 10;
            settings.attempts.source = Source::Env;
        }
        let mut c = client_with(&settings);
        let mut now = 0u64;
        for operation in 0..4 {
            let started = if operation % 2 == 0 {
                c.start_credentials(t(now), WALL)
            } else {
                c.start_get(t(now), "placement/region")
            };
            started.unwrap();
            let mut ended = false;
            for _ in 0..5_000 {
                now += rng.below(400);
                match c.poll(t(now)) {
                    Ok(Action::Done) | Err(_) => {
                        ended = true;
                        break;
                    }
                    Ok(Action::Connect { .. }) => match rng.below(10) {
                        0 => c
                            .handle_io_error(t(now), IoError::ConnectionRefused)
                            .unwrap(),
                        1 => c.handle_timeout(t(now)).unwrap(),
                        _ => c.handle_connected(t(now)).unwrap(),
                    },
                    Ok(Action::Receive { .. }) => match rng.below(12) {
                        0 => c.handle_eof(t(now)).unwrap(),
                        1 => c.handle_timeout(t(now)).unwrap(),
                        2 => c.handle_io_error(t(now), IoError::ConnectionReset).unwrap(),
                        _ => c.handle_data(t(now), &random_bytes(&mut rng)).unwrap(),
                    },
                    Ok(Action::Wait { until }) => now = now.max(until.as_millis()),
                    Ok(_) => {}
                }
                while c.poll_diagnostic().is_some() {}
            }
            assert!(ended, "seed {seed}: operation {operation} did not end");
            // Misuse in between never panics either.
            let _ = c.handle_data(t(now), b"late");
            let _ = c.handle_eof(t(now));
        }
    }
}
