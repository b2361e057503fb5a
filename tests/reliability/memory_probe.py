"""Run many inferences on the tiny MLP in a fresh interpreter and report resident memory.

    python memory_probe.py DEVICE WARMUP TOTAL [LEAK_BYTES]

Runs WARMUP requests, measures RSS, then goes on to TOTAL requests in all, measuring RSS at
ten checkpoints; prints one JSON object.  Requests mix the APIs as services use them: an
AsyncInferQueue (70 %), request.infer and compiled(...) (20 %), asyncio (10 %).  LEAK_BYTES,
for the test's self-check only, keeps that many bytes per request alive: a deliberate leak
the measurement must catch.  ``MULTI:CPU,SIMX`` uses a simulated second device registered
in-process.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import threading
import time

import numpy as np
import psutil

import ovlite as ov
from ovlite import models
from ovlite.testing import SimulatedDevice, StandInPlugin


def main() -> None:
    device, warmup, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    leak_bytes = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    core = ov.Core()
    core.register_plugin(StandInPlugin(SimulatedDevice("SIMX")), name="reliability")
    compiled = core.compile_model(
        models.tiny_mlp(batch=1), device, {"PERFORMANCE_HINT": "THROUGHPUT"}
    )
    inputs = np.random.default_rng(0).uniform(-1, 1, size=(4096, 1, 16)).astype(np.float32)
    leaked: list[bytes] = []
    answered = [0]
    lock = threading.Lock()

    def count_answer() -> None:
        with lock:
            answered[0] += 1
            if leak_bytes:
                leaked.append(bytes(leak_bytes))

    def on_done(request: ov.InferRequest, userdata: int) -> None:
        assert request.results[0].shape == (1, 8)
        count_answer()

    queue = ov.AsyncInferQueue(compiled)
    queue.set_callback(on_done)
    request = compiled.create_infer_request()

    async def with_asyncio(count: int, start: int) -> None:
        own = compiled.create_infer_request()
        for i in range(start, start + count):
            x = {"x": inputs[i % 4096]}
            results = await (compiled.infer_async(x) if i % 2 else own.infer_async(x))
            assert results[0].shape == (1, 8)
            count_answer()

    def run(count: int, start: int) -> None:
        queued, synchronous = count * 7 // 10, count * 2 // 10
        for i in range(start, start + queued):
            queue.start_async({"x": inputs[i % 4096]}, userdata=i)
        start += queued
        for i in range(start, start + synchronous):
            x = {"x": inputs[i % 4096]}
            results = request.infer(x) if i % 2 else compiled(x)
            assert results[0].shape == (1, 8)
            count_answer()
        start += synchronous
        asyncio.run(with_asyncio(count - queued - synchronous, start))
        queue.wait_all()

    process = psutil.Process()

    def rss() -> int:
        gc.collect()
        return process.memory_info().rss

    started = time.perf_counter()
    run(warmup, 0)
    marks = [(warmup, rss())]
    done = warmup
    step = max(1, (total - warmup) // 10)
    while done < total:
        count = min(step, total - done)
        run(count, done)
        done += count
        marks.append((done, rss()))
    elapsed = time.perf_counter() - started
    assert answered[0] == total, (answered[0], total)
    print(
        json.dumps(
            {
                "device": device,
                "marks": marks,
                "seconds": elapsed,
                "threads": threading.active_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
