"""Helpers of the reliability suite: scale, reference outputs, simulated faults, hang guards.

Counts scale with the environment variable ``OVLITE_STRESS_SCALE`` (a float; 1 is the size the
issue asks for, the default keeps CI to a few minutes on two cores).  No test asserts a
duration: every limit here is a hang detector, far above what a correct run needs.
"""

from __future__ import annotations

import gc
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import ovlite as ov
from ovlite import models
from ovlite.testing import StandInPlugin

#: 1.0 is full size (100,000 stress requests per device, 10,000 / 1,000,000 for memory).
#: The default, 0.1, runs 10,000 stress requests per device and 1,000 / 100,000 for memory.
SCALE = float(os.environ.get("OVLITE_STRESS_SCALE", "0.1"))

#: How long anything may take before the suite calls it a hang (seconds).  Not a performance
#: claim: a correct run needs a small fraction of it even on a loaded two-core machine.
HANG_S = 60.0
#: The same, for waiting on work that is already unblocked (one tiny inference, a thread that
#: only has to notice a stop): where a regression would hang, it fails sooner.
SHORT_HANG_S = 10.0

#: The tiny MLP: input "x" float32 [1, 16], output "y" float32 [1, 8].
MLP_PROTO = models.tiny_mlp(batch=1)
MLP = ov.read_model(MLP_PROTO)

#: Values the simulated devices look for in x[0, 1] (generated inputs lie in [-1, 1]).
FAIL_MARK = -7.0
HANG_MARK = 7.0

#: Tolerance against the plain ONNX Runtime reference.  Today results are bit-identical; the
#: tolerance allows float32 summation in another order (32 products per output) and stays
#: orders of magnitude below the distance between the outputs of two different random inputs,
#: so a result delivered to the wrong request cannot pass.
RTOL, ATOL = 1e-5, 1e-6


def scaled(full: int, minimum: int) -> int:
    """``full`` times the scale, but never below ``minimum``."""
    return max(minimum, round(full * SCALE))


def unique_inputs(count: int, seed: int = 0) -> np.ndarray:
    """``count`` distinct inputs for the tiny MLP, shape ``[count, 1, 16]``, values in [-1, 1]."""
    rng = np.random.default_rng(seed)
    inputs = rng.uniform(-1.0, 1.0, size=(count, 1, 16)).astype(np.float32)
    assert np.unique(inputs.reshape(count, -1), axis=0).shape[0] == count, "inputs not unique"
    return inputs


def marked(x: np.ndarray, mark: float) -> np.ndarray:
    """A copy of ``x`` carrying ``mark`` in x[0, 1], for the simulated devices to act on."""
    x = np.array(x, copy=True)
    x[0, 1] = mark
    return x


def is_marked(inputs: Any, mark: float) -> bool:
    return bool(inputs[0][0, 1] == mark)


class Reference:
    """Expected outputs from a plain single-threaded ONNX Runtime session, no ovlite involved."""

    def __init__(self) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            MLP_PROTO.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
        self._lock = threading.Lock()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        with self._lock:
            return self._session.run(None, {"x": x})[0]

    def all(self, inputs: np.ndarray) -> np.ndarray:
        """Reference outputs of every input, one run each (shape ``[count, 1, 8]``)."""
        return np.stack([self(x) for x in inputs])


def assert_matches(got: Any, want: np.ndarray, what: str) -> None:
    np.testing.assert_allclose(
        np.asarray(got), want, rtol=RTOL, atol=ATOL, err_msg=f"{what}: wrong result"
    )


def make_core(*devices: ov.Device) -> ov.Core:
    """A Core with the given simulated devices registered in-process (this Core only)."""
    core = ov.Core()
    core.register_plugin(StandInPlugin(*devices), name="reliability")
    return core


class Gate:
    """``fail_when`` for a SimulatedDevice: hangs inferences marked HANG_MARK until released,
    fails those marked FAIL_MARK.

    A hung inference holds its stream, as a stuck driver call would.  Even unreleased it gives
    up after ``HANG_S`` so a failing test never leaves a thread blocked for ever.
    """

    def __init__(self) -> None:
        self.released = threading.Event()
        self.entered = threading.Semaphore(0)  # one release per hung inference that began
        self.hung = 0

    def __call__(self, inputs: Any) -> bool:
        if is_marked(inputs, HANG_MARK):
            self.hung += 1
            self.entered.release()
            self.released.wait(HANG_S)
            return False
        return is_marked(inputs, FAIL_MARK)

    def wait_entered(self, count: int = 1) -> None:
        """Wait until ``count`` hung inferences are running on the device."""
        for _ in range(count):
            assert self.entered.acquire(timeout=HANG_S), "the hung inference never started"

    def release(self) -> None:
        self.released.set()


class Dying:
    """``fail_when`` for a device that works for ``healthy`` inferences and then fails every one."""

    def __init__(self, healthy: int) -> None:
        self.healthy = healthy
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, inputs: Any) -> bool:
        with self._lock:
            self.calls += 1
            return self.calls > self.healthy


def in_thread(function: Callable[[], Any], what: str, limit: float = HANG_S) -> Any:
    """Run ``function`` in a helper thread and return its result or raise its exception; a
    call still running after ``limit`` seconds fails the test as a hang (the helper is a
    daemon, so a real hang cannot keep the test process alive)."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = function()
        except BaseException as exc:  # handed to the test's thread below
            outcome["error"] = exc

    thread = threading.Thread(target=target, name=f"reliability: {what}", daemon=True)
    thread.start()
    thread.join(limit)
    if thread.is_alive():
        raise AssertionError(f"hang: {what} did not return within {limit:.0f} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")


def run_script(script: str, *args: str, what: str) -> subprocess.CompletedProcess:
    """Run ``script`` in a fresh interpreter with the installed plugins; fail as a hang if it
    has not exited after ``HANG_S``."""
    environment = {k: v for k, v in os.environ.items() if k != "OVLITE_PLUGINS"}
    try:
        return subprocess.run(
            [sys.executable, "-c", textwrap.dedent(script), *args],
            capture_output=True,
            text=True,
            timeout=HANG_S,
            env=environment,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"hang: {what} did not exit within {HANG_S} s") from None


def run_threads(targets: list[Callable[[], Any]], limit: float, what: str) -> None:
    """Run each target in its own thread; re-raise the first exception; fail on a hang."""
    errors: list[BaseException] = []

    def guarded(target: Callable[[], Any]) -> None:
        try:
            target()
        except BaseException as exc:  # reported in the test's thread below
            errors.append(exc)

    threads = [
        threading.Thread(target=guarded, args=(t,), name=f"reliability-{i}", daemon=True)
        for i, t in enumerate(targets)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + limit
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    alive = [t.name for t in threads if t.is_alive()]
    if alive:
        raise AssertionError(f"hang: {what}: {len(alive)} threads still running after {limit} s")
    if errors:
        raise errors[0]


_STREAM_THREAD = re.compile(r".*-stream\d+$")


def stream_threads(exclude: set[threading.Thread]) -> list[threading.Thread]:
    """Live streams-executor workers (named ``<device>-stream<N>``) not in ``exclude``."""
    return [t for t in threading.enumerate() if _STREAM_THREAD.match(t.name) and t not in exclude]


def wait_for_threads_to_exit(before: set[threading.Thread], limit: float = HANG_S) -> list[str]:
    """Wait until every worker thread started since ``before`` has exited; return the names of
    those still alive after ``limit`` seconds (empty when none was left behind).  It collects
    garbage while it waits: a model dropped in a reference cycle closes its workers only once
    the cycle is collected, which an idle test would otherwise never trigger."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        left = stream_threads(before)
        if not left:
            return []
        gc.collect()
        time.sleep(0.02)
    return [t.name for t in stream_threads(before)]


def live_threads() -> set[threading.Thread]:
    """The threads alive now (compared by identity: an OS thread id may be reused)."""
    return set(threading.enumerate())


def requires_cpu() -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        "CPU" not in ov.Core().available_devices, reason="the ovlite-cpu plugin is not installed"
    )
