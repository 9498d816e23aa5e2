//! `scripts/demo` (what `make demo` runs): it shows every command's output with secrets redacted,
//! compares the implementations, and stops the mock whether it succeeds or fails.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

const MOCK: &str = env!("CARGO_BIN_EXE_imds-mock");
const IMDS: &str = env!("CARGO_BIN_EXE_imds");
const DEMO_SECRET: &str = "demoSecret/EXAMPLE+Key0123456789abcdefghij";

fn demo(impls: &str, show_secrets: bool) -> (Output, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/demo");
    let mut command = Command::new(script);
    command
        .args([MOCK, impls])
        .env_remove("IMDS_DEMO_SHOW_SECRETS");
    if show_secrets {
        command.env("IMDS_DEMO_SHOW_SECRETS", "1");
    }
    let output = command.output().expect("scripts/demo runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (output, stdout)
}

/// The mock's pid, from the demo's first line.
fn mock_pid(stdout: &str) -> u32 {
    let first = stdout.lines().next().expect("a first line");
    let pid = first
        .rsplit("pid ")
        .next()
        .expect("pid")
        .trim_end_matches(')');
    pid.parse().unwrap_or_else(|_| panic!("no pid in {first}"))
}

fn assert_stopped(pid: u32) {
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "the mock (pid {pid}) is still running"
    );
}

#[test]
fn shows_every_command_with_secrets_redacted_and_stops_the_mock() {
    let (output, stdout) = demo(&format!("rust={IMDS}"), false);
    assert!(output.status.success(), "{stdout}");
    for expected in [
        "== rust: imds credentials",
        r#""SecretAccessKey":"<redacted>","SessionToken":"<redacted>""#,
        "== rust: imds settings",
        "timeout = 0.5 (profile metadata_service_timeout)",
        "== rust: imds get placement/region\neu-west-3\n",
        "  (stderr) imds: trace: > PUT /latest/api/token\n",
        "  [mock saw] connection 1: GET /latest/meta-data/iam/security-credentials/demo-role (with token) -> 200\n",
        "  [mock saw] connection 1: PUT /latest/api/token -> 200\n",
        "every command printed the same bytes in: rust",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    assert!(!stdout.contains(DEMO_SECRET));
    assert_stopped(mock_pid(&stdout));
}

#[test]
fn shows_secrets_only_when_asked() {
    let (output, stdout) = demo(&format!("rust={IMDS}"), true);
    assert!(output.status.success());
    assert!(stdout.contains(DEMO_SECRET));
}

#[test]
fn reports_a_differing_command_fails_and_still_stops_the_mock() {
    let dir = std::env::temp_dir().join(format!("imds-demo-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fake = dir.join("fake-imds");
    std::fs::write(&fake, "#!/bin/sh\necho 'not the same'\n").unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let missing = dir.join("never-built");
    let (output, stdout) = demo(
        &format!(
            "fake={} rust={IMDS} missing={}",
            fake.display(),
            missing.display()
        ),
        false,
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("imds credentials: DIFFERS from rust"),
        "{stdout}"
    );
    assert!(
        stdout.contains("== missing: not built, left out"),
        "{stdout}"
    );
    assert_stopped(mock_pid(&stdout));
}
