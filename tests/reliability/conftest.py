"""Fixtures and the figures summary of the reliability suite; helpers live in _reliability.py.

Test modules import ``_reliability`` (this folder is put on ``sys.path`` here, since the
suite runs with ``--import-mode=importlib``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import ovlite as ov
from ovlite.testing import SimulatedDevice

sys.path.insert(0, str(Path(__file__).parent))

from _reliability import (  # noqa: E402
    SCALE,
    Reference,
    live_threads,
    make_core,
    wait_for_threads_to_exit,
)

# ---- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def reference() -> Reference:
    return Reference()


@pytest.fixture
def simx() -> SimulatedDevice:
    """A second device for MULTI on this CPU-only machine: real ONNX Runtime results."""
    return SimulatedDevice("SIMX")


@pytest.fixture
def reliability_core(simx: SimulatedDevice) -> ov.Core:
    """A Core with the installed plugins (CPU) and SIMX registered in-process."""
    return make_core(simx)


@pytest.fixture
def no_new_stream_threads() -> Iterator[None]:
    """Fail the test if a streams-executor worker it started is still alive at its end."""
    before = live_threads()
    yield
    left = wait_for_threads_to_exit(before)
    assert not left, f"worker threads left behind: {left}"


_FIGURES = pytest.StashKey[list[str]]()


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """``figures(line)`` records a measured figure, printed in the terminal summary."""
    stash = request.config.stash.setdefault(_FIGURES, [])
    return stash.append


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    lines = config.stash.get(_FIGURES, [])
    if lines:
        terminalreporter.section(f"ovlite reliability figures (OVLITE_STRESS_SCALE={SCALE:g})")
        for line in lines:
            terminalreporter.write_line(line)
