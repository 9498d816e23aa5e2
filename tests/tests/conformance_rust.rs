//! The conformance scenarios: every file is well-formed and safe (loopback only), and the Rust
//! `imds` command passes all of them. `make test` runs them against every other implementation
//! too (`imds-conformance`, see mk/testkit.mk).

use std::path::Path;

use imds_testkit::conformance::{self, Implementation, Scenario};

fn scenarios() -> Vec<Scenario> {
    Scenario::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance"))
        .expect("every scenario file parses")
}

#[test]
fn there_are_enough_scenarios_and_each_fetching_one_uses_the_mock() {
    let all = scenarios();
    assert!(all.len() >= 40, "only {} scenarios", all.len());
    for scenario in &all {
        scenario.check_loopback_only().unwrap();
    }
    let settings = all
        .iter()
        .filter(|s| s.args.first().is_some_and(|a| a == "settings"));
    assert!(settings.count() >= 5);
    assert!(all.iter().any(|s| s.bind.is_ipv6()), "a scenario on [::1]");
    assert!(
        all.iter().any(|s| s.args.iter().any(|a| a == "--trace")),
        "a --trace scenario"
    );
}

#[test]
fn the_rust_imds_command_passes_every_scenario() {
    let rust = Implementation::parse(concat!("rust=", env!("CARGO_BIN_EXE_imds"))).unwrap();
    let mut failures = Vec::new();
    for scenario in scenarios() {
        let outcome = conformance::run(&scenario, &rust);
        if !outcome.passed() {
            failures.push(format!(
                "{}:\n  {}",
                scenario.name,
                outcome.failures.join("\n  ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
