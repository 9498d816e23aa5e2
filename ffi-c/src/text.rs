//! Borrowed strings and byte views handed to C, and the buffer sizes that always suffice.

use core::ffi::c_char;

/// A borrowed UTF-8 string: `len` bytes at `data`, **not** NUL-terminated (print it with
/// `printf("%.*s", (int)s.len, s.data)`). `data` is never NULL, even when `len` is 0. How long the
/// memory stays valid is said by the function that returns it.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct imds_str {
    /// The first byte.
    pub data: *const c_char,
    /// The number of bytes.
    pub len: usize,
}

impl imds_str {
    /// The empty string (pointing to a static empty string, never NULL).
    pub const EMPTY: Self = Self {
        data: c"".as_ptr(),
        len: 0,
    };

    /// A view of `text`; the caller documents how long `text` lives.
    pub fn borrow(text: &str) -> Self {
        Self {
            data: text.as_ptr().cast::<c_char>(),
            len: text.len(),
        }
    }
}

/// Borrowed bytes: `len` bytes at `data`. `data` is never NULL, even when `len` is 0. How long the
/// memory stays valid is said by the function that returns it.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct imds_bytes {
    /// The first byte.
    pub data: *const u8,
    /// The number of bytes.
    pub len: usize,
}

impl imds_bytes {
    /// No bytes (pointing to static memory, never NULL).
    pub const EMPTY: Self = Self {
        data: c"".as_ptr().cast::<u8>(),
        len: 0,
    };

    /// A view of `bytes`; the caller documents how long `bytes` lives.
    pub fn borrow(bytes: &[u8]) -> Self {
        if bytes.is_empty() {
            return Self::EMPTY;
        }
        Self {
            data: bytes.as_ptr(),
            len: bytes.len(),
        }
    }
}

/// A buffer of this many bytes always holds one error message, diagnostic, trace line, usage
/// error line or setting value.
pub const IMDS_TEXT_CAPACITY: usize = 1024;

/// A buffer of this many bytes always holds the settings report (`imds_settings_report()`).
pub const IMDS_REPORT_CAPACITY: usize = 4096;

/// A buffer of this many bytes always holds the `--help` text (`imds_cli_help()`).
pub const IMDS_HELP_CAPACITY: usize = 8192;

/// A buffer of this many bytes always holds the credentials JSON
/// (`imds_client_credentials_json()`): the session token alone may take 4096 bytes.
pub const IMDS_CREDENTIALS_JSON_CAPACITY: usize = 8192;

/// A buffer of this many bytes always holds a metadata body (`imds_fetch_metadata()`): the
/// whole response, headers included, must fit in the client's receive buffer of this size.
pub const IMDS_METADATA_CAPACITY: usize = 8192;
const _: () = assert!(IMDS_METADATA_CAPACITY == imds_core::client::RECEIVE_CAPACITY);
