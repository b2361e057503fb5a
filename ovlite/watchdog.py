"""The watchdog behind ``OVLITE_INFERENCE_TIMEOUT``: jobs that outlive their deadline expire.

One daemon thread keeps a heap of deadlines.  When a job's deadline passes before the
device finished it, the job is finished with :class:`RequestTimeoutError` at once; whatever
the device reports for it later is dropped.  A job that finishes in time lets go of its
entry at once (the entry stays in the heap, empty, until the heap is compacted), so finished
jobs hold no memory however long the timeout.  Nothing a job or a setting does can end the
thread: waits are clamped to what Python accepts and an error while expiring is logged.

What the watchdog expires is anything with ``expire(error)`` and a ``watch_entry`` slot: a
:class:`Job` handed to a device, or a :class:`StopSignal` for a sync inference that runs in
the caller's thread on a device that can stop a run (:meth:`ovlite.plugin.CompiledModel.
run_stoppable`): there the expiry stops the device's run, and the caller raises the error.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol


class Watched(Protocol):
    """What the watchdog can expire: a :class:`ovlite.plugin.Job` or a :class:`StopSignal`."""

    watch_entry: Any

    def expire(self, error: BaseException) -> Any: ...


log = logging.getLogger("ovlite")

#: Entries let go of by finished jobs, at least, before the heap is rebuilt without them.
_COMPACT_AT = 256


class Entry:
    """One watched job; the job calls :meth:`forget` when it finishes in time.

    It is also the ``stop`` a stoppable device's run gets for an asynchronous job
    (``run_stoppable(context, inputs, entry)``): :meth:`on_stop` registers what stops the
    run, called once the watchdog has expired the job.
    """

    __slots__ = ("deadline", "job", "make_error", "stop")

    def __init__(
        self, deadline: float, job: Watched, make_error: Callable[[], BaseException]
    ) -> None:
        self.deadline = deadline
        self.job: Watched | None = job
        self.make_error: Callable[[], BaseException] | None = make_error
        self.stop: Callable[[], Any] | None = None

    def on_stop(self, stop: Callable[[], Any]) -> None:
        """Call ``stop()`` when the job expires (now, if it has) to end its run early."""
        with _lock:
            if self.job is not None:
                self.stop = stop
                return
        stop()  # expired (or finished: a stop after the run is harmless by contract)

    def forget(self) -> None:
        """Drop the job: it finished (or the watchdog took it for expiry)."""
        global _forgotten
        with _lock:
            if self.job is None:
                return
            self.job = self.make_error = self.stop = None
            _forgotten += 1
            if _forgotten >= _COMPACT_AT and _forgotten * 2 >= len(_heap):
                _heap[:] = [item for item in _heap if item[2].job is not None]
                heapq.heapify(_heap)
                _forgotten = 0


# A plain lock for the per-inference calls (``with`` on it runs in C, on a Condition it runs
# Python code); the watchdog thread waits on a Condition over the same lock.
_lock = threading.Lock()
_wakeup = threading.Condition(_lock)
# (deadline, order, entry): tuples compare in C; order breaks ties, so entries never compare
_heap: list[tuple[float, int, Entry]] = []
_forgotten = 0  # entries in the heap whose job let go of them
_order = itertools.count()
_thread: threading.Thread | None = None


def watch(job: Watched, timeout_ms: float, make_error: Callable[[], BaseException]) -> None:
    """Expire ``job`` with ``make_error()`` unless it finishes within ``timeout_ms``."""
    seconds = min(max(timeout_ms, 0) / 1000.0, threading.TIMEOUT_MAX)
    _add(Entry(time.monotonic() + seconds, job, make_error))


def _add(entry: Entry) -> None:
    global _thread
    entry.job.watch_entry = entry  # type: ignore[union-attr]
    with _lock:
        heapq.heappush(_heap, (entry.deadline, next(_order), entry))
        if _thread is None:
            _thread = threading.Thread(target=_run, name="ovlite-watchdog", daemon=True)
            _thread.start()
        if _heap[0][2] is entry:
            _wakeup.notify()


class StopSignal:
    """A sync inference's deadline, for a device that runs it in the caller's thread and can
    stop it (:meth:`ovlite.plugin.CompiledModel.run_stoppable`).

    The device calls :meth:`on_stop` with what stops its run (for ONNX Runtime: set the
    run's ``RunOptions.terminate``); the watchdog calls it from its own thread once the
    deadline passes (at once if it passed already).  The caller then ends the signal with
    :meth:`end` and raises the timeout error instead of any result, so the caller alone
    reports the inference: exactly once, and a late result is dropped.
    """

    __slots__ = ("deadline", "make_error", "error", "stop", "watch_entry")

    def __init__(self, deadline: float, make_error: Callable[[], BaseException]) -> None:
        #: ``time.monotonic()`` at which the run is stopped
        self.deadline = deadline
        self.make_error = make_error
        #: the timeout error once the deadline passed, else ``None``
        self.error: BaseException | None = None
        self.stop: Callable[[], Any] | None = None
        self.watch_entry: Entry | None = None

    def on_stop(self, stop: Callable[[], Any]) -> None:
        """Call ``stop()`` when the deadline passes (now, if it has): it must make the run
        end soon, by raising anything, and be harmless once the run is over."""
        self.stop = stop
        if self.error is not None:  # the watchdog sets error before it reads stop
            stop()

    def seconds_left(self) -> float:
        """Seconds to the deadline, 0 once it passed (to bound a wait for a stream)."""
        return min(max(0.0, self.deadline - time.monotonic()), threading.TIMEOUT_MAX)

    def timeout_error(self) -> BaseException:
        """The timeout error, for a device that gave up waiting (for a free stream, say)."""
        if self.error is None:
            self.error = self.make_error()
        return self.error

    def expire(self, error: BaseException) -> None:
        """The watchdog's call: the deadline passed."""
        self.error = error
        stop = self.stop
        if stop is not None:
            stop()

    def end(self) -> BaseException | None:
        """The run is over: stop watching; the timeout error if the deadline passed."""
        entry = self.watch_entry
        if entry is not None:
            entry.forget()
        self.stop = None
        return self.error


def watch_stop(timeout_ms: float, make_error: Callable[[], BaseException]) -> StopSignal:
    """A :class:`StopSignal` the watchdog fires ``timeout_ms`` from now."""
    seconds = min(max(timeout_ms, 0) / 1000.0, threading.TIMEOUT_MAX)
    signal = StopSignal(time.monotonic() + seconds, make_error)
    _add(Entry(signal.deadline, signal, make_error))
    return signal


def _after_fork() -> None:
    """In a forked child the thread is gone and the deadlines are the parent's jobs'."""
    global _lock, _wakeup, _heap, _forgotten, _thread
    _lock = threading.Lock()
    _wakeup = threading.Condition(_lock)
    _heap, _forgotten, _thread = [], 0, None


os.register_at_fork(after_in_child=_after_fork)


def _run() -> None:
    global _forgotten
    while True:
        with _lock:
            while not _heap or _heap[0][0] > time.monotonic():
                wait = None if not _heap else _heap[0][0] - time.monotonic()
                _wakeup.wait(None if wait is None else min(wait, threading.TIMEOUT_MAX))
            entry = heapq.heappop(_heap)[2]
            job, make_error = entry.job, entry.make_error
            if job is None:
                _forgotten -= 1
                continue
            entry.job = entry.make_error = None
        try:
            job.expire(make_error())  # type: ignore[misc]
            stop, entry.stop = entry.stop, None
            if stop is not None:  # the device can end the expired job's run: free its stream
                stop()
        except Exception:  # a raising completion must not end the watchdog for everyone
            log.exception("ovlite-watchdog: error while expiring a job")
        job = stop = None
