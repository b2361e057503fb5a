"""Ports: the inputs and outputs of a model or compiled model (OpenVINO's ``ConstOutput``),
and looking them up by index, name or port."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .element_type import Type
from .errors import ArgumentError, InputKeyTypeError, InputNameError
from .layout import Layout
from .shape import PartialShape

if TYPE_CHECKING:
    import onnx


class Port:
    """An input or output of a model (OpenVINO's ``ConstOutput``).

    Ports compare equal by model position and name, so a port taken from a ``Model`` can
    address the same input of the ``CompiledModel`` built from it.  A model's ports are live:
    after ``model.reshape`` a port taken earlier reports the new shape.  ``layout`` is the
    port's :class:`~ovlite.Layout` (empty until set with ``ov.layout_helpers.set_layout``).
    """

    def __init__(
        self, kind: str, index: int, names: Sequence[str], shape: PartialShape, element_type: Type
    ) -> None:
        self.kind = kind
        self.index = index
        self._names = list(names)
        self._shape = shape
        self.element_type = element_type
        self.layout = Layout()
        self._node: Any = None  # the graph node making this value, once nodes are asked for
        # a compiled model's port: makes its own Parameter or Result, when first asked for
        self._make_node: Callable[[Port], Any] | None = None

    def copy(self) -> Port:
        """A port with the same name, shape, type and layout that later changes do not touch."""
        port = Port(self.kind, self.index, self._names, self._shape, self.element_type)
        port.layout = self.layout
        return port

    @property
    def any_name(self) -> str:
        return self._names[0]

    @property
    def names(self) -> set[str]:
        return set(self._names)

    @property
    def shape(self) -> PartialShape:
        """The port's shape (a copy); dynamic dimensions show as ``-1`` (printed ``?``)."""
        return self._shape.copy()

    @property
    def partial_shape(self) -> PartialShape:
        """The port's shape (a copy: change it, then give it to ``model.reshape``)."""
        return self._shape.copy()

    def accepts(self, shape: Sequence[int]) -> bool:
        """True when an array of ``shape`` fits this port (ranks equal, lengths in bounds)."""
        return self._shape.accepts(shape)

    def get_any_name(self) -> str:
        return self.any_name

    def get_names(self) -> set[str]:
        return self.names

    def get_shape(self) -> PartialShape:
        return self._shape.copy()

    def get_partial_shape(self) -> PartialShape:
        return self._shape.copy()

    def get_element_type(self) -> Type:
        return self.element_type

    def get_index(self) -> int:
        return self.index

    def get_source_output(self) -> Port:
        """The value a node's input reads: the port itself, as ``node.inputs()`` hands out
        the ports of the values read (openvino's ``Input.get_source_output()``)."""
        return self

    def get_node(self) -> Any:
        """The read-only graph node behind this port: a model input's ``Parameter``, a model
        output's ``Result``, an operator's output's operator (see ``model.get_ordered_ops()``).
        A compiled model's port has its own ``Parameter`` or ``Result``."""
        if self._node is None and self._make_node is not None:
            self._node = self._make_node(self)
        if self._node is None:
            raise ArgumentError(
                f"{self.kind} port {self.any_name!r} has no node yet: take nodes from "
                "model.get_parameters(), get_results() or get_ordered_ops() first"
            )
        return self._node

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


class HasPorts:
    """``input()`` / ``output()`` over ``self.inputs`` / ``self.outputs`` (models, compiled models)."""

    inputs: list[Port]
    outputs: list[Port]

    def input(
        self, key: int | str | Port = 0, *, index: int | None = None, tensor_name: str | None = None
    ) -> Port:
        """An input port by index, name or port (``input(index=0)``, ``input(tensor_name="x")``)."""
        return find_port(self.inputs, port_key(key, index, tensor_name), "input")

    def output(
        self, key: int | str | Port = 0, *, index: int | None = None, tensor_name: str | None = None
    ) -> Port:
        """An output port by index, name or port (``output(index=0)``, ``output(tensor_name="y")``)."""
        return find_port(self.outputs, port_key(key, index, tensor_name), "output")


def port_key(key: int | str | Port, index: int | None, tensor_name: str | None) -> int | str | Port:
    """The one key among openvino's ``input(key)``, ``input(index=...)``, ``input(tensor_name=...)``."""
    if index is not None:
        return index
    if tensor_name is not None:
        return tensor_name
    return key


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
    raise InputKeyTypeError(
        f"{kind}s are addressed by name, index or port, not {type(key).__name__} ({key!r})"
    )
