"""The watchdog behind ``OVLITE_INFERENCE_TIMEOUT``: jobs that outlive their deadline expire.

One daemon thread keeps a heap of deadlines.  When a job's deadline passes before the
device finished it, the job is finished with :class:`RequestTimeoutError` at once; whatever
the device reports for it later is dropped.  A job that finishes in time lets go of its
entry at once (the entry stays in the heap, empty, until the heap is compacted), so finished
jobs hold no memory however long the timeout.  Nothing a job or a setting does can end the
thread: waits are clamped to what Python accepts and an error while expiring is logged.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable

from .jobs import Job

log = logging.getLogger("ovlite")

#: Entries let go of by finished jobs, at least, before the heap is rebuilt without them.
_COMPACT_AT = 256


class Entry:
    """One watched job; the job calls :meth:`forget` when it finishes in time."""

    __slots__ = ("deadline", "order", "job", "make_error")

    def __init__(self, deadline: float, job: Job, make_error: Callable[[], BaseException]) -> None:
        self.deadline = deadline
        self.order = next(_order)
        self.job: Job | None = job
        self.make_error: Callable[[], BaseException] | None = make_error

    def __lt__(self, other: Entry) -> bool:
        return (self.deadline, self.order) < (other.deadline, other.order)

    def forget(self) -> None:
        """Drop the job: it finished (or the watchdog took it for expiry)."""
        global _forgotten
        with _lock:
            if self.job is None:
                return
            self.job = self.make_error = None
            _forgotten += 1
            if _forgotten >= _COMPACT_AT and _forgotten * 2 >= len(_heap):
                _heap[:] = [entry for entry in _heap if entry.job is not None]
                heapq.heapify(_heap)
                _forgotten = 0


_lock = threading.Condition()
_heap: list[Entry] = []
_forgotten = 0  # entries in the heap whose job let go of them
_order = itertools.count()
_thread: threading.Thread | None = None


def watch(job: Job, timeout_ms: float, make_error: Callable[[], BaseException]) -> None:
    """Expire ``job`` with ``make_error()`` unless it finishes within ``timeout_ms``."""
    global _thread
    seconds = min(max(timeout_ms, 0) / 1000.0, threading.TIMEOUT_MAX)
    entry = Entry(time.monotonic() + seconds, job, make_error)
    job.watch_entry = entry
    with _lock:
        heapq.heappush(_heap, entry)
        if _thread is None:
            _thread = threading.Thread(target=_run, name="ovlite-watchdog", daemon=True)
            _thread.start()
        if _heap[0] is entry:
            _lock.notify()


def _after_fork() -> None:
    """In a forked child the thread is gone and the deadlines are the parent's jobs'."""
    global _lock, _heap, _forgotten, _thread
    _lock, _heap, _forgotten, _thread = threading.Condition(), [], 0, None


os.register_at_fork(after_in_child=_after_fork)


def _run() -> None:
    global _forgotten
    while True:
        with _lock:
            while not _heap or _heap[0].deadline > time.monotonic():
                wait = None if not _heap else _heap[0].deadline - time.monotonic()
                _lock.wait(None if wait is None else min(wait, threading.TIMEOUT_MAX))
            entry = heapq.heappop(_heap)
            job, make_error = entry.job, entry.make_error
            if job is None:
                _forgotten -= 1
                continue
            entry.job = entry.make_error = None
        try:
            job.expire(make_error())  # type: ignore[misc]
        except Exception:  # a raising completion must not end the watchdog for everyone
            log.exception("ovlite-watchdog: error while expiring a job")
        job = None
