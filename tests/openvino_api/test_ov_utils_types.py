"""ov.utils.types: element types to and from numpy, with openvino.utils.types' names."""

from __future__ import annotations

import numpy as np
import pytest

import ovlite as ov
from ovlite.utils.types import (
    get_dtype,
    get_element_type,
    get_element_type_str,
    get_ndarray,
    get_numpy_ctype,
    get_shape,
    make_constant_node,
)


@pytest.mark.parametrize(
    ("data_type", "expected"),
    [
        (int, "i32"),
        (float, "f32"),
        (np.float32, "f32"),
        (np.uint8, "u8"),
        (np.int64, "i64"),
        (np.float16, "f16"),
        (bool, "boolean"),
        (np.bool_, "boolean"),
        (np.dtype("float64"), "f64"),
    ],
)
def test_element_type_of_python_and_numpy_types(data_type, expected) -> None:
    assert get_element_type(data_type) == ov.Type.parse(expected)
    assert get_element_type_str(data_type) == expected


def test_dtype_and_ctype_of_element_types() -> None:
    assert get_dtype(ov.Type.f32) == np.dtype(np.float32)
    assert get_dtype(ov.Type.u8) == np.uint8
    assert get_numpy_ctype(ov.Type.i64) is np.int64
    assert get_dtype(ov.Type.bf16) == np.uint16  # bf16 travels as its bit pattern, as in openvino


def test_ndarray_and_shape() -> None:
    array = np.zeros((2, 3), np.float32)
    assert get_ndarray(array) is array
    assert get_ndarray([1, 2]).tolist() == [1, 2]
    assert get_ndarray(ov.Tensor(array)).shape == (2, 3)
    assert get_shape(array) == (2, 3) and get_shape([1, 2, 3]) == [3] and get_shape(1.0) == []


def test_unknown_types_raise_a_typed_type_error() -> None:
    with pytest.raises(TypeError) as info:
        get_element_type(complex)
    assert isinstance(info.value, ov.OvliteError) and "complex" in str(info.value)
    with pytest.raises(TypeError, match="onnx.helper"):
        make_constant_node(np.zeros(2))


def test_importable_as_in_openvino_programs() -> None:
    assert ov.utils.types.get_dtype is get_dtype


def test_same_answers_as_openvino() -> None:
    openvino = pytest.importorskip("openvino")
    from openvino.utils import types as theirs

    for data_type in (
        int,
        float,
        np.float32,
        np.float16,
        np.int8,
        np.uint8,
        np.int64,
        np.uint64,
        bool,
    ):
        assert get_element_type_str(data_type) == theirs.get_element_type_str(data_type)
    for name in ("f32", "f16", "i8", "u8", "i32", "i64", "u64", "boolean"):
        assert get_dtype(ov.Type.parse(name)) == theirs.get_dtype(
            openvino.Type(np.dtype(get_dtype(ov.Type.parse(name))))
        )
