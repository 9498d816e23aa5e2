//! The `imds` command contract, exposed so `python -m imds` prints what the Rust and C commands
//! print: arguments are parsed by [`imds_core::cli::parse_args`], and every line comes from the core's
//! writers (here and on `Credentials`, `Settings`, `Diagnostic` and `CoreError`).

use imds_core::chain::ChainOutcome;
use imds_core::cli::{self, Command};
use pyo3::create_exception;
use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::prelude::*;

create_exception!(
    _imds,
    CommandLineError,
    PyValueError,
    "The command line does not follow the usage; `str(error)` is the whole stderr line."
);

/// A parsed command line.
#[pyclass(frozen, get_all, module = "imds._imds", name = "Invocation")]
pub struct Invocation {
    /// `credentials`, `settings`, `get`, `help` or `version`.
    command: &'static str,
    /// The metadata path of `get`.
    path: Option<String>,
    /// Whether `--trace` was given.
    trace: bool,
}

#[pymethods]
impl Invocation {
    fn __repr__(&self) -> String {
        format!(
            "Invocation(command={}, path={}, trace={})",
            crate::quote(self.command),
            self.path.as_deref().map_or("None".to_owned(), crate::quote),
            crate::py_bool(self.trace)
        )
    }
}

/// Parses the arguments after the program name. Raises `CommandLineError` carrying the stderr line
/// (`imds: …\n`) for a command line that does not follow the usage.
#[pyfunction]
pub fn parse_args(args: Vec<String>) -> PyResult<Invocation> {
    match cli::parse_args(args.iter().map(String::as_str)) {
        Ok(invocation) => {
            let (command, path) = match invocation.command {
                Command::Credentials => ("credentials", None),
                Command::Settings => ("settings", None),
                Command::Get(path) => ("get", Some(path.to_owned())),
                Command::Help => ("help", None),
                Command::Version => ("version", None),
            };
            Ok(Invocation {
                command,
                path,
                trace: invocation.trace,
            })
        }
        Err(error) => {
            let mut line = String::new();
            cli::write_usage_error_line(&error, &mut line).map_err(crate::format_failed)?;
            Err(CommandLineError::new_err(line))
        }
    }
}

/// The `--help` text of the `imds` command (every implementation prints it unchanged).
#[pyfunction]
pub fn help_text() -> PyResult<String> {
    let mut text = String::new();
    cli::write_help(&mut text).map_err(crate::format_failed)?;
    Ok(text)
}

/// The `--version` line of the `imds` command, `imds <version>\n`.
#[pyfunction]
pub fn version_line() -> PyResult<String> {
    let mut line = String::new();
    cli::write_version(&mut line).map_err(crate::format_failed)?;
    Ok(line)
}

/// How an SDK credential chain treats an error of `kind` (an `ImdsError.kind`):
/// `next_provider`, `next_provider_with_warning` or `stop` (see `imds_core::chain`).
#[pyfunction]
pub fn chain_outcome(kind: &str) -> PyResult<&'static str> {
    crate::error::kind_named(kind)
        .map(|kind| ChainOutcome::of(kind).as_str())
        .ok_or_else(|| PyKeyError::new_err(kind.to_owned()))
}

/// The exit status of the `imds` command for an error of `kind` (an `ImdsError.kind`).
#[pyfunction]
pub fn exit_code(kind: &str) -> PyResult<u8> {
    crate::error::kind_named(kind)
        .map(cli::exit_code)
        .ok_or_else(|| PyKeyError::new_err(kind.to_owned()))
}
