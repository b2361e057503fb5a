"""Shutdown: closing or garbage-collecting a compiled model with requests in flight finishes or
cancels each of them cleanly, with no hang and no worker thread left behind, and the
interpreter exits promptly with inferences still running.

Hangs are detected with generous limits (a helper thread joined with a timeout, ``wait_for``
with a limit, a subprocess timeout), never with timing assertions.
"""

from __future__ import annotations

import gc
import subprocess
import threading
import time
import weakref
from collections import Counter

import pytest
from _reliability import (
    HANG_S,
    MLP,
    SHORT_HANG_S,
    Reference,
    assert_matches,
    in_thread,
    live_threads,
    make_core,
    run_script,
    unique_inputs,
    wait_for_threads_to_exit,
)

import ovlite as ov
from ovlite.testing import SimulatedDevice

THROUGHPUT = {"PERFORMANCE_HINT": "THROUGHPUT"}


def simulated_core(delay_ms: float = 2.0) -> ov.Core:
    """SIMX and SIMY, with a delay per inference so that closing finds jobs queued and running."""
    return make_core(
        SimulatedDevice("SIMX", delay_ms=delay_ms), SimulatedDevice("SIMY", delay_ms=delay_ms)
    )


def skip_without(device: str, core: ov.Core) -> None:
    for name in device.replace("MULTI:", "").split(","):
        if name not in core.available_devices:
            pytest.skip(f"{name} is not installed")


@pytest.mark.parametrize(
    "device",
    [
        "CPU",
        "SIMX",
        "MULTI:SIMX,SIMY",
    ],
)
def test_closing_with_requests_in_flight_completes_or_cancels_each_one(
    device: str, reference: Reference
) -> None:
    core = simulated_core(delay_ms=20)  # 20 jobs of 20 ms on 4 slots: most wait at close()
    skip_without(device, core)
    before = live_threads()
    compiled = core.compile_model(MLP, device, THROUGHPUT)
    inputs = unique_inputs(40, seed=20)
    requests = [compiled.create_infer_request() for _ in range(16)]
    queue = ov.AsyncInferQueue(compiled, 4)
    seen: list[int] = []
    queue.set_callback(lambda request, i: seen.append(i))
    for i, request in enumerate(requests):
        request.start_async({"x": inputs[i]})
    for i in range(16, 20):
        queue.start_async({"x": inputs[i]}, userdata=i)

    in_thread(compiled.close, "close() with requests in flight")

    outcomes: Counter[str] = Counter()
    for i, request in enumerate(requests):
        try:
            assert request.wait_for(HANG_S * 1000), f"hang: request {i} never finished"
        except ov.RequestCancelledError:
            outcomes["cancelled"] += 1
        except Exception as error:
            raise AssertionError(f"request {i}: {type(error).__name__}: {error}") from None
        else:
            assert_matches(request.results[0], reference(inputs[i]), f"request {i}")
            outcomes["completed"] += 1
    errors: list[BaseException] = []
    while True:
        try:
            in_thread(queue.wait_all, "queue.wait_all() after close()")
            break
        except ov.RequestCancelledError as error:
            errors.append(error)
        except Exception as error:
            raise AssertionError(f"queue: {type(error).__name__}: {error}") from None
    assert len(seen) + len(errors) == 4 and len(set(seen)) == len(seen)
    assert sum(outcomes.values()) == 16

    # after close: every way in fails at once with RequestCancelledError, nothing hangs
    request = requests[0]
    with pytest.raises(ov.RequestCancelledError):
        in_thread(lambda: request.infer({"x": inputs[30]}), "infer() after close()")
    request.start_async({"x": inputs[31]})
    with pytest.raises(ov.RequestCancelledError):
        in_thread(request.wait, "wait() after close()")
    with pytest.raises(ov.RequestCancelledError):
        in_thread(lambda: compiled({"x": inputs[32]}), "compiled() after close()")
    in_thread(compiled.close, "a second close()")
    left = wait_for_threads_to_exit(before)
    assert not left, f"worker threads left behind: {left}"


def test_closing_multi_with_many_requests_waiting_loses_none() -> None:
    core = simulated_core(delay_ms=20)
    compiled = core.compile_model(MLP, "MULTI:SIMX,SIMY", THROUGHPUT)
    inputs = unique_inputs(200, seed=21)
    requests = [compiled.create_infer_request() for _ in range(200)]
    for request, x in zip(requests, inputs, strict=True):
        request.start_async({"x": x})
    in_thread(compiled.close, "close() with 200 requests in flight")
    deadline = time.monotonic() + SHORT_HANG_S  # one limit for all, not one per request
    lost = [i for i, r in enumerate(requests) if not _finished(r, deadline - time.monotonic())]
    assert not lost, f"hang: {len(lost)} of 200 requests never finished after close()"


def _finished(request: ov.InferRequest, limit_s: float) -> bool:
    """Whether the request's inference ended (in any way) within ``limit_s`` seconds."""
    try:
        return request.wait_for(max(0.0, limit_s) * 1000)
    except ov.OvliteError:
        return True


@pytest.mark.parametrize("device", ["CPU", "SIMX", "MULTI:SIMX,SIMY", "MULTI:CPU,SIMX"])
def test_garbage_collecting_a_compiled_model_with_requests_in_flight(device: str) -> None:
    """Dropping every reference while inferences run: each finishes (the jobs keep the model
    alive until then), each callback runs once, then the model is collected and its worker
    threads exit."""
    core = simulated_core()
    skip_without(device, core)
    before = live_threads()
    answered: list[int] = []
    lock = threading.Lock()

    def record(i: int) -> None:
        with lock:
            answered.append(i)

    def start_and_forget() -> weakref.ref:
        compiled = core.compile_model(MLP, device, THROUGHPUT)
        inputs = unique_inputs(60, seed=22)
        queue = ov.AsyncInferQueue(compiled, 6)
        queue.set_callback(lambda request, i: record(i))
        for i in range(30):
            queue.start_async({"x": inputs[i]}, userdata=i)
        for i in range(30, 60):
            request = compiled.create_infer_request()
            request.set_callback(record, i)
            request.start_async({"x": inputs[i]})
        return weakref.ref(compiled)

    model = start_and_forget()
    deadline = time.monotonic() + HANG_S
    while model() is not None and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.02)
    assert model() is None, "the compiled model was never garbage-collected"
    left = wait_for_threads_to_exit(before)
    assert not left, f"worker threads left behind: {left}"
    assert sorted(answered) == list(range(60)), "an inference in flight was lost or repeated"


EXIT_SCRIPT = """
    import sys, threading
    import numpy as np
    import onnx
    import ovlite as ov
    from ovlite import models
    from ovlite.testing import SimulatedDevice, StandInPlugin

    device, heavy = sys.argv[1], sys.argv[2] == "heavy"
    never = threading.Event()  # a device stuck for good on inputs marked 7.0

    def stuck(inputs):
        if inputs[0].flat[1] == 7.0:
            never.wait()
        return False

    core = ov.Core()
    core.register_plugin(
        StandInPlugin(SimulatedDevice("SIMX", delay_ms=1), SimulatedDevice("STUCK", fail_when=stuck)),
        name="reliability",
    )
    if heavy:  # three 384x384 MatMuls: ONNX Runtime is busy inside every inference for a while
        h = onnx.helper
        w = h.make_tensor("w", onnx.TensorProto.FLOAT, [384, 384], np.full(384 * 384, 1e-3, np.float32))
        nodes = [h.make_node("MatMul", [a, "w"], [b]) for a, b in (("x", "h1"), ("h1", "h2"), ("h2", "y"))]
        graph = h.make_graph(
            nodes, "heavy",
            [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [384, 384])],
            [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [384, 384])],
            [w],
        )
        model, shape, count = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)], ir_version=10), (384, 384), 40
    else:
        model, shape, count = models.tiny_mlp(batch=1), (1, 16), 300
    compiled = core.compile_model(model, device, {"PERFORMANCE_HINT": "THROUGHPUT"})
    x = np.zeros(shape, np.float32)
    queue = ov.AsyncInferQueue(compiled)
    for i in range(len(queue)):
        queue.start_async({"x": x}, userdata=i)
    requests = [compiled.create_infer_request() for _ in range(count)]
    for request in requests:
        request.start_async({"x": x})
    hung = core.compile_model(models.tiny_mlp(batch=1), "STUCK").create_infer_request()
    y = np.zeros((1, 16), np.float32)
    y[0, 1] = 7.0
    hung.start_async({"x": y})
    print("leaving with inferences in flight", flush=True)
"""


def run_and_leave(device: str, load: str) -> subprocess.CompletedProcess:
    """Run EXIT_SCRIPT; fail as a hang if the interpreter has not exited after HANG_S."""
    result = run_script(EXIT_SCRIPT, device, load, what="the interpreter")
    assert "leaving with inferences in flight" in result.stdout, result.stderr
    return result


@pytest.mark.parametrize("load", ["light", "heavy"])
@pytest.mark.parametrize("device", ["CPU", "SIMX", "MULTI:CPU,SIMX"])
def test_the_interpreter_exits_promptly_with_inferences_in_flight(device: str, load: str) -> None:
    """A program that leaves without waiting, one inference stuck on a device for good and
    many more queued or running: the interpreter does not hang at exit (how cleanly it
    exits is the next test)."""
    skip_without(device, simulated_core())
    run_and_leave(device, load)


def test_the_interpreter_exits_cleanly_with_inferences_running() -> None:
    skip_without("CPU", simulated_core())
    result = run_and_leave("CPU", "heavy")
    assert result.returncode == 0, f"exit status {result.returncode}:\n{result.stderr}"


def test_closing_from_a_callback_leaves_no_worker_thread(reference: Reference) -> None:
    core = simulated_core()
    before = live_threads()
    compiled = core.compile_model(MLP, "SIMX", {"NUM_STREAMS": 2})
    x = unique_inputs(1, seed=23)[0]
    request = compiled.create_infer_request()
    request.set_callback(lambda userdata: compiled.close())
    request.start_async({"x": x})
    in_thread(request.wait, "wait() for the inference whose callback closed the model")
    assert_matches(request.results[0], reference(x), "the inference whose callback closed")
    left = wait_for_threads_to_exit(before, SHORT_HANG_S)
    assert not left, f"worker threads left behind: {left}"


class _CloseDuringSubmit:
    """Stands in for a streams executor's job queue and makes one submit() lose the race with
    close(): the first job put from the submitting thread lets close() run first (in another
    thread, waited for a while), then goes into the queue.  This forces the interleaving
    `submit: not closed -> close(): stop workers, drain queue -> submit: put job`, which the
    unsynchronised check-then-put in StreamsExecutor.submit allows under load."""

    def __init__(self, executor: ov.StreamsExecutor) -> None:
        self._queue = executor._jobs
        self._executor = executor
        self._submitter = threading.current_thread()
        self._armed = True

    def put(self, item: object) -> None:
        if self._armed and threading.current_thread() is self._submitter:
            self._armed = False
            closer = threading.Thread(target=self._executor.close, daemon=True)
            closer.start()
            closer.join(2.0)  # an executor that makes close() wait for this submit is fine too
        self._queue.put(item)

    def __getattr__(self, name: str) -> object:
        return getattr(self._queue, name)


def test_a_submit_racing_close_never_strands_its_job() -> None:
    core = simulated_core()
    compiled = core.compile_model(MLP, "SIMX", {"NUM_STREAMS": 1})
    executor = compiled.device_model.executor  # white box: the race needs a precise interleaving
    executor._jobs = _CloseDuringSubmit(executor)
    request = compiled.create_infer_request()
    request.start_async({"x": unique_inputs(1, seed=24)[0]})
    assert _finished(request, SHORT_HANG_S), "hang: the inference submitted during close()"


class _CloseAfterFirstWorker(list):
    """Stands in for a streams executor's list of worker threads and makes close() run while
    the first asynchronous submit is still starting the workers: after the first worker is
    listed, close() runs in another thread (waited for a while) before the next one starts.
    This forces the interleaving that close() and StreamsExecutor._start_workers allow."""

    def __init__(self, executor: ov.StreamsExecutor) -> None:
        super().__init__()
        self._executor = executor

    def append(self, thread: threading.Thread) -> None:
        super().append(thread)
        if len(self) == 1:
            closer = threading.Thread(target=self._executor.close, daemon=True)
            closer.start()
            closer.join(2.0)  # an executor that makes close() wait for the start-up is fine too


def test_a_close_racing_the_first_submit_leaves_no_worker_behind() -> None:
    core = simulated_core()
    before = live_threads()
    compiled = core.compile_model(MLP, "SIMX", {"NUM_STREAMS": 2})
    executor = compiled.device_model.executor  # white box: the race needs a precise interleaving
    executor._threads = _CloseAfterFirstWorker(executor)
    request = compiled.create_infer_request()
    request.start_async({"x": unique_inputs(1, seed=26)[0]})
    assert _finished(request, SHORT_HANG_S), "hang: the inference started during close()"
    left = wait_for_threads_to_exit(before, SHORT_HANG_S)
    assert not left, f"worker threads left behind: {left}"


@pytest.mark.parametrize("device", ["CPU", "SIMX", "MULTI:SIMX,SIMY"])
def test_closing_while_threads_keep_starting_inferences_hangs_nobody(device: str) -> None:
    """Eight threads start inferences in a loop while the model is closed under them: every
    start either completes or fails with RequestCancelledError; nobody waits for ever; no
    worker is left.  The workers run before the threads start (the race of close() with
    their start-up is the test above)."""
    core = simulated_core()
    skip_without(device, core)
    before = live_threads()
    for _ in range(5):
        close_under_load(core.compile_model(MLP, device, THROUGHPUT))
    left = wait_for_threads_to_exit(before)
    assert not left, f"worker threads left behind: {left}"


def close_under_load(compiled: ov.CompiledModel) -> None:
    inputs = unique_inputs(8, seed=25)
    warm = compiled.create_infer_request()  # starts the workers
    warm.start_async({"x": inputs[0]})
    in_thread(warm.wait, "a first asynchronous inference")
    stop = threading.Event()
    running = threading.Semaphore(0)  # one release per thread, after its first inference
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def worker(t: int) -> None:
        request = compiled.create_infer_request()
        first = True
        while not stop.is_set():
            request.start_async({"x": inputs[t]})
            try:
                assert request.wait_for(HANG_S * 1000), "hang: an inference never finished"
                outcome = "completed"
            except ov.RequestCancelledError:
                outcome = "cancelled"
            with lock:
                outcomes[outcome] += 1
            if first:
                first = False
                running.release()

    threads = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(8)]
    for thread in threads:
        thread.start()
    for _ in threads:  # close only once every thread is busy starting inferences
        assert running.acquire(timeout=HANG_S), "hang: a thread never finished an inference"
    in_thread(compiled.close, "close() under load")
    stop.set()
    for thread in threads:
        thread.join(HANG_S)
    assert not any(t.is_alive() for t in threads), "hang: a thread never got its answer"
    assert outcomes["completed"] >= len(threads)


def test_closing_multi_while_a_job_is_handed_to_a_child_lets_it_run(reference: Reference) -> None:
    """close() lands after MULTI took a job off its queue but before the child queued it: the
    job still runs (the children are closed once it is in), and then the workers exit."""
    core = simulated_core()
    before = live_threads()
    compiled = core.compile_model(MLP, "MULTI:SIMX", THROUGHPUT)
    child = compiled.device_model.balancer.children[0].compiled
    queue_on_child = child.submit
    entered, closed = threading.Event(), threading.Event()

    def slow_submit(job: object) -> None:  # white box: holds the job between queue and child
        entered.set()
        closed.wait(SHORT_HANG_S)
        queue_on_child(job)

    child.submit = slow_submit
    x = unique_inputs(1, seed=27)[0]
    request = compiled.create_infer_request()
    starter = threading.Thread(target=lambda: request.start_async({"x": x}), daemon=True)
    starter.start()
    assert entered.wait(HANG_S), "hang: the job never reached the child"
    in_thread(compiled.close, "close() while a job is handed to a child")
    closed.set()
    starter.join(HANG_S)
    assert _finished(request, SHORT_HANG_S), "hang: the job handed over during close()"
    assert_matches(request.results[0], reference(x), "the job handed over during close()")
    left = wait_for_threads_to_exit(before)
    assert not left, f"worker threads left behind: {left}"
