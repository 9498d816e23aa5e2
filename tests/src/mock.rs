//! The loopback mock IMDS server.
//!
//! [`MockServer::start`] binds `127.0.0.1` or `[::1]` (any other address is refused), on a free
//! port, and serves the IMDS paths as its [`Script`] says, one thread per connection, keep-alive
//! by default; a request without `Host` is answered 400, as HTTP/1.1 requires. Every request is
//! logged as a [`RequestRecord`] before it is answered, so once a
//! client has read an answer, [`MockServer::requests`] already shows the request; after the client
//! is gone, [`MockServer::stop`] waits for the connections to drain and the log is complete.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufWriter, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::script::{
    AcceptAction, EXTENDED_ROLE_LIST_PATH, METADATA_PREFIX, Override, ROLE_LIST_PATH, Script,
    TOKEN_HEADER, TOKEN_PATH, TTL_HEADER,
};

/// Request heads larger than this are refused (IMDS requests are a few hundred bytes).
const MAX_HEAD: usize = 16 * 1024;
/// How long [`MockServer::stop`] waits for clients to close before cutting their connections.
const DRAIN_GRACE: Duration = Duration::from_secs(2);

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
        })
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

/// Called with each request as it is logged (the binary writes them to a file).
pub type RequestObserver = Box<dyn Fn(&RequestRecord) + Send + Sync>;

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
    open_connections: usize,
    streams: HashMap<u64, TcpStream>,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    stopping: AtomicBool,
    next_connection: AtomicU64,
    observer: Option<RequestObserver>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking connection thread must not take the whole mock down with it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running mock IMDS. Dropping it stops it.
pub struct MockServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
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
    /// with each request as it is logged.
    pub fn start_on(
        script: Script,
        addr: SocketAddr,
        observer: Option<RequestObserver>,
    ) -> Result<MockServer, StartError> {
        if addr.ip() != IPV4_LOOPBACK && addr.ip() != IPV6_LOOPBACK {
            return Err(StartError::NotLoopback(addr.ip()));
        }
        let listener = TcpListener::bind(addr).map_err(StartError::Io)?;
        let addr = listener.local_addr().map_err(StartError::Io)?;
        let remaining = script.responses.iter().map(|r| r.times).collect();
        let accept_remaining = script.on_accept.iter().map(|r| r.times).collect();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                script,
                remaining,
                accept_remaining,
                tokens: HashMap::new(),
                issued_tokens: Vec::new(),
                log: Vec::new(),
                open_connections: 0,
                streams: HashMap::new(),
            }),
            changed: Condvar::new(),
            stopping: AtomicBool::new(false),
            next_connection: AtomicU64::new(1),
            observer,
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name("imds-mock-accept".into())
                .spawn(move || accept_loop(&listener, &shared))
                .map_err(StartError::Io)?
        };
        Ok(MockServer {
            addr,
            shared,
            acceptor: Some(acceptor),
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

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let _ = stream.set_nodelay(true);
        let id = shared.next_connection.fetch_add(1, Ordering::SeqCst);
        let on_accept = {
            let mut state = shared.lock();
            state.open_connections += 1;
            if let Ok(clone) = stream.try_clone() {
                state.streams.insert(id, clone);
            }
            take_accept_rule(&mut state)
        };
        let worker = Arc::clone(shared);
        let spawned = thread::Builder::new()
            .name(format!("imds-mock-conn-{id}"))
            .spawn(move || {
                let _ = match on_accept {
                    Some(action) => greet_connection(&stream, &action),
                    None => serve_connection(stream, id, &worker),
                };
                let mut state = worker.lock();
                state.open_connections -= 1;
                state.streams.remove(&id);
                drop(state);
                worker.changed.notify_all();
            });
        if spawned.is_err() {
            let mut state = shared.lock();
            state.open_connections -= 1;
            state.streams.remove(&id);
        }
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
    use std::os::fd::AsRawFd;
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

fn serve_connection(stream: TcpStream, id: u64, shared: &Shared) -> io::Result<()> {
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

        let answer = answer(shared, id, &request);
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

/// Decides the answer (consuming a matching override), and logs the request.
fn answer(shared: &Shared, connection: u64, request: &Request) -> Answer {
    let mut state = shared.lock();
    let state = &mut *state;
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
    };
    if let Some(observer) = &shared.observer {
        observer(&record);
    }
    state.log.push(record);
    answer
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

fn reason(status: u16) -> &'static str {
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
