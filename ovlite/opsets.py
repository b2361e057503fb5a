"""Stand-ins for openvino's graph-building API (``ov.op``, ``ov.opset1`` ... ``ov.opsetN``).

ovlite runs ONNX models and does not build graphs from operations.  A ported program that
reaches for ``op.Parameter`` or ``opset8.convolution`` gets a :class:`ModelError` saying how
to build the same graph: with onnx's helper API, then ``read_model``.
"""

from __future__ import annotations

import re

from .errors import ModelError

#: What every stand-in says, after naming what was asked for.
HOW_TO_BUILD = (
    "ovlite runs ONNX models and does not build graphs from operations: build the graph "
    "with onnx's helper API (onnx.helper.make_node, make_graph, make_model) and pass the "
    "ModelProto to ov.read_model or compile_model"
)

_OPSET_NAME = re.compile(r"op|opset\d+")


def is_opset_name(name: str) -> bool:
    """Whether ``name`` is one of openvino's graph-building modules (``op``, ``opset8``)."""
    return _OPSET_NAME.fullmatch(name) is not None


class GraphBuildingStandIn:
    """``ov.op`` / ``ov.opsetN``: importable, so ``from ovlite import op, opset8`` works;
    any operation taken from it raises :class:`ModelError` naming onnx's helper API."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, operation: str) -> object:
        if operation.startswith("__"):
            raise AttributeError(operation)
        raise ModelError(f"{self._name}.{operation}: {HOW_TO_BUILD}")

    def __repr__(self) -> str:
        return f"<ovlite stand-in for openvino.{self._name}: graphs are built with onnx.helper>"


__all__ = ["HOW_TO_BUILD", "GraphBuildingStandIn", "is_opset_name"]
