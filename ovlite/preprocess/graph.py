"""ONNX nodes for preprocessing steps, one chain of them per input or output.

A :class:`Chain` follows one tensor through the steps: its current name, element type, layout
and shape; each method appends the nodes of one step and moves the chain to the new tensor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..element_type import Type
from ..errors import PreprocessError
from ..layout import Layout

INT64_MIN = np.iinfo(np.int64).min


class Chain:
    """The tensor a preprocessing chain has reached, and the nodes that got it there."""

    def __init__(
        self,
        name: str,
        element_type: Type,
        layout: Layout | None,
        shape: Sequence[int],
        opset: int,
        prefix: str,
        where: str,
    ) -> None:
        self.name = name
        self.element_type = element_type
        self.layout = layout
        self.shape = list(shape)
        self.opset = opset
        self.prefix = prefix
        self.where = where  # "input 'x'", for messages
        self.start = name
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        # the shape-changing steps, in order: ("transpose", order), ("pad", begin, end),
        # ("crop",), ("custom",); walked back, they give the user's tensor shape
        self.log: list[tuple[Any, ...]] = []
        self._count = 0

    # ---- plumbing -------------------------------------------------------------------------

    def fresh(self, what: str) -> str:
        """A new tensor name no model tensor has."""
        self._count += 1
        return f"{self.prefix}/{self._count}_{what}"

    def constant(self, array: np.ndarray, what: str = "const") -> str:
        """Add ``array`` as an initializer; return its name."""
        from onnx import numpy_helper

        name = self.fresh(what)
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op_type: str, inputs: Sequence[str], **attrs: Any) -> str:
        """Append a one-output node; return its output's name."""
        from onnx import helper

        output = self.fresh(op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [output], name=output, **attrs))
        return output

    def _step(self, op_type: str, inputs: Sequence[str], **attrs: Any) -> None:
        self.name = self.node(op_type, [self.name, *inputs], **attrs)

    def axis(self, dimension: str, step: str) -> int:
        """The index of ``dimension`` (``"C"``) in the current layout, or a clear error."""
        if self.layout is None or not self.layout.has_name(dimension):
            raise PreprocessError(
                f"{step} on {self.where} needs a layout with dimension {dimension!r}, and the "
                f"tensor's layout is {self.layout or Layout()}: set one with "
                f"tensor().set_layout(...) (or model().set_layout(...))"
            )
        return self.layout.get_index_by_name(dimension) % len(self.shape)

    # ---- steps ----------------------------------------------------------------------------

    def convert(self, element_type: Type) -> None:
        if element_type == self.element_type:
            return
        if element_type.onnx_type == 0:
            raise PreprocessError(f"cannot convert {self.where} to element type {element_type}")
        self._step("Cast", [], to=element_type.onnx_type)
        self.element_type = element_type

    def transpose(self, order: Sequence[int], layout: Layout | None) -> None:
        order = [int(i) for i in order]
        if len(order) != len(self.shape):
            raise PreprocessError(
                f"convert_layout order {order} on {self.where} has {len(order)} dimensions, "
                f"the tensor has {len(self.shape)}"
            )
        self.layout = layout
        if order == list(range(len(order))):
            return
        self._step("Transpose", [], perm=order)
        self.shape = [self.shape[i] for i in order]
        self.log.append(("transpose", order))

    def to_layout(self, target: Layout) -> None:
        """Transpose from the current layout to ``target``."""
        if self.layout is None or self.layout.empty:
            raise PreprocessError(
                f"convert_layout to {target} on {self.where} needs the tensor's layout: set it "
                "with tensor().set_layout(...)"
            )
        rank = len(self.shape)
        here, there = self.layout.names_for_rank(rank), target.names_for_rank(rank)
        if sorted(map(str, here)) != sorted(map(str, there)) or None in here or None in there:
            raise PreprocessError(
                f"cannot convert {self.where} from layout {self.layout} to {target}: "
                "they must name the same dimensions"
            )
        self.transpose([here.index(name) for name in there], target)

    def _per_channel(self, values: tuple[float, ...], step: str) -> np.ndarray:
        if not self.element_type.is_real():
            raise PreprocessError(
                f"{step} on {self.where} needs a floating-point tensor and it is "
                f"{self.element_type}: add convert_element_type(Type.f32) before it"
            )
        array = np.asarray(values, dtype=np.float32)
        if len(values) == 1:
            return array.reshape(())
        axis = self.axis("C", step)
        channels = self.shape[axis]
        if channels >= 0 and channels != len(values):
            raise PreprocessError(
                f"{step} on {self.where} has {len(values)} values for {channels} channels"
            )
        shape = [1] * len(self.shape)
        shape[axis] = len(values)
        return array.reshape(shape)

    def mean(self, values: tuple[float, ...]) -> None:
        array = self._per_channel(values, "mean")
        self._step("Sub", [self.constant(array.astype(self.element_type.dtype), "mean")])

    def scale(self, values: tuple[float, ...]) -> None:
        # openvino multiplies by the reciprocal, computed in f32; so do we (same rounding)
        array = np.float32(1.0) / self._per_channel(values, "scale")
        self._step("Mul", [self.constant(array.astype(self.element_type.dtype), "scale")])

    def reverse(self, axis: int) -> None:
        starts = self.constant(np.array([-1], np.int64), "starts")
        ends = self.constant(np.array([INT64_MIN], np.int64), "ends")
        axes = self.constant(np.array([axis], np.int64), "axes")
        steps = self.constant(np.array([-1], np.int64), "steps")
        self._step("Slice", [starts, ends, axes, steps])

    def resize(self, mode: str, height: int, width: int, antialias: bool, cubic_a: float) -> None:
        h_axis, w_axis = self.axis("H", "resize"), self.axis("W", "resize")
        if antialias and self.opset < 18:
            raise PreprocessError(
                f"Pillow-style resize on {self.where} needs ONNX Resize's antialias (opset 18); "
                f"the model uses opset {self.opset}: use RESIZE_LINEAR or RESIZE_CUBIC"
            )
        if self.opset < 11:
            raise PreprocessError(
                f"resize on {self.where} needs ONNX opset 11 or newer, not {self.opset}"
            )
        dtype = self.element_type.dtype
        integer = (
            self.element_type if dtype is not None and np.issubdtype(dtype, np.integer) else None
        )
        if integer is not None and mode != "nearest":
            # interpolate in f32 and round to nearest, as openvino does (ONNX Runtime's integer
            # Resize truncates); clip first, cubic can overshoot the type's range
            self.convert(Type.f32)
        rank = len(self.shape)
        # ONNX Runtime's cubic Resize wants height and width innermost: move them there and back
        order = [i for i in range(rank) if i not in (h_axis, w_axis)] + [h_axis, w_axis]
        moved = mode == "cubic" and order != list(range(rank))
        if moved:
            self.name = self.node("Transpose", [self.name], perm=order)
            h_axis, w_axis = rank - 2, rank - 1
        shape = self.node("Shape", [self.name])
        sizes = self.node(
            "ScatterElements",
            [
                shape,
                self.constant(np.array([h_axis, w_axis], np.int64), "hw_axes"),
                self.constant(np.array([height, width], np.int64), "hw_sizes"),
            ],
            axis=0,
        )
        attrs: dict[str, Any] = {
            "mode": mode,
            "coordinate_transformation_mode": "half_pixel",
            "nearest_mode": "round_prefer_floor",
            "cubic_coeff_a": cubic_a,
        }
        if antialias:
            attrs["antialias"] = 1
        if self.opset >= 13:
            self._step("Resize", ["", "", sizes], **attrs)
        else:
            empty = self.constant(np.zeros(0, np.float32), "empty")
            self._step("Resize", [empty, empty, sizes], **attrs)
        if moved:
            self.name = self.node(
                "Transpose", [self.name], perm=[order.index(i) for i in range(rank)]
            )
            h_axis, w_axis = order[-2], order[-1]
        self.shape[h_axis], self.shape[w_axis] = height, width
        if integer is not None and mode != "nearest":
            limits = np.iinfo(integer.to_dtype())
            self._step("Round", [])
            bounds = [np.array(limits.min, np.float32), np.array(limits.max, np.float32)]
            self._step("Clip", [self.constant(bounds[0], "min"), self.constant(bounds[1], "max")])
            self.convert(integer)

    def crop(self, begin: Sequence[int], end: Sequence[int]) -> None:
        if len(begin) != len(self.shape):
            raise PreprocessError(
                f"crop {list(begin)}..{list(end)} on {self.where} has {len(begin)} dimensions, "
                f"the tensor has {len(self.shape)}"
            )
        self._step(
            "Slice",
            [
                self.constant(np.array(begin, np.int64), "begin"),
                self.constant(np.array(end, np.int64), "end"),
            ],
        )
        self.shape = [_cropped(d, b, e) for d, b, e in zip(self.shape, begin, end, strict=True)]
        self.log.append(("crop",))

    def pad(self, begin: Sequence[int], end: Sequence[int], value: float, mode: str) -> None:
        if len(begin) != len(self.shape):
            raise PreprocessError(
                f"pad {list(begin)}, {list(end)} on {self.where} has {len(begin)} dimensions, "
                f"the tensor has {len(self.shape)}"
            )
        pads = self.constant(np.array([*begin, *end], np.int64), "pads")
        fill = self.constant(np.array(value, dtype=self.element_type.dtype), "pad_value")
        self._step("Pad", [pads, fill], mode=mode)
        self.shape = [
            d if d < 0 else d + b + e for d, b, e in zip(self.shape, begin, end, strict=True)
        ]
        self.log.append(("pad", begin, end))


def _cropped(size: int, begin: int, end: int) -> int:
    if size < 0:
        return -1
    start = begin + size if begin < 0 else begin
    stop = end + size if end < 0 else min(end, size)
    return max(0, stop - start)


class CustomStep:
    """What a ``custom`` step's function gets: the tensor so far and a way to add ONNX nodes.

        def clip(step):
            return step.add_node("Clip", [step.input, step.add_constant(np.float32(0)),
                                          step.add_constant(np.float32(1))])
        ppp.input().preprocess().custom(clip)

    The function returns the name of its output tensor; ``step.element_type``,
    ``step.layout`` and ``step.shape`` describe the input.  Set ``step.shape`` (and
    ``step.element_type``) when your nodes change them.
    """

    def __init__(self, chain: Chain) -> None:
        self._chain = chain
        self.input = chain.name
        self.element_type = chain.element_type
        self.layout = chain.layout
        self.shape = list(chain.shape)

    def add_node(self, op_type: str, inputs: Sequence[str], **attributes: Any) -> str:
        """Append an ONNX node with one output; return the output's name."""
        return self._chain.node(op_type, inputs, **attributes)

    def add_constant(self, value: Any) -> str:
        """Add a constant tensor; return its name."""
        return self._chain.constant(np.asarray(value))


def run_custom(chain: Chain, function: Any) -> None:
    step = CustomStep(chain)
    output = function(step)
    if not isinstance(output, str):
        raise PreprocessError(
            f"a custom step on {chain.where} must return the name of the tensor it produced "
            f"(a str from step.add_node), not {type(output).__name__}"
        )
    chain.name, chain.element_type, chain.shape = output, step.element_type, list(step.shape)
    chain.log.append(("custom",))


__all__ = ["Chain", "CustomStep"]
