"""What a user says about one input or output: its tensor, its model side and the steps between.

These classes only record; :mod:`ovlite.preprocess.build` turns the record into ONNX nodes.
Every setter returns its object, so calls chain as in openvino:
``ppp.input().tensor().set_element_type(Type.u8).set_layout(Layout("NHWC"))``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..element_type import Type
from ..errors import PreprocessError
from ..layout import Layout, as_layout
from .enums import ColorFormat, PaddingMode, ResizeAlgorithm


@dataclass
class Step:
    """One recorded step: its kind (``"mean"``, ``"resize"``, ...) and arguments."""

    kind: str
    args: tuple[Any, ...] = ()

    def describe(self) -> str:
        """openvino's wording for the step (``"mean (1,2,3)"``)."""
        if self.kind in ("mean", "scale"):
            return f"{self.kind} ({','.join(f'{v:g}' for v in self.args[0])})"
        if self.kind == "convert_element_type":
            return f"convert type ({self.args[0] or 'model type'})"
        if self.kind == "convert_layout":
            target = self.args[0]
            return f"convert layout {target if isinstance(target, Layout) else tuple(target)}"
        if self.kind == "resize":
            algorithm, height, width = self.args
            to = "model width/height" if height is None else f"{height}x{width}"
            return f"resize to {to} ({algorithm.name})"
        return self.kind.replace("_", " ")


def _values(values: float | Sequence[float], what: str) -> tuple[float, ...]:
    flat = np.atleast_1d(np.asarray(values, dtype=np.float64)).ravel()
    if flat.size == 0:
        raise PreprocessError(f"{what} needs at least one value")
    return tuple(float(v) for v in flat)


class _TensorInfo:
    """Element type and layout of a user's tensor (what inputs and outputs both tell)."""

    def __init__(self) -> None:
        self.element_type: Type | None = None
        self.layout: Layout | None = None

    def set_element_type(self, element_type: Type | Any) -> Any:
        """The element type of the user's tensor (``Type.u8`` for images, say)."""
        self.element_type = Type.parse(element_type)
        return self

    def set_layout(self, layout: Layout | str) -> Any:
        """The layout of the user's tensor (``"NHWC"``)."""
        self.layout = as_layout(layout)
        return self


class InputTensorInfo(_TensorInfo):
    """The tensor the user will pass: element type, layout, shape, colour format."""

    def __init__(self) -> None:
        super().__init__()
        self.shape: tuple[int, ...] | None = None
        self.spatial: tuple[int, int] | None = None  # (-1, -1): dynamic height and width
        self.color_format = ColorFormat.UNDEFINED
        self.memory_type: str | None = None

    def set_shape(self, shape: Sequence[int]) -> InputTensorInfo:
        """The full shape of the data the user passes (``-1`` for a dynamic dimension)."""
        self.shape = tuple(int(d) for d in shape)
        return self

    def set_spatial_static_shape(self, height: int, width: int) -> InputTensorInfo:
        """The user's images are ``height`` x ``width`` (needs a layout with ``H`` and ``W``)."""
        self.spatial = (int(height), int(width))
        return self

    def set_spatial_dynamic_shape(self) -> InputTensorInfo:
        """The user's images may have any height and width (resize them to the model's)."""
        self.spatial = (-1, -1)
        return self

    def set_color_format(
        self, color_format: ColorFormat, sub_names: Sequence[str] = ()
    ) -> InputTensorInfo:
        """The colour format of the user's images (``RGB`` or ``BGR`` in ovlite)."""
        self.color_format = ColorFormat(color_format)
        return self

    def set_memory_type(self, memory_type: str) -> InputTensorInfo:
        """Accepted and recorded; ONNX Runtime sessions take host memory."""
        self.memory_type = str(memory_type)
        return self

    def set_from(self, data: Any) -> InputTensorInfo:
        """Take the shape and element type from an example ``Tensor`` or numpy array."""
        array = data.data if hasattr(data, "data") and isinstance(data.data, np.ndarray) else data
        array = np.asarray(array)
        self.shape = tuple(array.shape)
        self.element_type = Type.from_dtype(array.dtype)
        return self


class _ModelInfo:
    """What the model has at this input or output; only its layout can be told."""

    def __init__(self) -> None:
        self.layout: Layout | None = None

    def set_layout(self, layout: Layout | str) -> Any:
        """The layout the model's input or output has (``"NCHW"``)."""
        self.layout = as_layout(layout)
        return self


class InputModelInfo(_ModelInfo):
    """What the model expects at this input; only its layout can be told."""


class _Steps:
    def __init__(self) -> None:
        self.steps: list[Step] = []

    def _add(self, kind: str, *args: Any) -> Any:
        self.steps.append(Step(kind, args))
        return self

    def convert_element_type(self, element_type: Type | Any = None) -> Any:
        """Convert to ``element_type`` (with none: to the model's element type)."""
        return self._add(
            "convert_element_type", None if element_type is None else Type.parse(element_type)
        )

    def convert_layout(self, layout: Layout | str | Sequence[int]) -> Any:
        """Transpose to ``layout``, or by the dimension order ``[0, 3, 1, 2]``."""
        if isinstance(layout, Layout | str):
            return self._add("convert_layout", as_layout(layout))
        order = [int(i) for i in layout]
        if sorted(order) != list(range(len(order))):
            raise PreprocessError(
                f"convert_layout order {order} is not a permutation of 0..{len(order) - 1}"
            )
        return self._add("convert_layout", order)

    def custom(self, function: Callable[..., str]) -> Any:
        """Add your own ONNX nodes: ``function(step)`` gets a :class:`~ovlite.preprocess.CustomStep`
        and returns the name of the tensor it produced (see the class for an example)."""
        if not callable(function):
            raise PreprocessError(f"custom needs a callable, not {type(function).__name__}")
        return self._add("custom", function)


class PreProcessSteps(_Steps):
    """The steps from the user's tensor to the model's input, applied in the order called."""

    def mean(self, value: float | Sequence[float]) -> PreProcessSteps:
        """Subtract ``value`` (one value, or one per channel: needs a layout with ``C``)."""
        return self._add("mean", _values(value, "mean"))

    def scale(self, value: float | Sequence[float]) -> PreProcessSteps:
        """Divide by ``value`` (one value, or one per channel: needs a layout with ``C``)."""
        values = _values(value, "scale")
        if 0.0 in values:
            raise PreprocessError(f"scale {values} contains 0: cannot divide by zero")
        return self._add("scale", values)

    def resize(
        self, algorithm: ResizeAlgorithm, height: int | None = None, width: int | None = None
    ) -> PreProcessSteps:
        """Resize height and width to the model's (or to ``height`` x ``width``)."""
        if (height is None) != (width is None):
            raise PreprocessError("resize takes both height and width, or neither")
        size = (None, None) if height is None else (int(height), int(width))  # type: ignore[arg-type]
        return self._add("resize", ResizeAlgorithm(algorithm), *size)

    def reverse_channels(self) -> PreProcessSteps:
        """Reverse the order of the channels (RGB <-> BGR); needs a layout with ``C``."""
        return self._add("reverse_channels")

    def convert_color(self, color_format: ColorFormat) -> PreProcessSteps:
        """Convert the colour format set on the tensor to ``color_format`` (RGB <-> BGR)."""
        return self._add("convert_color", ColorFormat(color_format))

    def crop(self, begin: Sequence[int], end: Sequence[int]) -> PreProcessSteps:
        """Keep ``[begin, end)`` of every dimension; negative ends count from the end."""
        if len(begin) != len(end):
            raise PreprocessError(f"crop begin {list(begin)} and end {list(end)} differ in length")
        return self._add("crop", [int(b) for b in begin], [int(e) for e in end])

    def pad(
        self,
        pads_begin: Sequence[int],
        pads_end: Sequence[int],
        value: float,
        mode: PaddingMode,
    ) -> PreProcessSteps:
        """Pad each dimension by ``pads_begin``/``pads_end`` elements (filled with ``value``)."""
        mode = PaddingMode(mode)
        if mode is PaddingMode.SYMMETRIC:
            raise PreprocessError("PaddingMode.SYMMETRIC has no ONNX Pad mode; use REFLECT or EDGE")
        begin, end = [int(p) for p in pads_begin], [int(p) for p in pads_end]
        if len(begin) != len(end):
            raise PreprocessError(f"pad begin {begin} and end {end} differ in length")
        return self._add("pad", begin, end, float(value), mode)


class PostProcessSteps(_Steps):
    """The steps from the model's output to the tensor the user gets."""


class OutputTensorInfo(_TensorInfo):
    """The tensor the user will get: element type and layout."""


class OutputModelInfo(_ModelInfo):
    """What the model's output is; only its layout can be told."""


class _PortInfo:
    """The user's tensor, the model's side, and the steps between, for one port."""

    def __init__(self, tensor: Any, steps: Any, model: _ModelInfo) -> None:
        self._tensor, self._steps, self._model = tensor, steps, model

    def tensor(self) -> Any:
        """What the user's tensor is (element type, layout, ...)."""
        return self._tensor

    def model(self) -> Any:
        """What the model has (its layout)."""
        return self._model


class InputInfo(_PortInfo):
    """One input of a :class:`PrePostProcessor`: ``tensor()``, ``preprocess()``, ``model()``."""

    def __init__(self) -> None:
        super().__init__(InputTensorInfo(), PreProcessSteps(), InputModelInfo())

    def preprocess(self) -> PreProcessSteps:
        """The steps from the user's tensor to the model's input."""
        return self._steps


class OutputInfo(_PortInfo):
    """One output of a :class:`PrePostProcessor`: ``model()``, ``postprocess()``, ``tensor()``."""

    def __init__(self) -> None:
        super().__init__(OutputTensorInfo(), PostProcessSteps(), OutputModelInfo())

    def postprocess(self) -> PostProcessSteps:
        """The steps from the model's output to the user's tensor."""
        return self._steps


__all__ = [
    "InputInfo",
    "InputModelInfo",
    "InputTensorInfo",
    "OutputInfo",
    "OutputModelInfo",
    "OutputTensorInfo",
    "PostProcessSteps",
    "PreProcessSteps",
    "Step",
]
