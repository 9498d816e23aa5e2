"""The blocking driver: carries out the core's actions over blocking sockets.

It is the I/O half of the sans-IO design: :class:`imds.Client` decides what to send and when to
give up; the loop opens the connection, writes and reads bytes with the deadlines the core asks
for (monotonic milliseconds from :func:`time.monotonic_ns`), and reports what happened.

GENERATED from ``_async_driver.py`` by ``bindings-python/scripts/unasync.py``: edit that file and
run the script (``make test`` fails when this one is not current).
"""

from __future__ import annotations

import time

from ._connection import Connection
from ._connection import classify, monotonic_ms, wall_seconds
from ._imds import Action, Client, Credentials, IoError, Settings

TYPE_CHECKING = False  # typing is not imported at run time: it costs more than the rest
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Optional

__all__ = [
    "Connection",
    "monotonic_ms",
    "wall_seconds",
    "classify",
    "run",
    "fetch_credentials",
    "get",
    "get_bytes",
]


def _report_read(
    client: Client,
    clock: Callable[[], int],
    read: Callable[[float], Optional[bytes]],
    timeout: float,
) -> bool:
    """Reads with ``read(timeout)`` and reports what it gave: bytes, the end of the stream
    (empty), a timeout or an error. False when it found nothing (None) and reported nothing."""
    try:
        data = read(timeout)
    except TimeoutError:
        client.handle_timeout(clock())
        return True
    except OSError as error:
        client.handle_io_error(clock(), classify(error, False))
        return True
    if data is None:
        return False
    if data:
        client.handle_data(clock(), data)
    else:
        client.handle_eof(clock())
    return True


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
    ``imds`` logger when None) as they are produced. ``sleep`` waits out back-offs.
    """
    if on_diagnostic is None:
        on_diagnostic = _default_diagnostics()
    try:
        while True:
            now = clock()
            action = client.poll(now)
            # After the poll: a request's trace line is queued once it was sent (the poll that asks
            # to receive its answer), and logged before that answer is awaited.
            for diagnostic in client.drain_diagnostics():
                on_diagnostic(diagnostic)
            if isinstance(action, Action.Receive):
                # A deadline already past still takes what arrived meanwhile (timeout 0).
                remaining = max(action.deadline - now, 0) / 1000
                _report_read(client, clock, conn.receive, remaining)
            elif isinstance(action, Action.Send):
                remaining = (action.deadline - now) / 1000
                if remaining <= 0:
                    client.handle_timeout(now)
                    continue
                # What is already on the connection (bytes no request asked for, the end of a kept
                # connection the server closed) is reported instead of writing: the core judges it.
                if _report_read(client, clock, conn.take_pending, remaining):
                    continue
                try:
                    conn.send(action.data, remaining)
                except TimeoutError:
                    client.handle_timeout(clock())
                except OSError as error:
                    client.handle_io_error(clock(), classify(error, False))
            elif isinstance(action, Action.Connect):
                remaining = (action.deadline - now) / 1000
                conn.close()
                if remaining <= 0:
                    client.handle_timeout(now)
                    continue
                try:
                    conn.open(action.host, action.port, action.tls, remaining)
                except TimeoutError:
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
    """Fetches the instance's role credentials once.

    Settings come from ``settings``, or are loaded from the environment and config file with
    ``explicit`` keyword values taking precedence (``endpoint="http://127.0.0.1:1338"``,
    ``timeout=0.5``, ``attempts=2``, ...). Raises an :class:`imds.ImdsError` subclass on failure.
    For repeated use keep a provider, which caches.
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
    return (get_bytes(path, settings, **explicit)).decode("utf-8", "replace")
