"""End-to-end on a real NVIDIA GPU with onnxruntime-gpu; every test skips, with the reason,
where either is missing (CI and the development machine have no GPU)."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from ovlite_gpu.device import discover_gpus

import ovlite as ov
from ovlite import models


def _cuda_gpus():
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        return [], "onnxruntime has no CUDAExecutionProvider (install ovlite-gpu[cuda])"
    gpus, why = discover_gpus()
    return gpus, why or "no GPU found"


GPUS, WHY = _cuda_gpus()
pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not GPUS, reason=f"needs CUDA: {WHY}")]


@pytest.fixture(scope="module")
def core() -> ov.Core:
    return ov.Core()


def test_every_gpu_is_listed_with_name_and_memory(core):
    names = [d for d in core.available_devices if d.startswith("GPU")]
    assert len(names) == len(GPUS)
    for gpu in GPUS:
        assert core.get_property(f"GPU.{gpu.index}", "FULL_DEVICE_NAME")


def test_outputs_equal_cpu_within_tolerance(core):
    proto = models.resnet18()
    image = np.random.default_rng(0).random((1, 3, 224, 224), np.float32)
    on_gpu = core.compile_model(proto, "GPU")(image)[0]
    on_cpu = core.compile_model(proto, "CPU")(image)[0]
    np.testing.assert_allclose(on_gpu, on_cpu, rtol=1e-3, atol=1e-3)


def test_the_session_runs_on_cuda_not_cpu(core):
    compiled = core.compile_model(
        models.tiny_mlp(batch=None), "GPU", {"ALLOW_AUTO_BATCHING": False}
    )
    assert "CUDAExecutionProvider" in compiled.providers


def test_device_tensors_stay_on_the_gpu(core):
    compiled = core.compile_model(models.tiny_mlp(batch=None), "GPU.0")
    x = np.random.default_rng(1).random((4, 16), np.float32)
    on_gpu = ort.OrtValue.ortvalue_from_numpy(x, "cuda", GPUS[0].ordinal or 0)
    result = compiled(on_gpu)[0]
    assert result.device_name() == "cuda"
    np.testing.assert_allclose(result.numpy(), compiled(x)[0], rtol=1e-4, atol=1e-5)


def test_throughput_runs_two_streams(core):
    compiled = core.compile_model(
        models.resnet18(), "GPU", {"PERFORMANCE_HINT": "THROUGHPUT", "ALLOW_AUTO_BATCHING": False}
    )
    assert compiled.get_property("NUM_STREAMS") == 2
    assert compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS") == 4
