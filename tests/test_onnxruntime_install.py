"""ovlite.onnxruntime_install on metadata written to temporary folders (real
importlib.metadata reading real .dist-info folders), and on this environment."""

from __future__ import annotations

from pathlib import Path

from ovlite import onnxruntime_install
from ovlite.testing.installed import write_distribution

ORT_FILES = [
    "onnxruntime/__init__.py",
    "onnxruntime/capi/__init__.py",
    "onnxruntime/capi/onnxruntime_pybind11_state.so",
]
OPENVINO_FILES = [*ORT_FILES, "onnxruntime/capi/libopenvino.so"]


def inspect(site: Path) -> onnxruntime_install.InstallReport:
    return onnxruntime_install.inspect([str(site)], python="python")


def test_one_whole_flavour_is_ok_and_owns_the_module(tmp_path: Path) -> None:
    write_distribution(tmp_path, "onnxruntime-openvino", "1.24.1", OPENVINO_FILES)
    report = inspect(tmp_path)
    assert report.ok, report.describe()
    assert report.installed == ["onnxruntime-openvino==1.24.1"]
    assert report.module_owner == "onnxruntime-openvino"
    assert report.module_version == "1.24.1"
    assert report.module_path == str(tmp_path / "onnxruntime")
    assert report.fix == []


def test_two_flavours_are_a_problem_with_a_fix(tmp_path: Path) -> None:
    write_distribution(tmp_path, "onnxruntime-openvino", "1.24.1", OPENVINO_FILES)
    write_distribution(tmp_path, "onnxruntime", "1.32.0", ORT_FILES)  # installed last: wins
    report = inspect(tmp_path)
    assert not report.ok
    assert "2 ONNX Runtime flavours" in report.problems[0]
    assert report.module_owner == "onnxruntime"
    assert report.fix == [
        "python -m pip uninstall -y onnxruntime onnxruntime-openvino",
        "python -m pip install onnxruntime==1.32.0",
    ]
    assert "fix: python -m pip uninstall" in report.describe()


def test_files_deleted_by_another_flavours_uninstall_are_found(tmp_path: Path) -> None:
    write_distribution(tmp_path, "onnxruntime-openvino", "1.24.1", OPENVINO_FILES)
    for path in ORT_FILES:  # what `pip uninstall onnxruntime` removes
        (tmp_path / path).unlink()
    report = inspect(tmp_path)
    assert report.module_path is None
    text = " ".join(report.problems)
    assert "not importable" in text
    assert "missing 3 of its 4 files" in text
    assert report.fix[-1] == "python -m pip install onnxruntime-openvino==1.24.1"


def test_a_module_version_no_distribution_has_is_a_mix(tmp_path: Path) -> None:
    write_distribution(tmp_path, "onnxruntime-gpu", "1.30.0", ORT_FILES, module_version="1.29.0")
    report = inspect(tmp_path)
    assert report.module_owner is None
    assert "1.29.0 matches no installed distribution" in report.problems[0]


def test_a_plugin_library_beside_the_module_is_not_a_flavour(tmp_path: Path) -> None:
    write_distribution(tmp_path, "onnxruntime", "1.32.0", ORT_FILES)
    write_distribution(
        tmp_path, "onnxruntime-ep-openvino", "1.8.1", ["onnxruntime_ep_openvino/__init__.py"]
    )
    report = inspect(tmp_path)
    assert report.ok and report.installed == ["onnxruntime==1.32.0"]


def test_nothing_installed(tmp_path: Path) -> None:
    report = inspect(tmp_path)
    assert report.problems == ["no ONNX Runtime is installed"]
    assert report.fix[-1] == "python -m pip install onnxruntime"


def test_use_commands_uninstall_every_flavour_then_install_one() -> None:
    commands = onnxruntime_install.use_commands(
        "onnxruntime-openvino", ["onnxruntime", "ONNXRuntime_OpenVINO"], python="py"
    )
    assert commands == [
        "py -m pip uninstall -y onnxruntime onnxruntime-openvino",
        "py -m pip install onnxruntime-openvino",
    ]


def test_this_environment_has_one_whole_onnxruntime() -> None:
    """`make install` must leave exactly one flavour, whole; the import agrees."""
    report = onnxruntime_install.inspect()
    assert report.ok, report.describe()
    import onnxruntime

    assert onnxruntime.__version__ == report.module_version
