//! Arbitrary bytes as the shared config file and as setting values: no panic, and these hold:
//! * the walk over the file agrees with `check`, `get` and `Value`'s views of a value;
//! * whatever the resolver accepts renders a report, and an accepted endpoint's normalized form
//!   parses back to the same endpoint;
//! * `disabled = true` always yields the Disabled error.
#![no_main]

use imds_core::ErrorKind;
use imds_core::config_file::{ConfigFile, Item};
use imds_core::endpoint::Endpoint;
use imds_core::settings::{Resolver, Setting, Source};
use libfuzzer_sys::fuzz_target;

const SOURCES: [Source; 4] = [
    Source::Explicit,
    Source::Env,
    Source::Profile,
    Source::Default,
];

fn check_file(file: &ConfigFile<'_>) {
    let mut failed = false;
    let mut last_profile = None;
    for item in file.items() {
        match item {
            Err(error) => {
                assert_eq!(error.kind(), ErrorKind::ConfigFile);
                let _ = error.to_string();
                failed = true;
            }
            Ok(Item::Section(section)) => last_profile = Some(section.name),
            Ok(Item::Property(property)) => {
                let value = property.value;
                let text = value.to_string();
                assert_eq!(value.len(), text.len());
                if let Some(single) = value.as_single_line() {
                    assert_eq!(single, text);
                }
                assert_eq!(value.lines().count(), text.split('\n').count());
            }
        }
    }
    assert_eq!(file.check().is_err(), failed);
    if let Some(name) = last_profile {
        let _ = file.has_profile(name);
        let _ = file.get(name, "ec2_metadata_service_endpoint");
    }
}

fn check_resolver(resolver: &Resolver) {
    match resolver.resolve() {
        Ok(settings) => {
            let mut report = String::new();
            settings.write_report(&mut report).unwrap();
            assert!(report.contains("\ntoken_url = "));
            let endpoint = &settings.endpoint.value;
            assert_eq!(
                Endpoint::parse(&endpoint.to_string()).as_ref(),
                Ok(endpoint)
            );
            assert_eq!(settings.disabled_error().is_some(), settings.disabled.value);
            if let Some(error) = settings.disabled_error() {
                assert_eq!(error.kind(), ErrorKind::Disabled);
            }
        }
        Err(error) => {
            let _ = format!("{error} {error:?}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // The whole input as a config file, with its profiles feeding a resolver.
    if let Ok(file) = ConfigFile::from_bytes(data) {
        check_file(&file);
        let mut resolver = Resolver::new();
        if resolver.set_profile(&file, "default").is_ok() {
            check_resolver(&resolver);
        }
    }
    // The input's lines as setting values: the first byte of each line picks the source.
    let text = String::from_utf8_lossy(data);
    let mut resolver = Resolver::new();
    for (line, setting) in text
        .split('\n')
        .zip(Setting::ALL.into_iter().cycle())
        .take(40)
    {
        let source = SOURCES[line.bytes().next().map_or(0, |b| usize::from(b % 4))];
        let value = line.get(1..).unwrap_or("");
        if let Ok(endpoint) = Endpoint::parse(value) {
            assert_eq!(Endpoint::parse(&endpoint.to_string()), Ok(endpoint));
        }
        if let Err(error) = resolver.set(setting, source, value) {
            let _ = error.to_string();
        }
    }
    check_resolver(&resolver);
});
