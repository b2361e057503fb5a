"""The watchdog behind ``OVLITE_INFERENCE_TIMEOUT``: jobs that outlive their deadline expire.

One daemon thread keeps a heap of deadlines.  When a job's deadline passes before the
device finished it, the job is finished with :class:`RequestTimeoutError` at once; whatever
the device reports for it later is dropped.  The heap holds weak references, so a job that
finished in time costs nothing until its deadline comes round.
"""

from __future__ import annotations

import heapq
import itertools
import os
import threading
import time
import weakref
from collections.abc import Callable

from .jobs import Job

_lock = threading.Condition()
_heap: list[tuple[float, int, weakref.ref[Job], Callable[[], BaseException]]] = []
_order = itertools.count()
_thread: threading.Thread | None = None


def watch(job: Job, timeout_ms: float, make_error: Callable[[], BaseException]) -> None:
    """Expire ``job`` with ``make_error()`` unless it finishes within ``timeout_ms``."""
    global _thread
    deadline = time.monotonic() + timeout_ms / 1000.0
    with _lock:
        heapq.heappush(_heap, (deadline, next(_order), weakref.ref(job), make_error))
        if _thread is None:
            _thread = threading.Thread(target=_run, name="ovlite-watchdog", daemon=True)
            _thread.start()
        if _heap[0][0] == deadline:
            _lock.notify()


def _after_fork() -> None:
    """In a forked child the thread is gone and the deadlines are the parent's jobs'."""
    global _lock, _heap, _thread
    _lock, _heap, _thread = threading.Condition(), [], None


os.register_at_fork(after_in_child=_after_fork)


def _run() -> None:
    while True:
        with _lock:
            while not _heap or _heap[0][0] > time.monotonic():
                _lock.wait(None if not _heap else _heap[0][0] - time.monotonic())
            _, _, ref, make_error = heapq.heappop(_heap)
        job = ref()
        if job is not None and not job.done:
            job.expire(make_error())
