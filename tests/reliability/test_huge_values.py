"""Huge and odd values: timeouts beyond what Python's waits take, infinity, NaN, strings.

A setting out of range is refused at validation with a typed error naming the value and the
range; nothing a setting or a plugin passes can end a thread shared by every model (the
watchdog, BATCH's timer), and ``wait_for`` takes any number of milliseconds.
"""

from __future__ import annotations

import math
import os
import sys

import numpy as np
import pytest
from _reliability import HANG_S, MLP, Reference, in_thread, make_core, run_script, unique_inputs

import ovlite as ov
from ovlite.core import MAX_THREADS_PER_CPU
from ovlite.properties import MAX_TIMEOUT_MS
from ovlite.testing import SimulatedDevice

TIMEOUT_KEYS = ["OVLITE_INFERENCE_TIMEOUT", "AUTO_BATCH_TIMEOUT"]


@pytest.mark.parametrize("key", TIMEOUT_KEYS)
@pytest.mark.parametrize("value", [sys.maxsize, 10**13, MAX_TIMEOUT_MS + 1, math.inf, math.nan, -1])
def test_a_timeout_out_of_range_is_refused_naming_value_and_range(key: str, value: float) -> None:
    core = make_core(SimulatedDevice("SIMX"))
    with pytest.raises(ov.PropertyValueError) as info:
        core.compile_model(MLP, "SIMX", {key: value})
    message = str(info.value)
    assert key in message and repr(value) in message, message
    assert f"from 0 to {MAX_TIMEOUT_MS}" in message, message


WATCHDOG_SCRIPT = """
import sys, threading
import numpy as np
import ovlite as ov
from ovlite import models, watchdog
from ovlite.jobs import Job
from ovlite.testing import SimulatedDevice, StandInPlugin

released = threading.Event()
def hang(inputs):
    released.wait(float(sys.argv[1]))
    return False
core = ov.Core()
core.register_plugin(StandInPlugin(SimulatedDevice("SIMHANG", fail_when=hang)), name="hang")
# the first deadline, with nothing else watched: once enough to end the watchdog thread
watchdog.watch(Job([], None), float(sys.argv[2]), lambda: ov.RequestTimeoutError("never"))
compiled = core.compile_model(models.tiny_mlp(batch=1), "SIMHANG", {"OVLITE_INFERENCE_TIMEOUT": 200})
request = compiled.create_infer_request()
request.start_async({"x": np.zeros((1, 16), np.float32)})
try:
    request.wait()
except ov.RequestTimeoutError:
    print("expired", flush=True)
released.set()
"""


@pytest.mark.parametrize("first", [sys.maxsize, 10**13, math.inf])
def test_a_huge_first_deadline_leaves_the_shared_watchdog_working(first: float) -> None:
    """A plugin may pass the watchdog any timeout: another model's timeout still fires."""
    result = run_script(WATCHDOG_SCRIPT, str(HANG_S), repr(first), what="the watchdog check")
    assert "expired" in result.stdout, result.stdout + result.stderr


def test_the_longest_timeout_setting_works() -> None:
    core = make_core(SimulatedDevice("SIMX"))
    longest = core.compile_model(MLP, "SIMX", {"OVLITE_INFERENCE_TIMEOUT": MAX_TIMEOUT_MS})
    x = unique_inputs(1, seed=41)[0]
    np.testing.assert_allclose(longest({"x": x})[0], Reference()(x), rtol=1e-5, atol=1e-6)


def test_a_batch_timeout_of_the_longest_kind_waits_for_a_full_batch() -> None:
    core = make_core(SimulatedDevice("SIMX"))
    compiled = core.compile_model(MLP, "BATCH:SIMX(2)", {"AUTO_BATCH_TIMEOUT": MAX_TIMEOUT_MS})
    requests = [compiled.create_infer_request() for _ in range(2)]
    for request, x in zip(requests, unique_inputs(2, seed=43), strict=True):
        request.start_async({"x": x})
    for request in requests:
        in_thread(request.wait, "a full batch under the longest AUTO_BATCH_TIMEOUT")
    compiled.close()


@pytest.mark.parametrize("timeout", [10**13, sys.maxsize, math.inf, np.float64(1e300), -1])
def test_wait_for_takes_any_number_of_milliseconds(timeout: float) -> None:
    core = make_core(SimulatedDevice("SIMX"))
    request = core.compile_model(MLP, "SIMX").create_infer_request()
    request.start_async({"x": unique_inputs(1, seed=44)[0]})
    assert in_thread(lambda: request.wait_for(timeout), f"wait_for({timeout!r})") is True


@pytest.mark.parametrize("timeout", ["100", None, math.nan, True, [1]])
def test_wait_for_refuses_what_is_not_a_number_of_milliseconds(timeout: object) -> None:
    core = make_core(SimulatedDevice("SIMX"))
    request = core.compile_model(MLP, "SIMX").create_infer_request()
    request.infer({"x": unique_inputs(1, seed=45)[0]})
    with pytest.raises(ov.ArgumentError) as info:
        request.wait_for(timeout)  # type: ignore[arg-type]
    assert "milliseconds" in str(info.value)


@pytest.mark.parametrize("key", ["NUM_STREAMS", "INFERENCE_NUM_THREADS"])
@pytest.mark.parametrize("device", ["SIMX", "MULTI:SIMX", "HETERO:CPU"])
def test_streams_and_threads_beyond_the_cap_are_refused_naming_it(key: str, device: str) -> None:
    """1,000,000 streams or 5,000 threads compiled for minutes and hung close() and exit.
    Devices that report no RANGE_FOR_STREAMS (SIMX, meta devices) take streams up to the
    thread cap, 4 per logical CPU."""
    core = make_core(SimulatedDevice("SIMX"))
    if "CPU" in device and "CPU" not in core.available_devices:
        pytest.skip("CPU is not available")
    cap = MAX_THREADS_PER_CPU * (os.cpu_count() or 1)
    for value in (cap + 1, 1_000_000):
        with pytest.raises(ov.PropertyValueError) as info:
            core.compile_model(MLP, device, {key: value})
        message = str(info.value)
        assert key in message and str(value) in message and f"at most {cap}" in message
    core.compile_model(MLP, device, {key: 2}).close()


@pytest.mark.parametrize("device", ["SIMRANGE", "CPU", "MULTI:SIMRANGE", "BATCH:CPU(2)"])
def test_streams_beyond_the_devices_range_for_streams_are_refused_naming_it(device: str) -> None:
    """NUM_STREAMS above the upper bound of the device's RANGE_FOR_STREAMS is refused with
    the value, the bound and the device; the bound itself compiles and runs that many
    streams.  Through a meta device the child that refuses is named (the meta device's own
    cap, 4 streams per logical CPU, refuses a huge value first)."""
    core = make_core(SimulatedDevice("SIMRANGE", max_streams=3))
    if "CPU" in device and "CPU" not in core.available_devices:
        pytest.skip("CPU is not available")
    child = device.split(":")[-1].split("(")[0]
    low, high = core.get_property(child, "RANGE_FOR_STREAMS")
    assert 1 <= low <= high
    for value in (high + 1, 1_000_000) if child == device else (high + 1,):
        for config in (
            {"NUM_STREAMS": value},
            {"DEVICE_PROPERTIES": {child: {"NUM_STREAMS": value}}},
        ):
            with pytest.raises(ov.PropertyValueError) as info:
                core.compile_model(MLP, device, config)
            message = str(info.value)
            assert "NUM_STREAMS" in message and str(value) in message, message
            assert f"at most {high}" in message and "RANGE_FOR_STREAMS" in message, message
            assert f"on {child}" in message, f"the error does not name the device: {message}"
    compiled = core.compile_model(MLP, child, {"NUM_STREAMS": high})
    assert compiled.get_property("NUM_STREAMS") == high
    x = unique_inputs(1, seed=48)[0]
    np.testing.assert_allclose(compiled({"x": x})[0], Reference()(x), rtol=1e-5, atol=1e-6)
    compiled.close()
