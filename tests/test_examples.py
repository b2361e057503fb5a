"""Every example runs (on the plugins `make test` installs: CPU, OPENVINO, RAY)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import ovlite as ov

EXAMPLES = Path(__file__).parent.parent / "examples"

needs_cpu = pytest.mark.skipif(
    "CPU" not in ov.Core().available_devices, reason="the ovlite-cpu plugin is not installed here"
)


def run_example(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=300, cwd=EXAMPLES.parent
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@needs_cpu
def test_openvino_style_throughput_program() -> None:
    out = run_example("examples/throughput.py", "-m", "tiny_mlp", "-n", "100")
    assert "100 requests in" in out
    assert "NUM_STREAMS" in out


@needs_cpu
def test_asyncio_program() -> None:
    out = run_example("examples/asyncio_app.py", "-n", "16")
    assert "16 concurrent inferences on CPU" in out


@needs_cpu
def test_multi_auto_program() -> None:
    out = run_example("examples/multi_auto.py", "-n", "40")
    assert "AUTO serves first from: ['CPU']" in out
    chose = re.search(r"AUTO chose: \['(\S+)'\] at precision (\S+)", out)
    assert chose and chose.group(1) in ov.Core().available_devices + ["OPENVINO.CPU"], out
    assert "(measured)" in out or "remembered" in out
    # MULTI over every available device (CPU, and OPENVINO.CPU where installed): each request
    # ran once, on one of them
    shares = re.findall(r"  (\S+) ran (\d+) of 40 requests", out)
    assert shares and sum(int(n) for _, n in shares) == 40, out
    assert {name for name, _ in shares} <= set(ov.Core().available_devices), out


@needs_cpu
@pytest.mark.parametrize("device", ["CPU", "AUTO"])
def test_preprocessing_program(tmp_path: Path, device: str) -> None:
    saved = tmp_path / "with-preprocessing.onnx"
    out = run_example("examples/preprocessing.py", "-d", device, "--save", str(saved))
    assert "now takes: u8 [1,?,?,3] [N,H,W,C]" in out
    assert "480x640 image: top classes" in out and "217x301 image: top classes" in out
    difference = float(
        re.search(r"largest difference from numpy preprocessing: (\S+)", out).group(1)
    )
    assert difference < 1e-4, out
    assert saved.exists() and "model taking u8" in out


@needs_cpu
@pytest.mark.parametrize("device", ["CPU", "MULTI:CPU"])
def test_porting_from_openvino_program(device: str) -> None:
    out = run_example("examples/porting_from_openvino.py", "-d", device, "-n", "12")
    assert "after preprocessing it takes u8 [1,32,32,3]" in out
    assert "PERFORMANCE_HINT: THROUGHPUT" in out
    assert "classified 12 images" in out
    assert "12 of 12 agree with synchronous inference" in out


def _available(device: str) -> bool:
    return device in ov.Core().available_devices


@pytest.mark.skipif(not _available("OPENVINO"), reason="OPENVINO is not available here")
def test_hetero_split_program() -> None:
    out = run_example("examples/hetero_split.py")
    assert "OPENVINO.CPU supports 2 of 4 nodes" in out
    assert "gelu -> CPU" in out and "fc2 -> OPENVINO.CPU" in out
    assert "runs on ['OPENVINO.CPU', 'CPU']" in out
    difference = float(re.search(r"largest difference from CPU alone: (\S+)", out).group(1))
    assert difference < 1e-3, out


@pytest.mark.skipif(not _available("OPENVINO"), reason="OPENVINO is not available here")
def test_openvino_precision_program() -> None:
    out = run_example("examples/openvino_precision.py", "-t", "0.5")
    assert "INFERENCE_PRECISION_HINT=f32" in out
    f32 = re.search(r", f32: .*\n  largest difference from CPU f32: (\S+);", out)
    assert f32 and float(f32.group(1)) < 1e-3, out


@pytest.mark.skipif("RAY" not in ov.Core().devices(), reason="ovlite-ray is not installed here")
def test_ray_replicas_program() -> None:
    out = run_example("examples/ray_replicas.py", "-n", "20", "-r", "1")
    assert "RAY:CPU: 1 replicas ready" in out
    assert "20 of 20 requests answered by ['RAY:CPU']" in out
