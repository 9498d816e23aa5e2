//! The `imds settings` example in README.md is what the core prints for the environment it shows.

// Test code: a failed unwrap or index is a failed test. The crate's lints target the library.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

use std::collections::HashMap;

use imds_core::host::load_settings_with;

#[test]
fn the_readme_settings_example_is_what_the_core_prints() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let block = readme
        .split("<!-- settings report example begin -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- settings report example end -->").next())
        .expect("the README has the settings report example");
    let mut lines = block
        .lines()
        .skip_while(|l| !l.starts_with("$ "))
        .take_while(|l| !l.starts_with("```"));
    let command = lines.next().unwrap().strip_prefix("$ ").unwrap();
    let expected: String = lines.map(|l| format!("{l}\n")).collect();

    // `VAR=value ... imds settings`, with HOME pointing to a folder that has no config file.
    let words: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(&words[words.len() - 2..], ["imds", "settings"]);
    let home = std::env::temp_dir().join(format!("imds-readme-{}", std::process::id()));
    let mut env: HashMap<String, String> = HashMap::new();
    for word in &words[..words.len() - 2] {
        let (name, value) = word.split_once('=').unwrap();
        env.insert(name.to_owned(), value.to_owned());
    }
    let shown_home = env
        .insert("HOME".to_owned(), home.to_str().unwrap().to_owned())
        .unwrap();
    let settings = load_settings_with(&|name| env.get(name).cloned(), &[]).unwrap();
    let mut report = String::new();
    settings.write_report(&mut report).unwrap();
    let report = report.replace(home.to_str().unwrap(), &shown_home);
    assert_eq!(report, expected);
}
