//! `imds_fetch_credentials()` and `imds_fetch_metadata()`: the blocking conveniences.
//!
//! Each runs one operation on a caller's client with the host loop of
//! `imds_core::blocking::drive` (blocking `std::net` sockets, every connect / write / read deadline and
//! back-off the client asks for), so the client's caches (token, role, credentials) are used and
//! kept. It reads `CLOCK_MONOTONIC` in milliseconds for `now`, the clock `ffi-c/c/driver.c` uses,
//! so a client may be driven by both. Plain `http` endpoints only.

use core::ffi::c_char;
use core::ptr::NonNull;

use imds_core::blocking;
use imds_core::{Client, Error, ErrorKind, Instant};

use crate::client::{Handle, imds_client, with_client};
use crate::credentials::imds_credentials;
use crate::failure::Failure;
use crate::ffi;
use crate::result::imds_result;

/// Fetches credentials on `client`, blocking until they arrive or the operation fails, and stores
/// views of them in `*credentials_out` (valid until the next non-`const` call on the client).
/// Fresh cached credentials are returned without a request. Diagnostics stay queued on the client
/// (`imds_client_next_diagnostic()`); the failure message is in `imds_client_last_error()`.
///
/// Uses blocking sockets with the deadlines the client hands out and `CLOCK_MONOTONIC`
/// milliseconds. After initialisation in caller storage it does not allocate when the endpoint
/// host is an IP literal (a name is resolved with `getaddrinfo()`, which allocates).
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_NOT_INITIALIZED`; `IMDS_RESULT_UNSUPPORTED`
/// (`https` endpoint); every error of the exchange.
#[unsafe(no_mangle)]
pub extern "C" fn imds_fetch_credentials(
    client: *mut imds_client,
    credentials_out: *mut imds_credentials,
) -> imds_result {
    ffi_boundary! {
        with_client(client, |handle| {
            let out = ffi::try_out(credentials_out)?;
            run(handle, |client, now| {
                client.start_credentials(now, blocking::wall_clock())
            })?;
            let credentials = handle.client.credentials().ok_or(Failure::Core(Error::detail(
                ErrorKind::InvalidState,
                "the client finished without credentials",
            )))?;
            ffi::write_out(out, imds_credentials::borrow(credentials));
            Ok(())
        })
    }
}

/// Reads the metadata `path` on `client`, blocking until the body arrives or the operation
/// fails, and copies the body into `buf` (`buf_len` bytes; no NUL is added) and its length into
/// `*body_len_out`. `path` is `path_len` bytes of UTF-8, not NUL-terminated: relative to
/// `/latest/meta-data/` (`placement/region`, `instance-id`) or absolute when it starts with
/// `/latest/`. Uses the client's token; runs with the host loop and clock of
/// `imds_fetch_credentials()` (blocking sockets, the client's deadlines, no allocation after
/// initialisation in caller storage when the endpoint host is an IP literal).
///
/// When the body is longer than `buf_len`, returns `IMDS_RESULT_BUFFER_TOO_SMALL`, writes the
/// length needed to `*body_len_out` (the one output written on a result other than
/// `IMDS_RESULT_OK`) and leaves `buf` untouched. The body stays readable with
/// `imds_client_body()` until the next non-`const` call on the client, so it can be copied out
/// without a second request; calling again with a larger buffer makes a new request.
/// `IMDS_METADATA_CAPACITY` bytes always suffice.
///
/// Diagnostics stay queued on the client (`imds_client_next_diagnostic()`); the failure message
/// is in `imds_client_last_error()`.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER` (also for `buf` when `buf_len` is 0);
/// `IMDS_RESULT_NOT_INITIALIZED`; `IMDS_RESULT_INVALID_ARGUMENT` (empty, too long, spaces, not
/// UTF-8); `IMDS_RESULT_DISABLED`; `IMDS_RESULT_UNSUPPORTED` (`https` endpoint);
/// `IMDS_RESULT_BUFFER_TOO_SMALL`; every error of the exchange (`IMDS_RESULT_HTTP_STATUS` for a
/// path IMDS does not have, ...).
#[unsafe(no_mangle)]
pub extern "C" fn imds_fetch_metadata(
    client: *mut imds_client,
    path: *const c_char,
    path_len: usize,
    buf: *mut u8,
    buf_len: usize,
    body_len_out: *mut usize,
) -> imds_result {
    ffi_boundary! {
        with_client(client, |handle| {
            let path = ffi::try_str(path, path_len, "the metadata path is not valid UTF-8")?;
            let buf = NonNull::new(buf).ok_or(imds_result::NullParameter)?;
            let body_len_out = ffi::try_out(body_len_out)?;
            run(handle, |client, now| client.start_get(now, path))?;
            let body = handle.client.body().ok_or(Failure::Core(Error::detail(
                ErrorKind::InvalidState,
                "the client finished without a body",
            )))?;
            // The needed length is written on both outcomes (documented above).
            ffi::write_out(body_len_out, body.len());
            ffi::copy_bytes(buf, buf_len, body)
        })
    }
}

/// Starts an operation with `start` (given the client and `now`) and drives it to its end.
fn run(
    handle: &mut Handle,
    start: impl FnOnce(&mut Client, Instant) -> Result<(), Error>,
) -> Result<(), Failure> {
    start(&mut handle.client, now())?;
    // Diagnostics stay queued on the client for `imds_client_next_diagnostic()`.
    let mut stream = None;
    let result = blocking::drive(&mut handle.client, &mut stream, &now, None);
    // The connection is not kept past the call: tell the client the next operation connects anew.
    blocking::close(&mut handle.client, &mut stream);
    Ok(result?)
}

/// `CLOCK_MONOTONIC` in milliseconds (the clock `driver.c` uses).
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn now() -> Instant {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    const CLOCK_MONOTONIC: core::ffi::c_int = 1;
    unsafe extern "C" {
        fn clock_gettime(clock: core::ffi::c_int, time: *mut Timespec) -> core::ffi::c_int;
    }
    let mut time = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` is the C library's, declared with its 64-bit Linux signature
    // (`clockid_t` is `int`, `time_t` and `long` are 64 bits); `time` is a valid out-pointer.
    let status = unsafe { clock_gettime(CLOCK_MONOTONIC, &mut time) };
    if status != 0 {
        return Instant::from_millis(0);
    }
    let secs = u64::try_from(time.tv_sec).unwrap_or(0);
    let millis = u64::try_from(time.tv_nsec / 1_000_000).unwrap_or(0);
    Instant::from_millis(secs.saturating_mul(1000).saturating_add(millis))
}

/// A monotonic clock in milliseconds from the first use in this process.
#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
fn now() -> Instant {
    static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let origin = ORIGIN.get_or_init(std::time::Instant::now);
    Instant::from_millis(u64::try_from(origin.elapsed().as_millis()).unwrap_or(u64::MAX))
}
