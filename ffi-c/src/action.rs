//! `imds_action`: what the host must do next, and how the host reports I/O failures.

use imds_core::Action;
use imds_core::client::IoError;

use crate::failure::Failure;
use crate::text::{imds_bytes, imds_str};

/// The kind of an [`imds_action`]. Each constant's doc is the instruction to the host.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum imds_action_kind {
    /// Open a TCP connection to `host:port` (`host` is a name or an IP literal without brackets;
    /// with `tls`, wrap it in TLS for `host`). Then call `imds_client_handle_connected()`, or
    /// `imds_client_handle_io_error()` on failure, or `imds_client_handle_timeout()` once
    /// `deadline_ms` passes.
    Connect = 1,
    /// First check the connection without blocking (e.g. `recv(..., MSG_DONTWAIT)`): if bytes,
    /// the end of the stream or an error are already there, report them
    /// (`imds_client_handle_data()`, `imds_client_handle_eof()`, `imds_client_handle_io_error()`)
    /// instead of writing, and poll again: the server sent something no request asked for, or
    /// closed a kept connection, and the client closes it and sends the request on a new one.
    /// Otherwise write all `len` bytes at `data`, then poll again. On failure call
    /// `imds_client_handle_io_error()`; once `deadline_ms` (the request's) passes,
    /// `imds_client_handle_timeout()`.
    Send = 2,
    /// Read from the connection and pass what arrives to `imds_client_handle_data()` (or
    /// `imds_client_handle_eof()` when the peer closed); once `deadline_ms` passes before the
    /// response is whole, `imds_client_handle_timeout()`. Then poll again. `deadline_ms` is the
    /// request's: it stays the same for every `RECEIVE` of one response.
    Receive = 3,
    /// Close the connection, then poll again.
    Close = 4,
    /// Nothing to do before `deadline_ms` (retry back-off): poll again then.
    Wait = 5,
    /// The operation succeeded: read `imds_client_credentials()` or `imds_client_body()`. An open
    /// connection may be kept for the next operation.
    Done = 6,
}

/// What the host must do next, from `imds_client_poll()`.
///
/// The views (`host`, `data`) point into the client and stay valid until the next call that
/// takes the client as non-`const`. Fields a kind does not use are empty (never NULL) or zero.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct imds_action {
    /// What to do.
    pub kind: imds_action_kind,
    /// `IMDS_ACTION_KIND_CONNECT`: the host name or IP literal (no brackets) to connect to.
    pub host: imds_str,
    /// `IMDS_ACTION_KIND_CONNECT`: the TCP port.
    pub port: u16,
    /// `IMDS_ACTION_KIND_CONNECT`: whether the endpoint is `https` (a driver without TLS reports
    /// `imds_client_handle_unsupported()`).
    pub tls: bool,
    /// `IMDS_ACTION_KIND_SEND`: the bytes to write.
    pub data: imds_bytes,
    /// Connect, send and receive: give up at this instant (host monotonic milliseconds, the clock
    /// of the `now_ms` arguments). Wait: poll again at this instant. Otherwise 0.
    pub deadline_ms: u64,
}

impl imds_action {
    /// The C view of a core action; `None` for an action this binding does not know.
    pub(crate) fn from_core(action: &Action<'_>) -> Option<Self> {
        let mut out = Self {
            kind: imds_action_kind::Done,
            host: imds_str::EMPTY,
            port: 0,
            tls: false,
            data: imds_bytes::EMPTY,
            deadline_ms: 0,
        };
        match *action {
            Action::Connect {
                host,
                port,
                tls,
                deadline,
            } => {
                out.kind = imds_action_kind::Connect;
                out.host = imds_str::borrow(host);
                out.port = port;
                out.tls = tls;
                out.deadline_ms = deadline.as_millis();
            }
            Action::Send { data, deadline } => {
                out.kind = imds_action_kind::Send;
                out.data = imds_bytes::borrow(data);
                out.deadline_ms = deadline.as_millis();
            }
            Action::Receive { deadline } => {
                out.kind = imds_action_kind::Receive;
                out.deadline_ms = deadline.as_millis();
            }
            Action::Close => out.kind = imds_action_kind::Close,
            Action::Wait { until } => {
                out.kind = imds_action_kind::Wait;
                out.deadline_ms = until.as_millis();
            }
            Action::Done => out.kind = imds_action_kind::Done,
            _ => return None,
        }
        Some(out)
    }
}

/// How the host classifies an I/O failure for `imds_client_handle_io_error()`. The class decides
/// what the client does next: a refused connection and a reset are retried within the attempts;
/// the others are final unless the number of attempts was set.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum imds_io_error {
    /// The connection was refused (`ECONNREFUSED`: nothing listens on the endpoint). Retried.
    ConnectionRefused = 1,
    /// The connection could not be made for another reason (`ENETUNREACH`, `EHOSTUNREACH`, name
    /// not found, ...). Final unless attempts was set: there is most likely no IMDS here.
    ConnectFailed = 2,
    /// The connection was made, then reset or broken (`ECONNRESET`, `EPIPE`, `ECONNABORTED`),
    /// whether the host saw it while connecting, sending or receiving. Retried.
    ConnectionReset = 3,
    /// Any other I/O error. Final unless attempts was set.
    Other = 4,
}

/// The I/O error a C caller passed, or `IMDS_RESULT_INVALID_ARGUMENT`.
pub(crate) fn io_error_from_c(error: u32) -> Result<IoError, Failure> {
    const KINDS: [(imds_io_error, IoError); 4] = [
        (imds_io_error::ConnectionRefused, IoError::ConnectionRefused),
        (imds_io_error::ConnectFailed, IoError::ConnectFailed),
        (imds_io_error::ConnectionReset, IoError::ConnectionReset),
        (imds_io_error::Other, IoError::Other),
    ];
    KINDS
        .into_iter()
        .find(|(c, _)| *c as u32 == error)
        .map(|(_, kind)| kind)
        .ok_or(Failure::invalid_argument(
            "the I/O error is not one of the IMDS_IO_ERROR_* constants",
        ))
}
