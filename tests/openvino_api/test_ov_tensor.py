"""Tensor: openvino's constructors, shape as Shape, strides, regions, copies, packed types."""

from __future__ import annotations

import numpy as np
import pytest

import ovlite as ov
from ovlite import models


def test_type_and_shape_keywords_allocate_zeros_with_a_list_comparable_shape() -> None:
    tensor = ov.Tensor(type=ov.Type.f32, shape=[1, 3])
    assert isinstance(tensor.shape, ov.Shape)
    assert tensor.shape == [1, 3] and tensor.shape == (1, 3) and str(tensor.shape) == "[1,3]"
    assert tensor.get_size() == 3 and tensor.get_byte_size() == 12
    assert tensor.strides == [12, 4] and tensor.is_continuous()
    from_numpy_shape = ov.Tensor(type=np.dtype(np.int16), shape=np.array([2, 3]))
    assert from_numpy_shape.shape == [2, 3] and from_numpy_shape.data.dtype == np.int16
    assert not tensor.data.any() and repr(tensor) == "<Tensor: shape[1,3] type: f32>"
    assert ov.Tensor(np.float32, (2,)).element_type == ov.Type.f32


def test_array_shape_and_type_share_the_arrays_memory() -> None:
    raw = np.arange(4, dtype=np.uint8)
    tensor = ov.Tensor(raw, ov.Shape([2, 2]), ov.Type.u8)
    assert tensor.shape == [2, 2] and tensor.element_type == ov.Type.u8
    tensor.data[0, 0] = 9
    assert raw[0] == 9


def test_bf16_tensors_hold_16_bit_words() -> None:
    tensor = ov.Tensor(np.zeros(6, dtype=np.uint16), [2, 3], ov.Type.bf16)
    assert tensor.element_type == ov.Type.bf16 and tensor.data.dtype == np.float16
    assert tensor.get_byte_size() == 12 and tensor.shape == [2, 3]
    assert ov.Tensor(ov.Type.bf16, [2]).element_type == ov.Type.bf16


@pytest.mark.parametrize(
    ("element_type", "count", "nbytes"),
    [(ov.Type.u1, 8, 1), (ov.Type.u1, 9, 2), (ov.Type.u4, 3, 2), (ov.Type.i4, 4, 2)],
)
def test_packed_types_count_elements_and_whole_bytes(element_type, count, nbytes) -> None:
    tensor = ov.Tensor(element_type, [count])
    assert tensor.get_size() == count and tensor.size == count
    assert tensor.get_byte_size() == nbytes and tensor.data.nbytes == nbytes
    assert tensor.shape == [count] and tensor.element_type == element_type
    packed = ov.Tensor(np.zeros(nbytes, dtype=np.uint8), [count], element_type)
    assert packed.get_size() == count and packed.get_byte_size() == nbytes


def test_a_region_shares_memory_and_is_not_continuous() -> None:
    whole = ov.Tensor(np.arange(12, dtype=np.float32).reshape(3, 4))
    region = ov.Tensor(whole, [0, 1], [2, 3])
    assert region.shape == [2, 2] and region.get_size() == 4 and region.get_byte_size() == 16
    assert region.strides == [16, 4] and not region.is_continuous()
    region.data[0, 0] = 100
    assert whole.data[0, 1] == 100
    target = ov.Tensor(ov.Type.f32, [2, 2])
    region.copy_to(target)
    assert target.data.tolist() == [[100, 2], [5, 6]] and target.is_continuous()


def test_copy_to_and_copy_from_check_the_type() -> None:
    source = ov.Tensor(np.ones((2, 2), dtype=np.float32))
    target = ov.Tensor(ov.Type.f32, [4])
    source.copy_to(target)  # the target takes the source's shape
    assert target.shape == [2, 2] and target.data.sum() == 4
    target.copy_from(np.zeros((2, 2), dtype=np.float32))
    assert target.data.sum() == 0
    with pytest.raises(RuntimeError, match="i32"):
        source.copy_to(ov.Tensor(ov.Type.i32, [2, 2]))


def test_a_tensor_for_a_port_takes_its_type_and_static_shape() -> None:
    port = ov.read_model(models.tiny_mlp(batch=2)).input(0)
    tensor = ov.Tensor(port)
    assert tensor.element_type == port.element_type and tensor.shape == list(port.shape)
    assert ov.Tensor(port, np.ones(list(port.shape), np.float32)).element_type == ov.Type.f32
    dynamic = ov.read_model(models.tiny_mlp(batch=None)).input(0)
    assert ov.Tensor(dynamic).shape == [0]  # openvino's choice for a dynamic port
    with pytest.warns(RuntimeWarning, match="larger"):
        ov.Tensor(port, np.ones([4, 16], np.float32))
    with pytest.raises(RuntimeError, match="needs f32"):
        ov.Tensor(port, np.ones([1, 16], np.float32))


def test_a_tensor_over_shared_memory_may_shrink_but_not_grow() -> None:
    array = np.ones((1, 3, 32, 32), np.float32)
    tensor = ov.Tensor(array, shared_memory=True)
    tensor.shape = [1, 3, 24, 24]
    assert tensor.shape == [1, 3, 24, 24] and np.shares_memory(tensor.data, array)
    with pytest.raises(RuntimeError, match="failed"):
        tensor.shape = [1, 3, 48, 48]
    owned = ov.Tensor(np.float32, [1, 3, 48, 48])
    owned.shape = [3, 64, 64]  # a tensor that owns its memory reallocates
    assert owned.shape == [3, 64, 64] and owned.data.shape == (3, 64, 64)


@pytest.mark.parametrize("element_type", [ov.Type.u1, ov.Type.u4, ov.Type.i4])
def test_packed_tensors_have_no_strides_or_regions(element_type) -> None:
    tensor = ov.Tensor(element_type, [1, 3, 48, 48])
    with pytest.raises(RuntimeError, match="no strides"):
        tensor.get_strides()
    with pytest.raises(RuntimeError, match="8 bits"):
        ov.Tensor(tensor, [0, 0, 24, 24], [1, 3, 48, 48])


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.uint32, np.uint64])
@pytest.mark.parametrize("element_type", [ov.Type.u1, ov.Type.u4, ov.Type.i4])
def test_packed_tensors_view_any_buffer(dtype, element_type) -> None:
    shape = [1, 3, 32, 32]
    per_item = np.dtype(dtype).itemsize * 8 // element_type.bitwidth
    buffer = np.arange(int(np.prod(shape)) // per_item).astype(dtype)
    tensor = ov.Tensor(buffer, shape, element_type)
    assert tensor.data.nbytes == tensor.byte_size and np.array_equal(
        tensor.data.view(dtype), buffer
    )


def test_a_view_reinterprets_the_buffer() -> None:
    buffer = np.arange(32, dtype=np.float32).reshape(2, 16)
    as_bytes = ov.Tensor(buffer, (2, 64), ov.Type.u8)
    assert np.array_equal(as_bytes.data, buffer.view(np.uint8))
    assert np.array_equal(ov.Tensor(buffer, (4, 8)).data, buffer.reshape(4, 8))


def test_string_tensors_read_as_str_and_bytes() -> None:
    tensor = ov.Tensor(np.array(["ab", "c"]))
    assert tensor.element_type == ov.Type.string
    assert tensor.str_data.tolist() == ["ab", "c"] and tensor.bytes_data.tolist() == [b"ab", b"c"]


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda: ov.Tensor([1, 2]), "list"),
        (lambda: ov.Tensor(type=ov.Type.f32), "shape"),
        (lambda: ov.Tensor(np.zeros(3, np.float32), [2, 2], ov.Type.f32), "3 float32"),
        (lambda: ov.Tensor(ov.Tensor(np.zeros((2, 2))), [0, 0], [3, 1]), "end=\\[3, 1\\]"),
        (lambda: ov.Tensor(ov.Type.f32, [2, -1]), "-1"),
        (lambda: ov.Tensor(np.zeros(1, np.uint8), [9], "u1"), "2 bytes"),
    ],
)
def test_bad_arguments_raise_runtime_errors_naming_the_value(build, words) -> None:
    with pytest.raises(RuntimeError, match=words):
        build()


def test_sizes_match_openvino() -> None:
    openvino = pytest.importorskip("openvino")
    for name, shape in [("f32", [2, 3]), ("u1", [9]), ("u4", [3]), ("i4", [4]), ("bf16", [2])]:
        ours = ov.Tensor(ov.Type.parse(name), shape)
        theirs = openvino.Tensor(getattr(openvino.Type, name), shape)
        assert (ours.get_size(), ours.get_byte_size()) == (
            theirs.get_size(),
            theirs.get_byte_size(),
        )
        assert ours.data.dtype == theirs.data.dtype and ours.data.shape == theirs.data.shape
        assert ours.shape == list(theirs.shape)
    assert ov.Tensor(ov.Type.f32, [2, 3]).strides == list(
        openvino.Tensor(openvino.Type.f32, [2, 3]).strides
    )
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    ours = ov.Tensor(ov.Tensor(array), [0, 1], [2, 3])
    theirs = openvino.Tensor(openvino.Tensor(array), [0, 1], [2, 3])
    assert ours.strides == list(theirs.strides) and ours.is_continuous() == theirs.is_continuous()


def test_pack_data_puts_the_first_value_in_the_high_bits_and_unpack_data_reverses_it() -> None:
    assert ov.helpers.pack_data(np.array([7, 8]), ov.Type.u4).tolist() == [0x78]
    assert ov.helpers.pack_data(np.array([1, 0, 1]), ov.Type.u1).tolist() == [0b10100000]
    signed = np.array([[-8, 7, -1]], np.int8)
    packed = ov.helpers.pack_data(signed, ov.Type.i4)
    assert ov.helpers.unpack_data(packed, ov.Type.i4, [1, 3]).tolist() == signed.tolist()
    values = np.random.default_rng(0).integers(0, 16, size=(1, 3, 27, 27)).astype(np.uint8)
    tensor = ov.Tensor(ov.Type.u4, values.shape)
    tensor.data[:] = ov.helpers.pack_data(values, tensor.element_type)
    assert np.array_equal(ov.helpers.unpack_data(tensor.data, ov.Type.u4, tensor.shape), values)


def test_pack_data_refuses_values_the_type_cannot_hold_and_types_it_cannot_pack() -> None:
    with pytest.raises(ov.ArgumentError, match=r"16.*u4.*0\.\.15"):
        ov.helpers.pack_data(np.array([16]), ov.Type.u4)
    with pytest.raises(ov.ArgumentError, match="f32"):
        ov.helpers.pack_data(np.array([1.0]), ov.Type.f32)


def test_a_port_tensor_over_an_array_of_another_type_warns_and_views_its_bytes() -> None:
    model = ov.read_model(models.tiny_mlp(batch=1))  # x: f32 [1, 16]
    raw = np.ones(64, np.uint8)
    with pytest.warns(RuntimeWarning, match="uint8.*f32"):
        tensor = ov.Tensor(model.input(0), raw)
    assert tensor.element_type == ov.Type.f32 and np.shares_memory(tensor.data, raw)
