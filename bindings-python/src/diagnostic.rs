//! Diagnostics as frozen Python objects, logged by the Python layer through `logging`.

use imds_core::cli;
use imds_core::diagnostic::Level;
use pyo3::prelude::*;

/// One thing that happened during an operation (a request, a fallback, a retry, …). Never contains
/// a secret.
#[pyclass(frozen, module = "imds._imds", name = "Diagnostic")]
pub struct Diagnostic {
    pub(crate) inner: imds_core::Diagnostic,
}

#[pymethods]
impl Diagnostic {
    /// `trace`, `info` or `warning`.
    #[getter]
    fn level(&self) -> &'static str {
        match self.inner.level() {
            Level::Trace => "trace",
            Level::Info => "info",
            Level::Warn => "warning",
        }
    }

    /// What happened, in one sentence.
    #[getter]
    fn message(&self) -> String {
        self.inner.to_string()
    }

    /// The `--trace` line of the `imds` command (`imds: <level>: <message>\n`).
    fn line(&self) -> PyResult<String> {
        let mut out = String::new();
        cli::write_diagnostic_line(&self.inner, &mut out).map_err(crate::format_failed)?;
        Ok(out)
    }

    fn __repr__(&self) -> String {
        format!(
            "Diagnostic(level={}, message={})",
            crate::quote(self.level()),
            crate::quote(&self.message())
        )
    }

    fn __str__(&self) -> String {
        self.message()
    }
}
