"""ovlite: an OpenVINO-style device abstraction layer over ONNX Runtime execution providers.

    import ovlite as ov
    import ovlite.properties as props

    core = ov.Core()
    compiled = core.compile_model("model.onnx", "CPU",
                                  {props.hint.performance_mode: props.hint.PerformanceMode.THROUGHPUT})
    queue = ov.AsyncInferQueue(compiled)   # OPTIMAL_NUMBER_OF_INFER_REQUESTS requests

Importing ovlite is cheap: device plugins (and ONNX Runtime) load on first use of a ``Core``.
"""

from __future__ import annotations

from . import helpers, layout_helpers, preprocess, properties, utils
from .availability import Availability
from .compiled_model import CompiledModel
from .core import Core, Version, compile_model
from .device import Device
from .device_string import DeviceSpec, parse_device
from .element_type import Type
from .errors import (
    ArgumentError,
    ChildDeviceError,
    CompileError,
    DeviceClosedError,
    DeviceNotFoundError,
    DeviceStringError,
    DeviceUnavailableError,
    ElementTypeError,
    InferenceError,
    InputError,
    InputKeyTypeError,
    InputNameError,
    InputShapeError,
    InputTypeError,
    LayoutError,
    MissingInputError,
    ModelError,
    ModelTypeError,
    NoResultsError,
    OvliteError,
    PluginError,
    PreprocessError,
    PropertyError,
    PropertyValueError,
    ReadOnlyPropertyError,
    ReentrancyError,
    RequestBusyError,
    RequestCancelledError,
    RequestTimeoutError,
    UnknownPropertyError,
    UnsupportedModelFormatError,
)
from .hookspecs import PLUGIN_API_VERSION, hookimpl
from .jobs import Job
from .layout import Layout
from .model import Model, Port, read_model
from .model_batch import get_batch, set_batch
from .properties import OVAny
from .requests import AsyncInferQueue, InferRequest, ProfilingInfo
from .serialization import save_model, serialize
from .shape import Dimension, PartialShape, Shape
from .streams import StreamsExecutor
from .tensor import Tensor

ConstOutput = Port  # openvino's name for a model's or compiled model's port
Output = Port

__version__ = "0.2.0"


def __getattr__(name: str) -> object:
    """``ov.op`` and ``ov.opsetN``: stand-ins whose operations say to build graphs with onnx."""
    from .opsets import GraphBuildingStandIn, is_opset_name

    if is_opset_name(name):
        return GraphBuildingStandIn(name)
    raise AttributeError(f"module 'ovlite' has no attribute {name!r}")


def get_version() -> str:
    """ovlite's version (openvino's ``get_version`` gives openvino's build string)."""
    return __version__


__all__ = [
    "PLUGIN_API_VERSION",
    "ArgumentError",
    "ChildDeviceError",
    "AsyncInferQueue",
    "Availability",
    "CompileError",
    "CompiledModel",
    "ConstOutput",
    "Core",
    "Device",
    "DeviceNotFoundError",
    "DeviceSpec",
    "DeviceStringError",
    "DeviceUnavailableError",
    "Dimension",
    "ElementTypeError",
    "InferRequest",
    "InferenceError",
    "InputError",
    "InputKeyTypeError",
    "InputNameError",
    "InputShapeError",
    "InputTypeError",
    "Job",
    "Layout",
    "LayoutError",
    "MissingInputError",
    "Model",
    "ModelError",
    "ModelTypeError",
    "NoResultsError",
    "OVAny",
    "Output",
    "OvliteError",
    "PartialShape",
    "PluginError",
    "PreprocessError",
    "Port",
    "ProfilingInfo",
    "PropertyError",
    "PropertyValueError",
    "ReadOnlyPropertyError",
    "ReentrancyError",
    "RequestBusyError",
    "RequestCancelledError",
    "DeviceClosedError",
    "RequestTimeoutError",
    "Shape",
    "StreamsExecutor",
    "Tensor",
    "Type",
    "UnknownPropertyError",
    "UnsupportedModelFormatError",
    "Version",
    "compile_model",
    "get_batch",
    "get_version",
    "helpers",
    "hookimpl",
    "layout_helpers",
    "parse_device",
    "preprocess",
    "properties",
    "read_model",
    "save_model",
    "serialize",
    "set_batch",
    "utils",
]
