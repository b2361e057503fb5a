"""GPU hints OpenVINO keeps under ``intel_gpu.hint``."""

from __future__ import annotations

from .._keys import define, enum_of, int_at_least, to_bool
from ..hint import Priority

#: openvino's ``ThrottleLevel`` is its ``Priority`` under another name.
ThrottleLevel = Priority

queue_throttle = define("GPU_QUEUE_THROTTLE", enum_of(Priority))
queue_priority = define("GPU_QUEUE_PRIORITY", enum_of(Priority))
host_task_priority = define("GPU_HOST_TASK_PRIORITY", enum_of(Priority))
available_device_mem = define("AVAILABLE_DEVICE_MEM_SIZE", int_at_least(0))
enable_large_allocations = define("GPU_ENABLE_LARGE_ALLOCATIONS", to_bool)
enable_lora_operation = define("GPU_ENABLE_LORA_OPERATION", to_bool)
