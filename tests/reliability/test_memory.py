"""Memory stays flat: resident memory after 100x more requests is within 5% of after warm-up.

Each measurement runs ``memory_probe.py`` in a fresh interpreter, so nothing the rest of the
suite allocated is counted.  Full size (``OVLITE_STRESS_SCALE=1``) is 10,000 requests of
warm-up and 1,000,000 in all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from _reliability import HANG_S, MLP, make_core, requires_cpu, scaled, unique_inputs

from ovlite import watchdog
from ovlite.testing import SimulatedDevice

PROBE = Path(__file__).with_name("memory_probe.py")
MIB = 1024 * 1024
#: Allowed growth: 5 % of the resident memory after warm-up (the issue's bound) ...
RELATIVE = 0.05
#: ... plus 2 MiB.  Resident memory moves in steps that say nothing about leaks: the glibc
#: allocator grows a thread's heap and CPython its object arenas by up to 1 MiB at a time, and a
#: garbage collection or a thread stack touched for the first time shows up as a few pages.  A
#: leak of about 70 bytes per request exceeds 5 % + 2 MiB within 100,000 requests (CI size),
#: one of about 7 bytes within 1,000,000 (full size); the self-check below proves the method.
SLACK = 2 * MIB


def measure(device: str, warmup: int, total: int, leak_bytes: int = 0) -> dict:
    environment = {k: v for k, v in os.environ.items() if k != "OVLITE_PLUGINS"}
    command = [sys.executable, str(PROBE), device, str(warmup), str(total), str(leak_bytes)]
    limit = HANG_S + total / 200  # a hang detector: the probe runs thousands of requests/s
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=limit, env=environment
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"hang: the memory probe on {device} ran over {limit:.0f} s") from None
    assert result.returncode == 0, f"memory probe failed:\n{result.stdout}\n{result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def growth(report: dict) -> tuple[int, int, int]:
    """(RSS after warm-up, RSS at the end, allowed RSS at the end)."""
    before, after = report["marks"][0][1], report["marks"][-1][1]
    return before, after, int(before * (1 + RELATIVE)) + SLACK


@requires_cpu()
@pytest.mark.parametrize("device", ["CPU", "MULTI:CPU,SIMX"])
def test_resident_memory_stays_flat_over_100x_more_requests(
    device: str, figures: Callable[[str], None]
) -> None:
    warmup = scaled(10_000, 1_000)
    total = 100 * warmup
    report = measure(device, warmup, total)
    before, after, allowed = growth(report)
    path = ", ".join(f"{n}: {rss / MIB:.1f}" for n, rss in report["marks"])
    figures(
        f"memory {device}: RSS {before / MIB:.1f} MiB after {warmup} requests, "
        f"{after / MIB:.1f} MiB after {total} ({(after - before) / MIB:+.2f} MiB) in "
        f"{report['seconds']:.1f} s; {report['threads']} threads at the end"
    )
    assert after <= allowed, (
        f"resident memory grew from {before / MIB:.1f} MiB after {warmup} requests to "
        f"{after / MIB:.1f} MiB after {total} (allowed {allowed / MIB:.1f} MiB); "
        f"MiB by requests: {path}"
    )


@requires_cpu()
def test_the_memory_check_catches_a_leak_of_256_bytes_per_request() -> None:
    """The measurement itself works: a deliberate small leak must fail the bound above."""
    report = measure("CPU", 1_000, 100_000, leak_bytes=256)
    before, after, allowed = growth(report)
    assert after > allowed, (
        f"a 256-byte-per-request leak went unnoticed: {before / MIB:.1f} -> {after / MIB:.1f} MiB"
    )


@pytest.mark.parametrize(
    "device", ["SIMX", pytest.param("CPU", marks=requires_cpu())], ids=["hand-off", "stoppable"]
)
def test_the_watchdog_holds_nothing_for_jobs_that_finished_in_time(device: str) -> None:
    """With a one-hour timeout, finished inferences leave no entry waiting for their deadline
    (a few hundred at most, until the heap is next compacted): sync calls handed to a worker
    (SIMX) and sync calls that run in the caller's thread, stoppable (CPU)."""
    compiled = make_core(SimulatedDevice("SIMX")).compile_model(
        MLP, device, {"OVLITE_INFERENCE_TIMEOUT": 3_600_000}
    )
    assert compiled.device_model.stoppable == (device == "CPU")
    x = unique_inputs(1, seed=46)[0]
    request = compiled.create_infer_request()
    for _ in range(2000):
        compiled({"x": x})
        request.infer({"x": x})
    compiled.close()
    assert len(watchdog._heap) < 1000, f"{len(watchdog._heap)} deadlines kept"
