"""Element types to and from numpy, with the names of ``openvino.utils.types``.

    from ovlite.utils.types import get_dtype, get_element_type
    get_dtype(ov.Type.f32)          # dtype('float32')
    get_element_type(np.uint8)      # <Type: u8>

Python ``int`` and ``float`` map to ``i32`` and ``f32``, as in openvino.  Building graph nodes
(``make_constant_node``, ``as_node``) is not part of ovlite: build ONNX graphs with
``onnx.helper`` instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..element_type import Type
from ..errors import ElementTypeError

# (element type, numpy type) pairs in openvino's order; bf16 travels as uint16 bit patterns.
openvino_to_numpy_types_map: list[tuple[Type, type]] = [
    (Type.boolean, bool),
    (Type.boolean, np.bool_),
    (Type.f16, np.float16),
    (Type.f32, np.float32),
    (Type.f64, np.float64),
    (Type.i8, np.int8),
    (Type.i16, np.int16),
    (Type.i32, np.int32),
    (Type.i64, np.int64),
    (Type.u8, np.uint8),
    (Type.u16, np.uint16),
    (Type.u32, np.uint32),
    (Type.u64, np.uint64),
    (Type.bf16, np.uint16),
    (Type.string, str),
    (Type.string, np.str_),
    (Type.string, bytes),
    (Type.string, np.bytes_),
]

openvino_to_numpy_types_str_map: list[tuple[str, type]] = [
    (t.name, np_type) for t, np_type in openvino_to_numpy_types_map if t is not Type.bf16
]


def _same(np_type: type, data_type: Any) -> bool:
    try:
        return np_type is data_type or np.dtype(np_type) == np.dtype(data_type)
    except TypeError:
        return False


def get_element_type(data_type: Any) -> Type:
    """The element type of a Python or numpy type (``int`` -> ``i32``, ``float`` -> ``f32``)."""
    if data_type is int:
        return Type.i32
    if data_type is float:
        return Type.f32
    for ov_type, np_type in openvino_to_numpy_types_map:
        if _same(np_type, data_type):
            return ov_type
    raise ElementTypeError(f"no element type for data type {data_type!r}")


def get_element_type_str(data_type: Any) -> str:
    """The short name (``"f32"``) of a Python or numpy type's element type."""
    return get_element_type(data_type).name


def get_numpy_ctype(element_type: Type | str) -> type:
    """The numpy scalar type of an element type (``Type.f32`` -> ``np.float32``)."""
    wanted = Type.parse(element_type)
    for ov_type, np_type in openvino_to_numpy_types_map:
        if ov_type is wanted:
            return np_type
    raise ElementTypeError(f"element type {wanted} has no numpy type")


def get_dtype(element_type: Type | str) -> np.dtype:
    """The numpy dtype of an element type (``Type.f32`` -> ``dtype('float32')``)."""
    return np.dtype(get_numpy_ctype(element_type))


def get_ndarray(data: Any) -> np.ndarray:
    """``data`` as a numpy array (arrays pass through unchanged)."""
    if isinstance(data, np.ndarray):
        return data
    if hasattr(data, "data") and isinstance(data.data, np.ndarray):  # an ovlite Tensor
        return data.data
    return np.array(data)


def get_shape(data: Any) -> list[int] | tuple[int, ...]:
    """The shape of an array, ``[len]`` of a list, ``[]`` of a scalar."""
    if isinstance(data, np.ndarray):
        return data.shape
    if isinstance(data, list):
        return [len(data)]
    return []


def _no_graph_building(name: str) -> Any:
    def unsupported(*args: Any, **kwargs: Any) -> Any:
        raise ElementTypeError(
            f"{name} builds openvino graph nodes, which ovlite does not have: build ONNX graphs "
            "with onnx.helper (make_node, make_tensor, make_graph) and read them with ov.read_model"
        )

    unsupported.__name__ = name
    return unsupported


make_constant_node = _no_graph_building("make_constant_node")
as_node = _no_graph_building("as_node")
as_nodes = _no_graph_building("as_nodes")

__all__ = [
    "as_node",
    "as_nodes",
    "get_dtype",
    "get_element_type",
    "get_element_type_str",
    "get_ndarray",
    "get_numpy_ctype",
    "get_shape",
    "make_constant_node",
    "openvino_to_numpy_types_map",
    "openvino_to_numpy_types_str_map",
]
