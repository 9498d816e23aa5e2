"""The asyncio driver: the same as :mod:`imds` over asyncio streams.

``await imds.aio.fetch_credentials()``, ``await imds.aio.get("placement/region")`` and
:class:`imds.aio.Provider` behave like their blocking namesakes and raise the same
:class:`imds.ImdsError` subclasses; the event loop is never blocked.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Optional

from ._async_driver import AsyncConnection as Connection
from ._async_driver import _settings, fetch_credentials, get, get_bytes, run
from ._async_single_flight import AsyncSingleFlight
from ._connection import monotonic_ms, wall_seconds
from ._imds import Client, Credentials, Settings

__all__ = ["Connection", "run", "fetch_credentials", "get", "get_bytes", "Provider"]


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
