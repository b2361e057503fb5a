"""In-process A/B of two hot-path pieces: another checkout's against this one's, in turns.

Separate processes (``hot_path_ab.py``) differ by more than these pieces change on a busy
machine; in one process, rounds alternate within milliseconds and are compared pairwise.

* ``queue``: ``AsyncInferQueue`` (``ovlite/requests.py`` of each checkout) on the CPU
  device under THROUGHPUT, tiny MLP; the requests are this checkout's in both.
* ``timeout``: ``compiled(x)`` under ``OVLITE_INFERENCE_TIMEOUT`` with each checkout's
  watchdog (``ovlite/watchdog.py``), stoppable runner (``ovlite/onnxruntime.py``) and
  ``in_worker_thread`` (``ovlite/streams.py``).

It prints, per side, the median and best microseconds per inference (wall clock and
process CPU time), the median of the pairwise ratios other/this (above 1: this is
faster) and in how many rounds this was faster.  Usage::

    python benchmarks/hot_path_pieces_ab.py OTHER_CHECKOUT {queue,timeout} [--rounds 31]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from collections.abc import Callable
from types import MappingProxyType, ModuleType

import numpy as np

import ovlite
import ovlite.compiled_model
from ovlite import onnxruntime as this_onnxruntime
from ovlite import requests as this_requests
from ovlite import streams as this_streams
from ovlite import watchdog as this_watchdog
from ovlite.models import tiny_mlp


def load(checkout: str, module: str) -> ModuleType:
    """``ovlite/<module>.py`` of ``checkout`` as a module of its own inside ``ovlite``."""
    name = f"ovlite._other_{module}"
    spec = importlib.util.spec_from_file_location(name, f"{checkout}/ovlite/{module}.py")
    loaded = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[name] = loaded
    spec.loader.exec_module(loaded)  # type: ignore[union-attr]
    return loaded


def timed(loop: Callable[[], None], calls: int) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    loop()
    return (time.perf_counter() - wall) / calls * 1e6, (time.process_time() - cpu) / calls * 1e6


def queue_sides(checkout: str, calls: int) -> dict[str, Callable[[], tuple[float, float]]]:
    other = load(checkout, "requests")
    core = ovlite.Core()
    compiled = core.compile_model(
        core.read_model(tiny_mlp()), "CPU", {"PERFORMANCE_HINT": "THROUGHPUT"}
    )
    x = np.zeros((1, 16), np.float32)

    def side(queue_class: type) -> Callable[[], tuple[float, float]]:
        def measure() -> tuple[float, float]:
            queue = queue_class(compiled)
            queue.set_callback(lambda request, userdata: None)

            def loop() -> None:
                for _ in range(calls):
                    queue.start_async({"x": x})
                queue.wait_all()

            return timed(loop, calls)

        return measure

    return {"other": side(other.AsyncInferQueue), "this": side(this_requests.AsyncInferQueue)}


def timeout_sides(checkout: str, calls: int) -> dict[str, Callable[[], tuple[float, float]]]:
    others = [load(checkout, module) for module in ("watchdog", "onnxruntime", "streams")]
    core = ovlite.Core()
    compiled = core.compile_model(
        core.read_model(tiny_mlp()),
        "CPU",
        {"PERFORMANCE_HINT": "LATENCY", "OVLITE_INFERENCE_TIMEOUT": 60_000},
    )
    executor = compiled.device_model.executor
    outputs = [port.any_name for port in compiled.outputs]
    info = MappingProxyType({"device": "CPU"})
    x = np.zeros((1, 16), np.float32)

    def side(
        watchdog: ModuleType, runners: ModuleType, streams: ModuleType
    ) -> Callable[[], tuple[float, float]]:
        runner = runners.stoppable_session_runner(outputs, ["x"], info)

        def measure() -> tuple[float, float]:
            ovlite.compiled_model.watch_stop = watchdog.watch_stop
            ovlite.compiled_model.in_worker_thread = streams.in_worker_thread
            executor.run_stoppable = runner

            def loop() -> None:
                for _ in range(calls):
                    compiled({"x": x})

            return timed(loop, calls)

        return measure

    return {
        "other": side(*others),
        "this": side(this_watchdog, this_onnxruntime, this_streams),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("other", help="the other checkout (its root folder)")
    parser.add_argument("piece", choices=["queue", "timeout"])
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args()
    sides = {"queue": queue_sides, "timeout": timeout_sides}[args.piece](args.other, args.calls)
    for measure in sides.values():  # warm up
        measure()
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
    for _ in range(args.rounds):
        for name, measure in sides.items():
            results[name].append(measure())
    print(
        f"{args.piece}: {args.other} (other) against {os.path.dirname(os.path.dirname(__file__)) or '.'}"
        f" (this); {args.rounds} rounds of {args.calls} calls; load {os.getloadavg()[0]:.2f}"
    )
    for index, what in ((0, "wall"), (1, "process CPU")):
        ratios = [
            o[index] / t[index] for o, t in zip(results["other"], results["this"], strict=True)
        ]
        for name, values in results.items():
            column = [value[index] for value in values]
            print(
                f"  {what:11s} {name:5s}: median {statistics.median(column):6.2f} us/inference, "
                f"best {min(column):6.2f}"
            )
        faster = sum(ratio > 1 for ratio in ratios)
        print(
            f"  {what:11s} other/this: median {statistics.median(ratios):.2f}; "
            f"this faster in {faster}/{args.rounds} rounds"
        )


if __name__ == "__main__":
    main()
