"""A long-lived, thread-safe credentials provider."""

from __future__ import annotations

import threading
import time
from ._imds import Client, Credentials, Settings
from ._single_flight import SingleFlight
from ._sync import Connection, monotonic_ms, run, wall_seconds

TYPE_CHECKING = False  # typing is not imported at run time: it costs more than the rest
if TYPE_CHECKING:
    from typing import Any, Callable, Optional

__all__ = ["Provider"]


class Provider:
    """Keeps one :class:`imds.Client` and returns fresh credentials from it.

    The core caches the credentials, refreshes them ``refresh_window`` seconds before they expire,
    and keeps serving the last good ones for a while when IMDS fails (static stability); the
    provider only drives it. It is safe to share between threads, which share one fetch: while a
    fetch is in flight, a caller waits for its outcome (the same credentials, or a copy of the same
    exception) instead of making requests of its own, so threads calling while IMDS does not
    answer all fail after one fetch's time, not one after the other. The call after a fetch has
    ended starts the next one (answered from the cache while the credentials are fresh).

    ``clock`` (monotonic milliseconds), ``wall_clock`` (seconds since the epoch) and ``sleep``
    (used for retry back-off; it must advance ``clock``) can be injected to test caching, refresh
    and retries without waiting.
    """

    def __init__(
        self,
        settings: Optional[Settings] = None,
        *,
        clock: Callable[[], int] = monotonic_ms,
        wall_clock: Callable[[], float] = wall_seconds,
        sleep: Callable[[float], None] = time.sleep,
        seed: Optional[int] = None,
        **explicit: Any,
    ) -> None:
        if settings is None:
            settings = Settings.load(explicit)
        elif explicit:
            raise TypeError("pass either settings or keyword settings, not both")
        self._client = Client(settings, seed)
        self._conn = Connection()
        self._lock = threading.Lock()  # the client and its connection: the fetch and close()
        self._fetches = SingleFlight()
        self._clock = clock
        self._wall_clock = wall_clock
        self._sleep = sleep

    @property
    def settings(self) -> Settings:
        """The settings in force."""
        return self._client.settings

    def credentials(self) -> Credentials:
        """Fresh credentials: from the cache while they are fresh, else fetched from IMDS.

        Raises an :class:`imds.ImdsError` subclass when there are none to give. Concurrent callers
        share the fetch in flight and its outcome.
        """
        return self._fetches.call(self._fetch)

    __call__ = credentials

    def _fetch(self) -> Credentials:
        with self._lock:
            client = self._client
            client.start_credentials(self._clock(), int(self._wall_clock()))
            run(client, self._conn, self._clock, sleep=self._sleep)
            credentials = client.credentials()
        if credentials is None:
            raise RuntimeError("imds-core finished without credentials")
        return credentials

    def close(self) -> None:
        """Closes the keep-alive connection (the cache is kept)."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Provider:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Provider(endpoint={self.settings.endpoint!r})"
