//! The `imds settings` report (`Settings::write_report`): the exact bytes every front end prints.

// Test code: a failed unwrap or index is a failed test. The crate's lints target the library.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

use imds_core::config_file::ConfigFile;
use imds_core::settings::{ConfigFileStatus, ConfigOrigin, Resolver, Setting, Settings, Source};
use imds_core::text::{BufWriter, ShortText};

fn report(settings: &Settings) -> String {
    let mut out = String::new();
    settings.write_report(&mut out).unwrap();
    out
}

#[test]
fn defaults_report() {
    assert_eq!(
        report(&Settings::default()),
        "disabled = false (default)\n\
         v1_disabled = false (default)\n\
         endpoint = http://169.254.169.254 (default)\n\
         endpoint_mode = IPv4 (default)\n\
         timeout = 1 (default)\n\
         attempts = 4 (default)\n\
         \x20 note: a timeout or an unreachable network is final unless attempts is set\n\
         instance_profile_name = (discover) (default)\n\
         token_ttl = 21600 (default)\n\
         credentials_api = legacy (default)\n\
         refresh_window = 300 (default)\n\
         token_url = http://169.254.169.254/latest/api/token\n"
    );
}

#[test]
fn every_source_is_named_the_way_the_value_was_given() {
    let mut resolver = Resolver::new();
    let file = ConfigFile::new(
        "[profile dev]\nmetadata_service_timeout = 0.5\nec2_metadata_service_endpoint_mode = IPv6\n",
    );
    assert!(resolver.set_profile(&file, "dev").unwrap());
    for (setting, source, value) in [
        (Setting::Disabled, Source::Env, "FALSE"),
        (Setting::V1Disabled, Source::Explicit, "true"),
        (Setting::Endpoint, Source::Env, "http://127.0.0.1:1338/"),
        (Setting::Attempts, Source::Explicit, "2"),
        (Setting::InstanceProfileName, Source::Env, "web-role"),
        (Setting::TokenTtl, Source::Explicit, "600"),
        (Setting::CredentialsApi, Source::Explicit, "extended"),
        (Setting::RefreshWindow, Source::Explicit, "60"),
    ] {
        resolver.set(setting, source, value).unwrap();
    }
    resolver.set_origin(ConfigOrigin {
        profile: ShortText::new("dev"),
        profile_source: Source::Env,
        profile_found: true,
        path: ShortText::new("/home/user/.aws/config"),
        path_source: Source::Default,
        status: ConfigFileStatus::Read,
    });
    let settings = resolver.resolve().unwrap();
    assert_eq!(
        report(&settings),
        "disabled = false (env AWS_EC2_METADATA_DISABLED)\n\
         v1_disabled = true (code v1_disabled)\n\
         endpoint = http://127.0.0.1:1338 (env AWS_EC2_METADATA_SERVICE_ENDPOINT)\n\
         endpoint_mode = IPv6 (profile ec2_metadata_service_endpoint_mode; ignored: an endpoint is set)\n\
         timeout = 0.5 (profile metadata_service_timeout)\n\
         attempts = 2 (code attempts)\n\
         \x20 note: timeouts and unreachable networks are retried too, as attempts is set\n\
         instance_profile_name = web-role (env AWS_EC2_INSTANCE_PROFILE_NAME)\n\
         token_ttl = 600 (code token_ttl)\n\
         credentials_api = extended (code credentials_api)\n\
         refresh_window = 60 (code refresh_window)\n\
         token_url = http://127.0.0.1:1338/latest/api/token\n\
         profile = dev (env AWS_PROFILE)\n\
         config_file = /home/user/.aws/config (default)\n"
    );
}

#[test]
fn an_endpoint_from_the_mode_carries_the_mode_source() {
    let mut resolver = Resolver::new();
    resolver
        .set(Setting::EndpointMode, Source::Env, "ipv6")
        .unwrap();
    resolver.set(Setting::Timeout, Source::Env, "1.25").unwrap();
    let text = report(&resolver.resolve().unwrap());
    assert!(
        text.contains(
            "endpoint = http://[fd00:ec2::254] (env AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE)\n\
             endpoint_mode = IPv6 (env AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE)\n\
             timeout = 1.25 (env AWS_METADATA_SERVICE_TIMEOUT)\n"
        ),
        "{text}"
    );
    assert!(text.contains("token_url = http://[fd00:ec2::254]/latest/api/token\n"));
}

#[test]
fn the_report_renders_into_a_fixed_buffer_without_allocating() {
    let mut buf = [0u8; 1024];
    let mut writer = BufWriter::new(&mut buf);
    Settings::default().write_report(&mut writer).unwrap();
    assert_eq!(
        std::str::from_utf8(writer.written()).unwrap(),
        report(&Settings::default())
    );
    // A buffer too small fails instead of truncating silently.
    let mut small = [0u8; 64];
    let mut writer = BufWriter::new(&mut small);
    assert!(Settings::default().write_report(&mut writer).is_err());
}
