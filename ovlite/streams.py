"""The streams executor: jobs run on N execution contexts, each used by one thread at a time.

A plugin gives it its contexts (for ONNX Runtime plugins, one session per stream) and a
``run(context, inputs) -> (outputs, info)`` function.  Asynchronous jobs are taken from one
shared queue by one worker thread per context, so a free stream always takes the oldest job.
Synchronous calls (``call``) run in the caller's thread on an idle context instead of
paying a hand-over to a worker: the same contexts, the same limit on how many run at once.
Worker threads start on the first asynchronous job, so a program that only calls ``infer``
never creates one.  When ``run`` is a bound method (of the compiled model, typically), the
executor holds it weakly and closes itself once its owner is garbage-collected, so worker
threads never keep a compiled model alive.

A device that can stop a run from another thread (ONNX Runtime: ``RunOptions.terminate``)
also passes ``run_stoppable(context, inputs, stop)``; a sync call under a timeout
(``OVLITE_INFERENCE_TIMEOUT``) then runs in the caller's thread too (:meth:`call_stoppable`),
and the timeout stops the run instead of the caller handing the job to a worker and waiting.
A worker runs a watched job with it too, so a job that expired gives its stream back.
``run_stoppable`` uses only ``stop.on_stop(fn)``.

Given a :class:`~ovlite.stream_batching.StreamBatching`, a worker that takes a job also takes
the jobs queued behind it that stack with it and runs them as one batch (see
:mod:`ovlite.stream_batching`).
"""

from __future__ import annotations

import atexit
import inspect
import logging
import os
import queue
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import numpy as np

from .errors import DeviceClosedError, InferenceError, OvliteError, RequestCancelledError
from .fork import reset_after_fork
from .jobs import Job
from .stream_batching import (
    ALONE,
    StreamBatching,
    rows_of,
    split_outputs,
    stack_inputs,
    stack_key,
)

if TYPE_CHECKING:
    from .watchdog import StopSignal

Context = TypeVar("Context")
RunFunction = Callable[[Any, Sequence[np.ndarray]], tuple[Sequence[np.ndarray], dict | None]]
#: ``run_stoppable(context, inputs, stop)``: as a run function, and it calls
#: ``stop.on_stop(...)`` with what ends the run early from another thread.
StoppableRunFunction = Callable[
    [Any, Sequence[np.ndarray], "StopSignal"], tuple[Sequence[np.ndarray], dict | None]
]

log = logging.getLogger("ovlite.streams")
_STOP = object()
_RELEASED = object()  # stands in an executor's idle contexts once close() dropped them


def _exit_wait_seconds(default: float = 5.0) -> float:
    text = os.environ.get("OVLITE_EXIT_WAIT_S", "")
    try:
        return min(max(0.0, float(text)), threading.TIMEOUT_MAX) if text else default
    except ValueError:
        log.warning("OVLITE_EXIT_WAIT_S=%r is not a number of seconds; using %s", text, default)
        return default


#: How long the interpreter waits at exit for inferences that are running (queued ones are
#: cancelled).  A worker still inside a native run when Python finalizes can abort the process.
EXIT_WAIT_S = _exit_wait_seconds()


class _WorkerState(threading.local):
    # a class default: reading a missing thread-local attribute through getattr's default
    # raises and catches AttributeError inside, about 0.7 us per read
    executor: StreamsExecutor | None = None  # set in a worker thread


_worker = _WorkerState()


def in_worker_thread() -> bool:
    """True in a streams executor's worker thread (in a callback, say): a call there that
    waits for a worker may wait for this very thread."""
    return _worker.executor is not None


#: Executors whose worker threads may be alive, for the exit handler.
_running: weakref.WeakSet[StreamsExecutor] = weakref.WeakSet()


class StreamsExecutor(Generic[Context]):
    """Run jobs on a fixed set of execution contexts."""

    def __init__(
        self,
        contexts: Sequence[Context],
        run: RunFunction,
        name: str,
        run_stoppable: StoppableRunFunction | None = None,
        batching: StreamBatching | None = None,
    ) -> None:
        if not contexts:
            raise ValueError("a streams executor needs at least one context")
        self.name = name
        #: ``run_stoppable(context, inputs, stop)`` when the device can stop a run, else None
        self.run_stoppable = run_stoppable
        #: how queued jobs are stacked into one run, or None: each job runs alone
        self.batching = batching
        # ``_run``: a plain function, held as it is (one call less per inference than through
        # ``_run_ref``); ``None`` for a bound method, which only ``_run_ref`` holds (weakly)
        self._run: RunFunction | None = None
        if inspect.ismethod(run):
            self._run_ref: Callable[[], RunFunction | None] = weakref.WeakMethod(run)
            weakref.finalize(run.__self__, self.close, False)
        else:
            self._run_ref = lambda: run
            self._run = run
        self._contexts = list(contexts)
        self._num_streams = len(self._contexts)
        self._closed = False
        self._start_afresh()
        reset_after_fork(self)

    def _start_afresh(self) -> None:
        """No workers, no queued jobs, every context idle: at creation and in a forked child
        (where the parent's workers are gone and its queued jobs are the parent's to run)."""
        self._idle: queue.SimpleQueue[Context] = queue.SimpleQueue()
        for context in self._contexts or [_RELEASED] * self._num_streams:
            self._idle.put(context)
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()  # guards _closed, _threads and the order of queue puts
        #: set by _stop_now (the interpreter is exiting): jobs a worker still holds are refused
        self._stopped_because: str | None = None
        _running.discard(self)

    _after_fork = _start_afresh

    @property
    def num_streams(self) -> int:
        return self._num_streams

    def submit(self, job: Job) -> None:
        """Queue ``job``; a worker runs it on the first free context."""
        with self._lock:  # so that a close() never slips between the check and the put
            if not self._closed:
                if not self._threads:
                    self._start_workers()
                self._jobs.put(job)
                return
        job.refuse(DeviceClosedError(f"{self.name} is closed"))

    def call(self, inputs: Sequence[np.ndarray]) -> tuple[Sequence[np.ndarray], Any]:
        """Run one inference in the calling thread on an idle context (waiting for one if
        all are busy) and return ``(outputs, info)``; errors are raised as in ``submit``."""
        if self._closed:
            raise DeviceClosedError(f"{self.name} is closed")
        run = self._run or self._run_ref()
        if run is None:
            raise RequestCancelledError(f"{self.name} was garbage-collected")
        context = self._idle.get()
        if context is _RELEASED:  # closed while this call waited for a context
            self._idle.put(context)
            raise DeviceClosedError(f"{self.name} is closed")
        try:
            return run(context, inputs)
        except OvliteError:
            raise
        except Exception as exc:
            raise self._inference_error(exc) from exc
        finally:
            self._idle.put(context if self._contexts else _RELEASED)

    def call_stoppable(
        self, inputs: Sequence[np.ndarray], stop: StopSignal
    ) -> tuple[Sequence[np.ndarray], Any]:
        """As :meth:`call`, with ``run_stoppable``, for a sync call under a timeout: waits
        for an idle context no longer than ``stop``'s deadline (then raises its timeout
        error), and the run is stopped when the deadline passes."""
        run = self.run_stoppable
        if run is None:
            raise TypeError(f"{self.name} was given no run_stoppable")
        if self._closed:
            raise DeviceClosedError(f"{self.name} is closed")
        if self._run_ref() is None:
            raise RequestCancelledError(f"{self.name} was garbage-collected")
        try:
            context = self._idle.get(timeout=stop.seconds_left())
        except queue.Empty:
            raise stop.timeout_error() from None
        if context is _RELEASED:  # closed while this call waited for a context
            self._idle.put(context)
            raise DeviceClosedError(f"{self.name} is closed")
        try:
            return run(context, inputs, stop)
        except OvliteError:
            raise
        except Exception as exc:
            raise self._inference_error(exc) from exc
        finally:
            self._idle.put(context if self._contexts else _RELEASED)

    def _inference_error(self, exc: BaseException) -> InferenceError:
        return InferenceError(f"inference on {self.name} failed: {type(exc).__name__}: {exc}")

    def close(self, wait: bool = True) -> None:
        """Stop the workers after the jobs already queued; later jobs are cancelled.

        With ``wait`` the call returns once the workers have finished; without it, they
        finish the queued jobs and exit on their own.  Called from one of the workers (a
        callback that closes the model), it waits for the others; the calling worker runs
        what is still queued once the callback returns, then exits.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            workers = list(self._threads)
            for _ in workers:
                self._jobs.put(_STOP)
        current = threading.current_thread()
        if wait and current not in workers:
            for thread in workers:
                thread.join()
            self._cancel_leftovers()
            _running.discard(self)
            self._release_contexts()
        elif wait:
            for thread in workers:
                if thread is not current:
                    thread.join()

    def _release_contexts(self) -> None:
        """Drop the contexts (sessions hold device memory) once no worker can use them; a
        synchronous call still waiting for one gets a marker that makes it fail cleanly."""
        self._contexts = []
        for _ in range(self._num_streams):  # FIFO: each get takes a context or a marker
            self._idle.get()
            self._idle.put(_RELEASED)

    def _start_workers(self) -> None:
        """Start one worker per context; the caller holds ``_lock``."""
        for index in range(self._num_streams):
            thread = threading.Thread(
                target=self._work if self.batching is None else self._work_in_batches,
                name=f"{self.name}-stream{index}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        _running.add(self)

    def _work(self) -> None:
        jobs, idle, execute, deliver = self._jobs, self._idle, self._execute, self._deliver
        _worker.executor = self
        while True:
            job = jobs.get()
            if job is _STOP:
                return
            context = idle.get()
            try:
                outcome = execute(context, job)
            finally:
                # free before the job's callback runs: the callback may infer on this model
                idle.put(context)
            if outcome is not None:
                deliver(job, outcome)
            job = outcome = None  # do not keep the finished job (and its request) alive

    def _work_in_batches(self) -> None:
        """A worker's loop with batching: each job comes with the queued jobs that stack
        with it (up to ``max_rows`` rows); the first that does not is held for the next
        round (or refused, when the interpreter is exiting meanwhile)."""
        jobs, limit = self._jobs, self.batching.max_rows  # type: ignore[union-attr]
        _worker.executor = self
        held: Any = None
        while True:
            job = jobs.get() if held is None else held
            held = None
            if job is _STOP:
                return
            if self._stopped_because is not None:  # a held job: _stop_now did not see it
                job.refuse(RequestCancelledError(f"{self.name} {self._stopped_because}"))
                continue
            batch = [job]
            key = stack_key(job)
            rows = 0 if key is ALONE else rows_of(job)
            while key is not ALONE and rows < limit:
                try:
                    more = jobs.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP or stack_key(more) != key or rows + rows_of(more) > limit:
                    held = more
                    break
                batch.append(more)
                rows += rows_of(more)
            self._run_batch([job for job in batch if job.begin()])
            job = more = batch = None  # do not keep finished jobs (and their requests) alive

    def _run_batch(self, batch: list[Job]) -> None:
        """Run claimed jobs as one inference and give each its rows; one by one when there
        is one job, or when the batched run fails or its outputs do not follow the batch
        (each job then gets its own result or error: none is lost to another's)."""
        if len(batch) > 1:
            run = self._run or self._run_ref()
            parts = None
            if run is not None:
                context = self._idle.get()
                try:
                    outputs, info = run(context, stack_inputs(batch))
                    parts = split_outputs(outputs, batch)
                except BaseException as exc:  # each job runs alone below and meets its own
                    log.debug("%s: a batch of %d failed (%r); alone", self.name, len(batch), exc)
                finally:
                    self._idle.put(context)
            if parts is not None:
                for job, rows in zip(batch, parts, strict=True):
                    self._deliver(job, (rows, info, None))
                return
        for job in batch:
            context = self._idle.get()
            try:
                outcome = self._run_claimed(context, job)
            finally:
                self._idle.put(context)
            self._deliver(job, outcome)

    def _deliver(self, job: Job, outcome: tuple[Any, Any, BaseException | None]) -> None:
        try:
            outputs, info, error = outcome
            if error is None:
                job.set_result(outputs, info)
            else:
                job.set_error(error)
        except BaseException:  # a callback broke the contract; keep the stream alive
            log.exception("%s: unexpected error after a job finished", self.name)

    def _execute(self, context: Context, job: Job) -> tuple[Any, Any, BaseException | None] | None:
        """Run ``job`` on ``context``: ``(outputs, info, error)``, ``None`` if it was cancelled."""
        if not job.begin():
            return None
        return self._run_claimed(context, job)

    def _run_claimed(self, context: Context, job: Job) -> tuple[Any, Any, BaseException | None]:
        """Run a job already claimed with ``begin()``: ``(outputs, info, error)``.

        Every exception the device raises ends the job, ``SystemExit`` and
        ``KeyboardInterrupt`` included (as an :class:`InferenceError` caused by them): the
        worker thread is ovlite's, so the job's owner is where they belong.
        """
        run = self._run or self._run_ref()
        if run is None:
            return None, None, RequestCancelledError(f"{self.name} was garbage-collected")
        stoppable, entry = self.run_stoppable, job.watch_entry
        try:
            if stoppable is not None and entry is not None:
                # under a timeout: the watchdog stops the run once the job expired
                outputs, info = stoppable(context, job.inputs, entry)
            else:
                outputs, info = run(context, job.inputs)
        except OvliteError as exc:
            return None, None, exc
        except BaseException as exc:
            error = self._inference_error(exc)
            error.__cause__ = exc
            return None, None, error
        return outputs, info, None

    def _cancel_leftovers(self) -> None:
        self._cancel(self._take_queued(), "was closed before the job ran")

    def _stop_now(self, reason: str) -> list[threading.Thread]:
        """Cancel every queued job and tell each worker to stop after its current one."""
        with self._lock:
            self._closed = True
            self._stopped_because = reason
            workers = list(self._threads)
            queued = self._take_queued()
            for _ in workers:
                self._jobs.put(_STOP)
        self._cancel(queued, reason)
        return workers

    def _take_queued(self) -> list[Job]:
        """Empty the job queue, stop signals included; the jobs that were in it."""
        jobs = []
        while True:
            try:
                item = self._jobs.get_nowait()
            except queue.Empty:
                return jobs
            if item is not _STOP:
                jobs.append(item)

    def _cancel(self, jobs: list[Job], reason: str) -> None:
        for job in jobs:
            job.refuse(RequestCancelledError(f"{self.name} {reason}"))


@atexit.register
def _stop_workers_at_exit() -> None:
    """Let running inferences end before the interpreter finalizes.

    Workers are daemon threads, so a program may leave with requests in flight; but a daemon
    thread inside ONNX Runtime's run while CPython finalizes is unwound by force, which aborts
    the process.  Queued jobs are cancelled; running ones get up to :data:`EXIT_WAIT_S`.
    """
    executors = list(_running)
    workers = [t for e in executors for t in e._stop_now("was stopped: the interpreter is exiting")]
    deadline = time.monotonic() + EXIT_WAIT_S
    for thread in workers:
        if thread is not threading.current_thread():
            thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [t.name for t in workers if t.is_alive()]
    if stuck:
        log.warning("exiting with inferences still running on %s", ", ".join(stuck))
