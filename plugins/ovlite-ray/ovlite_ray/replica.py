"""The driver's side of a replica: a compiled model whose ``submit`` sends jobs to the actor.

``submit`` never blocks: it hands the job's input arrays to ``actor.infer.remote`` (Ray puts
large arrays in its object store once and the actor reads them without copying) and returns.
When the result's ``ObjectRef`` resolves, Ray's callback queues it for the model's completion
thread, which finishes the job, so users' callbacks never run on Ray's own threads.  Output
arrays come back zero-copy from the object store: they are read-only.

A replica whose actor, worker process or node is gone is *lost*: its owner is told once (to
replace it) and each of its jobs fails with :class:`ReplicaLostError`, which the load balancer
answers by running the job on another replica.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ovlite import InferenceError, Model
from ovlite.plugin import CompiledModel, Job

log = logging.getLogger("ovlite.ray")
_STOP = object()


class ReplicaLostError(InferenceError):
    """A replica died (its actor, worker process or node) before answering a job."""


class Completions:
    """One thread that finishes a model's jobs as their results arrive from Ray."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def expect(self, replica: ReplicaHandle, job: Job, ref: Any) -> None:
        """Finish ``job`` on ``replica`` once ``ref`` resolves."""
        self._start()
        ref.future().add_done_callback(lambda future: self._queue.put((replica, job, future)))

    def fail(self, replica: ReplicaHandle, job: Job, error: BaseException) -> None:
        """Finish ``job`` with ``error`` from the completion thread (not the caller's)."""
        self._start()
        self._queue.put((replica, job, error))

    def stop(self) -> None:
        self._queue.put(_STOP)

    def _start(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=_finish_jobs,
                    args=(self._queue,),
                    name=f"{self.name}-completions",
                    daemon=True,
                )
                self._thread.start()


def _finish_jobs(items: queue.SimpleQueue) -> None:
    while True:
        item = items.get()
        if item is _STOP:
            return
        replica, job, outcome = item
        try:
            replica.finish(job, outcome)
        except BaseException:  # a user callback broke the contract; keep finishing the others
            log.exception("%s: unexpected error after a job finished", replica.name)
        item = replica = job = outcome = None  # hold nothing while idle


class ReplicaHandle(CompiledModel):
    """One replica, as a child compiled model for the load balancer."""

    def __init__(
        self,
        model: Model,
        name: str,
        label: str,
        actor: Any,
        facts: dict[str, Any],
        completions: Completions,
        on_lost: Callable[[ReplicaHandle, BaseException], None],
    ) -> None:
        super().__init__(
            model, name, {"OPTIMAL_NUMBER_OF_INFER_REQUESTS": int(facts["optimal_requests"])}
        )
        self.label = label
        self.actor = actor
        self.facts = facts
        self._completions = completions
        self._on_lost = on_lost
        self._lost: BaseException | None = None
        self._lost_lock = threading.Lock()

    @property
    def capacity(self) -> int:
        return self.optimal_number_of_requests

    @property
    def lost(self) -> bool:
        return self._lost is not None

    def describe(self) -> str:
        return f"{self.device_name} (node {str(self.facts['node'])[:8]}, pid {self.facts['pid']})"

    def submit(self, job: Job) -> None:
        if not job.begin():
            return
        if self._lost is not None:
            self._completions.fail(self, job, self._lost)
            return
        try:
            ref = self.actor.infer.remote(*job.inputs)
        except Exception as exc:  # Ray itself refused: count it as losing the replica
            self._completions.fail(self, job, exc)
            return
        self._completions.expect(self, job, ref)

    def run(self, inputs: Sequence[np.ndarray]) -> tuple[Sequence[np.ndarray], Any]:
        return self._submit_and_wait(inputs, watched=False)

    def finish(self, job: Job, outcome: Any) -> None:
        """Finish ``job`` with what Ray returned: a future, or an error raised before."""
        from ray.exceptions import RayTaskError

        if isinstance(outcome, BaseException):
            error = outcome
        else:
            try:
                outputs = outcome.result()
            except BaseException as exc:
                error = exc
            else:
                job.set_result(outputs, {"device": self.label, "replica": self.device_name})
                return
        if isinstance(error, RayTaskError):  # the model raised: the replica itself is fine
            cause = getattr(error, "cause", None) or error
            failure = InferenceError(f"inference on {self.device_name} failed: {cause}")
            failure.__cause__ = cause
            job.set_error(failure)
            return
        self._mark_lost(error)
        lost = ReplicaLostError(f"{self.describe()} was lost: {type(error).__name__}: {error}")
        lost.__cause__ = error
        job.set_error(lost)

    def _mark_lost(self, error: BaseException) -> None:
        with self._lost_lock:
            first = self._lost is None
            if first:
                self._lost = error
        if first:
            log.warning("%s was lost: %s", self.describe(), error)
            self._on_lost(self, error)

    def kill(self) -> None:
        """End the actor (its resources return to the cluster); jobs on it are lost."""
        import ray

        with self._lost_lock:
            if self._lost is None:
                self._lost = ReplicaLostError(f"{self.device_name} was closed")
        try:
            ray.kill(self.actor, no_restart=True)
        except Exception as exc:  # already gone, or Ray shut down
            log.debug("%s: kill: %s", self.device_name, exc)
