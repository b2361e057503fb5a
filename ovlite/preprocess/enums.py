"""The enums of openvino's ``preprocess`` module."""

from __future__ import annotations

import enum


class ResizeAlgorithm(enum.Enum):
    """How ``PreProcessSteps.resize`` interpolates (ONNX ``Resize`` modes, half-pixel centres)."""

    RESIZE_LINEAR = "linear"
    RESIZE_CUBIC = "cubic"
    RESIZE_NEAREST = "nearest"
    RESIZE_BILINEAR_PILLOW = "bilinear_pillow"
    RESIZE_BICUBIC_PILLOW = "bicubic_pillow"


class ColorFormat(enum.Enum):
    """Colour formats of image tensors; ovlite converts between ``RGB`` and ``BGR``."""

    UNDEFINED = "UNDEFINED"
    NV12_SINGLE_PLANE = "NV12_SINGLE_PLANE"
    NV12_TWO_PLANES = "NV12_TWO_PLANES"
    I420_SINGLE_PLANE = "I420_SINGLE_PLANE"
    I420_THREE_PLANES = "I420_THREE_PLANES"
    RGB = "RGB"
    BGR = "BGR"
    GRAY = "GRAY"
    RGBX = "RGBX"
    BGRX = "BGRX"


class PaddingMode(enum.Enum):
    """How ``PreProcessSteps.pad`` fills the new elements (ONNX ``Pad`` modes)."""

    CONSTANT = "constant"
    EDGE = "edge"
    REFLECT = "reflect"
    SYMMETRIC = "symmetric"


__all__ = ["ColorFormat", "PaddingMode", "ResizeAlgorithm"]
