"""Models and their ports: an ONNX model read from a path, bytes or an ``onnx.ModelProto``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .element_type import Type
from .errors import ModelError, ModelTypeError, UnsupportedModelFormatError
from .layout import Layout
from .ports import HasPorts, Port, _ports
from .ports import _value_info_shape as _value_info_shape  # re-exported: plugins and tests
from .ports import find_port as find_port  # read these from ovlite.model
from .ports import node_key as node_key
from .ports import port_key as port_key
from .shape import PartialShape

if TYPE_CHECKING:  # onnx loads when a model is read, not with ``import ovlite``
    import onnx

# metadata key under which save_model keeps a port's layout in the ONNX file
LAYOUT_KEY = "ovlite.layout.{kind}.{name}"

IR_HINT = (
    "ovlite reads ONNX only, not OpenVINO IR (.xml/.bin): export the original model to ONNX with "
    "its framework's exporter (torch.onnx.export, tf2onnx, paddle2onnx, or `optimum-cli export "
    "onnx` for Hugging Face models); openvino has no converter from IR back to ONNX"
)


class Model(HasPorts):
    """An ONNX model with OpenVINO-style ports; build it with :func:`read_model`.

    ``path`` is the file it was read from (``None`` for bytes and protos, or after
    ``reshape``), so plugins can let their runtime load external data next to it.
    """

    def __init__(
        self, proto: onnx.ModelProto, path: str | None = None, name: str | None = None
    ) -> None:
        if not hasattr(proto, "graph"):  # openvino's Model(results, parameters) form
            from .opsets import HOW_TO_BUILD

            raise ModelError(
                f"Model({type(proto).__name__}, ...): expected an onnx.ModelProto; {HOW_TO_BUILD}"
            )
        self._proto = proto
        self.path = path
        self._bytes: bytes | None = None
        self._name = name or proto.graph.name or (Path(path).stem if path else "model")
        self._bounds: dict[str, PartialShape] = {}  # inputs reshaped to ranges, by name
        self._refresh_ports()
        self._restore_layouts()

    def _restore_layouts(self) -> None:
        """Give ports the layouts ``save_model`` wrote into the file's metadata."""
        saved = {entry.key: entry.value for entry in self._proto.metadata_props}
        for port in self.inputs + self.outputs:
            text = saved.get(LAYOUT_KEY.format(kind=port.kind, name=port.any_name))
            if text:
                port.layout = Layout(text)

    def _refresh_ports(self) -> None:
        """Read the ports from the proto; ports handed out before are updated in place."""
        initializers = {init.name for init in self._proto.graph.initializer}
        graph_inputs = [v for v in self._proto.graph.input if v.name not in initializers]
        self.inputs = _update_ports(getattr(self, "inputs", []), _ports("input", graph_inputs))
        self.outputs = _update_ports(
            getattr(self, "outputs", []), _ports("output", self._proto.graph.output)
        )
        for port in self.inputs:
            bounds = self._bounds.get(port.any_name)
            if bounds is not None and len(bounds) == len(port._shape):
                dims = [
                    b if b.is_dynamic and d < 0 else d
                    for b, d in zip(bounds, port._shape, strict=True)
                ]
                port._shape = PartialShape(dims, names=port._shape.names)

    @property
    def proto(self) -> onnx.ModelProto:
        """The ``onnx.ModelProto`` (treat as read-only; use :meth:`reshape` to change shapes)."""
        return self._proto

    @property
    def friendly_name(self) -> str:
        return self._name

    def get_friendly_name(self) -> str:
        return self._name

    def get_name(self) -> str:
        return self._name

    def to_bytes(self) -> bytes:
        """The serialized model, computed once."""
        if self._bytes is None:
            self._bytes = self._proto.SerializeToString()
        return self._bytes

    @property
    def opset(self) -> int:
        """The default-domain opset version the model is written against."""
        return next((o.version for o in self._proto.opset_import if o.domain in ("", "ai.onnx")), 0)

    def get_parameters(self) -> list[Any]:
        """A ``Parameter`` node (read-only) per input; its ``output(0)`` is the input port."""
        from . import nodes

        return nodes.parameters(self)

    def get_results(self) -> list[Any]:
        """A ``Result`` node (read-only) per output; its ``output(0)`` is the output port."""
        from . import nodes

        return nodes.results(self)

    def get_ordered_ops(self) -> list[Any]:
        """Every node in order: Parameters, Constants, the ONNX operators, Results (read-only)."""
        from . import nodes

        return nodes.ordered_ops(self)

    get_ops = get_ordered_ops

    def get_parameters_count(self) -> int:
        return len(self.inputs)

    def get_output_size(self) -> int:
        return len(self.outputs)

    def get_output_shape(self, index: int) -> PartialShape:
        return self.output(index).partial_shape

    def get_output_partial_shape(self, index: int) -> PartialShape:
        return self.output(index).partial_shape

    def get_output_element_type(self, index: int) -> Type:
        return self.output(index).element_type

    def is_dynamic(self) -> bool:
        return any(p.partial_shape.is_dynamic for p in self.inputs + self.outputs)

    def reshape(self, shapes: Any) -> None:
        """Set input shapes in place: one shape for a single-input model, or a dict keyed by
        input name, index or port.  Dimensions may be ints, ``-1``/``"?"`` (dynamic), names,
        ranges (``(1, 8)``, ``"1..8"``, ``Dimension(1, 8)``), or a whole ``"[1,3,?,?]"`` string.
        Output shapes are recomputed with ONNX shape inference.  ONNX has no bounded dimensions:
        a range is dynamic in the graph, and the input port keeps the bounds and checks them.
        """

        def as_shape(shape: Any) -> PartialShape:
            return shape.copy() if isinstance(shape, PartialShape) else PartialShape(shape)

        if isinstance(shapes, Mapping):
            targets = {self.input(key).index: as_shape(shape) for key, shape in shapes.items()}
        else:
            if len(self.inputs) != 1:
                raise ModelError(
                    f"reshape with one shape needs a single-input model; {self._name!r} has "
                    f"{len(self.inputs)} inputs: pass a dict {{name: shape}}"
                )
            targets = {0: as_shape(shapes)}
        import onnx

        proto = onnx.ModelProto()
        proto.CopyFrom(self._proto)
        by_name = {v.name: v for v in proto.graph.input}
        for index, shape in targets.items():
            port = self.inputs[index]
            if not port.partial_shape.rank_is_dynamic and len(shape) != len(port.partial_shape):
                raise ModelError(
                    f"cannot reshape input {port.any_name!r} of rank {len(port.partial_shape)} "
                    f"to {shape} of rank {len(shape)}"
                )
            bounded = any(d.is_dynamic and (d.min_length or d.max_length >= 0) for d in shape)
            if bounded:
                self._bounds[port.any_name] = shape
            else:
                self._bounds.pop(port.any_name, None)
            dims = by_name[port.any_name].type.tensor_type.shape
            dims.ClearField("dim")
            for value, name in zip(shape, shape.names, strict=True):
                dim = dims.dim.add()
                if value >= 0:
                    dim.dim_value = value
                elif name:
                    dim.dim_param = name
        for output in proto.graph.output:
            output.type.tensor_type.ClearField("shape")
        del proto.graph.value_info[:]
        try:
            proto = onnx.shape_inference.infer_shapes(proto, strict_mode=True)
        except Exception as exc:  # onnx raises several types here
            raise ModelError(f"cannot reshape {self._name!r} to {targets}: {exc}") from exc
        self.replace_proto(proto)

    def replace_proto(self, proto: onnx.ModelProto) -> None:
        """Make ``proto`` this model's graph (for reshape and preprocessing); ports stay live."""
        self._proto = proto
        self._bytes = None
        self.path = None
        self._refresh_ports()

    def __repr__(self) -> str:
        ins = ", ".join(f"{p.any_name}: {p.element_type}{p.partial_shape}" for p in self.inputs)
        outs = ", ".join(f"{p.any_name}: {p.element_type}{p.partial_shape}" for p in self.outputs)
        return f"<Model {self._name!r} inputs=[{ins}] outputs=[{outs}]>"


def _update_ports(old: list[Port], new: list[Port]) -> list[Port]:
    """Keep the port objects in ``old`` when ``new`` has the same ports, with ``new``'s shapes."""
    if [p._names for p in old] != [p._names for p in new]:
        layouts = {p.any_name: p.layout for p in old}
        for port in new:
            port.layout = layouts.get(port.any_name, port.layout)
        return new
    for port, fresh in zip(old, new, strict=True):
        port._shape, port.element_type = fresh._shape, fresh.element_type
    return old


def check_model_argument(model: Any) -> None:
    """Raise :class:`ModelTypeError` (a ``TypeError``) naming ``model`` when it is not a
    model, a path, bytes, a binary file object or an ``onnx.ModelProto``."""
    import onnx

    kinds = (Model, str, os.PathLike, bytes, bytearray, memoryview, onnx.ModelProto)
    if isinstance(model, kinds) or hasattr(model, "read"):
        return
    shown = str(model)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    raise ModelTypeError(
        f"a model is given as a path (str or pathlib.Path), bytes, a binary file object or an "
        f"onnx.ModelProto, not {type(model)} ({shown!r})"
    )


def read_model(model: str | os.PathLike | bytes | onnx.ModelProto | Model) -> Model:
    """Read an ONNX model from a path, serialized bytes, a binary file object (``io.BytesIO``)
    or an ``onnx.ModelProto``.

    Raises :class:`ModelError` naming the file and the problem for a missing, empty, truncated
    or non-ONNX file, and for a model the installed ``onnx`` package finds invalid.
    """
    if isinstance(model, Model):
        return model
    import onnx

    check_model_argument(model)
    path: str | None = None
    if hasattr(model, "read") and not isinstance(model, str | os.PathLike):
        model = model.read()  # a binary file object (open(..., "rb"), io.BytesIO)
        if not isinstance(model, bytes | bytearray | memoryview):
            raise ModelTypeError(
                f"read_model was given a file object that reads {type(model).__name__}, "
                f"expected bytes: open the file in binary mode ('rb')"
            )
    if isinstance(model, onnx.ModelProto):
        proto, origin = model, "the given ModelProto"
    elif isinstance(model, bytes | bytearray | memoryview):
        proto, origin = _parse(bytes(model), "the given bytes"), "the given bytes"
    elif isinstance(model, str | os.PathLike):
        path = os.fspath(model)
        origin = f"model file {path!r}"
        if path.lower().endswith((".xml", ".bin")):
            raise UnsupportedModelFormatError(f"cannot read {origin}: {IR_HINT}")
        if os.path.isdir(path):
            raise ModelError(f"cannot read {origin}: it is a folder; give the .onnx file in it")
        if not os.path.exists(path):
            raise ModelError(f"cannot read {origin}: no such file")
        if not os.path.isfile(path):
            raise ModelError(
                f"cannot read {origin}: not a regular file (a pipe or a device, say); "
                f"expected an .onnx file"
            )
        if os.path.getsize(path) == 0:
            raise ModelError(f"cannot read {origin}: the file is empty")
        try:
            proto = onnx.load(path)
        except Exception as exc:
            raise ModelError(f"cannot read {origin}: not a valid ONNX model ({exc})") from exc
    else:  # check_model_argument lets through exactly the kinds handled above
        raise AssertionError(f"read_model has no branch for {type(model).__name__}")
    if not proto.graph.node and not proto.graph.output:
        raise ModelError(f"cannot read {origin}: it holds no ONNX graph (empty or not ONNX)")
    try:
        onnx.checker.check_model(proto if path is None else path)
    except Exception as exc:
        raise ModelError(f"{origin} is not a valid ONNX model: {exc}") from exc
    if not proto.graph.output:
        raise ModelError(f"{origin} declares no outputs; a model needs at least one to run")
    model = Model(proto, path=path)
    newest = onnx.defs.onnx_opset_version()
    if model.opset > newest:
        raise ModelError(
            f"{origin} uses ONNX opset {model.opset}, newer than any this installation knows "
            f"(up to {newest}); export it with an older opset or upgrade onnx and the device plugin"
        )
    return model


def _parse(data: bytes, origin: str) -> onnx.ModelProto:
    if not data:
        raise ModelError(f"cannot read {origin}: they are empty")
    if data.lstrip()[:5] in (b"<?xml", b"<net ", b"<net>"):
        raise UnsupportedModelFormatError(
            f"cannot read {origin}: they are OpenVINO IR XML; {IR_HINT}"
        )
    import onnx

    proto = onnx.ModelProto()
    try:
        proto.ParseFromString(data)
    except Exception as exc:
        raise ModelError(f"cannot read {origin}: not a valid ONNX model ({exc})") from exc
    return proto
