"""The blocking connection, and what both drivers share: the clocks and the core's classification
of socket errors.

A connection carries out the I/O of the core's actions: ``open`` (connect, with TLS when asked),
``send``, ``receive``, ``close``, and ``take_pending`` (what is already there before a request is
written: bytes no request asked for, or the end of a kept connection the server closed). Timeouts
raise the built-in :class:`TimeoutError`, other failures :class:`OSError`.
:class:`imds._aio_connection.AsyncConnection` has the same operations over asyncio streams.
"""

from __future__ import annotations

import errno
import os
import select
import time

# The C socket module: `socket` itself also imports enum and friends (about 1 MiB and a few ms per
# process, a third of what `python -m imds` adds to the interpreter). `socket` is imported for TLS.
import _socket

from ._imds import IoError

TYPE_CHECKING = False  # typing is not imported at run time: it costs more than the rest
if TYPE_CHECKING:
    import ssl
    from typing import Any, List, Optional, Tuple, Union

    Socket = Union[_socket.socket, ssl.SSLSocket]

__all__ = ["monotonic_ms", "wall_seconds", "classify", "connect", "Connection"]

_READ_SIZE = 16 * 1024


def monotonic_ms() -> int:
    """Milliseconds on the monotonic clock: the ``now`` every :class:`imds.Client` call takes."""
    return time.monotonic_ns() // 1_000_000


def wall_seconds() -> int:
    """Whole seconds since the Unix epoch: the ``wall`` time expirations are compared with."""
    return int(time.time())


def classify(error: OSError, connecting: bool) -> IoError:
    """The core's classification of a socket error (the error itself is logged at DEBUG level,
    since the core's message cannot carry it)."""
    import logging

    doing = "connecting" if connecting else "talking to IMDS"
    logging.getLogger("imds").debug("socket error while %s: %r", doing, error)
    if isinstance(error, ConnectionRefusedError):
        return IoError.ConnectionRefused
    if isinstance(error, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        return IoError.ConnectionReset
    if connecting:
        return IoError.ConnectFailed
    return IoError.Other


def _addresses(host: str, port: int) -> List[Tuple[int, int, int, Any]]:
    """Where ``host`` is: an IP literal as it is (no resolver call: IMDS endpoints are literals),
    else what the resolver says."""
    for family, address in ((_socket.AF_INET, (host, port)), (_socket.AF_INET6, (host, port, 0, 0))):
        try:
            _socket.inet_pton(family, host)
        except OSError:
            continue
        return [(family, _socket.SOCK_STREAM, 0, address)]
    # An ASCII host as bytes spares the `encodings.idna` import.
    name = host.encode("ascii") if host.isascii() else host
    return [(f, k, p, a) for f, k, p, _, a in _socket.getaddrinfo(name, port, 0, _socket.SOCK_STREAM)]


# Created non-blocking where the platform can (Linux): no timeout to set before connecting.
_SOCK_NONBLOCK = getattr(_socket, "SOCK_NONBLOCK", 0)


def connect(host: str, port: int, timeout: float) -> _socket.socket:
    """A non-blocking TCP connection to the first address of ``host`` that accepts, like
    :func:`socket.create_connection`; ``timeout`` applies to each address tried (then
    :class:`TimeoutError`)."""
    last_error: Optional[OSError] = None
    for family, kind, proto, address in _addresses(host, port):
        sock = _socket.socket(family, kind | _SOCK_NONBLOCK, proto)
        try:
            if not _SOCK_NONBLOCK:
                sock.setblocking(False)
            _wait_connected(sock, sock.connect_ex(address), timeout)
            sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            return sock
        except OSError as error:
            sock.close()
            last_error = error
    raise last_error or OSError(f"no address for {host}")


def _wait_connected(sock: _socket.socket, status: int, timeout: float) -> None:
    """Waits until a non-blocking connect (``status`` from ``connect_ex``) completes:
    :class:`TimeoutError` after ``timeout`` seconds, the connect's own error if it failed
    (``ConnectionRefusedError``, ...)."""
    if status in (errno.EINPROGRESS, errno.EWOULDBLOCK):
        poller = select.poll()
        poller.register(sock, select.POLLOUT)
        if not poller.poll(max(timeout * 1000, 0)):
            raise TimeoutError("connecting timed out")
        status = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_ERROR)
    if status:
        raise OSError(status, os.strerror(status))


class Connection:
    """The one keep-alive connection a client uses, kept between operations.

    A plain TCP socket is non-blocking once connected: a send goes out at once (a request fits
    the socket's buffer), and a receive waits in ``poll`` only until its deadline, so each
    request costs send, poll and recv, as in the C driver. (A socket timeout would cost an
    ``ioctl`` per call to set it, and a ``poll`` before every send too.) A TLS socket keeps
    its timeout: data can wait inside TLS with nothing to read on the socket.
    """

    __slots__ = ("sock", "poller")

    def __init__(self) -> None:
        self.sock: Optional[Socket] = None
        self.poller: Optional[select.poll] = None

    def open(self, host: str, port: int, tls: bool, timeout: float) -> None:
        """Connects (closing any connection kept), wrapping it in TLS for ``host`` when ``tls``."""
        self.close()
        raw = connect(host, port, timeout)
        if not tls:
            self.poller = select.poll()
            self.poller.register(raw, select.POLLIN)
            self.sock = raw
            return
        import socket
        import ssl

        plain = socket.socket(raw.family, raw.type, raw.proto, fileno=raw.detach())
        try:
            plain.settimeout(timeout)
            self.sock = ssl.create_default_context().wrap_socket(plain, server_hostname=host)
        except _socket.timeout:
            plain.close()
            raise TimeoutError("connecting timed out") from None
        except BaseException:
            plain.close()
            raise

    def _open_socket(self) -> Socket:
        if self.sock is None:
            raise OSError("no connection is open")
        return self.sock

    def send(self, data: bytes, timeout: float) -> None:
        """Writes all of ``data`` within ``timeout`` seconds."""
        sock = self._open_socket()
        if self.poller is not None:
            try:
                sent = sock.send(data)
            except BlockingIOError:
                sent = 0
            if sent == len(data):
                return
            data = data[sent:]  # the socket's buffer was full: wait with a timeout, then go back
        try:
            sock.settimeout(max(timeout, 0.001))
            sock.sendall(data)
        except _socket.timeout:
            raise TimeoutError("sending timed out") from None
        finally:
            if self.poller is not None:
                sock.settimeout(0.0)

    def receive(self, timeout: float) -> bytes:
        """What arrives within ``timeout`` seconds (empty at the end of the stream). A deadline
        already past (``timeout`` 0) still takes what arrived meanwhile (the process may not have
        run for a while); only when nothing did, :class:`TimeoutError`."""
        sock = self._open_socket()
        poller = self.poller
        try:
            if poller is None:
                sock.settimeout(max(timeout, 0.001))
            elif not poller.poll(max(timeout * 1000, 0)):
                raise TimeoutError("receiving timed out")
            return sock.recv(_READ_SIZE)
        except _socket.timeout:
            raise TimeoutError("receiving timed out") from None

    def close(self) -> None:
        """Closes the connection, if one is open."""
        sock, self.sock, self.poller = self.sock, None, None
        if sock is not None:
            sock.close()

    def take_pending(self, timeout: float) -> Optional[bytes]:
        """What is already on the connection, before a request is written, without waiting:
        None when nothing is, else what a read gives (empty at the end of the stream); the
        connection's error is raised. Records a TLS server sends on its own (session tickets)
        carry no data: they leave nothing. ``timeout`` is unused here (the asyncio connection
        may need it)."""
        sock = self.sock
        if sock is None:
            return None
        if self.poller is not None:  # a plain socket, non-blocking
            if not self.poller.poll(0):
                return None
            try:
                return sock.recv(_READ_SIZE)
            except BlockingIOError:
                return None
        try:
            readable, _, _ = select.select([sock], [], [], 0)
        except ValueError:
            raise OSError("the connection is closed") from None
        pending = getattr(sock, "pending", None)  # a TLS socket's decrypted, unread bytes
        if not readable and not (pending is not None and pending()):
            return None
        kept = sock.gettimeout()
        sock.settimeout(0.0)
        try:
            return sock.recv(_READ_SIZE)
        except BlockingIOError:
            return None
        except OSError as error:
            import ssl

            if isinstance(error, ssl.SSLWantReadError):
                return None
            raise
        finally:
            sock.settimeout(kept)
