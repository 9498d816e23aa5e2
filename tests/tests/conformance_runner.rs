//! The conformance runner itself: it must report every kind of difference, or the suite could
//! pass commands that differ.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use imds_testkit::conformance::{self, Implementation, Scenario};

const HAPPY: &str = r#"{
  "description": "happy path",
  "env": {"AWS_EC2_METADATA_SERVICE_ENDPOINT": "{endpoint}"},
  "expect": {
    "requests": ["PUT /latest/api/token ttl=21600",
                 "GET /latest/meta-data/iam/security-credentials/ (token)",
                 "GET /latest/meta-data/iam/security-credentials/demo-role (token)"],
    "connections": 1,
    "stdout": "{\"Version\":1,\"AccessKeyId\":\"ASIAMOCKEXAMPLE00001\",\"SecretAccessKey\":\"mockSecret/EXAMPLE+Key0123456789abcdefghi\",\"SessionToken\":\"mockSessionToken/EXAMPLE+Token0123456789==\",\"Expiration\":\"2030-01-01T00:00:00Z\"}\n",
    "stderr": "",
    "exit": 0
  }
}"#;

fn rust() -> Implementation {
    Implementation::parse(concat!("rust=", env!("CARGO_BIN_EXE_imds"))).unwrap()
}

/// `HAPPY` with `key` of `expect` replaced by `value` (JSON).
fn with_expectation(key: &str, value: &str) -> Scenario {
    let mut json: serde_json::Value = serde_json::from_str(HAPPY).unwrap();
    let new: serde_json::Value = serde_json::from_str(value).unwrap();
    json["expect"][key] = new;
    Scenario::parse("mutated", &json.to_string()).unwrap()
}

fn failures(scenario: &Scenario, implementation: &Implementation) -> Vec<String> {
    conformance::run(scenario, implementation).failures
}

#[test]
fn the_unchanged_scenario_passes() {
    let scenario = Scenario::parse("happy", HAPPY).unwrap();
    assert_eq!(failures(&scenario, &rust()), Vec::<String>::new());
}

#[test]
fn each_kind_of_difference_is_reported() {
    let cases = [
        (
            "requests",
            r#"["PUT /latest/api/token ttl=21600"]"#,
            "requests differ",
        ),
        ("connections", "3", "connections: expected 3, got 1"),
        ("stdout", r#""{}\n""#, "stdout differs"),
        ("stderr", r#""imds: x\n""#, "stderr differs"),
        (
            "stderr_starts",
            r#""imds: ""#,
            "stderr does not start as expected",
        ),
        ("stderr_contains", r#"["trace"]"#, "stderr lacks"),
        ("stderr_ends", r#""\n""#, "stderr does not end as expected"),
        ("exit", "1", "exit status: expected 1, got 0"),
    ];
    for (key, value, expected) in cases {
        let found = failures(&with_expectation(key, value), &rust());
        assert!(
            found.len() == 1 && found[0].starts_with(expected),
            "{key}: {found:?}"
        );
    }
}

#[test]
fn each_implementation_must_name_itself_in_user_agent() {
    // The Rust command says `(rust)`: run under another name, every request is reported.
    let scenario = Scenario::parse("happy", HAPPY).unwrap();
    let mislabelled =
        Implementation::parse(concat!("python=", env!("CARGO_BIN_EXE_imds"))).unwrap();
    let found = failures(&scenario, &mislabelled);
    let expected = format!(
        "has User-Agent Some(\"imds/{0} (rust)\"), not `imds/{0} (python)`",
        imds_core::VERSION
    );
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found.iter().all(|f| f.ends_with(&expected)), "{found:?}");
}

/// A fake `imds` that prints what it is given, to stdout and stderr.
fn fake_command(name: &str, body: &str) -> Implementation {
    let dir = std::env::temp_dir().join(format!("imds-runner-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    Implementation::parse(&format!("{name}={}", path.display())).unwrap()
}

#[test]
fn a_leaked_secret_on_stderr_fails_the_scenario() {
    let scenario = Scenario::parse("happy", HAPPY).unwrap();
    let leaky = fake_command(
        "leaky",
        "echo 'mockSessionToken/EXAMPLE+Token0123456789==' >&2",
    );
    let found = failures(&scenario, &leaky);
    assert!(
        found
            .iter()
            .any(|f| f == "stderr leaks the session token the mock served"),
        "{found:?}"
    );
}

#[test]
fn a_leaked_imds_token_fails_the_scenario() {
    let scenario = Scenario::parse("happy", HAPPY).unwrap();
    // Fetches a token from the mock with bash's /dev/tcp, then prints it on stdout and stderr.
    let leaky = fake_command(
        "token-leaky",
        r#"exec bash -c 'hostport=${AWS_EC2_METADATA_SERVICE_ENDPOINT#http://}
exec 3<>/dev/tcp/${hostport%:*}/${hostport#*:}
printf "PUT /latest/api/token HTTP/1.1\r\nHost: x\r\nx-aws-ec2-metadata-token-ttl-seconds: 60\r\nConnection: close\r\n\r\n" >&3
token=$(tail -n 1 <&3)
echo "$token"; echo "$token" >&2'"#,
    );
    let found = failures(&scenario, &leaky);
    assert!(
        found.contains(&"stderr leaks an IMDSv2 token the mock served".to_string())
            && found.contains(&"stdout leaks an IMDSv2 token".to_string()),
        "{found:?}"
    );
}

#[test]
fn a_command_that_cannot_start_fails_the_scenario() {
    let scenario = Scenario::parse("happy", HAPPY).unwrap();
    let missing = Implementation::parse("missing=/nonexistent/imds").unwrap();
    let found = failures(&scenario, &missing);
    assert!(
        found[0].starts_with("cannot run /nonexistent/imds"),
        "{found:?}"
    );
}

/// Runs the `imds-conformance` binary against the Rust command with `args`; (status, stdout, stderr).
fn run_runner(args: &[&str]) -> (i32, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_imds-conformance"))
        .args(["--impl", concat!("rust=", env!("CARGO_BIN_EXE_imds"))])
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn scenario_selects_by_exact_name_and_refuses_an_unknown_one() {
    // `credentials-imdsv2` is also the start of `credentials-imdsv2-only-instance`: only the
    // scenario of that very name runs (with `--only`, both would).
    let (status, stdout, stderr) = run_runner(&["--scenario", "credentials-imdsv2", "--verbose"]);
    assert_eq!(status, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("ok   rust credentials-imdsv2 ("),
        "{stdout}"
    );
    assert!(
        !stdout.contains("credentials-imdsv2-only-instance"),
        "{stdout}"
    );
    assert!(stdout.ends_with("1 passed, 0 failed\n"), "{stdout}");

    let (status, stdout, stderr) = run_runner(&["--scenario", "no-such-scenario"]);
    assert_eq!(status, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains("no scenario named `no-such-scenario`"),
        "{stderr}"
    );
}
