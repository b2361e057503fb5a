"""BATCH's runtime: :class:`BatchCompiledModel` collects asynchronous jobs into batched jobs on
its child and hands each job its own rows of the batched outputs.

Choices, all documented in the user guide:

- Rows, not requests, fill a batch: a dynamic-batch model may get requests of k rows; a request
  that would overflow the pending batch closes it first; one larger than N runs alone.
  Requests whose other dimensions differ (a model with dynamic image sizes) never share a batch.
- Inputs are copied once, into a per-shape pool of batch buffers (``np.concatenate(out=)``); a
  batch of one request is handed to the child as it is.  Outputs are not copied.
- Requests with a device tensor (an ``onnxruntime.OrtValue``) among their inputs run alone on
  the child: their data stays on the device instead of being copied into a batch.
- Synchronous calls (``infer()``, ``compiled(...)``) run alone on the child at once, never
  waiting for a batch (with ``OVLITE_INFERENCE_TIMEOUT`` too); asynchronous ones
  (``start_async``, queues, asyncio) are batched.
- A failed batch fails every request in it, each with its own error naming the batch; the
  requests are not re-run one by one.
- A request cancelled before its batch forms is dropped from the batch (its rows do not count
  towards filling it); one cancelled after the batch formed runs to completion.
- ``request.executed_on`` is what the child reports (``"CPU"``); ``info`` also holds
  ``batch_size`` (rows in the execution) and ``batch_requests``.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import properties as props
from ..binding import is_device_tensor
from ..device import CompiledModel
from ..errors import (
    DeviceClosedError,
    InferenceError,
    InputShapeError,
    OvliteError,
    RequestCancelledError,
)
from ..fork import reset_after_fork
from ..jobs import Job
from ..model import Model
from .batch_plan import BatchPlan

log = logging.getLogger("ovlite.meta")


class BatchCompiledModel(CompiledModel):
    """Asynchronous jobs are collected into batches for ``child``; see the module docstring."""

    def __init__(
        self,
        model: Model,
        name: str,
        child: CompiledModel,
        size: int,
        timeout_ms: int,
        plan: BatchPlan,
        origin: str,
    ) -> None:
        child_requests = child.optimal_number_of_requests
        child_name = ", ".join(
            _child_property(child, props.execution_devices.name, [child.device_name])
        )
        child_reason = _child_property(child, props.configuration_reason.name, "")
        parts = [
            f"batches of {size} on {child_name}, timeout {timeout_ms} ms",
            origin,
            f"{size} x {child_requests} requests of the child = {size * child_requests}",
        ]
        if plan.reshaped:
            parts.append("dim 0 of every input made dynamic for the child")
        parts.extend(plan.notes)
        if child_reason:
            parts.append(f"child: {child_reason}")
        properties = {
            props.optimal_number_of_infer_requests.name: size * child_requests,
            props.optimal_batch_size.name: size,
            props.auto_batch_timeout.name: timeout_ms,
            props.configuration_reason.name: "; ".join(parts),
        }
        hint = _child_property(child, props.hint.performance_mode.name, None)
        if hint is not None:
            properties[props.hint.performance_mode.name] = hint
        super().__init__(model, name, properties)
        self.child = child
        self.batch_size = size
        self.timeout_ms = timeout_ms
        self._collector = _Collector(
            child, size, timeout_ms / 1000.0, name, pool_size=child_requests + 1
        )
        weakref.finalize(self, self._collector.close)

    def submit(self, job: Job) -> None:
        self._collector.submit(job)

    def run(self, inputs: Sequence[np.ndarray]) -> tuple[Sequence[np.ndarray], Any]:
        """A synchronous inference runs alone on the child at once; it never waits to batch."""
        if self._closed:
            raise DeviceClosedError(f"{self.device_name} is closed")
        return self.child.run(inputs)

    def submit_alone(self, job: Job) -> None:
        """Sync calls under ``OVLITE_INFERENCE_TIMEOUT`` also skip the batch: the watched job
        goes straight to the child instead of through :meth:`submit`."""
        if self._closed:
            raise DeviceClosedError(f"{self.device_name} is closed")
        self.child.submit(job)

    def get_property(self, key: Any) -> Any:
        name = props.lookup_key(key).name
        if name == props.execution_devices.name:
            return _child_property(self.child, name, [self.child.device_name])
        return super().get_property(key)

    def supported_properties(self) -> list[str]:
        return sorted({*super().supported_properties(), props.execution_devices.name})

    def children(self) -> dict[str, CompiledModel]:
        return {self.child.device_name: self.child}

    def close(self) -> None:
        """Run the partial batch still pending, stop the timer, then close the child."""
        super().close()
        self._collector.close()
        self.child.close()


def _child_property(child: CompiledModel, name: str, default: Any) -> Any:
    try:
        return child.get_property(name)
    except OvliteError:
        return default


class _Collector:
    """Pending jobs, the timer that flushes partial batches, and the batched executions.

    Lives apart from the compiled model so that its timer thread does not keep the model
    alive; the model's finalizer closes it.
    """

    def __init__(
        self, child: CompiledModel, size: int, timeout_s: float, name: str, pool_size: int
    ) -> None:
        self.child = child
        self.size = size
        self.timeout_s = timeout_s
        self.name = name
        self._key: tuple | None = None
        self._deadline = 0.0
        self._closed = False
        self._pool: dict[tuple, list[list[np.ndarray]]] = {}
        self._pool_size = pool_size
        #: how many partial batches the timer has run (diagnostics)
        self.flushed_by_timer = 0
        self._start_afresh()
        reset_after_fork(self)

    def _start_afresh(self) -> None:
        """No timer, nothing pending: at creation and in a forked child (where the timer is
        gone and the pending jobs are the parent's)."""
        self._cond = threading.Condition(threading.Lock())
        self._pool_lock = threading.Lock()
        self._pending: list[tuple[Job, int]] = []
        self._rows = 0
        self._timer: threading.Thread | None = None

    _after_fork = _start_afresh

    # ---- collecting ------------------------------------------------------------------------

    def submit(self, job: Job) -> None:
        inputs = job.inputs
        if any(type(a) is not np.ndarray and is_device_tensor(a) for a in inputs):
            # device tensors stay where they are: the request runs alone on the child
            if self._closed:
                job.refuse(DeviceClosedError(f"{self.name} is closed"))
            else:
                self.child.submit(job)
            return
        rows = inputs[0].shape[0]
        if any(a.shape[0] != rows for a in inputs):
            sizes = ", ".join(str(a.shape[0]) for a in inputs)
            job.refuse(
                InputShapeError(
                    f"{self.name}: every input of a request must have the same batch size "
                    f"(dim 0); got {sizes}"
                )
            )
            return
        key = tuple(a.shape[1:] for a in inputs)
        ready: list[list[tuple[Job, int]]] = []
        with self._cond:
            closed = self._closed
            if not closed:
                if self._pending and (key != self._key or self._rows + rows > self.size):
                    ready.append(self._take())
                first = not self._pending
                if first:
                    self._key = key
                    self._deadline = time.monotonic() + self.timeout_s
                self._pending.append((job, rows))
                self._rows += rows
                if self._rows >= self.size:
                    self._drop_cancelled()
                if self._rows >= self.size or self.timeout_s <= 0:
                    ready.append(self._take())
                elif first:
                    if self._timer is None:
                        self._start_timer()
                    self._cond.notify()
        if closed:
            job.refuse(DeviceClosedError(f"{self.name} is closed"))
            return
        for batch in ready:
            self._dispatch(batch)

    def _take(self) -> list[tuple[Job, int]]:
        """The pending batch, emptied; caller holds the lock."""
        batch, self._pending, self._rows = self._pending, [], 0
        return batch

    def _drop_cancelled(self) -> None:
        """Forget jobs finished while pending (cancelled, expired); caller holds the lock."""
        if any(job.done for job, _ in self._pending):
            self._pending = [(job, rows) for job, rows in self._pending if not job.done]
            self._rows = sum(rows for _, rows in self._pending)

    def _start_timer(self) -> None:
        self._timer = threading.Thread(target=self._tick, name=f"{self.name}-timer", daemon=True)
        self._timer.start()

    def _tick(self) -> None:
        """Flush a partial batch once its first job has waited ``timeout_s``."""
        cond = self._cond
        while True:
            with cond:
                while not self._closed:
                    if not self._pending:
                        cond.wait()
                        continue
                    remaining = self._deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    cond.wait(min(remaining, threading.TIMEOUT_MAX))
                if self._closed:
                    return
                batch = self._take()
                self.flushed_by_timer += 1
            self._dispatch(batch)
            batch = []  # do not keep finished jobs alive while waiting

    # ---- running a batch -------------------------------------------------------------------

    def _dispatch(self, batch: list[tuple[Job, int]]) -> None:
        live = [(job, rows) for job, rows in batch if job.begin()]
        if not live:
            return
        total = sum(rows for _, rows in live)
        buffers: list[np.ndarray] | None = None
        if len(live) == 1:
            inputs: Sequence[np.ndarray] = live[0][0].inputs
        else:
            try:
                buffers = self._buffers(live[0][0].inputs)
                inputs = [buffer[:total] for buffer in buffers]
                for index, target in enumerate(inputs):
                    np.concatenate([job.inputs[index] for job, _ in live], axis=0, out=target)
            except Exception as exc:  # memory, say: fail this batch, keep the device going
                self._fail(live, total, exc)
                return
        child_job = Job(inputs, lambda done: self._finished(live, total, buffers, done))
        try:
            self.child.submit(child_job)
        except BaseException as exc:  # a child that cannot even queue the job fails the batch
            if not child_job.done:
                child_job.set_error(exc)

    def _buffers(self, example: Sequence[np.ndarray]) -> list[np.ndarray]:
        """One buffer of ``size`` rows per input, from the pool when one is free."""
        key = tuple((a.shape[1:], a.dtype.str) for a in example)
        with self._pool_lock:
            free = self._pool.get(key)
            if free:
                return free.pop()
        return [np.empty((self.size, *a.shape[1:]), dtype=a.dtype) for a in example]

    def _recycle(self, buffers: list[np.ndarray], outputs: Sequence[np.ndarray]) -> None:
        if any(np.may_share_memory(out, buf) for out in outputs for buf in buffers):
            return  # an output is a view of the inputs: the buffers now belong to the results
        key = tuple((b.shape[1:], b.dtype.str) for b in buffers)
        with self._pool_lock:
            free = self._pool.setdefault(key, [])
            if len(free) < self._pool_size:
                free.append(buffers)

    def _finished(
        self,
        live: list[tuple[Job, int]],
        total: int,
        buffers: list[np.ndarray] | None,
        child_job: Job,
    ) -> None:
        if child_job.error is not None:
            self._fail(live, total, child_job.error)
            return
        outputs = child_job.outputs or ()
        wrong = [
            f"output {i} has shape {list(out.shape)}"
            for i, out in enumerate(outputs)
            if out.ndim == 0 or out.shape[0] != total
        ]
        if wrong:
            self._fail(
                live,
                total,
                InferenceError(
                    f"the model's outputs do not follow the batch dimension: {'; '.join(wrong)} "
                    f"for a batch of {total} rows"
                ),
            )
            return
        if buffers is not None:
            self._recycle(buffers, outputs)
        info = dict(child_job.info or {})
        info.setdefault("device", self.child.device_name)
        info["batch_size"] = total
        info["batch_requests"] = len(live)
        offset = 0
        for job, rows in live:
            end = offset + rows
            self._deliver(job, [out[offset:end] for out in outputs], None, info)
            offset = end

    def _fail(self, live: list[tuple[Job, int]], total: int, error: BaseException) -> None:
        kind = RequestCancelledError if isinstance(error, RequestCancelledError) else InferenceError
        for job, _ in live:
            own = kind(
                f"{self.name}: the batch of {len(live)} request(s) ({total} rows) failed on "
                f"{self.child.device_name}: {error}"
            )
            own.__cause__ = error
            self._deliver(job, None, own, None)

    def _deliver(
        self, job: Job, outputs: list[np.ndarray] | None, error: BaseException | None, info: Any
    ) -> None:
        """Finish one job; a raising callback must not keep the batch's other jobs waiting."""
        try:
            if error is None:
                job.set_result(outputs, info)  # type: ignore[arg-type]
            else:
                job.set_error(error)
        except Exception:
            log.exception("%s: unexpected error while finishing a request", self.name)

    # ---- closing ---------------------------------------------------------------------------

    def close(self) -> None:
        """Run what is pending, stop the timer; later jobs fail with RequestCancelledError."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            batch = self._take()
            self._cond.notify_all()
        if batch:
            self._dispatch(batch)
        timer = self._timer
        if timer is not None and timer is not threading.current_thread():
            timer.join()
