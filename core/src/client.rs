//! The IMDS client: a sans-IO state machine that runs one operation at a time.
//!
//! A [`Client`] is long-lived. It owns the IMDSv2 token cache, the sticky IMDSv1 state, the
//! discovered role name, the last good credentials and the static-stability state. Start an
//! operation with [`Client::start_credentials`] or [`Client::start_get`], then loop:
//!
//! 1. call [`Client::poll`] with `now`;
//! 2. carry out the [`Action`] it returns (each variant's doc says how);
//! 3. feed back what happened with the `handle_*` methods, always passing `now`;
//!
//! until `poll` returns [`Action::Done`] (then read [`Client::credentials`] or [`Client::body`]) or
//! an [`Error`] (terminal for that operation; the client stays usable). Drain
//! [`Client::poll_diagnostic`] to log what happened.
//!
//! The client never allocates; its buffers have the fixed capacities below.

use crate::credentials::Credentials;
use crate::diagnostic::Diagnostic;
use crate::error::Error;
use crate::settings::Settings;
use crate::time::{Instant, UnixTime};

/// Receive buffer: a response (head and body) larger than this is [`crate::ErrorKind::ResponseTooLarge`].
pub const RECEIVE_CAPACITY: usize = 8 * 1024;
/// Send buffer: the largest request the client writes.
pub const SEND_CAPACITY: usize = 2 * 1024;
/// Longest IMDSv2 token accepted.
pub const TOKEN_CAPACITY: usize = 512;
/// Longest metadata path accepted by [`Client::start_get`].
pub const PATH_CAPACITY: usize = 256;

/// An I/O failure as the host classifies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IoError {
    /// The connection was refused (nothing listens on the endpoint).
    ConnectionRefused,
    /// The connection could not be made for another reason (unreachable, DNS, ...).
    ConnectFailed,
    /// The connection was reset or broken while sending or receiving.
    ConnectionReset,
    /// Any other I/O error.
    Other,
}

/// What the host must do next. Views borrow the client and are valid until the next call on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action<'a> {
    /// Open a TCP connection to `host:port` (`host` is a name or an IP literal without brackets;
    /// with `tls`, wrap it in TLS for `host`). On success call [`Client::handle_connected`]; on
    /// failure [`Client::handle_io_error`]; if `deadline` passes first, [`Client::handle_timeout`].
    Connect {
        /// Host name or IP literal.
        host: &'a str,
        /// TCP port.
        port: u16,
        /// Whether the endpoint is `https`.
        tls: bool,
        /// Give up connecting at this instant.
        deadline: Instant,
    },
    /// Write all of `data` to the connection, then call [`Client::poll`] again. On failure call
    /// [`Client::handle_io_error`]; if `deadline` passes first, [`Client::handle_timeout`].
    Send {
        /// The bytes to write.
        data: &'a [u8],
        /// Give up writing at this instant.
        deadline: Instant,
    },
    /// Read from the connection and pass what arrives to [`Client::handle_data`] (or
    /// [`Client::handle_eof`] when the peer closed). If nothing arrives by `deadline`, call
    /// [`Client::handle_timeout`].
    Receive {
        /// Give up reading at this instant.
        deadline: Instant,
    },
    /// Close the connection, then call [`Client::poll`] again.
    Close,
    /// Nothing to do before `until` (retry back-off): call [`Client::poll`] again then.
    Wait {
        /// When to poll again.
        until: Instant,
    },
    /// The operation succeeded: read [`Client::credentials`] or [`Client::body`]. The connection,
    /// if any is open, may be kept for the next operation or closed.
    Done,
}

/// The IMDS client. See the module docs for the driving loop.
#[derive(Clone)]
pub struct Client {
    settings: Settings,
    seed: u64,
}

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `settings`. `seed` is randomness from the host, used only for back-off jitter
    /// and static-stability intervals.
    pub fn new(settings: &Settings, seed: u64) -> Self {
        Self {
            settings: settings.clone(),
            seed,
        }
    }

    /// The settings this client uses.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Starts fetching credentials. `wall` is the current wall-clock time, against which
    /// expirations are compared. Fails with [`crate::ErrorKind::Disabled`] when IMDS is disabled
    /// and [`crate::ErrorKind::InvalidState`] when an operation is already running.
    pub fn start_credentials(&mut self, now: Instant, wall: UnixTime) -> Result<(), Error> {
        let _ = (now, wall, self.seed);
        Ok(())
    }

    /// Starts reading a metadata path: relative to `/latest/meta-data/` (`placement/region`,
    /// `instance-id`), or absolute when it starts with `/latest/`.
    pub fn start_get(&mut self, path: &str, now: Instant) -> Result<(), Error> {
        let _ = (path, now);
        Ok(())
    }

    /// What to do next. See [`Action`]. An `Err` ends the operation.
    pub fn poll(&mut self, now: Instant) -> Result<Action<'_>, Error> {
        let _ = now;
        Ok(Action::Done)
    }

    /// The connection asked for by [`Action::Connect`] is open.
    pub fn handle_connected(&mut self, now: Instant) -> Result<(), Error> {
        let _ = now;
        Ok(())
    }

    /// Bytes arrived on the connection.
    pub fn handle_data(&mut self, now: Instant, data: &[u8]) -> Result<(), Error> {
        let _ = (now, data);
        Ok(())
    }

    /// The peer closed the connection (end of stream).
    pub fn handle_eof(&mut self, now: Instant) -> Result<(), Error> {
        let _ = now;
        Ok(())
    }

    /// Connecting, sending or receiving failed.
    pub fn handle_io_error(&mut self, now: Instant, error: IoError) -> Result<(), Error> {
        let _ = (now, error);
        Ok(())
    }

    /// The deadline of the current [`Action`] passed.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), Error> {
        let _ = now;
        Ok(())
    }

    /// The credentials of the last successful credentials operation.
    pub fn credentials(&self) -> Option<&Credentials> {
        None
    }

    /// The body of the last successful metadata read.
    pub fn body(&self) -> Option<&[u8]> {
        None
    }

    /// The next queued diagnostic, oldest first.
    pub fn poll_diagnostic(&mut self) -> Option<Diagnostic> {
        None
    }

    /// Abandons the running operation (if any), keeping caches. The host must close its connection.
    pub fn cancel(&mut self) {}
}
