"""openvino's ``preprocess`` module: ``PrePostProcessor`` and what it is told.

    from ovlite.preprocess import PrePostProcessor, ResizeAlgorithm

Preprocessing is built into the model's ONNX graph, so every device runs it in its session.
"""

from .enums import ColorFormat, PaddingMode, ResizeAlgorithm
from .graph import CustomStep
from .info import (
    InputInfo,
    InputModelInfo,
    InputTensorInfo,
    OutputInfo,
    OutputModelInfo,
    OutputTensorInfo,
    PostProcessSteps,
    PreProcessSteps,
)
from .processor import PrePostProcessor

__all__ = [
    "ColorFormat",
    "CustomStep",
    "InputInfo",
    "InputModelInfo",
    "InputTensorInfo",
    "OutputInfo",
    "OutputModelInfo",
    "OutputTensorInfo",
    "PaddingMode",
    "PostProcessSteps",
    "PreProcessSteps",
    "PrePostProcessor",
    "ResizeAlgorithm",
]
