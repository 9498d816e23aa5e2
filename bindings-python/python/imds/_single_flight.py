"""One call in flight at a time, its outcome shared by every caller that arrived while it ran.

:class:`imds.Provider` fetches through :class:`SingleFlight`, :class:`imds.aio.Provider` through
its asyncio counterpart (:mod:`imds._async_single_flight`), as Node's provider shares
one promise: while a fetch is in flight, a new caller waits for that fetch's credentials or error
instead of queueing a fetch of its own, so N concurrent callers against a broken IMDS fail after one
fetch's time, not N. The next call after a fetch has ended starts a new one (the core's cache makes
that free while its credentials are fresh).

An exception is shared as one copy per caller (same class, message, attributes, cause and the
traceback of where the shared call failed): raising one exception object in many threads or tasks
would rewrite its ``__traceback__`` under the others. A call that ends by a ``BaseException`` that
is not an ``Exception`` (``KeyboardInterrupt`` in the caller's thread, ``CancelledError`` of the
shared task) concerns only its own caller: the waiting callers start or join a new call instead.
"""

from __future__ import annotations

import threading

TYPE_CHECKING = False  # typing is not imported at run time: it costs more than the rest
if TYPE_CHECKING:
    from types import TracebackType
    from typing import Callable, Optional

    from ._imds import Credentials

__all__ = ["SingleFlight", "copy_for_caller"]


def copy_for_caller(error: BaseException, traceback: Optional[TracebackType]) -> BaseException:
    """An exception equal to ``error`` for one more caller: a shallow copy (same class, ``args``
    and attributes) with ``error``'s cause and context and ``traceback``; ``error`` itself when it
    cannot be copied."""
    import copy

    try:
        fresh = copy.copy(error)
    except Exception:
        return error
    if type(fresh) is not type(error):
        return error
    fresh.__cause__ = error.__cause__
    fresh.__context__ = error.__context__
    fresh.__suppress_context__ = error.__suppress_context__
    return fresh.with_traceback(traceback)


class _Flight:
    """One call of a :class:`SingleFlight`: its outcome, readable once ``ended``."""

    __slots__ = ("ended", "waiters", "value", "error", "traceback")

    def __init__(self) -> None:
        self.ended = False
        self.waiters = 0
        self.value: Optional[Credentials] = None
        self.error: Optional[BaseException] = None
        self.traceback: Optional[TracebackType] = None


class SingleFlight:
    """Shares one call between concurrent threads: the first caller of :meth:`call` runs its
    function, the callers that arrive before it returns wait and get its return value or a copy of
    its exception.

    The caller that runs the function gets its outcome as a plain call would (the exception itself).
    Thread-safe with or without the GIL: one condition variable guards the call in flight and
    publishes its outcome.
    """

    __slots__ = ("_lock", "_changed", "_flight")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # notified when a call with waiters ends
        self._flight: Optional[_Flight] = None

    def call(self, function: Callable[[], Credentials]) -> Credentials:
        """``function()``, or the outcome of the call in flight (whose function is the same)."""
        while True:
            with self._lock:
                flight = self._flight
                if flight is None:
                    flight = self._flight = _Flight()
                    break
                flight.waiters += 1
                while not flight.ended:
                    self._changed.wait()
            if flight.error is not None:
                raise copy_for_caller(flight.error, flight.traceback)
            if flight.value is not None:
                return flight.value
            # Its caller was interrupted (KeyboardInterrupt, SystemExit): not an outcome to share.
        try:
            value = function()
            flight.value = value
            return value
        except Exception as error:
            flight.error = error
            flight.traceback = error.__traceback__  # as it is here: re-raising extends it
            raise
        finally:
            with self._lock:
                self._flight = None  # a caller from now on starts a new call
                flight.ended = True
                if flight.waiters:
                    self._changed.notify_all()
