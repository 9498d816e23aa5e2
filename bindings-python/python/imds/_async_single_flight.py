"""The asyncio counterpart of :class:`imds._single_flight.SingleFlight`: one call in flight at a
time, run as a task of its own, its outcome shared by every task that called while it ran (see
:mod:`imds._single_flight`)."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, Any, Callable, Coroutine, List, Optional

from ._single_flight import copy_for_caller

if TYPE_CHECKING:
    from types import TracebackType

    from ._imds import Credentials

    Fetch = Callable[[], Coroutine[Any, Any, Credentials]]

__all__ = ["AsyncSingleFlight"]


class _Flight:
    """One call of an :class:`AsyncSingleFlight`: its task, the futures of the callers waiting for
    it, and its outcome once they are woken."""

    __slots__ = ("task", "waiters", "value", "error", "traceback")

    def __init__(self) -> None:
        self.task: Optional[asyncio.Task[None]] = None
        self.waiters: List[asyncio.Future[None]] = []
        self.value: Optional[Credentials] = None
        self.error: Optional[BaseException] = None
        self.traceback: Optional[TracebackType] = None


class AsyncSingleFlight:
    """Shares one call between concurrent tasks: the first caller of :meth:`call` starts its
    function as a task of its own, and every caller that arrives before that task ends waits for it
    and gets its result or a copy of its exception.

    Cancelling a caller cancels only that caller's wait: the shared task goes on for the others
    (and fills the provider's cache). Should the shared task itself be cancelled (its event loop
    shutting down), the callers that were not cancelled start a new one instead of sharing the
    cancellation. Safe for the tasks of one event loop at a time; a task left pending by an
    earlier loop is not awaited from another. On Python 3.12 and later the task starts eagerly
    (unless the loop has a task factory of its own), so a call the cache answers costs no trip
    through the event loop.
    """

    __slots__ = ("_flight",)

    def __init__(self) -> None:
        self._flight: Optional[_Flight] = None

    async def call(self, function: Fetch) -> Credentials:
        """``await function()``, or the outcome of the call in flight (its function is the same)."""
        loop = asyncio.get_running_loop()
        while True:
            flight = self._flight
            if flight is None or flight.task is None or flight.task.get_loop() is not loop:
                flight = self._flight = _Flight()
                shared = self._run(flight, function)
                if sys.version_info >= (3, 12) and loop.get_task_factory() is None:
                    # Runs until it first waits, maybe to its end, before returning.
                    flight.task = asyncio.Task(shared, loop=loop, eager_start=True)
                else:
                    flight.task = loop.create_task(shared)
            if not flight.task.done():
                waiter = loop.create_future()
                flight.waiters.append(waiter)
                await waiter  # cancelling this caller cancels its own future, not the task
            if flight.error is not None:
                raise copy_for_caller(flight.error, flight.traceback)
            if flight.value is not None:
                return flight.value
            # The shared task was cancelled, not this caller: start another.

    async def _run(self, flight: _Flight, function: Fetch) -> None:
        """The shared task: keeps the outcome on ``flight`` (so the task itself never fails with
        an exception nobody retrieves) and wakes the callers waiting for it."""
        try:
            flight.value = await function()
        except Exception as error:
            flight.error = error
            flight.traceback = error.__traceback__
        finally:
            if self._flight is flight:
                self._flight = None  # a caller from now on starts a new call
            for waiter in flight.waiters:
                if not waiter.done():
                    waiter.set_result(None)
