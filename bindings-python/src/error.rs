//! Core errors as Python exceptions.
//!
//! The exception classes live in pure Python (`imds/errors.py`), where a class can also derive from
//! a built-in such as `TimeoutError`. This module wraps the core's [`imds_core::Error`] in a frozen
//! [`CoreError`] and asks `imds.errors._from_core` for the matching exception instance, so each
//! [`ErrorKind`] reaches Python as its own `imds.ImdsError` subclass whose message is the core's
//! `Display` and whose `.kind` is [`ErrorKind::as_str`].

use imds_core::cli;
use imds_core::error::{Context, ErrorKind};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

/// The details of an error from the core, attached to every `imds.ImdsError` as `_core`.
#[pyclass(frozen, module = "imds._imds", name = "CoreError")]
pub struct CoreError {
    error: imds_core::Error,
}

#[pymethods]
impl CoreError {
    /// The stable `snake_case` kind, e.g. `"timeout"`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.error.kind().as_str()
    }

    /// The frozen number of the kind (the C ABI's `imds_result`).
    #[getter]
    fn number(&self) -> u16 {
        self.error.kind().number()
    }

    /// The sentence that says what is wrong and what to do.
    #[getter]
    fn message(&self) -> String {
        self.error.to_string()
    }

    /// The HTTP status the error is about, when there was one.
    #[getter]
    fn status(&self) -> Option<u16> {
        match self.error.context() {
            Context::Step { status, .. } if *status != 0 => Some(*status),
            _ => None,
        }
    }

    /// The exit status of the `imds` command for this error.
    #[getter]
    fn exit_code(&self) -> u8 {
        cli::exit_code(self.error.kind())
    }

    /// The stderr line of the `imds` command for this error (`imds: …\n`).
    fn line(&self) -> PyResult<String> {
        let mut out = String::new();
        cli::write_error_line(&self.error, &mut out).map_err(crate::format_failed)?;
        Ok(out)
    }

    fn __repr__(&self) -> String {
        format!(
            "CoreError(kind={}, message={})",
            crate::quote(self.kind()),
            crate::quote(&self.message())
        )
    }
}

static FROM_CORE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The Python exception for a core error: an instance of the `imds.errors` class for its kind.
pub(crate) fn to_py_err(py: Python<'_>, error: imds_core::Error) -> PyErr {
    let raise = || -> PyResult<PyErr> {
        let from_core = FROM_CORE.import(py, "imds.errors", "_from_core")?;
        let core = Bound::new(py, CoreError { error })?;
        Ok(PyErr::from_value(from_core.call1((core,))?))
    };
    // Without the `imds` package (the native module used alone) the kind still reaches the caller.
    raise().unwrap_or_else(|_| PyValueError::new_err(format!("{}: {error}", error.kind().as_str())))
}

/// Maps a core result into a Python one.
pub(crate) fn check<T>(py: Python<'_>, result: Result<T, imds_core::Error>) -> PyResult<T> {
    result.map_err(|error| to_py_err(py, error))
}

/// The kind named `name`, if the core has one.
pub(crate) fn kind_named(name: &str) -> Option<ErrorKind> {
    ErrorKind::ALL
        .into_iter()
        .find(|kind| kind.as_str() == name)
}
