"""Callbacks that call back into ovlite, and devices that raise BaseException.

Each pattern either works or raises a typed error naming it; none hangs (every wait is a
hang detector).  A ``SystemExit`` or ``KeyboardInterrupt`` raised by a device's run finishes
its job exactly once: an ``InferenceError`` caused by it, retried elsewhere under MULTI.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import numpy as np
import pytest
from _reliability import (
    FAIL_MARK,
    MLP,
    Reference,
    assert_matches,
    in_thread,
    is_marked,
    make_core,
    marked,
    unique_inputs,
)

import ovlite as ov
from ovlite.testing import SimulatedDevice

ONE_STREAM = {"NUM_STREAMS": 1}


def one_stream_model(device: str = "CPU") -> ov.CompiledModel:
    """One stream, so a callback holding it would starve any inference it starts."""
    core = make_core(SimulatedDevice("SIMX"))
    if "CPU" in device and "CPU" not in core.available_devices:
        pytest.skip("CPU is not available")
    config = {"DEVICE_PROPERTIES": {"CPU": ONE_STREAM, "SIMX": ONE_STREAM}}
    if not device.startswith("MULTI"):
        config = ONE_STREAM
    return core.compile_model(MLP, device, config)


@pytest.mark.parametrize("device", ["CPU", "SIMX", "MULTI:CPU,SIMX"])
def test_a_queue_callback_that_feeds_the_next_frame_never_hangs(
    device: str, reference: Reference
) -> None:
    """The OpenVINO idiom: each callback starts the next frame with ``queue.start_async``.
    With every request in flight the queue grows by one instead of waiting for itself."""
    compiled = one_stream_model(device)
    queue = ov.AsyncInferQueue(compiled, 2)
    inputs = unique_inputs(60, seed=50)
    answered: Counter[int] = Counter()
    results: dict[int, np.ndarray] = {}
    started = iter(range(2, len(inputs)))
    lock = threading.Lock()

    def callback(request: ov.InferRequest, index: int) -> None:
        results[index] = request.results[0].copy()
        with lock:
            answered[index] += 1
            following = next(started, None)
        if following is not None:
            queue.start_async({"x": inputs[following]}, userdata=following)

    queue.set_callback(callback)
    queue.start_async({"x": inputs[0]}, userdata=0)
    queue.start_async({"x": inputs[1]}, userdata=1)

    def until_all_answered() -> None:
        while len(answered) < len(inputs):
            queue.wait_all()

    in_thread(until_all_answered, "frames fed from the queue's callbacks")
    assert set(answered.values()) == {1}, "an answer was lost or doubled"
    for index, x in enumerate(inputs):
        assert_matches(results[index], reference(x), f"frame {index}")
    compiled.close()


def test_wait_all_from_a_queue_callback_raises_a_reentrancy_error() -> None:
    compiled = one_stream_model("SIMX")
    queue = ov.AsyncInferQueue(compiled, 2)
    queue.set_callback(lambda request, userdata: queue.wait_all())
    queue.start_async({"x": unique_inputs(1, seed=51)[0]})
    with pytest.raises(ov.ReentrancyError) as info:
        in_thread(queue.wait_all, "wait_all() after a callback called wait_all()")
    assert "wait_all()" in str(info.value) and "callback" in str(info.value)
    in_thread(queue.wait_all, "wait_all() once the error was raised")


def test_wait_in_a_requests_own_callback_returns(reference: Reference) -> None:
    compiled = one_stream_model("SIMX")
    request = compiled.create_infer_request()
    seen: list[Any] = []

    def callback(userdata: Any) -> None:
        request.wait()
        seen.append(request.wait_for(1000))
        seen.append(request.results[0].copy())

    request.set_callback(callback)
    x = unique_inputs(1, seed=52)[0]
    request.start_async({"x": x})
    in_thread(request.wait, "wait() after a callback that waited for its own request")
    assert seen[0] is True
    assert_matches(seen[1], reference(x), "results read in the callback")


@pytest.mark.parametrize("device", ["CPU", "SIMX", "BATCH:SIMX(2)", "MULTI:CPU,SIMX"])
def test_a_sync_inference_from_a_callback_on_a_one_stream_model_runs(
    device: str, reference: Reference
) -> None:
    """The stream is free again before the callback runs, so ``compiled(x)`` in it runs."""
    compiled = one_stream_model(device)
    x, y = unique_inputs(2, seed=53)
    inner: list[np.ndarray] = []
    request = compiled.create_infer_request()
    request.set_callback(lambda _: inner.append(compiled({"x": y})[0].copy()))
    request.start_async({"x": x})
    in_thread(request.wait, "a callback running a sync inference on the same model")
    assert_matches(inner[0], reference(y), "the sync inference in the callback")
    queue = ov.AsyncInferQueue(compiled, 1)
    queue.set_callback(lambda r, _: inner.append(compiled({"x": y})[0].copy()))
    queue.start_async({"x": x})
    in_thread(queue.wait_all, "a queue callback running a sync inference")
    assert_matches(inner[1], reference(y), "the sync inference in the queue's callback")


# ---- BaseException from a device ---------------------------------------------------------------


def raising(kind: type[BaseException]) -> Any:
    """``fail_when`` raising ``kind`` for inputs marked FAIL_MARK, as a broken driver might."""

    def fail_when(inputs: Any) -> bool:
        if is_marked(inputs, FAIL_MARK):
            raise kind("raised by the device")
        return False

    return fail_when


@pytest.mark.parametrize("kind", [SystemExit, KeyboardInterrupt, GeneratorExit])
@pytest.mark.parametrize("device", ["SIMBAD", "MULTI:SIMBAD,SIMX"])
def test_a_base_exception_from_a_device_finishes_the_job_once(
    device: str, kind: type[BaseException], reference: Reference
) -> None:
    """Alone, each such job fails with an InferenceError caused by the exception; under
    MULTI it is re-run on SIMX.  Every job is answered once; the device goes on working."""
    core = make_core(
        SimulatedDevice("SIMBAD", fail_when=raising(kind), throughput_streams=2),
        SimulatedDevice("SIMX"),
    )
    compiled = core.compile_model(MLP, device, {"PERFORMANCE_HINT": "THROUGHPUT"})
    inputs = unique_inputs(40, seed=54)
    bad = set(range(0, len(inputs), 4))
    for index in bad:
        inputs[index] = marked(inputs[index], FAIL_MARK)
    queue = ov.AsyncInferQueue(compiled, 4)
    answered: Counter[int] = Counter()
    queue.set_callback(lambda request, index: answered.update([index]))
    failures: list[BaseException] = []
    for index, x in enumerate(inputs):
        while True:  # a start_async that raises an earlier failure did not start its job
            try:
                in_thread(lambda x=x, i=index: queue.start_async({"x": x}, userdata=i), "start")
                break
            except ov.InferenceError as error:
                failures.append(error)
    while True:
        try:
            in_thread(queue.wait_all, "wait_all() with BaseExceptions from the device")
            break
        except ov.InferenceError as error:
            failures.append(error)
    alone = device == "SIMBAD"
    assert set(answered) == (set(range(len(inputs))) - bad if alone else set(range(len(inputs))))
    assert set(answered.values()) == {1}
    assert len(failures) == (len(bad) if alone else 0)
    for error in failures:
        assert isinstance(error.__cause__, kind), error
    request = compiled.create_infer_request()
    request.start_async({"x": inputs[1]})
    in_thread(request.wait, "an inference after the BaseExceptions")
    assert_matches(request.results[0], reference(inputs[1]), "the next inference")
