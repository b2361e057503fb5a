"""Settings and facts OpenVINO keeps under ``intel_gpu`` (names only: ovlite's GPU device
reports the facts it knows, and refuses settings it does not honour)."""

from __future__ import annotations

from .._keys import any_value, define, to_bool
from . import hint


class MemoryType:
    """Remote memory kinds."""

    surface = "GPU_SURFACE"
    buffer = "GPU_BUFFER"


class CapabilityGPU:
    """GPU-only values of ``OPTIMIZATION_CAPABILITIES``."""

    HW_MATMUL = "GPU_HW_MATMUL"
    USM_MEMORY = "GPU_USM_MEMORY"


device_total_mem_size = define("GPU_DEVICE_TOTAL_MEM_SIZE", any_value, read_only=True)
device_max_alloc_mem_size = define("GPU_DEVICE_MAX_ALLOC_MEM_SIZE", any_value, read_only=True)
uarch_version = define("GPU_UARCH_VERSION", any_value, read_only=True)
execution_units_count = define("GPU_EXECUTION_UNITS_COUNT", any_value, read_only=True)
memory_statistics = define("GPU_MEMORY_STATISTICS", any_value, read_only=True)
enable_loop_unrolling = define("GPU_ENABLE_LOOP_UNROLLING", to_bool)
disable_winograd_convolution = define("GPU_DISABLE_WINOGRAD_CONVOLUTION", to_bool)

__all__ = [
    "CapabilityGPU",
    "MemoryType",
    "device_max_alloc_mem_size",
    "device_total_mem_size",
    "disable_winograd_convolution",
    "enable_loop_unrolling",
    "execution_units_count",
    "hint",
    "memory_statistics",
    "uarch_version",
]
