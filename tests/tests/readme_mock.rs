//! The README's mock section works as written: the shell example runs against the built binaries,
//! and the scenario example is a valid scenario that the Rust `imds` command passes.

use std::path::Path;
use std::process::Command;

use imds_testkit::conformance::{self, Implementation, Scenario};

fn readme_block(marker: &str) -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("README.md");
    let begin = format!("<!-- {marker} begin -->");
    let end = format!("<!-- {marker} end -->");
    let start = readme.find(&begin).expect("begin marker") + begin.len();
    let stop = readme[start..].find(&end).expect("end marker") + start;
    let block = &readme[start..stop];
    let code_start = block.find("```").expect("code fence");
    let code = &block[code_start..];
    let first_line_end = code.find('\n').expect("fence line");
    let code = &code[first_line_end + 1..];
    code[..code.rfind("```").expect("closing fence")].to_string()
}

#[test]
fn the_shell_example_runs_as_written() {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_imds"))
        .parent()
        .expect("bin dir")
        .display()
        .to_string();
    // `cargo test` has built the binaries already: the example's `make build-testkit` is skipped,
    // and `target/debug/` is wherever cargo put them.
    let script: String = readme_block("mock example")
        .lines()
        .filter(|line| !line.starts_with("make "))
        .map(|line| line.replace("target/debug/", &format!("{bin_dir}/")) + "\n")
        .collect();
    let dir = std::env::temp_dir().join(format!("imds-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let output = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(&dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &dir)
        .output()
        .expect("bash runs");
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "eu-west-3");
    assert!(
        lines[1].starts_with(r#"{"Version":1,"AccessKeyId":"ASIAMOCKEXAMPLE00001","#),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with(r#"{"connection":1,"method":"PUT","path":"/latest/api/token","#),
        "{}",
        lines[2]
    );
    // Two outputs, then the requests: get (token, region) and credentials (token, role,
    // credentials).
    assert_eq!(lines.len(), 2 + 2 + 3, "{stdout}");
}

#[test]
fn the_scenario_example_is_a_passing_scenario() {
    let scenario = Scenario::parse("readme-example", &readme_block("scenario example"))
        .expect("the README's scenario parses");
    let rust = Implementation::parse(concat!("rust=", env!("CARGO_BIN_EXE_imds"))).unwrap();
    let outcome = conformance::run(&scenario, &rust);
    assert!(outcome.passed(), "{:?}", outcome.failures);
}
