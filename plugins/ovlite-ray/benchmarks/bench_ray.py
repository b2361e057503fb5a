"""RAY's throughput with 1, 2 and 4 replicas on the ResNet-18-shaped CNN, and the per-request
cost of the Ray path against the local CPU device on the tiny MLP.

    python plugins/ovlite-ray/benchmarks/bench_ray.py [scaling|overhead|all] [--seconds S] [--rounds R]

It starts one local Ray instance (loopback, as many logical CPUs as all the replicas
count), so every replica is a process on this machine reserving one CPU and running its model
on one ONNX Runtime thread (``INFERENCE_NUM_THREADS`` follows the reserved CPUs).  Scaling is
compared with one replica, with the local CPU device given the same single thread, and with
the local CPU device on every core (the machine's ceiling).
Rounds interleave the configurations so a busy neighbour hurts them alike; the best round is
reported.  Figures depend on the machine: see plugins/ovlite-ray/README.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import ovlite
from ovlite.models import resnet18, tiny_mlp

REPLICA_COUNTS = (1, 2, 4)


def throughput(compiled: ovlite.CompiledModel, data: dict, seconds: float) -> float:
    """Inferences per second through an AsyncInferQueue of the compiled model's size."""
    queue = ovlite.AsyncInferQueue(compiled)
    for _ in range(len(queue)):  # warm-up
        queue.start_async(data)
    queue.wait_all()
    done = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        for _ in range(len(queue)):
            queue.start_async(data)
            done += 1
    queue.wait_all()
    return done / (time.perf_counter() - started)


def sync_latency_ms(compiled: ovlite.CompiledModel, data: dict, calls: int) -> float:
    """Median milliseconds of one ``compiled(data)`` call."""
    for _ in range(20):
        compiled(data)
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        compiled(data)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def scaling(core: ovlite.Core, seconds: float, rounds: int) -> None:
    model = ovlite.read_model(resnet18(batch=1))
    data = {"input": np.random.default_rng(0).random((1, 3, 224, 224), dtype=np.float32)}
    compiled = {
        "CPU, 1 thread": core.compile_model(
            model, "CPU", {"INFERENCE_NUM_THREADS": 1, "PERFORMANCE_HINT": "THROUGHPUT"}
        ),
        "CPU, all cores": core.compile_model(model, "CPU", {"PERFORMANCE_HINT": "THROUGHPUT"}),
    }
    for count in REPLICA_COUNTS:
        compiled[f"RAY:CPU x{count}"] = core.compile_model(
            model, "RAY:CPU", {"RAY_REPLICAS": count}
        )
    best: dict[str, float] = {}
    for round_index in range(rounds):
        for name, model_on in compiled.items():
            rate = throughput(model_on, data, seconds)
            best[name] = max(best.get(name, 0.0), rate)
            print(f"  round {round_index + 1}: {name:16s} {rate:7.2f} inferences/s", flush=True)
    one = best["RAY:CPU x1"]
    print(
        f"\nResNet-18 224x224 batch 1, {os.cpu_count()} logical CPUs here; best of {rounds} rounds"
    )
    print(f"{'configuration':18s} {'inf/s':>8s} {'x 1 replica':>12s} {'of linear':>10s}")
    for name, rate in best.items():
        count = int(name.rsplit("x", 1)[1]) if name.startswith("RAY") else 1
        print(f"{name:18s} {rate:8.2f} {rate / one:12.2f} {rate / one / count:10.0%}")
    for model_on in compiled.values():
        model_on.close()


def overhead(core: ovlite.Core, seconds: float, rounds: int) -> None:
    model = ovlite.read_model(tiny_mlp(batch=None))
    data = {"x": np.random.default_rng(0).random((4, 16), dtype=np.float32)}
    local = core.compile_model(model, "CPU", {"INFERENCE_NUM_THREADS": 1})
    remote = core.compile_model(model, "RAY:CPU", {"RAY_REPLICAS": 1})
    sync: dict[str, list[float]] = {"CPU": [], "RAY:CPU": []}
    rate: dict[str, list[float]] = {"CPU": [], "RAY:CPU": []}
    for _ in range(rounds):
        for name, model_on in (("CPU", local), ("RAY:CPU", remote)):
            sync[name].append(sync_latency_ms(model_on, data, 500))
            rate[name].append(throughput(model_on, data, seconds))
    print("\ntiny MLP (batch 4): per-request cost, best of", rounds, "rounds")
    print(f"{'device':10s} {'sync median ms':>15s} {'async inf/s':>12s} {'async us/inf':>13s}")
    for name in sync:
        fastest = max(rate[name])
        print(f"{name:10s} {min(sync[name]):15.3f} {fastest:12.0f} {1e6 / fastest:13.1f}")
    print(
        f"Ray path adds {min(sync['RAY:CPU']) - min(sync['CPU']):.3f} ms per synchronous request "
        f"and {1e6 / max(rate['RAY:CPU']) - 1e6 / max(rate['CPU']):.0f} us per queued request"
    )
    local.close()
    remote.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="?", default="all", choices=["scaling", "overhead", "all"])
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from ovlite_ray.cluster import start_local_instance

    # every configuration stays compiled (rounds interleave them): room for all replicas at once
    start_local_instance(num_cpus=sum(REPLICA_COUNTS))
    core = ovlite.Core()
    if args.what in ("scaling", "all"):
        scaling(core, args.seconds, args.rounds)
    if args.what in ("overhead", "all"):
        overhead(core, args.seconds / 2, args.rounds)


if __name__ == "__main__":
    main()
