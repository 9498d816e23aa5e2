"""``python -m imds`` and the ``imds`` console script: the ``imds`` command (same contract and
bytes as the Rust, C and Node commands).

``imds [--trace] [credentials | settings | get PATH]``, ``imds --help``, ``imds --version``. Every
line it prints comes from the core's writers (``imds_core::cli`` in the Rust docs has the contract).
"""

from __future__ import annotations

import sys

from . import _imds, _sync
from .errors import ImdsError

TYPE_CHECKING = False  # typing is not imported at run time: it costs more than the rest
if TYPE_CHECKING:
    from typing import List, Optional, TextIO


def _emit(stream: TextIO, text: str) -> None:
    """Writes UTF-8 bytes whatever the locale, so every front end prints the same bytes."""
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        stream.write(text)
    else:
        stream.flush()
        buffer.write(text.encode("utf-8", "surrogateescape"))
        buffer.flush()


def main(argv: Optional[List[str]] = None) -> int:
    """Runs the command with ``argv`` (``sys.argv[1:]`` when None); returns the exit status."""
    args = sys.argv[1:] if argv is None else argv
    out = sys.stdout
    err = sys.stderr
    try:
        invocation = _imds.parse_args(args)
    except _imds.CommandLineError as error:
        _emit(err, str(error))
        return _imds.EXIT_USAGE
    if invocation.command == "help":
        _emit(out, _imds.help_text())
        return _imds.EXIT_SUCCESS
    if invocation.command == "version":
        _emit(out, _imds.version_line())
        return _imds.EXIT_SUCCESS

    def on_diagnostic(diagnostic: _imds.Diagnostic) -> None:
        if invocation.trace:
            _emit(err, diagnostic.line())

    try:
        settings = _imds.Settings.load()
        if invocation.command == "settings":
            _emit(out, settings.report())
            return _imds.EXIT_SUCCESS
        client = _imds.Client(settings)
        conn = _sync.Connection()
        try:
            if invocation.command == "get":
                client.start_get(_sync.monotonic_ms(), invocation.path or "")
                _sync.run(client, conn, on_diagnostic=on_diagnostic)
                body = client.body() or b""
                out.flush()
                out.buffer.write(body + b"\n")
                out.buffer.flush()
            else:
                client.start_credentials(_sync.monotonic_ms(), _sync.wall_seconds())
                _sync.run(client, conn, on_diagnostic=on_diagnostic)
                credentials = client.credentials()
                if credentials is None:
                    raise RuntimeError("imds-core finished without credentials")
                _emit(out, credentials.to_process_json() + "\n")
        finally:
            conn.close()
    except ImdsError as error:
        _emit(err, error.line())
        return error.exit_code
    return _imds.EXIT_SUCCESS


def run() -> int:
    """The ``imds`` console script and ``python -m imds``: :func:`main` with ``sys.argv``, ignoring a
    reader that went away (as the Rust command ignores failed writes); returns the exit status."""
    try:
        return main()
    except BrokenPipeError:
        import os

        # Python would report the pipe again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return _imds.EXIT_SUCCESS


if __name__ == "__main__":
    sys.exit(run())
