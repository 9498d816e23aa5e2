//! Pointer handling shared by every export: NULL checks, opaque handles, out-parameters and
//! caller buffers. Each function here documents what the C caller must guarantee; the header
//! repeats it for the functions that take such pointers.

use core::ffi::c_char;
use core::fmt;
use core::mem::MaybeUninit;
use core::ptr::NonNull;

use imds_core::{Error, ErrorKind};

use crate::result::imds_result;

/// Why an export failed: a code of the binding itself, or an error of the core (whose `Display`
/// becomes the object's last-error message).
// Kept by value: a failure is stored in the object it concerns, and boxing would allocate.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug)]
pub(crate) enum Failure {
    /// A binding-level result (NULL parameter, buffer too small, ...).
    Code(imds_result),
    /// An error of the core.
    Core(Error),
}

impl Failure {
    /// The result code C sees.
    pub(crate) fn result(&self) -> imds_result {
        match self {
            Self::Code(code) => *code,
            Self::Core(error) => imds_result::from(error.kind()),
        }
    }

    /// Writes the message: the core error's `Display`, or the code's description.
    pub(crate) fn write_message(&self, out: &mut dyn fmt::Write) -> fmt::Result {
        match self {
            Self::Core(error) => write!(out, "{error}"),
            Self::Code(code) => out.write_str(code.describe().to_str().unwrap_or("error")),
        }
    }

    /// Writes the `imds` command's stderr line for this failure: `imds: <message>\n`.
    pub(crate) fn write_line(&self, out: &mut dyn fmt::Write) -> fmt::Result {
        match self {
            Self::Core(error) => imds_core::cli::write_error_line(error, out),
            Self::Code(_) => {
                out.write_str("imds: ")?;
                self.write_message(out)?;
                out.write_char('\n')
            }
        }
    }

    /// An `InvalidArgument` error with a static explanation.
    pub(crate) const fn invalid_argument(detail: &'static str) -> Self {
        Self::Core(Error::detail(ErrorKind::InvalidArgument, detail))
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Self::Core(error)
    }
}

impl From<imds_result> for Failure {
    fn from(code: imds_result) -> Self {
        Self::Code(code)
    }
}

/// The result code of an outcome.
pub(crate) fn result_of<T>(outcome: Result<T, Failure>) -> imds_result {
    outcome
        .err()
        .map_or(imds_result::Ok, |failure| failure.result())
}

/// Ties an opaque C type to the Rust value behind its pointers.
pub(crate) trait Castable {
    /// The Rust type a pointer to the C type really points to.
    type Rust;
}

/// Borrows the object behind a `const` handle; NULL is `IMDS_RESULT_NULL_PARAMETER`.
pub(crate) fn try_ref<'a, C: Castable>(ptr: *const C) -> Result<&'a C::Rust, Failure> {
    // SAFETY: the header requires every non-NULL handle to come from this library's constructor
    // for that type and to be alive (not freed); the library never hands out a handle to
    // anything else, so it points to a valid, aligned `C::Rust`, not mutated during this call.
    unsafe { ptr.cast::<C::Rust>().as_ref() }.ok_or(Failure::Code(imds_result::NullParameter))
}

/// Mutably borrows the object behind a handle; NULL is `IMDS_RESULT_NULL_PARAMETER`.
pub(crate) fn try_mut<'a, C: Castable>(ptr: *mut C) -> Result<&'a mut C::Rust, Failure> {
    // SAFETY: as in `try_ref`; additionally the header says an object may not be used from two
    // threads at once, so this is the only reference during the call.
    unsafe { ptr.cast::<C::Rust>().as_mut() }.ok_or(Failure::Code(imds_result::NullParameter))
}

/// Moves `value` to the heap and returns it as an opaque handle.
pub(crate) fn to_box<C: Castable>(value: C::Rust) -> *mut C {
    Box::into_raw(Box::new(value)).cast::<C>()
}

/// Frees a handle made by [`to_box`]; NULL does nothing.
pub(crate) fn free_box<C: Castable>(ptr: *mut C) {
    if !ptr.is_null() {
        // SAFETY: the header requires `ptr` to come from this type's `_new` and to be freed once;
        // such pointers come from `Box::into_raw` of a `C::Rust` in `to_box`.
        drop(unsafe { Box::from_raw(ptr.cast::<C::Rust>()) });
    }
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
