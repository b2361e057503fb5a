"""Faults: devices that fail, hang or die, callbacks that raise, cancellation, broken plugins.

Every other request completes, every failure is reported once to the caller that started the
request (for a shared AsyncInferQueue: once, to whichever call comes next, as documented), and
the request or queue stays usable.  Faults are injected with simulated devices
(``ovlite.testing.SimulatedDevice``, real ONNX Runtime results) registered in-process.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from _reliability import (
    FAIL_MARK,
    HANG_MARK,
    HANG_S,
    MLP,
    SHORT_HANG_S,
    Dying,
    Gate,
    Reference,
    assert_matches,
    in_thread,
    make_core,
    marked,
    run_threads,
    scaled,
    unique_inputs,
)

import ovlite as ov
import ovlite.properties as props
from ovlite.testing import SimulatedDevice

THROUGHPUT = {"PERFORMANCE_HINT": "THROUGHPUT"}


def drain(
    queue: ov.AsyncInferQueue, errors: list[BaseException], kinds: tuple = (Exception,)
) -> None:
    """``queue.wait_all()`` until it returns, collecting the errors it raises on the way."""
    while True:
        try:
            in_thread(queue.wait_all, "queue.wait_all()")
            return
        except kinds as error:
            errors.append(error)


# ---- a device that fails some requests ------------------------------------------------------


@pytest.mark.parametrize("device", ["SIMF", "MULTI:SIMF,SIMX"])
def test_each_failure_is_reported_once_to_its_own_caller(device: str, reference: Reference) -> None:
    """SIMF fails every input marked FAIL_MARK (one in five).  Alone, each failure reaches the
    caller of that very request, once; under MULTI, SIMX re-runs them and nobody sees one."""
    core = make_core(
        SimulatedDevice("SIMF", fail_when=Gate(), throughput_streams=2), SimulatedDevice("SIMX")
    )
    compiled = core.compile_model(MLP, device, THROUGHPUT)
    count = scaled(20_000, 1_000)
    inputs = unique_inputs(count, seed=2)
    bad = {i for i in range(0, count, 5)}
    for i in bad:
        inputs[i] = marked(inputs[i], FAIL_MARK)
    expected = reference.all(inputs)
    failures_expected = not device.startswith("MULTI")

    lock = threading.Lock()
    answered: Counter[int] = Counter()
    failed: Counter[int] = Counter()  # failures seen by the caller of that request
    queue_errors: list[BaseException] = []
    wrong: list[int] = []

    def answer(i: int, output: np.ndarray) -> None:
        with lock:
            answered[i] += 1
            if not np.allclose(output, expected[i], rtol=1e-5, atol=1e-6):
                wrong.append(i)

    def check(error: BaseException) -> None:
        assert isinstance(error, ov.InferenceError), repr(error)
        assert "SIMF" in str(error) and "injected failure" in str(error), str(error)

    def failure(i: int, error: BaseException) -> None:
        check(error)
        with lock:
            failed[i] += 1

    queue = ov.AsyncInferQueue(compiled)
    queue.set_callback(lambda request, i: answer(i, request.results[0]))
    roles = ["queue"] * 4 + ["infer"] * 2 + ["start_wait"] * 2 + ["asyncio"] * 2
    queue_share = [i for i in range(count) if roles[i % len(roles)] == "queue"]

    def run(role: str, t: int) -> None:
        mine = [i for i in range(count) if i % len(roles) == t]
        if role == "queue":
            for i in mine:
                while True:  # an error raised here is an earlier job's; this one has not started
                    try:
                        queue.start_async({"x": inputs[i]}, userdata=i)
                        break
                    except ov.InferenceError as error:
                        with lock:
                            queue_errors.append(error)
        elif role == "infer":
            request = compiled.create_infer_request()
            for i in mine:
                try:
                    answer(i, request.infer({"x": inputs[i]})[0])
                except ov.InferenceError as error:
                    failure(i, error)
        elif role == "start_wait":
            request = compiled.create_infer_request()
            for i in mine:
                request.start_async({"x": inputs[i]})
                try:
                    request.wait()
                    answer(i, request.results[0])
                except ov.InferenceError as error:
                    failure(i, error)
        else:

            async def main() -> None:
                async def one(i: int) -> None:
                    try:
                        answer(i, (await compiled.infer_async({"x": inputs[i]}))[0])
                    except ov.InferenceError as error:
                        failure(i, error)

                await asyncio.gather(*(one(i) for i in mine))

            asyncio.run(main())

    run_threads(
        [lambda role=role, t=t: run(role, t) for t, role in enumerate(roles)],
        HANG_S + count / 100,
        f"{count} requests on {device}",
    )
    drain(queue, queue_errors, (ov.InferenceError,))

    assert wrong == [], f"wrong results for requests {wrong[:10]}"
    assert all(n == 1 for n in answered.values()), "a request was answered twice"
    assert all(n == 1 for n in failed.values()), "a failure was reported twice"
    if failures_expected:
        direct = [i for i in range(count) if roles[i % len(roles)] != "queue"]
        assert set(failed) == {i for i in direct if i in bad}, "failures reached the wrong callers"
        assert set(answered) == set(range(count)) - bad
        assert len(queue_errors) == len([i for i in queue_share if i in bad])
        for error in queue_errors:
            check(error)
    else:
        assert failed == Counter() and queue_errors == []
        assert set(answered) == set(range(count))
    # the queue and its requests are still usable
    queue.start_async({"x": inputs[1]}, userdata=1)
    drain(queue, [])
    assert answered[1] == 2


# ---- a device that hangs on some requests ---------------------------------------------------


@pytest.mark.parametrize("device", ["SIMHANG", "MULTI:SIMHANG,SIMX"])
def test_a_hung_inference_times_out_in_wait_for_while_the_others_complete(
    device: str, reference: Reference
) -> None:
    """What exists today: ``wait_for`` returns False while the device hangs, the request stays
    busy, every other request completes meanwhile, and the hung one completes once the
    device does, with its own result; nothing is lost."""
    gate = Gate()
    core = make_core(
        SimulatedDevice("SIMHANG", fail_when=gate, throughput_streams=2), SimulatedDevice("SIMX")
    )
    compiled = core.compile_model(MLP, device, THROUGHPUT)
    inputs = unique_inputs(41, seed=3)
    hung_x = marked(inputs[40], HANG_MARK)
    hung = compiled.create_infer_request()
    calls: list[str] = []
    hung.set_callback(calls.append)
    answers: dict[int, np.ndarray] = {}
    try:
        hung.start_async({"x": hung_x}, userdata="hung")
        gate.wait_entered()
        assert hung.wait_for(0) is False
        assert hung.wait_for(100) is False
        assert hung.is_busy
        with pytest.raises(ov.RequestBusyError):
            hung.start_async({"x": inputs[0]})
        with pytest.raises(ov.RequestBusyError):
            hung.infer({"x": inputs[0]})
        hung.cancel()  # it is running on the device: too late to cancel, and harmless

        queue = ov.AsyncInferQueue(compiled, 4)
        queue.set_callback(lambda request, i: answers.__setitem__(i, request.results[0].copy()))
        for i in range(40):
            in_thread(lambda i=i: queue.start_async({"x": inputs[i]}, userdata=i), "start_async")
        in_thread(queue.wait_all, "the other requests while one hangs")
        assert sorted(answers) == list(range(40))
        for i in range(40):
            assert_matches(answers[i], reference(inputs[i]), f"request {i}")
        assert hung.wait_for(10) is False
        assert calls == []
    finally:
        gate.release()
    assert hung.wait_for(HANG_S * 1000), "the hung inference never completed after the device did"
    assert_matches(hung.results[0], reference(hung_x), "the inference that hung")
    assert calls == ["hung"]
    hung.infer({"x": inputs[0]})  # usable again
    assert_matches(hung.results[0], reference(inputs[0]), "after the hang")


# ---- a configured per-inference timeout: OVLITE_INFERENCE_TIMEOUT ----------------------------

TIMEOUT_KEY = "OVLITE_INFERENCE_TIMEOUT"
#: Far above a normal inference of the tiny MLP even on a loaded machine, far below HANG_S.
TIMEOUT_MS = 1000


def timed_model(streams: int) -> tuple[ov.CompiledModel, Gate]:
    """SIMHANG, which does not know the key itself: the core applies the timeout."""
    gate = Gate()
    core = make_core(SimulatedDevice("SIMHANG", fail_when=gate))
    compiled = core.compile_model(MLP, "SIMHANG", {TIMEOUT_KEY: TIMEOUT_MS, "NUM_STREAMS": streams})
    return compiled, gate


def assert_timeout_error(error: BaseException) -> None:
    assert isinstance(error, ov.RequestTimeoutError) and isinstance(error, TimeoutError)
    message = str(error)
    assert "SIMHANG" in message, f"the error does not name the device: {message}"
    assert str(TIMEOUT_MS) in message, f"the error does not name the timeout: {message}"


def test_configured_timeout_raises_from_wait_and_the_late_result_is_discarded(
    reference: Reference,
) -> None:
    compiled, gate = timed_model(streams=1)
    assert compiled.get_property(TIMEOUT_KEY) == TIMEOUT_MS
    x = unique_inputs(2, seed=4)
    hung_x, good_x = marked(x[0], HANG_MARK), x[1]
    request = compiled.create_infer_request()
    calls: list[str] = []
    request.set_callback(calls.append)
    try:
        request.start_async({"x": hung_x}, userdata="hung")
        with pytest.raises(ov.RequestTimeoutError) as info:
            in_thread(request.wait, "wait() on an inference past its timeout")
        assert_timeout_error(info.value)
        assert not request.is_busy, "a timed-out request must be free for the next inference"
        # the only stream still runs the hung inference: this one waits behind it
        request.start_async({"x": good_x}, userdata="good")
    finally:
        gate.release()
    in_thread(request.wait, "wait() for the inference after the timeout")
    # the late result came first on the one stream and was dropped, not delivered to the
    # request's next inference nor to its callback
    assert_matches(request.results[0], reference(good_x), "the inference after the timeout")
    assert calls == ["good"]
    request.infer({"x": good_x})
    assert_matches(request.results[0], reference(good_x), "a later inference")


def test_configured_timeout_raises_from_infer_and_the_request_stays_usable(
    reference: Reference,
) -> None:
    compiled, gate = timed_model(streams=3)  # two inferences hang below, one stream serves
    x = unique_inputs(2, seed=5)
    hung_x, good_x = marked(x[0], HANG_MARK), x[1]
    request = compiled.create_infer_request()
    try:
        with pytest.raises(ov.RequestTimeoutError) as info:
            in_thread(lambda: request.infer({"x": hung_x}), "infer() past its timeout")
        assert_timeout_error(info.value)
        with pytest.raises(ov.RequestTimeoutError):
            in_thread(lambda: compiled({"x": hung_x}), "compiled() past its timeout")
        results = in_thread(lambda: request.infer({"x": good_x}), "infer() after the timeout")
        assert_matches(results[0], reference(good_x), "infer() after the timeout")
    finally:
        gate.release()


def test_configured_timeout_is_raised_once_by_the_queue_which_goes_on(
    reference: Reference,
) -> None:
    compiled, gate = timed_model(streams=1)
    inputs = unique_inputs(8, seed=6)
    hung_x = marked(inputs[0], HANG_MARK)
    queue = ov.AsyncInferQueue(compiled, 2)
    seen: list[tuple[object, np.ndarray]] = []
    queue.set_callback(lambda request, u: seen.append((u, request.results[0].copy())))
    try:
        queue.start_async({"x": hung_x}, userdata="hung")
        with pytest.raises(ov.RequestTimeoutError) as info:
            in_thread(queue.wait_all, "wait_all() with an inference past its timeout")
        assert_timeout_error(info.value)
        in_thread(queue.wait_all, "wait_all() once the timeout was reported")  # once only
        for i in (1, 2):  # both requests are free again, the timed-out one included
            in_thread(lambda i=i: queue.start_async({"x": inputs[i]}, userdata=i), "start_async")
    finally:
        gate.release()
    for i in range(3, 8):
        in_thread(lambda i=i: queue.start_async({"x": inputs[i]}, userdata=i), "start_async")
    in_thread(queue.wait_all, "wait_all() after the hang ended")
    assert sorted((u for u, _ in seen), key=str) == list(range(1, 8)), (
        f"callbacks {[u for u, _ in seen]}: the late result must reach none"
    )
    for i, output in seen:
        assert_matches(output, reference(inputs[i]), f"queued request {i}")


def test_configured_timeout_raises_from_asyncio(reference: Reference) -> None:
    compiled, gate = timed_model(streams=3)  # two inferences hang below, one stream serves
    x = unique_inputs(2, seed=7)
    hung_x, good_x = marked(x[0], HANG_MARK), x[1]
    request = compiled.create_infer_request()

    async def main() -> None:
        for awaitable in (compiled.infer_async({"x": hung_x}), request.infer_async({"x": hung_x})):
            with pytest.raises(ov.RequestTimeoutError) as info:
                await asyncio.wait_for(awaitable, HANG_S)
            assert_timeout_error(info.value)
        results = await asyncio.wait_for(request.infer_async({"x": good_x}), HANG_S)
        assert_matches(results[0], reference(good_x), "asyncio after the timeout")

    try:
        in_thread(lambda: asyncio.run(main()), "asyncio inferences past their timeout")
    finally:
        gate.release()


# ---- a device that dies -----------------------------------------------------------------------

HEALTHY = 30


def test_a_dying_device_fails_each_later_request_exactly_once(reference: Reference) -> None:
    dying = Dying(healthy=HEALTHY)
    core = make_core(SimulatedDevice("SIMDYING", fail_when=dying))
    compiled = core.compile_model(MLP, "SIMDYING", THROUGHPUT)
    count = 200
    inputs = unique_inputs(count, seed=8)
    answers: dict[int, np.ndarray] = {}
    lock = threading.Lock()

    def on_done(request: ov.InferRequest, i: int) -> None:
        with lock:
            assert i not in answers, f"request {i} answered twice"
            answers[i] = request.results[0].copy()

    queue = ov.AsyncInferQueue(compiled, 4)
    queue.set_callback(on_done)
    errors: list[BaseException] = []

    def producer(t: int) -> None:
        for i in range(t, count, 3):
            while True:
                try:
                    queue.start_async({"x": inputs[i]}, userdata=i)
                    break
                except ov.InferenceError as error:
                    with lock:
                        errors.append(error)

    run_threads([lambda t=t: producer(t) for t in range(3)], HANG_S, "requests to a dying device")
    drain(queue, errors, (ov.InferenceError,))

    assert dying.calls == count, "each request must reach the device exactly once"
    assert len(answers) == HEALTHY and len(errors) == count - HEALTHY
    assert all("SIMDYING" in str(e) and "injected failure" in str(e) for e in errors)
    for i, output in answers.items():
        assert_matches(output, reference(inputs[i]), f"request {i} before the device died")

    # every other way in: one error per inference, and the request is not left busy
    request = compiled.create_infer_request()
    for _ in range(3):
        with pytest.raises(ov.InferenceError, match="SIMDYING"):
            request.infer({"x": inputs[0]})
        assert not request.is_busy
        request.start_async({"x": inputs[0]})
        with pytest.raises(ov.InferenceError, match="SIMDYING"):
            in_thread(request.wait, "wait() on a dead device")
    with pytest.raises(ov.InferenceError, match="SIMDYING"):
        asyncio.run(compiled.infer_async({"x": inputs[0]}))
    assert dying.calls == count + 7


def test_under_multi_the_other_device_takes_over_from_a_dying_one(reference: Reference) -> None:
    dying = Dying(healthy=HEALTHY)
    core = make_core(SimulatedDevice("SIMDYING", fail_when=dying), SimulatedDevice("SIMX"))
    compiled = core.compile_model(MLP, "MULTI:SIMDYING,SIMX")
    compiled.device_model.balancer.probe_seconds = float(
        "inf"
    )  # leave only the failure rule to decide
    count = scaled(5_000, 400)
    inputs = unique_inputs(count, seed=9)
    answers: Counter[int] = Counter()
    ran_on: Counter[str] = Counter()
    wrong: list[int] = []
    lock = threading.Lock()

    def answer(i: int, output: np.ndarray, device: str | None) -> None:
        with lock:
            answers[i] += 1
            ran_on[str(device)] += 1
            if not np.allclose(output, reference(inputs[i]), rtol=1e-5, atol=1e-6):
                wrong.append(i)

    queue = ov.AsyncInferQueue(compiled)
    queue.set_callback(lambda request, i: answer(i, request.results[0], request.executed_on))

    def producer(t: int) -> None:
        for i in range(t, count, 6):
            queue.start_async({"x": inputs[i]}, userdata=i)

    def caller(t: int) -> None:
        request = compiled.create_infer_request()
        for i in range(t, count, 6):
            answer(i, request.infer({"x": inputs[i]})[0], request.executed_on)

    targets = [lambda t=t: producer(t) for t in range(4)]
    targets += [lambda t=t: caller(t) for t in range(4, 6)]
    run_threads(targets, HANG_S + count / 100, "requests while a MULTI child dies")
    in_thread(queue.wait_all, "queue.wait_all()")

    assert wrong == []
    assert sorted(answers) == list(range(count)) and set(answers.values()) == {1}
    assert ran_on["SIMDYING"] <= HEALTHY
    dropped = compiled.get_property(props.dropped_devices)
    assert any(d.startswith("SIMDYING: failed 3 requests in a row") for d in dropped), dropped
    assert compiled.get_property(props.execution_devices) == ["SIMX"]


# ---- callbacks that raise -------------------------------------------------------------------


class CallbackBoom(Exception):
    def __init__(self, userdata: int) -> None:
        super().__init__(f"callback for request {userdata} raised")
        self.userdata = userdata


@pytest.mark.parametrize("device", ["SIMX", "MULTI:SIMX,SIMY"])
def test_raising_queue_callbacks_are_each_reported_once_and_the_queue_goes_on(
    device: str, reference: Reference
) -> None:
    core = make_core(SimulatedDevice("SIMX"), SimulatedDevice("SIMY"))
    compiled = core.compile_model(MLP, device, THROUGHPUT)
    count = scaled(5_000, 700)
    inputs = unique_inputs(count, seed=10)
    calls: Counter[int] = Counter()
    wrong: list[int] = []
    raised: list[int] = []
    lock = threading.Lock()

    def callback(request: ov.InferRequest, i: int) -> None:
        with lock:
            calls[i] += 1
            if not np.allclose(request.results[0], reference(inputs[i]), rtol=1e-5, atol=1e-6):
                wrong.append(i)
        if i % 7 == 0:
            raise CallbackBoom(i)

    queue = ov.AsyncInferQueue(compiled)
    queue.set_callback(callback)

    def producer(t: int) -> None:
        for i in range(t, count, 8):
            while True:
                try:
                    queue.start_async({"x": inputs[i]}, userdata=i)
                    break
                except CallbackBoom as boom:
                    with lock:
                        raised.append(boom.userdata)

    run_threads([lambda t=t: producer(t) for t in range(8)], HANG_S + count / 100, "producers")
    errors: list[BaseException] = []
    drain(queue, errors, (CallbackBoom,))
    raised += [e.userdata for e in errors]  # type: ignore[attr-defined]

    assert wrong == []
    assert sorted(calls) == list(range(count)) and set(calls.values()) == {1}
    assert sorted(raised) == list(range(0, count, 7)), "each callback error is raised once"
    queue.start_async({"x": inputs[1]}, userdata=1)
    in_thread(queue.wait_all, "the queue after raising callbacks")
    assert calls[1] == 2


def test_a_raising_request_callback_is_raised_by_wait_and_the_stream_survives(
    reference: Reference,
) -> None:
    core = make_core(SimulatedDevice("SIMX"))
    compiled = core.compile_model(MLP, "SIMX", {"NUM_STREAMS": 1})
    inputs = unique_inputs(3, seed=11)
    request = compiled.create_infer_request()

    def callback(i: int) -> None:
        if i == 0:
            raise CallbackBoom(i)

    request.set_callback(callback)
    request.start_async({"x": inputs[0]}, userdata=0)
    with pytest.raises(CallbackBoom):
        in_thread(request.wait, "wait() after a raising callback")
    for i in (1, 2):  # the one stream's worker survived the exception
        request.start_async({"x": inputs[i]}, userdata=i)
        in_thread(request.wait, "wait()")
        assert_matches(request.results[0], reference(inputs[i]), f"inference {i}")


# ---- cancellation in flight -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("device", "config"),
    [("SIMC", {"NUM_STREAMS": 1}), ("MULTI:SIMC(1)", {})],  # MULTI: waiting in its own queue
)
def test_cancelling_queued_inferences_cancels_exactly_those(
    device: str, config: dict, reference: Reference
) -> None:
    gate = Gate()
    core = make_core(SimulatedDevice("SIMC", fail_when=gate))
    compiled = core.compile_model(MLP, device, config)
    inputs = unique_inputs(12, seed=12)
    blocker = compiled.create_infer_request()
    requests = [compiled.create_infer_request() for _ in range(8)]
    queue = ov.AsyncInferQueue(compiled, 3)
    seen: dict[int, np.ndarray] = {}
    queue.set_callback(lambda request, i: seen.__setitem__(i, request.results[0].copy()))
    try:
        blocker.start_async({"x": marked(inputs[11], HANG_MARK)})
        gate.wait_entered()  # the only stream is busy: everything below waits in its queue
        for request, x in zip(requests, inputs, strict=False):
            request.start_async({"x": x})
        for i in (8, 9, 10):
            queue.start_async({"x": inputs[i]}, userdata=i)
        for request in requests[::2]:
            request.cancel()
        queue[1].cancel()
        blocker.cancel()  # already running: no effect
    finally:
        gate.release()
    for index, request in enumerate(requests):
        if index % 2 == 0:
            with pytest.raises(ov.RequestCancelledError):
                in_thread(request.wait, "wait() on a cancelled inference")
        else:
            in_thread(request.wait, "wait() on an inference that was not cancelled")
            assert_matches(request.results[0], reference(inputs[index]), f"request {index}")
    errors: list[BaseException] = []
    drain(queue, errors, (ov.RequestCancelledError,))
    assert len(errors) == 1 and sorted(seen) == [8, 10]
    in_thread(blocker.wait, "the inference that was running")
    for index, request in enumerate(requests):  # cancelled requests are reusable
        request.infer({"x": inputs[index]})
        assert_matches(request.results[0], reference(inputs[index]), f"request {index} again")
    requests[0].cancel()  # cancelling an idle request does nothing
    assert not requests[0].is_busy


@pytest.mark.parametrize("device", ["SIMX", "MULTI:SIMX,SIMY"])
def test_cancelling_at_random_moments_from_many_threads_loses_nothing(
    device: str, reference: Reference
) -> None:
    core = make_core(SimulatedDevice("SIMX", delay_ms=0.5), SimulatedDevice("SIMY", delay_ms=0.5))
    compiled = core.compile_model(MLP, device, THROUGHPUT)
    rounds = scaled(600, 60)
    inputs = unique_inputs(8 * 3 * rounds, seed=13)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def worker(t: int) -> None:
        rng = np.random.default_rng(t)
        requests = [compiled.create_infer_request() for _ in range(3)]
        for r in range(rounds):
            indices = [(t * rounds + r) * 3 + k for k in range(3)]
            for request, i in zip(requests, indices, strict=True):
                request.start_async({"x": inputs[i]})
            for request in requests:
                if rng.random() < 0.5:
                    request.cancel()
            for request, i in zip(requests, indices, strict=True):
                try:
                    assert request.wait_for(HANG_S * 1000), "hang: an inference never finished"
                except ov.RequestCancelledError:
                    outcome = "cancelled"
                else:
                    assert_matches(request.results[0], reference(inputs[i]), f"request {i}")
                    outcome = "completed"
                with lock:
                    outcomes[outcome] += 1

    run_threads([lambda t=t: worker(t) for t in range(8)], HANG_S * 2, "cancelling threads")
    assert sum(outcomes.values()) == 8 * 3 * rounds, outcomes


@pytest.mark.parametrize(
    "device",
    [
        "SIMHANG",
        "MULTI:SIMHANG(1)",
    ],
)
def test_an_event_loop_closed_with_inferences_in_flight_stalls_no_other_caller(
    device: str, reference: Reference
) -> None:
    gate = Gate()
    core = make_core(SimulatedDevice("SIMHANG", fail_when=gate))
    compiled = core.compile_model(MLP, device, {"NUM_STREAMS": 1})
    x = unique_inputs(2, seed=14)
    hung_x, good_x = marked(x[0], HANG_MARK), x[1]
    abandoned = compiled.create_infer_request()

    async def abandon() -> None:  # the loop closes while its inferences are still running
        asyncio.ensure_future(compiled.infer_async({"x": hung_x}))
        asyncio.ensure_future(abandoned.infer_async({"x": hung_x}))
        await asyncio.sleep(0)

    other = compiled.create_infer_request()
    try:
        asyncio.run(abandon())
        gate.wait_entered()
        other.start_async({"x": good_x})  # waits behind the abandoned inferences
    finally:
        gate.release()
    assert other.wait_for(SHORT_HANG_S * 1000), "hang: another caller's inference never ran"
    assert_matches(other.results[0], reference(good_x), "the other caller's inference")
    assert abandoned.wait_for(HANG_S * 1000) and not abandoned.is_busy


def test_cancelling_an_asyncio_task_leaves_the_request_reusable(reference: Reference) -> None:
    gate = Gate()
    core = make_core(SimulatedDevice("SIMHANG", fail_when=gate))
    compiled = core.compile_model(MLP, "SIMHANG", {"NUM_STREAMS": 2})
    x = unique_inputs(2, seed=15)
    hung_x, good_x = marked(x[0], HANG_MARK), x[1]
    request = compiled.create_infer_request()

    async def main() -> None:
        tasks = [
            asyncio.ensure_future(request.infer_async({"x": hung_x})),
            asyncio.ensure_future(compiled.infer_async({"x": hung_x})),
        ]
        await asyncio.get_running_loop().run_in_executor(None, gate.wait_entered, 2)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with pytest.raises(asyncio.CancelledError):
                await task
        assert request.is_busy  # the device still runs it
        gate.release()
        assert await asyncio.get_running_loop().run_in_executor(None, request.wait_for, 60000)
        results = await request.infer_async({"x": good_x})
        assert_matches(results[0], reference(good_x), "after a cancelled task")

    try:
        in_thread(lambda: asyncio.run(main()), "asyncio cancellation")
    finally:
        gate.release()


# ---- broken plugins -------------------------------------------------------------------------

PLUGIN_MODULES = {
    "reliability_exploding.py": """
        raise RuntimeError("this plugin explodes on import")
    """,
    "reliability_faulty.py": """
        from ovlite import hookimpl
        from ovlite.testing import SimulatedDevice

        OVLITE_PLUGIN_API = 1

        @hookimpl
        def ovlite_devices():
            return [
                SimulatedDevice("FAULTY", compile_error="the driver rejected the model"),
                SimulatedDevice("WORKS"),
            ]
    """,
}

DISCOVERY_SCRIPT = """
    import json
    import numpy as np
    import ovlite as ov
    from ovlite import models

    core = ov.Core()
    report = {
        "devices": core.available_devices,
        "failures": {f.name: f.error for f in core.plugin_failures},
        "compile": {},
    }
    x = {"x": np.ones((1, 16), np.float32)}
    for device in ["FAULTY", "WORKS", "MULTI:FAULTY,WORKS", "AUTO:FAULTY,WORKS", "CPU"]:
        if device == "CPU" and "CPU" not in report["devices"]:
            continue
        try:
            compiled = core.compile_model(models.tiny_mlp(batch=1), device)
            compiled(x)
            report["compile"][device] = ["ok", compiled.get_property("EXECUTION_DEVICES"),
                                         compiled.get_property("OVLITE_CONFIGURATION_REASON")]
        except Exception as error:
            report["compile"][device] = [type(error).__name__, str(error)]
    print(json.dumps(report))
"""


def test_a_plugin_whose_import_raises_and_one_whose_compile_fails_leave_the_rest_working(
    tmp_path: Path,
) -> None:
    """Both plugins come from a real distribution found through entry points (a dist-info
    folder on PYTHONPATH of a fresh interpreter: nothing is installed into the environment)."""
    for name, source in PLUGIN_MODULES.items():
        (tmp_path / name).write_text(textwrap.dedent(source))
    info = tmp_path / "ovlite_reliability_plugins-0.0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: ovlite-reliability-plugins\nVersion: 0.0.1\n"
    )
    (info / "entry_points.txt").write_text(
        "[ovlite]\nexploding = reliability_exploding\nfaulty = reliability_faulty\n"
    )
    environment = {k: v for k, v in os.environ.items() if k != "OVLITE_PLUGINS"}
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(tmp_path), *filter(None, [environment.get("PYTHONPATH")])]
    )
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(DISCOVERY_SCRIPT)],
        capture_output=True,
        text=True,
        timeout=HANG_S,
        env=environment,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])

    assert "import failed: RuntimeError: this plugin explodes on import" in (
        report["failures"].get("exploding", "")
    ), report["failures"]
    assert {"FAULTY", "WORKS"} <= set(report["devices"])
    compiled = report["compile"]
    assert compiled["FAULTY"][0] == "CompileError"
    assert (
        "FAULTY" in compiled["FAULTY"][1]
        and "the driver rejected the model" in (compiled["FAULTY"][1])
    )
    assert compiled["MULTI:FAULTY,WORKS"][0] == "CompileError"
    assert compiled["WORKS"][:2] == ["ok", ["WORKS"]]
    assert compiled["AUTO:FAULTY,WORKS"][:2] == ["ok", ["WORKS"]]
    assert "FAULTY skipped" in compiled["AUTO:FAULTY,WORKS"][2]
    if "CPU" in compiled:
        assert compiled["CPU"][:2] == ["ok", ["CPU"]]


def test_a_device_that_fails_to_compile_keeps_failing_cleanly_and_others_work(
    reference: Reference,
) -> None:
    core = make_core(
        SimulatedDevice("FAULTY", compile_error="the driver rejected the model"),
        SimulatedDevice("SIMX"),
    )
    x = unique_inputs(1, seed=16)[0]
    for _ in range(3):  # no state is left half-built by a failed compile
        with pytest.raises(ov.CompileError, match="FAULTY.*the driver rejected the model"):
            core.compile_model(MLP, "FAULTY")
        assert "FAULTY" in core.available_devices
        assert_matches(core.compile_model(MLP, "SIMX")({"x": x})[0], reference(x), "SIMX")


class CrashingDevice(SimulatedDevice):
    """A plugin bug: compile_model raises something other than CompileError."""

    def compile_model(
        self, model: ov.Model, spec: ov.DeviceSpec, config: dict, core: ov.Core
    ) -> ov.CompiledModel:
        raise RuntimeError("driver crashed")


def test_an_unexpected_exception_from_a_plugin_compile_becomes_a_compile_error() -> None:
    core = make_core(CrashingDevice("CRASHING"), SimulatedDevice("SIMX"))
    with pytest.raises(ov.CompileError) as info:
        core.compile_model(MLP, "CRASHING")
    assert "CRASHING" in str(info.value) and "driver crashed" in str(info.value)
    assert isinstance(info.value.__cause__, RuntimeError)
    auto = core.compile_model(MLP, "AUTO:CRASHING,SIMX")
    assert auto.get_property(props.execution_devices) == ["SIMX"]


class BrokenProbeDevice(SimulatedDevice):
    """A plugin bug: availability() raises instead of returning Availability(False, why)."""

    def availability(self) -> ov.Availability:
        raise RuntimeError("driver probe crashed")


def test_a_device_whose_availability_probe_raises_is_only_unavailable() -> None:
    core = make_core(BrokenProbeDevice("BROKENPROBE"), SimulatedDevice("SIMX"))
    devices = core.available_devices
    assert "SIMX" in devices and "BROKENPROBE" not in devices
    assert core.compile_model(MLP, "AUTO:BROKENPROBE,SIMX").get_property(
        props.execution_devices
    ) == ["SIMX"]
    with pytest.raises(ov.DeviceUnavailableError, match="driver probe crashed"):
        core.compile_model(MLP, "BROKENPROBE")


class FailsFirstTry:
    """``fail_when`` failing each marked input the first time any instance runs it."""

    def __init__(self) -> None:
        self.seen: set[bytes] = set()
        self._lock = threading.Lock()

    def __call__(self, inputs: object) -> bool:
        x = inputs[0]  # type: ignore[index]
        if x[0, 1] != FAIL_MARK:
            return False
        with self._lock:
            first = x.tobytes() not in self.seen
            self.seen.add(x.tobytes())
        return first


def test_multi_retries_on_a_second_instance_of_the_same_device(reference: Reference) -> None:
    """``MULTI:SIMF,SIMF``: children are told apart by position, so a job the first SIMF
    failed is re-run on the second one, not failed because the name already failed it."""
    core = make_core(SimulatedDevice("SIMF", fail_when=FailsFirstTry()))
    compiled = core.compile_model(MLP, "MULTI:SIMF(1),SIMF(1)", THROUGHPUT)
    inputs = unique_inputs(6, seed=70)
    for index in range(6):
        inputs[index] = marked(inputs[index], FAIL_MARK)
    request = compiled.create_infer_request()
    for x in inputs:
        assert_matches(request.infer({"x": x})[0], reference(x), "the retried inference")
