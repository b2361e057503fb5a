"""ONNX Runtime's silent CPU fallback, detected for real on this machine's plain onnxruntime,
install diagnosis (clobbered / mismatched flavours) and the package's extras."""

from __future__ import annotations

import importlib.metadata

import onnxruntime as ort
import pytest
from ovlite_gpu.backends import CUDA
from ovlite_gpu.device import discover_gpus
from ovlite_gpu.enumeration import GPUInfo
from ovlite_gpu.install import diagnose, installed_flavours
from ovlite_gpu.sessions import create_gpu_session, session_providers

import ovlite as ov
from ovlite import models
from ovlite.errors import CompileError, DeviceUnavailableError

no_cuda = pytest.mark.skipif(
    "CUDAExecutionProvider" in ort.get_available_providers(),
    reason="this onnxruntime has CUDA: the fallback cannot be provoked by a missing provider",
)


@no_cuda
def test_onnxruntime_really_falls_back_to_cpu_when_asked_for_cuda():
    # the behaviour the plugin guards against, shown with ONNX Runtime alone
    with pytest.warns(UserWarning):
        session = ort.InferenceSession(
            models.tiny_mlp(batch=None).SerializeToString(), providers=["CUDAExecutionProvider"]
        )
    assert session.get_providers() == ["CPUExecutionProvider"]


@no_cuda
def test_a_gpu_session_refuses_the_fallback_with_the_fix():
    with pytest.warns(UserWarning), pytest.raises(CompileError) as caught:
        create_gpu_session(
            models.tiny_mlp(batch=None).SerializeToString(), CUDA, 0, "GPU.0 could not compile"
        )
    message = str(caught.value)
    assert message.startswith("GPU.0 could not compile")
    assert "no CUDAExecutionProvider" in message and "ovlite-gpu[cuda]" in message


@no_cuda
def test_compiling_on_a_cuda_gpu_this_machine_lacks_fails_instead_of_running_on_cpu():
    # a GPU record standing for hardware this machine lacks; the sessions are real
    fake = GPUInfo("0", CUDA, 0, "stands for an NVIDIA GPU this machine lacks")
    core = ov.Core()
    from ovlite_gpu import GPUDevice

    from ovlite.testing import StandInPlugin

    core.register_plugin(StandInPlugin(GPUDevice(lambda: ([fake], "fake"))), name="gpu-fake")
    with pytest.warns(UserWarning), pytest.raises(CompileError, match="CUDAExecutionProvider"):
        core.compile_model(models.tiny_mlp(batch=None), "GPU")


@no_cuda
def test_the_installed_gpu_device_is_unavailable_and_says_what_to_install():
    gpus, why = discover_gpus()
    assert gpus == []
    assert "no GPU execution provider in the installed onnxruntime" in why
    assert "ovlite-gpu[cuda]" in why
    core = ov.Core()
    assert not any(d.startswith("GPU") for d in core.available_devices)
    with pytest.raises(DeviceUnavailableError, match=r"ovlite-gpu\[cuda\]"):
        core.compile_model(models.tiny_mlp(batch=None), "GPU")


CUDA_PROVIDERS = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
CPU_PROVIDERS = ["CPUExecutionProvider"]


def test_a_cpu_flavour_installed_over_the_gpu_one_is_reported_as_clobbered():
    found = diagnose(
        {"onnxruntime-gpu": "1.23.2", "onnxruntime": "1.23.2"}, "1.23.2", CPU_PROVIDERS
    )
    (error,) = found.errors
    assert "onnxruntime-gpu 1.23.2 is installed" in error and "overwrote" in error
    assert "-m ovlite.onnxruntime_install use onnxruntime-gpu==1.23.2" in error


def test_mixed_versions_are_reported_as_mismatched():
    found = diagnose({"onnxruntime-gpu": "1.22.0"}, "1.23.2", CUDA_PROVIDERS)
    assert len(found.errors) == 1 and "1.23.2" in found.errors[0] and "mixed" in found.errors[0]


def test_two_flavours_with_the_gpu_one_on_top_work_with_a_note():
    found = diagnose(
        {"onnxruntime": "1.23.2", "onnxruntime_gpu": "1.23.2"}, "1.23.2", CUDA_PROVIDERS
    )
    assert found.errors == []
    assert "uninstalling either breaks the other" in found.notes[0]


def test_a_clean_install_has_nothing_to_say():
    found = diagnose({"onnxruntime-gpu": "1.23.2"}, "1.23.2", CUDA_PROVIDERS)
    assert (found.errors, found.notes) == ([], [])
    assert diagnose({"onnxruntime": "1.32.0"}, "1.32.0", CPU_PROVIDERS).errors == []


def test_this_environments_flavours_are_read_from_package_metadata():
    flavours = installed_flavours()
    # whichever flavour this environment has (plain onnxruntime, onnxruntime-openvino, ...)
    assert any(name.lower().startswith("onnxruntime") for name in flavours)
    assert ort.__version__.split("+")[0] in {v.split("+")[0] for v in flavours.values()}


def test_the_default_install_never_pulls_an_onnxruntime_flavour():
    requirements = importlib.metadata.requires("ovlite-gpu") or []
    unconditional = [r for r in requirements if "extra ==" not in r]
    assert not any(r.lower().startswith("onnxruntime") for r in unconditional)
    extras = {
        r.split("extra ==")[1].strip().strip("'\""): r for r in requirements if "extra ==" in r
    }
    assert extras["cuda"].startswith("onnxruntime-gpu")
    assert extras["migraphx"].startswith("onnxruntime-migraphx")
    assert extras["directml"].startswith("onnxruntime-directml")
    provided = importlib.metadata.metadata("ovlite-gpu").get_all("Provides-Extra")
    assert {"cuda", "migraphx", "directml", "coreml"} <= set(provided)


CUDA_BOX = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]


def test_tensorrt_goes_before_cuda_on_the_same_device_and_the_cpu_is_never_listed():
    assert session_providers(CUDA, 1, CUDA_BOX) == [
        ("TensorrtExecutionProvider", {"device_id": "1"}),
        ("CUDAExecutionProvider", {"device_id": "1"}),
    ]
    assert session_providers(CUDA, 1, CUDA_BOX, accelerate=False) == [
        ("CUDAExecutionProvider", {"device_id": "1"})
    ]
    assert session_providers(CUDA, 0, ["CUDAExecutionProvider", "CPUExecutionProvider"]) == [
        ("CUDAExecutionProvider", {"device_id": "0"})
    ]


def test_sessions_have_the_wrappers_own_fallback_turned_off(make_core, standins):
    # onnxruntime's Python wrapper would otherwise retry a failed provider without its
    # options, and switch a session to the CPU after a provider error at run time
    compiled = make_core(standins(1)).compile_model(
        models.tiny_mlp(batch=None), "GPU", {"OVLITE_GPU_TENSORRT": False}
    )
    assert all(session._enable_fallback is False for session in compiled.device_model.sessions)
    assert compiled.get_property("OVLITE_GPU_TENSORRT") is False


def test_directml_sessions_turn_the_memory_pattern_off():
    from ovlite_gpu.backends import DIRECTML
    from ovlite_gpu.sessions import session_options

    assert session_options(DIRECTML).enable_mem_pattern is False
    assert session_options(CUDA).enable_mem_pattern is True
    assert session_options(CUDA).get_session_config_entry("session.disable_cpu_ep_fallback") == "1"
