//! The cross-SDK `profile-parser-tests.json` suite, config-file cases, through `ConfigFile`.
//!
//! Out of scope: the 7 cases whose input has a `credentialsFile`. This library reads IMDS settings
//! from the config file only (as the Rust, Go and Python SDKs do, spec §1.7): it never opens the
//! credentials file, so the credentials-file format (un-prefixed `[name]` sections) and the merging
//! of the two files are not implemented. They are listed in `CREDENTIALS_FILE_CASES` and the test
//! checks that exactly those are skipped.
//!
//! Expected errors are matched ASCII-case-insensitively: our messages use the suite's phrases in
//! lower case, inside a sentence ("malformed config file at line 2: expected an '=' sign defining a
//! property (`key = value`)").

// Test code: a failed unwrap or index is a failed test. The crate's lints target the library.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use imds_core::ErrorKind;
use imds_core::config_file::{ConfigFile, Item, SectionKind};
use imds_core::error::Context;
use serde_json::Value;

const CREDENTIALS_FILE_CASES: [&str; 7] = [
    "Invalid profile names are ignored.",
    "Profiles duplicated in multiple files are merged.",
    "Default profiles with mixed prefixes merge with credentials",
    "Duplicate properties between files uses credentials property.",
    "Credentials profiles with prefix are ignored.",
    "profile name with extra whitespace in credentials",
    "sso-session without the space before the name is a profile",
];

type Sections = BTreeMap<String, BTreeMap<String, String>>;

/// Builds the suite's in-memory form from our walk: profiles and sso-sessions with their
/// properties (keys lower-cased, later definitions winning, `[profile default]` hiding `[default]`).
fn parse(text: &str) -> Result<(Sections, Sections), imds_core::Error> {
    let file = ConfigFile::new(text);
    let items: Vec<Item<'_>> = file.items().collect::<Result<_, _>>()?;
    let prefixed_default = items.iter().any(|item| {
        matches!(item, Item::Section(s) if s.kind == SectionKind::Profile && s.name == "default")
    });
    let mut profiles = Sections::new();
    let mut sessions = Sections::new();
    let target = |kind: SectionKind, name: &str| -> Option<(bool, String)> {
        match kind {
            SectionKind::Profile => Some((true, name.to_owned())),
            SectionKind::DefaultWithoutPrefix if !prefixed_default => {
                Some((true, "default".to_owned()))
            }
            SectionKind::SsoSession => Some((false, name.to_owned())),
            _ => None,
        }
    };
    for item in &items {
        match item {
            Item::Section(section) => {
                if let Some((is_profile, name)) = target(section.kind, section.name) {
                    let map = if is_profile {
                        &mut profiles
                    } else {
                        &mut sessions
                    };
                    map.entry(name).or_default();
                }
            }
            Item::Property(property) => {
                if let Some((is_profile, name)) =
                    target(property.section.kind, property.section.name)
                {
                    let map = if is_profile {
                        &mut profiles
                    } else {
                        &mut sessions
                    };
                    map.entry(name).or_default().insert(
                        property.key.to_ascii_lowercase(),
                        property.value.to_string(),
                    );
                }
            }
        }
    }
    Ok((profiles, sessions))
}

fn expected_sections(value: Option<&Value>) -> Sections {
    let mut sections = Sections::new();
    for (name, properties) in value.and_then(Value::as_object).into_iter().flatten() {
        let properties = properties
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        sections.insert(name.clone(), properties);
    }
    sections
}

#[test]
fn every_config_file_case_of_the_cross_sdk_suite_passes() {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/vectors/profile-parser-tests.json"
    ));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let json: Value = serde_json::from_str(&text).unwrap();
    let cases = json["tests"].as_array().unwrap();
    let mut skipped = Vec::new();
    let mut ran = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let input = &case["input"];
        if input.get("credentialsFile").is_some() {
            skipped.push(name);
            continue;
        }
        let config = input["configFile"].as_str().unwrap();
        let output = &case["output"];
        let got = parse(config);
        if let Some(expected) = output.get("errorContaining").and_then(Value::as_str) {
            let error = got
                .err()
                .unwrap_or_else(|| panic!("{name}: expected an error"));
            assert_eq!(error.kind(), ErrorKind::ConfigFile, "{name}");
            assert!(
                matches!(error.context(), Context::ConfigLine { .. }),
                "{name}: the error names the line"
            );
            let message = error.to_string().to_ascii_lowercase();
            assert!(
                message.contains(&expected.to_ascii_lowercase()),
                "{name}: `{message}` does not contain `{expected}`"
            );
        } else {
            let (profiles, sessions) = got.unwrap_or_else(|e| panic!("{name}: {e}"));
            let config_out = &output["config"];
            assert_eq!(
                profiles,
                expected_sections(config_out.get("profiles")),
                "{name}"
            );
            if let Some(expected) = config_out.get("sso_sessions") {
                assert_eq!(sessions, expected_sections(Some(expected)), "{name}");
            }
            // The library's own lookup (what the resolver uses) agrees with the suite.
            let file = ConfigFile::new(config);
            for (profile, properties) in expected_sections(config_out.get("profiles")) {
                assert!(file.has_profile(&profile).unwrap(), "{name}: {profile}");
                for (key, value) in properties {
                    let got = file.get(&profile, &key.to_ascii_uppercase()).unwrap();
                    assert_eq!(got.map(|v| v.to_string()), Some(value), "{name}: {key}");
                }
            }
        }
        ran += 1;
    }
    assert_eq!(
        skipped, CREDENTIALS_FILE_CASES,
        "exactly the credentials-file cases are skipped"
    );
    assert_eq!(ran + skipped.len(), cases.len());
    assert_eq!(ran, 58, "every config-file case ran");
}
