"""The GPU plugin's own sessions, streams and IO binding, run for real with ONNX Runtime's
CPU provider standing in for the GPU provider (this machine has no GPU)."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from ovlite_gpu import GPUDevice
from ovlite_gpu.backends import CPU_STANDIN
from ovlite_gpu.enumeration import GPUInfo

import ovlite as ov
from ovlite import models
from ovlite.errors import InputShapeError, InputTypeError
from ovlite.testing import StandInPlugin
from ovlite.testing.conformance import PluginConformance
from ovlite.testing.data import random_inputs


def _standin_core() -> ov.Core:
    gpus = [GPUInfo(str(i), CPU_STANDIN, None, f"CPU stand-in GPU {i}") for i in range(2)]
    core = ov.Core()
    core.register_plugin(StandInPlugin(GPUDevice(lambda: (gpus, "stand-in"))), name="gpu-standin")
    return core


class TestGPUOnCPUStandIn(PluginConformance):
    device = "GPU"
    supports_cancellation = True  # jobs wait in the streams executor's queue
    supports_throughput_streams = True  # THROUGHPUT: two sessions side by side
    supports_dynamic_shapes = True
    config = {"ALLOW_AUTO_BATCHING": False}

    @pytest.fixture
    def core(self) -> ov.Core:
        return _standin_core()


@pytest.fixture
def compiled():
    return _standin_core().compile_model(models.two_inputs(), "GPU.1")


def _inputs(compiled, seed=0):
    """Batch-2 inputs for two_inputs (a float32 and an int64 input), in input order."""
    return list(random_inputs(compiled.inputs, seed).values())


def test_device_tensors_stay_on_the_device_and_match_host_results(compiled):
    arrays = _inputs(compiled)
    expected = compiled(arrays)
    on_device = [ort.OrtValue.ortvalue_from_numpy(a) for a in arrays]
    results = compiled(on_device)
    for port in compiled.outputs:
        assert type(results[port]).__name__ == "OrtValue"  # not copied back to numpy
        np.testing.assert_allclose(results[port].numpy(), expected[port], rtol=1e-6)


def test_device_and_host_inputs_mix_in_one_request(compiled):
    arrays = _inputs(compiled, seed=1)
    expected = compiled(arrays)
    mixed = [ort.OrtValue.ortvalue_from_numpy(arrays[0]), *arrays[1:]]
    request = compiled.create_infer_request()
    request.start_async(mixed, share_inputs=True)  # device tensors are never copied
    request.wait()
    got = request.results[compiled.outputs[0]]
    np.testing.assert_allclose(got.numpy(), expected[compiled.outputs[0]], rtol=1e-6)


def test_a_device_tensor_of_the_wrong_type_or_shape_is_refused_by_name(compiled):
    arrays = _inputs(compiled)
    name = compiled.inputs[0].any_name
    wrong_type = ort.OrtValue.ortvalue_from_numpy(arrays[0].astype(np.int32))
    with pytest.raises(InputTypeError, match=repr(name)):
        compiled([wrong_type, *arrays[1:]])
    wrong_shape = ort.OrtValue.ortvalue_from_numpy(np.zeros((2, 5), arrays[0].dtype))
    with pytest.raises(InputShapeError, match=repr(name)):
        compiled([wrong_shape, *arrays[1:]])


def test_onnxruntime_provider_names_the_stand_in():
    device = _standin_core().devices()["GPU"]
    assert device.onnxruntime_provider("0", {}) == ("CPUExecutionProvider", {})


def test_query_model_asks_onnx_runtime_with_the_gpus_provider():
    core = _standin_core()
    placement = core.query_model(models.tiny_mlp(batch=None), "GPU.1")
    assert placement and set(placement.values()) == {"GPU.1"}


def test_device_tensors_skip_automatic_batching_and_run_alone():
    core = _standin_core()
    compiled = core.compile_model(
        models.tiny_mlp(batch=None), "GPU", {"PERFORMANCE_HINT": "THROUGHPUT"}
    )
    assert compiled.get_property("OPTIMAL_BATCH_SIZE") > 1  # compiled as BATCH:GPU(N)
    queue = ov.AsyncInferQueue(compiled)
    got = {}
    queue.set_callback(lambda request, i: got.__setitem__(i, request.results[0]))
    x = np.random.default_rng(3).random((1, 16), np.float32)
    for i in range(3):
        queue.start_async({"x": ort.OrtValue.ortvalue_from_numpy(x)}, userdata=i, share_inputs=True)
    queue.wait_all()
    expected = compiled(x)[0]
    for i in range(3):
        assert got[i].shape() == [1, 8]  # an OrtValue: not copied into a batch and back
        np.testing.assert_allclose(got[i].numpy(), expected, rtol=1e-6)
