//! Config-file rules beyond the cross-SDK suite: active-profile selection, continued values,
//! line numbers in errors, byte-level input.

// Test code: a failed unwrap or index is a failed test. The crate's lints target the library.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

use imds_core::ErrorKind;
use imds_core::config_file::{ConfigFile, Item, SectionKind, is_valid_identifier};
use imds_core::error::Context;

fn error_line(text: &[u8]) -> (u32, String) {
    let error = match ConfigFile::from_bytes(text) {
        Ok(file) => file.check().unwrap_err(),
        Err(error) => error,
    };
    assert_eq!(error.kind(), ErrorKind::ConfigFile);
    match error.context() {
        Context::ConfigLine { line, problem } => (*line, (*problem).to_owned()),
        other => panic!("unexpected context {other:?}"),
    }
}

#[test]
fn the_active_profile_is_chosen_like_the_sdks_do() {
    let file = ConfigFile::new(
        "[default]\nk = plain-default\nonly_plain = 1\n\
         [profile dev]\nk = dev\n\
         [dev]\nk = unprefixed-dev-is-ignored\n\
         [profile dev]\nk = dev-again\n",
    );
    assert_eq!(
        file.get("default", "k").unwrap().unwrap().to_string(),
        "plain-default"
    );
    assert_eq!(
        file.get("dev", "K").unwrap().unwrap().to_string(),
        "dev-again"
    );
    assert_eq!(file.get("prod", "k").unwrap(), None);
    assert!(file.has_profile("dev").unwrap());
    assert!(!file.has_profile("prod").unwrap());
    // Profile names are case-sensitive.
    assert!(!file.has_profile("DEV").unwrap());

    // `[profile default]` anywhere hides every `[default]` section.
    let file = ConfigFile::new("[default]\nk = plain\n[profile default]\nother = 1\n");
    assert_eq!(file.get("default", "k").unwrap(), None);
    assert_eq!(
        file.get("default", "other").unwrap().unwrap().to_string(),
        "1"
    );
    let keys: Vec<&str> = file
        .properties("default")
        .unwrap()
        .map(|p| p.unwrap().key)
        .collect();
    assert_eq!(keys, ["other"]);
}

#[test]
fn continued_values_and_sub_properties_are_exposed_without_copying() {
    let file = ConfigFile::new(
        "[profile p]\nk = first\n  second \n\n# comment between\n\tthird\ns3 =\n  a = 1\n  b=2\nz = last",
    );
    let value = file.get("p", "k").unwrap().unwrap();
    assert_eq!(value.as_single_line(), None);
    assert_eq!(
        value.lines().collect::<Vec<_>>(),
        ["first", "second", "third"]
    );
    assert_eq!(value.to_string(), "first\nsecond\nthird");
    assert_eq!(value.len(), "first\nsecond\nthird".len());
    let s3 = file.get("p", "s3").unwrap().unwrap();
    assert_eq!(s3.to_string(), "\na = 1\nb=2");
    let z = file.get("p", "z").unwrap().unwrap();
    assert_eq!(z.as_single_line(), Some("last"));
    assert!(!z.is_empty());
    let lines: Vec<u32> = file
        .items()
        .map(|item| match item.unwrap() {
            Item::Section(s) => s.line,
            Item::Property(p) => p.line,
        })
        .collect();
    assert_eq!(lines, [1, 2, 7, 10]);
}

#[test]
fn errors_carry_the_line_number() {
    assert_eq!(error_line(b"[default]\n\n\n[oops\n").0, 4);
    assert_eq!(error_line(b"# c\r\n[default]\r\nk\r\n").0, 3);
    assert_eq!(error_line(b"[default]\ns3 =\n  a = 1\n  b\n").0, 4);
    let (line, problem) = error_line(b"[default]\nok = 1\n\xc3\x28 = 2\n");
    assert_eq!(
        (line, problem.as_str()),
        (3, "the config file is not UTF-8 text")
    );
    // After an error, the walk stops.
    let file = ConfigFile::new("[default]\nbad\n[profile x]\nk = v\n");
    let items: Vec<_> = file.items().collect();
    assert_eq!(items.len(), 2);
    assert!(items[1].is_err());
}

#[test]
fn odd_but_valid_input() {
    // A byte-order mark, CRLF, tabs, `=` in values, comments after whitespace only.
    let file = ConfigFile::from_bytes(
        b"\xef\xbb\xbf[profile\tx]\r\nk\t=\tv=1 ;c\r\nu = http://h/#x\r\nw = a;b\r\n",
    )
    .unwrap();
    assert_eq!(file.get("x", "k").unwrap().unwrap().to_string(), "v=1");
    assert_eq!(
        file.get("x", "u").unwrap().unwrap().to_string(),
        "http://h/#x"
    );
    assert_eq!(file.get("x", "w").unwrap().unwrap().to_string(), "a;b");
    // Sections the config file does not know are walked but ignored.
    let file = ConfigFile::new(
        "[services s]\nk = 1\n[sso-session sso]\nk = 2\n[profile bad name]\nk = 3\n",
    );
    let kinds: Vec<SectionKind> = file
        .items()
        .filter_map(|item| match item.unwrap() {
            Item::Section(s) => Some(s.kind),
            Item::Property(_) => None,
        })
        .collect();
    assert_eq!(
        kinds,
        [
            SectionKind::Ignored,
            SectionKind::SsoSession,
            SectionKind::Ignored
        ]
    );
    assert!(ConfigFile::new("").check().is_ok());
    assert!(ConfigFile::new("\n\n  \n").check().is_ok());
    assert!(is_valid_identifier("a-Z_0.9/%@:+"));
    assert!(!is_valid_identifier("a b") && !is_valid_identifier("") && !is_valid_identifier("é"));
}
