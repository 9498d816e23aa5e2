//! Gives `libimds.so` a SONAME, as cargo-c does: `libimds.so.0.MINOR` before 1.0 (any minor
//! release may break the ABI), `libimds.so.MAJOR` from 1.0 on. A program linked against it then
//! needs that name, and a later library with another ABI cannot be loaded in its place. The file
//! itself is installed as `libimds.so.MAJOR.MINOR.PATCH` with the usual links (see mk/c.mk and
//! mk/dist.mk).

fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_default();
    let minor = std::env::var("CARGO_PKG_VERSION_MINOR").unwrap_or_default();
    let abi = if major == "0" {
        format!("0.{minor}")
    } else {
        major
    };
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libimds.so.{abi}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
