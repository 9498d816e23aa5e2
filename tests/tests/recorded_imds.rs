//! Real IMDS answers, replayed: the exchanges smithy-rs recorded on EC2
//! (`tests/vectors/recorded-imds/`), answered byte for byte with IMDS's own headers
//! (`x-aws-ec2-metadata-token-ttl-seconds` on every answer, `server: EC2ws`, `connection: close`,
//! `accept-ranges`, `last-modified`, `date`). The core must send the requests the SDK sent and
//! get the credentials the recording gives. The conformance scenario
//! `recorded-imds-answers-are-accepted` serves the same bytes over TCP to every `imds` command.

use std::path::{Path, PathBuf};

use imds_core::endpoint::Endpoint;
use imds_core::{Action, Client, Diagnostic, Instant, Settings, UnixTime};
use imds_testkit::conformance::Scenario;
use imds_testkit::recorded::{RecordedExchange, Recording};

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors/recorded-imds")
}

fn recording(name: &str) -> Recording {
    Recording::load(&vectors().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn client() -> Client {
    let mut settings = Settings::default();
    // A transcript: no packet is sent, the endpoint only names the `Host`.
    settings.endpoint.value = Endpoint::parse("http://127.0.0.1:1338").expect("endpoint parses");
    Client::new(&settings, 7)
}

/// What a replay saw.
struct Replay {
    client: Client,
    connections: usize,
    diagnostics: Vec<Diagnostic>,
}

/// Runs a credentials operation at wall-clock time `wall`, answering each request the client
/// sends with the next recorded answer, after checking that it is the recorded request.
fn replay(recording: &Recording, wall: UnixTime) -> Replay {
    let mut client = client();
    let mut now = 0;
    let mut connections = 0;
    let mut diagnostics = Vec::new();
    client
        .start_credentials(Instant::from_millis(now), wall)
        .expect("start");
    for exchange in &recording.exchanges {
        let request = next_request(&mut client, &mut now, &mut connections);
        check_request(&request, exchange);
        match client.poll(Instant::from_millis(now)) {
            Ok(Action::Receive { .. }) => {}
            other => panic!("expected Receive, got {other:?}"),
        }
        let at = Instant::from_millis(now);
        client
            .handle_data(at, exchange.answer().as_bytes())
            .expect("data");
        if !exchange.has_length() {
            // The body ends with the connection, as recorded.
            assert!(matches!(client.poll(at), Ok(Action::Receive { .. })));
            client.handle_eof(at).expect("eof");
        }
        diagnostics.extend(std::iter::from_fn(|| client.poll_diagnostic()));
    }
    loop {
        match client.poll(Instant::from_millis(now)) {
            Ok(Action::Close) => {}
            Ok(Action::Done) => break,
            other => panic!("expected the operation to end, got {other:?}"),
        }
    }
    diagnostics.extend(std::iter::from_fn(|| client.poll_diagnostic()));
    Replay {
        client,
        connections,
        diagnostics,
    }
}

/// Carries out the client's actions (back-offs, closes, connects) up to the next request.
fn next_request(client: &mut Client, now: &mut u64, connections: &mut usize) -> String {
    loop {
        let at = Instant::from_millis(*now);
        match client.poll(at) {
            Ok(Action::Wait { until }) => *now = until.as_millis(),
            Ok(Action::Close) => {}
            Ok(Action::Connect { .. }) => {
                *connections += 1;
                client.handle_connected(at).expect("connected");
            }
            Ok(Action::Send { data, .. }) => {
                return String::from_utf8(data.to_vec()).expect("the request is text");
            }
            other => panic!("expected a request, got {other:?}"),
        }
    }
}

#[track_caller]
fn check_request(request: &str, recorded: &RecordedExchange) {
    let line = request.lines().next().unwrap_or_default();
    assert_eq!(
        line,
        format!("{} {} HTTP/1.1", recorded.method, recorded.path)
    );
    let token = request
        .lines()
        .find_map(|l| l.strip_prefix("x-aws-ec2-metadata-token: "));
    assert_eq!(token, recorded.token.as_deref(), "{line}");
}

/// Seconds since the epoch of `text` (RFC 3339).
fn secs(text: &str) -> i64 {
    UnixTime::parse_rfc3339(text).expect("RFC 3339").as_secs()
}

#[test]
fn real_imds_answers_give_the_recorded_credentials_with_the_recorded_requests() {
    for name in ["imds_default_chain_success", "imds_default_chain_retries"] {
        let recording = recording(name);
        // The recordings were made hours before the credentials expired: an hour before, they
        // are fresh.
        let wall = UnixTime::from_secs(recording.credentials.expiry - 3600);
        let replay = replay(&recording, wall);
        let credentials = replay.client.credentials().expect("credentials");
        let expected = &recording.credentials;
        assert_eq!(
            (
                credentials.access_key_id(),
                credentials.secret_access_key(),
                credentials.session_token(),
                credentials.expiration().as_secs(),
            ),
            (
                expected.access_key_id.as_str(),
                expected.secret_access_key.as_str(),
                expected.session_token.as_str(),
                expected.expiry,
            ),
            "{name}"
        );
        // IMDS closes every connection: each request had its own, as recorded.
        let recorded_connections = recording
            .exchanges
            .iter()
            .map(|e| e.connection)
            .collect::<std::collections::BTreeSet<_>>();
        assert_eq!(replay.connections, recorded_connections.len(), "{name}");
        let warnings: Vec<String> = replay
            .diagnostics
            .iter()
            .filter(|d| d.level() == imds_core::diagnostic::Level::Warn)
            .map(ToString::to_string)
            .collect();
        assert!(warnings.is_empty(), "{name}: {warnings:?}");
    }
}

#[test]
fn every_recorded_answer_to_a_request_with_a_token_carries_its_ttl() {
    // What the client must accept: the header is on the role list's and the credentials'
    // answers too, not only on the token's.
    for name in ["imds_default_chain_success", "imds_default_chain_retries"] {
        let recording = recording(name);
        let answered: Vec<&RecordedExchange> = recording
            .exchanges
            .iter()
            .filter(|e| e.token.is_some() && e.status == 200)
            .collect();
        assert_eq!(answered.len(), 2, "{name}");
        for exchange in answered {
            let ttl = exchange
                .headers
                .iter()
                .find(|(name, _)| name == "x-aws-ec2-metadata-token-ttl-seconds")
                .and_then(|(_, value)| value.parse::<u32>().ok());
            assert!(
                ttl.is_some_and(|secs| (21_500..=21_600).contains(&secs)),
                "{name} {}: {ttl:?}",
                exchange.path
            );
        }
    }
}

#[test]
fn with_a_clock_after_they_expired_the_recorded_credentials_are_extended() {
    let recording = recording("imds_default_chain_success");
    let wall = UnixTime::from_secs(secs("2025-01-01T00:00:00Z"));
    let replay = replay(&recording, wall);
    let credentials = replay.client.credentials().expect("credentials");
    assert_eq!(credentials.access_key_id(), "ASIARTEST");
    assert!(credentials.expiration() > wall);
    assert!(
        replay
            .diagnostics
            .iter()
            .any(|d| matches!(d, Diagnostic::ExpirationExtended { .. }))
    );
}

#[test]
fn the_conformance_scenario_serves_the_recorded_answers() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("conformance/recorded-imds-answers-are-accepted.json");
    let text = std::fs::read_to_string(&path).expect("scenario");
    let scenario = Scenario::parse("recorded-imds-answers-are-accepted", &text).expect("parses");
    let served: Vec<(Option<String>, Option<String>)> = scenario
        .script
        .responses
        .iter()
        .map(|r| (r.path.clone(), r.raw.clone()))
        .collect();
    let recorded: Vec<(Option<String>, Option<String>)> = recording("imds_default_chain_success")
        .exchanges
        .iter()
        .map(|e| (Some(e.path.clone()), Some(e.answer())))
        .collect();
    assert_eq!(served, recorded);
}
