//! A blocking driver (feature `std`) over `std::net::TcpStream`: the reference host loop.
//!
//! [`BlockingClient`] owns a [`Client`] and its connection and carries out each [`Action`] with
//! blocking sockets, honouring every deadline the client hands out (connect, write and read
//! timeouts; back-off sleeps). It keeps the client's caches (token, role, credentials) and its
//! connection across calls, so a long-lived `BlockingClient` refreshes credentials with a single
//! request once the token and role are known. Plain `http` endpoints only: an `https` endpoint is
//! [`ErrorKind::Unsupported`].
//!
//! ```no_run
//! use imds_core::blocking::BlockingClient;
//! use imds_core::Settings;
//!
//! let settings = imds_core::host::load_settings(&[])?;
//! let mut client = BlockingClient::new(&settings);
//! client.on_diagnostic(|diagnostic| eprintln!("imds: {diagnostic}"));
//! let credentials = client.fetch_credentials()?;
//! println!("{}", credentials.access_key_id());
//! # Ok::<(), imds_core::Error>(())
//! ```

use core::net::{IpAddr, SocketAddr};
use core::time::Duration;
use std::boxed::Box;
use std::io::{ErrorKind as IoKind, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::time::{SystemTime, UNIX_EPOCH};
use std::vec::Vec;

use crate::client::{Action, Client, IoError};
use crate::credentials::Credentials;
use crate::diagnostic::Diagnostic;
use crate::error::{Error, ErrorKind};
use crate::settings::Settings;
use crate::time::{Instant, UnixTime};

/// Bytes read from the socket at a time.
const READ_CHUNK: usize = 4096;
/// Upper bound on host actions for one operation. The client ends every operation after a bounded
/// number of requests long before this; it only guards against a bug turning into a hang.
const MAX_ACTIONS: usize = 100_000;

/// Fetches credentials once with a fresh client over blocking sockets.
pub fn fetch_credentials(settings: &Settings) -> Result<Credentials, Error> {
    BlockingClient::new(settings).fetch_credentials()
}

/// Reads one metadata path (`placement/region`, `/latest/dynamic/...`) with a fresh client.
pub fn get(settings: &Settings, path: &str) -> Result<Vec<u8>, Error> {
    BlockingClient::new(settings).get(path)
}

/// Where a [`BlockingClient`] sends diagnostics.
type DiagnosticSink = Box<dyn FnMut(&Diagnostic) + Send>;

/// A [`Client`] driven over blocking `std::net` sockets. See the module docs.
pub struct BlockingClient {
    client: Client,
    stream: Option<TcpStream>,
    origin: std::time::Instant,
    sink: Option<DiagnosticSink>,
}

impl core::fmt::Debug for BlockingClient {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BlockingClient")
            .field("client", &self.client)
            .field("connected", &self.stream.is_some())
            .finish_non_exhaustive()
    }
}

impl BlockingClient {
    /// A client for `settings`, seeded from the process's random hash keys.
    pub fn new(settings: &Settings) -> Self {
        Self::with_seed(settings, random_seed())
    }

    /// A client for `settings` with an explicit jitter seed (for reproducible runs).
    pub fn with_seed(settings: &Settings, seed: u64) -> Self {
        Self {
            client: Client::new(settings, seed),
            stream: None,
            origin: std::time::Instant::now(),
            sink: None,
        }
    }

    /// Sends every [`Diagnostic`] to `sink` as it happens (for `--trace` or a logger).
    pub fn on_diagnostic(&mut self, sink: impl FnMut(&Diagnostic) + Send + 'static) {
        self.sink = Some(Box::new(sink));
    }

    /// Names the front end in `User-Agent` (see [`Client::set_binding`]).
    pub fn set_binding(&mut self, name: &str) {
        self.client.set_binding(name);
    }

    /// The core client (caches, settings).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Fetches credentials (or returns cached ones while fresh).
    pub fn fetch_credentials(&mut self) -> Result<Credentials, Error> {
        let now = self.now();
        let wall = wall_clock();
        self.started(|client| client.start_credentials(now, wall))?;
        self.drive()?;
        self.client.credentials().cloned().ok_or(Error::detail(
            ErrorKind::InvalidState,
            "the client finished without credentials",
        ))
    }

    /// Reads a metadata path and returns its body.
    pub fn get(&mut self, path: &str) -> Result<Vec<u8>, Error> {
        let now = self.now();
        self.started(|client| client.start_get(now, path))?;
        self.drive()?;
        Ok(self.client.body().map(<[u8]>::to_vec).unwrap_or_default())
    }

    fn started(
        &mut self,
        start: impl FnOnce(&mut Client) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let result = start(&mut self.client);
        self.drain();
        result
    }

    fn now(&self) -> Instant {
        elapsed_millis(self.origin)
    }

    fn drain(&mut self) {
        while let Some(diagnostic) = self.client.poll_diagnostic() {
            if let Some(sink) = self.sink.as_mut() {
                sink(&diagnostic);
            }
        }
    }

    /// Carries out actions until the operation ends.
    fn drive(&mut self) -> Result<(), Error> {
        let origin = self.origin;
        let clock = move || elapsed_millis(origin);
        let result = match self.sink.as_mut() {
            Some(sink) => drive(
                &mut self.client,
                &mut self.stream,
                &clock,
                Some(&mut **sink),
            ),
            None => drive(&mut self.client, &mut self.stream, &clock, None),
        };
        self.drain();
        result
    }
}

/// Carries out `client`'s actions over blocking sockets until its running operation ends.
///
/// This is the host loop every blocking front end shares: [`BlockingClient`] uses it, and so does
/// the C library's `imds_fetch_credentials()`, which drives a client that lives in caller storage.
/// `stream` is the client's connection slot: pass the same slot for every operation so that a
/// keep-alive connection is reused. `clock` gives `now` (monotonic milliseconds, the clock the
/// client has always been driven with). `on_diagnostic`, when given, receives each diagnostic as
/// it happens; otherwise they stay queued on the client (see [`Client::poll_diagnostic`]).
///
/// On an error the connection is closed and the client told. An `https` endpoint is
/// [`ErrorKind::Unsupported`]. Connecting to an IP literal does not allocate.
pub fn drive(
    client: &mut Client,
    stream: &mut Option<TcpStream>,
    clock: &dyn Fn() -> Instant,
    mut on_diagnostic: Option<&mut dyn FnMut(&Diagnostic)>,
) -> Result<(), Error> {
    let result = drive_actions(client, stream, clock, &mut on_diagnostic);
    if result.is_err() {
        client.cancel();
        close(client, stream);
    }
    if let Some(sink) = on_diagnostic.as_mut() {
        while let Some(diagnostic) = client.poll_diagnostic() {
            sink(&diagnostic);
        }
    }
    result
}

/// Closes `stream` (if open) and tells `client` that its connection is gone.
pub fn close(client: &mut Client, stream: &mut Option<TcpStream>) {
    if let Some(open) = stream.take() {
        let _ = open.shutdown(Shutdown::Both);
    }
    let _ = client.handle_closed();
}

/// What is already on the connection before a request is written, read without blocking:
/// `None` when nothing is, else what a read gives (bytes, `Ok(0)` at the end of the stream, or the
/// error). A kept connection the server closed while idle shows here, and so do bytes no request
/// asked for; the client judges either.
fn already_there(stream: &mut TcpStream, buf: &mut [u8]) -> Option<Result<usize, Failure>> {
    if let Err(error) = stream.set_nonblocking(true) {
        return Some(Err(classify(&error)));
    }
    let mut outcome = None;
    for _ in 0..16 {
        outcome = match stream.read(buf) {
            Err(error) if error.kind() == IoKind::Interrupted => continue,
            Err(error) if error.kind() == IoKind::WouldBlock => None,
            Err(error) => Some(Err(classify(&error))),
            Ok(n) => Some(Ok(n)),
        };
        break;
    }
    if let Err(error) = stream.set_nonblocking(false) {
        return Some(Err(classify(&error)));
    }
    outcome
}

/// Reports what a read gave: bytes, the end of the stream, a timeout or an error. The bytes read
/// are wiped once the client has them (they may hold the token or credentials; the client keeps
/// its own copy).
fn report_read(
    client: &mut Client,
    clock: &dyn Fn() -> Instant,
    outcome: Result<usize, Failure>,
    buf: &mut [u8],
) -> Result<(), Error> {
    let handled = match outcome {
        Ok(0) => client.handle_eof(clock()),
        Ok(n) => client.handle_data(clock(), buf.get(..n).unwrap_or(&[])),
        Err(Failure::Timeout) => client.handle_timeout(clock()),
        Err(Failure::Io(kind)) => client.handle_io_error(clock(), kind),
    };
    if let Ok(n) = outcome
        && let Some(read) = buf.get_mut(..n)
    {
        crate::secret::wipe_bytes(read);
    }
    handled
}

/// The message of the [`ErrorKind::Unsupported`] error for an `https` endpoint.
pub const HTTPS_UNSUPPORTED: &str =
    "the blocking driver speaks plain HTTP only; use an http:// endpoint";

fn drive_actions(
    client: &mut Client,
    stream: &mut Option<TcpStream>,
    clock: &dyn Fn() -> Instant,
    on_diagnostic: &mut Option<&mut dyn FnMut(&Diagnostic)>,
) -> Result<(), Error> {
    for _ in 0..MAX_ACTIONS {
        if let Some(sink) = on_diagnostic.as_mut() {
            while let Some(diagnostic) = client.poll_diagnostic() {
                sink(&diagnostic);
            }
        }
        let now = clock();
        match client.poll(now)? {
            Action::Done => return Ok(()),
            Action::Connect { tls: true, .. } => {
                return Err(Error::detail(ErrorKind::Unsupported, HTTPS_UNSUPPORTED));
            }
            Action::Connect {
                host,
                port,
                deadline,
                ..
            } => match connect(host, port, remaining(now, deadline)) {
                Ok(connected) => {
                    *stream = Some(connected);
                    client.handle_connected(clock())?;
                }
                Err(Failure::Timeout) => client.handle_timeout(clock())?,
                Err(Failure::Io(kind)) => client.handle_io_error(clock(), kind)?,
            },
            Action::Send { data, deadline } => {
                let mut buf = [0u8; READ_CHUNK];
                let outcome = match stream.as_mut() {
                    Some(open) => match already_there(open, &mut buf) {
                        Some(found) => {
                            report_read(client, clock, found, &mut buf)?;
                            continue;
                        }
                        None => send(open, data, remaining(now, deadline)),
                    },
                    None => Err(Failure::Io(IoError::ConnectionReset)),
                };
                match outcome {
                    Ok(()) => {}
                    Err(Failure::Timeout) => client.handle_timeout(clock())?,
                    Err(Failure::Io(kind)) => client.handle_io_error(clock(), kind)?,
                }
            }
            Action::Receive { deadline } => {
                // The request's trace line, queued by this poll, goes out before the answer is
                // awaited.
                if let Some(sink) = on_diagnostic.as_mut() {
                    while let Some(diagnostic) = client.poll_diagnostic() {
                        sink(&diagnostic);
                    }
                }
                let mut buf = [0u8; READ_CHUNK];
                let outcome = match stream.as_mut() {
                    Some(open) => receive(open, &mut buf, remaining(now, deadline)),
                    None => Err(Failure::Io(IoError::ConnectionReset)),
                };
                report_read(client, clock, outcome, &mut buf)?;
            }
            Action::Close => close(client, stream),
            Action::Wait { until } => {
                std::thread::sleep(remaining(now, until).unwrap_or(Duration::ZERO));
            }
        }
    }
    Err(Error::detail(
        ErrorKind::InvalidState,
        "the operation did not finish within the driver's action bound",
    ))
}

/// How an I/O step failed, as the client wants to hear it.
enum Failure {
    Timeout,
    Io(IoError),
}

/// Time left until `deadline`, or `None` when it has passed.
fn remaining(now: Instant, deadline: Instant) -> Option<Duration> {
    let millis = deadline.millis_since(now);
    (millis > 0).then(|| Duration::from_millis(millis))
}

fn classify(error: &std::io::Error) -> Failure {
    match error.kind() {
        IoKind::TimedOut | IoKind::WouldBlock => Failure::Timeout,
        IoKind::ConnectionRefused => Failure::Io(IoError::ConnectionRefused),
        IoKind::ConnectionReset
        | IoKind::ConnectionAborted
        | IoKind::BrokenPipe
        | IoKind::UnexpectedEof => Failure::Io(IoError::ConnectionReset),
        _ => Failure::Io(IoError::Other),
    }
}

fn connect(host: &str, port: u16, time_left: Option<Duration>) -> Result<TcpStream, Failure> {
    let time_left = time_left.ok_or(Failure::Timeout)?;
    // An IP literal needs no resolver (and no allocation).
    if let Ok(ip) = host.parse::<IpAddr>() {
        return connect_one(&SocketAddr::new(ip, port), time_left);
    }
    let addresses = (host, port)
        .to_socket_addrs()
        .map_err(|_| Failure::Io(IoError::ConnectFailed))?;
    let mut last = Failure::Io(IoError::ConnectFailed);
    for address in addresses {
        match connect_one(&address, time_left) {
            Ok(stream) => return Ok(stream),
            Err(failure) => last = failure,
        }
    }
    Err(last)
}

fn connect_one(address: &SocketAddr, time_left: Duration) -> Result<TcpStream, Failure> {
    // A reset that arrives as the connect completes stays a reset (IMDS accepted, then dropped
    // the connection); other failures are the connect's own.
    let stream =
        TcpStream::connect_timeout(address, time_left).map_err(|e| match classify(&e) {
            Failure::Io(IoError::Other) => Failure::Io(IoError::ConnectFailed),
            other => other,
        })?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

fn send(stream: &mut TcpStream, data: &[u8], time_left: Option<Duration>) -> Result<(), Failure> {
    let time_left = time_left.ok_or(Failure::Timeout)?;
    stream
        .set_write_timeout(Some(time_left))
        .map_err(|e| classify(&e))?;
    stream.write_all(data).map_err(|e| classify(&e))
}

fn receive(
    stream: &mut TcpStream,
    buf: &mut [u8],
    time_left: Option<Duration>,
) -> Result<usize, Failure> {
    let time_left = time_left.ok_or(Failure::Timeout)?;
    stream
        .set_read_timeout(Some(time_left))
        .map_err(|e| classify(&e))?;
    let mut last = Failure::Io(IoError::Other);
    for _ in 0..16 {
        match stream.read(buf) {
            Err(error) if error.kind() == IoKind::Interrupted => last = classify(&error),
            other => return other.map_err(|e| classify(&e)),
        }
    }
    Err(last)
}

/// Wall-clock time from the system clock, for [`Client::start_credentials`].
pub fn wall_clock() -> UnixTime {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    UnixTime::from_secs(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// Milliseconds since `origin` on the monotonic clock.
fn elapsed_millis(origin: std::time::Instant) -> Instant {
    Instant::from_millis(u64::try_from(origin.elapsed().as_millis()).unwrap_or(u64::MAX))
}

/// A seed from the standard library's random hash keys (random per process, and different for
/// each `RandomState` made).
fn random_seed() -> u64 {
    use core::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}
