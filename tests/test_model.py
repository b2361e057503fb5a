from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import ovlite as ov
from ovlite import models


def test_read_from_path_bytes_and_proto(tmp_path: Path) -> None:
    proto = models.two_inputs()
    path = tmp_path / "two.onnx"
    onnx.save(proto, path)
    for source in (str(path), path, proto.SerializeToString(), proto):
        model = ov.read_model(source)
        assert [p.any_name for p in model.inputs] == ["a", "b"]
        assert [p.get_any_name() for p in model.outputs] == ["sum", "scaled"]
    assert ov.read_model(path).path == str(path)
    assert ov.Core().read_model(path).friendly_name == "two_inputs"


def test_ports_show_types_and_dynamic_dimensions(two_inputs_model: ov.Model) -> None:
    a, b = two_inputs_model.inputs
    assert a.element_type == ov.Type.f32 and b.element_type == ov.Type.i64
    assert a.element_type == np.float32
    assert a.shape.is_dynamic and list(a.shape) == [-1, 4]
    assert str(a.shape) == "[?,4]"
    assert a.shape.names == ("batch", None)
    assert two_inputs_model.input("b") is b
    assert two_inputs_model.input(1) is b
    assert two_inputs_model.input(b) is b
    assert two_inputs_model.output("scaled").shape.accepts((7, 3))
    assert a.get_names() == {"a"}


def test_unknown_port_names_the_choices(two_inputs_model: ov.Model) -> None:
    with pytest.raises(ov.InputNameError, match="'c'.*'a', 'b'"):
        two_inputs_model.input("c")
    with pytest.raises(ov.InputNameError, match="index 5"):
        two_inputs_model.output(5)


def test_reshape_fixes_dimensions_and_updates_outputs() -> None:
    model = ov.read_model(models.two_inputs())
    model.reshape({"a": [3, 4], "b": [3, 4]})
    assert model.input("a").shape.is_static and model.input("a").shape.to_shape() == (3, 4)
    assert model.output("scaled").shape.to_shape() == (3, 3)
    single = ov.read_model(models.tiny_mlp(batch=None))
    single.reshape([8, 16])
    assert single.output(0).shape.to_shape() == (8, 8)
    single.reshape(["?", 16])
    assert single.input(0).shape.is_dynamic
    with pytest.raises(ov.ModelError, match="rank"):
        single.reshape([1, 2, 3])
    with pytest.raises(ov.ModelError, match="dict"):
        model.reshape([1, 4])


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (b"this is not an onnx file at all", "not a valid ONNX model"),
        (models.tiny_mlp().SerializeToString()[:200], "ONNX"),
    ],
)
def test_bad_model_files_name_the_file_and_the_problem(
    tmp_path: Path, content: bytes, words: str
) -> None:
    path = tmp_path / "broken.onnx"
    path.write_bytes(content)
    with pytest.raises(ov.ModelError) as info:
        ov.read_model(path)
    assert str(path) in str(info.value)
    assert words in str(info.value)


def test_missing_file_and_wrong_type() -> None:
    with pytest.raises(ov.ModelError, match="no such file"):
        ov.read_model("/nonexistent/model.onnx")
    with pytest.raises(
        ov.ModelTypeError,
        match=r"bytes, a binary file object or an onnx.ModelProto, not <class 'int'> \('12'\)",
    ):
        ov.read_model(12)  # type: ignore[arg-type]


def test_unsupported_opset_is_a_model_error() -> None:
    node = helper.make_node("Relu", ["x"], ["y"])
    graph = helper.make_graph(
        [node],
        "future",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 999)])
    with pytest.raises(ov.ModelError, match="opset|999"):
        ov.read_model(model)


def test_tensor_interface() -> None:
    source = np.arange(6, dtype=np.float32).reshape(2, 3)
    copied = ov.Tensor(source)
    copied.data[0, 0] = 42
    assert source[0, 0] == 0  # Tensor(array) copies, as in openvino
    shared = ov.Tensor(source, shared_memory=True)
    shared.data[0, 0] = 7
    assert source[0, 0] == 7
    assert shared.shape == (2, 3) and shared.get_size() == 6 and shared.element_type == ov.Type.f32
    empty = ov.Tensor(ov.Type.i64, [4])
    assert empty.data.dtype == np.int64 and empty.get_shape() == (4,)
    empty.shape = [2, 2]
    assert empty.data.shape == (2, 2)
    with pytest.raises(ov.InputTypeError, match="numpy array"):
        ov.Tensor("text")


def test_device_tensors_are_checked_but_passed_on_uncopied() -> None:
    ort = pytest.importorskip("onnxruntime")
    from ovlite.binding import InputChecker

    model = ov.Core().read_model(models.two_inputs())
    checker = InputChecker(model.inputs)
    a = ort.OrtValue.ortvalue_from_numpy(np.zeros((3, 4), np.float32))
    b = np.zeros((3, 4), np.int64)
    checked = checker.check_all({"a": a, "b": b})
    assert checked[0] is a  # not converted to numpy, not copied
    with pytest.raises(ov.errors.InputShapeError, match="'b'"):
        checker.check_all({"a": a, "b": np.zeros((2, 4), np.int64)})  # batch shared with a
    wrong = ort.OrtValue.ortvalue_from_numpy(np.zeros((3, 4), np.float64))
    with pytest.raises(ov.errors.InputTypeError, match="'a'.*device tensor"):
        checker.check_all({"a": wrong, "b": b})
