"""The OPENVINO device explains a missing or broken provider: its probe on metadata written
to temporary folders (real importlib.metadata, real .dist-info), and on this environment."""

from __future__ import annotations

from pathlib import Path

from ovlite_openvino.runtime import probe_runtime

from ovlite.testing.installed import write_distribution

ORT_FILES = ["onnxruntime/__init__.py", "onnxruntime/capi/onnxruntime_pybind11_state.so"]


def test_plain_onnxruntime_says_which_flavour_to_switch_to(tmp_path: Path) -> None:
    write_distribution(tmp_path, "onnxruntime", "1.32.0", ORT_FILES)
    found = probe_runtime([str(tmp_path)])
    assert not found.available
    assert "onnxruntime==1.32.0 is installed" in found.reason
    assert "pip uninstall -y onnxruntime && " in found.reason
    assert found.reason.endswith("-m pip install onnxruntime-openvino")


def test_a_clobbered_install_is_called_broken_with_the_fix(tmp_path: Path) -> None:
    write_distribution(tmp_path, "onnxruntime-openvino", "1.24.1", ORT_FILES)
    write_distribution(tmp_path, "onnxruntime", "1.32.0", ORT_FILES)
    found = probe_runtime([str(tmp_path)])
    assert not found.available
    assert found.reason.startswith("the ONNX Runtime install is broken: 2 ONNX Runtime flavours")
    assert "pip uninstall -y onnxruntime onnxruntime-openvino" in found.reason
    assert found.reason.endswith("-m pip install onnxruntime-openvino")


def test_no_onnxruntime_at_all(tmp_path: Path) -> None:
    found = probe_runtime([str(tmp_path)])
    assert not found.available and "no ONNX Runtime is installed" in found.reason


def test_this_environment_explains_itself() -> None:
    found = probe_runtime()
    if found.available:
        assert "OpenVINOExecutionProvider" in found.reason and found.devices
    else:
        assert "onnxruntime-openvino" in found.reason
