"""AsyncInferQueue semantics (OpenVINO's), on the STANDIN device."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import ovlite as ov
from ovlite import models
from ovlite.testing import StandInDevice


@pytest.fixture
def mlp(core: ov.Core) -> ov.CompiledModel:
    return core.compile_model(
        models.tiny_mlp(batch=1), "STANDIN", {"PERFORMANCE_HINT": "THROUGHPUT"}
    )


def inputs_for(i: int) -> np.ndarray:
    return np.full((1, 16), i / 100.0, dtype=np.float32)


def test_size_defaults_to_optimal_number_of_requests(mlp: ov.CompiledModel) -> None:
    queue = ov.AsyncInferQueue(mlp)
    assert len(queue) == mlp.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS") == 2
    assert len(ov.AsyncInferQueue(mlp, 5)) == 5
    assert [r for r in queue] == [queue[0], queue[1]]
    with pytest.raises(ValueError):
        ov.AsyncInferQueue(mlp, -1)


def test_every_job_answered_once_with_its_own_userdata(mlp: ov.CompiledModel) -> None:
    queue = ov.AsyncInferQueue(mlp, 4)
    answers: dict[int, np.ndarray] = {}
    lock = threading.Lock()

    def on_done(request: ov.InferRequest, userdata: int) -> None:
        with lock:
            assert userdata not in answers
            answers[userdata] = request.results[0].copy()

    queue.set_callback(on_done)
    for i in range(60):
        queue.start_async({"x": inputs_for(i)}, userdata=i)
    queue.wait_all()
    assert sorted(answers) == list(range(60))
    for i in (0, 17, 59):
        np.testing.assert_allclose(answers[i], mlp(inputs_for(i))[0], rtol=1e-6)


def test_idle_requests_are_handed_out_first_in_first_out(core: ov.Core) -> None:
    compiled = core.compile_model(models.tiny_mlp(batch=1), "STANDIN")
    queue = ov.AsyncInferQueue(compiled, 3)
    order = []
    queue.set_callback(lambda request, userdata: order.append(userdata))
    assert queue.get_idle_request_id() == 0
    for i in range(3):
        queue.start_async({"x": inputs_for(i)}, userdata=i)
        queue.wait_all()
    assert order == [0, 1, 2]
    # after each wait_all the longest-idle request is next: ids rotate 0, 1, 2, 0
    assert queue.get_idle_request_id() == 0


def test_openvino_style_get_tensor_then_start_without_inputs(mlp: ov.CompiledModel) -> None:
    queue = ov.AsyncInferQueue(mlp)
    results = {}
    queue.set_callback(
        lambda request, userdata: results.__setitem__(userdata, request.results[0].copy())
    )
    for i in range(10):
        request_id = queue.get_idle_request_id()
        queue[request_id].get_tensor("x").data[:] = inputs_for(i)
        queue.start_async(userdata=i)
    queue.wait_all()
    assert sorted(results) == list(range(10))
    np.testing.assert_allclose(results[7], mlp(inputs_for(7))[0], rtol=1e-6)
    assert all(r.latency > 0 for r in queue)


def test_request_returns_to_pool_only_after_its_callback(core: ov.Core) -> None:
    compiled = core.compile_model(models.tiny_mlp(batch=1), "STANDIN")
    queue = ov.AsyncInferQueue(compiled, 1)
    inside = threading.Event()
    release = threading.Event()

    def slow_callback(request: ov.InferRequest, userdata: object) -> None:
        inside.set()
        release.wait(5)

    queue.set_callback(slow_callback)
    queue.start_async({"x": inputs_for(1)})
    assert inside.wait(5)
    assert not queue.is_ready()
    release.set()
    queue.wait_all()
    assert queue.is_ready()


def test_callback_exception_is_raised_once_by_the_next_call(mlp: ov.CompiledModel) -> None:
    queue = ov.AsyncInferQueue(mlp, 2)
    seen = []

    def callback(request: ov.InferRequest, userdata: int) -> None:
        seen.append(userdata)
        if userdata == 3:
            raise KeyError("callback for 3")

    queue.set_callback(callback)
    for i in range(4):
        queue.start_async({"x": inputs_for(i)}, userdata=i)
    with pytest.raises(KeyError, match="callback for 3"):
        queue.wait_all()
    queue.wait_all()  # raised once only
    for i in range(4, 6):
        queue.start_async({"x": inputs_for(i)}, userdata=i)
    queue.wait_all()
    assert sorted(seen) == list(range(6))
    assert queue.is_ready()


def test_failed_inference_skips_callback_and_is_raised_each_once(
    core: ov.Core, standin: StandInDevice
) -> None:
    standin.fail_when = lambda inputs: bool(inputs[0][0, 1] < 0)
    compiled = core.compile_model(
        models.tiny_mlp(batch=1), "STANDIN", {"PERFORMANCE_HINT": "THROUGHPUT"}
    )
    queue = ov.AsyncInferQueue(compiled, 3)
    done = []
    queue.set_callback(lambda request, userdata: done.append(userdata))
    errors = []
    for i in range(12):
        x = inputs_for(i)
        x[0, 1] = -1.0 if i in (5, 7) else 1.0
        while True:  # an error raised by start_async comes before this job starts
            try:
                queue.start_async({"x": x}, userdata=i)
                break
            except ov.InferenceError as error:
                errors.append(error)
    while True:
        try:
            queue.wait_all()
            break
        except ov.InferenceError as error:
            errors.append(error)
    assert sorted(done) == [i for i in range(12) if i not in (5, 7)]
    assert len(errors) == 2
    assert all("injected failure" in str(e) for e in errors)
    queue.start_async({"x": inputs_for(1)}, userdata=100)
    queue.wait_all()
    assert 100 in done


def test_is_ready_reflects_idle_requests(core: ov.Core, standin: StandInDevice) -> None:
    standin.delay_ms = 200
    compiled = core.compile_model(models.tiny_mlp(batch=1), "STANDIN")
    queue = ov.AsyncInferQueue(compiled, 1)
    assert queue.is_ready()
    queue.start_async({"x": inputs_for(0)})
    assert not queue.is_ready()
    queue.wait_all()
    assert queue.is_ready()


def test_bad_input_leaves_the_request_in_the_pool(mlp: ov.CompiledModel) -> None:
    queue = ov.AsyncInferQueue(mlp, 1)
    with pytest.raises(ov.InputShapeError):
        queue.start_async({"x": np.zeros((3, 3), np.float32)})
    assert queue.is_ready()
    queue.start_async({"x": inputs_for(0)})
    queue.wait_all()


def test_many_threads_share_one_queue(mlp: ov.CompiledModel) -> None:
    queue = ov.AsyncInferQueue(mlp, 4)
    answers = []
    lock = threading.Lock()

    def on_done(request: ov.InferRequest, userdata: int) -> None:
        value = float(request.results[0][0, 0])
        with lock:
            answers.append((userdata, value))

    queue.set_callback(on_done)

    def producer(offset: int) -> None:
        for i in range(25):
            queue.start_async({"x": inputs_for(offset + i)}, userdata=offset + i)

    threads = [threading.Thread(target=producer, args=(k * 25,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.wait_all()
    assert sorted(u for u, _ in answers) == list(range(100))
    reference = {i: float(mlp(inputs_for(i))[0][0, 0]) for i in range(100)}
    assert all(abs(value - reference[u]) < 1e-5 for u, value in answers)


def test_get_idle_request_id_in_a_callback_with_every_request_busy_adds_one(
    core: ov.Core,
) -> None:
    compiled = core.compile_model(models.tiny_mlp(batch=1), "STANDIN")
    queue = ov.AsyncInferQueue(compiled, 1)
    seen: list[int] = []

    def callback(request: ov.InferRequest, userdata: int) -> None:
        if userdata == 0:  # this request is still busy: the pool has none idle
            seen.append(queue.get_idle_request_id())
            queue.start_async({"x": inputs_for(1)}, userdata=1)

    queue.set_callback(callback)
    queue.start_async({"x": inputs_for(0)}, userdata=0)
    queue.wait_all()
    assert seen == [1]
    assert len(queue) == 2 and queue.is_ready()
    # one stream (LATENCY): request 1 ran after this callback returned, so 0 is idle longest
    assert queue.get_idle_request_id() == 0
