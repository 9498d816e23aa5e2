"""The blocking driver (`imds/_sync.py`) is generated from the asyncio one
(`imds/_async_driver.py`): it must be what the generator makes of the current source, and the
blocking path must not import asyncio (it costs `python -m imds` time and memory)."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO_ROOT

UNASYNC = REPO_ROOT / "bindings-python" / "scripts" / "unasync.py"


def test_the_blocking_driver_is_what_unasync_generates() -> None:
    result = subprocess.run(
        [sys.executable, str(UNASYNC), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_stale_blocking_driver_is_caught(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(UNASYNC.parent))
    try:
        import unasync
    finally:
        sys.path.pop(0)
    source = unasync.SOURCE.read_text(encoding="utf-8")
    assert unasync.generate(source) == unasync.TARGET.read_text(encoding="utf-8")
    changed = source.replace("client.handle_timeout(now)", "client.handle_timeout(now + 1)", 1)
    assert unasync.generate(changed) != unasync.TARGET.read_text(encoding="utf-8")


def test_the_blocking_path_does_not_import_asyncio() -> None:
    code = (
        "import sys, imds, imds._sync, imds.provider\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('asyncio'))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
