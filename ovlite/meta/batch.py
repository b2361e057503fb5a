"""``BATCH``: automatic batching.  N requests share one batched execution on a child device.

``BATCH:GPU(8)`` compiles the model once on ``GPU`` with a dynamic batch dimension (dim 0) and
collects asynchronous requests: when 8 rows are pending they run as one execution, and each
request gets its own rows of the batched outputs as views (no copies).  A batch that does not
fill within ``AUTO_BATCH_TIMEOUT`` milliseconds (default 1000, as in OpenVINO) runs what it
has.  A bare ``BATCH:GPU`` takes the batch size from the child's ``OPTIMAL_BATCH_SIZE``.

What can be batched (:func:`plan_batching`): every input must carry the batch in dim 0, either
dynamic in every input, or 1 in every input and output (the child is then compiled on a copy
reshaped to a dynamic dim 0; the ports users see stay as they were).  The outputs must carry it
too, which is checked with ONNX shape inference at batches 2 and 3 and, when inference cannot
tell, on every batched run.  Anything else is refused with :class:`CompileError` naming the
model, the port and the reason.

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

import dataclasses
import logging
import threading
import time
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx

from .. import properties as props
from ..binding import is_device_tensor
from ..device import CompiledModel, Device
from ..device_string import DeviceSpec, single_child, without_count
from ..errors import (
    CompileError,
    DeviceClosedError,
    InferenceError,
    InputShapeError,
    ModelError,
    OvliteError,
    RequestCancelledError,
)
from ..fork import reset_after_fork
from ..jobs import Job
from ..model import Model
from ..streams import in_worker_thread
from .multi import child_config

log = logging.getLogger("ovlite.meta")

#: OpenVINO's default for ``AUTO_BATCH_TIMEOUT``, in milliseconds.
DEFAULT_TIMEOUT_MS = 1000
TIMEOUT = props.auto_batch_timeout.name
ALLOW = props.hint.allow_auto_batching.name
OPTIMAL_BATCH_SIZE = props.optimal_batch_size.name
#: The batch sizes at which shape inference checks that every output follows the batch.
PROBE_BATCHES = (2, 3)
#: Initializers with more elements than this are left out of the shape-inference probes.
_PROBE_KEEP_ELEMENTS = 64


# ---- what can be batched -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BatchPlan:
    """How a model is batched: ``child_model`` has a dynamic dim 0 on every input.

    ``reshaped`` says whether dim 0 was 1 and made dynamic; ``notes`` lists what could not be
    proven at compile time (outputs whose dim 0 shape inference cannot tell; they are checked
    on every run instead).
    """

    child_model: Model
    reshaped: bool
    notes: tuple[str, ...] = ()


def plan_batching(model: Model, where: str = "BATCH") -> BatchPlan:
    """Check that ``model`` can be batched along dim 0; :class:`CompileError` says why not."""
    name = model.friendly_name

    def refuse(why: str) -> CompileError:
        return CompileError(
            f"{where} cannot batch model {name!r}: {why} (BATCH needs every input and output to "
            f"carry the batch in dim 0: dynamic, or 1 in all of them)"
        )

    if not model.inputs:
        raise refuse("it has no inputs")
    dynamic, ones = [], []
    for port in model.inputs:
        shape = port.partial_shape
        if shape.rank_is_dynamic:
            raise refuse(f"input {port.any_name!r} has an unknown rank")
        if len(shape) == 0:
            raise refuse(f"input {port.any_name!r} is a scalar, with no batch dimension")
        if shape[0] < 0:
            dynamic.append(port.any_name)
        elif shape[0] == 1:
            ones.append(port.any_name)
        else:
            raise refuse(
                f"input {port.any_name!r} has shape {shape}: dim 0 is already {shape[0]}, "
                f"so requests cannot be stacked along it"
            )
    if dynamic and ones:
        raise refuse(
            f"input(s) {', '.join(map(repr, dynamic))} have a dynamic dim 0 but "
            f"{', '.join(map(repr, ones))} have dim 0 = 1, so it is unclear which are batched"
        )
    for port in model.outputs:
        shape = port.partial_shape
        if shape.rank_is_dynamic:
            continue  # the probes below decide
        if len(shape) == 0:
            raise refuse(f"output {port.any_name!r} is a scalar, with no batch dimension")
        if shape[0] >= 0 and (dynamic or shape[0] != 1):
            raise refuse(
                f"output {port.any_name!r} has shape {shape}: its dim 0 is fixed at {shape[0]}, "
                f"so it does not carry the batch"
            )
    child = model
    if ones:
        child = Model(model.proto, name=name)
        try:
            child.reshape({p.any_name: _with_dim0(p.partial_shape, "batch") for p in model.inputs})
        except ModelError as exc:
            raise refuse(f"making dim 0 dynamic failed: {exc}") from exc
    notes = _probe_outputs(child, refuse)
    return BatchPlan(child, bool(ones), tuple(notes))


def _with_dim0(shape: Sequence[int], dim0: int | str) -> list[int | str]:
    names = getattr(shape, "names", (None,) * len(shape))
    rest = [d if d >= 0 else (n or "?") for d, n in zip(shape[1:], names[1:], strict=True)]
    return [dim0, *rest]


def _probe_outputs(child: Model, refuse: Any) -> list[str]:
    """Infer output shapes at batches 2 and 3; each output's dim 0 must follow."""
    skeleton = _skeleton(child)
    unknown: set[str] = set()
    for batch in PROBE_BATCHES:
        probe = Model(skeleton, name=child.friendly_name)
        shapes = {p.any_name: _with_dim0(p.partial_shape, batch) for p in child.inputs}
        try:
            probe.reshape(shapes)
        except ModelError as exc:
            raise refuse(f"it does not take a batch of {batch}: {exc}") from exc
        for port in probe.outputs:
            shape = port.partial_shape
            if shape.rank_is_dynamic or (len(shape) and shape[0] < 0):
                unknown.add(port.any_name)
            elif len(shape) == 0 or shape[0] != batch:
                raise refuse(
                    f"output {port.any_name!r} has shape {shape} for a batch of {batch}: its "
                    f"dim 0 does not follow the batch"
                )
    if unknown:
        return [
            f"shape inference cannot tell whether output(s) {', '.join(sorted(unknown))} follow "
            f"the batch; checked on every run"
        ]
    return []


def _skeleton(model: Model) -> onnx.ModelProto:
    """The model without its large initializers (turned into graph inputs of the same shape),
    so the shape-inference probes never copy the weights; small ones (shape constants) stay."""
    source = model.proto
    graph = onnx.GraphProto(name=source.graph.name)
    graph.node.extend(source.graph.node)
    graph.input.extend(source.graph.input)
    graph.output.extend(source.graph.output)
    listed = {value.name for value in source.graph.input}
    for init in source.graph.initializer:
        elements = int(np.prod(init.dims)) if len(init.dims) else 1
        if elements <= _PROBE_KEEP_ELEMENTS:
            graph.initializer.append(init)
        elif init.name not in listed:
            graph.input.append(
                onnx.helper.make_tensor_value_info(init.name, init.data_type, list(init.dims))
            )
    proto = onnx.ModelProto(ir_version=source.ir_version, graph=graph)
    proto.opset_import.extend(source.opset_import)
    proto.functions.extend(source.functions)
    return proto


# ---- the device ----------------------------------------------------------------------------


class BatchDevice(Device):
    """Batches requests on one child: ``BATCH:GPU(8)``; bare ``BATCH:GPU`` uses the child's
    ``OPTIMAL_BATCH_SIZE``.  Takes ``AUTO_BATCH_TIMEOUT`` (ms); the rest goes to the child."""

    name = "BATCH"
    is_meta = True
    config_keys = frozenset({TIMEOUT})

    def full_device_name(self, device_id: str | None = None) -> str:
        return "BATCH (automatic batching of requests)"

    def device_properties(self, device_id: str | None = None) -> dict[str, Any]:
        return {TIMEOUT: DEFAULT_TIMEOUT_MS}

    def compile_model(
        self, model: Model, spec: DeviceSpec, config: dict[str, Any], core: Any
    ) -> CompiledModel:
        child = self.child_spec(spec)
        device = core._device(child)
        size = child.count
        origin = f"BATCH:{child.full_name}({size})" if size else ""
        if size is None:
            size = reported_batch_size(core, child, model, config)
            if size is None and child.is_composite:
                raise CompileError(
                    f"{spec}: {child} reports no OPTIMAL_BATCH_SIZE and a composite device "
                    f"cannot take a count; batch a device inside it instead: "
                    f"{child.name}:...,BATCH:CPU(4)"
                )
            if size is None:
                raise CompileError(
                    f"{spec}: {child} reports no OPTIMAL_BATCH_SIZE, so the batch size is "
                    f"unknown; give it as BATCH:{child.full_name}(N)"
                )
            origin = f"OPTIMAL_BATCH_SIZE of {child}"
        name = str(spec)
        plan = plan_batching(model, name)
        timeout = int(config.get(TIMEOUT, DEFAULT_TIMEOUT_MS))
        child_cfg = child_config(config, child, device, None)
        child_cfg.pop(TIMEOUT, None)
        child_cfg.pop(ALLOW, None)
        if _core_consumes(ALLOW):  # no automatic batching of the child on top of this one
            child_cfg[ALLOW] = False
        target = without_count(child)
        compiled = core.compile_model(plan.child_model, target, child_cfg)
        return BatchCompiledModel(
            model, name, compiled, size, timeout, plan, f"batch size from {origin}"
        )

    @staticmethod
    def child_spec(spec: DeviceSpec) -> DeviceSpec:
        """The one child of ``BATCH:DEV``; a clear error for anything else."""
        return single_child(
            spec,
            "BATCH needs a device to batch on: BATCH:GPU(8) or BATCH:CPU(4)",
            "BATCH batches on one device; use MULTI:BATCH:... for several",
        )


def reported_batch_size(
    core: Any, spec: DeviceSpec, model: Model | None = None, config: dict[str, Any] | None = None
) -> int | None:
    """The ``OPTIMAL_BATCH_SIZE`` a device reports (for ``model`` when the device sizes
    batches per model, see :meth:`Device.model_batch_size`), or ``None`` when it reports none."""
    if model is not None and not spec.is_composite:
        size = core._device(spec).model_batch_size(model, spec.id, config or {})
        if size is not None:
            return int(size)
    try:
        value = core.get_property(
            str(spec) if spec.is_composite else spec.full_name, OPTIMAL_BATCH_SIZE
        )
    except OvliteError:
        return None
    try:
        size = int(value)
    except (TypeError, ValueError):
        return None
    return size if size >= 1 else None


def _core_consumes(key: str) -> bool:
    """Whether the core takes the automatic-batching keys itself (see ``Core.compile_model``)."""
    from .. import core as core_module

    return key in getattr(core_module, "BATCH_KEYS", ())


def auto_batch(
    model: Model,
    spec: DeviceSpec,
    device: Device,
    config: dict[str, Any],
    timeout_ms: int | None,
    core: Any,
) -> CompiledModel | None:
    """Automatic batching, for ``Core.compile_model`` (THROUGHPUT on a plain device).

    Returns ``None`` when the device reports no ``OPTIMAL_BATCH_SIZE`` above 1 (the core then
    compiles as usual).  Otherwise returns the model compiled on the device and wrapped in
    BATCH, or, for a model that cannot be batched, compiled on the device alone with the reason
    added to its ``OVLITE_CONFIGURATION_REASON``.  It compiles through ``device.compile_model``
    with the core's checked ``config``, so it never recurses into itself.
    """
    size = reported_batch_size(core, spec, model, config)
    if size is None or size < 2:
        return None
    name = f"BATCH:{spec.full_name}({size})"
    try:
        plan = plan_batching(model, name)
    except CompileError as exc:
        compiled = device.compile_model(model, spec, config, core)
        reason = props.configuration_reason.name
        note = f"automatic batching not applied: {exc}"
        previous = compiled._properties.get(reason)
        compiled._properties[reason] = f"{previous}; {note}" if previous else note
        log.info("%s: %s", spec.full_name, note)
        return compiled
    child = device.compile_model(plan.child_model, spec, config, core)
    timeout = DEFAULT_TIMEOUT_MS if timeout_ms is None else int(timeout_ms)
    return BatchCompiledModel(
        model,
        name,
        child,
        size,
        timeout,
        plan,
        f"automatic: THROUGHPUT on {spec.full_name}, which reports OPTIMAL_BATCH_SIZE {size}",
    )


# ---- the compiled model --------------------------------------------------------------------


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
            TIMEOUT: timeout_ms,
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
        self.submit = self._collector.submit  # type: ignore[method-assign]

    def submit(self, job: Job) -> None:  # replaced per instance by the collector's
        self._collector.submit(job)

    def run(self, inputs: Sequence[np.ndarray]) -> tuple[Sequence[np.ndarray], Any]:
        """A synchronous inference runs alone on the child at once; it never waits to batch."""
        if self._closed:
            raise DeviceClosedError(f"{self.device_name} is closed")
        return self.child.run(inputs)

    def run_checked(self, arrays: Sequence[np.ndarray]) -> tuple[Sequence[np.ndarray], Any]:
        """Sync calls under ``OVLITE_INFERENCE_TIMEOUT`` also skip the batch: the watched job
        goes straight to the child instead of through :meth:`submit`."""
        if not self._timeout_ms or in_worker_thread():
            return self.run(arrays)
        if self._closed:
            raise DeviceClosedError(f"{self.device_name} is closed")
        return self._submit_and_wait(arrays, watched=True, submit=self.child.submit)

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
