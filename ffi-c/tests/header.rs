//! `include/imds.h` is what the pinned cbindgen generates from `ffi-c/src`, and its version
//! macros match `Cargo.toml`. `UPDATE_HEADER=1 cargo test -p imds-ffi --test header` rewrites it.

use std::path::{Path, PathBuf};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn header_path() -> PathBuf {
    crate_dir().join("..").join("include").join("imds.h")
}

/// The version macros, from this crate's version in `Cargo.toml`.
fn version_macros() -> String {
    let major: u32 = env!("CARGO_PKG_VERSION_MAJOR").parse().unwrap();
    let minor: u32 = env!("CARGO_PKG_VERSION_MINOR").parse().unwrap();
    let patch: u32 = env!("CARGO_PKG_VERSION_PATCH").parse().unwrap();
    format!(
        "\n/** The version of this header (compare with imds_version() at run time). */\n\
         #define IMDS_VERSION_MAJOR {major}\n\
         #define IMDS_VERSION_MINOR {minor}\n\
         #define IMDS_VERSION_PATCH {patch}\n\
         /** MAJOR * 10000 + MINOR * 100 + PATCH, for #if comparisons. */\n\
         #define IMDS_VERSION_NUMBER {}\n\
         /** What imds_version() returns for this version. */\n\
         #define IMDS_VERSION_STRING \"imds/{}\"\n",
        major * 10_000 + minor * 100 + patch,
        env!("CARGO_PKG_VERSION"),
    )
}

fn generate() -> String {
    let mut config = cbindgen::Config::from_file(crate_dir().join("cbindgen.toml")).unwrap();
    config.after_includes = Some(version_macros());
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir().join("src").join("lib.rs"))
        .generate()
        .expect("cbindgen could not generate the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).unwrap()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
#[cfg_attr(
    miri,
    ignore = "reads the sources and the header, which Miri's isolation forbids"
)]
fn header_matches_what_cbindgen_generates() {
    let generated = generate();
    let path = header_path();
    if std::env::var_os("UPDATE_HEADER").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = read(&path);
    assert!(
        committed == generated,
        "include/imds.h differs from what cbindgen generates from ffi-c/src; run \
         `UPDATE_HEADER=1 cargo test -p imds-ffi --test header` and commit the header"
    );
}

/// The value of `#define NAME value` in the committed header.
fn define(header: &str, name: &str) -> Option<String> {
    header.lines().find_map(|line| {
        let rest = line.strip_prefix("#define ")?.strip_prefix(name)?;
        rest.starts_with(' ').then(|| rest.trim().to_owned())
    })
}

#[test]
#[cfg_attr(
    miri,
    ignore = "reads the sources and the header, which Miri's isolation forbids"
)]
fn version_macros_match_cargo_toml() {
    let header = read(&header_path());
    let manifest = read(&crate_dir().join("..").join("Cargo.toml"));
    let version = manifest
        .lines()
        .skip_while(|line| line.trim() != "[workspace.package]")
        .find_map(|line| line.strip_prefix("version = "))
        .map(|v| v.trim().trim_matches('"').to_owned())
        .expect("Cargo.toml has a [workspace.package] version");
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap());
    let (major, minor, patch) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    assert_eq!(
        define(&header, "IMDS_VERSION_MAJOR"),
        Some(major.to_string())
    );
    assert_eq!(
        define(&header, "IMDS_VERSION_MINOR"),
        Some(minor.to_string())
    );
    assert_eq!(
        define(&header, "IMDS_VERSION_PATCH"),
        Some(patch.to_string())
    );
    assert_eq!(
        define(&header, "IMDS_VERSION_NUMBER"),
        Some((major * 10_000 + minor * 100 + patch).to_string())
    );
    assert_eq!(
        define(&header, "IMDS_VERSION_STRING"),
        Some(format!("\"imds/{version}\""))
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "reads the sources and the header, which Miri's isolation forbids"
)]
fn every_export_is_declared_in_the_header() {
    let header = read(&header_path());
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(crate_dir().join("src")).unwrap() {
        let source = read(&entry.unwrap().path());
        let mut lines = source.lines();
        while let Some(line) = lines.next() {
            if line.trim() != "#[unsafe(no_mangle)]" {
                continue;
            }
            let signature = lines.next().unwrap_or_default();
            let name = signature
                .split("fn ")
                .nth(1)
                .and_then(|rest| rest.split('(').next())
                .unwrap_or_default();
            if !header.contains(&format!("{name}(")) {
                missing.push(name.to_owned());
            }
        }
    }
    assert!(missing.is_empty(), "not in include/imds.h: {missing:?}");
}
