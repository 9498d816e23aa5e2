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
from ._connection import monotonic_ms, wall_seconds
from ._imds import Client, Credentials, Settings

__all__ = ["Connection", "run", "fetch_credentials", "get", "get_bytes", "Provider"]


class Provider:
    """The asyncio counterpart of :class:`imds.Provider`: one client, its cache, one connection.

    Safe to share between tasks of one event loop (an :class:`asyncio.Lock` serialises them).
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
        self._lock: Optional[asyncio.Lock] = None
        self._clock = clock
        self._wall_clock = wall_clock

    @property
    def settings(self) -> Settings:
        """The settings in force."""
        return self._client.settings

    async def credentials(self) -> Credentials:
        """Fresh credentials: from the cache while fresh, else fetched from IMDS."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
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
