"""Turn recorded preprocessing into ONNX nodes spliced into the model's graph.

Input ``x`` keeps its name: the graph input ``x`` becomes the user's tensor, the steps follow it,
and the model's nodes read the last step's output.  Output ``y`` likewise: the node that made
``y`` now makes ``y/model``, and the postprocessing steps end in ``y``.

The user's tensor shape, when not given, is the model's shape walked back through the steps:
transposes are undone, ``pad`` is taken off, and ``resize`` keeps the size unless
``set_spatial_static_shape`` / ``set_spatial_dynamic_shape`` says otherwise (as openvino does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..element_type import Type
from ..errors import LayoutError, PreprocessError
from ..layout import Layout
from ..model import Model, Port
from .enums import ColorFormat, ResizeAlgorithm
from .graph import Chain, run_custom
from .info import InputInfo, OutputInfo, Step

_RESIZE = {
    ResizeAlgorithm.RESIZE_LINEAR: ("linear", False, -0.75),
    ResizeAlgorithm.RESIZE_CUBIC: ("cubic", False, -0.75),
    ResizeAlgorithm.RESIZE_NEAREST: ("nearest", False, -0.75),
    ResizeAlgorithm.RESIZE_BILINEAR_PILLOW: ("linear", True, -0.75),
    ResizeAlgorithm.RESIZE_BICUBIC_PILLOW: ("cubic", True, -0.5),
}


@dataclass
class Plan:
    """One input's or output's chain, what the user's tensor is, and the implicit steps."""

    port: Port
    chain: Chain
    tensor_type: Type
    tensor_layout: Layout | None
    tensor_shape: list[int]
    tensor_dim_names: list[str | None]
    model_layout: Layout | None
    implicit: list[str] = field(default_factory=list)


def _model_size(port: Port, layout: Layout, dimension: str) -> int:
    shape = port.partial_shape
    size = shape[layout.get_index_by_name(dimension) % len(shape)]
    if size < 0:
        raise PreprocessError(
            f"resize of input {port.any_name!r} to the model's size needs a static {dimension} in "
            f"the model's shape {shape}; give resize(algorithm, height, width)"
        )
    return size


def _apply(
    chain: Chain, steps: list[Step], port: Port, model_layout: Layout | None, color: ColorFormat
) -> ColorFormat:
    """Run ``steps`` on ``chain``."""
    for step in steps:
        kind, args = step.kind, step.args
        if kind == "convert_element_type":
            chain.convert(args[0] or port.element_type)
        elif kind == "convert_layout":
            if isinstance(args[0], Layout):
                chain.to_layout(args[0])
            else:
                chain.transpose(args[0], _permuted(chain, args[0]))
        elif kind == "mean":
            chain.mean(args[0])
        elif kind == "scale":
            chain.scale(args[0])
        elif kind == "reverse_channels":
            chain.reverse(chain.axis("C", "reverse_channels"))
        elif kind == "convert_color":
            color = _convert_color(chain, color, args[0])
        elif kind == "resize":
            algorithm, height, width = args
            if height is None:
                # the model's size, found through its layout (or the tensor's, when the model
                # has none: then no transpose comes between, as in openvino)
                target = model_layout or chain.layout
                chain.axis("H", "resize"), chain.axis("W", "resize")
                if target is None or not (target.has_name("H") and target.has_name("W")):
                    raise PreprocessError(
                        f"resize of input {port.any_name!r} to the model's size needs the model's "
                        "layout with H and W: set it with model().set_layout(...)"
                    )
                height = _model_size(port, target, "H")
                width = _model_size(port, target, "W")
            mode, antialias, cubic_a = _RESIZE[algorithm]
            chain.resize(mode, height, width, antialias, cubic_a)
        elif kind == "crop":
            chain.crop(*args)
        elif kind == "pad":
            begin, end, value, mode = args
            chain.pad(begin, end, value, mode.value)
        elif kind == "custom":
            run_custom(chain, args[0])
    return color


def _permuted(chain: Chain, order: list[int]) -> Layout | None:
    """The chain's layout after transposing by ``order`` (``None`` when it has none)."""
    if chain.layout is None or chain.layout.empty or len(order) != len(chain.shape):
        return None
    names = chain.layout.names_for_rank(len(order))
    return Layout("[" + ",".join(names[i] or "?" for i in order) + "]")


def _convert_color(chain: Chain, current: ColorFormat, target: ColorFormat) -> ColorFormat:
    pair = {current, target}
    if current == target:
        return target
    if pair == {ColorFormat.RGB, ColorFormat.BGR}:
        chain.reverse(chain.axis("C", "convert_color"))
        return target
    raise PreprocessError(
        f"color format {current.name} is not convertible to {target.name} on {chain.where}: "
        "ovlite converts between RGB and BGR only"
    )


def plan_input(port: Port, info: InputInfo, opset: int) -> Plan:
    """Work out the user's tensor for one input and build its chain of nodes."""
    tensor, steps = info.tensor(), info.preprocess().steps
    shape = port.partial_shape
    if shape.rank_is_dynamic:
        raise PreprocessError(
            f"input {port.any_name!r} has a dynamic rank: preprocessing needs its rank"
        )
    model_layout = info.model().layout or (None if port.layout.empty else port.layout)
    explicit_layout = any(s.kind == "convert_layout" for s in steps)
    tensor_layout = tensor.layout or (None if explicit_layout else model_layout)
    tensor_type = tensor.element_type or port.element_type
    where = f"input {port.any_name!r}"
    for side, layout, rank in (
        ("tensor", tensor_layout, len(tensor.shape) if tensor.shape else len(shape)),
        ("model", model_layout, len(shape)),
    ):
        if layout is not None:
            try:
                layout.names_for_rank(rank)
            except LayoutError as exc:
                raise PreprocessError(f"the {side} layout of {where} does not fit: {exc}") from None

    def run(start_shape: list[int]) -> tuple[Chain, Layout | None, list[str]]:
        chain = Chain(
            port.any_name,
            tensor_type,
            tensor_layout,
            start_shape,
            opset,
            f"{port.any_name}/preprocess",
            where,
        )
        _apply(chain, steps, port, model_layout, tensor.color_format)
        implicit = []
        if chain.element_type != port.element_type:
            chain.convert(port.element_type)
            implicit.append(f"convert type ({port.element_type})")
        final_layout = model_layout or chain.layout
        if model_layout is not None and chain.layout is not None and chain.layout != model_layout:
            chain.to_layout(model_layout)
            implicit.append(f"convert layout {model_layout}")
        return chain, final_layout, implicit

    # a dry run finds the transposes and pads, which walked back give the user's tensor shape
    dims = list(zip(shape, shape.names, strict=True))
    for entry in reversed(run([-1] * len(shape))[0].log):
        if entry[0] == "transpose":
            back: list[Any] = [None] * len(dims)
            for i, source in enumerate(entry[1]):
                back[source] = dims[i]
            dims = back
        elif entry[0] == "pad":
            dims = [
                (d - b - e if d >= 0 else d, n)
                for (d, n), b, e in zip(dims, entry[1], entry[2], strict=True)
            ]
        elif entry[0] == "crop" and tensor.shape is None:
            raise PreprocessError(
                f"crop on {where} needs the user's tensor shape: set tensor().set_shape(...)"
            )
    sizes, names = [d for d, _ in dims], [n for _, n in dims]
    if tensor.shape is not None:
        sizes, names = list(tensor.shape), [None] * len(tensor.shape)
    if tensor.spatial is not None:
        if tensor_layout is None or not (
            tensor_layout.has_name("H") and tensor_layout.has_name("W")
        ):
            raise PreprocessError(
                f"set_spatial_*_shape on {where} needs the tensor's layout with H and W: set it with "
                f"tensor().set_layout(...) (it is {tensor_layout or Layout()})"
            )
        for dimension, size in zip("HW", tensor.spatial, strict=True):
            index = tensor_layout.get_index_by_name(dimension) % len(sizes)
            sizes[index], names[index] = size, None
    chain, final_layout, implicit = run(sizes)
    _check_fits(chain, port)
    return Plan(port, chain, tensor_type, tensor_layout, sizes, names, final_layout, implicit)


def _check_fits(chain: Chain, port: Port) -> None:
    expected = port.partial_shape
    fits = len(chain.shape) == len(expected) and all(
        a < 0 or b < 0 or a == b for a, b in zip(chain.shape, expected, strict=True)
    )
    if not fits:
        got = "[" + ",".join("?" if d < 0 else str(d) for d in chain.shape) + "]"
        raise PreprocessError(
            f"after preprocessing, {chain.where} has shape {got} but the model expects "
            f"{expected}: add resize(...) or set the tensor's shape to match"
        )


def plan_output(port: Port, info: OutputInfo, opset: int) -> Plan:
    """Build the chain of nodes from one model output to the user's tensor."""
    model_layout = info.model().layout or (None if port.layout.empty else port.layout)
    where = f"output {port.any_name!r}"
    shape = port.partial_shape
    if shape.rank_is_dynamic and (info.tensor().layout or info.postprocess().steps):
        raise PreprocessError(f"{where} has a dynamic rank: postprocessing needs its rank")
    chain = Chain(
        f"{port.any_name}/model",
        port.element_type,
        model_layout,
        list(shape),
        opset,
        f"{port.any_name}/postprocess",
        where,
    )
    _apply(chain, info.postprocess().steps, port, model_layout, ColorFormat.UNDEFINED)
    implicit = []
    wanted_type, wanted_layout = info.tensor().element_type, info.tensor().layout
    if wanted_type is not None and wanted_type != chain.element_type:
        chain.convert(wanted_type)
        implicit.append(f"convert type ({wanted_type})")
    if wanted_layout is not None and chain.layout is not None and wanted_layout != chain.layout:
        chain.to_layout(wanted_layout)
        implicit.append(f"convert layout {wanted_layout}")
    layout = wanted_layout or chain.layout
    return Plan(
        port,
        chain,
        chain.element_type,
        layout,
        chain.shape,
        [None] * len(chain.shape),
        model_layout,
        implicit,
    )


def _rename_uses(graph: Any, old: str, new: str) -> None:
    """Make every node (in subgraphs too) that reads ``old`` read ``new``."""
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name == old:
                node.input[i] = new
        for attribute in node.attribute:
            for subgraph in [attribute.g] if attribute.HasField("g") else list(attribute.graphs):
                if old not in {v.name for v in subgraph.input}:
                    _rename_uses(subgraph, old, new)


def _set_value_info(
    value: Any, element_type: Type, sizes: list[int], names: list[str | None]
) -> None:
    tensor_type = value.type.tensor_type
    tensor_type.elem_type = element_type.onnx_type
    tensor_type.shape.ClearField("dim")
    for size, name in zip(sizes, names, strict=True):
        dim = tensor_type.shape.dim.add()
        if size >= 0:
            dim.dim_value = size
        elif name:
            dim.dim_param = name


def apply(model: Model, inputs: list[Plan], outputs: list[Plan]) -> None:
    """Splice the planned chains into a copy of ``model``'s graph and give it to the model."""
    import onnx

    proto = onnx.ModelProto()
    proto.CopyFrom(model.proto)
    graph = proto.graph
    head: list[Any] = []
    for plan in inputs:
        chain = plan.chain
        if not chain.nodes:
            continue
        _rename_uses(graph, plan.port.any_name, chain.name)
        for output in graph.output:
            if output.name == plan.port.any_name:
                raise PreprocessError(
                    f"input {plan.port.any_name!r} is also an output of the model: ovlite cannot "
                    "preprocess an input that the graph passes straight through"
                )
        head += chain.nodes
        graph.initializer.extend(chain.initializers)
        value = next(v for v in graph.input if v.name == plan.port.any_name)
        _set_value_info(value, plan.tensor_type, plan.tensor_shape, plan.tensor_dim_names)
    for plan in outputs:
        chain, name = plan.chain, plan.port.any_name
        if not chain.nodes:
            continue
        producers = [n for n in graph.node if name in n.output]
        if not producers:
            raise PreprocessError(
                f"output {name!r} is not made by a node (it is an input or a constant): ovlite "
                "cannot postprocess it"
            )
        for node in producers:
            node.output[list(node.output).index(name)] = chain.start
        _rename_uses(graph, name, chain.start)
        for value in graph.value_info:
            if value.name == name:
                value.name = chain.start
        last = chain.nodes[-1]
        if last.output[0] == chain.name:
            last.output[0] = name
        else:
            chain.nodes.append(onnx.helper.make_node("Identity", [chain.name], [name]))
        graph.node.extend(chain.nodes)
        graph.initializer.extend(chain.initializers)
        value = next(v for v in graph.output if v.name == name)
        _set_value_info(value, plan.tensor_type, plan.tensor_shape, plan.tensor_dim_names)
    if head:
        nodes = head + list(graph.node)
        del graph.node[:]
        graph.node.extend(nodes)
    model.replace_proto(proto)
    for ports, plans in ((model.inputs, inputs), (model.outputs, outputs)):
        for plan in plans:
            layout = plan.tensor_layout or plan.model_layout
            if layout is not None:
                ports[plan.port.index].layout = layout


__all__ = ["Plan", "apply", "plan_input", "plan_output"]
