"""The classes a device plugin subclasses: :class:`Device` and :class:`CompiledModel`.

A plugin provides ``Device`` objects (one per device family, e.g. ``CPU``).  A device reports
whether it can run here, which properties it takes, and compiles a :class:`Model` into a
:class:`CompiledModel`.  A compiled model implements one method, :meth:`CompiledModel.submit`,
and reports its properties; requests, queues, ``__call__`` and asyncio support are written once
here in core on top of ``submit``.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from . import properties as props
from .binding import InputChecker, Results
from .errors import (
    ReadOnlyPropertyError,
    RequestTimeoutError,
    UnknownPropertyError,
    close_matches,
)
from .jobs import Job
from .model import HasPorts, Model, Port, node_key
from .streams import in_worker_thread

if TYPE_CHECKING:
    import asyncio

    from .core import Core
    from .device_string import DeviceSpec
    from .requests import InferRequest
    from .streams import StreamsExecutor

log = logging.getLogger("ovlite")


@dataclass(frozen=True)
class Availability:
    """Whether a device can run here; ``reason`` says why not (or notes about how it runs)."""

    available: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.available


def probe(device: Device) -> Availability:
    """``device.availability()``, with a probe that raises counted as unavailable (and why)."""
    try:
        return device.availability()
    except Exception as exc:  # a plugin bug must not break the device list for everyone
        return Availability(False, f"its availability() raised {type(exc).__name__}: {exc}")


class Device:
    """A device family provided by a plugin.

    Subclasses set ``name`` (the family, upper case: ``"CPU"``), ``config_keys`` (the writable
    properties ``compile_model`` and ``set_property`` accept) and implement
    :meth:`compile_model`.  ``priority`` orders candidates for AUTO: higher is preferred;
    discrete accelerators use 100 and more, CPU 10, slow reference devices below 0.
    """

    name: ClassVar[str] = ""
    priority: ClassVar[int] = 0
    is_meta: ClassVar[bool] = False
    #: True when compiling takes well under a second, so AUTO may serve from this device
    #: while a slower one compiles.
    quick_compile: ClassVar[bool] = False
    config_keys: ClassVar[frozenset[str]] = frozenset()

    #: Filled in by the plugin registry: the distribution and version that provide the device.
    package: str = "(in-process)"
    version: str = ""

    def availability(self) -> Availability:
        """Whether the device can run here; override to check drivers, libraries, hardware."""
        return Availability(True)

    def device_ids(self) -> list[str]:
        """Ids of the physical devices of this family (``["0", "1"]``); one device: ``[]``."""
        return []

    def full_device_name(self, device_id: str | None = None) -> str:
        """Human-readable name of the device (``FULL_DEVICE_NAME``)."""
        return self.name if device_id is None else f"{self.name}.{device_id}"

    def device_properties(self, device_id: str | None = None) -> dict[str, Any]:
        """Read-only facts about the device; the core adds the common ones."""
        return {}

    def model_batch_size(
        self, model: Model, device_id: str | None, config: Mapping[str, Any]
    ) -> int | None:
        """``OPTIMAL_BATCH_SIZE`` for ``model``: how many requests automatic batching should
        join into one execution on this device (``device_id``, with ``config``).  The default,
        ``None``, leaves it to the device's ``OPTIMAL_BATCH_SIZE`` property, if it has one."""
        return None

    def check_config(self, config: Mapping[str, Any]) -> None:
        """Refuse keys this device does not take, naming them and what it does take."""
        unsupported = [key for key in config if key not in self.config_keys]
        if unsupported:
            raise UnknownPropertyError(
                f"device {self.name} does not support the propert"
                f"{'y' if len(unsupported) == 1 else 'ies'} {', '.join(unsupported)}"
                f"{close_matches(unsupported[0], self.config_keys)}; "
                f"it supports: {', '.join(sorted(self.config_keys)) or 'none'}"
            )

    def compile_model(
        self, model: Model, spec: DeviceSpec, config: dict[str, Any], core: Core
    ) -> CompiledModel:
        """Compile ``model`` for the device named by ``spec`` with a checked ``config``.

        Meta devices compile their children with ``core.compile_model(model, child, config)``.
        """
        raise NotImplementedError

    def onnxruntime_provider(
        self, device_id: str | None, config: Mapping[str, Any]
    ) -> tuple[str, dict[str, str]] | None:
        """The ONNX Runtime execution provider and provider options that run this device.

        ORT-backed devices return ``(provider, options)``, e.g.
        ``("CPUExecutionProvider", {})`` or ``("OpenVINOExecutionProvider",
        {"device_type": "GPU"})``, for the device ``device_id`` (``None``: the default one)
        compiled with ``config`` (this device's checked share of the settings).  A session
        built over several such providers in order is how ``HETERO`` splits a model, and
        the default :meth:`query_model` asks ONNX Runtime's partitioner with it.  The
        default, ``None``, means the device does not run on ONNX Runtime.
        """
        return None

    def query_model(
        self, model: Model, spec: DeviceSpec, config: dict[str, Any], core: Core
    ) -> dict[str, str]:
        """Which device runs each node, as OpenVINO's ``query_model``: the nodes this device
        supports, each mapped to ``spec.full_name``; nodes it does not take are left out.

        ORT-backed devices (see :meth:`onnxruntime_provider`) answer from ONNX Runtime's own
        partitioning of the model; other devices claim every node.  Nodes are named as in
        the model, unnamed ones ``<OpType>_<index>``.
        """
        provider = self.onnxruntime_provider(spec.id, config)
        if provider is None:
            return {
                node_key(node, i): spec.full_name for i, node in enumerate(model.proto.graph.node)
            }
        from .onnxruntime import query_placement

        what = f"{spec.full_name} could not query model {model.friendly_name!r}"
        return query_placement(model.proto, [provider], [spec.full_name], what)


class CompiledModel(HasPorts):
    """A model compiled for a device; subclasses implement :meth:`submit`.

    ``properties`` holds what the device chose (``NUM_STREAMS``,
    ``OPTIMAL_NUMBER_OF_INFER_REQUESTS``, ...); the core adds ``NETWORK_NAME``,
    ``EXECUTION_DEVICES`` and ``SUPPORTED_PROPERTIES`` when a plugin leaves them out.
    """

    def __init__(self, model: Model, device_name: str, properties: Mapping[str, Any]) -> None:
        self._model = model
        self.device_name = device_name
        # copies: reshaping the model afterwards must not change the compiled model's ports
        self.inputs: list[Port] = [port.copy() for port in model.inputs]
        self.outputs: list[Port] = [port.copy() for port in model.outputs]
        self._checker = InputChecker(self.inputs)
        self._properties: dict[str, Any] = {
            props.model_name.name: model.friendly_name,
            props.execution_devices.name: [device_name],
            props.optimal_number_of_infer_requests.name: 1,
        }
        self._properties.update(properties)
        self._closed = False
        self._timeout_ms = 0

    # ---- the plugin side -------------------------------------------------------------------

    def serve_with(self, executor: StreamsExecutor) -> None:
        """Run this model's jobs on ``executor`` (kept as ``self._executor``).

        ``submit`` and ``run`` become the executor's own methods, one Python call less per
        inference, and the executor closes when this model is garbage-collected: it cannot
        tell by itself when its run function is a closure rather than a bound method.  The
        model's :meth:`close` should still close it.
        """
        self._executor = executor
        weakref.finalize(self, executor.close, False)
        self.submit = executor.submit  # type: ignore[method-assign]
        self.run = executor.call  # type: ignore[method-assign]

    def submit(self, job: Job) -> None:
        """Start ``job`` without blocking; finish it later with ``set_result``/``set_error``.

        Inputs arrive checked: in input order, converted to each port's element type, with
        shapes the ports accept.
        """
        raise NotImplementedError

    def run(
        self, inputs: Sequence[np.ndarray]
    ) -> tuple[Sequence[np.ndarray], Mapping[str, Any] | None]:
        """Run one inference to completion; return ``(outputs, info)`` or raise its error.

        Used by ``infer`` and ``compiled(...)``.  The default submits a job and waits; a
        device that can run in the caller's thread overrides it (``StreamsExecutor.call``
        does) and saves the hand-over to a worker thread.
        """
        return self._submit_and_wait(inputs, watched=False)

    def _submit_and_wait(
        self,
        inputs: Sequence[np.ndarray],
        watched: bool,
        submit: Callable[[Job], None] | None = None,
    ) -> tuple[Sequence[np.ndarray], Any]:
        """One job through ``submit`` (ours unless given), waited for; its error raised."""
        finished = threading.Event()
        job = Job(inputs, lambda _: finished.set())
        if watched:
            self.watch(job)
        (submit or self.submit)(job)
        finished.wait()
        if job.error is not None:
            raise job.error
        return job.outputs, job.info  # type: ignore[return-value]

    def close(self) -> None:
        """Release the device's resources; jobs already submitted still finish."""
        self._closed = True

    def set_timeout(self, timeout_ms: int) -> None:
        """Apply ``OVLITE_INFERENCE_TIMEOUT`` (the core calls this after compiling)."""
        self._timeout_ms = props.inference_timeout.convert(timeout_ms)
        self._properties[props.inference_timeout.name] = self._timeout_ms

    def watch(self, job: Job) -> None:
        """Expire ``job`` with :class:`RequestTimeoutError` if it outlives the timeout."""
        if self._timeout_ms:
            from .watchdog import watch

            timeout, device = self._timeout_ms, self.device_name
            watch(
                job,
                timeout,
                lambda: RequestTimeoutError(
                    f"inference on {device} did not finish within {timeout} ms "
                    f"(OVLITE_INFERENCE_TIMEOUT); its result will be discarded"
                ),
            )

    def run_checked(self, arrays: Sequence[np.ndarray]) -> tuple[Sequence[np.ndarray], Any]:
        """``run`` for the user-facing sync calls: through a watched job when a timeout is set.

        Not from a worker thread (a callback): the watched job would wait for a worker, maybe
        this very one, so the call runs unwatched in this thread instead.
        """
        if not self._timeout_ms or in_worker_thread():
            return self.run(arrays)
        return self._submit_and_wait(arrays, watched=True)

    def children(self) -> dict[str, CompiledModel]:
        """The compiled models a meta device runs on, by device name; none for a device."""
        return {}

    # ---- the user side ---------------------------------------------------------------------

    def get_runtime_model(self) -> Model:
        return self._model

    def get_property(self, key: Any) -> Any:
        """Read a property by typed key or OpenVINO string."""
        name = props.lookup_key(key).name
        if name == props.supported_properties.name:
            # as openvino: name -> "RO"; a compiled model's properties are all read-only
            return dict.fromkeys(self.supported_properties(), "RO")
        if name not in self._properties:
            raise UnknownPropertyError(
                f"the model compiled for {self.device_name} has no property {name}; "
                f"it has: {', '.join(self.supported_properties())}"
            )
        return self._properties[name]

    def supported_properties(self) -> list[str]:
        return sorted([*self._properties, props.supported_properties.name])

    def set_property(self, config: Mapping[Any, Any]) -> None:
        """Compiled models are configured at compile time; every property is read-only here."""
        for key in config:
            name = props.lookup_key(key).name
            raise ReadOnlyPropertyError(
                f"property {name} cannot be changed on a compiled model; pass it to compile_model"
            )

    @property
    def optimal_number_of_requests(self) -> int:
        return int(self._properties[props.optimal_number_of_infer_requests.name])

    def create_infer_request(self) -> InferRequest:
        from .requests import InferRequest

        return InferRequest(self)

    def __call__(
        self, inputs: Any = None, share_inputs: bool = True, share_outputs: bool = False
    ) -> Results:
        """Run one inference synchronously; thread-safe (each call is its own job).

        Each call's results are its own arrays, which no later inference writes into, so
        ``share_outputs`` (openvino's choice between that and reusing one request's output
        memory) is accepted and changes nothing.
        """
        outputs, _ = self.run_checked(self._checker.check_all(inputs if inputs is not None else {}))
        return Results(self.outputs, outputs)

    def release_memory(self) -> None:
        """openvino's hint to free the memory kept between inferences.  The compiled model
        stays usable; ONNX Runtime keeps its memory arena for the session's life, so the
        call frees nothing here."""

    def infer_new_request(self, inputs: Any = None) -> Results:
        return self(inputs)

    async def infer_async(self, inputs: Any = None) -> Results:
        """``await compiled.infer_async(inputs)``: run without blocking the event loop."""
        arrays = self._checker.check_all(inputs if inputs is not None else {})
        import asyncio  # here, not at import: most programs never use it

        loop = asyncio.get_running_loop()
        future: asyncio.Future[Job] = loop.create_future()
        job = Job(arrays, lambda done: post_to_loop(loop, _resolve, future, done))
        self.watch(job)
        self.submit(job)
        job = await future
        if job.error is not None:
            raise job.error
        return Results(self.outputs, job.outputs)

    def __enter__(self) -> CompiledModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<CompiledModel {self._model.friendly_name!r} on {self.device_name}>"


def post_to_loop(loop: asyncio.AbstractEventLoop, callback: Any, *args: Any) -> None:
    """Hand a completion to an event loop; a loop closed meanwhile has nobody left to tell."""
    try:
        loop.call_soon_threadsafe(callback, *args)
    except RuntimeError:
        if not loop.is_closed():
            raise


def _resolve(future: asyncio.Future, job: Job) -> None:
    if not future.cancelled():
        future.set_result(job)


__all__ = ["Availability", "CompiledModel", "Device"]
