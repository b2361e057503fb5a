"""MULTI and AUTO against their children, in one run.

    python benchmarks/meta_bench.py [-t SECONDS]

1. MULTI over two simulated independent devices (their time per inference is spent
   sleeping, as an accelerator's would be) against the sum of their separate throughputs.
   Target: >= 0.9x the sum.
2. MULTI:CPU plus a simulated device that computes on the same cores (ONNX Runtime, no
   sleep) against the best single child.  Target: >= 0.97x the best child.
3. AUTO's first inference with a slow-compiling preferred device (3 s compile) against the
   CPU's own first inference (compile + one inference each, in fresh Cores).
   Target: <= 1.2x the CPU's.

The simulated devices are ovlite.testing.SimulatedDevice: they stand in for hardware this
machine lacks and really run the model on ONNX Runtime.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

import numpy as np

import ovlite as ov
from ovlite import models
from ovlite.testing import SimulatedDevice, StandInPlugin


def queue_throughput(compiled: ov.CompiledModel, inputs: dict, seconds: float) -> float:
    """Requests per second through an AsyncInferQueue of the optimal size."""
    queue = ov.AsyncInferQueue(compiled)
    done = [0]
    lock = threading.Lock()

    def count(request: ov.InferRequest, userdata: object) -> None:
        with lock:
            done[0] += 1

    queue.set_callback(count)
    for _ in range(len(queue)):  # warm-up: one round on every request
        queue.start_async(inputs)
    queue.wait_all()
    done[0] = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        queue.start_async(inputs)
    queue.wait_all()
    return done[0] / (time.perf_counter() - started)


def core_with(*devices: SimulatedDevice) -> ov.Core:
    core = ov.Core()
    core.register_plugin(StandInPlugin(*devices), name="simulated")
    return core


def report(label: str, ratio: float, target: str, ok: bool) -> None:
    print(f"  {label}: {ratio:.3f}x (target {target}) {'PASS' if ok else 'FAIL'}")


def multi_over_independent_devices(seconds: float) -> None:
    model = ov.read_model(models.tiny_mlp(batch=1))
    inputs = {"x": np.ones((1, 16), np.float32)}
    core = core_with(
        SimulatedDevice("SIMA", delay_ms=5, throughput_streams=2),
        SimulatedDevice("SIMB", delay_ms=12, throughput_streams=2),
    )
    config = {"PERFORMANCE_HINT": "THROUGHPUT"}
    alone = {
        d: queue_throughput(core.compile_model(model, d, config), inputs, seconds)
        for d in ("SIMA", "SIMB")
    }
    multi = queue_throughput(core.compile_model(model, "MULTI:SIMA,SIMB"), inputs, seconds)
    total = sum(alone.values())
    print("1. MULTI over two independent simulated devices (5 ms and 12 ms, 2 streams each)")
    print(
        f"  SIMA {alone['SIMA']:.1f}/s, SIMB {alone['SIMB']:.1f}/s, sum {total:.1f}/s; MULTI {multi:.1f}/s"
    )
    report("MULTI / sum", multi / total, ">= 0.9", multi / total >= 0.9)


def multi_with_a_device_on_the_same_cores(seconds: float) -> None:
    model = ov.read_model(models.resnet18(batch=1, image_size=112))
    inputs = {
        "input": np.random.default_rng(0).standard_normal((1, 3, 112, 112)).astype(np.float32)
    }
    core = core_with(SimulatedDevice("SIMCPU", throughput_streams=2))  # computes on the CPU
    config = {"PERFORMANCE_HINT": "THROUGHPUT"}
    cpu = queue_throughput(core.compile_model(model, "CPU", config), inputs, seconds)
    sim = queue_throughput(core.compile_model(model, "SIMCPU", config), inputs, seconds)
    compiled = core.compile_model(model, "MULTI:CPU,SIMCPU")
    multi = queue_throughput(compiled, inputs, seconds)
    best = max(cpu, sim)
    print("2. MULTI:CPU,SIMCPU where SIMCPU computes on the same cores (ResNet-18 shape, 112x112)")
    print(f"  CPU {cpu:.1f}/s, SIMCPU {sim:.1f}/s; MULTI {multi:.1f}/s")
    dropped = compiled.get_property("OVLITE_DROPPED_DEVICES")
    print(f"  MULTI dropped: {dropped or 'nothing'}")
    report("MULTI / best child", multi / best, ">= 0.97", multi / best >= 0.97)


def first_inference(device: str, model: ov.Model, inputs: dict, slow: bool) -> float:
    """Milliseconds from compile_model to the first result, in a fresh Core."""
    core = (
        core_with(SimulatedDevice("SLOWGPU", priority=100, compile_delay_ms=3000))
        if slow
        else ov.Core()
    )
    started = time.perf_counter()
    compiled = core.compile_model(model, device)
    compiled(inputs)
    elapsed = (time.perf_counter() - started) * 1000
    if hasattr(compiled, "wait_until_ready"):
        compiled.wait_until_ready()
    return elapsed


def auto_first_inference(repeats: int = 5) -> None:
    model = ov.read_model(models.resnet18(batch=1))
    inputs = {
        "input": np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
    }
    cpu = statistics.median(
        first_inference("CPU", model, inputs, slow=False) for _ in range(repeats)
    )
    auto = statistics.median(
        first_inference("AUTO", model, inputs, slow=True) for _ in range(repeats)
    )
    print(
        "3. AUTO first inference with a preferred device that takes 3 s to compile (ResNet-18 shape)"
    )
    print(f"  CPU compile + first inference {cpu:.1f} ms; AUTO {auto:.1f} ms (median of {repeats})")
    report("AUTO / CPU", auto / cpu, "<= 1.2", auto / cpu <= 1.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "-t", dest="seconds", type=float, default=5.0, help="seconds per measurement"
    )
    args = parser.parse_args()
    print(
        f"ovlite {ov.__version__}; {len(ov.Core().available_devices)} real device(s): {ov.Core().available_devices}"
    )
    multi_over_independent_devices(args.seconds)
    multi_with_a_device_on_the_same_cores(args.seconds)
    auto_first_inference()


if __name__ == "__main__":
    main()
