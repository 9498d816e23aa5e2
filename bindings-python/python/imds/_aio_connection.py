"""The asyncio connection: the operations of :class:`imds._connection.Connection` over asyncio
streams, so that one driver loop serves both (see :mod:`imds._async_driver`).

Timeouts raise the built-in :class:`TimeoutError` (as ``asyncio.TimeoutError`` is only from Python
3.11), other failures :class:`OSError`.
"""

from __future__ import annotations

import asyncio

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Awaitable, Optional, TypeVar

    T = TypeVar("T")

__all__ = ["AsyncConnection"]

_READ_SIZE = 16 * 1024


async def _within(awaitable: Awaitable[T], timeout: float) -> T:
    try:
        return await asyncio.wait_for(awaitable, timeout)
    except asyncio.TimeoutError:
        raise TimeoutError("timed out") from None


class AsyncConnection:
    """The keep-alive stream pair a client uses, kept between operations."""

    __slots__ = ("reader", "writer")

    def __init__(self) -> None:
        self.reader: Optional[asyncio.StreamReader] = None
        self.writer: Optional[asyncio.StreamWriter] = None

    async def open(self, host: str, port: int, tls: bool, timeout: float) -> None:
        """Connects (closing any connection kept), wrapping it in TLS for ``host`` when ``tls``."""
        self.close()
        ssl_context: Any = None
        if tls:
            import ssl

            ssl_context = ssl.create_default_context()
        opening = asyncio.open_connection(host, port, ssl=ssl_context)
        self.reader, self.writer = await _within(opening, timeout)

    async def send(self, data: bytes, timeout: float) -> None:
        """Writes all of ``data`` within ``timeout`` seconds."""
        if self.writer is None:
            raise OSError("no connection is open")
        self.writer.write(data)
        await _within(self.writer.drain(), timeout)

    async def receive(self, timeout: float) -> bytes:
        """What arrives within ``timeout`` seconds (empty at the end of the stream); a
        ``timeout`` of 0 (the deadline has passed) is :class:`TimeoutError` at once."""
        if self.reader is None:
            raise OSError("no connection is open")
        return await _within(self.reader.read(_READ_SIZE), timeout)

    def close(self) -> None:
        """Closes the connection, if one is open."""
        writer, self.writer, self.reader = self.writer, None, None
        if writer is not None:
            writer.close()

    def gone(self) -> bool:
        """Whether the server closed the kept connection (end of stream, or the transport is
        closing)."""
        if self.reader is None or self.writer is None:
            return False
        return self.reader.at_eof() or self.writer.is_closing()
