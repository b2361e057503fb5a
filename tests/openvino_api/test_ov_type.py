"""Type: built from numpy types, static/dynamic, compatible/merge, to_dtype, packed and string types."""

from __future__ import annotations

import numpy as np
import pytest

import ovlite as ov

NAMES = [
    "f32", "f16", "bf16", "f64", "i4", "i8", "i16", "i32", "i64", "u1", "u4", "u8", "u16",
    "u32", "u64", "boolean", "string", "nf4", "f8e4m3", "f8e5m2", "f4e2m1", "f8e8m0",
]  # fmt: skip


def test_type_of_a_numpy_type_is_the_shared_type_object() -> None:
    assert ov.Type(np.float32) is ov.Type.f32 and ov.Type(np.dtype("int64")) is ov.Type.i64
    assert ov.Type(np.bool_) is ov.Type.boolean and ov.Type(ov.Type.u8) is ov.Type.u8
    for string_type in (np.bytes_, np.str_, str, bytes, np.dtype("U5"), np.dtype("S3")):
        assert ov.Type(string_type) is ov.Type.string
    assert hash(ov.Type(np.float32)) == hash(ov.Type.f32)
    assert repr(ov.Type.f32) == "<Type: 'float32'>" and str(ov.Type.f32) == "f32"


def test_static_dynamic_compatible_and_merge() -> None:
    assert ov.Type.f32.is_static() and not ov.Type.f32.is_dynamic()
    assert ov.Type.dynamic.is_dynamic() and not ov.Type.dynamic.is_static()
    assert ov.Type.f32.compatible(ov.Type.dynamic) and not ov.Type.f32.compatible(ov.Type.i32)
    assert ov.Type.f32.merge(ov.Type.dynamic) is ov.Type.f32
    assert ov.Type.dynamic.merge(ov.Type.i8) is ov.Type.i8
    assert ov.Type.f32.merge(ov.Type.i32) is None


def test_to_dtype_gives_the_storage_numpy_uses() -> None:
    assert ov.Type.f32.to_dtype() == np.float32 and ov.Type.bf16.to_dtype() == np.float16
    assert ov.Type.string.to_dtype() == np.bytes_
    assert ov.Type.u1.to_dtype() == np.uint8 and ov.Type.i4.to_dtype() == np.int8
    with pytest.raises(RuntimeError, match="dynamic"):
        ov.Type.dynamic.to_dtype()


def test_onnx_element_types_map_to_types() -> None:
    onnx_numbers = {"u4": 21, "i4": 22, "bf16": 16, "f8e4m3": 17, "f8e5m2": 19, "string": 8}
    for name, number in onnx_numbers.items():
        assert ov.Type.from_onnx(number) is ov.Type.parse(name)
    assert ov.Type.u1.onnx_type == -1 and ov.Type.nf4.onnx_type == -1  # ONNX has neither


def test_an_unknown_type_is_named_in_a_runtime_error() -> None:
    with pytest.raises(RuntimeError, match="complex64"):
        ov.Type(np.complex64)
    with pytest.raises(RuntimeError, match="'f33'"):
        ov.Type("f33")


@pytest.mark.parametrize("name", NAMES)
def test_each_type_answers_like_openvino(name: str) -> None:
    openvino = pytest.importorskip("openvino")
    ours, theirs = getattr(ov.Type, name), getattr(openvino.Type, name)
    assert repr(ours) == repr(theirs) and ours.get_type_name() == theirs.get_type_name()
    assert (ours.bitwidth, ours.size, ours.get_size()) == (
        theirs.bitwidth,
        theirs.size,
        theirs.get_size(),
    )
    for method in ("is_real", "is_integral", "is_signed", "is_quantized", "is_integral_number"):
        assert getattr(ours, method)() == getattr(theirs, method)(), method
    assert ours.to_dtype() == theirs.to_dtype()
