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
//! # Connections
//!
//! The client uses one connection at a time and keeps it open across the requests of an
//! operation (and across operations) unless the server asks to close it. After [`Action::Done`]
//! an open connection may be kept for the next operation; a host that closes it instead tells the
//! client with [`Client::handle_closed`]. After an error, the host closes the connection (the
//! client forgets it).
//!
//! # Time
//!
//! `now` must never decrease from one call to the next (a smaller value is
//! [`crate::ErrorKind::InvalidState`]). Every deadline the client hands out is already capped by
//! the operation's overall deadline ([`OPERATION_TIMEOUT_MS`]).

mod diagnostics;
mod jitter;
mod metadata_path;
mod token;

use core::fmt;
use core::ops::Range;

pub use self::diagnostics::DIAGNOSTIC_CAPACITY;
use self::diagnostics::DiagnosticQueue;
use self::jitter::Jitter;
use self::metadata_path::MetadataPath;
use self::token::TokenCache;
use crate::credentials::Credentials;
use crate::diagnostic::{Diagnostic, Method};
use crate::endpoint::Scheme;
use crate::error::{Context, Error, ErrorKind, FallbackReason, Step};
use crate::http::{self, Progress, ReadError, ResponseReader};
use crate::settings::{CredentialsApi, RoleName, Settings, Source};
use crate::text::ShortText;
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

/// The overall deadline of one operation, from its start.
pub const OPERATION_TIMEOUT_MS: u64 = 30_000;
/// How many times one credentials operation may discover the role name before giving up with
/// [`crate::ErrorKind::RoleUnstable`] (the extended API's bound from the SEP test vectors).
pub const MAX_ROLE_RESOLUTIONS: u8 = 10;
/// Longest binding name written into `User-Agent` (see [`Client::set_binding`]).
pub const BINDING_CAPACITY: usize = 32;
/// Shortest pause after IMDS failed and the last good credentials were returned.
pub const STATIC_STABILITY_PAUSE_MS: u64 = 10 * 60 * 1_000;
/// Extra random pause on top of [`STATIC_STABILITY_PAUSE_MS`] (up to 5 minutes).
pub const STATIC_STABILITY_SPREAD_MS: u64 = 5 * 60 * 1_000;
/// Credentials that IMDS returns already expired are used for this long (plus up to
/// [`EXPIRATION_EXTENSION_SPREAD_SECS`]).
pub const EXPIRATION_EXTENSION_SECS: u64 = 10 * 60;
/// Extra random extension on top of [`EXPIRATION_EXTENSION_SECS`] (up to 5 minutes).
pub const EXPIRATION_EXTENSION_SPREAD_SECS: u64 = 5 * 60;

const TOKEN_PATH: &str = "/latest/api/token";
const LEGACY_BASE: &str = "/latest/meta-data/iam/security-credentials/";
const EXTENDED_BASE: &str = "/latest/meta-data/iam/security-credentials-extended/";
/// Internal transitions one `poll` may make before it must hand an action to the host.
const MAX_TRANSITIONS: usize = 8;

/// Which credentials API the client talks to (the extended API's state, SEP v2.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ApiVersion {
    /// Extended configured, not yet confirmed.
    Unknown,
    /// `security-credentials-extended/` answered.
    Extended,
    /// `security-credentials/`.
    Legacy,
}

/// What the running operation produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OperationKind {
    /// Credentials, with the wall-clock time at the start.
    Credentials { wall: UnixTime },
    /// A metadata body.
    Metadata,
}

/// What a finished operation produced.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    /// [`Client::credentials`] holds them.
    Credentials,
    /// [`Client::body`] holds it, in the receive buffer.
    Body(Range<usize>),
}

/// The host action the client is waiting on (or about to ask for).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Io {
    /// Nothing pending: decide and ask for the next action.
    Ready,
    /// [`Action::Connect`] was asked.
    Connecting { deadline: Instant },
    /// [`Action::Send`] was asked; the next `poll` means it was sent.
    Sending { deadline: Instant },
    /// [`Action::Receive`] was asked.
    Receiving { deadline: Instant },
    /// The connection must be closed: [`Action::Close`] is asked (`asked`), and the next `poll`
    /// means it was closed. Then finish with the outcome, if any, or carry on.
    Closing { then: Option<Outcome>, asked: bool },
    /// [`Action::Wait`] was asked (back-off).
    Waiting { until: Instant },
}

/// A running operation.
#[derive(Clone, Debug)]
struct Operation {
    kind: OperationKind,
    deadline: Instant,
    /// IMDSv1 for the rest of this operation only (token request failed with 5xx/429).
    v1_this_operation: bool,
    /// The request the pending action is for.
    step: Step,
    /// Attempt number of the current role/credentials/metadata request (1-based).
    attempt: u8,
    /// Attempt number of the current token request (1-based).
    token_attempt: u8,
    /// Role-list requests answered 200 in this operation.
    role_resolutions: u8,
    /// A request failed on a reused connection before any byte came back, and was re-sent.
    resent_on_stale_connection: bool,
    io: Io,
}

/// Where the client is.
// One slot inside the client: boxing the error would need an allocator.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
enum Phase {
    /// No operation was started (or it was cancelled).
    Idle,
    /// An operation is running.
    Running(Operation),
    /// The last operation succeeded.
    Done(Outcome),
    /// The last operation failed.
    Failed(Error),
}

/// The connection as the client knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Connection {
    /// None open.
    Closed,
    /// Open; `reused` once a response came back on it, `must_close` when it cannot be used again.
    Open { reused: bool, must_close: bool },
}

/// What `poll` asks, before it is turned into a borrowing [`Action`].
enum Next {
    Connect { deadline: Instant },
    Send { deadline: Instant },
    Receive { deadline: Instant },
    Close,
    Wait { until: Instant },
    Done,
}

/// The IMDS client. See the module docs for the driving loop.
#[derive(Clone)]
pub struct Client {
    settings: Settings,
    jitter: Jitter,
    binding: heapless::String<BINDING_CAPACITY>,
    token: TokenCache,
    sticky_v1: bool,
    role: Option<RoleName>,
    api: ApiVersion,
    credentials: Option<Credentials>,
    /// Static stability: no request before this instant while last good credentials exist.
    paused_until: Option<Instant>,
    phase: Phase,
    connection: Connection,
    path: MetadataPath,
    last_now: Instant,
    diagnostics: DiagnosticQueue,
    send_len: usize,
    send: [u8; SEND_CAPACITY],
    reader: ResponseReader<RECEIVE_CAPACITY>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.settings.endpoint.value.host())
            .field("phase", &self.phase)
            .field("connection", &self.connection)
            .field("token", &self.token)
            .field("sticky_v1", &self.sticky_v1)
            .field("role", &self.role)
            .field("api", &self.api)
            .field("credentials", &self.credentials)
            .field("paused_until", &self.paused_until)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `settings`. `seed` is randomness from the host, used only for back-off jitter
    /// and static-stability intervals.
    pub fn new(settings: &Settings, seed: u64) -> Self {
        let mut binding = heapless::String::new();
        let _ = binding.push_str("rust");
        Self {
            settings: settings.clone(),
            jitter: Jitter::new(seed),
            binding,
            token: TokenCache::new(),
            sticky_v1: false,
            role: None,
            api: match settings.credentials_api.value {
                CredentialsApi::Legacy => ApiVersion::Legacy,
                CredentialsApi::Extended => ApiVersion::Unknown,
            },
            credentials: None,
            paused_until: None,
            phase: Phase::Idle,
            connection: Connection::Closed,
            path: MetadataPath::default(),
            last_now: Instant::from_millis(0),
            diagnostics: DiagnosticQueue::new(),
            send_len: 0,
            send: [0; SEND_CAPACITY],
            reader: ResponseReader::new(),
        }
    }

    /// The settings this client uses.
    pub fn settings(&self) -> &Settings {
        &self.settings
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
    /// expirations are compared. Fails with [`crate::ErrorKind::Disabled`] when IMDS is disabled
    /// and [`crate::ErrorKind::InvalidState`] when an operation is already running.
    ///
    /// Credentials cached from an earlier operation are returned without a request while `wall`
    /// is before their expiration minus the refresh window, and also while a static-stability
    /// pause is in force (IMDS failed recently and the last good credentials were returned).
    pub fn start_credentials(&mut self, now: Instant, wall: UnixTime) -> Result<(), Error> {
        self.begin(now)?;
        if let Some(cached) = &self.credentials {
            let refresh_at = cached
                .expiration()
                .add_secs(-i64::from(self.settings.refresh_window_secs.value));
            let paused = self.paused_until.is_some_and(|until| now < until);
            if wall < refresh_at || paused {
                self.diagnostics.push(Diagnostic::CredentialsFromCache);
                self.phase = Phase::Done(Outcome::Credentials);
                return Ok(());
            }
        }
        self.paused_until = None;
        self.run(now, OperationKind::Credentials { wall });
        Ok(())
    }

    /// Starts reading a metadata path: relative to `/latest/meta-data/` (`placement/region`,
    /// `instance-id`), or absolute when it starts with `/latest/`. The path must be 1 to
    /// [`PATH_CAPACITY`] visible ASCII characters (no spaces or `#`), else
    /// [`crate::ErrorKind::InvalidArgument`].
    pub fn start_get(&mut self, path: &str, now: Instant) -> Result<(), Error> {
        self.begin(now)?;
        self.path = MetadataPath::parse(path)?;
        self.run(now, OperationKind::Metadata);
        Ok(())
    }

    /// What to do next. See [`Action`]. An `Err` ends the operation: the host closes its
    /// connection, if one is open. Calling `poll` again after `Done` or an error repeats it.
    pub fn poll(&mut self, now: Instant) -> Result<Action<'_>, Error> {
        self.observe(now)?;
        let next = self.advance(now)?;
        let endpoint = &self.settings.endpoint.value;
        Ok(match next {
            Next::Connect { deadline } => Action::Connect {
                host: endpoint.host(),
                port: endpoint.port(),
                tls: endpoint.scheme() == Scheme::Https,
                deadline,
            },
            Next::Send { deadline } => Action::Send {
                data: self.send.get(..self.send_len).unwrap_or(&[]),
                deadline,
            },
            Next::Receive { deadline } => Action::Receive { deadline },
            Next::Close => Action::Close,
            Next::Wait { until } => Action::Wait { until },
            Next::Done => Action::Done,
        })
    }

    /// The connection asked for by [`Action::Connect`] is open.
    pub fn handle_connected(&mut self, now: Instant) -> Result<(), Error> {
        self.observe(now)?;
        let op = self.pending(|io| matches!(io, Io::Connecting { .. }))?;
        op.io = Io::Ready;
        self.connection = Connection::Open {
            reused: false,
            must_close: false,
        };
        Ok(())
    }

    /// Instead of opening a new connection for [`Action::Connect`], the host handed over an open
    /// keep-alive connection to the same host, port and scheme that it kept from an earlier
    /// exchange (a connection pool shared by clients, as HTTP agents keep). Like
    /// [`Client::handle_connected`], except that the connection counts as reused: the server may
    /// have closed it while idle, so a request that fails on it before any byte comes back is
    /// re-sent once on a new connection.
    pub fn handle_connected_reused(&mut self, now: Instant) -> Result<(), Error> {
        self.handle_connected(now)?;
        self.connection = Connection::Open {
            reused: true,
            must_close: false,
        };
        Ok(())
    }

    /// Bytes arrived on the connection. Only valid while [`Action::Receive`] is pending; what the
    /// bytes mean (a complete response, an error) shows in the next [`Client::poll`].
    pub fn handle_data(&mut self, now: Instant, data: &[u8]) -> Result<(), Error> {
        self.observe(now)?;
        let timeout = self.timeout_ms();
        self.pending(|io| matches!(io, Io::Receiving { .. }))?;
        match self.reader.receive(data) {
            Ok(Progress::Partial) => {
                if let Some(op) = self.op() {
                    op.io = Io::Receiving {
                        deadline: now.add_millis(timeout).min(op.deadline),
                    };
                }
            }
            Ok(Progress::Complete) => self.on_response(now),
            Err(error) => self.on_read_error(now, error),
        }
        Ok(())
    }

    /// The peer closed the connection (end of stream).
    pub fn handle_eof(&mut self, now: Instant) -> Result<(), Error> {
        self.observe(now)?;
        self.pending(|io| matches!(io, Io::Receiving { .. }))?;
        self.mark_must_close();
        match self.reader.eof() {
            Ok(_) => self.on_response(now),
            Err(error) => self.on_read_error(now, error),
        }
        Ok(())
    }

    /// Connecting, sending or receiving failed.
    pub fn handle_io_error(&mut self, now: Instant, error: IoError) -> Result<(), Error> {
        self.observe(now)?;
        let op = self.pending(|io| {
            matches!(
                io,
                Io::Connecting { .. } | Io::Sending { .. } | Io::Receiving { .. }
            )
        })?;
        if matches!(op.io, Io::Connecting { .. }) {
            self.connection = Connection::Closed;
            self.transport_failure(now, ErrorKind::ConnectFailed);
            return Ok(());
        }
        self.mark_must_close();
        let kind = match error {
            IoError::ConnectionRefused | IoError::ConnectFailed => ErrorKind::ConnectFailed,
            IoError::ConnectionReset | IoError::Other => ErrorKind::Io,
        };
        if !self.resend_if_stale() {
            self.transport_failure(now, kind);
        }
        Ok(())
    }

    /// The deadline of the current [`Action`] passed. A spurious call while waiting out a
    /// back-off does nothing.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), Error> {
        self.observe(now)?;
        if let Phase::Running(Operation {
            io: Io::Waiting { .. },
            ..
        }) = self.phase
        {
            return Ok(());
        }
        self.pending(|io| {
            matches!(
                io,
                Io::Connecting { .. } | Io::Sending { .. } | Io::Receiving { .. }
            )
        })?;
        self.on_timeout(now);
        Ok(())
    }

    /// The host closed the connection on its own between operations (after [`Action::Done`] or
    /// an error): the next operation connects anew. During an operation, report failures with
    /// [`Client::handle_io_error`] instead ([`crate::ErrorKind::InvalidState`]).
    pub fn handle_closed(&mut self) -> Result<(), Error> {
        if matches!(self.phase, Phase::Running(_)) {
            return Err(Error::detail(
                ErrorKind::InvalidState,
                "handle_closed during an operation; use handle_io_error",
            ));
        }
        self.connection = Connection::Closed;
        Ok(())
    }

    /// The credentials of the last successful credentials operation (kept as the cache and as
    /// the last good credentials).
    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    /// The body of the last successful metadata read (until the next operation starts).
    pub fn body(&self) -> Option<&[u8]> {
        match &self.phase {
            Phase::Done(Outcome::Body(range)) => self.reader.buffer().get(range.clone()),
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
    /// operation. Settings, binding and seed stay. The next credentials operation is a full
    /// exchange (use it when the instance's role changed, or to measure). The host must close its
    /// connection.
    pub fn reset(&mut self) {
        self.token.clear();
        self.sticky_v1 = false;
        self.role = None;
        self.api = match self.settings.credentials_api.value {
            CredentialsApi::Legacy => ApiVersion::Legacy,
            CredentialsApi::Extended => ApiVersion::Unknown,
        };
        self.credentials = None;
        self.paused_until = None;
        self.phase = Phase::Idle;
        self.connection = Connection::Closed;
        while self.diagnostics.pop().is_some() {}
    }

    /// Abandons the running operation (if any), keeping caches. The host must close its connection.
    pub fn cancel(&mut self) {
        if matches!(self.phase, Phase::Running(_)) {
            self.phase = Phase::Idle;
        }
        self.connection = Connection::Closed;
    }

    // --- operation lifecycle -------------------------------------------------------------

    /// Checks that an operation may start at `now`.
    fn begin(&mut self, now: Instant) -> Result<(), Error> {
        self.observe(now)?;
        if matches!(self.phase, Phase::Running(_)) {
            return Err(Error::detail(
                ErrorKind::InvalidState,
                "an operation is already running; poll it to the end or cancel it",
            ));
        }
        if let Some(disabled) = self.settings.disabled_error() {
            return Err(disabled);
        }
        self.phase = Phase::Idle;
        Ok(())
    }

    fn run(&mut self, now: Instant, kind: OperationKind) {
        self.phase = Phase::Running(Operation {
            kind,
            deadline: now.add_millis(OPERATION_TIMEOUT_MS),
            v1_this_operation: false,
            step: Step::Token,
            attempt: 1,
            token_attempt: 1,
            role_resolutions: 0,
            resent_on_stale_connection: false,
            io: Io::Ready,
        });
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

    /// The running operation, if its pending action satisfies `expected`.
    fn pending(&mut self, expected: impl Fn(&Io) -> bool) -> Result<&mut Operation, Error> {
        match &mut self.phase {
            Phase::Running(op) if expected(&op.io) => Ok(op),
            _ => Err(Error::detail(
                ErrorKind::InvalidState,
                "this event does not answer the pending action",
            )),
        }
    }

    fn op(&mut self) -> Option<&mut Operation> {
        match &mut self.phase {
            Phase::Running(op) => Some(op),
            _ => None,
        }
    }

    fn timeout_ms(&self) -> u64 {
        u64::from(self.settings.timeout_ms.value.max(1))
    }

    fn max_attempts(&self) -> u8 {
        self.settings.attempts.value.max(1)
    }

    fn mark_must_close(&mut self) {
        if let Connection::Open { reused, .. } = self.connection {
            self.connection = Connection::Open {
                reused,
                must_close: true,
            };
        }
    }

    // --- poll --------------------------------------------------------------------------------

    fn advance(&mut self, now: Instant) -> Result<Next, Error> {
        for _ in 0..MAX_TRANSITIONS {
            let timeout = self.timeout_ms();
            let connection = self.connection;
            let op = match &mut self.phase {
                Phase::Running(op) => op,
                Phase::Done(_) => return Ok(Next::Done),
                Phase::Failed(error) => return Err(*error),
                Phase::Idle => {
                    return Err(Error::detail(
                        ErrorKind::InvalidState,
                        "no operation is running; call start_credentials or start_get",
                    ));
                }
            };
            match op.io.clone() {
                Io::Ready => {
                    if let Connection::Open {
                        must_close: true, ..
                    } = connection
                    {
                        op.io = Io::Closing {
                            then: None,
                            asked: true,
                        };
                        return Ok(Next::Close);
                    }
                    if now >= op.deadline {
                        let step = op.step;
                        self.fail(now, Error::at_step(ErrorKind::Timeout, step, 0));
                        continue;
                    }
                    if connection == Connection::Closed {
                        let deadline = now.add_millis(timeout).min(op.deadline);
                        op.io = Io::Connecting { deadline };
                        return Ok(Next::Connect { deadline });
                    }
                    let deadline = now.add_millis(timeout).min(op.deadline);
                    self.write_request(now)?;
                    if let Some(op) = self.op() {
                        op.io = Io::Sending { deadline };
                    }
                    return Ok(Next::Send { deadline });
                }
                Io::Connecting { deadline } => {
                    if now >= deadline {
                        self.on_timeout(now);
                        continue;
                    }
                    return Ok(Next::Connect { deadline });
                }
                Io::Sending { .. } => {
                    let deadline = now.add_millis(timeout).min(op.deadline);
                    op.io = Io::Receiving { deadline };
                    return Ok(Next::Receive { deadline });
                }
                Io::Receiving { deadline } => {
                    if now >= deadline {
                        self.on_timeout(now);
                        continue;
                    }
                    return Ok(Next::Receive { deadline });
                }
                Io::Closing { then, asked: false } => {
                    op.io = Io::Closing { then, asked: true };
                    return Ok(Next::Close);
                }
                Io::Closing { then, asked: true } => {
                    self.connection = Connection::Closed;
                    match then {
                        Some(outcome) => self.phase = Phase::Done(outcome),
                        None => op.io = Io::Ready,
                    }
                }
                Io::Waiting { until } => {
                    if now < until {
                        return Ok(Next::Wait { until });
                    }
                    op.io = Io::Ready;
                }
            }
        }
        Err(Error::detail(
            ErrorKind::InvalidState,
            "the client made no progress; this is a bug in imds-core",
        ))
    }

    /// Whether requests of the running operation go without a token.
    fn uses_v1(&self) -> bool {
        self.sticky_v1
            || match &self.phase {
                Phase::Running(op) => op.v1_this_operation,
                _ => false,
            }
    }

    /// The role name to use: configured, else discovered.
    fn role_name(&self) -> Option<&RoleName> {
        self.settings
            .instance_profile_name
            .value
            .as_ref()
            .or(self.role.as_ref())
    }

    /// The request the running operation needs next.
    fn next_step(&self, now: Instant, kind: OperationKind) -> Step {
        if !self.uses_v1() && !self.token.usable(now) {
            return Step::Token;
        }
        match kind {
            OperationKind::Metadata => Step::Metadata,
            OperationKind::Credentials { .. } if self.role_name().is_some() => Step::Credentials,
            OperationKind::Credentials { .. } => Step::RoleName,
        }
    }

    /// Writes the next request into the send buffer and records it.
    fn write_request(&mut self, now: Instant) -> Result<(), Error> {
        let Phase::Running(op) = &self.phase else {
            return Ok(());
        };
        let step = self.next_step(now, op.kind);
        let with_token = step != Step::Token && !self.uses_v1();
        let base = if self.api == ApiVersion::Legacy {
            LEGACY_BASE
        } else {
            EXTENDED_BASE
        };
        let role = self
            .settings
            .instance_profile_name
            .value
            .as_ref()
            .or(self.role.as_ref())
            .map_or("", |r| r.as_str());
        let path = match step {
            Step::Token => [TOKEN_PATH, "", ""],
            Step::RoleName => [base, "", ""],
            Step::Credentials => [base, role, ""],
            Step::Metadata => {
                let [first, second] = self.path.pieces();
                [first, second, ""]
            }
        };
        let request = http::Request {
            method: if step == Step::Token {
                Method::Put
            } else {
                Method::Get
            },
            path,
            token: with_token.then(|| self.token.value()),
            token_ttl_secs: self.settings.token_ttl_secs.value,
            binding: &self.binding,
        };
        let method = request.method;
        let written = http::write_request(&mut self.send, &self.settings.endpoint.value, &request)
            .map_err(|_| {
                Error::detail(
                    ErrorKind::InvalidArgument,
                    "the request does not fit the send buffer",
                )
            })?;
        self.send_len = written.len;
        let target = self
            .send
            .get(written.target)
            .and_then(|t| core::str::from_utf8(t).ok())
            .unwrap_or("");
        self.diagnostics.push(Diagnostic::RequestSent {
            method,
            target: ShortText::new(target),
            with_token,
        });
        if with_token {
            self.token.mark_used();
        }
        self.reader.reset();
        if let Some(op) = self.op() {
            op.step = step;
        }
        Ok(())
    }

    // --- events ------------------------------------------------------------------------------

    /// The pending action's deadline passed.
    fn on_timeout(&mut self, now: Instant) {
        let Some(op) = self.op() else { return };
        let step = op.step;
        let overall = now >= op.deadline;
        let connecting = matches!(op.io, Io::Connecting { .. });
        let receiving = matches!(op.io, Io::Receiving { .. });
        if connecting {
            self.connection = Connection::Closed;
        } else {
            self.mark_must_close();
        }
        if overall {
            self.fail(now, Error::at_step(ErrorKind::Timeout, step, 0));
        } else if connecting {
            self.transport_failure(now, ErrorKind::ConnectFailed);
        } else if receiving && step == Step::Token {
            // Silence on a kept-alive connection may only mean the server dropped it: try a new
            // connection before concluding that the token's answer cannot reach us.
            if !self.resend_if_stale() {
                self.diagnostics.push(Diagnostic::HopLimitHint);
                self.fall_back(now, FallbackReason::TokenReadTimeout, true);
            }
        } else {
            self.transport_failure(now, ErrorKind::Timeout);
        }
    }

    /// A request failed on a connection that served an earlier response, before any byte came
    /// back: the server most likely closed the idle connection. Re-send once on a new one.
    fn resend_if_stale(&mut self) -> bool {
        let reused = matches!(self.connection, Connection::Open { reused: true, .. });
        let started = self.reader.started();
        let Some(op) = self.op() else { return false };
        if !reused || started || op.resent_on_stale_connection {
            return false;
        }
        op.resent_on_stale_connection = true;
        op.io = Io::Ready;
        true
    }

    /// Connect failure, reset, read timeout or early close: retried only when the number of
    /// attempts was configured.
    fn transport_failure(&mut self, now: Instant, kind: ErrorKind) {
        let Some(op) = self.op() else { return };
        let step = op.step;
        let configured = self.settings.attempts.source != Source::Default;
        if !(configured && self.schedule_retry(now, step, 0)) {
            self.fail(now, Error::at_step(kind, step, 0));
        }
    }

    fn on_read_error(&mut self, now: Instant, error: ReadError) {
        let status = self.reader.head().map_or(0, |head| head.status);
        let Some(op) = self.op() else { return };
        let step = op.step;
        self.mark_must_close();
        match error {
            ReadError::Closed => {
                if !self.resend_if_stale() {
                    self.transport_failure(now, ErrorKind::ConnectionClosed);
                }
            }
            ReadError::TooLarge => {
                self.fail(
                    now,
                    Error::at_step(ErrorKind::ResponseTooLarge, step, status),
                );
            }
            ReadError::Malformed(detail) => {
                self.fail(
                    now,
                    Error::new(ErrorKind::MalformedResponse, Context::Detail(detail)),
                );
            }
        }
    }

    /// Schedules another attempt of `step` after a back-off. `false` when attempts ran out or
    /// the back-off would pass the operation's deadline.
    fn schedule_retry(&mut self, now: Instant, step: Step, status: u16) -> bool {
        let max = self.max_attempts();
        let Phase::Running(op) = &mut self.phase else {
            return false;
        };
        let attempt = if step == Step::Token {
            op.token_attempt
        } else {
            op.attempt
        };
        if attempt >= max {
            return false;
        }
        let delay = self.jitter.backoff_ms(attempt, status == 429);
        let until = now.add_millis(delay);
        if until >= op.deadline {
            return false;
        }
        if step == Step::Token {
            op.token_attempt = attempt + 1;
        } else {
            op.attempt = attempt + 1;
        }
        op.io = Io::Waiting { until };
        self.diagnostics.push(Diagnostic::RetryScheduled {
            step,
            attempt,
            status,
            delay_ms: u32::try_from(delay).unwrap_or(u32::MAX),
        });
        true
    }

    /// Falls back to IMDSv1 (for good when `sticky`), unless the settings forbid it.
    fn fall_back(&mut self, now: Instant, reason: FallbackReason, sticky: bool) {
        if self.settings.v1_disabled.value {
            let source = self.settings.v1_disabled.source;
            self.fail(
                now,
                Error::new(
                    ErrorKind::V1FallbackBlocked,
                    Context::FallbackBlocked { reason, source },
                ),
            );
            return;
        }
        if sticky {
            self.sticky_v1 = true;
        }
        if let Some(op) = self.op() {
            op.v1_this_operation = !sticky;
            op.io = Io::Ready;
        }
        self.diagnostics
            .push(Diagnostic::FallbackToV1 { reason, sticky });
    }

    /// A whole response is in the receive buffer.
    fn on_response(&mut self, now: Instant) {
        let Some(head) = self.reader.head() else {
            return;
        };
        let Some(op) = self.op() else { return };
        let step = op.step;
        op.io = Io::Ready;
        op.resent_on_stale_connection = false;
        let must_close = head.close
            || matches!(
                self.connection,
                Connection::Open {
                    must_close: true,
                    ..
                }
            );
        self.connection = Connection::Open {
            reused: true,
            must_close,
        };
        let status = head.status;
        self.diagnostics
            .push(Diagnostic::ResponseReceived { step, status });
        if status == 401 && step != Step::Token {
            self.token.clear();
            self.sticky_v1 = false;
            if let Some(op) = self.op() {
                op.v1_this_operation = false;
            }
            self.diagnostics.push(Diagnostic::TokenDropped);
            self.retry_or_fail(now, step, status);
            return;
        }
        match step {
            Step::Token => self.on_token_response(now, status, head.token_ttl_secs),
            Step::RoleName => self.on_role_response(now, status),
            Step::Credentials => self.on_credentials_response(now, status),
            Step::Metadata => {
                if status == 200 {
                    let range = self.reader.body_range().unwrap_or(0..0);
                    self.finish(Outcome::Body(range));
                } else {
                    self.on_other_status(now, step, status);
                }
            }
        }
    }

    fn on_token_response(&mut self, now: Instant, status: u16, ttl: Option<u32>) {
        match status {
            200 => {
                let ttl = ttl.unwrap_or(self.settings.token_ttl_secs.value);
                match self.token.store(self.reader.body(), now, ttl) {
                    Ok(()) => {
                        if let Some(op) = self.op() {
                            op.token_attempt = 1;
                        }
                    }
                    Err(error) => self.fail(now, error),
                }
            }
            403..=405 => self.fall_back(now, FallbackReason::TokenStatus(status), true),
            429 | 500..=599 => {
                if !self.schedule_retry(now, Step::Token, status) {
                    self.fall_back(now, FallbackReason::TokenRetriesExhausted(status), false);
                }
            }
            401 => self.retry_or_fail(now, Step::Token, status),
            _ => self.fail(
                now,
                Error::at_step(ErrorKind::HttpStatus, Step::Token, status),
            ),
        }
    }

    fn on_role_response(&mut self, now: Instant, status: u16) {
        match status {
            200 => match crate::credentials::parse_role_name(self.reader.body()) {
                Ok(name) => {
                    self.role = Some(name);
                    if self.api == ApiVersion::Unknown {
                        self.api = ApiVersion::Extended;
                    }
                    if let Some(op) = self.op() {
                        op.role_resolutions = op.role_resolutions.saturating_add(1);
                        op.attempt = 1;
                    }
                }
                Err(error) => self.fail(now, error),
            },
            404 if self.api == ApiVersion::Unknown => self.use_legacy_api(),
            404 => self.fail(
                now,
                Error::at_step(ErrorKind::NoRole, Step::RoleName, status),
            ),
            _ => self.on_other_status(now, Step::RoleName, status),
        }
    }

    fn on_credentials_response(&mut self, now: Instant, status: u16) {
        match status {
            200 => self.on_credentials_document(now),
            404 if self.api == ApiVersion::Unknown => self.use_legacy_api(),
            404 if self.settings.instance_profile_name.value.is_some() => self.fail(
                now,
                Error::at_step(ErrorKind::InvalidInstanceProfile, Step::Credentials, status),
            ),
            404 => {
                let exhausted = self
                    .op()
                    .is_none_or(|op| op.role_resolutions >= MAX_ROLE_RESOLUTIONS);
                if exhausted {
                    self.fail(
                        now,
                        Error::at_step(ErrorKind::RoleUnstable, Step::Credentials, status),
                    );
                } else {
                    self.role = None;
                    if let Some(op) = self.op() {
                        op.attempt = 1;
                    }
                    self.diagnostics.push(Diagnostic::RoleRediscovery);
                }
            }
            _ => self.on_other_status(now, Step::Credentials, status),
        }
    }

    fn on_credentials_document(&mut self, now: Instant) {
        let wall = match self.op() {
            Some(Operation {
                kind: OperationKind::Credentials { wall },
                ..
            }) => *wall,
            _ => return,
        };
        match crate::json::parse_credentials(self.reader.body()) {
            Ok(credentials) => {
                if self.api == ApiVersion::Unknown {
                    self.api = ApiVersion::Extended;
                }
                if credentials.expiration() <= wall {
                    let secs = EXPIRATION_EXTENSION_SECS
                        + self.jitter.below(EXPIRATION_EXTENSION_SPREAD_SECS + 1);
                    let extended = wall.add_secs(i64::try_from(secs).unwrap_or(i64::MAX));
                    self.credentials = Some(credentials.with_expiration(extended));
                    self.diagnostics.push(Diagnostic::ExpirationExtended {
                        minutes: minutes_rounded_up(secs * 1_000),
                    });
                } else {
                    self.credentials = Some(credentials);
                }
                self.paused_until = None;
                self.finish(Outcome::Credentials);
            }
            Err(error) => self.fail(now, error),
        }
    }

    /// 404 while the extended API is unconfirmed: use the legacy API from now on.
    fn use_legacy_api(&mut self) {
        self.api = ApiVersion::Legacy;
        self.diagnostics.push(Diagnostic::ExtendedApiUnavailable);
        if let Some(op) = self.op() {
            op.attempt = 1;
        }
    }

    /// Statuses every GET treats alike: 429 and 5xx are retried, anything else is final.
    fn on_other_status(&mut self, now: Instant, step: Step, status: u16) {
        if status == 429 || (500..=599).contains(&status) {
            self.retry_or_fail(now, step, status);
        } else {
            self.fail(now, Error::at_step(ErrorKind::HttpStatus, step, status));
        }
    }

    fn retry_or_fail(&mut self, now: Instant, step: Step, status: u16) {
        if !self.schedule_retry(now, step, status) {
            self.fail(now, Error::at_step(ErrorKind::HttpStatus, step, status));
        }
    }

    /// The operation succeeded; close first if the connection cannot be reused.
    fn finish(&mut self, outcome: Outcome) {
        let must_close = matches!(
            self.connection,
            Connection::Open {
                must_close: true,
                ..
            }
        );
        match self.op() {
            Some(op) if must_close => {
                op.io = Io::Closing {
                    then: Some(outcome),
                    asked: false,
                }
            }
            _ => self.phase = Phase::Done(outcome),
        }
    }

    /// The operation failed. A credentials operation with last good credentials returns them
    /// instead and pauses requests for 10 to 15 minutes (static stability).
    fn fail(&mut self, now: Instant, error: Error) {
        let is_credentials = matches!(
            self.op(),
            Some(Operation {
                kind: OperationKind::Credentials { .. },
                ..
            })
        );
        if is_credentials && self.credentials.is_some() {
            let until =
                self.jitter
                    .after(now, STATIC_STABILITY_PAUSE_MS, STATIC_STABILITY_SPREAD_MS);
            self.paused_until = Some(until);
            self.diagnostics.push(Diagnostic::UsingLastGoodCredentials {
                retry_in_minutes: minutes_rounded_up(until.millis_since(now)),
            });
            self.finish(Outcome::Credentials);
            return;
        }
        self.connection = Connection::Closed;
        self.phase = Phase::Failed(error);
    }
}

fn minutes_rounded_up(millis: u64) -> u32 {
    u32::try_from(millis.div_ceil(60_000)).unwrap_or(u32::MAX)
}
