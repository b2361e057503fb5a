"""``CPUDevice``: the ``CPU`` device family, on ONNX Runtime's CPUExecutionProvider."""

from __future__ import annotations

import platform
from collections.abc import Mapping
from typing import Any

import ovlite.properties as props
from ovlite import Model, PropertyValueError, Type
from ovlite.plugin import Availability, CompiledModel, Device, Setting, provider_availability
from ovlite.properties.hint import ExecutionMode, PerformanceMode

from . import topology

PROVIDER = "CPUExecutionProvider"


def _f32_only(precision: Type) -> None:
    if precision != Type.f32:
        raise PropertyValueError(
            f"INFERENCE_PRECISION_HINT {precision} is not supported by the CPU device: "
            f"the CPU plugin computes in f32 (ONNX Runtime's CPU kernels run the model's "
            f"f32 graph as written); pass f32 or leave the hint unset"
        )


class CPUDevice(Device):
    """The host CPU, running models with ONNX Runtime's CPU execution provider.

    Settings (``settings``): the performance hints, ``NUM_STREAMS``,
    ``INFERENCE_NUM_THREADS``, ``ENABLE_CPU_PINNING``, ``ENABLE_HYPER_THREADING``,
    ``CACHE_DIR``, ``PERF_COUNT``, ``INFERENCE_PRECISION_HINT`` (``f32`` only),
    ``CPU_DENORMALS_OPTIMIZATION`` (ONNX Runtime's denormals-as-zero) and ``LOG_LEVEL``
    (ONNX Runtime's log severity) and ``ALLOW_AUTO_BATCHING`` (whether THROUGHPUT batches
    the queued requests of a small model, see ``batching.py``).  It also reports, read-only, the facts openvino's CPU
    device lists (``DEVICE_TYPE``, ``SCHEDULING_CORE_TYPE`` ``ANY_CORE``, ...).
    """

    name = "CPU"
    priority = 10
    #: Compiling is an ONNX Runtime graph optimization, well under a second for most models,
    #: so AUTO may serve from CPU while a slower device compiles.
    quick_compile = True
    settings = (
        Setting(props.hint.performance_mode, PerformanceMode.LATENCY),
        Setting(props.hint.num_requests, 0),
        Setting(props.streams.num, 1),
        Setting(props.inference_num_threads, 0),
        Setting(props.hint.enable_cpu_pinning, False),
        Setting(props.hint.enable_hyper_threading, False),
        Setting(props.cache_dir, ""),
        Setting(props.enable_profiling, False),
        Setting(props.hint.inference_precision, Type.f32, check=_f32_only),
        Setting(props.hint.execution_mode, ExecutionMode.PERFORMANCE),
        Setting(props.intel_cpu.denormals_optimization, False),
        Setting(props.log.level, props.log.Level.NO),
        Setting(props.hint.allow_auto_batching, True),
    )

    def __init__(self) -> None:
        self._availability: Availability | None = None

    def availability(self) -> Availability:
        """Available when onnxruntime imports and lists the CPU execution provider."""
        if self._availability is None:
            self._availability = provider_availability(PROVIDER)
        return self._availability

    def onnxruntime_provider(
        self, device_id: str | None, config: Mapping[str, Any]
    ) -> tuple[str, dict[str, str]]:
        """ONNX Runtime's CPU execution provider, with its default options."""
        return PROVIDER, {}

    def full_device_name(self, device_id: str | None = None) -> str:
        return topology.cpu_name()

    def device_properties(self, device_id: str | None = None) -> dict[str, Any]:
        found = topology.detect()
        capabilities = props.device.Capability
        return {
            props.device.capabilities.name: [capabilities.FP32, capabilities.INT8],
            props.device.architecture.name: platform.machine(),
            props.range_for_streams.name: (1, found.logical_cpus),
            # what openvino's CPU device reports; ovlite's CPU device does not change them
            props.device.type.name: props.device.Type.INTEGRATED,
            props.device.id.name: "",
            props.range_for_async_infer_requests.name: (1, 1, 1),
            props.execution_devices.name: [self.name],
            props.hint.enable_cpu_reservation.name: False,
            props.hint.scheduling_core_type.name: props.hint.SchedulingCoreType.ANY_CORE,
            props.hint.model_distribution_policy.name: set(),
            props.intel_cpu.sparse_weights_decompression_rate.name: 1.0,
            props.hint.dynamic_quantization_group_size.name: 0,
        }

    def compile_model(
        self, model: Model, spec: Any, config: dict[str, Any], host: Any
    ) -> CompiledModel:
        from .compiled import CPUCompiledModel

        return CPUCompiledModel(model, spec.full_name, config)
