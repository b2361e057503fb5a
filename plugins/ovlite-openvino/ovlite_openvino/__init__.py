"""ovlite-openvino: the ``OPENVINO`` device for ovlite, on ONNX Runtime's OpenVINO provider.

Installed, it is found through its entry point (``[project.entry-points.ovlite] openvino``)::

    import ovlite
    compiled = ovlite.Core().compile_model("model.onnx", "OPENVINO.CPU",
                                           {"PERFORMANCE_HINT": "THROUGHPUT"})

The provider comes with the ``onnxruntime-openvino`` flavour of ONNX Runtime, which
replaces plain ``onnxruntime``: ``python -m ovlite.onnxruntime_install use
onnxruntime-openvino`` switches (see the README).  Importing this module is cheap:
onnxruntime loads when the device is probed or compiles.
"""

from __future__ import annotations

from ovlite.plugin import hookimpl

from .device import NPUDevice, OpenVINODevice

#: The ovlite plugin contract this plugin implements.
OVLITE_PLUGIN_API = 2

__all__ = ["OVLITE_PLUGIN_API", "NPUDevice", "OpenVINODevice", "ovlite_devices"]


@hookimpl
def ovlite_devices() -> list[OpenVINODevice]:
    """The devices this plugin provides: ``OPENVINO`` and its ``NPU`` alias."""
    return [OpenVINODevice(), NPUDevice()]
