"""OPENVINO.CPU for real: outputs against CPU, OpenVINO's choices reported, precision,
cache, bad ids and values, and the provider options HETERO uses."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from ovlite_openvino import OpenVINODevice
from ovlite_openvino.testing import needs_openvino_cpu

import ovlite
import ovlite.properties as props
from ovlite.element_type import Type
from ovlite.testing.data import random_inputs

pytestmark = needs_openvino_cpu
DEVICE = "OPENVINO.CPU"
F32 = {"INFERENCE_PRECISION_HINT": "f32"}


def _inputs(model: ovlite.Model, seed: int = 0) -> dict[str, np.ndarray]:
    return random_inputs(model.inputs, seed, dynamic_dim=2)


def test_outputs_equal_cpu_at_f32(core: ovlite.Core, resnet: ovlite.Model) -> None:
    feeds = _inputs(resnet)
    expected = core.compile_model(resnet, "CPU")(feeds)[0]
    got = core.compile_model(resnet, DEVICE, F32)(feeds)[0]
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-4)


def test_latency_reports_openvinos_one_stream(core: ovlite.Core, resnet: ovlite.Model) -> None:
    compiled = core.compile_model(resnet, DEVICE, {"PERFORMANCE_HINT": "LATENCY", **F32})
    assert compiled.get_property("PERFORMANCE_HINT") == "LATENCY"
    assert compiled.get_property("NUM_STREAMS") == 1
    assert compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS") == 1
    assert compiled.get_property("INFERENCE_NUM_THREADS") >= 1
    assert compiled.get_property("EXECUTION_DEVICES") == [DEVICE]
    reason = compiled.get_property("OVLITE_CONFIGURATION_REASON")
    assert "read back from OpenVINO" in reason and "LATENCY" in reason


def test_throughput_reports_openvinos_streams_and_runs_them(
    core: ovlite.Core, resnet: ovlite.Model
) -> None:
    compiled = core.compile_model(resnet, DEVICE, {"PERFORMANCE_HINT": "THROUGHPUT", **F32})
    streams = compiled.get_property("NUM_STREAMS")
    requests = compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")
    assert compiled.get_property("PERFORMANCE_HINT") == "THROUGHPUT"
    assert streams >= 1 and requests >= streams
    if (os.cpu_count() or 1) > 1:
        assert streams > 1, compiled.get_property("OVLITE_CONFIGURATION_REASON")
    # the provider was told OpenVINO's choice, so its own default of one stream cannot win
    load_config = json.loads(compiled.device_model.provider_options["load_config"])["CPU"]
    assert load_config["NUM_STREAMS"] == str(streams)
    # as many inferences as requests in flight, each answered with its own result
    queue = ovlite.AsyncInferQueue(compiled)
    assert len(queue) == requests
    feeds = [_inputs(resnet, seed) for seed in range(2 * requests)]
    results: dict[int, np.ndarray] = {}
    queue.set_callback(lambda request, index: results.__setitem__(index, request.results[0]))
    for index, feed in enumerate(feeds):
        queue.start_async(feed, index)
    queue.wait_all()
    sync = compiled.create_infer_request()
    for index, feed in enumerate(feeds):
        np.testing.assert_allclose(results[index], sync.infer(feed)[0], rtol=1e-5, atol=1e-6)


def test_precision_f32_and_bf16_are_reported(core: ovlite.Core, resnet: ovlite.Model) -> None:
    f32 = core.compile_model(resnet, DEVICE, F32)
    bf16 = core.compile_model(resnet, DEVICE, {"INFERENCE_PRECISION_HINT": "bf16"})
    assert f32.get_property("INFERENCE_PRECISION_HINT") == Type.f32
    reason = bf16.get_property("OVLITE_CONFIGURATION_REASON")
    # OpenVINO falls back to f32 on CPUs without bf16 instructions, and says so
    assert bf16.get_property("INFERENCE_PRECISION_HINT") in (Type.bf16, Type.f32), reason
    assert "INFERENCE_PRECISION_HINT bf16 as asked" in reason


def test_unset_precision_is_openvinos_default_and_said_so(
    core: ovlite.Core, resnet: ovlite.Model
) -> None:
    device = core.devices()["OPENVINO"]
    default = device.default_precision("CPU")
    compiled = core.compile_model(resnet, DEVICE)
    assert str(compiled.get_property("INFERENCE_PRECISION_HINT")) == default
    assert core.get_property(DEVICE, "INFERENCE_PRECISION_HINT") == default
    assert "OpenVINO's default" in compiled.get_property("OVLITE_CONFIGURATION_REASON")


def test_cache_dir_creates_a_cache_and_reuses_it(
    core: ovlite.Core, resnet: ovlite.Model, tmp_path: os.PathLike
) -> None:
    cache = os.path.join(tmp_path, "ov-cache")
    first = core.compile_model(resnet, DEVICE, {"CACHE_DIR": cache, **F32})
    assert first.get_property("CACHE_DIR") == cache
    entries = sorted(os.listdir(cache))
    assert entries, "OpenVINO wrote no cache entry"
    second = core.compile_model(resnet, DEVICE, {"CACHE_DIR": cache, **F32})
    assert sorted(os.listdir(cache)) == entries, "the same model and settings made a new entry"
    # LOADED_FROM_CACHE is what OpenVINO reports (its 2025.4 CPU plugin says NO even here)
    assert isinstance(second.get_property("LOADED_FROM_CACHE"), bool)
    feeds = _inputs(resnet)
    np.testing.assert_allclose(second(feeds)[0], first(feeds)[0], rtol=1e-5, atol=1e-6)


def test_unknown_openvino_device_names_it_and_lists_the_available(
    core: ovlite.Core, mlp: ovlite.Model
) -> None:
    with pytest.raises(ovlite.DeviceNotFoundError) as caught:
        core.compile_model(mlp, "OPENVINO.GPU.7")
    message = str(caught.value)
    assert "OPENVINO.GPU.7" in message and "OPENVINO.CPU" in message
    assert "CPU" in core.get_property("OPENVINO", "AVAILABLE_DEVICES")


@pytest.mark.parametrize(
    ("key", "value", "error"),
    [
        ("INFERENCE_PRECISION_HINT", "f64", ovlite.PropertyValueError),
        ("INFERENCE_PRECISION_HINT", "fast", ovlite.PropertyValueError),
        ("NUM_STREAMS", 0, ovlite.PropertyValueError),
        ("PERFORMANCE_HINT", "FASTEST", ovlite.PropertyValueError),
        ("INFERENCE_NUM_THREADS", -1, ovlite.PropertyValueError),
        ("PERF_COUNT", True, ovlite.UnknownPropertyError),
    ],
)
def test_bad_property_values_are_refused(
    core: ovlite.Core, mlp: ovlite.Model, key: str, value: object, error: type
) -> None:
    with pytest.raises(error) as caught:
        core.compile_model(mlp, DEVICE, {key: value})
    assert key in str(caught.value) or str(value) in str(caught.value)


def test_openvino_alone_lets_openvino_choose(core: ovlite.Core, mlp: ovlite.Model) -> None:
    compiled = core.compile_model(mlp, "OPENVINO", F32)
    assert compiled.get_property("EXECUTION_DEVICES") == [DEVICE]
    feeds = _inputs(mlp)
    expected = core.compile_model(mlp, "CPU")(feeds)[0]
    np.testing.assert_allclose(compiled(feeds)[0], expected, rtol=1e-4, atol=1e-5)


def test_onnxruntime_provider_for_hetero(core: ovlite.Core, mlp: ovlite.Model) -> None:
    import onnxruntime as ort

    device = core.devices()["OPENVINO"]
    assert isinstance(device, OpenVINODevice)
    name, options = device.onnxruntime_provider(
        "CPU", props.normalize_config({"PERFORMANCE_HINT": "THROUGHPUT", **F32})
    )
    assert name == "OpenVINOExecutionProvider"
    assert options["device_type"] == "CPU"
    config = json.loads(options["load_config"])["CPU"]
    assert config == {
        "PERFORMANCE_HINT": "THROUGHPUT",
        "INFERENCE_PRECISION_HINT": "f32",
        "NUM_STREAMS": "AUTO",
    }
    # the options really run a session on the provider
    session = ort.InferenceSession(mlp.to_bytes(), providers=[(name, options)])
    assert session.get_providers()[0] == name
    feeds = _inputs(mlp)
    expected = core.compile_model(mlp, "CPU")(feeds)[0]
    np.testing.assert_allclose(session.run(None, feeds)[0], expected, rtol=1e-4, atol=1e-5)
    # OpenVINO's default precision is written out, and an unknown id is refused
    _, default = device.onnxruntime_provider("CPU", {})
    precision = json.loads(default["load_config"])["CPU"]["INFERENCE_PRECISION_HINT"]
    assert precision == device.default_precision("CPU")
    with pytest.raises(ovlite.DeviceNotFoundError):
        device.onnxruntime_provider("GPU.3", {})


def test_npu_alias_explains_itself(core: ovlite.Core) -> None:
    npu = core.devices()["NPU"]
    availability = npu.availability()
    devices = core.devices()["OPENVINO"].device_ids()
    assert availability.available == ("NPU" in devices)
    if not availability:
        assert "NPU" in availability.reason and "CPU" in availability.reason
