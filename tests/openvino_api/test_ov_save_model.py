"""ov.save_model / ov.serialize write ONNX; OpenVINO IR is refused with a clear typed error."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

import ovlite as ov
from ovlite import models
from ovlite.preprocess import PrePostProcessor, ResizeAlgorithm


@pytest.fixture
def model() -> ov.Model:
    return ov.read_model(models.resnet18(batch=1, image_size=32, num_classes=10))


def infer(model, x):
    return ov.Core().compile_model(model, "CPU")(x)[0]


def test_save_model_compresses_weights_to_fp16_by_default(model, tmp_path) -> None:
    x = np.random.default_rng(0).random((1, 3, 32, 32), dtype=np.float32)
    ov.save_model(model, tmp_path / "half.onnx")
    ov.save_model(model, str(tmp_path / "full.onnx"), compress_to_fp16=False)
    half, full = (tmp_path / "half.onnx").stat().st_size, (tmp_path / "full.onnx").stat().st_size
    assert half < 0.6 * full
    types = {i.data_type for i in onnx.load(tmp_path / "half.onnx").graph.initializer}
    assert onnx.TensorProto.FLOAT16 in types and onnx.TensorProto.FLOAT not in types
    reloaded = ov.read_model(tmp_path / "half.onnx")
    assert reloaded.input().element_type == ov.Type.f32  # the computation stays f32
    expected = infer(model, x)
    np.testing.assert_array_equal(infer(ov.read_model(tmp_path / "full.onnx"), x), expected)
    np.testing.assert_allclose(infer(reloaded, x), expected, rtol=1e-2, atol=1e-2)


def test_serialize_writes_the_model_as_it_is(model, tmp_path) -> None:
    ov.serialize(model, tmp_path / "m.onnx")
    saved = onnx.load(tmp_path / "m.onnx")
    assert [i.name for i in saved.graph.initializer] == [
        i.name for i in model.proto.graph.initializer
    ]


def test_preprocessing_and_layouts_survive_a_round_trip(model, tmp_path) -> None:
    ppp = PrePostProcessor(model)
    ppp.input().tensor().set_element_type(ov.Type.u8).set_layout("NHWC").set_spatial_static_shape(
        40, 40
    )
    ppp.input().preprocess().resize(ResizeAlgorithm.RESIZE_LINEAR)
    ppp.input().model().set_layout("NCHW")
    ppp.build()
    ov.layout_helpers.set_layout(model.output(), "NC")
    ov.save_model(model, tmp_path / "pre.onnx", compress_to_fp16=False)
    reloaded = ov.Core().read_model(tmp_path / "pre.onnx")
    assert reloaded.input().element_type == ov.Type.u8 and list(reloaded.input().partial_shape) == [
        1,
        40,
        40,
        3,
    ]
    assert ov.layout_helpers.get_layout(reloaded.input()) == "NHWC"
    assert ov.layout_helpers.get_layout(reloaded.output()) == "NC"
    image = np.random.default_rng(1).integers(0, 256, (1, 40, 40, 3), dtype=np.uint8)
    np.testing.assert_array_equal(infer(reloaded, image), infer(model, image))


@pytest.mark.parametrize("name", ["model.xml", "model.bin"])
def test_openvino_ir_is_refused_naming_the_converter(model, tmp_path, name) -> None:
    path = tmp_path / name
    path.write_text("<?xml version='1.0'?><net name='m' version='11'></net>")
    for call in (lambda: ov.read_model(path), lambda: ov.Core().read_model(str(path), "model.bin")):
        with pytest.raises(RuntimeError) as info:
            call()
        assert isinstance(info.value, ov.UnsupportedModelFormatError)
        assert "OpenVINO IR" in str(info.value) and "torch.onnx.export" in str(info.value)
    with pytest.raises(ov.UnsupportedModelFormatError, match=r"\.onnx"):
        ov.save_model(model, path)
    with pytest.raises(ov.UnsupportedModelFormatError, match=r"\.onnx"):
        ov.serialize(model, tmp_path / "m.xml")


def test_ir_bytes_are_refused_too() -> None:
    with pytest.raises(ov.UnsupportedModelFormatError, match="OpenVINO IR"):
        ov.Core().read_model(b'<net name="add_model" version="10"><layers/></net>')


def test_openvino_reads_what_save_model_wrote(model, tmp_path) -> None:
    openvino = pytest.importorskip("openvino")
    ov.save_model(model, tmp_path / "m.onnx", compress_to_fp16=False)
    x = np.random.default_rng(2).random((1, 3, 32, 32), dtype=np.float32)
    theirs = openvino.Core().compile_model(
        openvino.Core().read_model(tmp_path / "m.onnx"), "CPU", {"INFERENCE_PRECISION_HINT": "f32"}
    )(x)[0]
    np.testing.assert_allclose(infer(model, x), theirs, rtol=1e-4, atol=1e-4)
