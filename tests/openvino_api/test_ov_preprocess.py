"""ov.preprocess.PrePostProcessor: steps built into the ONNX graph, checked against numpy and,
where installed, against openvino itself (at f32)."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

import ovlite as ov
from ovlite import models
from ovlite.preprocess import ColorFormat, PaddingMode, PrePostProcessor, ResizeAlgorithm


def relu_model(shape=(1, 3, 8, 8), elem_type=TensorProto.FLOAT) -> ov.Model:
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "relu",
        [helper.make_tensor_value_info("x", elem_type, list(shape))],
        [helper.make_tensor_value_info("y", elem_type, list(shape))],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    return ov.read_model(proto)


def run(model: ov.Model, x: np.ndarray, device: str = "CPU") -> np.ndarray:
    return ov.Core().compile_model(model, device)(x)[0]


def op_types(model: ov.Model) -> list[str]:
    return [node.op_type for node in model.proto.graph.node]


def test_layout_and_element_type_become_cast_and_transpose_in_the_graph() -> None:
    model = relu_model()
    ppp = PrePostProcessor(model)
    ppp.input().tensor().set_element_type(ov.Type.u8).set_layout(ov.Layout("NHWC"))
    ppp.input().model().set_layout(ov.Layout("NCHW"))
    port = model.input()
    assert ppp.build() is model  # in place, as openvino does
    assert op_types(model)[:2] == ["Cast", "Transpose"]
    assert port.element_type == ov.Type.u8 and list(port.partial_shape) == [1, 8, 8, 3]
    assert ov.layout_helpers.get_layout(model.input()) == "NHWC"
    assert model.output().element_type == ov.Type.f32
    x = np.random.default_rng(0).integers(0, 255, (1, 8, 8, 3), dtype=np.uint8)
    np.testing.assert_array_equal(run(model, x), x.transpose(0, 3, 1, 2).astype(np.float32))


def test_mean_and_scale_per_channel_and_scalar() -> None:
    model = relu_model()
    ppp = PrePostProcessor(model)
    ppp.input().tensor().set_layout("NCHW")
    ppp.input().preprocess().mean([1.0, 2.0, 3.0]).scale([2.0, 4.0, 8.0]).mean(-100.0)
    ppp.build()
    x = np.random.default_rng(1).random((1, 3, 8, 8), dtype=np.float32) * 10
    expected = (x - np.array([1, 2, 3], np.float32).reshape(1, 3, 1, 1)) / np.array(
        [2, 4, 8], np.float32
    ).reshape(1, 3, 1, 1) + 100
    np.testing.assert_allclose(run(model, x), expected, rtol=1e-6)


def test_reverse_channels_and_bgr_to_rgb() -> None:
    for configure in (
        lambda p: p.input().preprocess().reverse_channels(),
        lambda p: (
            p.input().tensor().set_color_format(ColorFormat.BGR),
            p.input().preprocess().convert_color(ColorFormat.RGB),
        ),
    ):
        model = relu_model()
        ppp = PrePostProcessor(model)
        ppp.input().tensor().set_layout("NCHW")
        configure(ppp)
        ppp.build()
        x = np.arange(192, dtype=np.float32).reshape(1, 3, 8, 8)
        np.testing.assert_array_equal(run(model, x), x[:, ::-1])


def test_resize_nearest_to_the_model_size() -> None:
    model = relu_model()
    ppp = PrePostProcessor(model)
    ppp.input().tensor().set_layout("NCHW").set_spatial_static_shape(4, 4)
    ppp.input().preprocess().resize(ResizeAlgorithm.RESIZE_NEAREST)
    ppp.build()
    assert "Resize" in op_types(model) and list(model.input().partial_shape) == [1, 3, 4, 4]
    x = np.arange(48, dtype=np.float32).reshape(1, 3, 4, 4)
    np.testing.assert_array_equal(run(model, x), x.repeat(2, axis=2).repeat(2, axis=3))


def test_spatial_dynamic_shape_takes_any_image_size() -> None:
    model = relu_model()
    ppp = PrePostProcessor(model)
    ppp.input().tensor().set_layout("NHWC").set_spatial_dynamic_shape()
    ppp.input().preprocess().resize(ResizeAlgorithm.RESIZE_CUBIC)
    ppp.input().model().set_layout("NCHW")
    ppp.build()
    assert list(model.input().partial_shape) == [1, -1, -1, 3]
    compiled = ov.Core().compile_model(model, "CPU")
    for size in ((5, 7), (20, 11)):
        assert compiled(np.ones((1, *size, 3), np.float32))[0].shape == (1, 3, 8, 8)


def test_convert_layout_by_order_and_crop_and_pad() -> None:
    model = relu_model()
    ppp = PrePostProcessor(model)
    ppp.input().preprocess().convert_layout([0, 2, 3, 1])
    ppp.build()
    assert list(model.input().partial_shape) == [1, 8, 3, 8]
    x = np.random.default_rng(2).random((1, 8, 3, 8), dtype=np.float32)
    np.testing.assert_array_equal(run(model, x), x.transpose(0, 2, 3, 1))

    model = relu_model()
    ppp = PrePostProcessor(model)
    ppp.input().tensor().set_shape([1, 3, 10, 10])
    ppp.input().preprocess().crop([0, 0, 1, 2], [1, 3, 9, 10])
    ppp.build()
    x = np.random.default_rng(3).random((1, 3, 10, 10), dtype=np.float32)
    np.testing.assert_array_equal(run(model, x), x[:, :, 1:9, 2:10])

    model = relu_model()
    ppp = PrePostProcessor(model)
    ppp.input().preprocess().pad([0, 0, 1, 1], [0, 0, 1, 1], 0.5, PaddingMode.CONSTANT)
    ppp.build()
    assert list(model.input().partial_shape) == [1, 3, 6, 6]  # the model's shape less the pads
    y = run(model, np.ones((1, 3, 6, 6), np.float32))
    assert y[0, 0, 0, 0] == 0.5 and y[0, 0, 1, 1] == 1.0


def test_output_element_type_and_layout() -> None:
    model = relu_model()
    ppp = PrePostProcessor(model)
    ppp.output().model().set_layout("NCHW")
    ppp.output().tensor().set_layout("NHWC").set_element_type(ov.Type.f16)
    ppp.build()
    assert model.output().element_type == ov.Type.f16 and list(model.output().partial_shape) == [
        1,
        8,
        8,
        3,
    ]
    assert model.output().any_name == "y"
    x = np.random.default_rng(4).random((1, 3, 8, 8), dtype=np.float32)
    y = run(model, x)
    assert y.dtype == np.float16
    np.testing.assert_array_equal(y, x.transpose(0, 2, 3, 1).astype(np.float16))


def test_custom_steps_add_onnx_nodes() -> None:
    model = relu_model()
    ppp = PrePostProcessor(model)
    ppp.input().preprocess().custom(lambda step: step.add_node("Neg", [step.input]))
    ppp.output().postprocess().custom(
        lambda step: step.add_node("Add", [step.input, step.add_constant(np.float32(1))])
    )
    ppp.build()
    x = np.random.default_rng(5).random((1, 3, 8, 8), dtype=np.float32) - 0.5
    np.testing.assert_array_equal(run(model, x), np.maximum(-x, 0) + 1)


def test_set_from_takes_shape_and_type_from_an_array() -> None:
    model = relu_model()
    ppp = PrePostProcessor(model)
    ppp.input().tensor().set_from(np.zeros((1, 16, 16, 3), np.uint8)).set_layout("NHWC")
    ppp.input().preprocess().resize(ResizeAlgorithm.RESIZE_LINEAR)
    ppp.input().model().set_layout("NCHW")
    ppp.build()
    assert model.input().element_type == ov.Type.u8 and list(model.input().partial_shape) == [
        1,
        16,
        16,
        3,
    ]


def test_description_lists_the_steps_like_openvino() -> None:
    ppp = PrePostProcessor(relu_model((1, 3, 224, 224)))
    ppp.input().tensor().set_layout(ov.Layout("NHWC")).set_element_type(ov.Type.u8)
    ppp.input().tensor().set_spatial_dynamic_shape()
    ppp.input().preprocess().convert_element_type(ov.Type.f32).reverse_channels()
    ppp.input().preprocess().mean([1, 2, 3]).scale([4, 5, 6])
    ppp.input().preprocess().resize(ResizeAlgorithm.RESIZE_LINEAR)
    ppp.input().model().set_layout(ov.Layout("NCHW"))
    text = str(ppp)
    for expected in (
        "Pre-processing steps (5):",
        "convert type (f32):",
        "reverse channels:",
        "mean (1,2,3):",
        "scale (4,5,6):",
        "resize to model width/height",
        "Implicit pre-processing steps (1):",
        "convert layout [N,C,H,W]",
        "[1,?,?,3], [N,H,W,C], u8",
    ):
        assert expected in text, text


@pytest.mark.parametrize(
    ("configure", "message"),
    [
        (
            lambda p: (
                p.input().tensor().set_element_type(ov.Type.u8),
                p.input().preprocess().mean(1.0),
            ),
            "convert_element_type",
        ),
        (lambda p: p.input().preprocess().mean([1.0, 2.0, 3.0]), "layout with dimension 'C'"),
        (
            lambda p: (
                p.input().tensor().set_layout("NCHW"),
                p.input().preprocess().mean([1.0, 2.0]),
            ),
            "2 values for 3 channels",
        ),
        (
            lambda p: p.input().preprocess().resize(ResizeAlgorithm.RESIZE_LINEAR),
            "layout with dimension 'H'",
        ),
        (lambda p: p.input().preprocess().reverse_channels(), "layout with dimension 'C'"),
        (
            lambda p: (
                p.input().tensor().set_layout("NCHW").set_color_format(ColorFormat.RGB),
                p.input().preprocess().convert_color(ColorFormat.NV12_SINGLE_PLANE),
            ),
            "is not convertible to",
        ),
        (
            lambda p: p.input().tensor().set_layout("NCHW").set_spatial_static_shape(4, 4),
            "expects [1,3,8,8]",
        ),
        (lambda p: p.input().tensor().set_layout("NC"), "rank"),
    ],
)
def test_impossible_steps_raise_a_typed_error_naming_the_problem(configure, message) -> None:
    ppp = PrePostProcessor(relu_model())
    configure(ppp)
    with pytest.raises(RuntimeError) as info:
        ppp.build()
    assert isinstance(info.value, ov.OvliteError) and message in str(info.value)


def test_bad_input_name_or_index() -> None:
    ppp = PrePostProcessor(relu_model())
    with pytest.raises(ov.InputNameError, match="'zz'"):
        ppp.input("zz")
    with pytest.raises(RuntimeError, match="index 3"):
        ppp.input(3)
    with pytest.raises(ov.PreprocessError, match="'a', 'b'"):
        PrePostProcessor(ov.read_model(models.two_inputs())).input()


def _classifier_pipeline(ov_module, model):
    ppp = ov_module.preprocess.PrePostProcessor(model)
    ppp.input().tensor().set_element_type(ov_module.Type.u8).set_layout(ov_module.Layout("NHWC"))
    ppp.input().tensor().set_spatial_static_shape(48, 40)
    ppp.input().preprocess().convert_element_type(ov_module.Type.f32)
    ppp.input().preprocess().resize(ov_module.preprocess.ResizeAlgorithm.RESIZE_LINEAR)
    ppp.input().preprocess().mean([123.675, 116.28, 103.53]).scale([58.395, 57.12, 57.375])
    ppp.input().model().set_layout(ov_module.Layout("NCHW"))
    ppp.output().tensor().set_element_type(ov_module.Type.f32)
    return ppp.build()


@pytest.fixture(scope="module")
def classifier() -> bytes:
    return models.resnet18(batch=1, image_size=32, num_classes=10).SerializeToString()


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return np.random.default_rng(6).integers(0, 256, (1, 48, 40, 3), dtype=np.uint8)


@pytest.mark.parametrize("device", ["CPU", "AUTO", "MULTI:CPU", "BATCH:CPU(2)"])
def test_the_built_pipeline_runs_the_same_on_every_device(classifier, image, device) -> None:
    model = _classifier_pipeline(ov, ov.read_model(classifier))
    reference = run(_classifier_pipeline(ov, ov.read_model(classifier)), image)
    np.testing.assert_array_equal(run(model, image, device), reference)


def test_pipeline_matches_openvino_at_f32(classifier, image) -> None:
    openvino = pytest.importorskip("openvino")
    theirs_model = _classifier_pipeline(openvino, openvino.Core().read_model(classifier, b""))
    theirs = openvino.Core().compile_model(
        theirs_model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"}
    )(image)[0]
    ours_model = _classifier_pipeline(ov, ov.read_model(classifier))
    assert list(ours_model.input().partial_shape) == [
        int(d) for d in theirs_model.input().partial_shape.to_shape()
    ]
    assert str(ours_model.input().element_type) == "u8"
    np.testing.assert_allclose(run(ours_model, image), theirs, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "algorithm",
    [ResizeAlgorithm.RESIZE_LINEAR, ResizeAlgorithm.RESIZE_CUBIC, ResizeAlgorithm.RESIZE_NEAREST],
)
def test_resize_matches_openvino_at_f32(algorithm) -> None:
    openvino = pytest.importorskip("openvino")
    x = np.random.default_rng(7).random((1, 19, 13, 3), dtype=np.float32) * 255
    results = []
    for module in (openvino, ov):
        model = relu_model()
        if module is openvino:
            model = openvino.Core().read_model(model.to_bytes(), b"")
        ppp = module.preprocess.PrePostProcessor(model)
        ppp.input().tensor().set_layout(module.Layout("NHWC")).set_spatial_dynamic_shape()
        ppp.input().preprocess().resize(getattr(module.preprocess.ResizeAlgorithm, algorithm.name))
        ppp.input().model().set_layout(module.Layout("NCHW"))
        config = {"INFERENCE_PRECISION_HINT": "f32"} if module is openvino else {}
        results.append(module.Core().compile_model(ppp.build(), "CPU", config)(x)[0])
    np.testing.assert_allclose(results[1], results[0], rtol=1e-5, atol=1e-3)


def test_resize_of_u8_images_rounds_to_nearest() -> None:
    x = np.random.default_rng(8).integers(0, 256, (1, 3, 5, 7), dtype=np.uint8)
    results = []
    for element_type in (ov.Type.u8, ov.Type.f32):
        model = relu_model()
        ppp = PrePostProcessor(model)
        ppp.input().tensor().set_layout("NCHW").set_element_type(element_type).set_shape(x.shape)
        ppp.input().preprocess().resize(ResizeAlgorithm.RESIZE_CUBIC)
        ppp.build()
        results.append(run(model, x.astype(element_type.to_dtype())))
    np.testing.assert_array_equal(results[0], np.clip(np.round(results[1]), 0, 255))


def test_u8_resize_matches_openvino_exactly() -> None:
    openvino = pytest.importorskip("openvino")
    x = np.random.default_rng(9).integers(0, 256, (1, 60, 50, 3), dtype=np.uint8)
    results = []
    for module in (openvino, ov):
        model = relu_model((1, 3, 32, 32))
        if module is openvino:
            model = openvino.Core().read_model(model.to_bytes(), b"")
        ppp = module.preprocess.PrePostProcessor(model)
        tensor = ppp.input().tensor().set_shape(x.shape).set_element_type(module.Type.u8)
        tensor.set_layout(module.Layout("NHWC"))
        ppp.input().preprocess().resize(module.preprocess.ResizeAlgorithm.RESIZE_LINEAR)
        ppp.input().model().set_layout(module.Layout("NCHW"))
        config = {"INFERENCE_PRECISION_HINT": "f32"} if module is openvino else {}
        results.append(module.Core().compile_model(ppp.build(), "CPU", config)(x)[0])
    np.testing.assert_array_equal(results[1], results[0])
