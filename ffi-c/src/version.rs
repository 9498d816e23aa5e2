//! The library version, at run time (`imds_version()`) and at compile time (the
//! `IMDS_VERSION_*` macros of `imds.h`, generated from `Cargo.toml` with the header).

use core::ffi::c_char;

/// `imds/<version>`, NUL-terminated.
const VERSION: &str = concat!("imds/", env!("CARGO_PKG_VERSION"), "\0");

/// The library's name and version, e.g. `imds/0.2.0` (static, NUL-terminated, do not free).
///
/// Compare with the header's `IMDS_VERSION_STRING` to check that the library and the header
/// match.
#[unsafe(no_mangle)]
pub extern "C" fn imds_version() -> *const c_char {
    ffi_boundary! { VERSION.as_ptr().cast::<c_char>() }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_the_crate_version_and_matches_the_core() {
        // SAFETY: `imds_version` returns a pointer to a static NUL-terminated string.
        let text = unsafe { core::ffi::CStr::from_ptr(super::imds_version()) };
        assert_eq!(
            text.to_str().ok(),
            Some(format!("imds/{}", imds_core::VERSION).as_str())
        );
    }
}
