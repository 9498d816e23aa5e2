"""The asyncio driver: the same as :mod:`imds` over asyncio streams.

``await imds.aio.fetch_credentials()``, ``await imds.aio.get("placement/region")`` and
:class:`imds.aio.Provider` behave like their blocking namesakes and raise the same
:class:`imds.ImdsError` subclasses; the event loop is never blocked.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Optional

from ._imds import Action, Client, Credentials, IoError, Settings
from ._async_single_flight import AsyncSingleFlight
from ._sync import _settings, classify, monotonic_ms, wall_seconds

__all__ = ["Connection", "run", "fetch_credentials", "get", "get_bytes", "Provider"]

_READ_SIZE = 16 * 1024


class Connection:
    """The keep-alive stream pair a client uses, kept between operations."""

    __slots__ = ("reader", "writer")

    def __init__(self) -> None:
        self.reader: Optional[asyncio.StreamReader] = None
        self.writer: Optional[asyncio.StreamWriter] = None

    def close(self) -> None:
        writer, self.writer, self.reader = self.writer, None, None
        if writer is not None:
            writer.close()


async def run(
    client: Client,
    conn: Connection,
    clock: Callable[[], int] = monotonic_ms,
    on_diagnostic: Optional[Callable[[Any], None]] = None,
) -> None:
    """Drives the operation started on ``client`` to its end over asyncio streams.

    See :func:`imds._sync.run`; the difference is that waiting never blocks the event loop.
    """
    if on_diagnostic is None:
        from ._log import log_diagnostic

        on_diagnostic = log_diagnostic
    try:
        while True:
            for diagnostic in client.drain_diagnostics():
                on_diagnostic(diagnostic)
            now = clock()
            action = client.poll(now)
            if isinstance(action, Action.Receive):
                remaining = (action.deadline - now) / 1000
                if conn.reader is None:
                    client.handle_io_error(now, IoError.Other)
                    continue
                if remaining <= 0:
                    client.handle_timeout(now)
                    continue
                try:
                    data = await asyncio.wait_for(conn.reader.read(_READ_SIZE), remaining)
                except asyncio.TimeoutError:
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
                if conn.writer is None:
                    client.handle_io_error(now, IoError.Other)
                    continue
                if remaining <= 0:
                    client.handle_timeout(now)
                    continue
                try:
                    conn.writer.write(action.data)
                    await asyncio.wait_for(conn.writer.drain(), remaining)
                except asyncio.TimeoutError:
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
                    ssl_context: Any = None
                    if action.tls:
                        import ssl

                        ssl_context = ssl.create_default_context()
                    conn.reader, conn.writer = await asyncio.wait_for(
                        asyncio.open_connection(action.host, action.port, ssl=ssl_context),
                        remaining,
                    )
                except asyncio.TimeoutError:
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
                    await asyncio.sleep(delay)
    except BaseException:
        client.cancel()
        conn.close()
        for diagnostic in client.drain_diagnostics():
            on_diagnostic(diagnostic)
        raise


async def fetch_credentials(settings: Optional[Settings] = None, **explicit: Any) -> Credentials:
    """Fetches the instance's role credentials once (see :func:`imds.fetch_credentials`)."""
    client = Client(_settings(settings, explicit))
    conn = Connection()
    try:
        client.start_credentials(monotonic_ms(), wall_seconds())
        await run(client, conn)
    finally:
        conn.close()
    credentials = client.credentials()
    if credentials is None:
        raise RuntimeError("imds-core finished without credentials")
    return credentials


async def get_bytes(path: str, settings: Optional[Settings] = None, **explicit: Any) -> bytes:
    """Reads a metadata path as bytes (see :func:`imds.get`)."""
    client = Client(_settings(settings, explicit))
    conn = Connection()
    try:
        client.start_get(path, monotonic_ms())
        await run(client, conn)
    finally:
        conn.close()
    body = client.body()
    if body is None:
        raise RuntimeError("imds-core finished without a body")
    return body


async def get(path: str, settings: Optional[Settings] = None, **explicit: Any) -> str:
    """Reads a metadata path as text (UTF-8)."""
    return (await get_bytes(path, settings, **explicit)).decode("utf-8", "replace")


class Provider:
    """The asyncio counterpart of :class:`imds.Provider`: one client, its cache, one connection.

    Safe to share between the tasks of one event loop, which share one fetch: while a fetch is in
    flight, a caller waits for its outcome (the same credentials, or a copy of the same exception)
    instead of making requests of its own. The fetch runs as a task of its own: cancelling a caller
    leaves it running for the others, and its credentials fill the cache.
    """

    def __init__(
        self,
        settings: Optional[Settings] = None,
        *,
        clock: Callable[[], int] = monotonic_ms,
        wall_clock: Callable[[], float] = wall_seconds,
        seed: Optional[int] = None,
        **explicit: Any,
    ) -> None:
        self._client = Client(_settings(settings, explicit), seed)
        self._conn = Connection()
        self._fetches = AsyncSingleFlight()
        self._clock = clock
        self._wall_clock = wall_clock

    @property
    def settings(self) -> Settings:
        """The settings in force."""
        return self._client.settings

    async def credentials(self) -> Credentials:
        """Fresh credentials: from the cache while fresh, else fetched from IMDS. Concurrent callers
        share the fetch in flight and its outcome."""
        return await self._fetches.call(self._fetch)

    async def _fetch(self) -> Credentials:
        client = self._client
        client.start_credentials(self._clock(), int(self._wall_clock()))
        await run(client, self._conn, self._clock)
        credentials = client.credentials()
        if credentials is None:
            raise RuntimeError("imds-core finished without credentials")
        return credentials

    def close(self) -> None:
        """Closes the keep-alive connection (the cache is kept)."""
        self._conn.close()
