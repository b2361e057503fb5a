"""Property keys with OpenVINO's names: ``import ovlite.properties as props``.

Typed keys and their strings are interchangeable (``props.hint.performance_mode`` is
``"PERFORMANCE_HINT"``), values accept enums and their strings, and each key knows whether it
is read-only.  ``normalize_config`` checks a whole config dict.
"""

from __future__ import annotations

from . import device, hint, intel_auto, intel_cpu, intel_gpu, intel_npu, log, streams
from ._any import OVAny
from ._enum import OvEnum
from ._keys import (
    KEYS,
    MAX_TIMEOUT_MS,
    PropertyKey,
    any_value,
    define,
    enum_of,
    int_at_least,
    lookup_key,
    normalize_config,
    register_key,
    to_bool,
    to_str,
    to_str_list,
    to_timeout_ms,
)


class CacheMode(OvEnum):
    """``CACHE_MODE`` values: what a cached model keeps."""

    OPTIMIZE_SIZE = 0
    OPTIMIZE_SPEED = 1


class WorkloadType(OvEnum):
    """``WORKLOAD_TYPE`` values."""

    DEFAULT = 0
    EFFICIENT = 1


supported_properties = define("SUPPORTED_PROPERTIES", any_value, read_only=True)
available_devices = define("AVAILABLE_DEVICES", any_value, read_only=True)
optimal_number_of_infer_requests = define(
    "OPTIMAL_NUMBER_OF_INFER_REQUESTS",
    any_value,
    read_only=True,
    doc="How many requests to keep in flight to saturate the compiled model.",
)
optimal_batch_size = define("OPTIMAL_BATCH_SIZE", any_value, read_only=True)
max_batch_size = define("MAX_BATCH_SIZE", any_value, read_only=True)
range_for_streams = define("RANGE_FOR_STREAMS", any_value, read_only=True)
range_for_async_infer_requests = define("RANGE_FOR_ASYNC_INFER_REQUESTS", any_value, read_only=True)
execution_devices = define(
    "EXECUTION_DEVICES", any_value, read_only=True, doc="Devices that actually run the model."
)
model_name = define("NETWORK_NAME", any_value, read_only=True)
loaded_from_cache = define("LOADED_FROM_CACHE", any_value, read_only=True)
inference_num_threads = define(
    "INFERENCE_NUM_THREADS",
    int_at_least(0),
    doc="Threads for inference in total (0: device default).",
)
cache_dir = define("CACHE_DIR", to_str, doc="Folder where compiled models are cached.")
enable_profiling = define(
    "PERF_COUNT", to_bool, doc="Collect per-node timings, read back as request.profiling_info."
)
num_streams = streams.num  # openvino has it at the top level too
cache_mode = define("CACHE_MODE", enum_of(CacheMode), doc="What a cached model keeps.")
workload_type = define("WORKLOAD_TYPE", enum_of(WorkloadType))
compilation_num_threads = define("COMPILATION_NUM_THREADS", int_at_least(0))
enable_mmap = define("ENABLE_MMAP", to_bool)
weights_path = define("WEIGHTS_PATH", to_str)
enable_weightless = define("ENABLE_WEIGHTLESS", to_bool)
force_tbb_terminate = define("FORCE_TBB_TERMINATE", to_bool)
key_cache_group_size = define("KEY_CACHE_GROUP_SIZE", int_at_least(0))
value_cache_group_size = define("VALUE_CACHE_GROUP_SIZE", int_at_least(0))
key_cache_precision = define("KEY_CACHE_PRECISION", hint.to_element_type)
value_cache_precision = define("VALUE_CACHE_PRECISION", hint.to_element_type)
auto_batch_timeout = define(
    "AUTO_BATCH_TIMEOUT", to_timeout_ms, doc="Milliseconds a partial batch waits before it runs."
)
inference_timeout = define(
    "OVLITE_INFERENCE_TIMEOUT",
    to_timeout_ms,
    doc="Milliseconds an inference may take before it fails with RequestTimeoutError "
    "(0: no limit); applied by the core to any device (ovlite's own key).",
)
dropped_devices = define(
    "OVLITE_DROPPED_DEVICES",
    any_value,
    read_only=True,
    doc="Children a meta device stopped feeding, each with the reason (ovlite's own key).",
)
configuration_reason = define(
    "OVLITE_CONFIGURATION_REASON",
    any_value,
    read_only=True,
    doc="Why the device chose its streams, threads and requests (ovlite's own key).",
)

#: Settings the core applies itself for any device (a timeout); they never reach a plugin.
CORE_KEYS = frozenset({inference_timeout.name})
#: Automatic-batching settings: the core takes them for plain devices, so every device accepts
#: them without listing them; meta devices receive them (BATCH uses ``AUTO_BATCH_TIMEOUT``).
BATCH_KEYS = frozenset({hint.allow_auto_batching.name, auto_batch_timeout.name})

__all__ = [
    "BATCH_KEYS",
    "CORE_KEYS",
    "KEYS",
    "MAX_TIMEOUT_MS",
    "CacheMode",
    "OVAny",
    "OvEnum",
    "WorkloadType",
    "cache_mode",
    "compilation_num_threads",
    "enable_mmap",
    "enable_weightless",
    "any_value",
    "enum_of",
    "force_tbb_terminate",
    "key_cache_group_size",
    "key_cache_precision",
    "value_cache_group_size",
    "value_cache_precision",
    "intel_cpu",
    "intel_gpu",
    "intel_npu",
    "log",
    "num_streams",
    "weights_path",
    "workload_type",
    "PropertyKey",
    "auto_batch_timeout",
    "available_devices",
    "cache_dir",
    "configuration_reason",
    "device",
    "dropped_devices",
    "enable_profiling",
    "execution_devices",
    "hint",
    "inference_num_threads",
    "inference_timeout",
    "int_at_least",
    "intel_auto",
    "loaded_from_cache",
    "lookup_key",
    "max_batch_size",
    "model_name",
    "normalize_config",
    "optimal_batch_size",
    "optimal_number_of_infer_requests",
    "range_for_async_infer_requests",
    "range_for_streams",
    "register_key",
    "streams",
    "supported_properties",
    "to_bool",
    "to_str",
    "to_str_list",
    "define",
]
