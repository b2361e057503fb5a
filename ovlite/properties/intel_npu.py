"""Setting names OpenVINO keeps under ``intel_npu``.

They are defined so that code naming them imports and builds its configs; no ovlite device
honours them yet (the ``NPU`` device of ``ovlite-openvino`` refuses them by name, as every
device refuses a setting it does not list in ``SUPPORTED_PROPERTIES``).
"""

from __future__ import annotations

from ._keys import any_value, define, int_at_least, to_bool, to_str

device_alloc_mem_size = define("NPU_DEVICE_ALLOC_MEM_SIZE", any_value, read_only=True)
device_total_mem_size = define("NPU_DEVICE_TOTAL_MEM_SIZE", any_value, read_only=True)
driver_version = define("NPU_DRIVER_VERSION", any_value, read_only=True)
compiler_version = define("NPU_COMPILER_VERSION", any_value, read_only=True)
compilation_mode_params = define("NPU_COMPILATION_MODE_PARAMS", to_str)
turbo = define("NPU_TURBO", to_bool)
tiles = define("NPU_TILES", int_at_least(0))
max_tiles = define("NPU_MAX_TILES", int_at_least(0))
bypass_umd_caching = define("NPU_BYPASS_UMD_CACHING", to_bool)
defer_weights_load = define("NPU_DEFER_WEIGHTS_LOAD", to_bool)
compiler_dynamic_quantization = define("NPU_COMPILER_DYNAMIC_QUANTIZATION", to_bool)
