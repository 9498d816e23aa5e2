//! Arbitrary bytes as everything IMDS and the network can do: the input is a script that picks the
//! settings, the operations, and the host's answer to every action the client asks for (connected
//! or not, sent or not, what the look before a send found, which response bytes arrive in which pieces, end of stream, timeouts, I/O
//! errors). No socket is opened: the bytes go straight into `handle_data`.
//!
//! Checked: no panic; every operation ends (Done or an error) within a bounded number of actions;
//! `Done` for credentials leaves credentials in the client; no error or diagnostic shows the secret
//! access key or session token of the credentials the client holds (those at least 12 bytes long
//! holding the mark `^`; see [`SECRET_MARK`]).
#![no_main]

use imds_core::client::IoError;
use imds_core::{Action, Client, Instant, UnixTime};
use imds_core_fuzz::{Script, settings};
use libfuzzer_sys::fuzz_target;

/// Operations one input may run on the same client (caches carry over between them).
const MAX_OPERATIONS: usize = 6;
/// Actions one operation may ask for before the machine is deemed stuck. An operation is bounded
/// by its attempts, role re-resolutions and each request's deadline; this is far above any honest
/// need.
const MAX_ACTIONS: usize = 2_000;
/// 2025-01-01T00:00:00Z.
const WALL_START: i64 = 1_735_689_600;

/// Set `WHOLE_MACHINE_TRACE=1` to print each action and answer (to check seeds).
static TRACE: std::sync::LazyLock<bool> =
    std::sync::LazyLock::new(|| std::env::var_os("WHOLE_MACHINE_TRACE").is_some());

/// Checked secrets hold this mark, which none of the client's own wording (messages, request
/// paths, `Debug` names) contains. A secret without it could equal a piece of that wording by
/// chance (a secret key `latest/api/token ` is "shown" in every token request's trace line), and
/// showing the client's own words leaks nothing. The seeds' secrets hold it.
const SECRET_MARK: char = '^';

/// Secrets the client holds now: nothing shown to a user may contain them.
fn secrets(client: &Client) -> [String; 2] {
    let mut held = [String::new(), String::new()];
    if let Some(credentials) = client.credentials() {
        // Short values could occur in any text by chance; only long ones are checked.
        let checked = |secret: &str| secret.len() >= 12 && secret.contains(SECRET_MARK);
        if checked(credentials.secret_access_key()) {
            held[0].push_str(credentials.secret_access_key());
        }
        if checked(credentials.session_token()) {
            held[1].push_str(credentials.session_token());
        }
    }
    held
}

fn assert_no_secret(shown: &str, client: &Client) {
    for secret in secrets(client) {
        assert!(
            secret.is_empty() || !shown.contains(secret.as_str()),
            "secret shown: {shown}"
        );
    }
}

fn drain_diagnostics(client: &mut Client) {
    while let Some(diagnostic) = client.poll_diagnostic() {
        let shown = format!("{diagnostic} {diagnostic:?}");
        assert_no_secret(&shown, client);
    }
}

fuzz_target!(|input: &[u8]| {
    let mut script = Script::new(input);
    let flags = script.byte();
    let seed = u64::from_le_bytes(script.take(8).try_into().unwrap_or([0; 8]));
    let mut client = Client::new(&settings(flags), seed);
    let mut now = Instant::from_millis(0);
    let mut wall = UnixTime::from_secs(WALL_START);

    for _ in 0..MAX_OPERATIONS {
        if script.is_empty() {
            break;
        }
        let operation = script.byte();
        // Time passes between operations: from nothing to about two days. The wall clock may
        // also be set back (hosts' clocks jump).
        let pause_secs = u64::from(script.byte()) * u64::from(script.byte()) * 3;
        now = now.add_millis(pause_secs * 1_000);
        wall = wall.add_secs(pause_secs as i64);
        if operation & 0x40 != 0 {
            wall = wall.add_secs(-(pause_secs as i64) * 2);
        }
        let started = match operation & 0x07 {
            1 => client.start_get(now, "placement/region"),
            3 => client.start_get(now, "/latest/dynamic/instance-identity/document"),
            5 => client.start_get(now, "not a path"),
            _ => client.start_credentials(now, wall),
        };
        // With the high bit, the host gives up on the operation after a few actions.
        let cancel_after = if operation & 0x80 != 0 {
            usize::from(operation >> 3 & 0x07)
        } else {
            usize::MAX
        };
        if let Err(error) = started {
            assert_no_secret(&format!("{error} {error:?}"), &client);
            continue;
        }
        let mut finished = false;
        for actions in 0..MAX_ACTIONS {
            if actions == cancel_after {
                client.cancel();
                drain_diagnostics(&mut client);
                finished = true;
                break;
            }
            now = now.add_millis(1);
            let action = match client.poll(now) {
                Ok(action) => action,
                Err(error) => {
                    if *TRACE {
                        eprintln!("{now:?} error: {error}");
                    }
                    assert_no_secret(&format!("{error} {error:?}"), &client);
                    client.handle_closed().unwrap();
                    finished = true;
                    break;
                }
            };
            if *TRACE {
                eprintln!("{now:?} {action:?}");
            }
            let answer = match action {
                Action::Connect { deadline, .. } => match script.byte() % 4 {
                    0 | 1 => client.handle_connected(now),
                    2 => client.handle_io_error(now, IoError::ConnectionRefused),
                    _ => {
                        now = now.max(deadline);
                        client.handle_timeout(now)
                    }
                },
                Action::Send { data, deadline } => {
                    assert!(!data.is_empty());
                    match script.byte() % 16 {
                        15 => client.handle_io_error(now, IoError::ConnectionReset),
                        14 => {
                            now = now.max(deadline);
                            client.handle_timeout(now)
                        }
                        // The host's look before writing found the end of the stream or bytes
                        // no request asked for.
                        13 => client.handle_eof(now),
                        12 => {
                            let length = usize::from(script.byte()) + 1;
                            match script.take(length) {
                                [] => Ok(()),
                                waiting => client.handle_data(now, waiting),
                            }
                        }
                        _ => Ok(()),
                    }
                }
                Action::Receive { deadline } => match script.byte() {
                    0 => client.handle_eof(now),
                    1 => {
                        now = now.max(deadline);
                        client.handle_timeout(now)
                    }
                    2 => client.handle_io_error(now, IoError::ConnectionReset),
                    length => {
                        let data = script.take(usize::from(length - 2));
                        client.handle_data(now, data)
                    }
                },
                Action::Close => Ok(()),
                Action::Wait { until } => {
                    now = now.max(until);
                    Ok(())
                }
                Action::Done => {
                    if operation & 1 == 0 {
                        let credentials = client.credentials().expect("Done leaves credentials");
                        let mut json = String::new();
                        credentials.write_process_json(&mut json).unwrap();
                        assert_no_secret(&format!("{credentials:?}"), &client);
                    } else {
                        let _ = client.body();
                    }
                    if script.byte() & 1 == 1 {
                        client.handle_closed().unwrap();
                    }
                    finished = true;
                    break;
                }
                _ => Ok(()),
            };
            // The script answers only what was asked, so the client must accept every answer.
            answer.unwrap();
            drain_diagnostics(&mut client);
        }
        drain_diagnostics(&mut client);
        assert!(
            finished,
            "an operation did not end within {MAX_ACTIONS} actions"
        );
    }
    assert_no_secret(&format!("{client:?}"), &client);
});
