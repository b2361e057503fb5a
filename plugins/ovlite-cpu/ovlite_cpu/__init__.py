"""ovlite-cpu: the ``CPU`` device for ovlite, on ONNX Runtime's CPUExecutionProvider.

Installed, it is found through its entry point (``[project.entry-points.ovlite] cpu``)::

    import ovlite
    compiled = ovlite.Core().compile_model("model.onnx", "CPU", {"PERFORMANCE_HINT": "THROUGHPUT"})

Importing this module is cheap: onnxruntime loads when the device is probed or compiles.
"""

from __future__ import annotations

from ovlite.plugin import hookimpl

from .device import CPUDevice

#: The ovlite plugin contract this plugin implements.
OVLITE_PLUGIN_API = 2

__all__ = ["OVLITE_PLUGIN_API", "CPUDevice", "ovlite_devices"]


@hookimpl
def ovlite_devices() -> list[CPUDevice]:
    """The devices this plugin provides: one ``CPU``."""
    return [CPUDevice()]
