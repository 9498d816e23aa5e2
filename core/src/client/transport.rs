//! The transport: the one connection a client uses, the action the host is carrying out, every
//! deadline, the request and response buffers, and the one re-send on a stale kept-alive
//! connection.
//!
//! It speaks HTTP/1.1 framing (through `crate::http`) but knows nothing of IMDS: which request
//! to send and what an answer means are the policy's (`super::policy`). What the host reports
//! back becomes an [`Event`] for the policy to judge, except a failure on a kept-alive connection
//! before any byte came back, which the transport settles itself by sending the request again on
//! a new connection ([`Transport::resend_if_stale`]).
//!
//! Deadlines: a connect gets `now + timeout` (the `timeout` setting). A request gets one deadline,
//! `timeout` after it is handed to the host, for writing it and for its whole response: a server
//! that sends slowly (a byte at a time, or a body trickling after its head) times out like one
//! that sends nothing. Nothing else bounds an operation: its length is a sum of these deadlines
//! and the policy's back-offs, over a number of requests the policy bounds.
//!
//! Only answers to requests: bytes that come when no request is outstanding (reported while a
//! request is about to be written, or arriving behind a complete response) are
//! [`Event::Unsolicited`]: the connection can no longer tell which answer belongs to which request,
//! so it is closed and whatever came on it discarded. Each connection has a [`ConnectionId`], so
//! that the policy can drop a token whose answer came on such a connection.
//!
//! The limit of this, which HTTP/1.1 sets: a response the server wrote before the request, but
//! that reaches the client only after the request was sent, looks exactly like the answer (no
//! HTTP/1.1 response names its request) and is taken for it. The checks above narrow that to
//! one response arriving in that window: a second one, or the real answer behind it, shows up
//! as bytes behind an answer or before the next request. Nothing in the framing can close the
//! window; the client keeps the secrets it holds out of paths and trace lines instead.

use core::fmt;
use core::ops::Range;

use crate::endpoint::Endpoint;
use crate::error::{Error, ErrorKind};
use crate::http::{self, Head, Progress, ReadError, ResponseReader};
use crate::secret::{self, Redacted};
use crate::time::Instant;

/// Receive buffer: a response (head and body) larger than this is [`ErrorKind::ResponseTooLarge`].
pub const RECEIVE_CAPACITY: usize = 8 * 1024;
/// Send buffer: the largest request the client writes.
pub const SEND_CAPACITY: usize = 2 * 1024;
/// An I/O failure as the host classifies it. The classes decide what the client does next
/// (see the `attempts` setting): a refused connection and a reset are retried within the
/// attempts, the others are final unless the number of attempts was set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IoError {
    /// The connection was refused (`ECONNREFUSED`: nothing listens on the endpoint). Retried.
    ConnectionRefused,
    /// The connection could not be made for another reason: the network or host is unreachable
    /// (`ENETUNREACH`, `EHOSTUNREACH`), the name does not resolve, ... Final unless `attempts`
    /// was set: it usually means there is no IMDS here.
    ConnectFailed,
    /// The connection was made, then reset or broken (`ECONNRESET`, `EPIPE`, `ECONNABORTED`),
    /// while connecting, sending or receiving: IMDS accepted and dropped it. Retried.
    ConnectionReset,
    /// Any other I/O error. Final unless `attempts` was set.
    Other,
}

/// A transport failure, classified for the policy's retry rule and for the error it becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Connecting was refused.
    Refused,
    /// The network or host is unreachable, or connecting failed for another reason.
    Unreachable,
    /// The connect deadline passed.
    ConnectTimeout,
    /// The server closed or reset the connection before the whole response came (end of stream,
    /// `ECONNRESET`, `EPIPE`): one failure however the host saw it, since which one it sees
    /// depends on timing.
    Dropped,
    /// The request's deadline passed before it was written and answered in full.
    Timeout,
    /// Another I/O error.
    Other,
}

/// What the transport asks of the host (the client turns it into a borrowing `Action`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ask {
    /// Open a connection to the endpoint by `deadline`.
    Connect { deadline: Instant },
    /// Write the send buffer by `deadline`.
    Send { deadline: Instant },
    /// Read by `deadline`.
    Receive { deadline: Instant },
    /// Close the connection.
    Close,
    /// Nothing to do before `until` (back-off).
    Wait { until: Instant },
}

/// What [`Transport::next`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Ask the host for this.
    Ask(Ask),
    /// The host wrote the request: ask it to receive, by `deadline`.
    Sent { deadline: Instant },
    /// A connection is open and nothing is pending: write the next request
    /// ([`Transport::write_request`]).
    Request,
    /// The connection was closed as asked.
    Closed,
    /// The connect deadline passed: judge this.
    Event(Event),
}

/// Which action failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum During {
    Connect,
    Send,
    Receive,
}

/// What happened on the connection, for the policy to judge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    /// A whole response is in the receive buffer ([`Transport::body`]).
    Response(Head),
    /// The pending action failed.
    Failed { failure: Failure, during: During },
    /// The response does not fit the receive buffer (`status` 0 before the head was read).
    TooLarge { status: u16 },
    /// The response is not HTTP as IMDS sends it.
    Malformed(&'static str),
    /// `len` bytes came that no request asked for: before the request was written, or behind a
    /// complete response. Whatever came on the connection is discarded; it is closed.
    Unsolicited { len: usize },
}

/// Which connection something came on: each connection the host opens or hands over gets the
/// next number (a client never sees enough connections to wrap a `u64`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ConnectionId(u64);

impl ConnectionId {
    /// The number before any connection was opened.
    pub(crate) const NONE: Self = Self(0);
}

/// The connection as the client knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Connection {
    /// None open.
    Closed,
    /// Open; `reused` once a response came back on it (or the host handed over a kept one),
    /// `must_close` when it cannot carry another request.
    Open { reused: bool, must_close: bool },
}

/// The host action the transport is waiting on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Io {
    /// Nothing pending.
    Ready,
    /// [`Ask::Connect`] was asked.
    Connecting { deadline: Instant },
    /// [`Ask::Send`] was asked; the next poll means it was sent. `deadline` is the request's.
    Sending { deadline: Instant },
    /// [`Ask::Receive`] was asked; `deadline` is the request's.
    Receiving { deadline: Instant },
    /// The connection must be closed; [`Ask::Close`] was asked (`asked`), and the next poll
    /// means it was closed.
    Closing { asked: bool },
    /// [`Ask::Wait`] was asked.
    Waiting { until: Instant },
}

/// The connection, the pending action and the buffers. `Debug` shows the buffers' lengths only
/// (the request carries the IMDSv2 token, the response may carry it or credentials). Both buffers
/// are wiped when their content is replaced or no longer needed, and when the transport is
/// dropped.
#[derive(Clone)]
pub(crate) struct Transport {
    connection: Connection,
    /// The open connection's number (the last one's while none is open).
    connection_id: ConnectionId,
    io: Io,
    /// The `timeout` setting, in milliseconds (at least 1).
    timeout_ms: u64,
    /// The current request was already re-sent once on a new connection.
    resent_on_stale_connection: bool,
    send_len: usize,
    /// Where the request target lies in `send` (empty once the request is wiped).
    target: Range<usize>,
    /// Bytes of `send` from here on are zero (as in `ResponseReader`).
    send_dirty: usize,
    send: [u8; SEND_CAPACITY],
    reader: ResponseReader<RECEIVE_CAPACITY>,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("connection", &self.connection)
            .field("io", &self.io)
            .field("request", &Redacted(self.send_len))
            .field("response", &Redacted(self.reader.buffered()))
            .finish_non_exhaustive()
    }
}

impl Drop for Transport {
    fn drop(&mut self) {
        secret::wipe_bytes(&mut self.send);
    }
}

impl Transport {
    /// No connection; each action gets `timeout_ms` (the `timeout` setting).
    pub(crate) fn new(timeout_ms: u32) -> Self {
        Self {
            connection: Connection::Closed,
            connection_id: ConnectionId::NONE,
            io: Io::Ready,
            timeout_ms: u64::from(timeout_ms.max(1)),
            resent_on_stale_connection: false,
            send_len: 0,
            target: 0..0,
            send_dirty: 0,
            send: [0; SEND_CAPACITY],
            reader: ResponseReader::new(),
        }
    }

    /// An operation starts. A kept connection stays.
    pub(crate) fn begin(&mut self) {
        self.io = Io::Ready;
        self.resent_on_stale_connection = false;
    }

    /// The deadline of a connect, or of a request and its whole response, asked at `now`.
    fn action_deadline(&self, now: Instant) -> Instant {
        now.add_millis(self.timeout_ms)
    }

    /// One step of the running operation at `now`.
    pub(crate) fn next(&mut self, now: Instant) -> Next {
        if let Io::Waiting { until } = self.io {
            if now < until {
                return Next::Ask(Ask::Wait { until });
            }
            self.io = Io::Ready;
        }
        match self.io {
            Io::Ready => {
                if let Connection::Open {
                    must_close: true, ..
                } = self.connection
                {
                    self.io = Io::Closing { asked: true };
                    return Next::Ask(Ask::Close);
                }
                if self.connection == Connection::Closed {
                    let deadline = self.action_deadline(now);
                    self.io = Io::Connecting { deadline };
                    return Next::Ask(Ask::Connect { deadline });
                }
                Next::Request
            }
            Io::Connecting { deadline } if now >= deadline => {
                Next::Event(self.on_timeout(During::Connect))
            }
            Io::Receiving { deadline } if now >= deadline => {
                Next::Event(self.on_timeout(During::Receive))
            }
            Io::Connecting { deadline } => Next::Ask(Ask::Connect { deadline }),
            Io::Sending { deadline } => {
                self.io = Io::Receiving { deadline };
                Next::Sent { deadline }
            }
            Io::Receiving { deadline } => Next::Ask(Ask::Receive { deadline }),
            Io::Closing { asked: false } => {
                self.io = Io::Closing { asked: true };
                Next::Ask(Ask::Close)
            }
            Io::Closing { asked: true } => {
                self.connection = Connection::Closed;
                self.io = Io::Ready;
                Next::Closed
            }
            Io::Waiting { until } => Next::Ask(Ask::Wait { until }),
        }
    }

    /// Writes `request` for `endpoint` into the send buffer and asks to send it; returns the
    /// request's deadline, `timeout` from `now`, for writing it and for its whole response.
    pub(crate) fn write_request(
        &mut self,
        now: Instant,
        endpoint: &Endpoint,
        request: &http::Request<'_>,
    ) -> Result<Instant, Error> {
        self.wipe_request();
        self.reader.wipe();
        let written = http::write_request(&mut self.send, endpoint, request).map_err(|_| {
            // Some of it may have been written.
            self.send_dirty = SEND_CAPACITY;
            Error::detail(
                ErrorKind::InvalidArgument,
                "the request does not fit the send buffer",
            )
        })?;
        self.send_len = written.len;
        self.send_dirty = written.len;
        self.target = written.target;
        let deadline = self.action_deadline(now);
        self.io = Io::Sending { deadline };
        Ok(deadline)
    }

    /// The target of the request written, until it is wiped (for diagnostics and the check that
    /// no secret goes into a path; it never contains the token header).
    pub(crate) fn target(&self) -> &str {
        self.send
            .get(self.target.clone())
            .and_then(|t| core::str::from_utf8(t).ok())
            .unwrap_or("")
    }

    /// The request to send, while [`Ask::Send`] is pending.
    pub(crate) fn send_data(&self) -> &[u8] {
        self.send.get(..self.send_len).unwrap_or(&[])
    }

    /// The request was sent, or will not be: overwrites it (it carries the token).
    pub(crate) fn wipe_request(&mut self) {
        if let Some(held) = self.send.get_mut(..self.send_dirty) {
            secret::wipe_bytes(held);
        }
        self.send_len = 0;
        self.send_dirty = 0;
        self.target = 0..0;
    }

    /// The response was used, or will not be: overwrites it (it may carry the token or
    /// credentials).
    pub(crate) fn wipe_response(&mut self) {
        self.reader.wipe();
    }

    /// Both buffers whole, to check in tests that they were wiped.
    #[cfg(test)]
    pub(crate) fn raw_buffers(&self) -> (&[u8; SEND_CAPACITY], &[u8; RECEIVE_CAPACITY]) {
        (&self.send, self.reader.raw_buffer())
    }

    /// Which action the host is carrying out (`None` when it is asked for nothing, is waiting
    /// out a back-off, or is closing).
    pub(crate) const fn pending(&self) -> Option<During> {
        match self.io {
            Io::Connecting { .. } => Some(During::Connect),
            Io::Sending { .. } => Some(During::Send),
            Io::Receiving { .. } => Some(During::Receive),
            Io::Ready | Io::Closing { .. } | Io::Waiting { .. } => None,
        }
    }

    /// Whether a back-off is being waited out.
    pub(crate) const fn is_waiting(&self) -> bool {
        matches!(self.io, Io::Waiting { .. })
    }

    /// Whether the connection is idle as far as the running operation goes: no action asked, or
    /// a back-off. Then the host may report that the server closed it.
    pub(crate) const fn is_idle(&self) -> bool {
        matches!(self.io, Io::Ready | Io::Waiting { .. })
    }

    /// The connection asked for by [`Ask::Connect`] is open; `reused` when the host handed over
    /// a kept-alive one instead of connecting.
    pub(crate) fn on_connected(&mut self, reused: bool) {
        self.connection_id = ConnectionId(self.connection_id.0.wrapping_add(1));
        self.io = Io::Ready;
        self.connection = Connection::Open {
            reused,
            must_close: false,
        };
    }

    /// Which connection is open (what is read now comes on it).
    pub(crate) const fn connection_id(&self) -> ConnectionId {
        self.connection_id
    }

    /// Bytes arrived while `during` was pending: an event once the response is whole or cannot
    /// be read. Bytes that come before the request is written ([`During::Send`]) or behind a
    /// complete response answer no request: [`Event::Unsolicited`].
    pub(crate) fn on_data(&mut self, during: During, data: &[u8]) -> Option<Event> {
        if during == During::Send {
            return Some(self.unsolicited(data.len()));
        }
        match self.reader.receive(data) {
            // The deadline stays the request's: progress does not buy time.
            Ok(Progress::Partial) => None,
            Ok(Progress::Complete) if self.reader.excess() > 0 => {
                let len = self.reader.excess();
                Some(self.unsolicited(len))
            }
            Ok(Progress::Complete) => self.response(),
            Err(error) => self.read_error(error),
        }
    }

    /// The peer closed the connection while `during` was pending: before the request was
    /// written ([`During::Send`]: a kept connection the server closed while idle is replaced
    /// once, a new one is a failure), or while its response was read.
    pub(crate) fn on_eof(&mut self, during: During) -> Option<Event> {
        self.mark_must_close();
        if during == During::Send {
            return (!self.resend_if_stale()).then_some(Event::Failed {
                failure: Failure::Dropped,
                during,
            });
        }
        match self.reader.eof() {
            Ok(_) => self.response(),
            Err(error) => self.read_error(error),
        }
    }

    /// Discards what came on the connection, which must close.
    fn unsolicited(&mut self, len: usize) -> Event {
        self.mark_must_close();
        self.reader.wipe();
        self.io = Io::Ready;
        Event::Unsolicited { len }
    }

    /// The pending action (`during`, see [`Transport::pending`]) failed (`None`: the request is
    /// re-sent on a new connection).
    pub(crate) fn on_io_error(&mut self, during: During, error: IoError) -> Option<Event> {
        if during == During::Connect {
            self.connection = Connection::Closed;
            let failure = match error {
                IoError::ConnectionRefused => Failure::Refused,
                // The handshake completed and the server reset the connection at once: a drop,
                // as if the host had seen it a moment later on the first write or read.
                IoError::ConnectionReset => Failure::Dropped,
                IoError::ConnectFailed | IoError::Other => Failure::Unreachable,
            };
            return Some(Event::Failed { failure, during });
        }
        self.mark_must_close();
        let failure = match error {
            IoError::ConnectionReset => Failure::Dropped,
            IoError::ConnectionRefused | IoError::ConnectFailed | IoError::Other => Failure::Other,
        };
        (!self.resend_if_stale()).then_some(Event::Failed { failure, during })
    }

    /// The deadline of the pending action (`during`) passed.
    pub(crate) fn on_timeout(&mut self, during: During) -> Event {
        let failure = if during == During::Connect {
            self.connection = Connection::Closed;
            Failure::ConnectTimeout
        } else {
            self.mark_must_close();
            Failure::Timeout
        };
        Event::Failed { failure, during }
    }

    /// Whether any byte of the current response arrived (a token request that timed out with
    /// none is the hop-limit case; one that trickled in is a slow server).
    pub(crate) const fn response_started(&self) -> bool {
        self.reader.started()
    }

    /// A request failed on a connection that served an earlier response, before any byte came
    /// back: the server most likely closed the idle connection. Asks to send it again, once, on
    /// a new connection (the old one is closed first); `false` when that does not apply.
    pub(crate) fn resend_if_stale(&mut self) -> bool {
        let reused = matches!(self.connection, Connection::Open { reused: true, .. });
        if !reused || self.reader.started() || self.resent_on_stale_connection {
            return false;
        }
        self.resent_on_stale_connection = true;
        self.io = Io::Ready;
        true
    }

    /// A whole response is in the buffer: the connection served it and is kept unless it must
    /// close.
    fn response(&mut self) -> Option<Event> {
        let head = self.reader.head()?;
        self.io = Io::Ready;
        self.resent_on_stale_connection = false;
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
        Some(Event::Response(head))
    }

    fn read_error(&mut self, error: ReadError) -> Option<Event> {
        let status = self.reader.head().map_or(0, |head| head.status);
        self.mark_must_close();
        match error {
            ReadError::Closed if self.resend_if_stale() => None,
            ReadError::Closed => Some(Event::Failed {
                failure: Failure::Dropped,
                during: During::Receive,
            }),
            ReadError::TooLarge => Some(Event::TooLarge { status }),
            ReadError::Malformed(detail) => Some(Event::Malformed(detail)),
        }
    }

    /// The body of the response just read.
    pub(crate) fn body(&self) -> &[u8] {
        self.reader.body()
    }

    /// Where the body of the response just read is in [`Transport::buffer`].
    pub(crate) fn body_range(&self) -> Range<usize> {
        self.reader.body_range().unwrap_or(0..0)
    }

    /// The receive buffer.
    pub(crate) fn buffer(&self) -> &[u8] {
        self.reader.buffer()
    }

    /// Nothing to do before `until`.
    pub(crate) fn wait(&mut self, until: Instant) {
        self.io = Io::Waiting { until };
    }

    /// Carry on with the next request (after a fallback or a change of course).
    pub(crate) fn ready(&mut self) {
        self.io = Io::Ready;
    }

    /// The operation is over: `true` when the connection must be closed first (the host is asked
    /// to, and [`Next::Closed`] follows).
    pub(crate) fn close_before_finishing(&mut self) -> bool {
        let must_close = matches!(
            self.connection,
            Connection::Open {
                must_close: true,
                ..
            }
        );
        if must_close {
            self.io = Io::Closing { asked: false };
        }
        must_close
    }

    /// The host closed the connection, or will (after an error, a cancel or a reset).
    pub(crate) fn forget_connection(&mut self) {
        self.connection = Connection::Closed;
    }

    fn mark_must_close(&mut self) {
        if let Connection::Open { reused, .. } = self.connection {
            self.connection = Connection::Open {
                reused,
                must_close: true,
            };
        }
    }
}
