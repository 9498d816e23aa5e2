//! `imds_fetch_credentials()`: the blocking convenience.
//!
//! It runs one credentials operation on a caller's client with the same host loop as
//! `imds_core::blocking` (blocking `std::net` sockets, every connect / write / read deadline and
//! back-off the client asks for), so the client's caches (token, role, credentials) are used and
//! kept. It reads `CLOCK_MONOTONIC` in milliseconds for `now`, the clock `ffi-c/c/driver.c` uses,
//! so a client may be driven by both. Plain `http` endpoints only.

use std::io::{ErrorKind as IoKind, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use imds_core::client::IoError;
use imds_core::{Action, Error, ErrorKind, Instant, UnixTime};

use crate::client::{Handle, imds_client, live_mut};
use crate::credentials::imds_credentials;
use crate::ffi::{self, Failure};
use crate::result::imds_result;

/// Bytes read from the socket at a time.
const READ_CHUNK: usize = 4096;
/// Upper bound on actions for one operation (the client's own 30 s deadline ends it first).
const MAX_ACTIONS: usize = 100_000;

/// Fetches credentials on `client`, blocking until they arrive or the operation fails, and stores
/// views of them in `*credentials_out` (valid until the next non-`const` call on the client).
/// Fresh cached credentials are returned without a request. Diagnostics stay queued on the client
/// (`imds_client_next_diagnostic()`); the failure message is in `imds_client_last_error()`.
///
/// Uses blocking sockets with the deadlines the client hands out and `CLOCK_MONOTONIC`
/// milliseconds. After initialisation in caller storage it does not allocate when the endpoint
/// host is an IP literal (a name is resolved with `getaddrinfo()`, which allocates).
///
/// Errors: `IMDS_RESULT_NULL_PARAMETER`; `IMDS_RESULT_NOT_INITIALIZED`; `IMDS_RESULT_UNSUPPORTED`
/// (`https` endpoint); every error of the exchange.
#[unsafe(no_mangle)]
pub extern "C" fn imds_fetch_credentials(
    client: *mut imds_client,
    credentials_out: *mut imds_credentials,
) -> imds_result {
    ffi_boundary! {
        let handle = match live_mut(client) {
            Ok(handle) => handle,
            Err(failure) => return failure.result(),
        };
        let outcome = (|| {
            let out = ffi::try_out(credentials_out)?;
            fetch(handle)?;
            let credentials = handle.client.credentials().ok_or(Failure::Core(Error::detail(
                ErrorKind::InvalidState,
                "the client finished without credentials",
            )))?;
            ffi::write_out(out, imds_credentials::borrow(credentials));
            Ok(())
        })();
        handle.record(outcome)
    }
}

fn fetch(handle: &mut Handle) -> Result<(), Failure> {
    handle.client.start_credentials(now(), wall_clock())?;
    let mut stream = None;
    let result = drive(handle, &mut stream);
    if result.is_err() {
        handle.client.cancel();
    }
    // The connection is not kept past the call: tell the client the next operation connects anew.
    drop(stream);
    let _ = handle.client.handle_closed();
    result
}

/// How an I/O step failed, as the client wants to hear it.
enum Outcome {
    Timeout,
    Io(IoError),
}

fn drive(handle: &mut Handle, stream: &mut Option<TcpStream>) -> Result<(), Failure> {
    let client = &mut handle.client;
    for _ in 0..MAX_ACTIONS {
        let at = now();
        match client.poll(at)? {
            Action::Done => return Ok(()),
            Action::Connect { tls: true, .. } => {
                return Err(Failure::Core(Error::detail(
                    ErrorKind::Unsupported,
                    "the blocking driver speaks plain HTTP only; use an http:// endpoint",
                )));
            }
            Action::Connect {
                host,
                port,
                deadline,
                ..
            } => {
                let outcome = connect(host, port, remaining(at, deadline));
                match outcome {
                    Ok(connected) => {
                        *stream = Some(connected);
                        client.handle_connected(now())?;
                    }
                    Err(Outcome::Timeout) => client.handle_timeout(now())?,
                    Err(Outcome::Io(kind)) => client.handle_io_error(now(), kind)?,
                }
            }
            Action::Send { data, deadline } => {
                let outcome = match stream.as_mut() {
                    Some(s) => send(s, data, remaining(at, deadline)),
                    None => Err(Outcome::Io(IoError::ConnectionReset)),
                };
                match outcome {
                    Ok(()) => {}
                    Err(Outcome::Timeout) => client.handle_timeout(now())?,
                    Err(Outcome::Io(kind)) => client.handle_io_error(now(), kind)?,
                }
            }
            Action::Receive { deadline } => {
                let mut buf = [0u8; READ_CHUNK];
                let outcome = match stream.as_mut() {
                    Some(s) => receive(s, &mut buf, remaining(at, deadline)),
                    None => Err(Outcome::Io(IoError::ConnectionReset)),
                };
                match outcome {
                    Ok(0) => client.handle_eof(now())?,
                    Ok(n) => client.handle_data(now(), buf.get(..n).unwrap_or(&[]))?,
                    Err(Outcome::Timeout) => client.handle_timeout(now())?,
                    Err(Outcome::Io(kind)) => client.handle_io_error(now(), kind)?,
                }
            }
            Action::Close => *stream = None,
            Action::Wait { until } => {
                std::thread::sleep(remaining(at, until).unwrap_or(Duration::ZERO));
            }
            _ => {
                return Err(Failure::Core(Error::detail(
                    ErrorKind::Unsupported,
                    "the core asked for an action this version of libimds does not know",
                )));
            }
        }
    }
    Err(Failure::Core(Error::detail(
        ErrorKind::InvalidState,
        "the operation did not finish within the driver's action bound",
    )))
}

/// Time left until `deadline`, or `None` when it has passed.
fn remaining(now: Instant, deadline: Instant) -> Option<Duration> {
    let millis = deadline.millis_since(now);
    (millis > 0).then(|| Duration::from_millis(millis))
}

fn classify(error: &std::io::Error) -> Outcome {
    match error.kind() {
        IoKind::TimedOut | IoKind::WouldBlock => Outcome::Timeout,
        IoKind::ConnectionRefused => Outcome::Io(IoError::ConnectionRefused),
        IoKind::ConnectionReset
        | IoKind::ConnectionAborted
        | IoKind::BrokenPipe
        | IoKind::UnexpectedEof => Outcome::Io(IoError::ConnectionReset),
        _ => Outcome::Io(IoError::Other),
    }
}

fn connect(host: &str, port: u16, time_left: Option<Duration>) -> Result<TcpStream, Outcome> {
    let time_left = time_left.ok_or(Outcome::Timeout)?;
    // An IP literal needs no resolver (and no allocation).
    if let Ok(ip) = host.parse::<IpAddr>() {
        return connect_one(&SocketAddr::new(ip, port), time_left);
    }
    let addresses = (host, port)
        .to_socket_addrs()
        .map_err(|_| Outcome::Io(IoError::ConnectFailed))?;
    let mut last = Outcome::Io(IoError::ConnectFailed);
    for address in addresses {
        match connect_one(&address, time_left) {
            Ok(stream) => return Ok(stream),
            Err(outcome) => last = outcome,
        }
    }
    Err(last)
}

fn connect_one(address: &SocketAddr, time_left: Duration) -> Result<TcpStream, Outcome> {
    let stream =
        TcpStream::connect_timeout(address, time_left).map_err(|e| match classify(&e) {
            Outcome::Io(IoError::ConnectionReset | IoError::Other) => {
                Outcome::Io(IoError::ConnectFailed)
            }
            other => other,
        })?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

fn send(stream: &mut TcpStream, data: &[u8], time_left: Option<Duration>) -> Result<(), Outcome> {
    let time_left = time_left.ok_or(Outcome::Timeout)?;
    stream
        .set_write_timeout(Some(time_left))
        .map_err(|e| classify(&e))?;
    stream.write_all(data).map_err(|e| classify(&e))
}

fn receive(
    stream: &mut TcpStream,
    buf: &mut [u8],
    time_left: Option<Duration>,
) -> Result<usize, Outcome> {
    let time_left = time_left.ok_or(Outcome::Timeout)?;
    stream
        .set_read_timeout(Some(time_left))
        .map_err(|e| classify(&e))?;
    let mut last = Outcome::Io(IoError::Other);
    for _ in 0..16 {
        match stream.read(buf) {
            Err(error) if error.kind() == IoKind::Interrupted => last = classify(&error),
            other => return other.map_err(|e| classify(&e)),
        }
    }
    Err(last)
}

fn wall_clock() -> UnixTime {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    UnixTime::from_secs(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// `CLOCK_MONOTONIC` in milliseconds (the clock `driver.c` uses).
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn now() -> Instant {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    const CLOCK_MONOTONIC: core::ffi::c_int = 1;
    unsafe extern "C" {
        fn clock_gettime(clock: core::ffi::c_int, time: *mut Timespec) -> core::ffi::c_int;
    }
    let mut time = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` is the C library's, declared with its 64-bit Linux signature
    // (`clockid_t` is `int`, `time_t` and `long` are 64 bits); `time` is a valid out-pointer.
    let status = unsafe { clock_gettime(CLOCK_MONOTONIC, &mut time) };
    if status != 0 {
        return Instant::from_millis(0);
    }
    let secs = u64::try_from(time.tv_sec).unwrap_or(0);
    let millis = u64::try_from(time.tv_nsec / 1_000_000).unwrap_or(0);
    Instant::from_millis(secs.saturating_mul(1000).saturating_add(millis))
}

/// A monotonic clock in milliseconds from the first use in this process.
#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
fn now() -> Instant {
    static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let origin = ORIGIN.get_or_init(std::time::Instant::now);
    Instant::from_millis(u64::try_from(origin.elapsed().as_millis()).unwrap_or(u64::MAX))
}
