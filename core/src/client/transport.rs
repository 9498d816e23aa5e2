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
//! Deadlines: each action gets `now + timeout` (the `timeout` setting), capped by the deadline of
//! the whole operation ([`OPERATION_TIMEOUT_MS`] from its start). A receive that makes progress
//! gets a fresh `now + timeout`.

use core::fmt;
use core::ops::Range;

use crate::endpoint::Endpoint;
use crate::error::{Error, ErrorKind};
use crate::http::{self, Head, Progress, ReadError, ResponseReader};
use crate::time::Instant;

/// Receive buffer: a response (head and body) larger than this is [`ErrorKind::ResponseTooLarge`].
pub const RECEIVE_CAPACITY: usize = 8 * 1024;
/// Send buffer: the largest request the client writes.
pub const SEND_CAPACITY: usize = 2 * 1024;
/// The overall deadline of one operation, from its start.
pub const OPERATION_TIMEOUT_MS: u64 = 30_000;

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
    /// A connection is open and nothing is pending: write the next request
    /// ([`Transport::write_request`]).
    Request,
    /// The connection was closed as asked.
    Closed,
    /// A deadline passed: judge this.
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
    /// The pending action failed with `kind` (`ConnectFailed`, `Io`, `Timeout` or
    /// `ConnectionClosed`).
    Failed { kind: ErrorKind, during: During },
    /// The response does not fit the receive buffer (`status` 0 before the head was read).
    TooLarge { status: u16 },
    /// The response is not HTTP as IMDS sends it.
    Malformed(&'static str),
    /// The operation's deadline passed.
    Expired,
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
    /// [`Ask::Send`] was asked; the next poll means it was sent.
    Sending { deadline: Instant },
    /// [`Ask::Receive`] was asked.
    Receiving { deadline: Instant },
    /// The connection must be closed; [`Ask::Close`] was asked (`asked`), and the next poll
    /// means it was closed.
    Closing { asked: bool },
    /// [`Ask::Wait`] was asked.
    Waiting { until: Instant },
}

/// The connection, the pending action and the buffers. `Debug` shows neither buffer (the request
/// carries the IMDSv2 token, the response may carry credentials).
#[derive(Clone)]
pub(crate) struct Transport {
    connection: Connection,
    io: Io,
    /// The running operation's deadline.
    deadline: Instant,
    /// The `timeout` setting, in milliseconds (at least 1).
    timeout_ms: u64,
    /// The current request was already re-sent once on a new connection.
    resent_on_stale_connection: bool,
    send_len: usize,
    send: [u8; SEND_CAPACITY],
    reader: ResponseReader<RECEIVE_CAPACITY>,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("connection", &self.connection)
            .field("io", &self.io)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// No connection; each action gets `timeout_ms` (the `timeout` setting).
    pub(crate) fn new(timeout_ms: u32) -> Self {
        Self {
            connection: Connection::Closed,
            io: Io::Ready,
            deadline: Instant::from_millis(0),
            timeout_ms: u64::from(timeout_ms.max(1)),
            resent_on_stale_connection: false,
            send_len: 0,
            send: [0; SEND_CAPACITY],
            reader: ResponseReader::new(),
        }
    }

    /// An operation starts at `now`: its deadline is [`OPERATION_TIMEOUT_MS`] away. A kept
    /// connection stays.
    pub(crate) fn begin(&mut self, now: Instant) {
        self.deadline = now.add_millis(OPERATION_TIMEOUT_MS);
        self.io = Io::Ready;
        self.resent_on_stale_connection = false;
    }

    /// The running operation's deadline.
    pub(crate) const fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The deadline of an action asked at `now`.
    fn action_deadline(&self, now: Instant) -> Instant {
        now.add_millis(self.timeout_ms).min(self.deadline)
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
                if now >= self.deadline {
                    return Next::Event(Event::Expired);
                }
                if self.connection == Connection::Closed {
                    let deadline = self.action_deadline(now);
                    self.io = Io::Connecting { deadline };
                    return Next::Ask(Ask::Connect { deadline });
                }
                Next::Request
            }
            Io::Connecting { deadline } if now >= deadline => {
                Next::Event(self.on_timeout(now, During::Connect))
            }
            Io::Receiving { deadline } if now >= deadline => {
                Next::Event(self.on_timeout(now, During::Receive))
            }
            Io::Connecting { deadline } => Next::Ask(Ask::Connect { deadline }),
            Io::Sending { .. } => {
                let deadline = self.action_deadline(now);
                self.io = Io::Receiving { deadline };
                Next::Ask(Ask::Receive { deadline })
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
    /// request target (for diagnostics; it never contains the token) and the send deadline.
    pub(crate) fn write_request(
        &mut self,
        now: Instant,
        endpoint: &Endpoint,
        request: &http::Request<'_>,
    ) -> Result<(&str, Instant), Error> {
        let written = http::write_request(&mut self.send, endpoint, request).map_err(|_| {
            Error::detail(
                ErrorKind::InvalidArgument,
                "the request does not fit the send buffer",
            )
        })?;
        self.send_len = written.len;
        self.reader.reset();
        let deadline = self.action_deadline(now);
        self.io = Io::Sending { deadline };
        let target = self
            .send
            .get(written.target)
            .and_then(|t| core::str::from_utf8(t).ok())
            .unwrap_or("");
        Ok((target, deadline))
    }

    /// The request to send, while [`Ask::Send`] is pending.
    pub(crate) fn send_data(&self) -> &[u8] {
        self.send.get(..self.send_len).unwrap_or(&[])
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
        self.io = Io::Ready;
        self.connection = Connection::Open {
            reused,
            must_close: false,
        };
    }

    /// Bytes arrived: an event once the response is whole or cannot be read.
    pub(crate) fn on_data(&mut self, now: Instant, data: &[u8]) -> Option<Event> {
        match self.reader.receive(data) {
            Ok(Progress::Partial) => {
                self.io = Io::Receiving {
                    deadline: self.action_deadline(now),
                };
                None
            }
            Ok(Progress::Complete) => self.response(),
            Err(error) => self.read_error(error),
        }
    }

    /// The peer closed the connection.
    pub(crate) fn on_eof(&mut self) -> Option<Event> {
        self.mark_must_close();
        match self.reader.eof() {
            Ok(_) => self.response(),
            Err(error) => self.read_error(error),
        }
    }

    /// The pending action (`during`, see [`Transport::pending`]) failed (`None`: the request is
    /// re-sent on a new connection).
    pub(crate) fn on_io_error(&mut self, during: During, error: IoError) -> Option<Event> {
        if during == During::Connect {
            self.connection = Connection::Closed;
            return Some(Event::Failed {
                kind: ErrorKind::ConnectFailed,
                during,
            });
        }
        self.mark_must_close();
        let kind = match error {
            IoError::ConnectionRefused | IoError::ConnectFailed => ErrorKind::ConnectFailed,
            IoError::ConnectionReset | IoError::Other => ErrorKind::Io,
        };
        (!self.resend_if_stale()).then_some(Event::Failed { kind, during })
    }

    /// The deadline of the pending action (`during`) passed at `now`.
    pub(crate) fn on_timeout(&mut self, now: Instant, during: During) -> Event {
        if during == During::Connect {
            self.connection = Connection::Closed;
        } else {
            self.mark_must_close();
        }
        if now >= self.deadline {
            return Event::Expired;
        }
        let kind = match during {
            During::Connect => ErrorKind::ConnectFailed,
            During::Send | During::Receive => ErrorKind::Timeout,
        };
        Event::Failed { kind, during }
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
                kind: ErrorKind::ConnectionClosed,
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
