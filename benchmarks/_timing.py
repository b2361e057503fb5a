"""The one timing helper every benchmark configuration goes through, and its drivers.

A *driver* is a function ``drive(recorder, deadline)`` that keeps a model busy until
``time.perf_counter()`` passes ``deadline``, calls ``recorder.record(seconds)`` once per
finished inference, and returns only when nothing it started is still running.
:func:`measure` runs a driver once to warm up and once to measure; the drivers below cover
the three ways of keeping a model busy: blocking calls looped in one or more threads,
callbacks with a fixed number of inferences in flight, and an ``AsyncInferQueue`` (ovlite's
and openvino's share the API the driver uses).
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

DEFAULT_WARMUP_S = 1.0


class Recorder:
    """Collects the latency (seconds) of each finished inference; safe to use from threads."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self._changed = threading.Condition()

    def record(self, seconds: float) -> None:
        with self._changed:
            self.latencies.append(seconds)
            self._changed.notify_all()

    def wait_for(self, count: int, timeout_s: float = 30.0) -> None:
        """Block (without holding the GIL) until ``count`` inferences have been recorded."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.latencies) >= count, timeout_s):
                raise RuntimeError(
                    f"only {len(self.latencies)} of {count} callbacks ran within {timeout_s:g} s"
                )


@dataclass(frozen=True)
class Sample:
    """What one measured configuration achieved."""

    completed: int
    elapsed_s: float
    median_ms: float
    p90_ms: float
    p99_ms: float = float("nan")

    @property
    def throughput(self) -> float:
        """Finished inferences per second over the whole measured window."""
        return self.completed / self.elapsed_s if self.elapsed_s > 0 else 0.0


Driver = Callable[[Recorder, float], None]


def measure(drive: Driver, seconds: float, warmup_s: float = DEFAULT_WARMUP_S) -> Sample:
    """Warm up for ``warmup_s``, then measure ``drive`` for ``seconds`` of wall-clock time.

    The measured window runs from the start until the driver has drained its last inference,
    so work still in flight at the deadline counts in both the time and the count.
    """
    drive(Recorder(), time.perf_counter() + warmup_s)
    recorder = Recorder()
    start = time.perf_counter()
    drive(recorder, start + seconds)
    elapsed = time.perf_counter() - start
    return summarize(recorder.latencies, elapsed)


def summarize(latencies: Sequence[float], elapsed_s: float) -> Sample:
    """Turn raw latencies (seconds) into a :class:`Sample` (milliseconds)."""
    if not latencies:
        return Sample(0, elapsed_s, float("nan"), float("nan"))
    ordered = sorted(latencies)

    def percentile(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e3

    median = statistics.median(ordered) * 1e3
    return Sample(len(ordered), elapsed_s, median, percentile(0.9), percentile(0.99))


def loop_driver(calls: Sequence[Callable[[], Any]]) -> Driver:
    """Each callable loops in its own thread (the caller's thread when there is only one)."""

    def loop(call: Callable[[], Any], recorder: Recorder, deadline: float) -> None:
        clock = time.perf_counter
        now = clock()
        while now < deadline:
            call()
            finished = clock()
            recorder.record(finished - now)
            now = finished

    def drive(recorder: Recorder, deadline: float) -> None:
        if len(calls) == 1:
            loop(calls[0], recorder, deadline)
            return
        run_in_threads([lambda c=c: loop(c, recorder, deadline) for c in calls])

    return drive


def run_in_threads(targets: Sequence[Callable[[], None]]) -> None:
    """Run each target in its own thread, wait for all, re-raise the first error."""
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as exc:  # handed to the caller below
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(t,), daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


StartWithCallback = Callable[[Callable[[str], None]], None]


def callback_driver(start: StartWithCallback, in_flight: int) -> Driver:
    """Keep ``in_flight`` inferences running; ``start(done)`` starts one that calls ``done(err)``.

    ``err`` is an empty string on success (ONNX Runtime's ``run_async`` convention).
    """

    def drive(recorder: Recorder, deadline: float) -> None:
        slots = threading.Semaphore(in_flight)
        errors: list[str] = []

        def started_now() -> Callable[[str], None]:
            began = time.perf_counter()

            def done(err: str) -> None:
                if err:
                    errors.append(err)
                else:
                    recorder.record(time.perf_counter() - began)
                slots.release()

            return done

        while time.perf_counter() < deadline and not errors:
            slots.acquire()
            start(started_now())
        for _ in range(in_flight):  # drain: every slot back means nothing is in flight
            slots.acquire()
        if errors:
            raise RuntimeError(f"asynchronous inference failed: {errors[0]}")

    return drive


def queue_driver(queue: Any, inputs: Any) -> Driver:
    """Feed an ``AsyncInferQueue`` (ovlite or openvino) ``inputs`` until the deadline.

    ``start_async`` blocks while every request is busy, so the latency recorded runs from
    asking for a request to its callback: it includes waiting for a free request.

    After ``wait_all`` it also waits until every started inference has been recorded, so the
    count never depends on whether a queue's ``wait_all`` returns before or after the last
    callbacks have run (openvino does not document which).
    """

    def drive(recorder: Recorder, deadline: float) -> None:
        clock = time.perf_counter
        queue.set_callback(lambda _request, began: recorder.record(clock() - began))
        started = 0
        while clock() < deadline:
            queue.start_async(inputs, clock())
            started += 1
        queue.wait_all()
        recorder.wait_for(started)

    return drive
