"""The blocking driver: carries out the core's actions over blocking sockets.

It is the I/O half of the sans-IO design: :class:`imds.Client` decides what to send and when to
give up; this module opens the connection, writes and reads bytes with the deadlines the core
asks for (monotonic milliseconds from :func:`time.monotonic_ns`), and reports what happened.
"""

from __future__ import annotations

import errno
import os
import select
import time

# The C socket module: `socket` itself also imports enum and friends (about 1 MiB and a few ms per
# process, a third of what `python -m imds` adds to the interpreter). `socket` is imported for TLS.
import _socket

from ._imds import Action, Client, Credentials, IoError, Settings

TYPE_CHECKING = False  # typing is not imported at run time: it costs more than the rest
if TYPE_CHECKING:
    import ssl
    from typing import Any, Callable, Dict, List, Optional, Tuple, Union

    Socket = Union[_socket.socket, ssl.SSLSocket]

__all__ = ["monotonic_ms", "Connection", "run", "fetch_credentials", "get", "get_bytes"]

_READ_SIZE = 16 * 1024


def monotonic_ms() -> int:
    """Milliseconds on the monotonic clock: the ``now`` every :class:`Client` call takes."""
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
    :func:`socket.create_connection`; ``timeout`` applies to each address tried."""
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
    ``socket.timeout`` after ``timeout`` seconds, the connect's own error if it failed
    (``ConnectionRefusedError``, ...)."""
    if status in (errno.EINPROGRESS, errno.EWOULDBLOCK):
        poller = select.poll()
        poller.register(sock, select.POLLOUT)
        if not poller.poll(max(timeout * 1000, 0)):
            raise _socket.timeout("timed out")
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
        except BaseException:
            plain.close()
            raise

    def close(self) -> None:
        sock, self.sock, self.poller = self.sock, None, None
        if sock is not None:
            sock.close()

    def receive(self, sock: Socket, time_left_ms: int) -> bytes:
        """What arrives before the deadline, ``time_left_ms`` from now. A deadline already past
        still takes what arrived meanwhile (the process may not have run for a while); only
        when nothing did, ``socket.timeout``."""
        poller = self.poller
        if poller is None:
            sock.settimeout(max(time_left_ms, 1) / 1000)
            return sock.recv(_READ_SIZE)
        if not poller.poll(max(time_left_ms, 0)):
            raise _socket.timeout("timed out")
        return sock.recv(_READ_SIZE)

    def send(self, sock: Socket, data: bytes, time_left_ms: int) -> None:
        """Sends all of ``data`` before the deadline (``socket.timeout`` if it cannot)."""
        if self.poller is not None:
            try:
                sent = sock.send(data)
            except BlockingIOError:
                sent = 0
            if sent == len(data):
                return
            data = data[sent:]  # the socket's buffer was full: wait with a timeout, then go back
        sock.settimeout(max(time_left_ms, 1) / 1000)
        try:
            sock.sendall(data)
        finally:
            if self.poller is not None:
                sock.settimeout(0.0)


def run(
    client: Client,
    conn: Connection,
    clock: Callable[[], int] = monotonic_ms,
    on_diagnostic: Optional[Callable[[Any], None]] = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Drives the operation started on ``client`` to its end over ``conn``.

    Returns when the core says ``Done``; raises the core's :class:`imds.ImdsError` when the
    operation fails (the connection is then closed). Diagnostics go to ``on_diagnostic`` (the
    ``imds`` logger when None) as they are produced.
    """
    if on_diagnostic is None:
        on_diagnostic = _default_diagnostics()
    try:
        while True:
            for diagnostic in client.drain_diagnostics():
                on_diagnostic(diagnostic)
            now = clock()
            action = client.poll(now)
            if isinstance(action, Action.Receive):
                sock = conn.sock
                if sock is None:
                    client.handle_io_error(now, IoError.Other)
                    continue
                try:
                    data = conn.receive(sock, action.deadline - now)
                except _socket.timeout:
                    client.handle_timeout(clock())
                    continue
                except OSError as error:
                    client.handle_io_error(clock(), classify(error, False))
                    continue
                if data:
                    client.handle_data(clock(), data)
                else:
                    client.handle_eof(clock())
            elif isinstance(action, Action.Send):
                sock = conn.sock
                if sock is None:
                    client.handle_io_error(now, IoError.Other)
                    continue
                try:
                    conn.send(sock, action.data, action.deadline - now)
                except _socket.timeout:
                    client.handle_timeout(clock())
                except OSError as error:
                    client.handle_io_error(clock(), classify(error, False))
            elif isinstance(action, Action.Connect):
                remaining = (action.deadline - now) / 1000
                if remaining <= 0:
                    client.handle_timeout(now)
                    continue
                try:
                    conn.open(action.host, action.port, action.tls, remaining)
                except _socket.timeout:
                    client.handle_timeout(clock())
                    continue
                except OSError as error:
                    client.handle_io_error(clock(), classify(error, True))
                    continue
                client.handle_connected(clock())
            elif isinstance(action, Action.Done):
                for diagnostic in client.drain_diagnostics():
                    on_diagnostic(diagnostic)
                return
            elif isinstance(action, Action.Close):
                conn.close()
            elif isinstance(action, Action.Wait):
                delay = (action.until - now) / 1000
                if delay > 0:
                    sleep(delay)
    except BaseException:
        client.cancel()
        conn.close()
        for diagnostic in client.drain_diagnostics():
            on_diagnostic(diagnostic)
        raise


_log_diagnostic: Optional[Callable[[Any], None]] = None


def _default_diagnostics() -> Callable[[Any], None]:
    """Diagnostics to the ``imds`` logger (``logging`` is imported on first use, not at import)."""
    global _log_diagnostic
    if _log_diagnostic is None:
        from ._log import log_diagnostic

        _log_diagnostic = log_diagnostic
    return _log_diagnostic


def _settings(settings: Optional[Settings], explicit: Dict[str, Any]) -> Settings:
    if settings is not None:
        if explicit:
            raise TypeError("pass either settings or keyword settings, not both")
        return settings
    return Settings.load(explicit)


def fetch_credentials(settings: Optional[Settings] = None, **explicit: Any) -> Credentials:
    """Fetches the instance's role credentials once, over a blocking socket.

    Settings come from ``settings``, or are loaded from the environment and config file with
    ``explicit`` keyword values taking precedence (``endpoint="http://127.0.0.1:1338"``,
    ``timeout=0.5``, ``attempts=2``, ...). Raises an :class:`imds.ImdsError` subclass on failure.
    For repeated use keep an :class:`imds.Provider`, which caches.
    """
    client = Client(_settings(settings, explicit))
    conn = Connection()
    try:
        client.start_credentials(monotonic_ms(), wall_seconds())
        run(client, conn)
    finally:
        conn.close()
    credentials = client.credentials()
    if credentials is None:  # the core always has credentials after Done
        raise RuntimeError("imds-core finished without credentials")
    return credentials


def get_bytes(path: str, settings: Optional[Settings] = None, **explicit: Any) -> bytes:
    """Reads a metadata path (``placement/region``, ``instance-id``, ...) as bytes."""
    client = Client(_settings(settings, explicit))
    conn = Connection()
    try:
        client.start_get(path, monotonic_ms())
        run(client, conn)
    finally:
        conn.close()
    body = client.body()
    if body is None:
        raise RuntimeError("imds-core finished without a body")
    return body


def get(path: str, settings: Optional[Settings] = None, **explicit: Any) -> str:
    """Reads a metadata path (``placement/region``, ``instance-id``, ...) as text (UTF-8)."""
    return get_bytes(path, settings, **explicit).decode("utf-8", "replace")
