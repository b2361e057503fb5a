"""Models and their ports: an ONNX model read from a path, bytes or an ``onnx.ModelProto``."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import onnx

from .element_type import Type
from .errors import InputNameError, ModelError


class PartialShape(tuple):
    """A shape whose dimensions may be dynamic (``-1``, printed ``?``); compares as a tuple.

    ``names`` keeps symbolic dimension names from the ONNX file (``"batch"``), ``None`` where
    the dimension has none.  ``rank_is_dynamic`` is true when even the rank is unknown.
    """

    names: tuple[str | None, ...]
    rank_is_dynamic: bool

    def __new__(
        cls,
        dims: Iterable[int | str | None] = (),
        names: Sequence[str | None] | None = None,
        rank_is_dynamic: bool = False,
    ) -> PartialShape:
        values, dim_names = [], []
        for dim in dims:
            if isinstance(dim, str) and not dim.lstrip("-").isdigit():
                values.append(-1)
                dim_names.append(None if dim == "?" else dim)
            else:
                values.append(-1 if dim is None or int(dim) < 0 else int(dim))
                dim_names.append(None)
        shape = super().__new__(cls, values)
        shape.names = tuple(names) if names is not None else tuple(dim_names)
        shape.rank_is_dynamic = rank_is_dynamic
        return shape

    @property
    def is_dynamic(self) -> bool:
        return self.rank_is_dynamic or any(dim < 0 for dim in self)

    @property
    def is_static(self) -> bool:
        return not self.is_dynamic

    @property
    def rank(self) -> int | None:
        return None if self.rank_is_dynamic else len(self)

    def to_shape(self) -> tuple[int, ...]:
        """The static shape as a plain tuple; ``ValueError`` if some dimension is dynamic."""
        if self.is_dynamic:
            raise ValueError(f"shape {self} is dynamic")
        return tuple(self)

    def accepts(self, shape: Sequence[int]) -> bool:
        """True when a concrete ``shape`` fits: same rank, equal wherever this one is static."""
        if self.rank_is_dynamic:
            return True
        return len(shape) == len(self) and all(
            d < 0 or d == s for d, s in zip(self, shape, strict=True)
        )

    def __str__(self) -> str:
        if self.rank_is_dynamic:
            return "[...]"
        return "[" + ",".join("?" if d < 0 else str(d) for d in self) + "]"

    __repr__ = __str__


class Port:
    """An input or output of a model (OpenVINO's ``ConstOutput``).

    Ports compare equal by model position and name, so a port taken from a ``Model`` can
    address the same input of the ``CompiledModel`` built from it.
    """

    def __init__(
        self, kind: str, index: int, names: Sequence[str], shape: PartialShape, element_type: Type
    ) -> None:
        self.kind = kind
        self.index = index
        self._names = list(names)
        self.partial_shape = shape
        self.element_type = element_type

    @property
    def any_name(self) -> str:
        return self._names[0]

    @property
    def names(self) -> set[str]:
        return set(self._names)

    @property
    def shape(self) -> PartialShape:
        """The port's shape; dynamic dimensions show as ``-1`` (printed ``?``)."""
        return self.partial_shape

    def get_any_name(self) -> str:
        return self.any_name

    def get_names(self) -> set[str]:
        return self.names

    def get_shape(self) -> PartialShape:
        return self.partial_shape

    def get_partial_shape(self) -> PartialShape:
        return self.partial_shape

    def get_element_type(self) -> Type:
        return self.element_type

    def get_index(self) -> int:
        return self.index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Port) and (other.kind, other.index, other.any_name) == (
            self.kind,
            self.index,
            self.any_name,
        )

    def __hash__(self) -> int:
        return hash((self.kind, self.index, self.any_name))

    def __repr__(self) -> str:
        return f"<{self.kind} port {self.index} {self.any_name!r}: {self.element_type} {self.partial_shape}>"


def _value_info_shape(value: onnx.ValueInfoProto) -> PartialShape:
    tensor_type = value.type.tensor_type
    if not tensor_type.HasField("shape"):
        return PartialShape((), rank_is_dynamic=True)
    dims: list[int | str | None] = []
    for dim in tensor_type.shape.dim:
        if dim.HasField("dim_value") and dim.dim_value > 0:
            dims.append(dim.dim_value)
        elif dim.HasField("dim_param"):
            dims.append(dim.dim_param)
        else:
            dims.append(None)
    return PartialShape(dims)


def _ports(kind: str, values: Iterable[onnx.ValueInfoProto]) -> list[Port]:
    return [
        Port(kind, i, [v.name], _value_info_shape(v), Type.from_onnx(v.type.tensor_type.elem_type))
        for i, v in enumerate(values)
    ]


class Model:
    """An ONNX model with OpenVINO-style ports; build it with :func:`read_model`.

    ``path`` is the file it was read from (``None`` for bytes and protos, or after
    ``reshape``), so plugins can let their runtime load external data next to it.
    """

    def __init__(
        self, proto: onnx.ModelProto, path: str | None = None, name: str | None = None
    ) -> None:
        self._proto = proto
        self.path = path
        self._bytes: bytes | None = None
        self._name = name or proto.graph.name or (Path(path).stem if path else "model")
        self._refresh_ports()

    def _refresh_ports(self) -> None:
        initializers = {init.name for init in self._proto.graph.initializer}
        graph_inputs = [v for v in self._proto.graph.input if v.name not in initializers]
        self.inputs = _ports("input", graph_inputs)
        self.outputs = _ports("output", self._proto.graph.output)

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

    def input(self, key: int | str | Port = 0) -> Port:
        """An input port by index, name or port."""
        return find_port(self.inputs, key, "input")

    def output(self, key: int | str | Port = 0) -> Port:
        """An output port by index, name or port."""
        return find_port(self.outputs, key, "output")

    def is_dynamic(self) -> bool:
        return any(p.partial_shape.is_dynamic for p in self.inputs + self.outputs)

    def reshape(self, shapes: Any) -> None:
        """Set input shapes in place: one shape for a single-input model, or a dict keyed by
        input name, index or port.  Dimensions may be ints, ``-1``/``"?"`` (dynamic) or names.
        Output shapes are recomputed with ONNX shape inference.
        """
        if isinstance(shapes, Mapping):
            targets = {self.input(key).index: PartialShape(shape) for key, shape in shapes.items()}
        else:
            if len(self.inputs) != 1:
                raise ModelError(
                    f"reshape with one shape needs a single-input model; {self._name!r} has "
                    f"{len(self.inputs)} inputs: pass a dict {{name: shape}}"
                )
            targets = {0: PartialShape(shapes)}
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
        self._proto = proto
        self._bytes = None
        self.path = None
        self._refresh_ports()

    def __repr__(self) -> str:
        ins = ", ".join(f"{p.any_name}: {p.element_type}{p.partial_shape}" for p in self.inputs)
        outs = ", ".join(f"{p.any_name}: {p.element_type}{p.partial_shape}" for p in self.outputs)
        return f"<Model {self._name!r} inputs=[{ins}] outputs=[{outs}]>"


def node_key(node: onnx.NodeProto, index: int) -> str:
    """The name ``query_model`` reports a node under: its own, or ``<OpType>_<index>``."""
    return node.name or f"{node.op_type}_{index}"


def find_port(ports: Sequence[Port], key: int | str | Port, kind: str) -> Port:
    """Look a port up by index, name or port; raise :class:`InputNameError` naming the choices."""
    if isinstance(key, Port):
        for port in ports:
            if port == key or key.any_name in port.names:
                return port
        key = key.any_name
    if isinstance(key, int) and not isinstance(key, bool):
        if 0 <= key < len(ports):
            return ports[key]
        raise InputNameError(f"no {kind} with index {key}: the model has {len(ports)} {kind}s")
    if isinstance(key, str):
        for port in ports:
            if key in port.names:
                return port
        names = ", ".join(repr(p.any_name) for p in ports)
        raise InputNameError(f"no {kind} named {key!r}; the model's {kind}s are {names}")
    raise InputNameError(f"{kind}s are addressed by name, index or port, not {type(key).__name__}")


def read_model(model: str | os.PathLike | bytes | onnx.ModelProto | Model) -> Model:
    """Read an ONNX model from a path, serialized bytes or an ``onnx.ModelProto``.

    Raises :class:`ModelError` naming the file and the problem for a missing, empty, truncated
    or non-ONNX file, and for a model the installed ``onnx`` package finds invalid.
    """
    if isinstance(model, Model):
        return model
    path: str | None = None
    if isinstance(model, onnx.ModelProto):
        proto, origin = model, "the given ModelProto"
    elif isinstance(model, bytes | bytearray | memoryview):
        proto, origin = _parse(bytes(model), "the given bytes"), "the given bytes"
    elif isinstance(model, str | os.PathLike):
        path = os.fspath(model)
        origin = f"model file {path!r}"
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
    else:
        raise ModelError(
            f"read_model takes a path, bytes or onnx.ModelProto, not {type(model).__name__}"
        )
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
    proto = onnx.ModelProto()
    try:
        proto.ParseFromString(data)
    except Exception as exc:
        raise ModelError(f"cannot read {origin}: not a valid ONNX model ({exc})") from exc
    return proto
