//! Table tests for every settings decision of design.md: precedence per setting, the endpoint
//! beating every mode source, boolean / mode / timeout / attempts / name / code-only parsing, fail
//! closed on an invalid `AWS_EC2_METADATA_DISABLED`, and errors that name the setting, the source,
//! the value and what is accepted.

// Test code: a failed unwrap or index is a failed test. The crate's lints target the library.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

use imds_core::endpoint::EndpointMode;
use imds_core::error::{Context, SettingProblem};
use imds_core::settings::{CredentialsApi, Resolver, Setting, Settings, Source};
use imds_core::{Error, ErrorKind};

fn resolve(values: &[(Setting, Source, &str)]) -> Result<Settings, Error> {
    let mut resolver = Resolver::new();
    for &(setting, source, value) in values {
        resolver.set(setting, source, value)?;
    }
    resolver.resolve()
}

/// The resolved value of `setting`, rendered, with its source.
fn shown(settings: &Settings, setting: Setting) -> (String, Source) {
    match setting {
        Setting::Disabled => (
            settings.disabled.value.to_string(),
            settings.disabled.source,
        ),
        Setting::V1Disabled => (
            settings.v1_disabled.value.to_string(),
            settings.v1_disabled.source,
        ),
        Setting::Endpoint => (
            settings.endpoint.value.to_string(),
            settings.endpoint.source,
        ),
        Setting::EndpointMode => (
            settings.endpoint_mode.value.as_str().to_owned(),
            settings.endpoint_mode.source,
        ),
        Setting::Timeout => (
            settings.timeout_ms.value.to_string(),
            settings.timeout_ms.source,
        ),
        Setting::Attempts => (
            settings.attempts.value.to_string(),
            settings.attempts.source,
        ),
        Setting::InstanceProfileName => (
            format!("{:?}", settings.instance_profile_name.value.as_deref()),
            settings.instance_profile_name.source,
        ),
        Setting::TokenTtl => (
            settings.token_ttl_secs.value.to_string(),
            settings.token_ttl_secs.source,
        ),
        Setting::CredentialsApi => (
            settings.credentials_api.value.as_str().to_owned(),
            settings.credentials_api.source,
        ),
        Setting::RefreshWindow => (
            settings.refresh_window_secs.value.to_string(),
            settings.refresh_window_secs.source,
        ),
    }
}

/// The problem of an invalid-setting error, with its setting, source and value.
fn problem(error: &Error) -> (Setting, Source, String, SettingProblem) {
    assert_eq!(error.kind(), ErrorKind::InvalidSetting, "{error}");
    match error.context() {
        Context::Setting {
            setting,
            source,
            value,
            problem,
        } => (*setting, *source, value.as_str().to_owned(), *problem),
        other => panic!("unexpected context {other:?}"),
    }
}

#[test]
fn precedence_is_code_then_env_then_profile_then_default_for_every_setting() {
    // setting, values for code / env / profile (None: no such source), then what each resolves to
    // and the default.
    type Row = (
        Setting,
        [Option<(&'static str, &'static str)>; 3],
        &'static str,
    );
    let rows: &[Row] = &[
        (
            Setting::Disabled,
            [Some(("false", "false")), Some(("true", "true")), None],
            "false",
        ),
        (
            Setting::V1Disabled,
            [
                Some(("false", "false")),
                Some(("true", "true")),
                Some(("FALSE", "false")),
            ],
            "false",
        ),
        (
            Setting::Endpoint,
            [
                Some(("http://code:1", "http://code:1")),
                Some(("http://env:2", "http://env:2")),
                Some(("http://profile:3/", "http://profile:3")),
            ],
            "http://169.254.169.254",
        ),
        (
            Setting::EndpointMode,
            [
                Some(("IPv6", "IPv6")),
                Some(("ipv4", "IPv4")),
                Some(("IPV6", "IPv6")),
            ],
            "IPv4",
        ),
        (
            Setting::Timeout,
            [
                Some(("3", "3000")),
                Some(("0.5", "500")),
                Some(("2", "2000")),
            ],
            "1000",
        ),
        (
            Setting::Attempts,
            [Some(("2", "2")), Some(("3", "3")), Some(("10", "10"))],
            "4",
        ),
        (
            Setting::InstanceProfileName,
            [
                Some(("code-role", "Some(\"code-role\")")),
                Some(("env-role", "Some(\"env-role\")")),
                Some(("profile-role", "Some(\"profile-role\")")),
            ],
            "None",
        ),
        (Setting::TokenTtl, [Some(("60", "60")), None, None], "21600"),
        (
            Setting::CredentialsApi,
            [Some(("extended", "extended")), None, None],
            "legacy",
        ),
        (
            Setting::RefreshWindow,
            [Some(("0", "0")), None, None],
            "300",
        ),
    ];
    let sources = [Source::Explicit, Source::Env, Source::Profile];
    for &(setting, values, default) in rows {
        assert_eq!(
            shown(&resolve(&[]).unwrap(), setting),
            (default.to_owned(), Source::Default),
            "{setting} default"
        );
        // Every non-empty subset of the available sources: the highest one wins.
        for mask in 1u8..8 {
            let present: Vec<usize> = (0..3)
                .filter(|i| mask & (1 << i) != 0 && values[*i].is_some())
                .collect();
            if present.len() != (0..3).filter(|i| mask & (1 << i) != 0).count() {
                continue;
            }
            // Set in reverse precedence order too, so that order of calls cannot matter.
            let mut set: Vec<(Setting, Source, &str)> = present
                .iter()
                .map(|&i| (setting, sources[i], values[i].unwrap().0))
                .collect();
            set.reverse();
            let settings = resolve(&set).unwrap();
            let winner = present[0];
            assert_eq!(
                shown(&settings, setting),
                (values[winner].unwrap().1.to_owned(), sources[winner]),
                "{setting} with sources {present:?}"
            );
        }
        // A setting without a source refuses values from it.
        for (i, source) in sources.into_iter().enumerate() {
            if values[i].is_none() {
                let error = resolve(&[(setting, source, "1")]).unwrap_err();
                assert_eq!(
                    problem(&error),
                    (
                        setting,
                        source,
                        "1".to_owned(),
                        SettingProblem::NotFromThisSource
                    ),
                    "{setting} from {source}"
                );
            }
        }
    }
}

#[test]
fn an_endpoint_from_any_source_beats_every_mode_source() {
    let sources = [Source::Explicit, Source::Env, Source::Profile];
    for endpoint_source in sources {
        for mode_source in sources {
            let settings = resolve(&[
                (Setting::Endpoint, endpoint_source, "http://127.0.0.1:1338"),
                (Setting::EndpointMode, mode_source, "IPv6"),
            ])
            .unwrap();
            assert_eq!(settings.endpoint.value.to_string(), "http://127.0.0.1:1338");
            assert_eq!(settings.endpoint.source, endpoint_source);
            assert!(!settings.endpoint_from_mode());
            // The mode is still resolved, for information.
            assert_eq!(settings.endpoint_mode.value, EndpointMode::Ipv6);
            assert_eq!(settings.endpoint_mode.source, mode_source);
        }
    }
    // Without an endpoint, the mode picks the default endpoint and lends it its source.
    let settings = resolve(&[(Setting::EndpointMode, Source::Profile, "ipv6")]).unwrap();
    assert_eq!(
        settings.endpoint.value.to_string(),
        "http://[fd00:ec2::254]"
    );
    assert_eq!(settings.endpoint.source, Source::Profile);
    assert!(settings.endpoint_from_mode());
}

#[test]
fn booleans_are_true_or_false_trimmed_case_insensitive_and_empty_is_unset() {
    for setting in [Setting::Disabled, Setting::V1Disabled] {
        for (text, expected) in [
            ("true", true),
            ("TRUE", true),
            ("True", true),
            (" false ", false),
            ("\tFaLsE\n", false),
        ] {
            let settings = resolve(&[(setting, Source::Env, text)]).unwrap();
            assert_eq!(
                shown(&settings, setting),
                (expected.to_string(), Source::Env),
                "{text:?}"
            );
        }
        for empty in ["", "   "] {
            let settings = resolve(&[(setting, Source::Env, empty)]).unwrap();
            assert_eq!(
                shown(&settings, setting),
                ("false".to_owned(), Source::Default)
            );
        }
        // An empty value from a higher source leaves the lower one in force.
        let settings = resolve(&[
            (setting, Source::Env, "true"),
            (setting, Source::Explicit, ""),
        ])
        .unwrap();
        assert_eq!(shown(&settings, setting), ("true".to_owned(), Source::Env));
        for bad in ["1", "0", "yes", "no", "on", "t", "truee", "true false"] {
            let error = resolve(&[(setting, Source::Env, bad)]).unwrap_err();
            assert_eq!(
                problem(&error),
                (
                    setting,
                    Source::Env,
                    bad.to_owned(),
                    SettingProblem::NotABoolean
                )
            );
        }
    }
    let error = resolve(&[(Setting::V1Disabled, Source::Profile, "yes")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid ec2_metadata_v1_disabled (profile): `yes` expected true or false"
    );
    let error = resolve(&[(Setting::V1Disabled, Source::Explicit, "1")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid v1_disabled (code): `1` expected true or false"
    );
}

#[test]
fn an_invalid_disabled_value_fails_closed() {
    for bad in ["1", "yes", "disabled", "TRUE!"] {
        let error = resolve(&[(Setting::Disabled, Source::Env, bad)]).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("invalid AWS_EC2_METADATA_DISABLED (env): `{bad}` expected true or false")
        );
        // Even with every other setting valid, no Settings exist: no request can be made.
        let error = resolve(&[
            (Setting::Endpoint, Source::Explicit, "http://127.0.0.1:1"),
            (Setting::Disabled, Source::Env, bad),
        ])
        .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidSetting);
    }
}

#[test]
fn disabled_true_resolves_and_yields_the_disabled_error() {
    let settings = resolve(&[(Setting::Disabled, Source::Env, " TRUE ")]).unwrap();
    assert!(settings.disabled.value);
    let error = settings.disabled_error().unwrap();
    assert_eq!(error.kind(), ErrorKind::Disabled);
    assert_eq!(
        error.to_string(),
        "IMDS is disabled by AWS_EC2_METADATA_DISABLED (env) = `TRUE`; unset it or set it to false \
         to use instance credentials"
    );
    let settings = resolve(&[(Setting::Disabled, Source::Explicit, "true")]).unwrap();
    assert!(
        settings
            .disabled_error()
            .unwrap()
            .to_string()
            .starts_with("IMDS is disabled by disabled (code) = `true`")
    );
    assert_eq!(resolve(&[]).unwrap().disabled_error(), None);
    let settings = resolve(&[(Setting::Disabled, Source::Env, "false")]).unwrap();
    assert_eq!(settings.disabled_error(), None);
}

#[test]
fn an_overridden_invalid_value_is_not_an_error() {
    let settings = resolve(&[
        (Setting::V1Disabled, Source::Profile, "yes"),
        (Setting::V1Disabled, Source::Env, "true"),
        (Setting::Timeout, Source::Env, "abc"),
        (Setting::Timeout, Source::Explicit, "2"),
        (Setting::Endpoint, Source::Profile, "not a uri"),
        (Setting::Endpoint, Source::Env, "http://127.0.0.1:1"),
        (Setting::Disabled, Source::Env, "1"),
        (Setting::Disabled, Source::Explicit, "false"),
        (Setting::EndpointMode, Source::Profile, &"x".repeat(1000)),
        (Setting::EndpointMode, Source::Env, "IPv6"),
    ])
    .unwrap();
    assert!(settings.v1_disabled.value);
    assert_eq!(settings.timeout_ms.value, 2000);
    assert_eq!(settings.endpoint.value.to_string(), "http://127.0.0.1:1");
    assert!(!settings.disabled.value);
    assert_eq!(settings.endpoint_mode.value, EndpointMode::Ipv6);
}

#[test]
fn endpoint_modes_are_ipv4_or_ipv6_trimmed_case_insensitive() {
    for (text, expected) in [
        ("IPv4", EndpointMode::Ipv4),
        ("ipv4", EndpointMode::Ipv4),
        (" IPv6 ", EndpointMode::Ipv6),
        ("ipV6", EndpointMode::Ipv6),
        ("IPV6", EndpointMode::Ipv6),
    ] {
        let settings = resolve(&[(Setting::EndpointMode, Source::Env, text)]).unwrap();
        assert_eq!(settings.endpoint_mode.value, expected, "{text:?}");
    }
    let settings = resolve(&[(Setting::EndpointMode, Source::Env, "")]).unwrap();
    assert_eq!(settings.endpoint_mode.source, Source::Default);
    for bad in ["error", "IPv7", "v6", "ip v6", "6"] {
        let error = resolve(&[(Setting::EndpointMode, Source::Env, bad)]).unwrap_err();
        assert!(
            error.to_string().contains(&format!(
                "`{bad}` is not a valid endpoint mode; expected IPv4 or IPv6"
            )),
            "{error}"
        );
    }
    // The winning mode must be valid even when an endpoint makes it irrelevant.
    let error = resolve(&[
        (Setting::Endpoint, Source::Env, "http://127.0.0.1:1"),
        (Setting::EndpointMode, Source::Profile, "IPv7"),
    ])
    .unwrap_err();
    assert_eq!(problem(&error).3, SettingProblem::NotAnEndpointMode);
}

#[test]
fn endpoint_values_are_checked_at_resolution_and_never_fall_back_to_the_default() {
    for (bad, expected) in [
        ("http://user:pw@127.0.0.1", SettingProblem::UrlHasUserinfo),
        ("http://127.0.0.1#top", SettingProblem::UrlHasFragment),
        ("http://127.0.0.1 /", SettingProblem::InvalidUrlCharacter),
        ("ftp://127.0.0.1", SettingProblem::UnsupportedScheme),
        ("127.0.0.1:1338", SettingProblem::NotAUrl),
        ("http://127.0.0.1:0", SettingProblem::InvalidPort),
    ] {
        for source in [Source::Explicit, Source::Env, Source::Profile] {
            let error = resolve(&[(Setting::Endpoint, source, bad)]).unwrap_err();
            assert_eq!(
                problem(&error),
                (Setting::Endpoint, source, bad.to_owned(), expected),
                "{bad}"
            );
        }
    }
    let error = resolve(&[(Setting::Endpoint, Source::Env, "http://u@h")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid AWS_EC2_METADATA_SERVICE_ENDPOINT (env): `http://u@h` userinfo (user@) is not \
         allowed in the endpoint"
    );
    // Trailing slash, path prefix, IPv6 with and without port, https.
    for (text, base) in [
        ("http://127.0.0.1:1338/", "http://127.0.0.1:1338"),
        ("http://127.0.0.1:1338/imds/", "http://127.0.0.1:1338/imds"),
        ("http://[::1]", "http://[::1]"),
        ("http://[::1]:1338", "http://[::1]:1338"),
        ("https://metadata.internal", "https://metadata.internal"),
    ] {
        let settings = resolve(&[(Setting::Endpoint, Source::Profile, text)]).unwrap();
        assert_eq!(settings.endpoint.value.to_string(), base);
    }
}

#[test]
fn timeouts_are_positive_decimal_seconds() {
    for (text, ms) in [
        ("1", 1000),
        ("0.5", 500),
        (" 2 ", 2000),
        ("1.25", 1250),
        (".25", 250),
        ("3.", 3000),
        ("0.001", 1),
        ("0.0005", 1),
        ("1.2345", 1235),
        ("1.2344", 1234),
        ("007", 7000),
        ("4294967.295", u32::MAX),
    ] {
        let settings = resolve(&[(Setting::Timeout, Source::Env, text)]).unwrap();
        assert_eq!(settings.timeout_ms.value, ms, "{text:?}");
    }
    for bad in [
        "0",
        "0.0",
        "0.0004",
        "-1",
        "abc",
        "1s",
        "1e3",
        ".",
        "+1",
        "inf",
        "NaN",
        "1.2.3",
        "1,5",
        "4294967.296",
        "99999999999999999999999",
    ] {
        let error = resolve(&[(Setting::Timeout, Source::Env, bad)]).unwrap_err();
        assert_eq!(
            problem(&error),
            (
                Setting::Timeout,
                Source::Env,
                bad.to_owned(),
                SettingProblem::NotATimeout
            ),
        );
    }
    let error = resolve(&[(Setting::Timeout, Source::Profile, "-1")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid metadata_service_timeout (profile): `-1` expected a positive number of seconds \
         such as 1 or 0.5"
    );
}

#[test]
fn attempts_are_whole_numbers_from_1_to_10() {
    for (text, n) in [("1", 1), ("4", 4), ("10", 10), (" 03 ", 3)] {
        let settings = resolve(&[(Setting::Attempts, Source::Env, text)]).unwrap();
        assert_eq!(settings.attempts.value, n, "{text:?}");
    }
    for bad in [
        "0",
        "11",
        "255",
        "256",
        "-1",
        "1.5",
        "abc",
        "+2",
        "99999999999999999999999",
    ] {
        let error = resolve(&[(Setting::Attempts, Source::Env, bad)]).unwrap_err();
        assert_eq!(
            problem(&error),
            (
                Setting::Attempts,
                Source::Env,
                bad.to_owned(),
                SettingProblem::NotAnAttemptCount
            ),
        );
    }
    let error = resolve(&[(Setting::Attempts, Source::Explicit, "0")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid attempts (code): `0` expected a whole number of attempts from 1 to 10"
    );
}

#[test]
fn instance_profile_names_are_iam_names_and_blank_is_refused() {
    let settings = resolve(&[(
        Setting::InstanceProfileName,
        Source::Env,
        " my-role+=,.@_1 ",
    )])
    .unwrap();
    assert_eq!(
        settings.instance_profile_name.value.as_deref(),
        Some("my-role+=,.@_1")
    );
    let longest = "r".repeat(128);
    let settings = resolve(&[(Setting::InstanceProfileName, Source::Profile, &longest)]).unwrap();
    assert_eq!(
        settings.instance_profile_name.value.as_deref(),
        Some(longest.as_str())
    );
    let too_long = "r".repeat(129);
    let far_too_long = "r".repeat(1000);
    for bad in [
        "",
        "   ",
        "a/b",
        "a b",
        "role?",
        "é",
        &too_long,
        &far_too_long,
    ] {
        let error = resolve(&[(Setting::InstanceProfileName, Source::Env, bad)]).unwrap_err();
        let (setting, source, _, why) = problem(&error);
        assert_eq!(
            (setting, source, why),
            (
                Setting::InstanceProfileName,
                Source::Env,
                SettingProblem::NotAnIamName
            ),
            "{bad:?}"
        );
    }
    let error = resolve(&[(Setting::InstanceProfileName, Source::Env, "a/b")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid AWS_EC2_INSTANCE_PROFILE_NAME (env): `a/b` expected 1 to 128 characters from \
         letters, digits and +=,.@_-"
    );
    // Unsetting removes even a blank name.
    let mut resolver = Resolver::new();
    resolver
        .set(Setting::InstanceProfileName, Source::Env, "")
        .unwrap();
    resolver.unset(Setting::InstanceProfileName, Source::Env);
    assert_eq!(
        resolver.resolve().unwrap().instance_profile_name.value,
        None
    );
}

#[test]
fn code_only_settings_parse_their_ranges() {
    for (text, secs) in [("1", 1), ("21600", 21600), (" 300 ", 300)] {
        let settings = resolve(&[(Setting::TokenTtl, Source::Explicit, text)]).unwrap();
        assert_eq!(settings.token_ttl_secs.value, secs);
    }
    for bad in ["0", "21601", "-5", "1.5", "x"] {
        let error = resolve(&[(Setting::TokenTtl, Source::Explicit, bad)]).unwrap_err();
        assert_eq!(problem(&error).3, SettingProblem::NotSeconds, "{bad}");
    }
    for (text, secs) in [("0", 0), ("3600", 3600)] {
        let settings = resolve(&[(Setting::RefreshWindow, Source::Explicit, text)]).unwrap();
        assert_eq!(settings.refresh_window_secs.value, secs);
    }
    for bad in ["3601", "-1", "5m"] {
        let error = resolve(&[(Setting::RefreshWindow, Source::Explicit, bad)]).unwrap_err();
        assert_eq!(problem(&error).3, SettingProblem::NotSeconds, "{bad}");
    }
    for (text, api) in [
        ("legacy", CredentialsApi::Legacy),
        (" Extended ", CredentialsApi::Extended),
    ] {
        let settings = resolve(&[(Setting::CredentialsApi, Source::Explicit, text)]).unwrap();
        assert_eq!(settings.credentials_api.value, api);
    }
    let error = resolve(&[(Setting::CredentialsApi, Source::Explicit, "v2")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid credentials_api (code): `v2` expected legacy or extended"
    );
    let error = resolve(&[(Setting::TokenTtl, Source::Env, "60")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid token_ttl (env): `60` this setting cannot be given from this source (see the \
         settings table in README.md)"
    );
}

#[test]
fn overlong_values_are_errors_only_when_they_win() {
    let long_url = format!("http://h/{}", "p".repeat(1000));
    let error = resolve(&[(Setting::Endpoint, Source::Env, &long_url)]).unwrap_err();
    let (setting, source, value, why) = problem(&error);
    assert_eq!(
        (setting, source, why),
        (Setting::Endpoint, Source::Env, SettingProblem::TooLong)
    );
    assert!(long_url.starts_with(&value) && !value.is_empty());
    let settings = resolve(&[
        (Setting::Endpoint, Source::Env, &long_url),
        (Setting::Endpoint, Source::Explicit, "http://127.0.0.1:1"),
    ])
    .unwrap();
    assert_eq!(settings.endpoint.source, Source::Explicit);
    // The longest endpoint the stored endpoint can hold still resolves.
    let long_but_fine = format!("http://{}/{}", "h".repeat(250), "p".repeat(255));
    assert!(resolve(&[(Setting::Endpoint, Source::Env, &long_but_fine)]).is_ok());
}

#[test]
fn default_settings_are_what_resolving_nothing_gives() {
    let settings = resolve(&[]).unwrap();
    assert_eq!(settings, Settings::default());
    assert_eq!(
        settings.endpoint.value.to_string(),
        "http://169.254.169.254"
    );
    assert_eq!(settings.timeout_ms.value, 1000);
    assert_eq!(settings.attempts.value, 4);
    assert_eq!(settings.token_ttl_secs.value, 21600);
    assert_eq!(settings.refresh_window_secs.value, 300);
    for setting in Setting::ALL {
        assert_eq!(shown(&settings, setting).1, Source::Default, "{setting}");
    }
}
