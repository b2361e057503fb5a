"""Performance hints: what the application wants, for the device to translate into settings."""

from __future__ import annotations

from ._enum import OvEnum
from ._keys import (
    any_value,
    define,
    enum_of,
    float_at_least,
    int_at_least,
    set_of,
    to_bool,
    to_element_type,
)


class PerformanceMode(OvEnum):
    """``PERFORMANCE_HINT`` values; each plugin documents what it makes of them."""

    LATENCY = 1
    THROUGHPUT = 2
    CUMULATIVE_THROUGHPUT = 3


class ExecutionMode(OvEnum):
    """``EXECUTION_MODE_HINT`` values: favour speed or exact f32 accuracy."""

    PERFORMANCE = 1
    ACCURACY = 2


class Priority(OvEnum):
    """``MODEL_PRIORITY`` values (``DEFAULT`` is ``MEDIUM``)."""

    LOW = 0
    MEDIUM = 1
    HIGH = 2
    DEFAULT = 1


class SchedulingCoreType(OvEnum):
    """``SCHEDULING_CORE_TYPE`` values: which cores of a hybrid CPU run inference."""

    ANY_CORE = 0
    PCORE_ONLY = 1
    ECORE_ONLY = 2


class ModelDistributionPolicy(OvEnum):
    """``MODEL_DISTRIBUTION_POLICY`` values."""

    TENSOR_PARALLEL = 0
    PIPELINE_PARALLEL = 1


performance_mode = define(
    "PERFORMANCE_HINT",
    enum_of(PerformanceMode),
    doc="LATENCY (default), THROUGHPUT or CUMULATIVE_THROUGHPUT.",
)
num_requests = define(
    "PERFORMANCE_HINT_NUM_REQUESTS",
    int_at_least(0),
    doc="How many requests the application keeps in flight; caps the streams a hint chooses (0: no cap).",
)
inference_precision = define(
    "INFERENCE_PRECISION_HINT",
    to_element_type,
    doc="Precision the device computes in (f32, bf16, f16); reported back as what was used.",
)
execution_mode = define("EXECUTION_MODE_HINT", enum_of(ExecutionMode))
enable_cpu_pinning = define("ENABLE_CPU_PINNING", to_bool, doc="Pin inference threads to cores.")
enable_hyper_threading = define(
    "ENABLE_HYPER_THREADING", to_bool, doc="Use both logical cores of each physical core."
)
allow_auto_batching = define(
    "ALLOW_AUTO_BATCHING", to_bool, doc="Let a THROUGHPUT hint batch requests automatically."
)
model_priority = define(
    "MODEL_PRIORITY",
    enum_of(Priority),
    doc="How a device shares itself between models (LOW, MEDIUM, HIGH).",
)
scheduling_core_type = define(
    "SCHEDULING_CORE_TYPE",
    enum_of(SchedulingCoreType),
    doc="Which cores of a hybrid CPU run inference (ANY_CORE, PCORE_ONLY, ECORE_ONLY).",
)
enable_cpu_reservation = define(
    "ENABLE_CPU_RESERVATION", to_bool, doc="Reserve the inference cores for this model."
)
model_distribution_policy = define(
    "MODEL_DISTRIBUTION_POLICY",
    set_of(ModelDistributionPolicy),
    doc="How one model is split over devices or sockets: a set of ModelDistributionPolicy.",
)
dynamic_quantization_group_size = define("DYNAMIC_QUANTIZATION_GROUP_SIZE", int_at_least(0))
kv_cache_precision = define("KV_CACHE_PRECISION", to_element_type)
activations_scale_factor = define("ACTIVATIONS_SCALE_FACTOR", float_at_least(0.0))
compiled_blob = define(
    "COMPILED_BLOB",
    any_value,
    doc="A compiled model exported before (a u8 Tensor), for devices that import one.",
)
model = define("MODEL_PTR", any_value, doc="The model a setting refers to (AUTO, BATCH).")
