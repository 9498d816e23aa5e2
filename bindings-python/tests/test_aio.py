"""`imds.aio`: the asyncio driver over real sockets against the mock IMDS."""

from __future__ import annotations

import asyncio
from typing import Callable

import pytest

import imds
import imds.aio
from conftest import ACCESS_KEY_ID, ROLE, SESSION_TOKEN, Mock, closed_port, script


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


def test_provider_shared_by_tasks(mock: Mock) -> None:
    async def main() -> list:  # type: ignore[type-arg]
        provider = imds.aio.Provider(endpoint=mock.endpoint)
        try:
            results = await asyncio.gather(*(provider.credentials() for _ in range(16)))
        finally:
            provider.close()
        return [c.access_key_id for c in results]

    assert asyncio.run(main()) == [ACCESS_KEY_ID] * 16
    assert len(mock.lines()) == 3, "one fetch; the other tasks read the cache"


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


def test_an_answer_arriving_on_the_kept_connection_between_operations_is_discarded(
    start_mock: Callable[..., Mock],
) -> None:
    import select

    from test_sync import ANSWER_BEHIND_THE_REGION

    from imds import _sync

    mock = start_mock(ANSWER_BEHIND_THE_REGION)
    messages: list[str] = []

    async def main() -> bytes:
        client = imds.Client(imds.load_settings(endpoint=mock.endpoint))
        conn = imds.aio.Connection()
        try:
            client.start_get(_sync.monotonic_ms(), "placement/region")
            await imds.aio.run(client, conn, on_diagnostic=lambda d: messages.append(d.message))
            assert client.body() == b"us-east-1"
            assert conn.writer is not None, "kept"
            # Blocks the loop until the bytes are on the socket, unread by asyncio.
            raw = conn.writer.get_extra_info("socket")
            assert select.select([raw], [], [], 5)[0], "the unsolicited answer arrives"
            client.start_get(_sync.monotonic_ms(), "instance-id")
            await imds.aio.run(client, conn, on_diagnostic=lambda d: messages.append(d.message))
            return client.body() or b""
        finally:
            conn.close()

    assert asyncio.run(main()) == b"i-0123456789abcdef0", "the real answer, not the unsolicited one"
    assert sum("no request asked for" in m for m in messages) == 1, messages
    last = mock.requests()[-1]
    assert (last["path"], last["connection"]) == ("/latest/meta-data/instance-id", 2)


def test_an_answer_the_loop_already_read_between_operations_is_discarded(
    start_mock: Callable[..., Mock],
) -> None:
    import select

    from test_sync import ANSWER_BEHIND_THE_REGION

    from imds import _sync

    mock = start_mock(ANSWER_BEHIND_THE_REGION)
    messages: list[str] = []

    async def main() -> bytes:
        client = imds.Client(imds.load_settings(endpoint=mock.endpoint))
        conn = imds.aio.Connection()
        try:
            client.start_get(_sync.monotonic_ms(), "placement/region")
            await imds.aio.run(client, conn, on_diagnostic=lambda d: messages.append(d.message))
            assert conn.reader is not None and conn.writer is not None, "kept"
            raw = conn.writer.get_extra_info("socket")
            assert select.select([raw], [], [], 5)[0], "the unsolicited answer arrives"
            # Let the loop turn until it has read the bytes into the reader's buffer.
            for _ in range(100):
                if getattr(conn.reader, "_buffer", b""):
                    break
                await asyncio.sleep(0)
            assert getattr(conn.reader, "_buffer", b""), "the loop read them"
            client.start_get(_sync.monotonic_ms(), "instance-id")
            await imds.aio.run(client, conn, on_diagnostic=lambda d: messages.append(d.message))
            return client.body() or b""
        finally:
            conn.close()

    assert asyncio.run(main()) == b"i-0123456789abcdef0"
    assert sum("no request asked for" in m for m in messages) == 1, messages


def test_reset_after_accept_is_one_error_after_the_attempts(start_mock: Callable[..., Mock]) -> None:
    mock = start_mock(script(on_accept=[{"times": 4, "reset": True}]))
    with pytest.raises(imds.ConnectionClosedError) as raised:
        asyncio.run(imds.aio.fetch_credentials(endpoint=mock.endpoint))
    assert str(raised.value) == (
        "IMDS closed or reset the connection before the response was complete in the token request"
    )
    assert mock.requests() == []
