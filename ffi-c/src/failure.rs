//! Why an export failed ([`Failure`]), and the last failure an object keeps for its
//! `_last_error` / `_last_error_line` functions ([`LastError`]): the one place that records a
//! failure and writes its message, for clients and configurations alike.

use core::fmt;
use core::ptr::NonNull;

use imds_core::{Error, ErrorKind};

use crate::ffi;
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

/// The result code of an outcome (for calls whose failure is not recorded: getters, and calls
/// that make or free objects).
pub(crate) fn result_of<T>(outcome: Result<T, Failure>) -> imds_result {
    outcome
        .err()
        .map_or(imds_result::Ok, |failure| failure.result())
}

/// The most recent failure of an object (a client, a configuration), kept so that C can fetch
/// its message after the call that returned the code.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct LastError(Option<Failure>);

/// How [`LastError::write`] renders the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rendering {
    /// The core's sentence (`imds_*_last_error()`).
    Message,
    /// The line the `imds` command prints on stderr, `imds: <message>\n`
    /// (`imds_*_last_error_line()`).
    Line,
}

impl LastError {
    /// The result code of `outcome`; a failure becomes the last error.
    pub(crate) fn record<T>(&mut self, outcome: Result<T, Failure>) -> imds_result {
        match outcome {
            Ok(_) => imds_result::Ok,
            Err(failure) => {
                self.0 = Some(failure);
                failure.result()
            }
        }
    }

    /// Writes the last failure's message into `buf` (`len` bytes) and its length into
    /// `*written_out` (see [`ffi::write_text`]); `IMDS_RESULT_NOT_AVAILABLE` when nothing failed.
    pub(crate) fn write(
        &self,
        rendering: Rendering,
        buf: *mut u8,
        len: usize,
        written_out: *mut usize,
    ) -> Result<(), Failure> {
        let failure = self.0.ok_or(Failure::Code(imds_result::NotAvailable))?;
        ffi::write_text(buf, len, written_out, |out| match rendering {
            Rendering::Message => failure.write_message(out),
            Rendering::Line => failure.write_line(out),
        })
    }
}

/// An object that keeps its last failure (a client's `Handle`, a configuration's `Config`).
pub(crate) trait KeepsLastError {
    /// Its last failure.
    fn last_error(&self) -> &LastError;
    /// Where the last failure of the object at `object` is, projected without borrowing the
    /// object (see [`recorded`]). `object` must point to a live object.
    fn last_error_slot(object: NonNull<Self>) -> NonNull<LastError>;
}

/// Runs `call` on `object` (already checked for NULL and liveness, else that failure is the
/// result) and records a failure as the object's last error.
///
/// Recording borrows only the last-error field: the views `call` may have handed to C (an
/// action's host and request bytes point into the client) must stay valid after the export
/// returns, and a new borrow of the whole object would end them (undefined behaviour that Miri
/// reports under Stacked Borrows).
pub(crate) fn recorded<O: KeepsLastError>(
    object: Result<&mut O, Failure>,
    call: impl FnOnce(&mut O) -> Result<(), Failure>,
) -> imds_result {
    match object {
        Ok(object) => {
            let object = NonNull::from(object);
            // SAFETY: `object` comes from the `&mut O` passed in, which nothing else uses during
            // this call.
            let outcome = call(unsafe { &mut *object.as_ptr() });
            // SAFETY: `call`'s borrow has ended; the slot is a field of the live object, borrowed
            // alone.
            unsafe { &mut *O::last_error_slot(object).as_ptr() }.record(outcome)
        }
        Err(failure) => failure.result(),
    }
}

/// The body of every `_last_error` / `_last_error_line` function: writes `object`'s last failure
/// as `rendering` says.
pub(crate) fn write_last_error<O: KeepsLastError>(
    object: Result<&O, Failure>,
    rendering: Rendering,
    buf: *mut u8,
    len: usize,
    written_out: *mut usize,
) -> imds_result {
    result_of(object.and_then(|object| object.last_error().write(rendering, buf, len, written_out)))
}
