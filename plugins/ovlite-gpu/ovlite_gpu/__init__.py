"""ovlite-gpu: the ``GPU`` device for ovlite, on ONNX Runtime's GPU execution providers.

Installed with the ONNX Runtime flavour for the GPU (``pip install ovlite-gpu[cuda]``), it
is found through its entry point (``[project.entry-points.ovlite] gpu``)::

    import ovlite
    compiled = ovlite.Core().compile_model("model.onnx", "GPU", {"PERFORMANCE_HINT": "THROUGHPUT"})

Importing this module is cheap: onnxruntime loads when the device is probed or compiles.
"""

from __future__ import annotations

from ovlite.plugin import hookimpl

from .device import GPUDevice

#: The ovlite plugin contract this plugin implements.
OVLITE_PLUGIN_API = 2

__all__ = ["OVLITE_PLUGIN_API", "GPUDevice", "ovlite_devices"]


@hookimpl
def ovlite_devices() -> list[GPUDevice]:
    """The devices this plugin provides: one ``GPU`` family (``GPU.0``, ``GPU.1``, ...)."""
    return [GPUDevice()]
