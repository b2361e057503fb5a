"""Every example runs (on the CPU plugin, which `make test` installs)."""

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
    assert "AUTO serves from: ['CPU']" in out
    # MULTI over every available device (CPU, and OPENVINO.CPU where installed): each request
    # ran once, on one of them
    shares = re.findall(r"  (\S+) ran (\d+) of 40 requests", out)
    assert shares and sum(int(n) for _, n in shares) == 40, out
    assert {name for name, _ in shares} <= set(ov.Core().available_devices), out
