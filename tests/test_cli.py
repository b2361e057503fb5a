"""The ``ovlite`` command, run in-process on the CPU plugin with small models."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import ovlite as ov
from ovlite.cli import main

pytestmark = pytest.mark.skipif(
    "CPU" not in ov.Core().available_devices, reason="the ovlite-cpu plugin is not installed here"
)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_devices_lists_cpu_with_its_package(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "devices", "--json")
    assert code == 0
    rows = {row["device"]: row for row in json.loads(out)}
    assert rows["CPU"]["available"] and rows["CPU"]["package"] == "ovlite-cpu"
    code, out, _ = run(capsys, "devices", "-v")
    assert "PERFORMANCE_HINT: LATENCY" in out and "from ovlite-cpu" in out


def test_plugins_lists_entry_points(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "plugins", "--json")
    found = json.loads(out)
    assert any(p["package"] == "ovlite-cpu" and p["devices"] == ["CPU"] for p in found["plugins"])
    assert found["onnxruntime"]["problems"] == [] and found["onnxruntime"]["installed"]
    code, out, _ = run(capsys, "plugins")
    assert "ovlite-cpu" in out
    assert "ONNX Runtime: onnxruntime" in out  # which flavour, and whether it is whole


def test_benchmark_prints_configuration_and_statistics(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(
        capsys,
        "benchmark",
        "-m",
        "tiny_mlp",
        "-niter",
        "200",
        "-hint",
        "throughput",
        "-report_folder",
        str(tmp_path),
        "-dump_config",
        str(tmp_path / "applied.json"),
    )
    assert code == 0
    for words in (
        "ovlite-cpu",
        "NUM_STREAMS",
        "OVLITE_CONFIGURATION_REASON",
        "compile model took",
        "first inference took",
        "count:      200 iterations",
        "p99",
        "throughput:",
    ):
        assert words in out
    report = json.loads((tmp_path / "benchmark_report.json").read_text())
    assert report["count"] == 200 and report["throughput_fps"] > 0
    applied = json.loads((tmp_path / "applied.json").read_text())
    assert applied["CPU"]["PERFORMANCE_HINT"] == "THROUGHPUT"
    # a dumped configuration loads back
    code, out, _ = run(
        capsys,
        "benchmark",
        "-m",
        "tiny_mlp",
        "-niter",
        "20",
        "-hint",
        "none",
        "-load_config",
        str(tmp_path / "applied.json"),
    )
    assert code == 0 and "NUM_STREAMS: 2" in out


def test_sync_api_inputs_from_files_shapes_and_counters(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    np.save(tmp_path / "x.npy", np.ones((3, 16), np.float32))
    code, out, _ = run(
        capsys,
        "benchmark",
        "-m",
        "tiny_mlp",
        "-niter",
        "30",
        "-api",
        "sync",
        "-hint",
        "latency",
        "-shape",
        "[3,16]",
        "-i",
        str(tmp_path / "x.npy"),
        "-pc",
    )
    assert code == 0
    assert "api sync" in out and "per-node counters" in out and "CPUExecutionProvider" in out


def test_compare_prints_ratios(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "benchmark",
        "-m",
        "tiny_mlp",
        "-niter",
        "100",
        "--compare",
        "latency",
        "CPU@throughput",
        "NOSUCH",
    )
    assert code == 0
    assert "CPU latency" in out and "CPU throughput" in out and "1.00x" in out
    assert "NOSUCH throughput: could not run" in out  # the others still ran


def test_compare_with_auto_prints_its_choice_and_plots_the_comparison(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "compare.png"
    code, out, _ = run(
        capsys,
        "benchmark",
        "-m",
        "tiny_mlp",
        "-niter",
        "100",
        "-load_config",
        str(_write(tmp_path / "auto.json", {"AUTO": {"OVLITE_AUTO_MEASURE_MS": 100}})),
        "--compare",
        "CPU",
        "AUTO",
        "--plot",
        str(path),
    )
    assert code == 0 and path.read_bytes()[:4] == b"\x89PNG"
    assert "AUTO throughput: THROUGHPUT: chose" in out  # AUTO's reason, after the table
    assert "f32" in out  # the precision column


def _write(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_plot_writes_a_png(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "run.png"
    code, _, _ = run(capsys, "benchmark", "-m", "tiny_mlp", "-niter", "50", "--plot", str(path))
    assert code == 0 and path.read_bytes()[:4] == b"\x89PNG"


def test_a_dynamic_batch_defaults_to_one(capsys: pytest.CaptureFixture[str]) -> None:
    """`make demo` runs the built-in ResNet-18 (dynamic batch) without -b."""
    code, out, err = run(capsys, "benchmark", "-m", "resnet18", "-niter", "4", "-nireq", "2")
    assert code == 0, err
    assert "inputs: input [1, 3, 224, 224]" in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["-d", "MULTI:"], "bad device string"),
        (["-d", "NOPE"], "unknown device 'NOPE'"),
        (["-m", "no_such_model"], "not a built-in model"),
        (["-m", "tiny_mlp", "-b", "4"], "no dynamic batch dimension"),
        (["-m", "tiny_mlp", "-shape", "y[1,16]"], "no input named 'y'"),
        (["-m", "tiny_mlp", "--compare", "CPU@fast"], "hint must be one of"),
    ],
)
def test_bad_options_exit_2_with_a_clear_message(
    capsys: pytest.CaptureFixture[str], args: list[str], words: str
) -> None:
    code, _, err = run(capsys, "benchmark", "-niter", "5", *args)
    assert code == 2
    assert words in err


def test_devices_lists_the_install_hint_of_a_device_that_cannot_run() -> None:
    from ovlite.cli import device_rows
    from ovlite.testing.standin import StandInDevice, StandInPlugin

    class NeedsDriver(StandInDevice):
        install_hint = "pip install needs-driver"

    core = ov.Core()
    core.register_plugin(
        StandInPlugin(NeedsDriver("NEEDSDRIVER", available=False, reason="no driver"))
    )
    (row,) = [row for row in device_rows(core, verbose=False) if row["device"] == "NEEDSDRIVER"]
    assert not row["available"]
    assert row["reason"] == "no driver; pip install needs-driver"
