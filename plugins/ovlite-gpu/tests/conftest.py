"""Shared helpers for the GPU plugin's tests: recorded device lists and stand-in GPUs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ovlite_gpu import GPUDevice
from ovlite_gpu.backends import CPU_STANDIN
from ovlite_gpu.enumeration import GPUInfo, enumerate_gpus, parse_nvidia_smi

import ovlite as ov
from ovlite.testing import StandInPlugin

FIXTURES = Path(__file__).parent / "fixtures"


def recorded(name: str) -> dict[str, Any]:
    """A recorded device list (see each fixture's "note" for where it came from)."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def recorded_gpus(name: str, visible: str | None = None) -> list[GPUInfo]:
    box = recorded(name)
    return enumerate_gpus(
        box["records"], box["available_providers"], visible, parse_nvidia_smi(box["nvidia_smi"])
    )


def standin_gpus(count: int = 2, memory_bytes: int | None = 8 << 30) -> list[GPUInfo]:
    """GPUs on the CPU stand-in backend: ONNX Runtime's CPU provider in place of a GPU."""
    return [
        GPUInfo(str(i), CPU_STANDIN, None, f"CPU stand-in GPU {i}", memory_bytes=memory_bytes)
        for i in range(count)
    ]


def core_with(gpus: list[GPUInfo], note: str = "test") -> ov.Core:
    """A core whose GPU device sees ``gpus`` instead of probing this machine."""
    core = ov.Core()
    core.register_plugin(StandInPlugin(GPUDevice(lambda: (gpus, note))), name="gpu-under-test")
    return core


@pytest.fixture
def box() -> Any:
    """``box(name, visible=None)``: the GPUs of a recorded device list."""
    return recorded_gpus


@pytest.fixture
def raw_box() -> Any:
    """``raw_box(name)``: a recorded device list as stored."""
    return recorded


@pytest.fixture
def make_core() -> Any:
    """``make_core(gpus)``: a core whose GPU device sees ``gpus``."""
    return core_with


@pytest.fixture
def standins() -> Any:
    """``standins(count, memory_bytes)``: GPUs on the CPU stand-in backend."""
    return standin_gpus


@pytest.fixture
def standin_core() -> ov.Core:
    return core_with(standin_gpus())
