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
//!
//! # Secrets
//!
//! The client holds the IMDSv2 token and the credentials' secret access key and session token. No
//! diagnostic, error or request path carries them, whatever the server sends: a role list that
//! contains one is refused, a request whose path would contain one is not sent, and the `Code`
//! and `Message` of a refused credentials document come redacted and escaped. The token, the
//! credentials and the send and receive buffers are overwritten when replaced or no longer
//! needed, on [`Client::reset`] and when the client is dropped; `Debug` shows them by length
//! only. See [`crate::secret`] for what cannot be wiped.
//!
//! # Connections
//!
//! The client uses one connection at a time and keeps it open across the requests of an
//! operation (and across operations) unless the server asks to close it. After [`Action::Done`]
//! an open connection may be kept for the next operation; a host that closes it instead tells the
//! client with [`Client::handle_closed`], and so does a host that sees the server close a kept
//! connection while the client is not using it (between operations, before the first `poll` of
//! one, or during a back-off). After an error, the host closes the connection (the client
//! forgets it).
//!
//! Only answers to requests: before writing a request ([`Action::Send`]) the host checks the
//! connection without blocking and reports whatever is already there (bytes, the end of the
//! stream, an error) instead of writing. Bytes that come when no request is outstanding, then or
//! behind a complete response, are a protocol error for that connection: the client discards
//! them, closes it, and sends the request on a new one within the attempts (a warning diagnostic
//! says so); a token whose answer came on that connection is dropped with it. A response written
//! before its request but arriving after the request was sent cannot be told from the answer
//! (see the transport's module docs). A kept connection the server closed while idle is replaced
//! without costing an attempt.
//!
//! # Time
//!
//! `now` must never decrease from one call to the next (a smaller value is
//! [`crate::ErrorKind::InvalidState`]). A connect has `timeout` (the setting); a request has
//! `timeout` from when it is handed to the host for writing it and for its whole response, however
//! slowly the bytes come. Nothing else bounds an operation: the README gives its worst case as a
//! formula of `timeout`, `attempts` and the back-offs.
//!
//! # Layout
//!
//! This module is the public API and the loop that ties two halves together: `transport` (the
//! connection, the action the host is carrying out, deadlines, buffers, the re-send on a stale
//! connection) and `policy` (which request comes next and what each answer means, with the
//! table of statuses and actions in its module docs). `token`, `jitter`, `metadata_path` and
//! `diagnostics` are their small helpers.

mod diagnostics;
mod jitter;
mod metadata_path;
mod policy;
mod token;
mod transport;
#[cfg(test)]
mod wipe_tests;

use core::fmt;

pub use self::diagnostics::DIAGNOSTIC_CAPACITY;
pub use self::metadata_path::PATH_CAPACITY;
pub use self::policy::{
    EXPIRATION_EXTENSION_SECS, EXPIRATION_EXTENSION_SPREAD_SECS, MAX_ROLE_RESOLUTIONS,
    STATIC_STABILITY_PAUSE_MS, STATIC_STABILITY_SPREAD_MS,
};
pub use self::token::TOKEN_CAPACITY;
pub use self::transport::{IoError, RECEIVE_CAPACITY, SEND_CAPACITY};

use self::diagnostics::DiagnosticQueue;
use self::metadata_path::MetadataPath;
use self::policy::{Decision, OperationKind, Outcome, Policy};
use self::transport::{Ask, During, Event, Next, Transport};
use crate::credentials::Credentials;
use crate::diagnostic::{Diagnostic, Method};
use crate::endpoint::Scheme;
use crate::error::{Error, ErrorKind, Step};
use crate::secret::{self, Redacted};
use crate::settings::Settings;
use crate::text::ShortText;
use crate::time::{Instant, UnixTime};

/// Longest binding name written into `User-Agent` (see [`Client::set_binding`]).
pub const BINDING_CAPACITY: usize = 32;
/// Internal transitions one `poll` may make before it must hand an action to the host.
const MAX_TRANSITIONS: usize = 8;

/// What the host must do next. Views borrow the client and are valid until the next call on it.
/// `Debug` shows the length of [`Action::Send`]'s bytes, not the bytes (they carry the token).
#[derive(Clone, Copy, PartialEq, Eq)]
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
    /// First check the connection without blocking: if bytes, the end of the stream or an error
    /// are already there, report them ([`Client::handle_data`], [`Client::handle_eof`],
    /// [`Client::handle_io_error`]) instead of writing, then poll again (the server sent something
    /// no request asked for, or closed the connection; the client closes it and sends the request
    /// on a new one). Otherwise write all of `data` to the connection, then call
    /// [`Client::poll`] again. On failure call [`Client::handle_io_error`]; if `deadline` passes
    /// first, [`Client::handle_timeout`].
    Send {
        /// The bytes to write.
        data: &'a [u8],
        /// The request's deadline: give up writing at this instant.
        deadline: Instant,
    },
    /// Read from the connection and pass what arrives to [`Client::handle_data`] (or
    /// [`Client::handle_eof`] when the peer closed). If the response is not whole by `deadline`,
    /// call [`Client::handle_timeout`]. The deadline is the request's: it stays the same for every
    /// `Receive` of one response, however many bytes came.
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

impl fmt::Debug for Action<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect {
                host,
                port,
                tls,
                deadline,
            } => f
                .debug_struct("Connect")
                .field("host", host)
                .field("port", port)
                .field("tls", tls)
                .field("deadline", deadline)
                .finish(),
            Self::Send { data, deadline } => f
                .debug_struct("Send")
                .field("data", &Redacted(data.len()))
                .field("deadline", deadline)
                .finish(),
            Self::Receive { deadline } => f
                .debug_struct("Receive")
                .field("deadline", deadline)
                .finish(),
            Self::Close => f.write_str("Close"),
            Self::Wait { until } => f.debug_struct("Wait").field("until", until).finish(),
            Self::Done => f.write_str("Done"),
        }
    }
}

/// Where the client is.
// One slot inside the client: boxing the error would need an allocator.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
enum Phase {
    /// No operation was started (or it was cancelled).
    Idle,
    /// An operation is running; `finished` once its outcome is known and only closing the
    /// connection is left.
    Running { finished: Option<Outcome> },
    /// The last operation succeeded.
    Done(Outcome),
    /// The last operation failed.
    Failed(Error),
}

/// The IMDS client. See the module docs for the driving loop.
#[derive(Clone)]
pub struct Client {
    policy: Policy,
    transport: Transport,
    phase: Phase,
    binding: heapless::String<BINDING_CAPACITY>,
    path: MetadataPath,
    last_now: Instant,
    diagnostics: DiagnosticQueue,
    /// The method of the request handed to the host and whether it carries the token: its trace
    /// line is queued once the host wrote it.
    unsent: Option<(Method, bool)>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("phase", &self.phase)
            .field("transport", &self.transport)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `settings`. `seed` is randomness from the host, used only for back-off jitter
    /// and static-stability intervals.
    pub fn new(settings: &Settings, seed: u64) -> Self {
        let mut client = Self {
            policy: Policy::new(settings, seed),
            transport: Transport::new(settings.timeout_ms.value),
            phase: Phase::Idle,
            binding: heapless::String::new(),
            path: MetadataPath::default(),
            last_now: Instant::from_millis(0),
            diagnostics: DiagnosticQueue::new(),
            unsent: None,
        };
        client.set_binding("rust");
        client
    }

    /// The settings this client uses.
    pub fn settings(&self) -> &Settings {
        self.policy.settings()
    }

    /// Names the front end in `User-Agent: imds/<version> (<binding>)` (default `rust`; the C,
    /// Python and Node bindings set `c`, `python`, `node`). Characters other than ASCII letters,
    /// digits and `.-_/+` are dropped and the name is cut at [`BINDING_CAPACITY`] bytes.
    pub fn set_binding(&mut self, name: &str) {
        self.binding.clear();
        for c in name.chars() {
            if (c.is_ascii_alphanumeric() || ".-_/+".contains(c)) && self.binding.push(c).is_err() {
                break;
            }
        }
    }

    /// Starts fetching credentials. `wall` is the current wall-clock time, against which
    /// expirations are compared. Fails with [`ErrorKind::Disabled`] when IMDS is disabled and
    /// [`ErrorKind::InvalidState`] when an operation is already running.
    ///
    /// Credentials cached from an earlier operation are returned without a request while `wall`
    /// is before their expiration minus the refresh window, and also while a static-stability
    /// pause is in force (IMDS failed recently and the last good credentials were returned).
    pub fn start_credentials(&mut self, now: Instant, wall: UnixTime) -> Result<(), Error> {
        self.begin(now)?;
        if self
            .policy
            .serve_from_cache(now, wall, &mut self.diagnostics)
        {
            self.phase = Phase::Done(Outcome::Credentials);
            return Ok(());
        }
        self.run(OperationKind::Credentials { wall });
        Ok(())
    }

    /// Starts reading a metadata path: relative to `/latest/meta-data/` (`placement/region`,
    /// `instance-id`), or absolute when it starts with `/latest/`. The path must be 1 to
    /// [`PATH_CAPACITY`] visible ASCII characters (no spaces or `#`), else
    /// [`ErrorKind::InvalidArgument`].
    pub fn start_get(&mut self, now: Instant, path: &str) -> Result<(), Error> {
        self.begin(now)?;
        self.path = MetadataPath::parse(path)?;
        self.run(OperationKind::Metadata);
        Ok(())
    }

    /// What to do next. See [`Action`]. An `Err` ends the operation: the host closes its
    /// connection, if one is open. Calling `poll` again after `Done` or an error repeats it.
    pub fn poll(&mut self, now: Instant) -> Result<Action<'_>, Error> {
        self.observe(now)?;
        let Some(ask) = self.advance(now)? else {
            return Ok(Action::Done);
        };
        let endpoint = &self.policy.settings().endpoint.value;
        Ok(match ask {
            Ask::Connect { deadline } => Action::Connect {
                host: endpoint.host(),
                port: endpoint.port(),
                tls: endpoint.scheme() == Scheme::Https,
                deadline,
            },
            Ask::Send { deadline } => Action::Send {
                data: self.transport.send_data(),
                deadline,
            },
            Ask::Receive { deadline } => Action::Receive { deadline },
            Ask::Close => Action::Close,
            Ask::Wait { until } => Action::Wait { until },
        })
    }

    /// The connection asked for by [`Action::Connect`] is open.
    pub fn handle_connected(&mut self, now: Instant) -> Result<(), Error> {
        self.observe(now)?;
        self.expect(|during| during == During::Connect)?;
        self.transport.on_connected(false);
        Ok(())
    }

    /// Instead of opening a new connection for [`Action::Connect`], the host handed over an open
    /// keep-alive connection to the same host, port and scheme that it kept from an earlier
    /// exchange (a connection pool shared by clients, as HTTP agents keep). Like
    /// [`Client::handle_connected`], except that the connection counts as reused: the server may
    /// have closed it while idle, so a request that fails on it before any byte comes back is
    /// re-sent once on a new connection.
    pub fn handle_connected_reused(&mut self, now: Instant) -> Result<(), Error> {
        self.observe(now)?;
        self.expect(|during| during == During::Connect)?;
        self.transport.on_connected(true);
        Ok(())
    }

    /// Bytes arrived on the connection, while [`Action::Receive`] is pending; what they mean (a
    /// complete response, an error) shows in the next [`Client::poll`]. While [`Action::Send`] is
    /// pending, they are bytes found on the connection before the request was written: no request
    /// asked for them, so the connection is closed and the request sent on a new one.
    pub fn handle_data(&mut self, now: Instant, data: &[u8]) -> Result<(), Error> {
        self.observe(now)?;
        let during = self.expect(|during| matches!(during, During::Receive | During::Send))?;
        let event = self.transport.on_data(during, data);
        self.judge(now, event);
        Ok(())
    }

    /// The peer closed the connection (end of stream), while [`Action::Receive`] is pending, or
    /// found closed while [`Action::Send`] is pending (before the request was written).
    pub fn handle_eof(&mut self, now: Instant) -> Result<(), Error> {
        self.observe(now)?;
        let during = self.expect(|during| matches!(during, During::Receive | During::Send))?;
        let event = self.transport.on_eof(during);
        self.judge(now, event);
        Ok(())
    }

    /// Connecting, sending or receiving failed.
    pub fn handle_io_error(&mut self, now: Instant, error: IoError) -> Result<(), Error> {
        self.observe(now)?;
        let during = self.expect(|_| true)?;
        let event = self.transport.on_io_error(during, error);
        self.judge(now, event);
        Ok(())
    }

    /// The deadline of the current [`Action`] passed. A spurious call while waiting out a
    /// back-off does nothing.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), Error> {
        self.observe(now)?;
        if matches!(self.phase, Phase::Running { .. }) && self.transport.is_waiting() {
            return Ok(());
        }
        let during = self.expect(|_| true)?;
        let event = self.transport.on_timeout(during);
        self.judge(now, Some(event));
        Ok(())
    }

    /// The connection is gone without the client asking: the host closed it on its own, or saw
    /// the server close it while the client was not using it (between operations, after an
    /// operation started but before its first action, or during a back-off). The next request
    /// connects anew. While the host is connecting, sending or receiving, report failures with
    /// [`Client::handle_io_error`] or [`Client::handle_eof`] instead
    /// ([`ErrorKind::InvalidState`]).
    pub fn handle_closed(&mut self) -> Result<(), Error> {
        if matches!(self.phase, Phase::Running { .. }) && !self.transport.is_idle() {
            return Err(Error::detail(
                ErrorKind::InvalidState,
                "handle_closed while the connection is in use; use handle_io_error or handle_eof",
            ));
        }
        self.transport.forget_connection();
        Ok(())
    }

    /// The credentials of the last successful credentials operation (kept as the cache and as
    /// the last good credentials).
    pub fn credentials(&self) -> Option<&Credentials> {
        self.policy.credentials()
    }

    /// The body of the last successful metadata read (until the next operation starts).
    pub fn body(&self) -> Option<&[u8]> {
        match &self.phase {
            Phase::Done(Outcome::Body(range)) => self.transport.buffer().get(range.clone()),
            _ => None,
        }
    }

    /// The next queued diagnostic, oldest first. The queue keeps the last
    /// [`DIAGNOSTIC_CAPACITY`]; drain it after each `poll` to see them all.
    pub fn poll_diagnostic(&mut self) -> Option<Diagnostic> {
        self.diagnostics.pop()
    }

    /// Forgets everything learned from IMDS: the token, the IMDSv1 fallback, the role name, the
    /// extended-API state, the credentials and any static-stability pause, and abandons the running
    /// operation. Settings, binding and seed stay. The token, the credentials and both buffers are
    /// overwritten. The next credentials operation is a full exchange (use it when the instance's
    /// role changed, or to measure). The host must close its connection.
    pub fn reset(&mut self) {
        self.policy.forget();
        self.phase = Phase::Idle;
        self.transport.forget_connection();
        self.transport.wipe_request();
        self.transport.wipe_response();
        while self.diagnostics.pop().is_some() {}
    }

    /// Abandons the running operation (if any), keeping caches; the request and response it was
    /// exchanging are overwritten. The host must close its connection.
    pub fn cancel(&mut self) {
        if matches!(self.phase, Phase::Running { .. }) {
            self.phase = Phase::Idle;
            self.transport.wipe_request();
            self.transport.wipe_response();
        }
        self.transport.forget_connection();
    }

    /// Checks that an operation may start at `now`.
    fn begin(&mut self, now: Instant) -> Result<(), Error> {
        self.observe(now)?;
        if matches!(self.phase, Phase::Running { .. }) {
            return Err(Error::detail(
                ErrorKind::InvalidState,
                "an operation is already running; poll it to the end or cancel it",
            ));
        }
        if let Some(disabled) = self.policy.settings().disabled_error() {
            return Err(disabled);
        }
        // The last operation's body (if any) can no longer be read.
        self.transport.wipe_response();
        self.phase = Phase::Idle;
        Ok(())
    }

    fn run(&mut self, kind: OperationKind) {
        self.policy.begin(kind);
        self.transport.begin();
        self.unsent = None;
        self.phase = Phase::Running { finished: None };
    }

    /// Rejects time going backwards; records `now`.
    fn observe(&mut self, now: Instant) -> Result<(), Error> {
        if now < self.last_now {
            return Err(Error::detail(
                ErrorKind::InvalidState,
                "`now` went backwards; pass a monotonic clock",
            ));
        }
        self.last_now = now;
        Ok(())
    }

    /// The action the host is carrying out, if an event about it is `expected`.
    fn expect(&self, expected: impl Fn(During) -> bool) -> Result<During, Error> {
        match (&self.phase, self.transport.pending()) {
            (Phase::Running { .. }, Some(during)) if expected(during) => Ok(during),
            _ => Err(Error::detail(
                ErrorKind::InvalidState,
                "this event does not answer the pending action",
            )),
        }
    }

    /// Runs the operation until the host must act: `None` when it is done.
    fn advance(&mut self, now: Instant) -> Result<Option<Ask>, Error> {
        for _ in 0..MAX_TRANSITIONS {
            match &self.phase {
                Phase::Running { .. } => {}
                Phase::Done(_) => return Ok(None),
                Phase::Failed(error) => return Err(*error),
                Phase::Idle => {
                    return Err(Error::detail(
                        ErrorKind::InvalidState,
                        "no operation is running; call start_credentials or start_get",
                    ));
                }
            }
            match self.transport.next(now) {
                Next::Ask(ask) => return Ok(Some(ask)),
                Next::Sent { deadline } => {
                    if let Some((method, with_token)) = self.unsent.take() {
                        self.diagnostics.push(Diagnostic::RequestSent {
                            method,
                            target: ShortText::new(self.transport.target()),
                            with_token,
                        });
                    }
                    // The request was sent: it carries the token.
                    self.transport.wipe_request();
                    return Ok(Some(Ask::Receive { deadline }));
                }
                Next::Request => return self.send_request(now).map(Some),
                Next::Closed => {
                    if let Phase::Running {
                        finished: Some(outcome),
                    } = &self.phase
                    {
                        self.phase = Phase::Done(outcome.clone());
                    }
                }
                Next::Event(event) => self.judge(now, Some(event)),
            }
        }
        Err(Error::detail(
            ErrorKind::InvalidState,
            "the client made no progress; this is a bug in imds-core",
        ))
    }

    /// Writes the request the policy asks for next; its trace line is queued once the host has
    /// written it (a request the host found reason not to write is never logged as sent). A
    /// request whose path would carry one of the client's secrets is not sent: the operation
    /// fails.
    fn send_request(&mut self, now: Instant) -> Result<Ask, Error> {
        let (request, step) = self.policy.next_request(now, &self.path, &self.binding);
        let (method, with_token) = (request.method, request.token.is_some());
        let endpoint = &self.policy.settings().endpoint.value;
        let deadline = self.transport.write_request(now, endpoint, &request)?;
        if secret::contains_any(self.transport.target().as_bytes(), &self.policy.secrets()) {
            let kind = match step {
                Step::RoleName | Step::Credentials => ErrorKind::InvalidRoleName,
                Step::Token | Step::Metadata => ErrorKind::InvalidArgument,
            };
            let error = Error::detail(
                kind,
                "the request path would contain the IMDSv2 token or a credentials secret; it was \
                 not sent",
            );
            self.transport.wipe_request();
            self.transport.forget_connection();
            self.phase = Phase::Failed(error);
            return Err(error);
        }
        self.unsent = Some((method, with_token));
        self.policy.sent(step, with_token);
        Ok(Ask::Send { deadline })
    }

    /// Has the policy judge `event` (if any) and carries out its decision.
    fn judge(&mut self, now: Instant, event: Option<Event>) {
        let Some(event) = event else { return };
        let decision = self
            .policy
            .judge(now, event, &mut self.transport, &mut self.diagnostics);
        // The exchange is judged: the request (it carries the token) and the response (it may
        // carry the token or credentials) are no longer needed, except a metadata body that the
        // host reads after `Done`.
        self.transport.wipe_request();
        if !matches!(decision, Decision::Finish(Outcome::Body(_))) {
            self.transport.wipe_response();
        }
        match decision {
            Decision::Continue => self.transport.ready(),
            Decision::Wait(until) => self.transport.wait(until),
            Decision::Finish(outcome) if self.transport.close_before_finishing() => {
                self.phase = Phase::Running {
                    finished: Some(outcome),
                };
            }
            Decision::Finish(outcome) => self.phase = Phase::Done(outcome),
            Decision::Fail(error) => {
                self.transport.forget_connection();
                self.phase = Phase::Failed(error);
            }
        }
    }
}
