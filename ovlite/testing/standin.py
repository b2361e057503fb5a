"""``STANDIN``: a device for core tests that need no hardware and no ONNX Runtime.

It is a stand-in, named as such: it really runs the model, with the ``onnx`` package's
reference evaluator (pure Python, exact, slow), on a streams executor like the real plugins,
and lets a test add a delay or fail chosen inferences.  Register it in-process::

    core.register_plugin(StandInPlugin(StandInDevice()), name="standin")
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import properties as props
from ..availability import Availability
from ..device import CompiledModel, Device
from ..errors import CompileError, InferenceError
from ..hookspecs import PLUGIN_API_VERSION, hookimpl
from ..model import Model
from ..properties.hint import ExecutionMode, PerformanceMode
from ..settings import Setting
from ..streams import StreamsExecutor

FailWhen = Callable[[Sequence[np.ndarray]], bool]


class StandInDevice(Device):
    """A device that runs models with ``onnx.reference`` for tests.

    - ``delay_ms`` is added to every inference (sleeping, so it costs no CPU), and
      ``delay_when(inputs)`` returns extra milliseconds for chosen ones (a device that hangs);
    - ``fail_when(inputs)`` picks inferences that fail with :class:`InferenceError`;
    - ``ids`` gives several instances (``STANDIN.0``, ...);
    - ``available=False`` with a ``reason`` makes it unavailable;
    - ``throughput_streams`` is how many streams THROUGHPUT uses (default 2);
    - ``max_streams`` makes it report ``RANGE_FOR_STREAMS`` ``(1, max_streams)``, so the core
      refuses more ``NUM_STREAMS`` (default: no range reported);
    - ``compile_delay_ms``, ``compile_error``, ``priority`` and ``quick_compile`` shape how
      AUTO sees it;
    - ``shared_resource``, a lock held while an inference runs, makes devices that share it
      compete the way two devices on the same cores do;
    - ``reduced_precision`` (``"bf16"``, say) makes it compute, by default, in a precision
      below f32, as an accelerator does: it then takes ``INFERENCE_PRECISION_HINT`` and
      ``EXECUTION_MODE_HINT``, reports the precision it runs in, and below f32 adds
      ``reduced_precision_error`` to every floating-point output.
    """

    priority = -100
    settings = (
        Setting(props.hint.performance_mode, PerformanceMode.LATENCY),
        Setting(props.hint.num_requests, 0),
        Setting(props.streams.num, 1),
        Setting(props.enable_profiling, False),
        Setting(props.inference_num_threads, 1),
    )

    engine = "reference"

    def __init__(
        self,
        name: str = "STANDIN",
        *,
        ids: Sequence[str] = (),
        delay_ms: float = 0.0,
        fail_when: FailWhen | None = None,
        delay_when: Callable[[Sequence[np.ndarray]], float] | None = None,
        available: bool = True,
        reason: str = "",
        throughput_streams: int = 2,
        compile_delay_ms: float = 0.0,
        priority: int | None = None,
        quick_compile: bool = False,
        compile_error: str | None = None,
        shared_resource: threading.Lock | None = None,
        reduced_precision: str | None = None,
        reduced_precision_error: float = 0.0,
        max_streams: int | None = None,
    ) -> None:
        self.name = name  # type: ignore[misc]
        self.ids = list(ids)
        self.delay_ms = delay_ms
        self.fail_when = fail_when
        self.delay_when = delay_when
        self._availability = Availability(available, reason)
        self.throughput_streams = throughput_streams
        self.compile_delay_ms = compile_delay_ms
        if priority is not None:
            self.priority = priority  # type: ignore[misc]
        self.quick_compile = quick_compile  # type: ignore[misc]
        self.compile_error = compile_error
        self.shared_resource = shared_resource
        self.reduced_precision = reduced_precision
        self.reduced_precision_error = reduced_precision_error
        if reduced_precision is not None:
            self.settings = (  # type: ignore[misc]
                *self.settings,
                Setting(props.hint.inference_precision, reduced_precision),
                Setting(props.hint.execution_mode, ExecutionMode.PERFORMANCE),
            )
            self.config_keys = frozenset(s.name for s in self.settings)  # type: ignore[misc]
        #: reported as ``RANGE_FOR_STREAMS`` ``(1, max_streams)``; None: no range reported
        self.max_streams = max_streams
        self.compiled_count = 0

    def availability(self) -> Availability:
        return self._availability

    def device_ids(self) -> list[str]:
        return list(self.ids)

    def full_device_name(self, device_id: str | None = None) -> str:
        return f"ovlite stand-in device (onnx reference evaluator){'' if device_id is None else ' ' + device_id}"

    def device_properties(self, device_id: str | None = None) -> dict[str, Any]:
        facts: dict[str, Any] = {props.device.capabilities.name: [props.device.Capability.FP32]}
        if self.max_streams is not None:
            facts[props.range_for_streams.name] = (1, self.max_streams)
        return facts

    def compile_model(
        self, model: Model, spec: Any, config: dict[str, Any], host: Any
    ) -> CompiledModel:
        if self.compile_delay_ms:
            time.sleep(self.compile_delay_ms / 1000.0)
        if self.compile_error:
            raise CompileError(
                f"{spec.full_name} cannot compile {model.friendly_name!r}: {self.compile_error}"
            )
        self.compiled_count += 1
        return StandInCompiledModel(self, model, spec.full_name, config)

    def make_context(self, model: Model) -> Any:
        """One execution context (stream): a reference evaluator of the model."""
        from onnx.reference import ReferenceEvaluator

        return ReferenceEvaluator(model.proto)

    @staticmethod
    def run_context(context: Any, output_names: list[str], feeds: dict[str, np.ndarray]) -> list:
        return context.run(output_names, feeds)


class StandInCompiledModel(CompiledModel):
    def __init__(
        self, device: StandInDevice, model: Model, device_name: str, config: dict[str, Any]
    ) -> None:
        hint = config.get(props.hint.performance_mode.name, PerformanceMode.LATENCY)
        streams = int(config.get(props.streams.num.name, 0))
        if streams < 1:
            streams = 1 if hint == PerformanceMode.LATENCY else device.throughput_streams
        cap = config.get(props.hint.num_requests.name, 0)
        if cap:
            streams = min(streams, cap)
        precision = str(
            config.get(props.hint.inference_precision.name, device.reduced_precision or "f32")
        )
        self._output_error = device.reduced_precision_error if precision != "f32" else 0.0
        contexts = [device.make_context(model) for _ in range(streams)]
        super().__init__(
            model,
            device_name,
            {
                props.hint.performance_mode.name: hint,
                props.streams.num.name: streams,
                props.optimal_number_of_infer_requests.name: streams,
                props.inference_num_threads.name: 1,
                props.enable_profiling.name: bool(config.get(props.enable_profiling.name, False)),
                props.hint.inference_precision.name: precision,
                props.configuration_reason.name: f"{hint}: {streams} stream(s) of the {device.engine} engine",
            },
            StreamsExecutor(contexts, self._run, f"{device_name}"),
        )
        self.device = device
        self.calls = 0
        self._count_lock = threading.Lock()
        self._output_names = [p.any_name for p in model.outputs]
        self._input_names = [p.any_name for p in model.inputs]
        self._profiling = config.get(props.enable_profiling.name, False)

    def _run(self, evaluator: Any, inputs: Sequence[np.ndarray]) -> tuple[list[np.ndarray], dict]:
        with self._count_lock:
            self.calls += 1
        started = time.perf_counter()
        if self.device.shared_resource is not None:
            with self.device.shared_resource:
                return self._compute(evaluator, inputs, started)
        return self._compute(evaluator, inputs, started)

    def _compute(
        self, evaluator: Any, inputs: Sequence[np.ndarray], started: float
    ) -> tuple[list[np.ndarray], dict]:
        from ..requests import ProfilingInfo

        delay_ms = self.device.delay_ms
        if self.device.delay_when is not None:
            delay_ms += self.device.delay_when(inputs)
        if delay_ms:
            time.sleep(delay_ms / 1000.0)
        if self.device.fail_when is not None and self.device.fail_when(inputs):
            raise InferenceError(f"{self.device_name}: injected failure")
        feeds = dict(zip(self._input_names, inputs, strict=True))
        outputs = self.device.run_context(evaluator, self._output_names, feeds)
        info: dict[str, Any] = {"device": self.device_name}
        if self._profiling:
            elapsed = (time.perf_counter() - started) * 1e6
            info["profiling"] = [
                ProfilingInfo("graph", "whole model", elapsed, elapsed, self.device.engine)
            ]
        results = [np.asarray(o) for o in outputs]
        if self._output_error:
            results = [
                r + r.dtype.type(self._output_error) if r.dtype.kind == "f" else r for r in results
            ]
        return results, info


class StandInPlugin:
    """A plugin object providing the given devices, for ``Core.register_plugin``."""

    OVLITE_PLUGIN_API = PLUGIN_API_VERSION

    def __init__(self, *devices: Device) -> None:
        self.devices = devices or (StandInDevice(),)

    @hookimpl
    def ovlite_devices(self) -> Sequence[Device]:
        return self.devices
