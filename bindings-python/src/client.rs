//! The sans-IO client, mirrored: `Client`, the `Action`s it asks for and the `IoError`s a host
//! reports back.
//!
//! Times are integers: `now` and every deadline are milliseconds on the host's monotonic clock
//! (`time.monotonic_ns() // 1_000_000`), `wall` is seconds since the Unix epoch (`time.time()`).

use std::hash::{BuildHasher, Hasher};

use imds_core::time::{Instant, UnixTime};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use crate::credentials::Credentials;
use crate::diagnostic::Diagnostic;
use crate::error::check;
use crate::settings::Settings;

/// What the host must do next; each variant is its own class, usable in `match`.
#[pyclass(frozen, module = "imds._imds", name = "Action")]
pub enum Action {
    /// Open a TCP connection to `host:port` (TLS for `host` when `tls`), then call
    /// `handle_connected`; on failure `handle_io_error`; past `deadline`, `handle_timeout`.
    Connect {
        /// Host name or IP literal (no brackets).
        host: String,
        /// TCP port.
        port: u16,
        /// Whether to wrap the connection in TLS.
        tls: bool,
        /// Give up connecting at this instant (monotonic ms).
        deadline: u64,
    },
    /// First check the connection without waiting: if bytes, the end of the stream or an error
    /// are already there, report them (`handle_data`, `handle_eof`, `handle_io_error`) instead
    /// of writing, and poll again (no request asked for them: the client closes the connection
    /// and sends the request on a new one). Otherwise write all of `data`, then poll again; on
    /// failure `handle_io_error`; past `deadline` (the request's), `handle_timeout`.
    Send {
        /// The bytes to write.
        data: Vec<u8>,
        /// Give up writing at this instant (monotonic ms).
        deadline: u64,
    },
    /// Read and pass what arrives to `handle_data` (`handle_eof` when the peer closed); past
    /// `deadline` before the response is whole, `handle_timeout`. The deadline is the request's:
    /// the same for every `Receive` of one response.
    Receive {
        /// Give up reading at this instant (monotonic ms).
        deadline: u64,
    },
    /// Close the connection, then poll again.
    Close {},
    /// Nothing to do before `until` (retry back-off): poll again then.
    Wait {
        /// When to poll again (monotonic ms).
        until: u64,
    },
    /// The operation succeeded: read `credentials()` or `body()`.
    Done {},
}

#[pymethods]
impl Action {
    /// Shows the variant and its fields, but never the bytes of `Send` (they carry the token).
    fn __repr__(&self) -> String {
        match self {
            Self::Connect {
                host,
                port,
                tls,
                deadline,
            } => format!(
                "Action.Connect(host={}, port={port}, tls={}, deadline={deadline})",
                crate::quote(host),
                crate::py_bool(*tls)
            ),
            Self::Send { data, deadline } => format!(
                "Action.Send(data=<{} bytes>, deadline={deadline})",
                data.len()
            ),
            Self::Receive { deadline } => format!("Action.Receive(deadline={deadline})"),
            Self::Close {} => "Action.Close()".to_owned(),
            Self::Wait { until } => format!("Action.Wait(until={until})"),
            Self::Done {} => "Action.Done()".to_owned(),
        }
    }
}

/// An I/O failure as the host classifies it. A refused connection and a reset are retried within
/// the attempts; the others are final unless the number of attempts was set.
#[pyclass(eq, eq_int, frozen, module = "imds._imds", name = "IoError")]
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum IoError {
    /// Nothing listens on the endpoint (`ConnectionRefusedError`). Retried.
    ConnectionRefused,
    /// The connection could not be made for another reason (unreachable network or host, name
    /// not found, …). Final unless attempts was set.
    ConnectFailed,
    /// The connection was made, then reset or broken (`ConnectionResetError`,
    /// `BrokenPipeError`, `ConnectionAbortedError`), while connecting, sending or receiving.
    /// Retried.
    ConnectionReset,
    /// Any other I/O error. Final unless attempts was set.
    Other,
}

impl From<IoError> for imds_core::client::IoError {
    fn from(error: IoError) -> Self {
        match error {
            IoError::ConnectionRefused => Self::ConnectionRefused,
            IoError::ConnectFailed => Self::ConnectFailed,
            IoError::ConnectionReset => Self::ConnectionReset,
            IoError::Other => Self::Other,
        }
    }
}

/// The IMDS client: start an operation, then loop on `poll` and feed back what happened.
///
/// One caller at a time: a call while another thread is inside the client raises `RuntimeError`
/// (pyo3's borrow check). `imds.Provider` serialises its callers with a lock.
#[pyclass(module = "imds._imds", name = "Client")]
pub struct Client {
    inner: imds_core::Client,
}

fn random_seed() -> u64 {
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

#[pymethods]
impl Client {
    /// A client for `settings` (loaded from the environment and config file when None). `seed`
    /// feeds back-off jitter; random when None.
    #[new]
    #[pyo3(signature = (settings = None, seed = None))]
    fn new(
        py: Python<'_>,
        settings: Option<&Bound<'_, Settings>>,
        seed: Option<u64>,
    ) -> PyResult<Self> {
        let seed = seed.unwrap_or_else(random_seed);
        let mut inner = match settings {
            Some(settings) => imds_core::Client::new(&settings.get().inner, seed),
            None => imds_core::Client::new(&check(py, imds_core::host::load_settings(&[]))?, seed),
        };
        inner.set_binding("python");
        Ok(Self { inner })
    }

    /// The settings this client uses.
    #[getter]
    fn settings(&self) -> Settings {
        Settings {
            inner: self.inner.settings().clone(),
        }
    }

    /// Names the program in `User-Agent: imds/<version> (<name>)` (a new client says `python`).
    /// Characters other than ASCII letters, digits and `.-_/+` are dropped; at most 32 are kept.
    fn set_binding(&mut self, name: &str) {
        self.inner.set_binding(name);
    }

    /// Starts fetching credentials (served from the cache when still fresh).
    fn start_credentials(&mut self, py: Python<'_>, now: u64, wall: i64) -> PyResult<()> {
        check(
            py,
            self.inner
                .start_credentials(Instant::from_millis(now), UnixTime::from_secs(wall)),
        )
    }

    /// Starts reading a metadata path (`placement/region`, or absolute from `/latest/`).
    fn start_get(&mut self, py: Python<'_>, now: u64, path: &str) -> PyResult<()> {
        check(py, self.inner.start_get(Instant::from_millis(now), path))
    }

    /// What to do next. Raises an `imds.ImdsError` when the operation fails.
    fn poll(&mut self, py: Python<'_>, now: u64) -> PyResult<Action> {
        let action = check(py, self.inner.poll(Instant::from_millis(now)))?;
        Ok(match action {
            imds_core::Action::Connect {
                host,
                port,
                tls,
                deadline,
            } => Action::Connect {
                host: host.to_owned(),
                port,
                tls,
                deadline: deadline.as_millis(),
            },
            imds_core::Action::Send { data, deadline } => Action::Send {
                data: data.to_vec(),
                deadline: deadline.as_millis(),
            },
            imds_core::Action::Receive { deadline } => Action::Receive {
                deadline: deadline.as_millis(),
            },
            imds_core::Action::Close => Action::Close {},
            imds_core::Action::Wait { until } => Action::Wait {
                until: until.as_millis(),
            },
            imds_core::Action::Done => Action::Done {},
            _ => {
                return Err(PyRuntimeError::new_err(
                    "imds-core asked for an action these bindings do not know; rebuild them",
                ));
            }
        })
    }

    /// The connection asked for by `Action.Connect` is open.
    fn handle_connected(&mut self, py: Python<'_>, now: u64) -> PyResult<()> {
        check(py, self.inner.handle_connected(Instant::from_millis(now)))
    }

    /// Instead of connecting for `Action.Connect`, the host handed over an open keep-alive
    /// connection it kept to the same host, port and scheme (a pool shared by clients): as
    /// `handle_connected`, but a request that fails on it before any byte comes back is sent
    /// again, once, on a new connection.
    fn handle_connected_reused(&mut self, py: Python<'_>, now: u64) -> PyResult<()> {
        check(
            py,
            self.inner
                .handle_connected_reused(Instant::from_millis(now)),
        )
    }

    /// Bytes arrived on the connection (while a `Send` is pending: found before the request was
    /// written; no request asked for them).
    fn handle_data(&mut self, py: Python<'_>, now: u64, data: &[u8]) -> PyResult<()> {
        check(py, self.inner.handle_data(Instant::from_millis(now), data))
    }

    /// The peer closed the connection (while a `Send` is pending: found closed before the request
    /// was written).
    fn handle_eof(&mut self, py: Python<'_>, now: u64) -> PyResult<()> {
        check(py, self.inner.handle_eof(Instant::from_millis(now)))
    }

    /// Connecting, sending or receiving failed.
    fn handle_io_error(
        &mut self,
        py: Python<'_>,
        now: u64,
        error: &Bound<'_, IoError>,
    ) -> PyResult<()> {
        check(
            py,
            self.inner
                .handle_io_error(Instant::from_millis(now), (*error.get()).into()),
        )
    }

    /// The deadline of the current action passed.
    fn handle_timeout(&mut self, py: Python<'_>, now: u64) -> PyResult<()> {
        check(py, self.inner.handle_timeout(Instant::from_millis(now)))
    }

    /// The connection is gone without the client asking: the host closed it, or saw the server
    /// close it while the client was not using it (between operations, before the first action
    /// of one, during a back-off). The next request connects anew. Raises `InvalidStateError`
    /// while a connect, send or receive is pending (report its failure instead).
    fn handle_closed(&mut self, py: Python<'_>) -> PyResult<()> {
        check(py, self.inner.handle_closed())
    }

    /// The credentials of the last successful credentials operation.
    fn credentials(&self) -> Option<Credentials> {
        self.inner.credentials().map(|inner| Credentials {
            inner: inner.clone(),
        })
    }

    /// The body of the last successful metadata read.
    fn body(&self) -> Option<Vec<u8>> {
        self.inner.body().map(<[u8]>::to_vec)
    }

    /// The next queued diagnostic, oldest first.
    fn poll_diagnostic(&mut self) -> Option<Diagnostic> {
        self.inner
            .poll_diagnostic()
            .map(|inner| Diagnostic { inner })
    }

    /// Every queued diagnostic, oldest first, emptying the queue.
    fn drain_diagnostics(&mut self) -> Vec<Diagnostic> {
        std::iter::from_fn(|| self.inner.poll_diagnostic())
            .map(|inner| Diagnostic { inner })
            .collect()
    }

    /// Forgets everything learned from IMDS (token, IMDSv1 fallback, role, extended-API state,
    /// credentials, static-stability pause) and abandons the running operation: the next
    /// credentials operation is a full exchange. Close the connection too.
    fn reset(&mut self) {
        self.inner.reset();
    }

    /// Abandons the running operation, keeping caches. Close the connection too.
    fn cancel(&mut self) {
        self.inner.cancel();
    }

    fn __repr__(&self) -> String {
        format!(
            "Client(endpoint={})",
            crate::quote(&self.inner.settings().endpoint.value.to_string())
        )
    }
}
