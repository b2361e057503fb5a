"""The plugin side of a device: :class:`Device` and the device's :class:`CompiledModel`.

A plugin provides ``Device`` objects (one per device family, e.g. ``CPU``).  A device reports
whether it can run here, declares the settings it takes, and compiles a :class:`Model` into a
:class:`CompiledModel`, which runs :class:`Job` objects handed to :meth:`CompiledModel.submit`
and reports its properties.  What users hold is :class:`ovlite.CompiledModel`
(:mod:`ovlite.compiled_model`), which wraps the device's compiled model and writes requests,
queues, ``__call__``, timeouts and asyncio support once for every device.  Plugin authors
import these classes from :mod:`ovlite.plugin`.
"""

from __future__ import annotations

import logging
import threading
import warnings
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from . import properties as props
from .availability import Availability, probe
from .errors import UnknownPropertyError, close_matches
from .jobs import Job
from .model import HasPorts, Model, Port, node_key
from .settings import Setting

if TYPE_CHECKING:
    from .device_string import DeviceSpec
    from .host import DeviceHost
    from .streams import StreamsExecutor
    from .watchdog import StopSignal

log = logging.getLogger("ovlite")


class Device:
    """A device family provided by a plugin.

    Subclasses set ``name`` (the family, upper case: ``"CPU"``), declare ``settings`` (the
    writable properties ``compile_model`` and ``set_property`` accept, each with its default
    and check; ``config_keys`` is derived from them) and implement :meth:`compile_model`.
    ``priority`` orders candidates for AUTO: higher is preferred; discrete accelerators use
    100 and more, CPU 10, slow reference devices below 0.
    """

    name: ClassVar[str] = ""
    priority: ClassVar[int] = 0
    is_meta: ClassVar[bool] = False
    #: True when compiling takes well under a second, so AUTO may serve from this device
    #: while a slower one compiles.
    quick_compile: ClassVar[bool] = False
    #: The writable properties of the device, each declared once (see :class:`Setting`).
    settings: ClassVar[Sequence[Setting]] = ()
    #: The names of ``settings``; derived, so a subclass sets ``settings`` instead.  (Plugins
    #: of API 1 set it by hand and list the defaults in ``device_properties``.)
    config_keys: ClassVar[frozenset[str]] = frozenset()
    #: What to tell a user whose machine cannot run the device (``pip install ...``), added to
    #: the reason wherever the core reports that :meth:`availability` says no.
    install_hint: ClassVar[str] = ""

    #: Filled in by the plugin registry: the distribution and version that provide the device.
    package: str = "(in-process)"
    version: str = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "settings" in cls.__dict__:
            cls.config_keys = frozenset(setting.name for setting in cls.settings)

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
        """Read-only facts about the device; the core adds the common ones and the defaults
        of ``settings``.  It must never raise: the core reads it while compiling (automatic
        batching) and for ``ovlite devices``; report what cannot be read as missing."""
        return {}

    def setting_defaults(self, device_id: str | None = None) -> dict[str, Any]:
        """The default of every declared setting, by name."""
        return {setting.name: setting.default_for(self, device_id) for setting in self.settings}

    def model_batch_size(
        self, model: Model, device_id: str | None, config: Mapping[str, Any]
    ) -> int | None:
        """``OPTIMAL_BATCH_SIZE`` for ``model``: how many requests automatic batching should
        join into one execution on this device (``device_id``, with ``config``).  The default,
        ``None``, leaves it to the device's ``OPTIMAL_BATCH_SIZE`` property, if it has one."""
        return None

    def check_config(self, config: Mapping[str, Any]) -> None:
        """Refuse keys this device does not take, naming them and what it does take, and
        values a setting's ``check`` refuses.  Values arrive converted by their keys."""
        unsupported = [key for key in config if key not in self.config_keys]
        if unsupported:
            raise UnknownPropertyError(
                f"device {self.name} does not support the propert"
                f"{'y' if len(unsupported) == 1 else 'ies'} {', '.join(unsupported)}"
                f"{close_matches(unsupported[0], self.config_keys)}; "
                f"it supports: {', '.join(sorted(self.config_keys)) or 'none'}"
            )
        for setting in self.settings:
            if setting.check is not None and setting.name in config:
                setting.check(config[setting.name])

    def compile_model(
        self, model: Model, spec: DeviceSpec, config: dict[str, Any], host: DeviceHost
    ) -> CompiledModel:
        """Compile ``model`` for the device named by ``spec`` with a checked ``config``.

        ``host`` is the core, reached through :class:`ovlite.plugin.DeviceHost`: meta devices
        compile their children with ``host.compile_child(model, child, config)``.
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
        self, model: Model, spec: DeviceSpec, config: dict[str, Any], host: DeviceHost
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
    """A model compiled for a device, as the device sees it (OpenVINO's ``ICompiledModel``).

    A device runs its jobs on a :class:`StreamsExecutor` handed to the constructor, or
    overrides :meth:`submit` (and, to run sync calls in the caller's thread, :meth:`run`).
    ``properties`` holds what the device chose (``NUM_STREAMS``,
    ``OPTIMAL_NUMBER_OF_INFER_REQUESTS``, ...); ``NETWORK_NAME``, ``EXECUTION_DEVICES``
    (``[device_name]``) and ``OPTIMAL_NUMBER_OF_INFER_REQUESTS`` (1) are filled in when left
    out.  Users never hold this object: :class:`ovlite.CompiledModel` wraps it.
    """

    def __init__(
        self,
        model: Model,
        device_name: str,
        properties: Mapping[str, Any],
        executor: StreamsExecutor | None = None,
    ) -> None:
        self.model = model
        self.device_name = device_name
        # copies: reshaping the model afterwards must not change the compiled model's ports
        self.inputs: list[Port] = [port.copy() for port in model.inputs]
        self.outputs: list[Port] = [port.copy() for port in model.outputs]
        self.properties: dict[str, Any] = {
            props.model_name.name: model.friendly_name,
            props.execution_devices.name: [device_name],
            props.optimal_number_of_infer_requests.name: 1,
        }
        self.properties.update(properties)
        self.executor: StreamsExecutor | None = None
        self._closed = False
        # plugin API 1 set the executor (serve_with, _executor) before calling this
        executor = executor or self.__dict__.get("_v1_executor")
        if executor is not None:
            self._use(executor)

    def _use(self, executor: StreamsExecutor) -> None:
        self.executor = self._v1_executor = executor
        # the executor cannot tell by itself when its run function is a closure rather than
        # a bound method of this model, so it closes when this model is garbage-collected
        weakref.finalize(self, executor.close, False)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def submit(self, job: Job) -> None:
        """Start ``job`` without blocking; finish it later with ``set_result``/``set_error``.

        Inputs arrive checked: in input order, converted to each port's element type, with
        shapes the ports accept.  The default hands it to the executor.
        """
        if self.executor is None:
            raise NotImplementedError(
                f"{type(self).__name__} has no executor: pass one to CompiledModel.__init__ "
                f"or override submit"
            )
        self.executor.submit(job)

    def submit_alone(self, job: Job) -> None:
        """Start a job that must not wait for others (a sync call under a timeout).  The
        default is :meth:`submit`; a batching device sends it to its child at once."""
        self.submit(job)

    def run(
        self, inputs: Sequence[np.ndarray]
    ) -> tuple[Sequence[np.ndarray], Mapping[str, Any] | None]:
        """Run one inference to completion; return ``(outputs, info)`` or raise its error.

        Used by ``infer`` and ``compiled(...)``.  The default runs in the caller's thread on
        the executor (``StreamsExecutor.call``), else submits a job and waits.
        """
        if self.executor is not None:
            return self.executor.call(inputs)
        return run_job(self.submit, inputs)

    @property
    def stoppable(self) -> bool:
        """True when :meth:`run_stoppable` can end a run early from another thread; a sync
        call under ``OVLITE_INFERENCE_TIMEOUT`` then runs in the caller's thread instead of
        being handed to a worker.  The default: the executor was given ``run_stoppable``
        (a device that overrides :meth:`run` and gives one keeps the two alike)."""
        return self.executor is not None and self.executor.run_stoppable is not None

    def run_stoppable(
        self, inputs: Sequence[np.ndarray], stop: StopSignal
    ) -> tuple[Sequence[np.ndarray], Mapping[str, Any] | None]:
        """As :meth:`run`, but ``stop`` fires from another thread when the timeout passes:
        the device registers with ``stop.on_stop(fn)`` what makes the run end soon by
        raising.  Called only where :attr:`stoppable` is true."""
        return self.executor.call_stoppable(inputs, stop)  # type: ignore[union-attr]

    def close(self) -> None:
        """Release the device's resources; jobs already submitted still finish."""
        self._closed = True
        if self.executor is not None:
            self.executor.close()

    def children(self) -> dict[str, CompiledModel]:
        """The compiled models a meta device runs on, by device name; none for a device."""
        return {}

    def wait_until_ready(self, timeout: float | None = None) -> bool:
        """Wait until work the device does in the background after compiling is done (AUTO
        choosing its device); ``True`` when none is left.  The default has none."""
        return True

    def get_property(self, key: Any) -> Any:
        """A property by typed key or OpenVINO string (:class:`UnknownPropertyError` if none)."""
        name = props.lookup_key(key).name
        if name == props.supported_properties.name:
            # as openvino: name -> "RO"; a compiled model's properties are all read-only
            return dict.fromkeys(self.supported_properties(), "RO")
        if name not in self.properties:
            raise UnknownPropertyError(
                f"the model compiled for {self.device_name} has no property {name}; "
                f"it has: {', '.join(self.supported_properties())}"
            )
        return self.properties[name]

    def supported_properties(self) -> list[str]:
        return sorted([*self.properties, props.supported_properties.name])

    @property
    def optimal_number_of_requests(self) -> int:
        return int(self.properties[props.optimal_number_of_infer_requests.name])

    # ---- plugin API 1, kept for one release --------------------------------------------------

    def serve_with(self, executor: StreamsExecutor) -> None:
        """Plugin API 1: pass the executor to ``CompiledModel.__init__`` instead."""
        warnings.warn(
            "CompiledModel.serve_with(executor) is plugin API 1; pass the executor to "
            "CompiledModel.__init__(model, device_name, properties, executor) instead",
            DeprecationWarning,
            stacklevel=2,
        )
        self._use(executor)

    @property
    def _executor(self) -> StreamsExecutor | None:
        return self.executor

    @_executor.setter
    def _executor(self, executor: StreamsExecutor) -> None:
        self._use(executor)

    @property
    def _properties(self) -> dict[str, Any]:
        return self.properties

    @property
    def _model(self) -> Model:
        return self.model

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.model.friendly_name!r} on {self.device_name}>"


def run_job(
    submit: Callable[[Job], None],
    inputs: Sequence[np.ndarray],
    job_ready: Callable[[Job], Any] | None = None,
) -> tuple[Sequence[np.ndarray], Any]:
    """One job with ``inputs`` through ``submit``, waited for: ``(outputs, info)``, or its
    error raised.  ``job_ready`` sees the job before it is submitted (to watch it)."""
    finished = threading.Event()
    job = Job(inputs, lambda _: finished.set())
    if job_ready is not None:
        job_ready(job)
    submit(job)
    finished.wait()
    if job.error is not None:
        raise job.error
    return job.outputs, job.info  # type: ignore[return-value]


#: The executor's method behind each default method of a compiled model.
_EXECUTOR_METHODS = {"submit": "submit", "run": "call", "run_stoppable": "call_stoppable"}


def fast_path(compiled: CompiledModel, method: str) -> Callable[..., Any]:
    """``compiled.submit``, ``run`` or ``run_stoppable``, or the executor's own method when the
    device leaves the default in place: one Python call less per inference."""
    executor = compiled.executor
    if executor is not None and getattr(type(compiled), method) is getattr(CompiledModel, method):
        return getattr(executor, _EXECUTOR_METHODS[method])
    return getattr(compiled, method)


__all__ = ["Availability", "CompiledModel", "Device", "Setting", "fast_path", "probe", "run_job"]
