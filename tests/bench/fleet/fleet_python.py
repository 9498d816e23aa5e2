"""The fleet barrier for Python programs (see tests/bench/fleet.py).

    python fleet_python.py [--preload MODULE[,MODULE...]] (-m MODULE | SCRIPT) [ARGS...]

Imports the preloaded modules (what the program imports at start-up), reports ``ready`` and
blocks on the barrier (a FIFO the harness holds open for writing: ``FLEET_BARRIER``); when the
harness closes it, runs the program exactly as ``python -m MODULE ARGS`` or ``python SCRIPT ARGS``
would (``runpy``, ``__name__ == "__main__"``, ``sys.argv`` set), then reports the time it was
released and the time the program returned (``time.monotonic_ns``, CLOCK_MONOTONIC) and its exit
status on ``FLEET_REPORT``. The program's own imports then find the preloaded modules in
``sys.modules``, so the interpreter's start-up and imports happen before the barrier.
"""

import importlib
import os
import runpy
import sys
import time
import traceback


def exit_status(error: SystemExit) -> int:
    if error.code is None:
        return 0
    if isinstance(error.code, int):
        return error.code
    print(error.code, file=sys.stderr)
    return 1


def main() -> int:
    args = sys.argv[1:]
    if args[:1] == ["--preload"]:
        for name in args[1].split(","):
            importlib.import_module(name)
        args = args[2:]
    if not args or (args[0] == "-m" and len(args) < 2):
        print("usage: fleet_python.py [--preload MODULES] (-m MODULE | SCRIPT) [ARGS...]", file=sys.stderr)
        return 2
    ident = os.environ["FLEET_ID"]
    report = os.open(os.environ["FLEET_REPORT"], os.O_WRONLY | os.O_CLOEXEC)
    barrier = os.open(os.environ["FLEET_BARRIER"], os.O_RDONLY | os.O_CLOEXEC)
    os.write(report, f"ready {ident}\n".encode())
    while os.read(barrier, 1):
        pass
    released = time.monotonic_ns()
    os.close(barrier)
    try:
        if args[0] == "-m":
            sys.argv = [args[1]] + args[2:]
            runpy.run_module(args[1], run_name="__main__", alter_sys=True)
        else:
            sys.argv = list(args)
            runpy.run_path(args[0], run_name="__main__")
        status = 0
    except SystemExit as error:
        status = exit_status(error)
    except BaseException:  # the program crashed: reported as its failure, with the traceback
        traceback.print_exc()
        status = 1
    try:
        sys.stdout.flush()
    except OSError:
        pass
    done = time.monotonic_ns()
    os.write(report, f"done {ident} {released} {done} {status}\n".encode())
    os.close(report)
    return status


if __name__ == "__main__":
    sys.exit(main())
