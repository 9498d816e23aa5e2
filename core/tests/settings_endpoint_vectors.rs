//! The 14 cases of the AWS SDKs' `imds-endpoint-tests.json`, through the core resolver.
//!
//! Each case gives an environment, a config file and optional code overrides; the expected `Ok`
//! value is the URL of the token request, built here with `Endpoint::write_url("/latest/api/token")`.
//! Expected errors are the Rust SDK's texts; ours must mean the same thing: the endpoint-mode ones
//! are matched verbatim (`` `IPv7` is not a valid endpoint mode``), and "invalid uri character"
//! is matched as well (our message adds what is accepted). The same cases run through the `std`
//! host in `host_endpoint_vectors.rs`.

// Test code: a failed unwrap or index is a failed test. The crate's lints target the library.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

use std::path::PathBuf;

use imds_core::config_file::ConfigFile;
use imds_core::endpoint::TOKEN_PATH;
use imds_core::settings::{Resolver, Setting, Source};
use serde_json::Value;

fn vectors_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors"))
}

fn load_cases() -> Vec<Value> {
    let path = vectors_dir().join("imds-endpoint-tests.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let json: Value = serde_json::from_str(&text).unwrap();
    json["tests"].as_array().unwrap().clone()
}

/// Resolves one case with the core alone: env values, the file named by `AWS_CONFIG_FILE` from
/// the case's `fs`, code overrides; returns the token URL or the error message.
fn run_case(case: &Value) -> Result<String, String> {
    let mut resolver = Resolver::new();
    let env = case["env"].as_object().unwrap();
    for (name, value) in env {
        if let Some(setting) = Setting::from_env_name(name) {
            resolver
                .set(setting, Source::Env, value.as_str().unwrap())
                .map_err(|e| e.to_string())?;
        }
    }
    if let Some(config_name) = env.get("AWS_CONFIG_FILE").and_then(Value::as_str)
        && let Some(text) = case["fs"].get(config_name).and_then(Value::as_str)
    {
        let profile = env
            .get("AWS_PROFILE")
            .and_then(Value::as_str)
            .unwrap_or("default");
        resolver
            .set_profile(&ConfigFile::new(text), profile)
            .map_err(|e| e.to_string())?;
    }
    if let Some(endpoint) = case.get("endpoint_override").and_then(Value::as_str) {
        resolver
            .set(Setting::Endpoint, Source::Explicit, endpoint)
            .unwrap();
    }
    if let Some(mode) = case.get("mode_override").and_then(Value::as_str) {
        resolver
            .set(Setting::EndpointMode, Source::Explicit, mode)
            .unwrap();
    }
    let settings = resolver.resolve().map_err(|e| e.to_string())?;
    let mut url = String::new();
    settings
        .endpoint
        .value
        .write_url(TOKEN_PATH, &mut url)
        .unwrap();
    Ok(url)
}

#[test]
fn all_fourteen_endpoint_cases_pass_through_the_core_resolver() {
    let cases = load_cases();
    assert_eq!(cases.len(), 14, "the suite has 14 cases");
    for case in &cases {
        let docs = case["docs"].as_str().unwrap();
        let got = run_case(case);
        match (&case["result"].get("Ok"), &case["result"].get("Err")) {
            (Some(expected), _) => {
                assert_eq!(got.as_deref(), Ok(expected.as_str().unwrap()), "{docs}")
            }
            (_, Some(expected)) => {
                let message = got.expect_err(docs);
                assert!(
                    message.contains(expected.as_str().unwrap()),
                    "{docs}: `{message}` does not contain `{expected}`"
                );
            }
            _ => panic!("{docs}: no expected result"),
        }
    }
}

#[test]
fn vector_errors_name_the_setting_source_and_what_is_accepted() {
    let cases = load_cases();
    let by_docs = |docs: &str| {
        cases
            .iter()
            .find(|c| c["docs"] == docs)
            .unwrap_or_else(|| panic!("no case {docs}"))
    };
    let message = run_case(by_docs("invalid uri")).unwrap_err();
    assert_eq!(
        message,
        "invalid AWS_EC2_METADATA_SERVICE_ENDPOINT (env): `not a uri` invalid uri character; \
         spaces and control characters are not allowed"
    );
    let message = run_case(by_docs("invalid config endpoint mode")).unwrap_err();
    assert_eq!(
        message,
        "invalid ec2_metadata_service_endpoint_mode (profile): `IPv7` is not a valid endpoint \
         mode; expected IPv4 or IPv6"
    );
}
