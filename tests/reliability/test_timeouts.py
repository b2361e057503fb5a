"""``OVLITE_INFERENCE_TIMEOUT`` on a device that can stop a run: sync calls in the caller's thread.

A sync call (``compiled(x)``, ``request.infer``) under a timeout on CPU runs in the caller's
thread, and when the timeout passes the watchdog stops the run (ONNX Runtime's
``RunOptions.terminate``): the caller gets :class:`RequestTimeoutError`, the stream is free
again at once, a result that comes too late is dropped; an asynchronous inference that
expires is stopped too, so it gives its stream back.  Devices that cannot stop a run
(SIMHANG in ``test_faults.py``) still hand the call to a worker.  The slow model is a real
ONNX ``Loop`` whose trip count is an input: a huge count runs for days unless stopped.
"""

from __future__ import annotations

import threading

import numpy as np
import onnx
import pytest
from _reliability import (
    HANG_S,
    MLP,
    SHORT_HANG_S,
    Reference,
    assert_matches,
    in_thread,
    requires_cpu,
    run_threads,
    unique_inputs,
)
from onnx import TensorProto
from onnx import helper as oh

import ovlite as ov

pytestmark = requires_cpu()

TIMEOUT_KEY = "OVLITE_INFERENCE_TIMEOUT"
#: Far above a short run of the spin model even on a loaded machine, far below HANG_S.
TIMEOUT_MS = 300
SIZE = 16
#: Iterations of the spin model that would run for days: only a stop ends them in time.
FOR_EVER = np.array(10**13, dtype=np.int64)
SHORT = np.array(5, dtype=np.int64)


def spin_model() -> onnx.ModelProto:
    """``y = Loop(n) { v = tanh(v @ w) }(x)``: as slow as its input ``n`` asks."""
    rng = np.random.default_rng(0)
    weights = (rng.random((SIZE, SIZE), dtype=np.float32) / SIZE).ravel()
    body = oh.make_graph(
        [
            oh.make_node("MatMul", ["v_in", "w"], ["m"]),
            oh.make_node("Tanh", ["m"], ["v_out"]),
            oh.make_node("Identity", ["cond_in"], ["cond_out"]),
        ],
        "body",
        [
            oh.make_tensor_value_info("i", TensorProto.INT64, []),
            oh.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            oh.make_tensor_value_info("v_in", TensorProto.FLOAT, [1, SIZE]),
        ],
        [
            oh.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            oh.make_tensor_value_info("v_out", TensorProto.FLOAT, [1, SIZE]),
        ],
    )
    graph = oh.make_graph(
        [
            oh.make_node(
                "Constant", [], ["go"], value=oh.make_tensor("t", TensorProto.BOOL, [], [True])
            ),
            oh.make_node("Loop", ["n", "go", "x"], ["y"], body=body),
        ],
        "spin",
        [
            oh.make_tensor_value_info("x", TensorProto.FLOAT, [1, SIZE]),
            oh.make_tensor_value_info("n", TensorProto.INT64, []),
        ],
        [oh.make_tensor_value_info("y", TensorProto.FLOAT, [1, SIZE])],
        initializer=[oh.make_tensor("w", TensorProto.FLOAT, [SIZE, SIZE], weights)],
    )
    return oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)], ir_version=8)


SPIN = spin_model()


def spin_reference(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(SPIN.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x, "n": n})[0]


def spin_input(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((1, SIZE), dtype=np.float32)


def timed_spin(streams: int = 1) -> ov.CompiledModel:
    return ov.Core().compile_model(
        ov.read_model(SPIN), "CPU", {TIMEOUT_KEY: TIMEOUT_MS, "NUM_STREAMS": streams}
    )


def assert_timeout_error(error: BaseException) -> None:
    assert isinstance(error, ov.RequestTimeoutError) and isinstance(error, TimeoutError)
    message = str(error)
    assert "CPU" in message, f"the error does not name the device: {message}"
    assert str(TIMEOUT_MS) in message, f"the error does not name the timeout: {message}"


def test_cpu_can_stop_a_run_so_sync_calls_stay_in_the_callers_thread() -> None:
    """What the rest relies on: CPU declares it can stop a run (plugin-side ``stoppable``)."""
    compiled = timed_spin()
    assert compiled.device_model.stoppable
    compiled.close()


def test_a_sync_call_past_the_timeout_is_stopped_and_the_stream_is_free_again() -> None:
    compiled = timed_spin(streams=1)
    request = compiled.create_infer_request()
    x = spin_input(1)
    for what, call in [
        ("compiled()", lambda: compiled({"x": x, "n": FOR_EVER})),
        ("request.infer()", lambda: request.infer({"x": x, "n": FOR_EVER})),
    ]:
        with pytest.raises(ov.RequestTimeoutError) as info:
            in_thread(call, f"{what} of a run that never ends, past its timeout")
        assert_timeout_error(info.value)
        # the only stream was given back: a run left going would hold it for days
        results = in_thread(
            lambda: compiled({"x": x, "n": SHORT}),
            f"compiled() after {what} timed out",
            limit=SHORT_HANG_S,
        )
        assert_matches(results[0], spin_reference(x, SHORT), f"after {what} timed out")
    results = in_thread(lambda: request.infer({"x": x, "n": SHORT}), "infer() afterwards")
    assert_matches(results[0], spin_reference(x, SHORT), "the request after its timeout")
    compiled.close()


def test_an_asynchronous_inference_past_the_timeout_is_stopped_and_gives_its_stream_back() -> None:
    compiled = timed_spin(streams=1)
    request = compiled.create_infer_request()
    queue = ov.AsyncInferQueue(compiled, 1)
    x = spin_input(4)
    calls: list[object] = []
    request.set_callback(calls.append)
    request.start_async({"x": x, "n": FOR_EVER}, userdata="for ever")
    with pytest.raises(ov.RequestTimeoutError) as info:
        in_thread(request.wait, "wait() on an asynchronous run past its timeout")
    assert_timeout_error(info.value)
    queue.start_async({"x": x, "n": FOR_EVER})
    with pytest.raises(ov.RequestTimeoutError):
        in_thread(queue.wait_all, "wait_all() on a queued run past its timeout")
    # the only stream was given back twice: a run left going would hold it for days
    request.start_async({"x": x, "n": SHORT}, userdata="short")
    in_thread(request.wait, "wait() after the timeouts", limit=SHORT_HANG_S)
    assert_matches(request.results[0], spin_reference(x, SHORT), "after the timeouts")
    assert calls == ["short"], f"callbacks {calls}: the stopped run must reach none"
    compiled.close()


def test_a_sync_call_waiting_for_a_busy_stream_times_out_instead_of_hanging() -> None:
    compiled = timed_spin(streams=1)
    executor = compiled.device_model.executor
    x = spin_input(2)
    context = executor._idle.get()  # white box: the only stream is held, as by a stuck run
    try:
        with pytest.raises(ov.RequestTimeoutError) as info:
            in_thread(lambda: compiled({"x": x, "n": SHORT}), "compiled() with no free stream")
        assert_timeout_error(info.value)
    finally:
        executor._idle.put(context)
    results = in_thread(lambda: compiled({"x": x, "n": SHORT}), "compiled() once a stream is free")
    assert_matches(results[0], spin_reference(x, SHORT), "once the stream was free")
    compiled.close()


def test_a_result_that_comes_after_the_timeout_is_dropped() -> None:
    """A device whose run ignores the stop and returns late: the caller gets the timeout
    error, never the late result, and only once."""
    compiled = timed_spin(streams=1)
    executor = compiled.device_model.executor
    run = executor._run_ref()
    x = spin_input(3)
    finished: list[str] = []

    def late(context: object, inputs: list[np.ndarray], stop: object) -> object:
        stopped = threading.Event()
        stop.on_stop(stopped.set)  # type: ignore[attr-defined]
        assert stopped.wait(HANG_S), "the timeout never stopped the run"
        outputs = run(context, inputs)  # a correct result, too late
        finished.append("late")
        return outputs

    executor.run_stoppable = late  # white box: the device's stoppable run
    with pytest.raises(ov.RequestTimeoutError) as info:
        in_thread(lambda: compiled({"x": x, "n": SHORT}), "compiled() returning late")
    assert_timeout_error(info.value)
    assert finished == ["late"]
    compiled.close()


def test_sync_calls_under_a_timeout_from_many_threads_get_their_own_right_results(
    reference: Reference,
) -> None:
    compiled = ov.Core().compile_model(MLP, "CPU", {TIMEOUT_KEY: 60_000, "NUM_STREAMS": 2})
    assert compiled.device_model.stoppable
    inputs = unique_inputs(4 * 150, seed=47)
    want = reference.all(inputs)
    got: dict[int, np.ndarray] = {}

    def worker(first: int) -> None:
        request = compiled.create_infer_request()
        for i in range(first, len(inputs), 4):
            if i % 2:
                got[i] = compiled({"x": inputs[i]})[0].copy()
            else:
                got[i] = request.infer({"x": inputs[i]})[0].copy()

    run_threads([lambda k=k: worker(k) for k in range(4)], HANG_S, "sync calls from 4 threads")
    assert sorted(got) == list(range(len(inputs))), "an inference was lost"
    for i, output in got.items():
        assert_matches(output, want[i], f"inference {i}")
    compiled.close()
