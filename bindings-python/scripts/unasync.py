#!/usr/bin/env python3
"""Generates the blocking driver ``imds/_sync.py`` from the asyncio one ``imds/_async_driver.py``.

The loop that carries out the core's actions is written once, for asyncio; the blocking version
is the same text with the asynchronous words taken out (as httpcore's unasync does): ``async def``
becomes ``def``, ``await`` goes, ``AsyncConnection`` (asyncio streams) becomes ``Connection``
(blocking sockets) and ``asyncio.sleep`` becomes ``time.sleep``.

    python3 bindings-python/scripts/unasync.py           # writes imds/_sync.py
    python3 bindings-python/scripts/unasync.py --check   # exit status 1 when it is not current
"""

import re
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "python" / "imds"
SOURCE = PACKAGE / "_async_driver.py"
TARGET = PACKAGE / "_sync.py"

HEADER = '''"""The blocking driver: carries out the core's actions over blocking sockets.

It is the I/O half of the sans-IO design: :class:`imds.Client` decides what to send and when to
give up; the loop opens the connection, writes and reads bytes with the deadlines the core asks
for (monotonic milliseconds from :func:`time.monotonic_ns`), and reports what happened.

GENERATED from ``_async_driver.py`` by ``bindings-python/scripts/unasync.py``: edit that file and
run the script (``make test`` fails when this one is not current).
"""
'''

# (pattern, replacement), applied in order to every line after the source's module docstring.
RULES = [
    (r"\basync def\b", "def"),
    (r"\bawait ", ""),
    (r"\bAsyncConnection\b", "Connection"),
    (r"\b_aio_connection\b", "_connection"),
    (r"^import asyncio$", "import time"),
    (r"\basyncio\.sleep\b", "time.sleep"),
    (r"Awaitable\[(\w+(?:\[\w+\])?)\]", r"\1"),  # Awaitable[None], Awaitable[Optional[bytes]]
    (r"\bAwaitable, ", ""),
]

LEFTOVERS = re.compile(r"\b(async|await|asyncio|Awaitable)\b")


def generate(source: str) -> str:
    """The blocking driver for the asyncio driver's text `source`."""
    docstring = re.match(r'"""(?:.|\n)*?"""\n', source)
    if docstring is None:
        raise SystemExit(f"unasync: {SOURCE} does not start with a module docstring")
    lines = []
    for number, line in enumerate(source[docstring.end() :].splitlines(), start=1):
        for pattern, replacement in RULES:
            line = re.sub(pattern, replacement, line)
        if LEFTOVERS.search(line):
            raise SystemExit(f"unasync: line {number} after the docstring keeps an asynchronous word: {line}")
        lines.append(line)
    return HEADER + "\n".join(lines) + "\n"


def main(argv: list) -> int:
    generated = generate(SOURCE.read_text(encoding="utf-8"))
    if argv[1:] == ["--check"]:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != generated:
            print(f"unasync: {TARGET} is not what {SOURCE.name} generates; run {sys.argv[0]}")
            return 1
        return 0
    if argv[1:]:
        print(__doc__, file=sys.stderr)
        return 2
    TARGET.write_text(generated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
