"""The blocking driver: carries out the core's actions over blocking sockets.

It is the I/O half of the sans-IO design: :class:`imds.Client` decides what to send and when to
give up; this module opens the connection, writes and reads bytes with the deadlines the core
asks for (monotonic milliseconds from :func:`time.monotonic_ns`), and reports what happened.
"""

from __future__ import annotations

import time

# The C socket module: `socket` itself also imports enum and friends (about 1 MiB and a few ms per
# process, a third of what `python -m imds` adds to the interpreter). `socket` is imported for TLS.
import _socket

from ._imds import Action, Client, Credentials, IoError, Settings

TYPE_CHECKING = False  # typing is not imported at run time: it costs more than the rest
if TYPE_CHECKING:
    import ssl
    from typing import Any, Callable, Dict, Optional, Union

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
    """The one keep-alive connection a client uses, kept between operations."""

    __slots__ = ("sock",)

    def __init__(self) -> None:
        self.sock: Optional[Socket] = None

    def open(self, host: str, port: int, tls: bool, timeout: float) -> None:
        self.close()
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

    def close(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            sock.close()

    def gone(self) -> bool:
        """Whether the kept connection is done for: on a keep-alive connection nobody is using,
        anything to read (end of stream, an error, bytes no request asked for) means the server
        closed it or it can no longer carry a request."""
        if self.sock is None:
            return False
        import select

        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)


def forget_if_closed(client: Client, conn: Connection) -> None:
    """The client is not using ``conn`` (an operation not yet polled, or a back-off): when the
    server closed it meanwhile, say so, so that the next request connects anew instead of failing
    on it and being sent again."""
    if conn.gone():
        conn.close()
        client.handle_closed()


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
        from ._log import log_diagnostic

        on_diagnostic = log_diagnostic
    try:
        forget_if_closed(client, conn)
        while True:
            for diagnostic in client.drain_diagnostics():
                on_diagnostic(diagnostic)
            now = clock()
            action = client.poll(now)
            if isinstance(action, Action.Receive):
                remaining = (action.deadline - now) / 1000
                sock = conn.sock
                if sock is None:
                    client.handle_io_error(now, IoError.Other)
                    continue
                if remaining <= 0:
                    client.handle_timeout(now)
                    continue
                try:
                    sock.settimeout(remaining)
                    data = sock.recv(_READ_SIZE)
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
                remaining = (action.deadline - now) / 1000
                sock = conn.sock
                if sock is None:
                    client.handle_io_error(now, IoError.Other)
                    continue
                if remaining <= 0:
                    client.handle_timeout(now)
                    continue
                try:
                    sock.settimeout(remaining)
                    sock.sendall(action.data)
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
                forget_if_closed(client, conn)
    except BaseException:
        client.cancel()
        conn.close()
        for diagnostic in client.drain_diagnostics():
            on_diagnostic(diagnostic)
        raise


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
        client.start_get(monotonic_ms(), path)
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
