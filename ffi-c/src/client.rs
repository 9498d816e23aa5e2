//! `imds_client`: the core's sans-IO client over C.
//!
//! A client is long-lived: it keeps the IMDSv2 token, the role name, the credentials and its
//! connection state across operations. Run one operation at a time:
//!
//! ```c
//! imds_client_start_credentials(client, now_ms(), time(NULL));
//! for (;;) {
//!     imds_action action;
//!     if (imds_client_poll(client, now_ms(), &action) != IMDS_RESULT_OK) break;  /* failed */
//!     if (action.kind == IMDS_ACTION_KIND_DONE) break;                          /* succeeded */
//!     /* carry out the action, then call imds_client_handle_*() with what happened */
//! }
//! ```
//!
//! `ffi-c/c/driver.c` is a complete driver over non-blocking sockets and `poll()`.
//!
//! A client lives on the heap (`imds_client_new()` / `imds_client_free()`) or in storage the
//! caller provides (`imds_client_size()`, `imds_client_align()`, `imds_client_init()` /
//! `imds_client_deinit()`); after initialisation no call allocates.

use core::ffi::c_char;
use core::mem::{align_of, size_of};
use core::ptr::{NonNull, addr_of, addr_of_mut};

use imds_core::diagnostic::Level;
use imds_core::{Client, Diagnostic, Instant, UnixTime};

use crate::action::{imds_action, io_error_from_c};
use crate::credentials::imds_credentials;
use crate::failure::{self, Failure, KeepsLastError, LastError, Rendering};
use crate::ffi::{self, Castable, OwnershipPlaced};
use crate::result::imds_result;
use crate::settings::imds_settings;
use crate::text::imds_bytes;

/// The IMDS client (opaque). Not thread-safe: use a client from one thread at a time (different
/// clients are independent).
pub struct imds_client {
    _private: [u8; 0],
}

impl Castable for imds_client {
    type Ownership = OwnershipPlaced;
    type Rust = Handle;
}

/// How loud a diagnostic is (map it to your logger's levels).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum imds_level {
    /// Request-level detail (what `imds --trace` shows).
    Trace = 1,
    /// Normal but noteworthy.
    Info = 2,
    /// Something a user should know about (fallbacks, extended expirations).
    Warn = 3,
}

impl From<Level> for imds_level {
    fn from(level: Level) -> Self {
        match level {
            Level::Trace => Self::Trace,
            Level::Info => Self::Info,
            Level::Warn => Self::Warn,
        }
    }
}

/// How many diagnostics a client keeps until they are taken (`imds_client_next_diagnostic()`);
/// when more come, the oldest is dropped.
pub const IMDS_DIAGNOSTIC_CAPACITY: usize = 8;
const _: () = assert!(IMDS_DIAGNOSTIC_CAPACITY == imds_core::client::DIAGNOSTIC_CAPACITY);

/// Marks a live client (the first field of every [`Handle`]).
const LIVE: u64 = 0x696d_6473_2d6c_6976;
/// Marks caller storage whose client was deinitialised.
const DEAD: u64 = 0x696d_6473_2d64_6561;

/// What an `imds_client` pointer points to.
#[repr(C)]
pub(crate) struct Handle {
    /// [`LIVE`] while the client may be used.
    magic: u64,
    /// Made by `imds_client_new()` (freed with the box) rather than in caller storage.
    on_heap: bool,
    pub(crate) client: Client,
    last_error: LastError,
    /// A diagnostic taken from the client but not yet delivered (the caller's buffer was small).
    pending_diagnostic: Option<Diagnostic>,
}

impl Handle {
    fn new(settings: &imds_core::Settings, seed: u64, on_heap: bool) -> Self {
        let mut client = Client::new(settings, seed);
        client.set_binding("c");
        Self {
            magic: LIVE,
            on_heap,
            client,
            last_error: LastError::default(),
            pending_diagnostic: None,
        }
    }

    /// The next diagnostic, keeping it pending until it is delivered.
    fn peek_diagnostic(&mut self) -> Option<Diagnostic> {
        if self.pending_diagnostic.is_none() {
            self.pending_diagnostic = self.client.poll_diagnostic();
        }
        self.pending_diagnostic
    }
}

impl KeepsLastError for Handle {
    fn last_error(&self) -> &LastError {
        &self.last_error
    }

    fn last_error_slot(object: NonNull<Self>) -> NonNull<LastError> {
        // SAFETY: the caller passes a pointer to a live `Handle`; this only computes the address of
        // one of its fields (nothing is read or borrowed), which is not NULL.
        unsafe { NonNull::new_unchecked(addr_of_mut!((*object.as_ptr()).last_error)) }
    }
}

/// Whether `ptr` (not NULL) points to a live client. Reads only the first field.
fn is_live(ptr: NonNull<Handle>) -> bool {
    // SAFETY: the header requires a client pointer to come from `imds_client_new()` (not freed)
    // or `imds_client_init()` (storage still owned by the caller); both start with an
    // initialised `magic` field, which `imds_client_deinit()` keeps initialised.
    unsafe { addr_of!((*ptr.as_ptr()).magic).read() == LIVE }
}

/// The live client behind `ptr`: NULL is `IMDS_RESULT_NULL_PARAMETER`, a deinitialised client
/// `IMDS_RESULT_NOT_INITIALIZED`.
pub(crate) fn live_mut<'a>(ptr: *mut imds_client) -> Result<&'a mut Handle, Failure> {
    let handle = NonNull::new(ptr.cast::<Handle>()).ok_or(imds_result::NullParameter)?;
    if !is_live(handle) {
        return Err(Failure::Code(imds_result::NotInitialized));
    }
    // SAFETY: `handle` points to a live `Handle` (checked above); the header forbids using a
    // client from two threads at once, so this is the only reference during the call.
    Ok(unsafe { &mut *handle.as_ptr() })
}

/// Like [`live_mut`], for `const` functions.
fn live_ref<'a>(ptr: *const imds_client) -> Result<&'a Handle, Failure> {
    let handle = NonNull::new(ptr.cast_mut().cast::<Handle>()).ok_or(imds_result::NullParameter)?;
    if !is_live(handle) {
        return Err(Failure::Code(imds_result::NotInitialized));
    }
    // SAFETY: as in `live_mut`; `const` functions only read.
    Ok(unsafe { &*handle.as_ptr() })
}

/// Runs `call` on a live client and records its failure as the client's last error.
pub(crate) fn with_client(
    client: *mut imds_client,
    call: impl FnOnce(&mut Handle) -> Result<(), Failure>,
) -> imds_result {
    failure::recorded(live_mut(client), call)
}

/// The bytes of storage `imds_client_init()` needs.
#[unsafe(no_mangle)]
pub extern "C" fn imds_client_size() -> usize {
    ffi_boundary! { size_of::<Handle>() }
}

/// The alignment (a power of two) of the storage `imds_client_init()` needs.
#[unsafe(no_mangle)]
pub extern "C" fn imds_client_align() -> usize {
    ffi_boundary! { align_of::<Handle>() }
}

/// Creates a client on the heap for a copy of `settings` (which may be freed afterwards) and
/// stores it in `*client_out`; free it with `imds_client_free()`. `seed` is randomness for retry
/// jitter (e.g. from `getrandom()`); it need not be secret.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`.
#[unsafe(no_mangle)]
pub extern "C" fn imds_client_new(
    settings: *const imds_settings,
    seed: u64,
    client_out: *mut *mut imds_client,
) -> imds_result {
    ffi_boundary! {
        failure::result_of((|| {
            let settings = ffi::try_ref(settings)?;
            let out = ffi::try_out(client_out)?;
            let handle = Box::new(Handle::new(settings, seed, true));
            ffi::write_out(out, Box::into_raw(handle).cast::<imds_client>());
            Ok(())
        })())
    }
}

/// Initialises a client in caller storage for a copy of `settings` and stores the client pointer
/// (equal to `storage`) in `*client_out`. No heap memory is used, now or later. `storage` must be
/// `storage_len >= imds_client_size()` bytes, aligned to `imds_client_align()`, and must outlive
/// the client; end the client with `imds_client_deinit()` before reusing or releasing the storage.
/// Initialising storage again after `imds_client_deinit()` gives a fresh client.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_INSUFFICIENT_SIZE`;
/// `IMDS_RESULT_MISALIGNED`.
#[unsafe(no_mangle)]
pub extern "C" fn imds_client_init(
    storage: *mut core::ffi::c_void,
    storage_len: usize,
    settings: *const imds_settings,
    seed: u64,
    client_out: *mut *mut imds_client,
) -> imds_result {
    ffi_boundary! {
        failure::result_of((|| {
            let storage = NonNull::new(storage.cast::<Handle>()).ok_or(imds_result::NullParameter)?;
            let settings = ffi::try_ref(settings)?;
            let out = ffi::try_out(client_out)?;
            if storage_len < size_of::<Handle>() {
                return Err(Failure::Code(imds_result::InsufficientSize));
            }
            if !storage.as_ptr().is_aligned() {
                return Err(Failure::Code(imds_result::Misaligned));
            }
            // SAFETY: `storage` is not NULL, aligned for `Handle` and at least
            // `size_of::<Handle>()` bytes (checked above); the header requires it to be writable
            // and owned by the caller. `write` does not read or drop the old contents.
            unsafe { storage.as_ptr().write(Handle::new(settings, seed, false)) };
            ffi::write_out(out, storage.as_ptr().cast::<imds_client>());
            Ok(())
        })())
    }
}

/// Ends a client made by `imds_client_init()`; the storage belongs to the caller again and may be
/// initialised anew. Later calls with the old pointer return `IMDS_RESULT_NOT_INITIALIZED` for as
/// long as the storage is left untouched. NULL, a deinitialised client and a heap client (use
/// `imds_client_free()`) are left alone.
#[unsafe(no_mangle)]
pub extern "C" fn imds_client_deinit(client: *mut imds_client) {
    ffi_boundary! {
        if let Some(handle) = NonNull::new(client.cast::<Handle>())
            && is_live(handle)
        {
            // SAFETY: `handle` is a live `Handle` (checked): the `on_heap` field is initialised.
            let on_heap = unsafe { addr_of!((*handle.as_ptr()).on_heap).read() };
            if !on_heap {
                deinit(handle);
            }
        }
    }
}

/// Drops a live client in place and marks its storage as deinitialised.
fn deinit(handle: NonNull<Handle>) {
    // SAFETY: `handle` points to a live `Handle` that no one else references during this call
    // (header rule); it is dropped once, after which only its plain `magic` field is written
    // and later read through raw pointers.
    unsafe {
        core::ptr::drop_in_place(handle.as_ptr());
        addr_of_mut!((*handle.as_ptr()).magic).write(DEAD);
    }
}

/// Frees a client made by `imds_client_new()`. NULL does nothing; never free a client twice. A
/// client made by `imds_client_init()` is deinitialised instead (its storage is the caller's).
#[unsafe(no_mangle)]
pub extern "C" fn imds_client_free(client: *mut imds_client) {
    ffi_boundary! {
        let Some(handle) = NonNull::new(client.cast::<Handle>()) else {
            return;
        };
        if !is_live(handle) {
            return;
        }
        // SAFETY: `handle` is a live `Handle` (checked): the `on_heap` field is initialised.
        let on_heap = unsafe { addr_of!((*handle.as_ptr()).on_heap).read() };
        if on_heap {
            // SAFETY: a live heap client comes from `Box::into_raw` in `imds_client_new()` and
            // the header forbids freeing it twice.
            drop(unsafe { Box::from_raw(handle.as_ptr()) });
        } else {
            deinit(handle);
        }
    }
}

/// Stores in `*settings_out` a pointer to the settings the client uses (for
/// `imds_settings_report()`); it is valid as long as the client and must not be freed.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_NOT_INITIALIZED`.
#[unsafe(no_mangle)]
pub extern "C" fn imds_client_settings(
    client: *const imds_client,
    settings_out: *mut *const imds_settings,
) -> imds_result {
    ffi_boundary! {
        failure::result_of((|| {
            let handle = live_ref(client)?;
            let out = ffi::try_out(settings_out)?;
            ffi::write_out(out, ffi::lend::<imds_settings>(handle.client.settings()));
            Ok(())
        })())
    }
}

/// Starts fetching credentials. `now_ms` is the host's monotonic clock in milliseconds (the same
/// clock for every call on this client, never going back); `wall_secs` is the wall-clock time in
/// seconds since the Unix epoch (`time(NULL)`), against which expirations are compared. Fresh
/// cached credentials finish the operation at once (the first poll says `DONE`).
///
/// Errors: `IMDS_RESULT_DISABLED` (IMDS is disabled: make no request);
/// `IMDS_RESULT_INVALID_STATE` (an operation is running: poll it to the end or cancel it).
#[unsafe(no_mangle)]
pub extern "C" fn imds_client_start_credentials(
    client: *mut imds_client,
    now_ms: u64,
    wall_secs: i64,
) -> imds_result {
    ffi_boundary! {
        with_client(client, |handle| {
            let now = Instant::from_millis(now_ms);
            Ok(handle.client.start_credentials(now, UnixTime::from_secs(wall_secs))?)
        })
    }
}

/// Starts reading a metadata path (`path_len` bytes of UTF-8, not NUL-terminated, copied):
/// relative to `/latest/meta-data/` (`placement/region`, `instance-id`) or absolute when it
/// starts with `/latest/`.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_INVALID_ARGUMENT` (empty, too long, spaces,
/// not UTF-8); `IMDS_RESULT_DISABLED`; `IMDS_RESULT_INVALID_STATE`.
#[unsafe(no_mangle)]
pub extern "C" fn imds_client_start_get(
    client: *mut imds_client,
    now_ms: u64,
    path: *const c_char,
    path_len: usize,
) -> imds_result {
    ffi_boundary! {
        with_client(client, |handle| {
            let path = ffi::try_str(path, path_len, "the metadata path is not valid UTF-8")?;
            Ok(handle.client.start_get(Instant::from_millis(now_ms), path)?)
        })
    }
}

/// Stores in `*action_out` what to do next (see `imds_action_kind`). A result other than
/// `IMDS_RESULT_OK` ends the operation: close the connection if one is open; the message is in
/// `imds_client_last_error()`. Polling again after `DONE` or an error repeats it.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_NOT_INITIALIZED`; every error of the
/// exchange (`IMDS_RESULT_CONNECT_FAILED`, `IMDS_RESULT_TIMEOUT`, `IMDS_RESULT_NO_ROLE`, ...);
/// `IMDS_RESULT_INVALID_STATE` when no operation was started or `now_ms` went back.
#[unsafe(no_mangle)]
pub extern "C" fn imds_client_poll(
    client: *mut imds_client,
    now_ms: u64,
    action_out: *mut imds_action,
) -> imds_result {
    ffi_boundary! {
        with_client(client, |handle| {
            let out = ffi::try_out(action_out)?;
            let action = handle.client.poll(Instant::from_millis(now_ms))?;
            let action = imds_action::from_core(&action).ok_or(Failure::Core(
                imds_core::Error::detail(
                    imds_core::ErrorKind::Unsupported,
                    "the core asked for an action this version of libimds does not know",
                ),
            ))?;
            ffi::write_out(out, action);
            Ok(())
        })
    }
}

/// Reports that the connection asked for by `IMDS_ACTION_KIND_CONNECT` is open.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_NOT_INITIALIZED`;
/// `IMDS_RESULT_INVALID_STATE` (no connect pending, or `now_ms` went back).
#[unsafe(no_mangle)]
pub extern "C" fn imds_client_handle_connected(
    client: *mut imds_client,
    now_ms: u64,
) -> imds_result {
    ffi_boundary! {
        with_client(client, |handle| {
            Ok(handle.client.handle_connected(Instant::from_millis(now_ms))?)
        })
    }
}

/// Reports that, instead of connecting for `IMDS_ACTION_KIND_CONNECT`, the host handed over an
/// open keep-alive connection to the same host, port and scheme that it kept from an earlier
/// exchange (a pool shared by clients). As `imds_client_handle_connected()`, except that the
/// server may have closed it while idle: a request that fails on it before any byte comes back is
/// sent again, once, on a new connection.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_NOT_INITIALIZED`;
/// `IMDS_RESULT_INVALID_STATE` (no connect pending, or `now_ms` went back).
#[unsafe(no_mangle)]
pub extern "C" fn imds_client_handle_connected_reused(
    client: *mut imds_client,
    now_ms: u64,
) -> imds_result {
    ffi_boundary! {
        with_client(client, |handle| {
            Ok(handle.client.handle_connected_reused(Instant::from_millis(now_ms))?)
        })
    }
}

/// Feeds `len` bytes that arrived on the connection (copied; any length, including more than the
/// receive buffer, which ends the operation with `IMDS_RESULT_RESPONSE_TOO_LARGE` at the next
/// poll). `data` must not be NULL, even for `len == 0`. While a `SEND` is pending, they are bytes
/// found before the request was written: no request asked for them, so the client closes the
/// connection and sends the request on a new one.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_NOT_INITIALIZED`;
/// `IMDS_RESULT_INVALID_STATE` (no receive or send pending, or `now_ms` went back).
#[unsafe(no_mangle)]
pub extern "C" fn imds_client_handle_data(
    client: *mut imds_client,
    now_ms: u64,
    data: *const u8,
    len: usize,
) -> imds_result {
    ffi_boundary! {
        with_client(client, |handle| {
            let data = ffi::try_bytes(data, len)?;
            Ok(handle.client.handle_data(Instant::from_millis(now_ms), data)?)
        })
    }
}

/// Reports that the peer closed the connection (a read returned 0), while a `RECEIVE` is pending,
/// or found closed before the request of a pending `SEND` was written.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_NOT_INITIALIZED`;
/// `IMDS_RESULT_INVALID_STATE` (no receive or send pending).
#[unsafe(no_mangle)]
pub extern "C" fn imds_client_handle_eof(client: *mut imds_client, now_ms: u64) -> imds_result {
    ffi_boundary! {
        with_client(client, |handle| Ok(handle.client.handle_eof(Instant::from_millis(now_ms))?))
    }
}

/// Reports that connecting, sending or receiving failed; `error` is an `IMDS_IO_ERROR_*` constant.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_NOT_INITIALIZED`;
/// `IMDS_RESULT_INVALID_ARGUMENT` (unknown `error`); `IMDS_RESULT_INVALID_STATE` (no I/O pending).
#[unsafe(no_mangle)]
pub extern "C" fn imds_client_handle_io_error(
    client: *mut imds_client,
    now_ms: u64,
    error: u32,
) -> imds_result {
    ffi_boundary! {
        with_client(client, |handle| {
            let error = io_error_from_c(error)?;
            Ok(handle.client.handle_io_error(Instant::from_millis(now_ms), error)?)
        })
    }
}

/// Reports that the deadline of the pending connect, send or receive passed.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_NOT_INITIALIZED`;
/// `IMDS_RESULT_INVALID_STATE` (nothing pending).
#[unsafe(no_mangle)]
pub extern "C" fn imds_client_handle_timeout(client: *mut imds_client, now_ms: u64) -> imds_result {
    ffi_boundary! {
        with_client(client, |handle| {
            Ok(handle.client.handle_timeout(Instant::from_millis(now_ms))?)
        })
    }
}

/// Reports that the connection is gone without the client asking: the host closed it on its
/// own, or saw the server close it while the client was not using it (between operations, after
/// an operation started but before its first action, or during a `WAIT`). The next request
/// connects anew, and no request is logged that was never sent.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_NOT_INITIALIZED`;
/// `IMDS_RESULT_INVALID_STATE` (a connect, send or receive is pending: report its failure with
/// `imds_client_handle_io_error()` or `imds_client_handle_eof()`).
#[unsafe(no_mangle)]
pub extern "C" fn imds_client_handle_closed(client: *mut imds_client) -> imds_result {
    ffi_boundary! {
        with_client(client, |handle| Ok(handle.client.handle_closed()?))
    }
}

/// Ends the running operation, if any, with `IMDS_RESULT_UNSUPPORTED`: for a driver that cannot
/// carry out an action (e.g. `tls` without a TLS library). The client keeps its caches and
/// forgets the connection; the message (`imds_client_last_error()`) is the one every `imds`
/// command prints for an `https` endpoint. Returns `IMDS_RESULT_UNSUPPORTED` (or
/// `IMDS_RESULT_NULL_PARAMETER` / `IMDS_RESULT_NOT_INITIALIZED`), so a driver can return it as is.
#[unsafe(no_mangle)]
pub extern "C" fn imds_client_handle_unsupported(client: *mut imds_client) -> imds_result {
    ffi_boundary! {
        with_client(client, |handle| {
            handle.client.cancel();
            Err(Failure::Core(imds_core::Error::detail(
                imds_core::ErrorKind::Unsupported,
                imds_core::blocking::HTTPS_UNSUPPORTED,
            )))
        })
    }
}

/// Abandons the running operation, if any, keeping the caches; close the connection too.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_NOT_INITIALIZED`.
#[unsafe(no_mangle)]
pub extern "C" fn imds_client_cancel(client: *mut imds_client) -> imds_result {
    ffi_boundary! {
        with_client(client, |handle| {
            handle.client.cancel();
            Ok(())
        })
    }
}

/// Forgets everything learned from IMDS (the token, the IMDSv1 fallback, the role name, the
/// extended-API state, the credentials and any static-stability pause) and abandons the running
/// operation; settings, binding name and seed stay. The next credentials operation is a full
/// exchange. Close the connection too.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_NOT_INITIALIZED`.
#[unsafe(no_mangle)]
pub extern "C" fn imds_client_reset(client: *mut imds_client) -> imds_result {
    ffi_boundary! {
        with_client(client, |handle| {
            handle.client.reset();
            handle.pending_diagnostic = None;
            Ok(())
        })
    }
}

/// Names the program in `User-Agent: imds/<version> (<name>)` (`name_len` bytes of UTF-8, not
/// NUL-terminated, copied); a new client says `c`. Characters other than ASCII letters, digits
/// and `.-_/+` are dropped and the name is cut at 32 bytes.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_NOT_INITIALIZED`;
/// `IMDS_RESULT_INVALID_ARGUMENT` (not UTF-8).
#[unsafe(no_mangle)]
pub extern "C" fn imds_client_set_binding(
    client: *mut imds_client,
    name: *const c_char,
    name_len: usize,
) -> imds_result {
    ffi_boundary! {
        with_client(client, |handle| {
            let name = ffi::try_str(name, name_len, "the binding name is not valid UTF-8")?;
            handle.client.set_binding(name);
            Ok(())
        })
    }
}

/// Stores in `*credentials_out` views of the credentials of the last successful credentials
/// operation. The views are valid until the next call that takes the client as non-`const`.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_NOT_INITIALIZED`;
/// `IMDS_RESULT_NOT_AVAILABLE` (no credentials fetched yet).
#[unsafe(no_mangle)]
pub extern "C" fn imds_client_credentials(
    client: *const imds_client,
    credentials_out: *mut imds_credentials,
) -> imds_result {
    ffi_boundary! {
        failure::result_of((|| {
            let handle = live_ref(client)?;
            let out = ffi::try_out(credentials_out)?;
            let credentials = handle.client.credentials().ok_or(imds_result::NotAvailable)?;
            ffi::write_out(out, imds_credentials::borrow(credentials));
            Ok(())
        })())
    }
}

/// Writes the credentials as the `credential_process` JSON the `imds` command prints (one line,
/// no newline, no NUL) into `buf` (`len` bytes) and its length into `*written_out`.
/// `IMDS_CREDENTIALS_JSON_CAPACITY` bytes always suffice. The JSON holds secrets.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_NOT_INITIALIZED`;
/// `IMDS_RESULT_NOT_AVAILABLE`; `IMDS_RESULT_INSUFFICIENT_SIZE` (nothing written).
#[unsafe(no_mangle)]
pub extern "C" fn imds_client_credentials_json(
    client: *const imds_client,
    buf: *mut u8,
    len: usize,
    written_out: *mut usize,
) -> imds_result {
    ffi_boundary! {
        failure::result_of((|| {
            let handle = live_ref(client)?;
            let credentials = handle.client.credentials().ok_or(imds_result::NotAvailable)?;
            ffi::write_text(buf, len, written_out, |out| credentials.write_process_json(out))
        })())
    }
}

/// Stores in `*body_out` a view of the body of the last successful metadata read; valid until the
/// next call that takes the client as non-`const`.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_NOT_INITIALIZED`;
/// `IMDS_RESULT_NOT_AVAILABLE` (the last operation was not a successful read).
#[unsafe(no_mangle)]
pub extern "C" fn imds_client_body(
    client: *const imds_client,
    body_out: *mut imds_bytes,
) -> imds_result {
    ffi_boundary! {
        failure::result_of((|| {
            let handle = live_ref(client)?;
            let out = ffi::try_out(body_out)?;
            let body = handle.client.body().ok_or(imds_result::NotAvailable)?;
            ffi::write_out(out, imds_bytes::borrow(body));
            Ok(())
        })())
    }
}

/// Takes the oldest queued diagnostic (fallbacks, retries, each request and status): writes its
/// text (never a secret; no NUL) into `buf` (`len` bytes), the length into `*written_out` and its
/// level into `*level_out`. Drain the queue after each poll: it keeps the last
/// `IMDS_DIAGNOSTIC_CAPACITY` (8), dropping the oldest.
/// `IMDS_TEXT_CAPACITY` bytes always suffice; when the buffer is too small the diagnostic stays
/// queued.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_NOT_INITIALIZED`;
/// `IMDS_RESULT_NOT_AVAILABLE` (queue empty); `IMDS_RESULT_INSUFFICIENT_SIZE`.
#[unsafe(no_mangle)]
pub extern "C" fn imds_client_next_diagnostic(
    client: *mut imds_client,
    buf: *mut u8,
    len: usize,
    written_out: *mut usize,
    level_out: *mut imds_level,
) -> imds_result {
    ffi_boundary! {
        // A getter: its failures (queue empty, small buffer) do not replace the last error.
        failure::result_of(live_mut(client).and_then(|handle| {
            let level_out = ffi::try_out(level_out)?;
            if buf.is_null() || written_out.is_null() {
                return Err(Failure::Code(imds_result::NullParameter));
            }
            let diagnostic = handle.peek_diagnostic().ok_or(imds_result::NotAvailable)?;
            ffi::write_text(buf, len, written_out, |out| write!(out, "{diagnostic}"))?;
            ffi::write_out(level_out, imds_level::from(diagnostic.level()));
            handle.pending_diagnostic = None;
            Ok(())
        }))
    }
}

/// Like `imds_client_next_diagnostic()`, but writes the line `imds --trace` prints on stderr:
/// `imds: <level>: <text>\n`.
#[unsafe(no_mangle)]
pub extern "C" fn imds_client_next_trace_line(
    client: *mut imds_client,
    buf: *mut u8,
    len: usize,
    written_out: *mut usize,
) -> imds_result {
    ffi_boundary! {
        // A getter: its failures (queue empty, small buffer) do not replace the last error.
        failure::result_of(live_mut(client).and_then(|handle| {
            if buf.is_null() || written_out.is_null() {
                return Err(Failure::Code(imds_result::NullParameter));
            }
            let diagnostic = handle.peek_diagnostic().ok_or(imds_result::NotAvailable)?;
            ffi::write_text(buf, len, written_out, |out| {
                imds_core::cli::write_diagnostic_line(&diagnostic, out)
            })?;
            handle.pending_diagnostic = None;
            Ok(())
        }))
    }
}

/// Copies the message of the client's most recent failure into `buf` (`len` bytes; no NUL) and
/// its length into `*written_out`: the core's full sentence, saying what is wrong and what to do,
/// never a secret. Failures of the functions that start, drive, feed or cancel an operation are
/// recorded; getters such as `imds_client_credentials()` leave the last error alone. `IMDS_TEXT_CAPACITY` bytes always suffice.
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_NOT_INITIALIZED`;
/// `IMDS_RESULT_NOT_AVAILABLE` (nothing failed yet); `IMDS_RESULT_INSUFFICIENT_SIZE`.
#[unsafe(no_mangle)]
pub extern "C" fn imds_client_last_error(
    client: *const imds_client,
    buf: *mut u8,
    len: usize,
    written_out: *mut usize,
) -> imds_result {
    ffi_boundary! {
        failure::write_last_error(live_ref(client), Rendering::Message, buf, len, written_out)
    }
}

/// Like `imds_client_last_error()`, but writes the line the `imds` command prints on stderr:
/// `imds: <message>\n`.
#[unsafe(no_mangle)]
pub extern "C" fn imds_client_last_error_line(
    client: *const imds_client,
    buf: *mut u8,
    len: usize,
    written_out: *mut usize,
) -> imds_result {
    ffi_boundary! {
        failure::write_last_error(live_ref(client), Rendering::Line, buf, len, written_out)
    }
}
