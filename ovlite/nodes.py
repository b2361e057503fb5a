"""A read-only view of a model's ONNX graph in openvino's node vocabulary.

``model.get_parameters()``, ``get_results()`` and ``get_ordered_ops()`` give :class:`Node`s:
``Parameter`` for each graph input, ``Constant`` for each initializer, one node per ONNX
operator (its ``op_type`` as the type name) and ``Result`` for each graph output.  Programs
that read names, shapes and types through them (``get_type_name``, ``get_friendly_name``,
``get_output_partial_shape``, ``output(0)``, ``inputs()``) work as on openvino; the nodes
cannot be changed or wired into new graphs (build graphs with ``onnx.helper``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .element_type import Type
from .errors import ArgumentError
from .shape import PartialShape

if TYPE_CHECKING:
    from .model import Model
    from .ports import Port


@dataclass(frozen=True)
class DiscreteTypeInfo:
    """What ``node.get_type_info()`` gives: the operator's name and its opset."""

    name: str
    version_id: str

    def __str__(self) -> str:
        return f"{self.name}_{self.version_id}"


class Node:
    """One step of the graph: its type name, name, the values it reads and those it makes."""

    def __init__(
        self,
        type_name: str,
        friendly_name: str,
        inputs: Sequence[Port],
        outputs: Sequence[Port],
        attributes: Mapping[str, Any] | None = None,
        version_id: str = "opset1",
    ) -> None:
        self._type_name = type_name
        self._friendly_name = friendly_name
        self._inputs = list(inputs)
        self._outputs = list(outputs)
        self._attributes = dict(attributes or {})
        self._version_id = version_id

    def get_type_name(self) -> str:
        return self._type_name

    def get_type_info(self) -> DiscreteTypeInfo:
        return DiscreteTypeInfo(self._type_name, self._version_id)

    def get_friendly_name(self) -> str:
        return self._friendly_name

    def get_name(self) -> str:
        return self._friendly_name

    def set_friendly_name(self, name: str) -> None:
        """Rename the node (its ports keep their tensor names, as in openvino)."""
        self._friendly_name = str(name)

    @property
    def friendly_name(self) -> str:
        return self._friendly_name

    @friendly_name.setter
    def friendly_name(self, name: str) -> None:
        self.set_friendly_name(name)

    def get_attributes(self) -> dict[str, Any]:
        """The ONNX operator's attributes (ints, floats, strings and lists of them)."""
        return dict(self._attributes)

    # ---- what it reads -----------------------------------------------------------------------

    def inputs(self) -> list[Port]:
        """The values this node reads, as ports (``get_partial_shape``, ``get_any_name``...)."""
        return list(self._inputs)

    def input_value(self, index: int) -> Port:
        return self._at(self._inputs, index, "input")

    def input_values(self) -> list[Port]:
        return list(self._inputs)

    def get_input_size(self) -> int:
        return len(self._inputs)

    def get_input_partial_shape(self, index: int) -> PartialShape:
        return self.input_value(index).get_partial_shape()

    def get_input_element_type(self, index: int) -> Type:
        return self.input_value(index).get_element_type()

    # ---- what it makes -----------------------------------------------------------------------

    def outputs(self) -> list[Port]:
        return list(self._outputs)

    def output(self, index: int = 0) -> Port:
        return self._at(self._outputs, index, "output")

    def get_output_size(self) -> int:
        return len(self._outputs)

    def get_output_partial_shape(self, index: int) -> PartialShape:
        return self.output(index).get_partial_shape()

    def get_output_shape(self, index: int) -> PartialShape:
        return self.output(index).get_partial_shape()

    def get_output_element_type(self, index: int) -> Type:
        return self.output(index).get_element_type()

    # ---- Parameter, Result and Constant read as their one value -------------------------------

    def get_partial_shape(self) -> PartialShape:
        return self._own().get_partial_shape()

    def get_element_type(self) -> Type:
        return self._own().get_element_type()

    @property
    def shape(self) -> PartialShape:
        return self._own().get_partial_shape()

    @property
    def element_type(self) -> Type:
        return self._own().get_element_type()

    def _own(self) -> Port:
        ports = self._outputs or self._inputs
        if len(ports) != 1:
            raise ArgumentError(
                f"{self._type_name} {self._friendly_name!r} has {len(ports)} outputs: "
                "use get_output_partial_shape(i) / get_output_element_type(i)"
            )
        return ports[0]

    def _at(self, ports: list[Port], index: int, what: str) -> Port:
        if not isinstance(index, int) or not 0 <= index < len(ports):
            expected = f"expected 0..{len(ports) - 1}" if ports else f"it has no {what}s"
            raise ArgumentError(
                f"{self._type_name} {self._friendly_name!r} has no {what} {index!r}: {expected}"
            )
        return ports[index]

    def _identity(self) -> tuple:
        def ports(items: list[Port]) -> tuple:
            return tuple((p.any_name, str(p.get_partial_shape()), p.element_type) for p in items)

        return (self._type_name, self._friendly_name, ports(self._inputs), ports(self._outputs))

    def __eq__(self, other: object) -> bool:
        """Nodes of two reads of the same model are equal: same type, name, values."""
        return isinstance(other, Node) and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash((self._type_name, self._friendly_name))

    def __repr__(self) -> str:
        shapes = ", ".join(f"{p.get_partial_shape()}" for p in self._outputs)
        return f"<{self._type_name}: '{self._friendly_name}' ({shapes})>"


def _made(node: Node) -> Node:
    """Tell the ports a node makes which node that is (``port.get_node()``)."""
    for port in node._outputs:
        port._node = node
    return node


def standalone_node(port: Port) -> Node:
    """The ``Parameter`` (input) or ``Result`` (output) of a compiled model's port."""
    if port.kind == "input":
        return Node("Parameter", port.any_name, [], [port])
    return Node("Result", port.any_name, [port], [port])


def parameters(model: Model) -> list[Node]:
    return [_made(Node("Parameter", port.any_name, [], [port])) for port in model.inputs]


def results(model: Model, sources: Mapping[str, Port] | None = None) -> list[Node]:
    """A Result per output, reading the operator output of that name when ``sources`` has it."""
    found = []
    for port in model.outputs:
        source = (sources or {}).get(port.any_name, port)
        found.append(_made(Node("Result", port.any_name, [source], [port])))
    return found


def ordered_ops(model: Model) -> list[Node]:
    """Parameters, Constants, the operators in the graph's (topological) order, Results."""
    from .ports import Port, node_key

    proto = _with_inferred_shapes(model.proto)
    graph = proto.graph
    nodes = parameters(model)
    values: dict[str, Port] = {port.any_name: port for port in model.inputs}
    for i, init in enumerate(graph.initializer):
        if init.name in values:
            continue
        port = Port("output", i, [init.name], PartialShape(list(init.dims)), _type(init.data_type))
        values[init.name] = port
        nodes.append(_made(Node("Constant", init.name, [], [port])))
    infos = {v.name: v for v in [*graph.value_info, *graph.output]}
    version = f"opset{model.opset}"
    for n, onnx_node in enumerate(graph.node):
        outputs = [_value(infos.get(name), name, i) for i, name in enumerate(onnx_node.output)]
        values.update((port.any_name, port) for port in outputs)
        inputs = [values[name] for name in onnx_node.input if name in values]
        name = node_key(onnx_node, n)  # the names query_model reports
        attributes = _attributes(onnx_node.attribute)
        nodes.append(_made(Node(onnx_node.op_type, name, inputs, outputs, attributes, version)))
    return nodes + results(model, values)


def _with_inferred_shapes(proto: Any) -> Any:
    import onnx

    try:
        return onnx.shape_inference.infer_shapes(proto)
    except Exception:  # a graph onnx cannot infer keeps the shapes it declares
        return proto


def _type(onnx_type: int) -> Type:
    return Type.from_onnx(onnx_type)


def _value(info: Any, name: str, index: int) -> Port:
    from .ports import Port, _value_info_shape

    if info is None:
        return Port("output", index, [name], PartialShape((), rank_is_dynamic=True), Type.dynamic)
    return Port(
        "output", index, [name], _value_info_shape(info), _type(info.type.tensor_type.elem_type)
    )


def _attributes(attributes: Iterable[Any]) -> dict[str, Any]:
    import onnx

    found = {}
    for attribute in attributes:
        value = onnx.helper.get_attribute_value(attribute)
        if isinstance(value, bytes):
            value = value.decode(errors="replace")
        elif isinstance(value, list):
            value = [v.decode(errors="replace") if isinstance(v, bytes) else v for v in value]
        elif not isinstance(value, int | float):
            continue  # tensors and subgraphs stay in the ONNX proto
        found[attribute.name] = value
    return found
