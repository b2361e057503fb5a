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
"""

from __future__ import annotations

import inspect
import logging
import queue
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import numpy as np

from .errors import InferenceError, OvliteError, RequestCancelledError
from .jobs import Job

Context = TypeVar("Context")
RunFunction = Callable[[Any, Sequence[np.ndarray]], tuple[Sequence[np.ndarray], dict | None]]

log = logging.getLogger("ovlite.streams")
_STOP = object()


class StreamsExecutor(Generic[Context]):
    """Run jobs on a fixed set of execution contexts."""

    def __init__(self, contexts: Sequence[Context], run: RunFunction, name: str) -> None:
        if not contexts:
            raise ValueError("a streams executor needs at least one context")
        self.name = name
        if inspect.ismethod(run):
            self._run_ref: Callable[[], RunFunction | None] = weakref.WeakMethod(run)
            weakref.finalize(run.__self__, self.close, False)
        else:
            self._run_ref = lambda: run
        self._contexts = list(contexts)
        self._idle: queue.SimpleQueue[Context] = queue.SimpleQueue()
        for context in self._contexts:
            self._idle.put(context)
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._start_lock = threading.Lock()
        self._closed = False

    @property
    def num_streams(self) -> int:
        return len(self._contexts)

    def submit(self, job: Job) -> None:
        """Queue ``job``; a worker runs it on the first free context."""
        if self._closed:
            job.set_error(RequestCancelledError(f"{self.name} is closed"))
            return
        if not self._threads:
            self._start_workers()
        self._jobs.put(job)

    def call(self, inputs: Sequence[np.ndarray]) -> tuple[Sequence[np.ndarray], Any]:
        """Run one inference in the calling thread on an idle context (waiting for one if
        all are busy) and return ``(outputs, info)``; errors are raised as in ``submit``."""
        if self._closed:
            raise RequestCancelledError(f"{self.name} is closed")
        run = self._run_ref()
        if run is None:
            raise RequestCancelledError(f"{self.name} was garbage-collected")
        context = self._idle.get()
        try:
            return run(context, inputs)
        except OvliteError:
            raise
        except Exception as exc:
            raise self._inference_error(exc) from exc
        finally:
            self._idle.put(context)

    def _inference_error(self, exc: Exception) -> InferenceError:
        return InferenceError(f"inference on {self.name} failed: {exc}")

    def close(self, wait: bool = True) -> None:
        """Stop the workers after the jobs already queued; later jobs are cancelled.

        With ``wait`` the call returns once the workers have finished; without it, they
        finish the queued jobs and exit on their own.
        """
        if self._closed:
            return
        self._closed = True
        for _ in self._threads:
            self._jobs.put(_STOP)
        if wait:
            current = threading.current_thread()
            for thread in self._threads:
                if thread is not current:
                    thread.join()
            self._cancel_leftovers()

    def _start_workers(self) -> None:
        with self._start_lock:
            if self._threads or self._closed:
                return
            for index in range(len(self._contexts)):
                thread = threading.Thread(
                    target=self._work, name=f"{self.name}-stream{index}", daemon=True
                )
                thread.start()
                self._threads.append(thread)

    def _work(self) -> None:
        jobs, idle, execute = self._jobs, self._idle, self._execute
        while True:
            job = jobs.get()
            if job is _STOP:
                return
            context = idle.get()
            try:
                execute(context, job)
            except BaseException:  # a callback broke the contract; keep the stream alive
                log.exception("%s: unexpected error after a job finished", self.name)
            finally:
                idle.put(context)
            job = None  # do not keep the finished job (and its request) alive while idle

    def _execute(self, context: Context, job: Job) -> None:
        if not job.begin():
            return
        run = self._run_ref()
        if run is None:
            job.set_error(RequestCancelledError(f"{self.name} was garbage-collected"))
            return
        try:
            outputs, info = run(context, job.inputs)
        except OvliteError as exc:
            job.set_error(exc)
        except Exception as exc:
            error = self._inference_error(exc)
            error.__cause__ = exc
            job.set_error(error)
        else:
            job.set_result(outputs, info)

    def _cancel_leftovers(self) -> None:
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if job is not _STOP and job.begin():
                job.set_error(RequestCancelledError(f"{self.name} was closed before the job ran"))
