"""`imds.Provider`: one client, the core's cache and refresh, shared between threads."""

from __future__ import annotations

import logging
import threading
from typing import Callable, List, Union

import pytest

import imds
from conftest import (
    ACCESS_KEY_ID,
    EXPIRATION_UNIX,
    NEVER_ANSWERS,
    ONE_EXCHANGE,
    ONE_FETCH_THAT_TIMES_OUT,
    ROLE,
    SLOW_CREDENTIALS,
    Mock,
    access_key_ids,
    assert_one_failure_for_all,
    script,
)

CREDENTIALS_GET = f"GET /latest/meta-data/iam/security-credentials/{ROLE}"


class FakeWallClock:
    """Wall-clock seconds that move only when the test says so."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def credential_fetches(mock: Mock) -> int:
    return mock.lines().count(CREDENTIALS_GET)


def test_caches_until_the_refresh_window(mock: Mock) -> None:
    wall = FakeWallClock(EXPIRATION_UNIX - 3600)
    provider = imds.Provider(endpoint=mock.endpoint, wall_clock=wall)

    assert provider.credentials().access_key_id == ACCESS_KEY_ID
    assert provider().access_key_id == ACCESS_KEY_ID
    wall.now = EXPIRATION_UNIX - 301
    provider.credentials()
    assert credential_fetches(mock) == 1, "fresh credentials come from the cache"

    wall.now = EXPIRATION_UNIX - 200  # inside the default 300 s refresh window
    assert provider.credentials().access_key_id == ACCESS_KEY_ID
    assert credential_fetches(mock) == 2
    assert mock.lines()[0] == "PUT /latest/api/token"
    assert mock.lines().count("PUT /latest/api/token") == 1, "the IMDSv2 token is reused"
    provider.close()


def test_refresh_window_setting(mock: Mock) -> None:
    wall = FakeWallClock(EXPIRATION_UNIX - 1000)
    provider = imds.Provider(endpoint=mock.endpoint, wall_clock=wall, refresh_window=1200)
    provider.credentials()
    provider.credentials()
    assert credential_fetches(mock) == 2, "inside a 1200 s window every call refreshes"


def test_expired_credentials_from_imds_are_extended(mock: Mock, caplog: pytest.LogCaptureFixture) -> None:
    wall = FakeWallClock(EXPIRATION_UNIX + 3600)
    provider = imds.Provider(endpoint=mock.endpoint, wall_clock=wall)
    with caplog.at_level(logging.WARNING, logger="imds"):
        credentials = provider.credentials()
    assert credentials.access_key_id == ACCESS_KEY_ID
    assert credentials.expiration_timestamp > wall.now
    assert any("expiration extension" in r.getMessage() for r in caplog.records)


def test_last_good_credentials_when_imds_goes_away(
    mock: Mock, caplog: pytest.LogCaptureFixture
) -> None:
    wall = FakeWallClock(EXPIRATION_UNIX - 3600)
    provider = imds.Provider(endpoint=mock.endpoint, wall_clock=wall)
    first = provider.credentials()
    mock.close()
    provider.close()
    wall.now = EXPIRATION_UNIX - 200
    with caplog.at_level(logging.WARNING, logger="imds"):
        again = provider.credentials()
    assert again.access_key_id == first.access_key_id
    assert any("last good credentials" in r.getMessage() for r in caplog.records)


def test_shared_by_eight_threads(mock: Mock) -> None:
    provider = imds.Provider(endpoint=mock.endpoint)
    barrier = threading.Barrier(8)
    keys: List[str] = []
    errors: List[BaseException] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            barrier.wait()
            for _ in range(25):
                key = provider.credentials().access_key_id
                with lock:
                    keys.append(key)
        except BaseException as error:  # reported below
            with lock:
                errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert keys == [ACCESS_KEY_ID] * 200
    assert credential_fetches(mock) == 1, "one fetch, every other call served from the cache"
    provider.close()


def call_from_threads(
    provider: imds.Provider, count: int
) -> List[Union[imds.Credentials, BaseException]]:
    """What `provider.credentials()` gave each of `count` threads that call it at once."""
    barrier = threading.Barrier(count)
    outcomes: List[Union[imds.Credentials, BaseException]] = []
    lock = threading.Lock()

    def work() -> None:
        barrier.wait()
        try:
            outcome: Union[imds.Credentials, BaseException] = provider.credentials()
        except BaseException as error:  # the outcome under test
            outcome = error
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_threads_share_one_failing_fetch(start_mock: Callable[..., Mock]) -> None:
    # A fetch against this IMDS takes two 1 s timeouts: the 32 threads, released together, all
    # call while it is in flight.
    mock = start_mock(NEVER_ANSWERS)
    provider = imds.Provider(endpoint=mock.endpoint)
    outcomes = call_from_threads(provider, 32)
    mock.close()  # the log is complete once the mock has stopped

    assert mock.lines_by_connection() == ONE_FETCH_THAT_TIMES_OUT, "one fetch for the 32 callers"
    assert_one_failure_for_all(outcomes, 32)


def test_threads_share_one_successful_fetch(start_mock: Callable[..., Mock]) -> None:
    # The credentials answer comes late, so the 32 threads call while the exchange is in flight.
    mock = start_mock(SLOW_CREDENTIALS)
    provider = imds.Provider(endpoint=mock.endpoint)
    outcomes = call_from_threads(provider, 32)
    provider.close()
    mock.close()

    assert mock.lines_by_connection() == ONE_EXCHANGE
    assert access_key_ids(outcomes) == [ACCESS_KEY_ID] * 32


def test_timeout_then_still_usable(start_mock: Callable[..., Mock]) -> None:
    slow = start_mock(
        script(responses=[{"path": "/latest/meta-data/iam/security-credentials/", "delay_ms": 2000}])
    )
    provider = imds.Provider(endpoint=slow.endpoint, timeout=0.2)
    with pytest.raises(imds.TimedOutError):
        provider.credentials()
    assert provider.credentials().access_key_id == ACCESS_KEY_ID, "the next call succeeds"


def test_failure_with_nothing_cached_raises(start_mock: Callable[..., Mock]) -> None:
    provider = imds.Provider(endpoint=start_mock(script(role=None)).endpoint)
    with pytest.raises(imds.NoRoleError):
        provider.credentials()


def test_keep_alive_connection_dropped_while_idle(mock: Mock, dropping_proxy) -> None:  # type: ignore[no-untyped-def]
    proxy = dropping_proxy(mock.port)
    wall = FakeWallClock(EXPIRATION_UNIX - 3600)
    provider = imds.Provider(endpoint=proxy.endpoint, wall_clock=wall)
    provider.credentials()
    assert proxy.accepted == 1
    proxy.drop_all()  # the server side closes the idle keep-alive connection
    wall.now = EXPIRATION_UNIX - 200
    assert provider.credentials().access_key_id == ACCESS_KEY_ID
    assert proxy.accepted == 2, "the request was sent again on a new connection"
    assert credential_fetches(mock) == 2
    provider.close()


def test_keep_alive_connection_dropped_while_idle_asyncio(mock: Mock, dropping_proxy) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    import imds.aio

    proxy = dropping_proxy(mock.port)
    wall = FakeWallClock(EXPIRATION_UNIX - 3600)

    async def main() -> str:
        provider = imds.aio.Provider(endpoint=proxy.endpoint, wall_clock=wall)
        await provider.credentials()
        proxy.drop_all()
        wall.now = EXPIRATION_UNIX - 200
        try:
            return (await provider.credentials()).access_key_id
        finally:
            provider.close()

    assert asyncio.run(main()) == ACCESS_KEY_ID
    assert proxy.accepted == 2


def test_retry_back_off_uses_the_injected_clock_and_sleep(start_mock: Callable[..., Mock]) -> None:
    mock = start_mock(script(responses=[{"path": "/latest/api/token", "status": 500, "times": 2}]))
    now = [1_000_000]
    sleeps: List[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += int(seconds * 1000) + 1

    provider = imds.Provider(endpoint=mock.endpoint, clock=lambda: now[0], sleep=sleep)
    assert provider.credentials().access_key_id == ACCESS_KEY_ID
    assert len(sleeps) == 2, "one back-off per failed token request"
    assert all(0 < s <= 1.0 for s in sleeps), "capped at 1 s"
    assert mock.lines()[:3] == ["PUT /latest/api/token"] * 3
