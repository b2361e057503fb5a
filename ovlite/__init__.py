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

from . import properties
from .core import Core, Version, compile_model
from .device import Availability, CompiledModel, Device
from .device_string import DeviceSpec, parse_device
from .element_type import Type
from .errors import (
    ArgumentError,
    ChildDeviceError,
    CompileError,
    DeviceNotFoundError,
    DeviceStringError,
    DeviceUnavailableError,
    InferenceError,
    InputError,
    InputNameError,
    InputShapeError,
    InputTypeError,
    MissingInputError,
    ModelError,
    NoResultsError,
    OvliteError,
    PluginError,
    PropertyError,
    PropertyValueError,
    ReadOnlyPropertyError,
    ReentrancyError,
    RequestBusyError,
    RequestCancelledError,
    RequestTimeoutError,
    UnknownPropertyError,
)
from .hookspecs import PLUGIN_API_VERSION, hookimpl
from .jobs import Job
from .model import Model, PartialShape, Port, read_model
from .requests import AsyncInferQueue, InferRequest, ProfilingInfo
from .streams import StreamsExecutor
from .tensor import Tensor

__version__ = "0.1.0"

__all__ = [
    "PLUGIN_API_VERSION",
    "ArgumentError",
    "ChildDeviceError",
    "AsyncInferQueue",
    "Availability",
    "CompileError",
    "CompiledModel",
    "Core",
    "Device",
    "DeviceNotFoundError",
    "DeviceSpec",
    "DeviceStringError",
    "DeviceUnavailableError",
    "InferRequest",
    "InferenceError",
    "InputError",
    "InputNameError",
    "InputShapeError",
    "InputTypeError",
    "Job",
    "MissingInputError",
    "Model",
    "ModelError",
    "NoResultsError",
    "OvliteError",
    "PartialShape",
    "PluginError",
    "Port",
    "ProfilingInfo",
    "PropertyError",
    "PropertyValueError",
    "ReadOnlyPropertyError",
    "ReentrancyError",
    "RequestBusyError",
    "RequestCancelledError",
    "RequestTimeoutError",
    "StreamsExecutor",
    "Tensor",
    "Type",
    "UnknownPropertyError",
    "Version",
    "compile_model",
    "hookimpl",
    "parse_device",
    "properties",
    "read_model",
]
