"""The API paths OpenVINO's Python samples and notebooks take, each written as a test of ours on
small ONNX models: preprocessing a u8 NHWC image into an NCHW model (with a resize), reshaping a
model to an image before preprocessing it, giving a dimension to a port's partial shape and
compiling on AUTO, filling request tensors through ``get_tensor`` and starting requests without
inputs, an AsyncInferQueue with a callback and userdata, listing a device's properties, and the
graph-building API, which ovlite leaves to onnx."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import ovlite as ov
from ovlite.utils.types import get_dtype

CHANNELS = 3


def _model(nodes, inputs, outputs, initializers=()) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "program", inputs, outputs, list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)


def channel_means(size: int = 8) -> onnx.ModelProto:
    """image: f32[1, 3, size, size] (NCHW) -> means: f32[1, 3], each channel's mean scaled by
    its own factor (so a swapped channel order shows)."""
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, CHANNELS, size, size])
    means = helper.make_tensor_value_info("means", TensorProto.FLOAT, [1, CHANNELS])
    factors = numpy_helper.from_array(np.array([1.0, 10.0, 100.0], np.float32), "factors")
    nodes = [
        helper.make_node("ReduceMean", ["image"], ["pooled"], axes=[2, 3], keepdims=0),
        helper.make_node("Mul", ["pooled", "factors"], ["means"]),
    ]
    return _model(nodes, [image], [means], [factors])


def detector(boxes: int = 5) -> onnx.ModelProto:
    """An SSD-shaped model: image f32[1, 3, 30, 40] -> detections f32[1, 1, boxes, 7]; any
    height and width work (the image is pooled first)."""
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, CHANNELS, 30, 40])
    out = helper.make_tensor_value_info("detections", TensorProto.FLOAT, [1, 1, boxes, 7])
    weights = np.linspace(-0.01, 0.01, CHANNELS * boxes * 7, dtype=np.float32)
    initializers = [
        numpy_helper.from_array(weights.reshape(CHANNELS, boxes * 7), "weights"),
        numpy_helper.from_array(np.array([1, 1, boxes, 7], np.int64), "shape"),
    ]
    nodes = [
        helper.make_node("GlobalAveragePool", ["image"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"]),
        helper.make_node("MatMul", ["flat", "weights"], ["scores"]),
        helper.make_node("Sigmoid", ["scores"], ["squashed"]),
        helper.make_node("Reshape", ["squashed", "shape"], ["detections"]),
    ]
    return _model(nodes, [image], [out], initializers)


def line_reader() -> onnx.ModelProto:
    """A recogniser-shaped model: x f32[batch, 3, 4, 16] -> y f32[batch, 16] (column sums)."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", CHANNELS, 4, 16])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 16])
    axes = numpy_helper.from_array(np.array([1, 2], np.int64), "axes")
    nodes = [helper.make_node("ReduceSum", ["x", "axes"], ["y"], keepdims=0)]
    return _model(nodes, [x], [y], [axes])


def _u8_nhwc_to_nchw(model: ov.Model, shape=None, resize: bool = False) -> ov.Model:
    ppp = ov.preprocess.PrePostProcessor(model)
    tensor = ppp.input().tensor()
    if shape is not None:
        tensor.set_shape(shape)
    tensor.set_element_type(ov.Type.u8).set_layout(ov.Layout("NHWC"))
    if resize:
        ppp.input().preprocess().resize(ov.preprocess.ResizeAlgorithm.RESIZE_LINEAR)
    ppp.input().model().set_layout(ov.Layout("NCHW"))
    ppp.output().tensor().set_element_type(ov.Type.f32)
    return ppp.build()


@pytest.mark.parametrize("device", ["CPU", "AUTO", "MULTI:CPU"])
def test_a_u8_nhwc_image_reaches_an_nchw_model_through_preprocessing(device) -> None:
    image = np.random.default_rng(0).integers(0, 256, (1, 8, 8, CHANNELS), dtype=np.uint8)
    model = _u8_nhwc_to_nchw(ov.read_model(channel_means()))
    assert model.input().element_type == ov.Type.u8
    assert list(model.input().shape) == [1, 8, 8, CHANNELS]
    results = ov.compile_model(model, device).infer_new_request({0: image})
    expected = image.astype(np.float32).mean(axis=(1, 2)) * [1.0, 10.0, 100.0]
    np.testing.assert_allclose(next(iter(results.values())), expected, rtol=1e-5)


def test_a_larger_image_is_resized_to_the_model_inside_the_model() -> None:
    # one colour per channel: any linear resize keeps it, so the means are the colour itself
    image = np.empty((1, 20, 30, CHANNELS), dtype=np.uint8)
    image[...] = [7, 70, 200]
    model = _u8_nhwc_to_nchw(ov.read_model(channel_means()), image.shape, resize=True)
    assert list(model.input().shape) == [1, 20, 30, CHANNELS]
    results = ov.Core().compile_model(model, "CPU").infer_new_request({0: image})
    np.testing.assert_allclose(next(iter(results.values())), [[7.0, 700.0, 20000.0]], rtol=1e-6)


def test_a_model_reshaped_to_the_image_then_preprocessed_takes_the_image() -> None:
    core = ov.Core()
    model = core.read_model(detector())
    image = np.full((1, 50, 60, CHANNELS), 100, dtype=np.uint8)
    n, h, w, c = image.shape
    model.reshape({model.input().get_any_name(): ov.PartialShape((n, c, h, w))})
    model = _u8_nhwc_to_nchw(model)
    assert list(model.input().shape) == [1, 50, 60, CHANNELS]
    detections = next(iter(core.compile_model(model, "CPU").infer_new_request({0: image}).values()))
    assert detections.shape == (1, 1, 5, 7)
    assert np.all((detections > 0) & (detections < 1))


def test_a_dimension_given_to_a_ports_partial_shape_reshapes_the_model_for_auto() -> None:
    core = ov.Core()
    model = core.read_model(line_reader())
    for input_layer in model.inputs:
        input_shape = input_layer.partial_shape
        input_shape[3] = -1
        model.reshape({input_layer: input_shape})
    assert model.input(0).partial_shape[3].is_dynamic
    compiled = core.compile_model(model, "AUTO")
    output_layer = compiled.output(0)
    for width in (16, 40):
        batch = np.ones((2, CHANNELS, 4, width), np.float32)
        result = compiled([batch])[output_layer]
        np.testing.assert_array_equal(result, np.full((2, width), 12.0, np.float32))


def _fill_random(tensor: ov.Tensor) -> None:
    dtype = get_dtype(tensor.element_type)
    rng = np.random.default_rng(0)
    tensor.data[:] = rng.uniform(0, 255, list(tensor.shape)).astype(dtype)


@pytest.mark.parametrize("device", ["CPU", "MULTI:CPU"])
def test_request_tensors_filled_in_place_run_without_inputs(device) -> None:
    compiled = ov.Core().compile_model(
        ov.read_model(channel_means()), device, {"PERFORMANCE_HINT": "THROUGHPUT"}
    )
    request = compiled.create_infer_request()
    for model_input in compiled.inputs:
        _fill_random(request.get_tensor(model_input))
    request.infer()
    expected = compiled(request.get_tensor(compiled.inputs[0]).data)[0]
    np.testing.assert_allclose(request.get_output_tensor().data, expected, rtol=1e-6)

    queue = ov.AsyncInferQueue(compiled)
    for queued in queue:
        for model_input in compiled.inputs:
            _fill_random(queued.get_tensor(model_input))
    started = set()
    for _ in range(3 * len(queue)):
        started.add(queue.get_idle_request_id())
        queue.start_async()
    queue.wait_all()
    assert started == set(range(len(queue)))
    for queued in queue:
        np.testing.assert_allclose(queued.results[0], expected, rtol=1e-6)


def test_async_queue_callbacks_get_each_images_userdata() -> None:
    compiled = ov.Core().compile_model(_u8_nhwc_to_nchw(ov.read_model(channel_means())), "CPU")
    images = {f"image{i}.bmp": np.full((1, 8, 8, CHANNELS), i, np.uint8) for i in range(5)}
    seen: dict[str, np.ndarray] = {}

    def completion_callback(request: ov.InferRequest, image_path: str) -> None:
        seen[image_path] = next(iter(request.results.values())).reshape(-1).copy()

    queue = ov.AsyncInferQueue(compiled)
    queue.set_callback(completion_callback)
    for path, image in images.items():
        queue.start_async({0: image}, path)
    queue.wait_all()
    assert sorted(seen) == sorted(images)
    for path, image in images.items():
        np.testing.assert_allclose(seen[path], image[0, 0, 0, 0] * np.array([1.0, 10.0, 100.0]))


def test_every_supported_property_of_every_device_reads_and_prints() -> None:
    core = ov.Core()
    for device in core.available_devices:
        keys = core.get_property(device, "SUPPORTED_PROPERTIES")
        assert "SUPPORTED_PROPERTIES" in keys
        for key in keys:
            assert str(core.get_property(device, key)) is not None


def test_graph_building_names_onnx_helper() -> None:
    from ovlite import op, opset1, opset8  # importable, as ported programs import them

    with pytest.raises(ov.ModelError, match=r"op\.Parameter: .*onnx\.helper"):
        op.Parameter(ov.Type.f32, ov.Shape([1, 3]))
    with pytest.raises(RuntimeError, match=r"opset8\.convolution: .*make_graph"):
        opset8.convolution(None, None, [1, 1], [0, 0], [0, 0], [1, 1])
    with pytest.raises(ov.ModelError, match="onnx.helper"):
        opset1.max_pool(None, [2, 2], [0, 0], [0, 0], [2, 2], "ceil")
    with pytest.raises(ov.ModelError, match=r"Model\(list, \.\.\.\): expected an onnx.ModelProto"):
        ov.Model([], [], "lenet")
    with pytest.raises(AttributeError, match="no attribute 'opsetx'"):
        ov.opsetx  # noqa: B018
