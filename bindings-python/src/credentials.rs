//! Credentials as a frozen Python object whose `repr` never shows a secret.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

/// Temporary AWS credentials from the instance's role.
///
/// The secret access key and session token are readable as attributes but never appear in `repr`
/// or `str`, which show their lengths only. The core's copy inside this object is wiped when the
/// object is freed; the `str` objects the attributes return are Python's, immutable, and cannot
/// be wiped.
#[pyclass(frozen, eq, module = "imds._imds", name = "Credentials")]
#[derive(PartialEq)]
pub struct Credentials {
    pub(crate) inner: imds_core::Credentials,
}

static FROM_TIMESTAMP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static UTC: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

#[pymethods]
impl Credentials {
    /// The access key id (`ASIA…`). Not secret.
    #[getter]
    fn access_key_id(&self) -> &str {
        self.inner.access_key_id()
    }

    /// The secret access key. Secret: never log it.
    #[getter]
    fn secret_access_key(&self) -> &str {
        self.inner.secret_access_key()
    }

    /// The session token. Secret: never log it.
    #[getter]
    fn session_token(&self) -> &str {
        self.inner.session_token()
    }

    /// When the credentials expire, as seconds since the Unix epoch.
    #[getter]
    fn expiration_timestamp(&self) -> i64 {
        self.inner.expiration().as_secs()
    }

    /// When the credentials expire, as a timezone-aware UTC `datetime`.
    #[getter]
    fn expiration<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let datetime = FROM_TIMESTAMP.get_or_try_init(py, || {
            py.import("datetime")?
                .getattr("datetime")?
                .getattr("fromtimestamp")
                .map(Bound::unbind)
        })?;
        let utc = UTC.get_or_try_init(py, || {
            py.import("datetime")?
                .getattr("timezone")?
                .getattr("utc")
                .map(Bound::unbind)
        })?;
        datetime
            .bind(py)
            .call1((self.expiration_timestamp(), utc.bind(py)))
    }

    /// The expiration as `YYYY-MM-DDTHH:MM:SSZ`.
    #[getter]
    fn expiration_rfc3339(&self) -> String {
        self.inner.expiration().rfc3339().to_string()
    }

    /// The AWS account id, when IMDS sent one.
    #[getter]
    fn account_id(&self) -> Option<&str> {
        self.inner.account_id()
    }

    /// The `credential_process` JSON the `imds credentials` command prints (one line, no newline).
    fn to_process_json(&self) -> PyResult<String> {
        let mut out = String::new();
        self.inner
            .write_process_json(&mut out)
            .map_err(crate::format_failed)?;
        Ok(out)
    }

    fn __repr__(&self) -> String {
        format!(
            "Credentials(access_key_id={}, secret_access_key=<redacted, {} bytes>, \
             session_token=<redacted, {} bytes>, expiration={}, account_id={})",
            crate::quote(self.inner.access_key_id()),
            self.inner.secret_access_key().len(),
            self.inner.session_token().len(),
            crate::quote(&self.expiration_rfc3339()),
            match self.inner.account_id() {
                Some(id) => crate::quote(id),
                None => "None".to_owned(),
            }
        )
    }
}
