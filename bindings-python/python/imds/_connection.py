"""The blocking connection, and what both drivers share: the clocks and the core's classification
of socket errors.

A connection carries out the I/O of the core's actions: ``open`` (connect, with TLS when asked),
``send``, ``receive``, ``close``, and ``take_pending`` (what is already there before a request is
written: bytes no request asked for, or the end of a kept connection the server closed). Timeouts
raise the built-in :class:`TimeoutError`, other failures :class:`OSError`.
:class:`imds._aio_connection.AsyncConnection` has the same operations over asyncio streams.
"""

from __future__ import annotations

import time

# The C socket module: `socket` itself also imports enum and friends (about 1 MiB and a few ms per
# process, a third of what `python -m imds` adds to the interpreter). `socket` is imported for TLS.
import _socket

from ._imds import IoError

TYPE_CHECKING = False  # typing is not imported at run time: it costs more than the rest
if TYPE_CHECKING:
    import ssl
    from typing import Optional, Union

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


def connect(host: str, port: int, timeout: float) -> _socket.socket:
    """A TCP connection to the first address of ``host`` that accepts, like
    :func:`socket.create_connection`; ``timeout`` applies to each address tried."""
    # An ASCII host as bytes spares the `encodings.idna` import.
    name = host.encode("ascii") if host.isascii() else host
    last_error: Optional[OSError] = None
    for family, kind, proto, _, address in _socket.getaddrinfo(name, port, 0, _socket.SOCK_STREAM):
        sock = _socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(address)
            sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            return sock
        except OSError as error:
            sock.close()
            last_error = error
    raise last_error or OSError(f"no address for {host}")


class Connection:
    """The one keep-alive connection a client uses, kept between operations, over blocking
    sockets."""

    __slots__ = ("sock",)

    def __init__(self) -> None:
        self.sock: Optional[Socket] = None

    def open(self, host: str, port: int, tls: bool, timeout: float) -> None:
        """Connects (closing any connection kept), wrapping it in TLS for ``host`` when ``tls``."""
        self.close()
        try:
            raw = connect(host, port, timeout)
            if not tls:
                self.sock = raw
                return
            import socket
            import ssl

            plain = socket.socket(raw.family, raw.type, raw.proto, fileno=raw.detach())
            try:
                plain.settimeout(timeout)
                self.sock = ssl.create_default_context().wrap_socket(plain, server_hostname=host)
            except BaseException:
                plain.close()
                raise
        except _socket.timeout:
            raise TimeoutError("connecting timed out") from None

    def _open_socket(self) -> Socket:
        if self.sock is None:
            raise OSError("no connection is open")
        return self.sock

    def send(self, data: bytes, timeout: float) -> None:
        """Writes all of ``data`` within ``timeout`` seconds."""
        sock = self._open_socket()
        try:
            sock.settimeout(timeout)
            sock.sendall(data)
        except _socket.timeout:
            raise TimeoutError("sending timed out") from None

    def receive(self, timeout: float) -> bytes:
        """What arrives within ``timeout`` seconds (empty at the end of the stream)."""
        sock = self._open_socket()
        try:
            sock.settimeout(timeout)
            return sock.recv(_READ_SIZE)
        except _socket.timeout:
            raise TimeoutError("receiving timed out") from None

    def close(self) -> None:
        """Closes the connection, if one is open."""
        sock, self.sock = self.sock, None
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
        import select

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
