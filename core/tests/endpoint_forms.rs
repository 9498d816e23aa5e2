//! Endpoint URL forms: what `Endpoint::parse` accepts, how request URLs are joined, and what it
//! refuses (design.md "parsing": absolute http/https URL, name / IPv4 / bracketed IPv6 host,
//! optional port and path prefix, one trailing `/` stripped, query dropped; userinfo, fragment and
//! bad characters refused).

// Test code: a failed unwrap or index is a failed test. The crate's lints target the library.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

use imds_core::endpoint::{Endpoint, EndpointMode, Scheme};
use imds_core::error::SettingProblem;

fn token_url(endpoint: &Endpoint) -> String {
    let mut url = String::new();
    endpoint.write_url("/latest/api/token", &mut url).unwrap();
    url
}

fn host_header(endpoint: &Endpoint) -> String {
    let mut header = String::new();
    endpoint.write_host_header(&mut header).unwrap();
    header
}

#[test]
fn accepted_forms_join_paths_like_merge_paths() {
    // input, token URL, host to connect to, port, Host header
    let cases: &[(&str, &str, &str, u16, &str)] = &[
        (
            "http://127.0.0.1:1338",
            "http://127.0.0.1:1338/latest/api/token",
            "127.0.0.1",
            1338,
            "127.0.0.1:1338",
        ),
        (
            "http://127.0.0.1:1338/",
            "http://127.0.0.1:1338/latest/api/token",
            "127.0.0.1",
            1338,
            "127.0.0.1:1338",
        ),
        (
            "http://h/prefix",
            "http://h/prefix/latest/api/token",
            "h",
            80,
            "h",
        ),
        (
            "http://h/prefix/",
            "http://h/prefix/latest/api/token",
            "h",
            80,
            "h",
        ),
        (
            "http://h/a/b//",
            "http://h/a/b//latest/api/token",
            "h",
            80,
            "h",
        ),
        (
            "http://[::1]",
            "http://[::1]/latest/api/token",
            "::1",
            80,
            "[::1]",
        ),
        (
            "http://[::1]:1338",
            "http://[::1]:1338/latest/api/token",
            "::1",
            1338,
            "[::1]:1338",
        ),
        (
            "http://[fd00:ec2::254]/",
            "http://[fd00:ec2::254]/latest/api/token",
            "fd00:ec2::254",
            80,
            "[fd00:ec2::254]",
        ),
        (
            "https://custom",
            "https://custom/latest/api/token",
            "custom",
            443,
            "custom",
        ),
        (
            "https://custom:8443/x/",
            "https://custom:8443/x/latest/api/token",
            "custom",
            8443,
            "custom:8443",
        ),
        (
            "HTTP://Metadata.Local",
            "http://Metadata.Local/latest/api/token",
            "Metadata.Local",
            80,
            "Metadata.Local",
        ),
        (
            "http://h?query=dropped",
            "http://h/latest/api/token",
            "h",
            80,
            "h",
        ),
        ("http://h/p/?q", "http://h/p/latest/api/token", "h", 80, "h"),
        (
            "  http://h:80  ",
            "http://h:80/latest/api/token",
            "h",
            80,
            "h:80",
        ),
        (
            "http://my_host-1.internal:1",
            "http://my_host-1.internal:1/latest/api/token",
            "my_host-1.internal",
            1,
            "my_host-1.internal:1",
        ),
        (
            "http://h:65535",
            "http://h:65535/latest/api/token",
            "h",
            65535,
            "h:65535",
        ),
    ];
    for &(input, url, host, port, header) in cases {
        let endpoint = Endpoint::parse(input).unwrap_or_else(|p| panic!("{input}: {p:?}"));
        assert_eq!(token_url(&endpoint), url, "{input}");
        assert_eq!(endpoint.host(), host, "{input}");
        assert_eq!(endpoint.port(), port, "{input}");
        assert_eq!(host_header(&endpoint), header, "{input}");
        // The normalized form parses back to the same endpoint.
        assert_eq!(
            Endpoint::parse(&endpoint.to_string()),
            Ok(endpoint),
            "{input}"
        );
    }
}

#[test]
fn https_is_kept_and_targets_carry_the_prefix() {
    let endpoint = Endpoint::parse("https://h:9/pre/").unwrap();
    assert_eq!(endpoint.scheme(), Scheme::Https);
    assert_eq!(endpoint.path_prefix(), "/pre");
    let mut target = String::new();
    endpoint
        .write_target("/latest/meta-data/", &mut target)
        .unwrap();
    assert_eq!(target, "/pre/latest/meta-data/");
    assert_eq!(endpoint.to_string(), "https://h:9/pre");
}

#[test]
fn refused_forms_say_why() {
    use SettingProblem::*;
    let long_host = format!("http://{}", "a".repeat(300));
    let long_path = format!("http://h/{}", "p".repeat(300));
    let cases: &[(&str, SettingProblem)] = &[
        ("http://user@h", UrlHasUserinfo),
        ("http://user:password@h:1338/", UrlHasUserinfo),
        ("http://h#fragment", UrlHasFragment),
        ("http://h/#", UrlHasFragment),
        ("http://h /x", InvalidUrlCharacter),
        ("http://h\tx", InvalidUrlCharacter),
        ("http://h\u{7f}", InvalidUrlCharacter),
        ("http://h\u{0}", InvalidUrlCharacter),
        ("http://hé", InvalidUrlCharacter),
        ("http://h/<x>", InvalidUrlCharacter),
        ("not a uri", InvalidUrlCharacter),
        ("", NotAUrl),
        ("   ", NotAUrl),
        ("h:80", NotAUrl),
        ("//h", NotAUrl),
        ("://h", NotAUrl),
        ("ftp://h", UnsupportedScheme),
        ("file:///etc/passwd", UnsupportedScheme),
        ("http://", InvalidHost),
        ("http:///path", InvalidHost),
        ("http://::1", InvalidHost),
        ("http://[::1", InvalidHost),
        ("http://[zz]", InvalidHost),
        ("http://[::1]x", InvalidHost),
        ("http://[fe80::1%25eth0]", InvalidHost),
        ("http://999.1.1.1", InvalidHost),
        ("http://1.2.3", InvalidHost),
        ("http://a!b", InvalidHost),
        ("http://a%20b", InvalidHost),
        ("http://h:", InvalidPort),
        ("http://h:0", InvalidPort),
        ("http://h:65536", InvalidPort),
        ("http://h:+80", InvalidPort),
        ("http://h:8a", InvalidPort),
        ("http://h:1:2", InvalidPort),
        ("http://[::1]:0", InvalidPort),
        (&long_host, TooLong),
        (&long_path, TooLong),
    ];
    for &(input, problem) in cases {
        assert_eq!(Endpoint::parse(input), Err(problem), "{input:?}");
    }
}

#[test]
fn default_endpoints_per_mode() {
    let v4 = Endpoint::for_mode(EndpointMode::Ipv4);
    assert_eq!(token_url(&v4), "http://169.254.169.254/latest/api/token");
    assert_eq!((v4.host(), v4.port()), ("169.254.169.254", 80));
    assert_eq!(host_header(&v4), "169.254.169.254");
    let v6 = Endpoint::for_mode(EndpointMode::Ipv6);
    assert_eq!(token_url(&v6), "http://[fd00:ec2::254]/latest/api/token");
    assert_eq!((v6.host(), v6.port()), ("fd00:ec2::254", 80));
    assert_eq!(host_header(&v6), "[fd00:ec2::254]");
    assert_eq!(Endpoint::default(), v4);
}
