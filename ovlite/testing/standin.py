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
from ..device import Availability, CompiledModel, Device
from ..errors import InferenceError
from ..hookspecs import PLUGIN_API_VERSION, hookimpl
from ..jobs import Job
from ..model import Model
from ..properties.hint import PerformanceMode
from ..streams import StreamsExecutor

FailWhen = Callable[[Sequence[np.ndarray]], bool]


class StandInDevice(Device):
    """A device that runs models with ``onnx.reference`` for tests.

    ``delay_ms`` is added to every inference, ``fail_when(inputs)`` picks inferences that fail
    with :class:`InferenceError`, ``ids`` gives several instances (``STANDIN.0``, ...), and
    ``available=False`` with a ``reason`` makes it unavailable.  THROUGHPUT uses 2 streams.
    """

    priority = -100
    config_keys = frozenset(
        {
            props.hint.performance_mode.name,
            props.hint.num_requests.name,
            props.streams.num.name,
            props.enable_profiling.name,
            props.inference_num_threads.name,
        }
    )

    def __init__(
        self,
        name: str = "STANDIN",
        *,
        ids: Sequence[str] = (),
        delay_ms: float = 0.0,
        fail_when: FailWhen | None = None,
        available: bool = True,
        reason: str = "",
    ) -> None:
        self.name = name  # type: ignore[misc]
        self.ids = list(ids)
        self.delay_ms = delay_ms
        self.fail_when = fail_when
        self._availability = Availability(available, reason)
        self.compiled_count = 0

    def availability(self) -> Availability:
        return self._availability

    def device_ids(self) -> list[str]:
        return list(self.ids)

    def full_device_name(self, device_id: str | None = None) -> str:
        return f"ovlite stand-in device (onnx reference evaluator){'' if device_id is None else ' ' + device_id}"

    def device_properties(self, device_id: str | None = None) -> dict[str, Any]:
        return {
            props.hint.performance_mode.name: PerformanceMode.LATENCY,
            props.streams.num.name: 1,
            props.device.capabilities.name: [props.device.Capability.FP32],
        }

    def compile_model(
        self, model: Model, spec: Any, config: dict[str, Any], core: Any
    ) -> CompiledModel:
        self.compiled_count += 1
        return StandInCompiledModel(self, model, spec.full_name, config)


class StandInCompiledModel(CompiledModel):
    def __init__(
        self, device: StandInDevice, model: Model, device_name: str, config: dict[str, Any]
    ) -> None:
        from onnx.reference import ReferenceEvaluator

        hint = config.get(props.hint.performance_mode.name, PerformanceMode.LATENCY)
        streams = int(config.get(props.streams.num.name, 0))
        if streams < 1:
            streams = 1 if hint == PerformanceMode.LATENCY else 2
        cap = config.get(props.hint.num_requests.name, 0)
        if cap:
            streams = min(streams, cap)
        super().__init__(
            model,
            device_name,
            {
                props.hint.performance_mode.name: hint,
                props.streams.num.name: streams,
                props.optimal_number_of_infer_requests.name: streams,
                props.inference_num_threads.name: 1,
                props.enable_profiling.name: bool(config.get(props.enable_profiling.name, False)),
                props.configuration_reason.name: f"{hint}: {streams} stream(s) of the reference evaluator",
            },
        )
        self.device = device
        self.calls = 0
        self._count_lock = threading.Lock()
        self._output_names = [p.any_name for p in model.outputs]
        self._input_names = [p.any_name for p in model.inputs]
        self._profiling = config.get(props.enable_profiling.name, False)
        contexts = [ReferenceEvaluator(model.proto) for _ in range(streams)]
        self._executor = StreamsExecutor(contexts, self._run, f"{device_name}")

    def _run(self, evaluator: Any, inputs: Sequence[np.ndarray]) -> tuple[list[np.ndarray], dict]:
        from ..requests import ProfilingInfo

        with self._count_lock:
            self.calls += 1
        started = time.perf_counter()
        if self.device.delay_ms:
            time.sleep(self.device.delay_ms / 1000.0)
        if self.device.fail_when is not None and self.device.fail_when(inputs):
            raise InferenceError(f"{self.device_name}: injected failure")
        outputs = evaluator.run(
            self._output_names, dict(zip(self._input_names, inputs, strict=True))
        )
        info: dict[str, Any] = {"device": self.device_name}
        if self._profiling:
            elapsed = (time.perf_counter() - started) * 1e6
            info["profiling"] = [
                ProfilingInfo("graph", "ReferenceEvaluator", elapsed, elapsed, "onnx.reference")
            ]
        return [np.asarray(o) for o in outputs], info

    def submit(self, job: Job) -> None:
        self._executor.submit(job)

    def run_sync(self, job: Job) -> None:
        self._executor.run_sync(job)

    def close(self) -> None:
        super().close()
        self._executor.close()


class StandInPlugin:
    """A plugin object providing the given devices, for ``Core.register_plugin``."""

    OVLITE_PLUGIN_API = PLUGIN_API_VERSION

    def __init__(self, *devices: Device) -> None:
        self.devices = devices or (StandInDevice(),)

    @hookimpl
    def ovlite_devices(self) -> Sequence[Device]:
        return self.devices
