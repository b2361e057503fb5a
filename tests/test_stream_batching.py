"""Opportunistic batching in the streams executor (``ovlite.stream_batching``).

The executor here runs a numpy "device" (a plugin may be that): each row of ``x`` becomes
``x * 2`` and a row count, so a test can see which jobs ran together.  Jobs are queued while
the executor's one context is held by a run that waits for an event, so every batch is
deterministic.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np
import pytest

from ovlite.jobs import Job
from ovlite.stream_batching import ALONE, StreamBatching, split_outputs, stack_key
from ovlite.streams import StreamsExecutor


class NumpyDevice:
    """``run(context, inputs)``: doubles ``x``; fails on a row holding -1; the first run
    waits for ``release`` so that jobs queue up behind it."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.batches: list[int] = []  # rows per run, in order

    def run(self, context: object, inputs: Sequence[np.ndarray]) -> tuple[list[np.ndarray], dict]:
        if not self.started.is_set():
            self.started.set()
            assert self.release.wait(10)
        (x,) = inputs
        self.batches.append(x.shape[0])
        if (x == -1).any():
            raise ValueError("a row holds -1")
        return [x * 2, np.full((x.shape[0], 1), x.shape[0])], {"device": "NUMPY"}


def executor(device: NumpyDevice, max_rows: int = 8) -> StreamsExecutor:
    return StreamsExecutor(["ctx"], device.run, "NUMPY:m", batching=StreamBatching(max_rows))


def finished() -> tuple[list[Job], threading.Semaphore, Callable[[Job], None]]:
    done: list[Job] = []
    count = threading.Semaphore(0)

    def on_done(job: Job) -> None:
        done.append(job)
        count.release()

    return done, count, on_done


def queue_behind_a_busy_stream(ex: StreamsExecutor, device: NumpyDevice, jobs: list[Job]) -> None:
    """Submit a first job that holds the only stream, then ``jobs``, then let it go."""
    first = Job([np.zeros((1, 3), np.float32)], None)
    ex.submit(first)
    assert device.started.wait(10)
    for job in jobs:
        ex.submit(job)
    device.release.set()


def numbered_jobs(n: int, on_done: Callable[[Job], None]) -> list[Job]:
    """``n`` one-row jobs; job ``i`` holds ``i``."""
    return [Job([np.full((1, 3), i, np.float32)], on_done) for i in range(n)]


def wait_for(count: threading.Semaphore, n: int) -> None:
    for _ in range(n):
        assert count.acquire(timeout=10)


def test_queued_jobs_run_as_one_batch_and_each_gets_its_own_rows():
    device = NumpyDevice()
    ex = executor(device)
    done, count, on_done = finished()
    jobs = numbered_jobs(5, on_done)
    queue_behind_a_busy_stream(ex, device, jobs)
    wait_for(count, 5)
    assert device.batches == [1, 5]
    for i, job in enumerate(jobs):
        assert job.error is None
        np.testing.assert_array_equal(job.outputs[0], np.full((1, 3), 2 * i))
        assert job.outputs[1].tolist() == [[5]]
        assert job.info == {"device": "NUMPY"}
    ex.close()


def test_jobs_with_different_row_counts_stack_and_split_by_their_rows():
    device = NumpyDevice()
    ex = executor(device)
    done, count, on_done = finished()
    sizes = [3, 1, 2]
    jobs = [Job([np.full((n, 3), n, np.float32)], on_done) for n in sizes]
    queue_behind_a_busy_stream(ex, device, jobs)
    wait_for(count, 3)
    assert device.batches == [1, 6]
    for n, job in zip(sizes, jobs, strict=True):
        np.testing.assert_array_equal(job.outputs[0], np.full((n, 3), 2 * n))


def test_a_batch_is_at_most_max_rows():
    device = NumpyDevice()
    ex = executor(device, max_rows=4)
    done, count, on_done = finished()
    jobs = numbered_jobs(10, on_done)
    queue_behind_a_busy_stream(ex, device, jobs)
    wait_for(count, 10)
    assert device.batches == [1, 4, 4, 2]
    assert sorted(float(job.outputs[0][0, 0]) for job in jobs) == [2.0 * i for i in range(10)]


def test_rows_not_jobs_are_counted_and_a_job_that_would_overflow_starts_the_next_batch():
    device = NumpyDevice()
    ex = executor(device, max_rows=4)
    done, count, on_done = finished()
    sizes = [3, 2, 2, 6]  # 3 | 2+2 | 6 (more than max_rows: alone)
    jobs = [Job([np.full((n, 3), n, np.float32)], on_done) for n in sizes]
    queue_behind_a_busy_stream(ex, device, jobs)
    wait_for(count, 4)
    assert device.batches == [1, 3, 4, 6]
    assert [job.outputs[0].shape[0] for job in jobs] == sizes


def test_a_job_that_does_not_stack_ends_the_batch_and_runs_next():
    device = NumpyDevice()
    ex = executor(device)
    done, count, on_done = finished()
    jobs = [
        Job([np.zeros((1, 3), np.float32)], on_done),
        Job([np.zeros((1, 3), np.float32)], on_done),
        Job([np.zeros((1, 5), np.float32)], on_done),  # other shape
        Job([np.zeros((1, 3), np.float32)], on_done),
    ]
    queue_behind_a_busy_stream(ex, device, jobs)
    wait_for(count, 4)
    assert device.batches == [1, 2, 1, 1]
    assert done == jobs  # in queue order
    assert [job.outputs[0].shape for job in jobs] == [(1, 3), (1, 3), (1, 5), (1, 3)]


def test_a_failing_job_fails_alone_and_the_others_of_its_batch_get_their_results():
    device = NumpyDevice()
    ex = executor(device)
    done, count, on_done = finished()
    jobs = [Job([np.full((1, 3), v, np.float32)], on_done) for v in (1, -1, 3)]
    queue_behind_a_busy_stream(ex, device, jobs)
    wait_for(count, 3)
    assert device.batches == [1, 3, 1, 1, 1]  # the batch failed; each job ran alone
    assert jobs[1].outputs is None and "a row holds -1" in str(jobs[1].error)
    assert jobs[0].outputs[0].tolist() == [[2, 2, 2]] and jobs[0].error is None
    assert jobs[2].outputs[0].tolist() == [[6, 6, 6]] and jobs[2].error is None
    assert len(done) == 3  # each finished once


def test_a_cancelled_job_is_left_out_of_the_batch():
    device = NumpyDevice()
    ex = executor(device)
    done, count, on_done = finished()
    jobs = numbered_jobs(3, on_done)
    first = Job([np.zeros((1, 3), np.float32)], None)
    ex.submit(first)
    assert device.started.wait(10)
    for job in jobs:
        ex.submit(job)
    assert jobs[1].cancel()
    device.release.set()
    wait_for(count, 3)
    assert device.batches == [1, 2]
    assert type(jobs[1].error).__name__ == "RequestCancelledError"
    assert jobs[2].outputs[0].tolist() == [[4, 4, 4]]


def test_outputs_that_do_not_follow_the_batch_make_each_job_run_alone():
    calls: list[int] = []
    release, started = threading.Event(), threading.Event()

    def run(context, inputs):
        if not started.is_set():
            started.set()
            release.wait(10)
        calls.append(inputs[0].shape[0])
        return [inputs[0].sum(axis=0)], None  # mixes the rows: dim 0 is not the batch

    ex = StreamsExecutor(["ctx"], run, "NUMPY:m", batching=StreamBatching(8))
    done, count, on_done = finished()
    jobs = [Job([np.full((1, 4), i, np.float32)], on_done) for i in (1, 2)]
    ex.submit(Job([np.zeros((1, 4), np.float32)], None))
    assert started.wait(10)
    for job in jobs:
        ex.submit(job)
    release.set()
    wait_for(count, 2)
    assert calls == [1, 2, 1, 1]
    assert jobs[0].outputs[0].tolist() == [1, 1, 1, 1]
    assert jobs[1].outputs[0].tolist() == [2, 2, 2, 2]


def test_close_runs_every_queued_job_once():
    device = NumpyDevice()
    ex = executor(device, max_rows=3)
    done, count, on_done = finished()
    jobs = numbered_jobs(7, on_done)
    queue_behind_a_busy_stream(ex, device, jobs)
    ex.close()
    assert len(done) == 7 and {id(j) for j in done} == {id(j) for j in jobs}
    assert all(job.error is None for job in jobs)


def test_a_held_job_is_refused_when_the_interpreter_exit_stopped_the_executor():
    """At exit (``_stop_now``) queued jobs are cancelled; a job a worker had already taken
    out of the queue, held behind a batch, must not start a run either."""
    gates = {7.0: threading.Event(), 8.0: threading.Event()}
    entered = {7.0: threading.Event(), 8.0: threading.Event()}

    def run(context, inputs):
        value = float(inputs[0].flat[0])
        if value in gates:
            entered[value].set()
            assert gates[value].wait(10)
        return [inputs[0]], None

    ex = StreamsExecutor(["ctx"], run, "NUMPY:m", batching=StreamBatching(8))
    done, count, on_done = finished()
    first = Job([np.full((1, 3), 7.0, np.float32)], on_done)
    ex.submit(first)
    assert entered[7.0].wait(10)
    second = Job([np.full((1, 3), 8.0, np.float32)], on_done)
    held = Job([np.zeros((1, 5), np.float32)], on_done)  # does not stack with ``second``
    ex.submit(second)
    ex.submit(held)
    gates[7.0].set()
    assert entered[8.0].wait(10)  # the worker runs ``second`` and holds ``held``
    workers = ex._stop_now("was stopped: the interpreter is exiting")
    gates[8.0].set()
    for worker in workers:
        worker.join(10)
    wait_for(count, 3)
    assert first.error is None and second.error is None
    assert type(held.error).__name__ == "RequestCancelledError"
    assert "interpreter is exiting" in str(held.error)


def test_stack_key_names_what_must_match_and_what_runs_alone():
    def key(*arrays):
        return stack_key(Job(list(arrays), None))

    a = np.zeros((2, 3), np.float32)
    assert key(a) == key(np.ones((5, 3), np.float32))
    assert key(a) != key(np.zeros((2, 3), np.float64))
    assert key(a) != key(np.zeros((2, 4), np.float32))
    assert key(np.float32(1.0)) is ALONE  # not an ndarray
    assert key(np.zeros((), np.float32)) is ALONE  # a scalar has no dim 0
    assert key(a, np.zeros((3, 3), np.float32)) is ALONE  # inputs disagree on dim 0
    watched = Job([a], None)
    watched.watch_entry = object()  # under a timeout: stoppable on its own
    assert stack_key(watched) is ALONE


def test_split_outputs_gives_views_of_each_jobs_rows():
    jobs = [Job([np.zeros((n, 1))], None) for n in (2, 1)]
    out = np.arange(6).reshape(3, 2)
    parts = split_outputs([out], jobs)
    assert [p[0].tolist() for p in parts] == [[[0, 1], [2, 3]], [[4, 5]]]
    assert np.shares_memory(parts[0][0], out)
    assert split_outputs([np.arange(4).reshape(4, 1)], jobs) is None  # 4 rows for 3


def test_stream_batching_needs_two_jobs_at_least():
    with pytest.raises(ValueError, match="max_rows >= 2"):
        StreamBatching(1)
