"""The GPU plugin's own property keys, beside OpenVINO's (registered when the plugin loads)."""

from __future__ import annotations

from ovlite.properties import any_value, define, to_bool

#: OpenVINO's name for a GPU's memory, in bytes (absent when unknown).
TOTAL_MEMORY = define("GPU_DEVICE_TOTAL_MEM_SIZE", any_value, read_only=True)
BACKEND = define("OVLITE_GPU_BACKEND", any_value, read_only=True, doc="CUDA, MIGraphX, ...")
PROVIDERS = define(
    "OVLITE_GPU_PROVIDERS", any_value, read_only=True, doc="ONNX Runtime providers it uses."
)
DRIVER = define("OVLITE_GPU_DRIVER_VERSION", any_value, read_only=True)
PCI_BUS_ID = define("OVLITE_GPU_PCI_BUS_ID", any_value, read_only=True)
ENUMERATED_BY = define(
    "OVLITE_GPU_ENUMERATED_BY",
    any_value,
    read_only=True,
    doc="Where the GPU list came from: the onnxruntime device API, nvidia-smi, or a default.",
)
TENSORRT = define(
    "OVLITE_GPU_TENSORRT",
    to_bool,
    doc="Put TensorRT before CUDA when the installed onnxruntime offers it (default true); "
    "a TensorRT that fails to initialise is left out, and the configuration reason says why.",
)
