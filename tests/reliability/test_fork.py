"""Fork safety: a process forked after asynchronous use infers in the child, never hangs.

Each case runs in a fresh interpreter that compiles a model, keeps its worker threads,
timer and watchdog busy, then forks with two inferences in flight (hung on SIMHANG until
the parent releases them); the child is told those ran in the parent, gets its requests and
queue back idle, and runs every kind of inference while the parent waits for it (and kills it as a hang after ``SHORT_HANG_S``, so a hung child never
outlives the test).
"""

from __future__ import annotations

import pytest
from _reliability import SHORT_HANG_S, run_script

import ovlite as ov

FORK_SCRIPT = """
import asyncio, multiprocessing, os, signal, sys, threading, time, traceback
import numpy as np
import ovlite as ov
from ovlite import models, watchdog
from ovlite.testing import SimulatedDevice, StandInPlugin

device, one_thread, hang_s = sys.argv[1], sys.argv[2] == "one-thread", float(sys.argv[3])
core = ov.Core()
config = {"OVLITE_INFERENCE_TIMEOUT": 600_000}  # the watchdog thread runs in the parent
compiled = core.compile_model(models.tiny_mlp(batch=1), device, config)
x = np.linspace(-1, 1, 16, dtype=np.float32).reshape(1, 16)
expected = compiled({"x": x})[0].copy()
queue = ov.AsyncInferQueue(compiled, 4)
for _ in range(16):
    queue.start_async({"x": x})
queue.wait_all()

# inferences in flight at the fork: they hang on SIMHANG until the parent releases them
released = threading.Event()
def hang(inputs):
    if inputs[0][0, 1] == 7.0:
        released.wait(hang_s)
    return False
core.register_plugin(StandInPlugin(SimulatedDevice("SIMHANG", fail_when=hang)), name="hang")
slow = core.compile_model(models.tiny_mlp(batch=1), "SIMHANG", {"NUM_STREAMS": 2})
hung_x = x.copy()
hung_x[0, 1] = 7.0
in_flight = slow.create_infer_request()
in_flight.start_async({"x": hung_x})
slow_queue = ov.AsyncInferQueue(slow, 1)
slow_queue.start_async({"x": hung_x})

def check(results):
    assert np.allclose(results[0], expected), "wrong result in the child"

def in_flight_at_the_fork():
    try:
        in_flight.wait()
    except ov.RequestCancelledError as error:
        assert "forked" in str(error), error
    else:
        raise AssertionError("the inference in flight at the fork was expected to be reported")
    assert in_flight.infer({"x": x})[0].shape == (1, 8)
    slow_queue.wait_all()
    slow_queue.start_async({"x": x})
    slow_queue.wait_all()

def child():
    in_flight_at_the_fork()
    check(compiled({"x": x}))
    request = compiled.create_infer_request()
    check(request.infer({"x": x}))
    if one_thread:  # OPENVINO: other threads of the child are refused with a typed error
        import threading
        failed = []
        def other_thread():
            try:
                compiled({"x": x})
            except ov.InferenceError as error:
                failed.append(str(error))
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        assert failed and "thread that forked" in failed[0], failed
    request.start_async({"x": x})
    request.wait()
    check(request.results)
    answered = []
    queue.set_callback(lambda request, index: answered.append(index))
    for index in range(16):
        queue.start_async({"x": x}, userdata=index)
    queue.wait_all()
    assert sorted(answered) == list(range(16)), answered
    check(asyncio.run(compiled.infer_async({"x": x})))
    assert watchdog._thread is not None and watchdog._thread.is_alive()

def infer_in_pool_worker(_):
    return compiled({"x": x})[0]

pid = os.fork()
if pid == 0:
    try:
        child()
        with multiprocessing.get_context("fork").Pool(2) as pool:
            for result in pool.map(infer_in_pool_worker, range(4)):
                assert np.allclose(result, expected)
    except BaseException:
        traceback.print_exc()
        os._exit(1)
    os._exit(0)
released.set()
deadline = time.monotonic() + hang_s
while time.monotonic() < deadline:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        print("child exit code", os.waitstatus_to_exitcode(status), flush=True)
        sys.exit(0)
    time.sleep(0.05)
os.kill(pid, signal.SIGKILL)
print("child hung", flush=True)
"""


@pytest.mark.parametrize(
    ("device", "mode"),
    [
        ("CPU", "async"),
        ("MULTI:CPU", "async"),
        ("BATCH:CPU(4)", "async"),
        ("OPENVINO.CPU", "one-thread"),
    ],
)
def test_a_child_forked_after_asynchronous_use_infers(device: str, mode: str) -> None:
    """In a forked child, OPENVINO runs every job in the thread that forked (see the user
    guide); other threads get a typed error that says so."""
    family = device.split(":")[-1].split("(")[0].split(".")[0]
    if family not in ov.Core().available_devices:
        pytest.skip(f"{family} is not available")
    result = run_script(FORK_SCRIPT, device, mode, str(SHORT_HANG_S), what="the parent")
    assert "child hung" not in result.stdout, f"hang in the forked child:\n{result.stderr}"
    assert "child exit code 0" in result.stdout, result.stdout + result.stderr
