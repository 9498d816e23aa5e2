//! Pointer handling shared by every export: NULL checks, opaque handles and who owns what they
//! point to, out-parameters and caller buffers. Each function here documents what the C caller
//! must guarantee; the header repeats it for the functions that take such pointers.
//!
//! Ownership is typed, as in rustls-ffi: each opaque C type says through [`Castable::Ownership`]
//! how the library hands it out, and only the functions valid for that kind compile for it.
//! [`OwnershipBox`] types (`imds_config`, `imds_settings`) are made by [`set_boxed`] and freed by
//! [`free_box`]; a client ([`OwnershipPlaced`]) lives in the library's box or in caller storage
//! and is reached only through the liveness check of `client.rs`, so neither `free_box` nor
//! [`try_ref`] compiles for it. Any castable value may be lent ([`lend`]) as a pointer that C must
//! not free.

use core::ffi::c_char;
use core::fmt;
use core::mem::MaybeUninit;
use core::ptr::NonNull;

use imds_core::{Error, ErrorKind};

use crate::failure::Failure;
use crate::result::imds_result;

/// How the library hands out the objects of an opaque C type.
pub(crate) trait Ownership {}

/// Made on the heap by a `_new` function ([`set_boxed`]); C frees it exactly once with the type's
/// `_free` ([`free_box`]). Pointers to it may also be lent.
pub(crate) enum OwnershipBox {}

/// Lives in the library's box or in storage the caller provides, told apart at run time; reached
/// only through the checks of the type's own module (a client's liveness mark).
pub(crate) enum OwnershipPlaced {}

impl Ownership for OwnershipBox {}
impl Ownership for OwnershipPlaced {}

/// Ties an opaque C type to the Rust value behind its pointers and to how it is owned.
pub(crate) trait Castable {
    /// [`OwnershipBox`] or [`OwnershipPlaced`].
    type Ownership: Ownership;
    /// The Rust type a pointer to the C type really points to.
    type Rust;
}

/// Borrows the object behind a `const` handle; NULL is `IMDS_RESULT_NULL_PARAMETER`.
pub(crate) fn try_ref<'a, C: Castable<Ownership = OwnershipBox>>(
    ptr: *const C,
) -> Result<&'a C::Rust, Failure> {
    // SAFETY: the header requires every non-NULL handle to come from this library, made for that
    // type (boxed by its constructor or lent by a getter) and alive (not freed, its lender alive);
    // the library never hands out a handle to anything else, so it points to a valid, aligned
    // `C::Rust`, not mutated during this call.
    unsafe { ptr.cast::<C::Rust>().as_ref() }.ok_or(Failure::Code(imds_result::NullParameter))
}

/// Mutably borrows the object behind a handle; NULL is `IMDS_RESULT_NULL_PARAMETER`.
pub(crate) fn try_mut<'a, C: Castable<Ownership = OwnershipBox>>(
    ptr: *mut C,
) -> Result<&'a mut C::Rust, Failure> {
    // SAFETY: as in `try_ref`; additionally the header says an object may not be used from two
    // threads at once, so this is the only reference during the call.
    unsafe { ptr.cast::<C::Rust>().as_mut() }.ok_or(Failure::Code(imds_result::NullParameter))
}

/// Moves `value` to the heap and stores the handle in `out`: the only way a boxed handle is made.
pub(crate) fn set_boxed<C: Castable<Ownership = OwnershipBox>>(
    out: NonNull<*mut C>,
    value: C::Rust,
) {
    write_out(out, Box::into_raw(Box::new(value)).cast::<C>());
}

/// Frees a handle made by [`set_boxed`]; NULL does nothing.
pub(crate) fn free_box<C: Castable<Ownership = OwnershipBox>>(ptr: *mut C) {
    if !ptr.is_null() {
        // SAFETY: the header requires `ptr` to come from this type's `_new` (not a lent pointer)
        // and to be freed once; such pointers come from `Box::into_raw` of a `C::Rust` in
        // `set_boxed`.
        drop(unsafe { Box::from_raw(ptr.cast::<C::Rust>()) });
    }
}

/// Lends `value` to C as a handle that stays valid as long as `value` and must not be freed.
pub(crate) fn lend<C: Castable>(value: &C::Rust) -> *const C {
    let lent: *const C::Rust = value;
    lent.cast::<C>()
}

/// Checks an out-parameter; NULL is `IMDS_RESULT_NULL_PARAMETER`.
pub(crate) fn try_out<T>(ptr: *mut T) -> Result<NonNull<T>, Failure> {
    NonNull::new(ptr).ok_or(Failure::Code(imds_result::NullParameter))
}

/// Writes an output; call only once the function is sure to succeed.
pub(crate) fn write_out<T>(out: NonNull<T>, value: T) {
    // SAFETY: the header requires out-parameters to point to writable, aligned storage for a `T`
    // (which may be uninitialised: `write` does not read or drop the old value).
    unsafe { out.as_ptr().write(value) }
}

/// Borrows `len` bytes at `ptr`; NULL is `IMDS_RESULT_NULL_PARAMETER` (even for `len == 0`), a
/// length no buffer can have is `IMDS_RESULT_INVALID_ARGUMENT`.
pub(crate) fn try_bytes<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], Failure> {
    if ptr.is_null() {
        return Err(Failure::Code(imds_result::NullParameter));
    }
    if isize::try_from(len).is_err() {
        return Err(Failure::invalid_argument(
            "the length is larger than any buffer can be",
        ));
    }
    // SAFETY: the header requires `ptr` to point to `len` readable bytes that stay unchanged
    // during the call; it is not NULL and `len` fits in `isize` (checked above).
    Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// Borrows a UTF-8 string given as pointer + length; bytes that are not UTF-8 are
/// `IMDS_RESULT_INVALID_ARGUMENT` with `what` in the message.
pub(crate) fn try_str<'a>(
    ptr: *const c_char,
    len: usize,
    not_utf8: &'static str,
) -> Result<&'a str, Failure> {
    let bytes = try_bytes(ptr.cast::<u8>(), len)?;
    core::str::from_utf8(bytes).map_err(|_| Failure::invalid_argument(not_utf8))
}

/// Copies `bytes` into the caller buffer `buf` of `len` bytes; when they do not fit, writes
/// nothing and fails with `IMDS_RESULT_BUFFER_TOO_SMALL`.
pub(crate) fn copy_bytes(buf: NonNull<u8>, len: usize, bytes: &[u8]) -> Result<(), Failure> {
    if bytes.len() > len {
        return Err(Failure::Code(imds_result::BufferTooSmall));
    }
    // SAFETY: the header requires `buf` to point to `len` writable bytes that do not overlap
    // the library's objects (which `bytes` lives in); `bytes.len() <= len` (checked above).
    unsafe {
        buf.as_ptr()
            .copy_from_nonoverlapping(bytes.as_ptr(), bytes.len())
    };
    Ok(())
}

/// Counts what a renderer writes, without storing it.
struct Counter(usize);

impl fmt::Write for Counter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 = self.0.checked_add(s.len()).ok_or(fmt::Error)?;
        Ok(())
    }
}

/// Writes into caller memory that may be uninitialised.
struct Filler<'a> {
    buf: &'a mut [MaybeUninit<u8>],
    len: usize,
}

impl fmt::Write for Filler<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        let slot = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        for (dst, src) in slot.iter_mut().zip(s.bytes()) {
            dst.write(src);
        }
        self.len = end;
        Ok(())
    }
}

/// Renders text into a caller buffer of `len` bytes and stores the length in `written_out`.
///
/// Nothing is written unless the whole text fits (`IMDS_RESULT_INSUFFICIENT_SIZE` otherwise): the
/// renderer runs once to measure and once to write. No NUL is appended.
pub(crate) fn write_text(
    buf: *mut u8,
    len: usize,
    written_out: *mut usize,
    render: impl Fn(&mut dyn fmt::Write) -> fmt::Result,
) -> Result<(), Failure> {
    let buf = NonNull::new(buf).ok_or(Failure::Code(imds_result::NullParameter))?;
    let written_out = try_out(written_out)?;
    let mut counter = Counter(0);
    render(&mut counter).map_err(|_| rendering_failed())?;
    let needed = counter.0;
    if needed > len {
        return Err(Failure::Code(imds_result::InsufficientSize));
    }
    // SAFETY: the header requires `buf` to point to `len` writable bytes; `needed <= len`, and a
    // rendered text is never longer than `isize::MAX`. `MaybeUninit` makes no claim about the old
    // contents.
    let slice =
        unsafe { core::slice::from_raw_parts_mut(buf.as_ptr().cast::<MaybeUninit<u8>>(), needed) };
    let mut filler = Filler { buf: slice, len: 0 };
    render(&mut filler).map_err(|_| rendering_failed())?;
    if filler.len != needed {
        return Err(rendering_failed());
    }
    write_out(written_out, needed);
    Ok(())
}

fn rendering_failed() -> Failure {
    Failure::Core(Error::detail(
        ErrorKind::InvalidState,
        "the text could not be rendered",
    ))
}
