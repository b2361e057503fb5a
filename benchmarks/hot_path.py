"""Per-inference cost of ovlite's calls against raw ONNX Runtime, on the tiny MLP (batch 1).

One process, one model, interleaved rounds (the machine is shared): each round times, on one
thread and CPU, ``--calls`` calls of

* ``session.run`` on a plain ONNX Runtime session (intra-op threads 1), the baseline;
* ``request.infer(x)`` on ovlite's CPU device (LATENCY: one stream of one thread);
* ``compiled(x)``;
* ``compiled(x)`` with ``OVLITE_INFERENCE_TIMEOUT`` set (the watched path);
* ``AsyncInferQueue`` with ``OPTIMAL_NUMBER_OF_INFER_REQUESTS`` jobs under THROUGHPUT
  (completions per second, shown as microseconds per inference).

It prints the median of the rounds in microseconds per inference and each as a ratio of
the raw rate (raw / ovlite: 1.0 is as fast as ONNX Runtime).  Usage::

    python benchmarks/hot_path.py [--calls 3000] [--rounds 7]

To compare two checkouts, run it with each one's ovlite on ``PYTHONPATH`` (the plugins too:
``PYTHONPATH=ckpt:ckpt/plugins/ovlite-cpu``).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import threading
import time
from collections.abc import Callable

import numpy as np

import ovlite
from ovlite.models import tiny_mlp


def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def per_call_us(call: Callable[[], object], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - started) / calls * 1e6


def queue_us(compiled: ovlite.CompiledModel, x: np.ndarray, calls: int) -> float:
    queue = ovlite.AsyncInferQueue(compiled)
    done = threading.Semaphore(0)
    queue.set_callback(lambda request, userdata: done.release())
    started = time.perf_counter()
    for _ in range(calls):
        queue.start_async({"x": x})
    queue.wait_all()
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    import onnxruntime as ort

    proto = tiny_mlp()
    x = np.random.default_rng(0).standard_normal((1, 16), dtype=np.float32)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(proto.SerializeToString(), options, ["CPUExecutionProvider"])
    feeds = {"x": x}

    core = ovlite.Core()
    model = core.read_model(proto)
    latency = core.compile_model(model, "CPU", {"PERFORMANCE_HINT": "LATENCY"})
    watched = core.compile_model(
        model, "CPU", {"PERFORMANCE_HINT": "LATENCY", "OVLITE_INFERENCE_TIMEOUT": 60_000}
    )
    throughput = core.compile_model(model, "CPU", {"PERFORMANCE_HINT": "THROUGHPUT"})
    request = latency.create_infer_request()

    cases: dict[str, Callable[[], float]] = {
        "raw session.run": lambda: per_call_us(lambda: session.run(None, feeds), args.calls),
        "request.infer(x)": lambda: per_call_us(lambda: request.infer({"x": x}), args.calls),
        "compiled(x)": lambda: per_call_us(lambda: latency({"x": x}), args.calls),
        "compiled(x), timeout set": lambda: per_call_us(lambda: watched({"x": x}), args.calls),
        "AsyncInferQueue, THROUGHPUT": lambda: queue_us(throughput, x, args.calls),
    }
    for case in cases.values():  # warm up
        case()
    results: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, case in cases.items():
            results[name].append(case())

    raw = statistics.median(results["raw session.run"])
    print(
        f"ovlite {ovlite.__version__} from {os.path.dirname(ovlite.__file__)}; "
        f"onnxruntime {ort.__version__}; {cpu_name()}, {os.cpu_count()} logical CPUs; "
        f"tiny MLP, batch 1; median of {args.rounds} rounds of {args.calls} calls"
    )
    for name, values in results.items():
        median = statistics.median(values)
        print(f"  {name:30s} {median:8.2f} us/inference   rate vs raw {raw / median:5.2f}x")


if __name__ == "__main__":
    main()
