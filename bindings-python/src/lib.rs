//! `imds._imds`: the native half of the Python package `imds`, over `imds-core`.
//!
//! The core decides everything (settings, the IMDSv2 exchange, caching, errors, the text of every
//! message); this module maps its types to Python ones, one Rust module per concept:
//!
//! * [`client`]: `Client`, `Action` (one class per variant, usable in `match`), `IoError`;
//! * [`settings`]: `Settings` with the source of every value;
//! * [`credentials`]: `Credentials`, whose `repr` redacts secrets;
//! * [`diagnostic`]: `Diagnostic`, logged by the Python layer;
//! * [`error`]: `CoreError` and the mapping of every core error to an `imds.ImdsError` subclass;
//! * [`cli`]: the `imds` command contract for `python -m imds`.
//!
//! The pure-Python package on top (`python/imds`) moves the bytes: blocking `socket` and `asyncio`
//! drivers, the thread-safe `Provider`, the botocore integration and the command.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

pub mod cli;
pub mod client;
pub mod credentials;
pub mod diagnostic;
pub mod error;
pub mod settings;

/// A writer of the core refused its output (never expected with a `String`).
pub(crate) fn format_failed(_: std::fmt::Error) -> PyErr {
    PyRuntimeError::new_err("imds-core could not format its output")
}

/// `text` as a Python string literal (`'…'`), for `__repr__`.
pub(crate) fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// `True` or `False`, for `__repr__`.
pub(crate) fn py_bool(value: bool) -> &'static str {
    if value { "True" } else { "False" }
}

/// Native part of the `imds` package: the sans-IO IMDS client of `imds-core`.
#[pymodule(gil_used = false)]
mod _imds {
    use imds_core::ErrorKind;
    use imds_core::cli as core_cli;
    use pyo3::prelude::*;

    #[pymodule_export]
    use crate::cli::{
        CommandLineError, Invocation, chain_outcome, exit_code, help_text, parse_args, version_line,
    };
    #[pymodule_export]
    use crate::client::{Action, Client, IoError};
    #[pymodule_export]
    use crate::credentials::Credentials;
    #[pymodule_export]
    use crate::diagnostic::Diagnostic;
    #[pymodule_export]
    use crate::error::CoreError;
    #[pymodule_export]
    use crate::settings::Settings;

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", imds_core::VERSION)?;
        m.add("USAGE", core_cli::USAGE)?;
        m.add("EXIT_SUCCESS", core_cli::EXIT_SUCCESS)?;
        m.add("EXIT_FETCH_FAILED", core_cli::EXIT_FETCH_FAILED)?;
        m.add("EXIT_USAGE", core_cli::EXIT_USAGE)?;
        m.add("EXIT_DISABLED", core_cli::EXIT_DISABLED)?;
        let kinds: Vec<&'static str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        m.add("ERROR_KINDS", kinds)?;
        Ok(())
    }
}
