//! The C ABI of `imds-core`: `libimds.a`, `libimds.so` and `include/imds.h`.
//!
//! C and C++ programs drive the core's sans-IO [`imds_core::Client`] from their own event loop:
//! create a client from resolved settings, start an operation, then loop on
//! [`client::imds_client_poll`] and carry out each [`action::imds_action`], feeding back what
//! happened with the `imds_client_handle_*` functions. `ffi-c/c/driver.c` is the reference driver
//! (non-blocking sockets and `poll()`), and `ffi-c/c/imds.c` the `imds` command built on it.
//!
//! Conventions (those of rustls-ffi):
//!
//! * functions are named `imds_<type>_<verb>`; the object comes first, then inputs, then outputs;
//! * every fallible function returns an [`result::imds_result`] (explicit, frozen numbers,
//!   `IMDS_RESULT_OK = 0`) and writes its outputs only when it returns `IMDS_RESULT_OK` (the
//!   one exception: `IMDS_RESULT_BUFFER_TOO_SMALL` writes the length the buffer needs);
//! * every pointer is checked for NULL; types are opaque; `_free(NULL)` does nothing;
//! * strings cross as pointer + length ([`text::imds_str`]), never NUL-terminated unless a
//!   function says so, with the lifetime documented on each function;
//! * every export catches panics (`ffi_boundary!`), so no unwind ever crosses into C.
//!
//! Enumerations that C passes *in* (sources, I/O errors) are taken as `uint32_t` and checked, so an
//! out-of-range value is an error instead of undefined behaviour.
//!
//! The ABI is not stable before 1.0: link statically and rebuild with each release.
// Exported functions take raw pointers from C and check them (rustls-ffi's approach); they are
// safe `extern "C" fn`s, so this lint would fire on every one of them.
#![allow(clippy::not_unsafe_ptr_arg_deref)]
// `#[unsafe(no_mangle)]` and pointer access are the point of this crate; every `unsafe` block
// says why it is sound.
#![allow(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]
// C type names (`imds_client`, `imds_result`) are lower-case on purpose.
#![allow(non_camel_case_types)]

#[macro_use]
mod panic;
mod failure;
mod ffi;

pub mod action;
pub mod blocking;
pub mod cli;
pub mod client;
pub mod config;
pub mod credentials;
pub mod result;
pub mod settings;
pub mod text;
pub mod version;
