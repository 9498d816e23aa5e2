//! The `imds --help` text in README.md is what the core writes.

// Test code: a failed unwrap is a failed test. The crate's lints target the library.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::std_instead_of_core)]

#[test]
fn the_readme_help_example_is_what_the_core_writes() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let block = readme
        .split("<!-- help example begin -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- help example end -->").next())
        .expect("the README has the help example");
    let shown: String = block
        .lines()
        .skip_while(|line| *line != "$ imds --help")
        .skip(1)
        .take_while(|line| !line.starts_with("```"))
        .map(|line| format!("{line}\n"))
        .collect();
    let mut help = String::new();
    imds_core::cli::write_help(&mut help).unwrap();
    assert_eq!(shown, help);
}
