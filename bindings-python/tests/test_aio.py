"""`imds.aio`: the asyncio driver over real sockets against the mock IMDS."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Iterator, List, Optional, Tuple

import pytest

import imds
import imds.aio
from conftest import (
    ACCESS_KEY_ID,
    NEVER_ANSWERS,
    ONE_EXCHANGE,
    ONE_FETCH_THAT_TIMES_OUT,
    ROLE,
    SLOW_CREDENTIALS,
    SESSION_TOKEN,
    Mock,
    access_key_ids,
    assert_one_failure_for_all,
    closed_port,
    script,
)


def test_fetch_credentials(mock: Mock) -> None:
    credentials = asyncio.run(imds.aio.fetch_credentials(endpoint=mock.endpoint))
    assert credentials.access_key_id == ACCESS_KEY_ID
    assert credentials.session_token == SESSION_TOKEN
    assert mock.lines() == [
        "PUT /latest/api/token",
        "GET /latest/meta-data/iam/security-credentials/",
        f"GET /latest/meta-data/iam/security-credentials/{ROLE}",
    ]


def test_get(start_mock: Callable[..., Mock]) -> None:
    mock = start_mock(script(metadata={"instance-id": "i-0abc"}))
    assert asyncio.run(imds.aio.get("instance-id", endpoint=mock.endpoint)) == "i-0abc"


def test_timeout_does_not_block_the_loop(start_mock: Callable[..., Mock]) -> None:
    mock = start_mock(
        script(responses=[{"path": "/latest/meta-data/iam/security-credentials/", "delay_ms": 2000}])
    )

    async def main() -> int:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        task = asyncio.ensure_future(ticker())
        try:
            with pytest.raises(imds.TimedOutError):
                await imds.aio.fetch_credentials(endpoint=mock.endpoint, timeout=0.2)
        finally:
            task.cancel()
        return ticks

    assert asyncio.run(main()) > 1, "other tasks ran while the fetch waited"


def test_connect_failed() -> None:
    with pytest.raises(imds.ConnectFailedError):
        asyncio.run(imds.aio.fetch_credentials(endpoint=f"http://127.0.0.1:{closed_port()}"))


def call_from_tasks(
    provider: imds.aio.Provider,
    count: int,
    with_first: Optional[Callable[[asyncio.Future[Any]], None]] = None,
) -> List[Any]:
    """What `provider.credentials()` gave each of `count` tasks of one event loop that call it at
    once (credentials, or the exception raised); `with_first` gets the first task before it runs."""

    async def main() -> List[Any]:
        tasks = [asyncio.ensure_future(provider.credentials()) for _ in range(count)]
        if with_first is not None:
            with_first(tasks[0])
        try:
            return list(await asyncio.gather(*tasks, return_exceptions=True))
        finally:
            provider.close()

    return asyncio.run(main())


def test_provider_tasks_share_one_successful_fetch(start_mock: Callable[..., Mock]) -> None:
    mock = start_mock(SLOW_CREDENTIALS)
    outcomes = call_from_tasks(imds.aio.Provider(endpoint=mock.endpoint), 100)
    mock.close()  # the log is complete once the mock has stopped

    assert mock.lines_by_connection() == ONE_EXCHANGE
    assert access_key_ids(outcomes) == [ACCESS_KEY_ID] * 100


def test_provider_tasks_share_one_failing_fetch(start_mock: Callable[..., Mock]) -> None:
    mock = start_mock(NEVER_ANSWERS)
    outcomes = call_from_tasks(imds.aio.Provider(endpoint=mock.endpoint), 100)
    mock.close()

    assert mock.lines_by_connection() == ONE_FETCH_THAT_TIMES_OUT, "one fetch for the 100 callers"
    assert_one_failure_for_all(outcomes, 100)


class WhenTokenRequestSent(logging.Handler):
    """Calls `action` once, from inside the shared fetch, when the `imds` logger says that the
    token request was sent (the fetch then waits for IMDS to answer)."""

    def __init__(self, action: Callable[[], object]) -> None:
        super().__init__(logging.DEBUG)
        self.action = action
        self.fired = False

    def emit(self, record: logging.LogRecord) -> None:
        if not self.fired and record.getMessage() == "> PUT /latest/api/token":
            self.fired = True
            self.action()


@pytest.fixture
def imds_debug_handler() -> Iterator[Callable[[logging.Handler], None]]:
    """Attaches handlers to the `imds` logger at DEBUG for the test."""
    logger = logging.getLogger("imds")
    level = logger.level
    handlers: List[logging.Handler] = []

    def attach(handler: logging.Handler) -> None:
        handlers.append(handler)
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)

    yield attach
    for handler in handlers:
        logger.removeHandler(handler)
    logger.setLevel(level)


def test_cancelling_the_caller_that_started_the_fetch(
    mock: Mock, imds_debug_handler: Callable[[logging.Handler], None]
) -> None:
    # The first caller, which started the shared fetch, is cancelled once the fetch has sent its
    # token request: the fetch goes on for the 99 others.
    handlers: List[WhenTokenRequestSent] = []

    def cancel_when_in_flight(first: asyncio.Future[Any]) -> None:
        handlers.append(WhenTokenRequestSent(first.cancel))
        imds_debug_handler(handlers[0])

    provider = imds.aio.Provider(endpoint=mock.endpoint)
    outcomes = call_from_tasks(provider, 100, cancel_when_in_flight)

    assert handlers[0].fired, "the first caller was cancelled while the fetch was in flight"
    assert isinstance(outcomes[0], asyncio.CancelledError)
    assert access_key_ids(outcomes[1:]) == [ACCESS_KEY_ID] * 99
    assert asyncio.run(provider.credentials()).access_key_id == ACCESS_KEY_ID, "from the cache"
    provider.close()
    mock.close()
    assert mock.lines_by_connection() == ONE_EXCHANGE, "the fetch went on for the other callers"


def test_a_cancelled_shared_fetch_is_started_again(
    start_mock: Callable[..., Mock], imds_debug_handler: Callable[[logging.Handler], None]
) -> None:
    # The shared fetch itself is cancelled (as when its event loop shuts down) while it waits for
    # its token, which this IMDS never gives: the callers, which were not cancelled, do not share
    # the cancellation but start a new fetch (whose token request times out in turn, so it falls
    # back to IMDSv1).
    mock = start_mock(
        script(responses=[{"path": "/latest/api/token", "delay_ms": 3_600_000, "times": 0}])
    )

    def cancel_the_shared_fetch() -> None:  # called from inside it
        task = asyncio.current_task()
        assert task is not None
        task.cancel()

    imds_debug_handler(WhenTokenRequestSent(cancel_the_shared_fetch))
    outcomes = call_from_tasks(imds.aio.Provider(endpoint=mock.endpoint), 100)
    mock.close()

    assert access_key_ids(outcomes) == [ACCESS_KEY_ID] * 100
    assert mock.lines_by_connection() == [
        (1, "PUT /latest/api/token"),  # the cancelled fetch
        (2, "PUT /latest/api/token"),  # the next one
        (3, "GET /latest/meta-data/iam/security-credentials/"),
        (3, f"GET /latest/meta-data/iam/security-credentials/{ROLE}"),
    ]


def test_a_kept_connection_the_server_closed_is_noticed_before_the_next_request(
    start_mock: Callable[..., Mock],
) -> None:
    from test_sync import CLOSES_AFTER_THE_REGION

    from imds import _sync

    mock = start_mock(CLOSES_AFTER_THE_REGION)
    messages: list[str] = []

    async def main() -> None:
        client = imds.Client(imds.load_settings(endpoint=mock.endpoint))
        conn = imds.aio.Connection()
        try:
            client.start_get(_sync.monotonic_ms(), "placement/region")
            await imds.aio.run(client, conn, on_diagnostic=lambda d: messages.append(d.message))
            assert client.body() == b"us-east-1"
            assert conn.reader is not None, "kept: the answer did not say it closes"
            assert await asyncio.wait_for(conn.reader.read(1), 5) == b"", "the server's close arrives"
            client.start_get(_sync.monotonic_ms(), "instance-id")
            await imds.aio.run(client, conn, on_diagnostic=lambda d: messages.append(d.message))
        finally:
            conn.close()

    asyncio.run(main())
    sent = [m for m in messages if m.startswith("> GET /latest/meta-data/instance-id")]
    assert len(sent) == 1, f"one request, none on the dead connection: {messages}"


async def _region_then_instance_id(
    mock: Mock, between: Callable[[imds.aio.Connection], Awaitable[None]]
) -> Tuple[List[str], bytes]:
    """Reads the region, runs ``between`` on the kept connection, then reads the instance id on
    the same client and connection: the diagnostics and the second body."""
    from imds import _sync

    client = imds.Client(imds.load_settings(endpoint=mock.endpoint))
    conn = imds.aio.Connection()
    messages: List[str] = []
    try:
        client.start_get(_sync.monotonic_ms(), "placement/region")
        await imds.aio.run(client, conn, on_diagnostic=lambda d: messages.append(d.message))
        assert client.body() == b"us-east-1"
        assert conn.reader is not None and conn.writer is not None, "kept"
        await between(conn)
        client.start_get(_sync.monotonic_ms(), "instance-id")
        await imds.aio.run(client, conn, on_diagnostic=lambda d: messages.append(d.message))
        return messages, client.body() or b""
    finally:
        conn.close()


async def _on_the_socket(conn: imds.aio.Connection) -> None:
    """Blocks the loop until the unsolicited bytes are on the socket, unread by asyncio."""
    import select

    assert conn.writer is not None
    assert select.select([conn.writer.get_extra_info("socket")], [], [], 5)[0], "they arrive"


async def _in_the_readers_buffer(conn: imds.aio.Connection) -> None:
    """Waits until the loop has read the unsolicited bytes into the reader's buffer."""
    await _on_the_socket(conn)
    for _ in range(100):
        if getattr(conn.reader, "_buffer", b""):
            return
        await asyncio.sleep(0)
    raise AssertionError("the loop never read them")


@pytest.mark.parametrize("between", [_on_the_socket, _in_the_readers_buffer])
def test_an_answer_arriving_on_the_kept_connection_between_operations_is_discarded(
    start_mock: Callable[..., Mock], between: Callable[[imds.aio.Connection], Awaitable[None]]
) -> None:
    from test_sync import ANSWER_BEHIND_THE_REGION

    mock = start_mock(ANSWER_BEHIND_THE_REGION)
    messages, body = asyncio.run(_region_then_instance_id(mock, between))
    assert body == b"i-0123456789abcdef0", "the real answer, not the unsolicited one"
    assert sum("no request asked for" in m for m in messages) == 1, messages
    assert [(r["connection"], r["path"]) for r in mock.requests()[-2:]] == [
        (2, "/latest/api/token"),
        (2, "/latest/meta-data/instance-id"),
    ]


def test_reset_after_accept_is_one_error_after_the_attempts(start_mock: Callable[..., Mock]) -> None:
    mock = start_mock(script(on_accept=[{"times": 4, "reset": True}]))
    with pytest.raises(imds.ConnectionClosedError) as raised:
        asyncio.run(imds.aio.fetch_credentials(endpoint=mock.endpoint))
    assert str(raised.value) == (
        "IMDS closed or reset the connection before the response was complete in the token request"
    )
    assert mock.requests() == []
