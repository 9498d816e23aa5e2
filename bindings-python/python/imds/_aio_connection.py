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

    async def take_pending(self, timeout: float) -> Optional[bytes]:
        """What is already on the connection, before a request is written: None when nothing
        is, else what a read gives (empty at the end of the stream); the connection's error is
        raised. Looks at what the event loop has read (the reader's buffer: asyncio has no public
        way to ask) and, on a plain connection, at the socket for what it has not read yet,
        which the read below then takes within ``timeout``. A TLS socket's records need not
        carry data (session tickets), so there only what the loop has decrypted counts."""
        reader, writer = self.reader, self.writer
        if reader is None or writer is None:
            return None
        error = reader.exception()
        if error is not None:
            raise error
        buffered = len(getattr(reader, "_buffer", b""))
        if not buffered and not reader.at_eof() and not _socket_readable(writer):
            return None
        return await _within(reader.read(_READ_SIZE), timeout)


def _socket_readable(writer: asyncio.StreamWriter) -> bool:
    """Whether the plain socket under ``writer`` has bytes (or an end, or an error) the loop has
    not read yet; False for TLS."""
    if writer.get_extra_info("sslcontext") is not None:
        return False
    sock = writer.get_extra_info("socket")
    if sock is None:
        return False
    import select

    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)
