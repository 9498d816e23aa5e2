//! The loopback mock IMDS server.
//!
//! [`MockServer::start`] binds `127.0.0.1` or `[::1]` (any other address is refused), on a free
//! port, and serves the IMDS paths as its [`Script`] says, one thread per connection, keep-alive
//! by default; a request without `Host` is answered 400, as HTTP/1.1 requires. As IMDS does, it
//! answers every request made with a valid token (any status but 401) with
//! `x-aws-ec2-metadata-token-ttl-seconds`, the token's remaining lifetime in whole seconds
//! rounded up (a token answer echoes the TTL asked). Every request is
//! logged as a [`RequestRecord`] before it is answered, so once a
//! client has read an answer, [`MockServer::requests`] already shows the request; after the client
//! is gone, [`MockServer::stop`] waits for the connections to drain and the log is complete.
//!
//! A script with a [`crate::script::Throttle`] limits the request rate and the connections open at
//! once; what became of each request (served, answered 429, dropped) is in its record, and what
//! happened to connections that carried no request (dropped on arrival, refused while the mock
//! stopped listening) is in [`MockServer::events`]. Every record and event carries its time.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufWriter, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::script::{
    AcceptAction, EXTENDED_ROLE_LIST_PATH, METADATA_PREFIX, Override, ROLE_LIST_PATH, Script,
    TOKEN_HEADER, TOKEN_PATH, TTL_HEADER, ThrottleMode,
};
pub use crate::throttle::Limit;
use crate::throttle::{ConnectionVerdict, RequestVerdict, Throttling};

/// Request heads larger than this are refused (IMDS requests are a few hundred bytes).
const MAX_HEAD: usize = 16 * 1024;
/// How long [`MockServer::stop`] waits for clients to close before cutting their connections.
const DRAIN_GRACE: Duration = Duration::from_secs(2);
/// How many connections the kernel may hold for the mock to accept. std's `TcpListener` asks
/// for 128: a fleet of clients connecting at once would then have SYNs dropped (and time out)
/// while the mock's accept thread waits for a CPU, which is not what a script asked for.
const ACCEPT_QUEUE: i32 = 4096;
/// How often a mock that refuses connections looks for new ones (it cannot block in `accept`,
/// since it has to stop listening the moment a limit is reached).
const REFUSING_ACCEPT_POLL: Duration = Duration::from_micros(500);

/// What became of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Served as the script says: an answer, or a scripted close or raw bytes.
    Served,
    /// Over a throttle limit: answered `429 Too Many Requests`.
    Throttled(Limit),
    /// Over a throttle limit: the connection was closed without an answer.
    Dropped(Limit),
}

impl Outcome {
    /// `served`, `throttled` or `dropped`, as the log writes it.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Served => "served",
            Outcome::Throttled(_) => "throttled",
            Outcome::Dropped(_) => "dropped",
        }
    }

    /// The limit that throttled or dropped the request.
    pub fn limit(self) -> Option<Limit> {
        match self {
            Outcome::Served => None,
            Outcome::Throttled(limit) | Outcome::Dropped(limit) => Some(limit),
        }
    }
}

/// One request the mock received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestRecord {
    /// Which connection it came on (1, 2, ... in accept order).
    pub connection: u64,
    /// `GET`, `PUT`, ...
    pub method: String,
    /// The request target as sent (including any endpoint path prefix).
    pub path: String,
    /// Whether an `x-aws-ec2-metadata-token` header was sent.
    pub token_sent: bool,
    /// The `x-aws-ec2-metadata-token-ttl-seconds` header, when sent.
    pub ttl: Option<String>,
    /// The `User-Agent` header, when sent.
    pub user_agent: Option<String>,
    /// The status the mock answered (0 when it closed without answering or sent raw bytes).
    pub status: u16,
    /// When it arrived: microseconds since the mock started.
    pub time_us: u64,
    /// What became of it.
    pub outcome: Outcome,
}

impl RequestRecord {
    /// The form scenarios compare: `PUT /latest/api/token ttl=21600`, `GET /path (token)`.
    pub fn summary(&self) -> String {
        let mut line = format!("{} {}", self.method, self.path);
        if self.token_sent {
            line.push_str(" (token)");
        }
        if let Some(ttl) = &self.ttl {
            line.push_str(" ttl=");
            line.push_str(ttl);
        }
        line
    }

    /// The record as one JSON object (what `imds-mock --log` writes, one per line).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "connection": self.connection,
            "method": self.method,
            "path": self.path,
            "token_sent": self.token_sent,
            "ttl": self.ttl,
            "status": self.status,
            "user_agent": self.user_agent,
            "time_us": self.time_us,
            "outcome": self.outcome.name(),
            "limit": self.outcome.limit().map(Limit::name),
        })
    }
}

/// Something that happened to a connection or to the listener rather than to a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MockEvent {
    /// When: microseconds since the mock started.
    pub time_us: u64,
    /// What.
    pub kind: EventKind,
}

/// What a [`MockEvent`] was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A connection over a limit was accepted and closed before any request was read (drop mode;
    /// in refuse mode, one that reached the listener as it stopped listening).
    ConnectionDropped {
        /// Its number.
        connection: u64,
        /// The limit it was over.
        limit: Limit,
    },
    /// Refuse mode: the mock stopped listening, so new connections are refused.
    StoppedListening {
        /// The limit reached.
        limit: Limit,
    },
    /// Refuse mode: the mock listens again (on the same port).
    Listening,
}

impl MockEvent {
    /// The event as one JSON object (`imds-mock --log` writes it among the requests; the
    /// `event` key tells it from a request).
    pub fn to_json(&self) -> serde_json::Value {
        match self.kind {
            EventKind::ConnectionDropped { connection, limit } => serde_json::json!({
                "time_us": self.time_us,
                "event": "connection_dropped",
                "connection": connection,
                "limit": limit.name(),
            }),
            EventKind::StoppedListening { limit } => serde_json::json!({
                "time_us": self.time_us,
                "event": "stopped_listening",
                "limit": limit.name(),
            }),
            EventKind::Listening => serde_json::json!({
                "time_us": self.time_us,
                "event": "listening",
            }),
        }
    }
}

/// One line of the mock's log: a request or an event.
#[derive(Clone, Copy, Debug)]
pub enum LogEntry<'a> {
    /// A request, as it is answered.
    Request(&'a RequestRecord),
    /// A connection or listener event.
    Event(&'a MockEvent),
}

impl LogEntry<'_> {
    /// The entry as one JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            LogEntry::Request(record) => record.to_json(),
            LogEntry::Event(event) => event.to_json(),
        }
    }
}

impl fmt::Display for RequestRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{} {} -> {}",
            self.connection,
            self.summary(),
            self.status
        )
    }
}

/// The mock could not start.
#[derive(Debug)]
pub enum StartError {
    /// The address is not `127.0.0.1` or `::1`: the mock never listens beyond loopback.
    NotLoopback(IpAddr),
    /// Binding failed.
    Io(io::Error),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::NotLoopback(addr) => write!(
                f,
                "refusing to listen on {addr}: the mock binds only 127.0.0.1 or ::1"
            ),
            StartError::Io(e) => write!(f, "cannot listen: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// Called with each request and event as it is logged (the binary writes them to a file).
pub type LogObserver = Box<dyn Fn(LogEntry<'_>) + Send + Sync>;

struct IssuedToken {
    issued: Instant,
    ttl: Duration,
    uses: u32,
}

struct State {
    script: Script,
    remaining: Vec<Option<u32>>,
    /// How many more connections each of the script's `on_accept` rules applies to.
    accept_remaining: Vec<u32>,
    tokens: HashMap<String, IssuedToken>,
    issued_tokens: Vec<String>,
    log: Vec<RequestRecord>,
    events: Vec<MockEvent>,
    open_connections: usize,
    streams: HashMap<u64, TcpStream>,
    throttling: Option<Throttling>,
    /// Refuse mode only: the listener, `None` while the mock refuses connections.
    listener: Option<TcpListener>,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    stopping: AtomicBool,
    next_connection: AtomicU64,
    observer: Option<LogObserver>,
    started: Instant,
    addr: SocketAddr,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking connection thread must not take the whole mock down with it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn micros_since_start(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    fn log_event(&self, state: &mut State, kind: EventKind) {
        let event = MockEvent {
            time_us: self.micros_since_start(),
            kind,
        };
        if let Some(observer) = &self.observer {
            observer(LogEntry::Event(&event));
        }
        state.events.push(event);
    }
}

/// A running mock IMDS. Dropping it stops it.
pub struct MockServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
    /// Refuse mode: a connection of the mock to itself, both ends kept open, so that the port
    /// stays the mock's while it is not listening (no client can be given it as its own port).
    _port_keeper: Option<(TcpStream, TcpStream)>,
}

/// `127.0.0.1`.
pub const IPV4_LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// `::1`.
pub const IPV6_LOOPBACK: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

impl MockServer {
    /// Starts a mock on `127.0.0.1`, on a free port.
    pub fn start(script: Script) -> Result<MockServer, StartError> {
        Self::start_on(script, SocketAddr::new(IPV4_LOOPBACK, 0), None)
    }

    /// Starts a mock on `addr` (`127.0.0.1` or `::1`; port 0 picks a free one), calling `observer`
    /// with each request and event as it is logged.
    pub fn start_on(
        script: Script,
        addr: SocketAddr,
        observer: Option<LogObserver>,
    ) -> Result<MockServer, StartError> {
        if addr.ip() != IPV4_LOOPBACK && addr.ip() != IPV6_LOOPBACK {
            return Err(StartError::NotLoopback(addr.ip()));
        }
        let started = Instant::now();
        let listener = listen(addr).map_err(StartError::Io)?;
        let addr = listener.local_addr().map_err(StartError::Io)?;
        let remaining = script.responses.iter().map(|r| r.times).collect();
        let accept_remaining = script.on_accept.iter().map(|r| r.times).collect();
        let throttling = script
            .throttle
            .as_ref()
            .map(|t| Throttling::new(t, started));
        let refusing = throttling
            .as_ref()
            .is_some_and(|t| t.mode() == ThrottleMode::Refuse);
        let port_keeper = if refusing {
            let client = TcpStream::connect(addr).map_err(StartError::Io)?;
            let (server, _) = listener.accept().map_err(StartError::Io)?;
            listener.set_nonblocking(true).map_err(StartError::Io)?;
            Some((client, server))
        } else {
            None
        };
        let (accept_listener, kept_listener) = if refusing {
            (None, Some(listener))
        } else {
            (Some(listener), None)
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                script,
                remaining,
                accept_remaining,
                tokens: HashMap::new(),
                issued_tokens: Vec::new(),
                log: Vec::new(),
                events: Vec::new(),
                open_connections: 0,
                streams: HashMap::new(),
                throttling,
                listener: kept_listener,
            }),
            changed: Condvar::new(),
            stopping: AtomicBool::new(false),
            next_connection: AtomicU64::new(1),
            observer,
            started,
            addr,
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name("imds-mock-accept".into())
                .spawn(move || match accept_listener {
                    Some(listener) => accept_loop(&listener, &shared),
                    None => refusing_accept_loop(&shared),
                })
                .map_err(StartError::Io)?
        };
        Ok(MockServer {
            addr,
            shared,
            acceptor: Some(acceptor),
            _port_keeper: port_keeper,
        })
    }

    /// The address the mock listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port the mock listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The endpoint URL a client should use: `http://127.0.0.1:PORT` or `http://[::1]:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.lock().log.clone()
    }

    /// Every connection and listener event so far (throttling), in order.
    pub fn events(&self) -> Vec<MockEvent> {
        self.shared.lock().events.clone()
    }

    /// Waits until the mock listens (a refusing mock stops while it is over a limit); whether it
    /// does within `timeout`. A mock that does not refuse always listens.
    pub fn wait_until_listening(&self, timeout: Duration) -> bool {
        let state = self.shared.lock();
        let refusing = |s: &State| {
            s.throttling
                .as_ref()
                .is_some_and(|t| t.mode() == ThrottleMode::Refuse)
                && s.listener.is_none()
        };
        let (state, _) = self
            .shared
            .changed
            .wait_timeout_while(state, timeout, |s| refusing(s))
            .unwrap_or_else(|e| e.into_inner());
        !refusing(&state)
    }

    /// Every IMDSv2 token the mock issued (secrets a client must never print).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.shared.lock().issued_tokens.clone()
    }

    /// How many connections were accepted.
    pub fn connection_count(&self) -> u64 {
        self.shared.next_connection.load(Ordering::SeqCst) - 1
    }

    /// Stops accepting, wakes scripted delays, waits for open connections to be closed by their
    /// clients (cutting those still open after a short grace), and returns the complete log.
    pub fn stop(&mut self) -> Vec<RequestRecord> {
        if let Some(acceptor) = self.acceptor.take() {
            self.shared.stopping.store(true, Ordering::SeqCst);
            self.shared.changed.notify_all();
            // Wake the blocking accept with a connection of our own.
            let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
            let _ = acceptor.join();
            let mut state = self.shared.lock();
            let deadline = Instant::now() + DRAIN_GRACE;
            while state.open_connections > 0 {
                let now = Instant::now();
                if now >= deadline {
                    for stream in state.streams.values() {
                        let _ = stream.shutdown(Shutdown::Both);
                    }
                    drop(state);
                    // The connection threads end once their sockets are shut down.
                    let state = self.shared.lock();
                    let _ = self.shared.changed.wait_timeout_while(
                        state,
                        Duration::from_secs(1),
                        |s| s.open_connections > 0,
                    );
                    break;
                }
                let (next, _) = self
                    .shared
                    .changed
                    .wait_timeout(state, deadline - now)
                    .unwrap_or_else(|e| e.into_inner());
                state = next;
            }
        }
        self.requests()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A listener on `addr` with an accept queue of [`ACCEPT_QUEUE`].
fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let listener = TcpListener::bind(addr)?;
    // listen(2) again on a listening socket only changes the length of its queue.
    #[allow(unsafe_code)]
    // SAFETY: the descriptor is the listener's own and stays open for the call.
    let result = unsafe { libc::listen(listener.as_raw_fd(), ACCEPT_QUEUE) };
    if result != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(listener)
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let mut state = shared.lock();
        admit(shared, &mut state, stream);
    }
}

/// The accept loop of a mock that refuses connections past its limits: it listens only while a
/// new connection would be within them, and polls (without blocking in `accept`) so that a
/// request or connection that reaches a limit can stop the listening at once.
fn refusing_accept_loop(shared: &Arc<Shared>) {
    let mut state = shared.lock();
    loop {
        if shared.stopping.load(Ordering::SeqCst) {
            state.listener = None;
            return;
        }
        let now = Instant::now();
        let over = state.throttling.as_mut().and_then(|t| t.over_limit(now));
        if state.listener.is_none() {
            let wait = match over {
                None => {
                    if let Ok(listener) = listen(shared.addr)
                        && listener.set_nonblocking(true).is_ok()
                    {
                        state.listener = Some(listener);
                        shared.log_event(&mut state, EventKind::Listening);
                        shared.changed.notify_all();
                        continue;
                    }
                    // The port is kept by the mock's own connection, so binding fails only
                    // for want of resources: try again shortly.
                    REFUSING_ACCEPT_POLL
                }
                Some(Limit::Rate) => state
                    .throttling
                    .as_mut()
                    .map_or(REFUSING_ACCEPT_POLL, |t| t.until_token(now)),
                // A closing connection notifies.
                Some(Limit::Connections) => DRAIN_GRACE,
            };
            state = shared
                .changed
                .wait_timeout(state, wait.max(Duration::from_micros(50)))
                .unwrap_or_else(|e| e.into_inner())
                .0;
            continue;
        }
        if let Some(limit) = over {
            stop_listening(shared, &mut state, limit);
            continue;
        }
        let accepted = state.listener.as_ref().map(TcpListener::accept);
        match accepted {
            Some(Ok((stream, _))) if stream.set_nonblocking(false).is_ok() => {
                admit(shared, &mut state, stream);
                let now = Instant::now();
                if let Some(limit) = state.throttling.as_mut().and_then(|t| t.over_limit(now)) {
                    stop_listening(shared, &mut state, limit);
                }
            }
            Some(Ok(_)) => {}
            _ => {
                state = shared
                    .changed
                    .wait_timeout(state, REFUSING_ACCEPT_POLL)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        }
    }
}

/// Refuse mode: stops listening. Connections that completed their handshake before that are
/// accepted and closed (logged as dropped), then the listener is closed, so the next ones are
/// refused.
fn stop_listening(shared: &Shared, state: &mut State, limit: Limit) {
    let Some(listener) = state.listener.take() else {
        return;
    };
    while let Ok((stream, _)) = listener.accept() {
        let connection = shared.next_connection.fetch_add(1, Ordering::SeqCst);
        shared.log_event(state, EventKind::ConnectionDropped { connection, limit });
        let _ = stream.shutdown(Shutdown::Both);
    }
    drop(listener);
    shared.log_event(state, EventKind::StoppedListening { limit });
}

/// Takes a connection just accepted: drops it when it is over the connection limit (drop mode),
/// else serves it on a thread of its own.
fn admit(shared: &Arc<Shared>, state: &mut State, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let id = shared.next_connection.fetch_add(1, Ordering::SeqCst);
    let verdict = state
        .throttling
        .as_mut()
        .map_or(ConnectionVerdict::Admit, Throttling::accepted);
    if verdict == ConnectionVerdict::Drop {
        shared.log_event(
            state,
            EventKind::ConnectionDropped {
                connection: id,
                limit: Limit::Connections,
            },
        );
        let _ = stream.shutdown(Shutdown::Both);
        return;
    }
    let counted = verdict == ConnectionVerdict::Admit;
    state.open_connections += 1;
    if let Ok(clone) = stream.try_clone() {
        state.streams.insert(id, clone);
    }
    let on_accept = take_accept_rule(state);
    let worker = Arc::clone(shared);
    let spawned = thread::Builder::new()
        .name(format!("imds-mock-conn-{id}"))
        .spawn(move || {
            let _ = match on_accept {
                Some(action) => greet_connection(&stream, &action),
                None => serve_connection(stream, id, !counted, &worker),
            };
            let mut state = worker.lock();
            connection_ended(&mut state, id, counted);
            drop(state);
            worker.changed.notify_all();
        });
    if spawned.is_err() {
        connection_ended(state, id, counted);
    }
}

fn connection_ended(state: &mut State, id: u64, counted: bool) {
    state.open_connections -= 1;
    state.streams.remove(&id);
    if counted && let Some(throttling) = state.throttling.as_mut() {
        throttling.closed();
    }
}

/// The `on_accept` action for the connection just accepted, if a rule is left.
fn take_accept_rule(state: &mut State) -> Option<AcceptAction> {
    let State {
        script,
        accept_remaining,
        ..
    } = state;
    let (rule, left) = script
        .on_accept
        .iter()
        .zip(accept_remaining.iter_mut())
        .find(|(_, left)| **left > 0)?;
    *left -= 1;
    Some(rule.action.clone())
}

/// Carries out an `on_accept` action instead of serving the connection.
fn greet_connection(stream: &TcpStream, action: &AcceptAction) -> io::Result<()> {
    match action {
        AcceptAction::Reset => reset(stream),
        AcceptAction::Close => stream.shutdown(Shutdown::Both),
        AcceptAction::Send(bytes) => {
            let mut writer = stream;
            writer.write_all(bytes.as_bytes())?;
            // What the client sends on it is nobody's request: read until it closes.
            let mut reader = stream;
            let mut sink = [0u8; 4096];
            while reader.read(&mut sink)? > 0 {}
            Ok(())
        }
    }
}

/// Makes the connection end with a reset (`SO_LINGER` 0): its handles are closed as soon as the
/// connection thread returns.
#[allow(unsafe_code)]
fn reset(stream: &TcpStream) -> io::Result<()> {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    let size = libc::socklen_t::try_from(std::mem::size_of::<libc::linger>())
        .map_err(|_| io::Error::other("linger size"))?;
    // SAFETY: `stream` owns a valid socket descriptor for the whole call, and `linger` is a valid
    // `struct linger` whose size is passed along.
    let status = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            std::ptr::from_ref(&linger).cast(),
            size,
        )
    };
    if status != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A parsed request head.
struct Request {
    method: String,
    path: String,
    token: Option<String>,
    ttl: Option<String>,
    close: bool,
    content_length: usize,
    has_host: bool,
    user_agent: Option<String>,
}

fn parse_head(head: &[u8]) -> Option<Request> {
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.split("\r\n");
    let mut parts = lines.next()?.split(' ');
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let version = parts.next()?;
    if parts.next().is_some() || !version.starts_with("HTTP/1.") || method.is_empty() {
        return None;
    }
    let mut request = Request {
        method,
        path,
        token: None,
        ttl: None,
        close: version == "HTTP/1.0",
        content_length: 0,
        has_host: false,
        user_agent: None,
    };
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':')?;
        let value = value.trim();
        if name.eq_ignore_ascii_case(TOKEN_HEADER) {
            request.token = Some(value.to_string());
        } else if name.eq_ignore_ascii_case(TTL_HEADER) {
            request.ttl = Some(value.to_string());
        } else if name.eq_ignore_ascii_case("connection") {
            request.close = value.eq_ignore_ascii_case("close");
        } else if name.eq_ignore_ascii_case("content-length") {
            request.content_length = value.parse().ok()?;
        } else if name.eq_ignore_ascii_case("host") {
            request.has_host = true;
        } else if name.eq_ignore_ascii_case("user-agent") {
            request.user_agent = Some(value.to_string());
        }
    }
    Some(request)
}

/// What to send back for one request.
struct Answer {
    status: u16,
    body: Vec<u8>,
    headers: Vec<(String, String)>,
    rule: Override,
}

/// Serves requests on one connection until it closes. `over_limit`: the connection was accepted
/// past the connection limit (429 mode), so every request on it is answered 429.
fn serve_connection(
    stream: TcpStream,
    id: u64,
    over_limit: bool,
    shared: &Shared,
) -> io::Result<()> {
    let mut reader = &stream;
    let mut writer = BufWriter::new(&stream);
    let mut buffer: Vec<u8> = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let head_end = loop {
            if let Some(end) = find_head_end(&buffer) {
                break end;
            }
            if buffer.len() > MAX_HEAD {
                write_simple(&mut writer, 431, true)?;
                return Ok(());
            }
            let n = reader.read(&mut chunk)?;
            if n == 0 {
                return Ok(());
            }
            buffer.extend_from_slice(&chunk[..n]);
        };
        let Some(request) = parse_head(&buffer[..head_end]) else {
            write_simple(&mut writer, 400, true)?;
            return Ok(());
        };
        let mut consumed = head_end + 4;
        while buffer.len() < consumed + request.content_length {
            let n = reader.read(&mut chunk)?;
            if n == 0 {
                return Ok(());
            }
            buffer.extend_from_slice(&chunk[..n]);
        }
        consumed += request.content_length;
        buffer.drain(..consumed);

        let answer = answer(shared, id, over_limit, &request);
        if answer.rule.delay_ms > 0 && !wait_unless_stopping(shared, answer.rule.delay_ms) {
            return Ok(());
        }
        if answer.rule.close_without_response {
            return Ok(());
        }
        if let Some(raw) = &answer.rule.raw {
            writer.write_all(raw.as_bytes())?;
            writer.flush()?;
            let _ = writer.get_ref().shutdown(Shutdown::Both);
            return Ok(());
        }
        let close = request.close || answer.rule.connection_close || answer.rule.cut_off;
        let rule = &answer.rule;
        let (mut bytes, head_len) = render_answer(&answer, close);
        if rule.then_send_after_ms == 0
            && let Some(extra) = &rule.then_send
        {
            bytes.extend_from_slice(extra.as_bytes());
        }
        if rule.drip_ms > 0 {
            let at_once = if rule.drip_after_head { head_len } else { 0 };
            if !drip(&mut writer, shared, &bytes, at_once, rule.drip_ms)? {
                return Ok(());
            }
        } else {
            writer.write_all(&bytes)?;
            writer.flush()?;
        }
        if rule.then_send_after_ms > 0
            && let Some(extra) = &rule.then_send
        {
            if !wait_unless_stopping(shared, rule.then_send_after_ms) {
                return Ok(());
            }
            writer.write_all(extra.as_bytes())?;
            writer.flush()?;
        }
        if close {
            writer.flush()?;
            let _ = writer.get_ref().shutdown(Shutdown::Both);
            return Ok(());
        }
    }
}

/// Writes `bytes[..at_once]` at once, then the rest one byte every `every_ms`; `false` when the
/// mock is stopping.
fn drip(
    writer: &mut BufWriter<&TcpStream>,
    shared: &Shared,
    bytes: &[u8],
    at_once: usize,
    every_ms: u64,
) -> io::Result<bool> {
    let (head, rest) = bytes.split_at(at_once.min(bytes.len()));
    writer.write_all(head)?;
    writer.flush()?;
    for byte in rest {
        if !wait_unless_stopping(shared, every_ms) {
            return Ok(false);
        }
        writer.write_all(&[*byte])?;
        writer.flush()?;
    }
    Ok(true)
}

fn find_head_end(buffer: &[u8]) -> Option<usize> {
    buffer.windows(4).position(|w| w == b"\r\n\r\n")
}

/// Sleeps `ms`, or less if the mock is stopping; returns false when stopping.
fn wait_unless_stopping(shared: &Shared, ms: u64) -> bool {
    let deadline = Instant::now() + Duration::from_millis(ms);
    let mut state = shared.lock();
    loop {
        if shared.stopping.load(Ordering::SeqCst) {
            return false;
        }
        let now = Instant::now();
        if now >= deadline {
            return true;
        }
        state = shared
            .changed
            .wait_timeout(state, deadline - now)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
}

/// Decides the answer (consuming a matching override, unless the throttle answers), and logs the
/// request.
fn answer(shared: &Shared, connection: u64, over_limit: bool, request: &Request) -> Answer {
    let mut state = shared.lock();
    let state = &mut *state;
    let now = Instant::now();
    let verdict = state
        .throttling
        .as_mut()
        .map_or(RequestVerdict::Serve, |t| t.request(now, over_limit));
    let (answer, outcome) = match verdict {
        RequestVerdict::Serve => (scripted_answer(state, request), Outcome::Served),
        RequestVerdict::TooManyRequests(limit) => {
            let mut answer = plain(429);
            answer.rule.connection_close = limit == Limit::Connections;
            (answer, Outcome::Throttled(limit))
        }
        RequestVerdict::Drop(limit) => {
            let mut answer = plain(0);
            answer.rule.close_without_response = true;
            (answer, Outcome::Dropped(limit))
        }
    };
    let record = RequestRecord {
        connection,
        method: request.method.clone(),
        path: request.path.clone(),
        token_sent: request.token.is_some(),
        ttl: request.ttl.clone(),
        user_agent: request.user_agent.clone(),
        status: if answer.rule.close_without_response || answer.rule.raw.is_some() {
            0
        } else {
            answer.status
        },
        time_us: shared.micros_since_start(),
        outcome,
    };
    if let Some(observer) = &shared.observer {
        observer(LogEntry::Request(&record));
    }
    state.log.push(record);
    // Refuse mode: the request that takes the last token stops the listening before it is
    // answered, so a client that has the answer finds new connections refused.
    if let Some(limit) = state.throttling.as_mut().and_then(|t| {
        (t.mode() == ThrottleMode::Refuse)
            .then(|| t.over_limit(now))
            .flatten()
    }) {
        stop_listening(shared, state, limit);
    }
    answer
}

/// The answer the script gives (consuming a matching override).
fn scripted_answer(state: &mut State, request: &Request) -> Answer {
    // Looked up before `route` counts this use of the token.
    let token_secs_left = token_secs_left(state, request);
    let script = &state.script;
    let path = request
        .path
        .strip_prefix(script.path_prefix.as_str())
        .filter(|rest| rest.starts_with('/'));

    let mut rule = Override::default();
    if let Some(path) = path {
        let found = script
            .responses
            .iter()
            .zip(state.remaining.iter_mut())
            .find(|(r, left)| **left != Some(0) && r.matches(&request.method, path));
        if let Some((r, left)) = found {
            if let Some(n) = left {
                *n -= 1;
            }
            rule = r.clone();
        }
    }
    rule.chunked |= script.chunked;
    rule.connection_close |= script.connection_close;

    let mut answer = match (rule.status, rule.body.clone(), path) {
        (Some(status), body, _) => Answer {
            status,
            body: body
                .unwrap_or_else(|| reason(status).to_string())
                .into_bytes(),
            headers: Vec::new(),
            rule: Override::default(),
        },
        (None, Some(body), _) => Answer {
            status: 200,
            body: body.into_bytes(),
            headers: Vec::new(),
            rule: Override::default(),
        },
        // HTTP/1.1 requires Host; IMDS answers 400 without it.
        (None, None, _) if !request.has_host => plain(400),
        (None, None, None) => plain(404),
        (None, None, Some(path)) => route(state, request, path),
    };
    // As IMDS does: every answer to a request made with a valid token says how long the token
    // has left, whatever the status (a 401 says the token is not valid).
    if let Some(secs) = token_secs_left
        && answer.status != 401
    {
        answer.headers.push((TTL_HEADER.into(), secs.to_string()));
    }
    answer.headers.extend(rule.headers.iter().cloned());
    if rule.omit_ttl_header {
        answer
            .headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case(TTL_HEADER));
    }
    if let Some(size) = rule.oversize {
        answer.body.resize(size.max(answer.body.len()), b' ');
    }
    answer.rule = rule;
    answer
}

/// The whole seconds, rounded up, that the token `request` carries has left: `None` without a
/// token, or when the mock did not issue it, it expired or it was used up.
fn token_secs_left(state: &State, request: &Request) -> Option<u64> {
    let issued = state.tokens.get(request.token.as_deref()?)?;
    let within_uses = state.script.token_max_uses.is_none_or(|m| issued.uses < m);
    let left = issued.ttl.checked_sub(issued.issued.elapsed())?;
    (within_uses && !left.is_zero())
        .then(|| u64::try_from(left.as_millis().div_ceil(1_000)).unwrap_or(u64::MAX))
}

fn plain(status: u16) -> Answer {
    Answer {
        status,
        body: reason(status).as_bytes().to_vec(),
        headers: Vec::new(),
        rule: Override::default(),
    }
}

fn ok(body: impl Into<Vec<u8>>) -> Answer {
    Answer {
        status: 200,
        body: body.into(),
        headers: Vec::new(),
        rule: Override::default(),
    }
}

/// The unscripted behaviour of IMDS for `path` (already stripped of the endpoint prefix).
fn route(state: &mut State, request: &Request, path: &str) -> Answer {
    if path == TOKEN_PATH {
        if request.method != "PUT" {
            return plain(405);
        }
        let Some(ttl) = request.ttl.as_deref() else {
            return plain(400);
        };
        let Some(seconds) = ttl.parse::<u64>().ok().filter(|s| (1..=21_600).contains(s)) else {
            return plain(400);
        };
        let token = format!(
            "{}-{}",
            state.script.token_prefix,
            state.issued_tokens.len() + 1
        );
        let lifetime = state
            .script
            .token_lifetime_ms
            .map(Duration::from_millis)
            .unwrap_or(Duration::from_secs(seconds));
        state.tokens.insert(
            token.clone(),
            IssuedToken {
                issued: Instant::now(),
                ttl: lifetime,
                uses: 0,
            },
        );
        state.issued_tokens.push(token.clone());
        let mut answer = ok(token);
        answer.headers.push((TTL_HEADER.into(), ttl.to_string()));
        return answer;
    }
    if request.method != "GET" {
        return plain(405);
    }
    match request.token.as_deref() {
        Some(token) => {
            let max_uses = state.script.token_max_uses;
            let valid = state.tokens.get_mut(token).is_some_and(|t| {
                let fresh = t.issued.elapsed() < t.ttl && max_uses.is_none_or(|m| t.uses < m);
                if fresh {
                    t.uses += 1;
                }
                fresh
            });
            if !valid {
                return plain(401);
            }
        }
        None if state.script.imdsv2_only => return plain(401),
        None => {}
    }
    let script = &state.script;
    for (list, extended) in [(ROLE_LIST_PATH, false), (EXTENDED_ROLE_LIST_PATH, true)] {
        let Some(rest) = path.strip_prefix(list) else {
            continue;
        };
        if extended && !script.extended_api {
            return plain(404);
        }
        return match (&script.role, rest) {
            (Some(role), "") => ok(role.clone()),
            (Some(role), name) if name == role => {
                let with_account = extended || script.legacy_account_id;
                ok(script.credentials.to_json(with_account))
            }
            _ => plain(404),
        };
    }
    if let Some(rest) = path.strip_prefix(METADATA_PREFIX)
        && let Some((_, body)) = script.metadata.iter().find(|(p, _)| p == rest)
    {
        return ok(body.clone());
    }
    plain(404)
}

/// The usual reason phrase of `status`.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn write_simple(out: &mut BufWriter<&TcpStream>, status: u16, close: bool) -> io::Result<()> {
    out.write_all(&render_answer(&plain(status), close).0)?;
    out.flush()
}

/// The bytes of `answer` and the length of its head.
fn render_answer(answer: &Answer, close: bool) -> (Vec<u8>, usize) {
    let rule = &answer.rule;
    let mut out = format!(
        "HTTP/1.1 {} {}\r\nServer: imds-mock\r\nContent-Type: text/plain\r\n",
        answer.status,
        reason(answer.status)
    );
    for (name, value) in &answer.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    if close {
        out.push_str("Connection: close\r\n");
    }
    let body = &answer.body;
    if rule.chunked && !rule.cut_off {
        out.push_str("Transfer-Encoding: chunked\r\n\r\n");
        let head_len = out.len();
        let mut bytes = out.into_bytes();
        for piece in body.chunks(7) {
            bytes.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            bytes.extend_from_slice(piece);
            bytes.extend_from_slice(b"\r\n");
        }
        bytes.extend_from_slice(b"0\r\n\r\n");
        return (bytes, head_len);
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let head_len = out.len();
    let mut bytes = out.into_bytes();
    if rule.cut_off {
        bytes.extend_from_slice(&body[..body.len() / 2]);
    } else {
        bytes.extend_from_slice(body);
    }
    (bytes, head_len)
}
