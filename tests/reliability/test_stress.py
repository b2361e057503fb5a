"""Stress: many requests from 32 Python threads through every API at once, nothing lost.

Each request carries its own input (``unique_inputs``) and its index as userdata; every answer
is compared with a plain single-threaded ONNX Runtime run of the same input.  Full size is
100,000 requests per device (``OVLITE_STRESS_SCALE=1``).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Callable

import numpy as np
import pytest
from _reliability import (
    HANG_S,
    MLP,
    Reference,
    assert_matches,
    in_thread,
    requires_cpu,
    run_threads,
    scaled,
    unique_inputs,
)

import ovlite as ov

THREADS = 32
#: Thread roles, by thread number: which API each thread drives.
QUEUE_THREADS = range(0, 16)  # one AsyncInferQueue shared by 16 producers
INFER_THREADS = range(16, 20)  # request.infer on a request of its own
CALL_THREADS = range(20, 24)  # compiled(inputs)
START_WAIT_THREADS = range(24, 28)  # two requests of its own: start_async, callback, wait
ASYNCIO_THREADS = range(28, 32)  # an event loop: compiled.infer_async and request.infer_async
ASYNCIO_WINDOW = 8  # inferences each event loop keeps in flight


class Answers:
    """Every answer by request index: how many times it came, and the last value."""

    def __init__(self, count: int) -> None:
        self.values = np.full((count, 1, 8), np.nan, dtype=np.float32)
        self.times = np.zeros(count, dtype=np.int64)
        self.devices: Counter[str | None] = Counter()
        self.problems: list[str] = []
        self._lock = threading.Lock()

    def record(self, index: int, output: np.ndarray, device: str | None = None) -> None:
        with self._lock:
            self.times[index] += 1
            self.values[index] = output
            self.devices[device] += 1

    def problem(self, text: str) -> None:
        with self._lock:
            self.problems.append(text)


def producers(
    compiled: ov.CompiledModel, inputs: np.ndarray, answers: Answers
) -> tuple[list[Callable[[], None]], ov.AsyncInferQueue]:
    """One target per thread; thread t handles the requests t, t + 32, t + 64, ..."""
    count = len(inputs)
    queue = ov.AsyncInferQueue(compiled)

    def on_queue_done(request: ov.InferRequest, userdata: int) -> None:
        if request.userdata != userdata:
            answers.problem(f"queue callback got userdata {userdata}, request {request.userdata}")
        answers.record(userdata, request.results[0], request.executed_on)

    queue.set_callback(on_queue_done)

    def queue_producer(t: int) -> None:
        for i in range(t, count, THREADS):
            queue.start_async({"x": inputs[i]}, userdata=i)

    def infer_caller(t: int) -> None:
        request = compiled.create_infer_request()
        for i in range(t, count, THREADS):
            results = request.infer({"x": inputs[i]})
            answers.record(i, results["y"], request.executed_on)

    def compiled_caller(t: int) -> None:
        for i in range(t, count, THREADS):
            answers.record(i, compiled({"x": inputs[i]})[0])

    def start_and_wait(t: int) -> None:
        requests = [compiled.create_infer_request() for _ in range(2)]
        for request in requests:
            request.set_callback(
                lambda userdata, request=request: answers.record(
                    userdata, request.results[0], request.executed_on
                )
            )
        mine = list(range(t, count, THREADS))
        for pair in range(0, len(mine), 2):
            started = []
            for request, i in zip(requests, mine[pair : pair + 2], strict=False):
                request.start_async({"x": inputs[i]}, userdata=i)
                started.append(request)
            for request in started:
                request.wait()

    def asyncio_caller(t: int) -> None:
        async def main() -> None:
            idle: asyncio.Queue[ov.InferRequest] = asyncio.Queue()
            for _ in range(ASYNCIO_WINDOW // 2):
                idle.put_nowait(compiled.create_infer_request())
            window = asyncio.Semaphore(ASYNCIO_WINDOW)

            async def one(i: int) -> None:
                try:
                    if i % 2:
                        answers.record(i, (await compiled.infer_async({"x": inputs[i]}))[0])
                    else:
                        request = await idle.get()
                        try:
                            results = await request.infer_async({"x": inputs[i]})
                            answers.record(i, results[0], request.executed_on)
                        finally:
                            idle.put_nowait(request)
                finally:
                    window.release()

            tasks = []
            for i in range(t, count, THREADS):
                await window.acquire()
                tasks.append(asyncio.ensure_future(one(i)))
            await asyncio.gather(*tasks)

        asyncio.run(main())

    roles = [
        (QUEUE_THREADS, queue_producer),
        (INFER_THREADS, infer_caller),
        (CALL_THREADS, compiled_caller),
        (START_WAIT_THREADS, start_and_wait),
        (ASYNCIO_THREADS, asyncio_caller),
    ]
    targets: list[Callable[[], None]] = [lambda: None] * THREADS
    for threads, role in roles:
        for t in threads:
            targets[t] = lambda t=t, role=role: role(t)
    return targets, queue


@requires_cpu()
@pytest.mark.parametrize("device", ["CPU", "MULTI:CPU,SIMX"])
def test_32_threads_on_every_api_get_each_answer_once_and_right(
    device: str,
    reliability_core: ov.Core,
    reference: Reference,
    figures: Callable[[str], None],
    no_new_stream_threads: None,
) -> None:
    count = scaled(100_000, 2_000)
    inputs = unique_inputs(count, seed=1)
    expected = reference.all(inputs)
    compiled = reliability_core.compile_model(MLP, device, {"PERFORMANCE_HINT": "THROUGHPUT"})
    answers = Answers(count)
    targets, queue = producers(compiled, inputs, answers)
    limit = HANG_S + count / 100  # a hang detector: 100 requests/s is far below any real rate

    started = time.perf_counter()
    run_threads(targets, limit, f"{count} requests on {device}")
    in_thread(queue.wait_all, "queue.wait_all()")
    elapsed = time.perf_counter() - started

    missing = np.flatnonzero(answers.times == 0)
    twice = np.flatnonzero(answers.times > 1)
    assert missing.size == 0, f"{missing.size} requests never answered, e.g. {missing[:10]}"
    assert twice.size == 0, f"{twice.size} requests answered more than once, e.g. {twice[:10]}"
    assert answers.problems == []
    assert_matches(answers.values, expected, f"{count} requests on {device}")
    if device.startswith("MULTI"):
        ran = {k: v for k, v in answers.devices.items() if k is not None}
        assert set(ran) <= {"CPU", "SIMX"}, ran
    compiled.close()
    figures(
        f"stress {device}: {count} requests from {THREADS} threads in {elapsed:.1f} s "
        f"({count / elapsed:.0f}/s); ran on {dict(answers.devices)} (None: compiled() calls)"
    )
