//! The 14 cases of the IMDS credentials provider SEP v2.1.1 test spec
//! (`tests/vectors/imds-credentials-sep-v2.1.1-test-spec.json`), run through the core client with
//! the extended API enabled, against a scripted in-memory IMDS.
//!
//! Reading the vectors: each outcome is one credentials operation; `expectations` are the GETs in
//! order (token traffic is not part of them, so the scripted IMDS answers every token request
//! itself). Role-list paths in the vectors lack the trailing slash that real requests carry.
//! "no credentials" is a `Disabled`, `NoRole` or `RoleUnstable` error; "invalid profile" is
//! `InvalidInstanceProfile`. The vectors expect IMDS to be asked on every call, so the refresh
//! window is set to 30 days: the client's own credentials cache would otherwise (rightly) answer
//! the second call.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[macro_use]
mod client_support;

use std::collections::VecDeque;
use std::path::PathBuf;

use client_support::{TOKEN, t, token_ok};
use imds_core::{Action, Client, ErrorKind, Resolver, Setting, Source, UnixTime};
use serde_json::Value;

/// 2025-03-01T00:00:00Z: before every expiration in the vectors.
const WALL: UnixTime = UnixTime::from_secs(1_740_787_200);

fn load_cases() -> Vec<Value> {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors"))
        .join("imds-credentials-sep-v2.1.1-test-spec.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

struct Expected {
    path: String,
    status: u16,
    body: String,
}

fn expectations(case: &Value) -> VecDeque<Expected> {
    case["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| Expected {
            path: e["get"].as_str().unwrap().to_owned(),
            status: u16::try_from(e["response"]["status"].as_u64().unwrap()).unwrap(),
            body: match &e["response"]["body"] {
                Value::Null => String::new(),
                Value::String(text) => text.clone(),
                other => other.to_string(),
            },
        })
        .collect()
}

fn client_for(case: &Value) -> Client {
    let mut resolver = Resolver::new();
    if let Some(env) = case["config"]["envVars"].as_object() {
        for (name, value) in env {
            let setting = Setting::from_env_name(name).unwrap();
            resolver
                .set(setting, Source::Env, value.as_str().unwrap())
                .unwrap();
        }
    }
    if let Some(name) = case["config"]["ec2InstanceProfileName"].as_str() {
        resolver
            .set(Setting::InstanceProfileName, Source::Explicit, name)
            .unwrap();
    }
    resolver
        .set(
            Setting::Endpoint,
            Source::Explicit,
            client_support::ENDPOINT,
        )
        .unwrap();
    resolver
        .set(Setting::CredentialsApi, Source::Explicit, "extended")
        .unwrap();
    let mut settings = resolver.resolve().unwrap();
    settings.refresh_window_secs.value = 30 * 24 * 3600;
    Client::new(&settings, 7)
}

/// Runs one credentials operation against the scripted IMDS; returns the outcome as the vectors
/// name it, with the account id.
fn run_operation(
    c: &mut Client,
    at: &mut u64,
    script: &mut VecDeque<Expected>,
    case: &str,
) -> (String, Option<String>) {
    if let Err(error) = c.start_credentials(t(*at), WALL) {
        assert_eq!(error.kind(), ErrorKind::Disabled, "{case}");
        return ("no credentials".into(), None);
    }
    let mut pending: Option<Vec<u8>> = None;
    for _ in 0..1_000 {
        *at += 1;
        let now = t(*at);
        match c.poll(now) {
            Ok(Action::Connect { .. }) => c.handle_connected(now).unwrap(),
            Ok(Action::Send { data, .. }) => {
                let request = String::from_utf8(data.to_vec()).unwrap();
                let line = request.lines().next().unwrap().to_owned();
                pending = Some(if line == "PUT /latest/api/token HTTP/1.1" {
                    token_ok(21_600)
                } else {
                    assert!(request.contains(&format!("x-aws-ec2-metadata-token: {TOKEN}")));
                    let expected = script
                        .pop_front()
                        .unwrap_or_else(|| panic!("{case}: unexpected request {line}"));
                    let path = line
                        .strip_prefix("GET ")
                        .and_then(|l| l.strip_suffix(" HTTP/1.1"))
                        .unwrap();
                    let is_role_list = path.ends_with('/');
                    let wanted = if is_role_list {
                        format!("{}/", expected.path)
                    } else {
                        expected.path.clone()
                    };
                    assert_eq!(path, wanted, "{case}");
                    format!(
                        "HTTP/1.1 {} X\r\nContent-Length: {}\r\n\r\n{}",
                        expected.status,
                        expected.body.len(),
                        expected.body
                    )
                    .into_bytes()
                });
            }
            Ok(Action::Receive { .. }) => {
                let response = pending.take().expect("a response is due");
                c.handle_data(now, &response).unwrap();
            }
            Ok(Action::Close) => {}
            Ok(Action::Wait { until }) => *at = until.as_millis(),
            Ok(Action::Done) => {
                let credentials = c.credentials().unwrap();
                return (
                    "credentials".into(),
                    credentials.account_id().map(str::to_owned),
                );
            }
            Ok(other) => panic!("{case}: unexpected action {other:?}"),
            Err(error) => {
                let outcome = match error.kind() {
                    ErrorKind::NoRole | ErrorKind::RoleUnstable => "no credentials",
                    ErrorKind::InvalidInstanceProfile => "invalid profile",
                    _ => panic!("{case}: unexpected error {error}"),
                };
                return (outcome.into(), None);
            }
        }
    }
    panic!("{case}: the operation did not end");
}

#[test]
fn all_sep_v2_1_1_cases_pass() {
    let cases = load_cases();
    assert_eq!(cases.len(), 14);
    for case in &cases {
        let summary = case["summary"].as_str().unwrap();
        let mut c = client_for(case);
        let mut script = expectations(case);
        let mut at = 0;
        for outcome in case["outcomes"].as_array().unwrap() {
            let (result, account_id) = run_operation(&mut c, &mut at, &mut script, summary);
            assert_eq!(result, outcome["result"].as_str().unwrap(), "{summary}");
            assert_eq!(
                account_id.as_deref(),
                outcome["accountId"].as_str(),
                "{summary}"
            );
        }
        assert!(
            script.is_empty(),
            "{summary}: {} expected requests were not made",
            script.len()
        );
    }
}
