"""``python -m imds``: the ``imds`` command (same contract and bytes as the Rust and C commands).

``imds [--trace] [credentials | settings | get PATH]``. Every line it prints comes from the core's
writers; see :mod:`imds_core::cli` in the Rust docs for the contract.
"""

from __future__ import annotations

import sys
from . import _imds, _sync
from .errors import ImdsError

TYPE_CHECKING = False  # typing is not imported at run time: it costs more than the rest
if TYPE_CHECKING:
    from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    """Runs the command with ``argv`` (``sys.argv[1:]`` when None); returns the exit status."""
    args = sys.argv[1:] if argv is None else argv
    out = sys.stdout
    err = sys.stderr
    try:
        invocation = _imds.parse_args(args)
    except _imds.CommandLineError as error:
        err.write(str(error))
        err.flush()
        return _imds.EXIT_USAGE
    if invocation.command == "help":
        out.write(_imds.USAGE + "\n")
        out.flush()
        return _imds.EXIT_SUCCESS

    def on_diagnostic(diagnostic: _imds.Diagnostic) -> None:
        if invocation.trace:
            err.write(diagnostic.line())

    try:
        settings = _imds.Settings.load()
        if invocation.command == "settings":
            out.write(settings.report())
            out.flush()
            return _imds.EXIT_SUCCESS
        client = _imds.Client(settings)
        conn = _sync.Connection()
        try:
            if invocation.command == "get":
                client.start_get(invocation.path or "", _sync.monotonic_ms())
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
                out.write(credentials.to_process_json() + "\n")
                out.flush()
        finally:
            conn.close()
    except ImdsError as error:
        err.write(error.line())
        err.flush()
        return error.exit_code
    return _imds.EXIT_SUCCESS


if __name__ == "__main__":
    sys.exit(main())
