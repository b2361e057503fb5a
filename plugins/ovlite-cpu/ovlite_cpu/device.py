"""``CPUDevice``: the ``CPU`` device family, on ONNX Runtime's CPUExecutionProvider."""

from __future__ import annotations

import platform
from collections.abc import Mapping
from typing import Any

import ovlite.properties as props
from ovlite import Availability, CompiledModel, Device, Model
from ovlite.element_type import Type
from ovlite.errors import PropertyValueError
from ovlite.onnxruntime import provider_availability
from ovlite.properties.hint import ExecutionMode, PerformanceMode

from . import topology

PROVIDER = "CPUExecutionProvider"


class CPUDevice(Device):
    """The host CPU, running models with ONNX Runtime's CPU execution provider.

    Settings (``config_keys``): the performance hints, ``NUM_STREAMS``,
    ``INFERENCE_NUM_THREADS``, ``ENABLE_CPU_PINNING``, ``ENABLE_HYPER_THREADING``,
    ``CACHE_DIR``, ``PERF_COUNT``, ``INFERENCE_PRECISION_HINT`` (``f32`` only),
    ``CPU_DENORMALS_OPTIMIZATION`` (ONNX Runtime's denormals-as-zero) and ``LOG_LEVEL``
    (ONNX Runtime's log severity).  It also reports, read-only, the facts openvino's CPU
    device lists (``DEVICE_TYPE``, ``SCHEDULING_CORE_TYPE`` ``ANY_CORE``, ...).
    """

    name = "CPU"
    priority = 10
    #: Compiling is an ONNX Runtime graph optimization, well under a second for most models,
    #: so AUTO may serve from CPU while a slower device compiles.
    quick_compile = True
    config_keys = frozenset(
        {
            props.hint.performance_mode.name,
            props.hint.num_requests.name,
            props.streams.num.name,
            props.inference_num_threads.name,
            props.hint.enable_cpu_pinning.name,
            props.hint.enable_hyper_threading.name,
            props.cache_dir.name,
            props.enable_profiling.name,
            props.hint.inference_precision.name,
            props.hint.execution_mode.name,
            props.intel_cpu.denormals_optimization.name,
            props.log.level.name,
        }
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
            # defaults of the settings
            props.hint.performance_mode.name: PerformanceMode.LATENCY,
            props.hint.num_requests.name: 0,
            props.streams.num.name: 1,
            props.inference_num_threads.name: 0,
            props.hint.enable_cpu_pinning.name: False,
            props.hint.enable_hyper_threading.name: False,
            props.cache_dir.name: "",
            props.enable_profiling.name: False,
            props.hint.inference_precision.name: Type.f32,
            props.hint.execution_mode.name: ExecutionMode.PERFORMANCE,
            props.intel_cpu.denormals_optimization.name: False,
            props.log.level.name: props.log.Level.NO,
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

    def check_config(self, config: Mapping[str, Any]) -> None:
        """Refuse unknown keys and any inference precision but f32."""
        super().check_config(config)
        precision = config.get(props.hint.inference_precision.name)
        if precision is not None and precision != Type.f32:
            raise PropertyValueError(
                f"INFERENCE_PRECISION_HINT {precision} is not supported by the CPU device: "
                f"the CPU plugin computes in f32 (ONNX Runtime's CPU kernels run the model's "
                f"f32 graph as written); pass f32 or leave the hint unset"
            )

    def compile_model(
        self, model: Model, spec: Any, config: dict[str, Any], core: Any
    ) -> CompiledModel:
        from .compiled import CPUCompiledModel

        return CPUCompiledModel(model, spec.full_name, config)
