"""Replicas killed mid-run: every job is answered exactly once, with the right outputs, and
the lost replicas are replaced."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import ray

import ovlite as ov
from ovlite import models
from ovlite.testing.data import random_inputs

JOBS = 300
#: Generous bound for a replacement replica to start on a loaded machine (a hang guard).
REPLACEMENT_WAIT_S = 120.0


@pytest.fixture(scope="module")
def mlp() -> ov.Model:
    return ov.read_model(models.tiny_mlp(batch=None))


@pytest.fixture(scope="module")
def cases(mlp: ov.Model) -> list[tuple[dict[str, np.ndarray], np.ndarray]]:
    """Inputs, and the outputs the local CPU device gives for them."""
    reference = ov.Core().compile_model(mlp, "CPU")
    inputs = [random_inputs(mlp.inputs, seed, dynamic_dim=4) for seed in range(JOBS)]
    return [(data, np.array(reference(data)[0])) for data in inputs]


def run_while_killing(compiled: ov.CompiledModel, cases: list, kill_after: int, kill) -> dict:
    """Run every case through an AsyncInferQueue; call ``kill()`` from the callback that
    receives answer number ``kill_after`` (the queue is full then, so replicas hold jobs)."""
    answers: dict[int, list[np.ndarray]] = {}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def on_done(request: ov.InferRequest, index: int) -> None:
        with lock:
            answers.setdefault(index, []).append(np.array(request.results[0]))
            count = sum(len(v) for v in answers.values())
        if count == kill_after:
            kill()

    queue = ov.AsyncInferQueue(compiled, 2 * compiled.optimal_number_of_requests)
    queue.set_callback(on_done)
    for index, (data, _) in enumerate(cases):
        try:
            queue.start_async(data, userdata=index)
        except ov.OvliteError as exc:  # a failed job surfaces on the next start
            errors.append(exc)
    try:
        queue.wait_all()
    except ov.OvliteError as exc:
        errors.append(exc)
    assert not errors, f"the program saw errors: {errors}"
    return answers


def assert_each_answered_once(answers: dict, cases: list) -> None:
    assert sorted(answers) == list(range(len(cases))), "some jobs were never answered"
    twice = [index for index, got in answers.items() if len(got) != 1]
    assert not twice, f"jobs answered more than once: {twice}"
    for index, (_, expected) in enumerate(cases):
        np.testing.assert_allclose(answers[index][0], expected, rtol=1e-4, atol=1e-5)


def wait_for_replicas(compiled: ov.CompiledModel, count: int) -> None:
    deadline = time.monotonic() + REPLACEMENT_WAIT_S
    while compiled.get_property("RAY_REPLICAS") < count and time.monotonic() < deadline:
        time.sleep(0.2)
    assert compiled.get_property("RAY_REPLICAS") == count, compiled.get_property(
        "OVLITE_DROPPED_DEVICES"
    )


def test_a_replica_killed_mid_run_loses_no_job_and_is_replaced(mlp, cases) -> None:
    compiled = ov.Core().compile_model(mlp, "RAY:CPU", {"RAY_REPLICAS": 3})
    victim = compiled.device_model.replicas()[0]
    child = next(c for c in compiled.device_model.balancer.children if c.compiled is victim)
    in_flight_at_kill: list[int] = []

    def kill() -> None:
        in_flight_at_kill.append(child.busy)
        ray.kill(victim.actor, no_restart=True)

    answers = run_while_killing(compiled, cases, JOBS // 3, kill)
    assert_each_answered_once(answers, cases)
    assert in_flight_at_kill and in_flight_at_kill[0] >= 1, "the victim held no job when killed"
    dropped = compiled.get_property("OVLITE_DROPPED_DEVICES")
    assert any(victim.device_name in entry for entry in dropped), dropped
    wait_for_replicas(compiled, 3)
    assert victim not in compiled.device_model.replicas()
    data, expected = cases[0]
    np.testing.assert_allclose(compiled(data)[0], expected, rtol=1e-4, atol=1e-5)
    compiled.close()


def test_every_replica_killed_at_once_still_answers_every_job(mlp, cases) -> None:
    compiled = ov.Core().compile_model(mlp, "RAY:CPU", {"RAY_REPLICAS": 2})
    victims = compiled.device_model.replicas()

    def kill() -> None:
        for victim in victims:
            ray.kill(victim.actor, no_restart=True)

    answers = run_while_killing(compiled, cases, JOBS // 4, kill)
    assert_each_answered_once(answers, cases)
    wait_for_replicas(compiled, 2)
    assert not set(victims) & set(compiled.device_model.replicas())
    compiled.close()


def test_losing_the_last_replica_after_close_ends_every_waiting_job(mlp, cases) -> None:
    """close() with jobs still waiting for the one replica, then that replica dies: no
    replacement is started after close, so each waiting job ends (with an error), and none
    waits for ever."""
    compiled = ov.Core().compile_model(mlp, "RAY:CPU", {"RAY_REPLICAS": 1})
    (victim,) = compiled.device_model.replicas()
    requests = [compiled.create_infer_request() for _ in range(60)]
    for request, (data, _) in zip(requests, cases, strict=False):
        request.start_async(data)
    compiled.close()
    ray.kill(victim.actor, no_restart=True)
    outcomes = {"completed": 0, "failed": 0}
    for index, request in enumerate(requests):
        try:
            assert request.wait_for(REPLACEMENT_WAIT_S * 1000), f"request {index} hangs"
        except ov.OvliteError:
            outcomes["failed"] += 1
        else:
            np.testing.assert_allclose(request.results[0], cases[index][1], rtol=1e-4, atol=1e-5)
            outcomes["completed"] += 1
    assert sum(outcomes.values()) == len(requests), outcomes
