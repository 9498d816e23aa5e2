//! The `std` host: config file location (the SDKs' `file-location-tests.json`, Linux cases), the
//! active profile, reading the file, and the endpoint vectors through real files on disk.

// Test code: a failed unwrap or index is a failed test. The crate's lints target the library.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use imds_core::endpoint::TOKEN_PATH;
use imds_core::error::Context;
use imds_core::host::{active_profile, config_file_location, load_settings_with};
use imds_core::settings::{ConfigFileStatus, Setting, Settings, Source};
use imds_core::{Error, ErrorKind};
use serde_json::Value;

fn vectors_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors"))
}

fn read_vectors(name: &str) -> Value {
    let path = vectors_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// A fresh, empty folder for one test.
fn temp_dir() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "imds-host-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn load(env: &[(&str, &str)], explicit: &[(Setting, &str)]) -> Result<Settings, Error> {
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    load_settings_with(&|name| env.get(name).cloned(), explicit)
}

fn report(settings: &Settings) -> String {
    let mut out = String::new();
    settings.write_report(&mut out).unwrap();
    out
}

fn line<'a>(report: &'a str, name: &str) -> &'a str {
    report
        .lines()
        .find(|l| l.starts_with(&format!("{name} = ")))
        .unwrap_or_else(|| panic!("no {name} line in\n{report}"))
}

fn write(dir: &Path, name: &str, text: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn config_file_location_follows_the_linux_cases_of_the_sdk_suite() {
    let json = read_vectors("file-location-tests.json");
    let mut ran = 0;
    for case in json["tests"].as_array().unwrap() {
        if case["platform"] != "linux" {
            continue; // Windows home-folder rules do not apply to this Linux-only host code.
        }
        let name = case["name"].as_str().unwrap();
        let env: HashMap<String, String> = case["environment"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        let lookup = |var: &str| env.get(var).cloned();
        let location = config_file_location(&lookup);
        assert_eq!(
            location.path.as_deref(),
            Some(Path::new(case["configLocation"].as_str().unwrap())),
            "{name}"
        );
        let expected_source = if env.contains_key("AWS_CONFIG_FILE") {
            Source::Env
        } else {
            Source::Default
        };
        assert_eq!(location.source, expected_source, "{name}");
        if let Some(profile) = case.get("profile").and_then(Value::as_str) {
            assert_eq!(active_profile(&lookup).0, profile, "{name}");
        }
        ran += 1;
    }
    assert_eq!(ran, 4, "every Linux case ran");
}

#[test]
fn config_file_paths_expand_the_home_folder_and_ignore_empty_variables() {
    let location = |pairs: &[(&str, &str)]| {
        let env: HashMap<&str, &str> = pairs.iter().copied().collect();
        config_file_location(&|name| env.get(name).map(|v| (*v).to_owned()))
    };
    let path = |pairs: &[(&str, &str)]| location(pairs).path;
    assert_eq!(
        path(&[("HOME", "/home/u"), ("AWS_CONFIG_FILE", "~/cfg/config")]),
        Some(PathBuf::from("/home/u/cfg/config"))
    );
    assert_eq!(
        path(&[("HOME", "/home/u"), ("AWS_CONFIG_FILE", "~")]),
        Some(PathBuf::from("/home/u"))
    );
    // `~user/` is not expanded (no user database lookups).
    assert_eq!(
        path(&[("HOME", "/home/u"), ("AWS_CONFIG_FILE", "~other/config")]),
        Some(PathBuf::from("~other/config"))
    );
    assert_eq!(
        path(&[("HOME", "/home/u"), ("AWS_CONFIG_FILE", "")]),
        Some(PathBuf::from("/home/u/.aws/config"))
    );
    assert_eq!(
        location(&[("HOME", "/home/u"), ("AWS_CONFIG_FILE", "")]).source,
        Source::Default
    );
    assert_eq!(path(&[("HOME", "")]), None);
    assert_eq!(path(&[]), None);
    let env: HashMap<&str, &str> = [("AWS_PROFILE", "")].into_iter().collect();
    assert_eq!(
        active_profile(&|n| env.get(n).map(|v| (*v).to_owned())),
        ("default".to_owned(), Source::Default)
    );
}

#[test]
fn all_fourteen_endpoint_cases_pass_through_the_host_with_real_files() {
    let json = read_vectors("imds-endpoint-tests.json");
    let cases = json["tests"].as_array().unwrap();
    assert_eq!(cases.len(), 14);
    for case in cases {
        let docs = case["docs"].as_str().unwrap();
        let dir = temp_dir();
        for (name, text) in case["fs"].as_object().unwrap() {
            write(&dir, name, text.as_str().unwrap().as_bytes());
        }
        let home = dir.join("home");
        let mut env: Vec<(String, String)> = vec![("HOME".into(), home.to_str().unwrap().into())];
        for (name, value) in case["env"].as_object().unwrap() {
            let mut value = value.as_str().unwrap().to_owned();
            if name == "AWS_CONFIG_FILE" {
                // The suite's paths are relative to its fake file system: our temporary folder.
                value = dir.join(value).to_str().unwrap().to_owned();
            }
            env.push((name.clone(), value));
        }
        let env_refs: Vec<(&str, &str)> =
            env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let mut explicit = Vec::new();
        if let Some(endpoint) = case.get("endpoint_override").and_then(Value::as_str) {
            explicit.push((Setting::Endpoint, endpoint));
        }
        if let Some(mode) = case.get("mode_override").and_then(Value::as_str) {
            explicit.push((Setting::EndpointMode, mode));
        }
        let got = load(&env_refs, &explicit).map(|settings| {
            let mut url = String::new();
            settings
                .endpoint
                .value
                .write_url(TOKEN_PATH, &mut url)
                .unwrap();
            url
        });
        if let Some(ok) = case["result"].get("Ok") {
            assert_eq!(
                got.as_deref().map_err(|e| e.to_string()),
                Ok(ok.as_str().unwrap()),
                "{docs}"
            );
        } else {
            let expected = case["result"]["Err"].as_str().unwrap();
            let message = got.unwrap_err().to_string();
            assert!(message.contains(expected), "{docs}: {message}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn environment_and_code_values_and_the_active_profile_are_applied() {
    let dir = temp_dir();
    let config = write(
        &dir,
        "config",
        b"[default]\nmetadata_service_timeout = 9\n\
          [profile default]\nmetadata_service_num_attempts = 2\nEC2_METADATA_V1_DISABLED = true\n\
          [profile dev]\nec2_instance_profile_name = dev-role\nmetadata_service_timeout = 0.25\n",
    );
    // `[profile default]` hides `[default]`.
    let settings = load(&[("AWS_CONFIG_FILE", &config)], &[]).unwrap();
    assert_eq!(
        (settings.attempts.value, settings.attempts.source),
        (2, Source::Profile)
    );
    assert_eq!(settings.timeout_ms.source, Source::Default);
    assert!(settings.v1_disabled.value);
    // AWS_PROFILE picks `[profile dev]`; env beats profile; code beats env; empty env is unset.
    let settings = load(
        &[
            ("AWS_CONFIG_FILE", &config),
            ("AWS_PROFILE", "dev"),
            ("AWS_EC2_INSTANCE_PROFILE_NAME", "env-role"),
            ("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "5"),
            ("AWS_EC2_METADATA_V1_DISABLED", ""),
        ],
        &[(Setting::Attempts, "7"), (Setting::TokenTtl, "600")],
    )
    .unwrap();
    assert_eq!(
        settings.instance_profile_name.value.as_deref(),
        Some("env-role")
    );
    assert_eq!(settings.instance_profile_name.source, Source::Env);
    assert_eq!(
        (settings.timeout_ms.value, settings.timeout_ms.source),
        (250, Source::Profile)
    );
    assert_eq!(
        (settings.attempts.value, settings.attempts.source),
        (7, Source::Explicit)
    );
    assert_eq!(settings.token_ttl_secs.value, 600);
    assert_eq!(settings.v1_disabled.source, Source::Default);
    let text = report(&settings);
    assert_eq!(line(&text, "profile"), "profile = dev (env AWS_PROFILE)");
    assert_eq!(
        line(&text, "config_file"),
        format!("config_file = {config} (env AWS_CONFIG_FILE)")
    );
    // A profile the file does not define: no values from it, and the report says so.
    let settings = load(
        &[("AWS_CONFIG_FILE", &config), ("AWS_PROFILE", "prod")],
        &[],
    )
    .unwrap();
    assert_eq!(settings.attempts.source, Source::Default);
    assert_eq!(
        line(&report(&settings), "profile"),
        "profile = prod (env AWS_PROFILE, not in the config file)"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_default_config_file_is_read_from_home() {
    let dir = temp_dir();
    write(
        &dir,
        ".aws/config",
        b"[default]\nec2_metadata_service_endpoint_mode = IPv6\n",
    );
    let settings = load(&[("HOME", dir.to_str().unwrap())], &[]).unwrap();
    assert_eq!(
        settings.endpoint.value.to_string(),
        "http://[fd00:ec2::254]"
    );
    assert_eq!(settings.endpoint.source, Source::Profile);
    let origin = settings.config_origin.unwrap();
    assert_eq!(origin.status, ConfigFileStatus::Read);
    assert_eq!(
        line(&report(&settings), "config_file"),
        format!("config_file = {}/.aws/config (default)", dir.display())
    );
    assert_eq!(
        line(&report(&settings), "profile"),
        "profile = default (default)"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_config_files_are_not_errors_but_are_reported() {
    let dir = temp_dir();
    // The default file is missing.
    let settings = load(&[("HOME", dir.to_str().unwrap())], &[]).unwrap();
    assert_eq!(
        settings.config_origin.unwrap().status,
        ConfigFileStatus::NotFound
    );
    assert_eq!(
        line(&report(&settings), "config_file"),
        format!(
            "config_file = {}/.aws/config (default, not found)",
            dir.display()
        )
    );
    assert_eq!(
        line(&report(&settings), "profile"),
        "profile = default (default, not in the config file)"
    );
    // A file named by AWS_CONFIG_FILE is missing: still no error, but visible.
    let named = dir.join("nope").to_str().unwrap().to_owned();
    let settings = load(&[("AWS_CONFIG_FILE", &named)], &[]).unwrap();
    assert_eq!(
        settings.config_origin.unwrap().status,
        ConfigFileStatus::NotFound
    );
    assert_eq!(
        line(&report(&settings), "config_file"),
        format!("config_file = {named} (env AWS_CONFIG_FILE, not found)")
    );
    // No HOME and no AWS_CONFIG_FILE: no path at all.
    let settings = load(&[], &[]).unwrap();
    assert_eq!(
        settings.config_origin.unwrap().status,
        ConfigFileStatus::NoHome
    );
    assert_eq!(
        line(&report(&settings), "config_file"),
        "config_file = (none) (default, HOME is not set)"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_config_files_are_errors_with_the_line() {
    let dir = temp_dir();
    let cases: &[(&[u8], u32, &str)] = &[
        (
            b"[default]\nregion = us-east-1\n[profile x\n",
            3,
            "profile definition must end with ']'",
        ),
        (b"\n\nkey = value\n", 3, "expected a profile definition"),
        (
            b"[default]\nkey : value\n",
            2,
            "expected an '=' sign defining a property",
        ),
        (b"[default]\nkey = ok\n\xff\xfe = x\n", 3, "not UTF-8"),
        // A malformed line outside the active profile still fails: the file is broken.
        (
            b"[profile other]\n= x\n[default]\n",
            2,
            "property did not have a name",
        ),
    ];
    for &(text, line_number, phrase) in cases {
        let config = write(&dir, "config", text);
        let error = load(&[("AWS_CONFIG_FILE", &config)], &[]).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConfigFile);
        match error.context() {
            Context::ConfigLine { line, .. } => assert_eq!(*line, line_number, "{error}"),
            other => panic!("unexpected context {other:?}"),
        }
        assert!(
            error
                .to_string()
                .starts_with(&format!("malformed config file at line {line_number}: ")),
            "{error}"
        );
        assert!(error.to_string().contains(phrase), "{error}");
    }
    // A path that exists but cannot be read as a file.
    let error = load(&[("AWS_CONFIG_FILE", dir.to_str().unwrap())], &[]).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ConfigFile);
    assert!(
        error.to_string().starts_with("cannot read the config file"),
        "{error}"
    );
    // Invalid values from the file name the key and the source.
    let config = write(
        &dir,
        "config",
        b"[default]\nec2_metadata_v1_disabled = yes\n",
    );
    let error = load(&[("AWS_CONFIG_FILE", &config)], &[]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid ec2_metadata_v1_disabled (profile): `yes` expected true or false"
    );
    // A continued value is refused with the joined text, its newline escaped.
    let config = write(
        &dir,
        "config",
        b"[default]\nec2_metadata_service_endpoint = http://h\n  /x\n",
    );
    let error = load(&[("AWS_CONFIG_FILE", &config)], &[]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid ec2_metadata_service_endpoint (profile): `http://h\\x0a/x` invalid uri character; \
         spaces and control characters are not allowed"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn invalid_environment_values_fail_closed() {
    let error = load(&[("AWS_EC2_METADATA_DISABLED", "yes")], &[]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid AWS_EC2_METADATA_DISABLED (env): `yes` expected true or false"
    );
    let settings = load(&[("AWS_EC2_METADATA_DISABLED", "true")], &[]).unwrap();
    assert_eq!(
        settings.disabled_error().unwrap().to_string(),
        "IMDS is disabled by AWS_EC2_METADATA_DISABLED (env) = `true`; unset it or set it to \
         false to use instance credentials"
    );
    // Proxy variables are never read.
    let settings = load(
        &[
            ("HTTP_PROXY", "http://proxy:3128"),
            ("http_proxy", "http://proxy:3128"),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1338"),
        ],
        &[],
    )
    .unwrap();
    assert_eq!(settings.endpoint.value.host(), "127.0.0.1");
}
