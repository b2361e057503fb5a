"""End-to-end check of the GPU plugin on a machine with an NVIDIA GPU.

    pip install -e plugins/ovlite-gpu[cuda]      # onnxruntime-gpu (see its README on flavours)
    python benchmarks/gpu_check.py [-t SECONDS] [-d GPU.0]

1. Devices: every GPU found, with name, memory, backend and where the list came from.
2. Correctness: the ResNet-18-shaped model on the GPU against the CPU, max |difference|
   within 1e-3.
3. Throughput of batch-1 requests on the GPU: LATENCY, THROUGHPUT without automatic
   batching, THROUGHPUT with it (BATCH at the GPU's OPTIMAL_BATCH_SIZE).
   Target: THROUGHPUT with automatic batching >= 3x LATENCY.
4. MULTI:GPU,CPU (THROUGHPUT) against GPU and CPU alone (THROUGHPUT each).
   Target: >= 0.9x the sum.

``--cpu-standin`` runs the same steps with ONNX Runtime's CPU provider standing in for the
GPU (two stand-in GPUs of 8 GiB): it checks the script and the plugin's plumbing on a machine
without a GPU; its figures say nothing about a GPU.

Prints a report with the ratios; exits 0 when every check passes, 1 when one fails, 2 when
no GPU is available (with the reason).  Not run by the tests: it needs the hardware.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import ovlite as ov
from ovlite import models

sys.path.insert(0, str(Path(__file__).parent))
from meta_bench import queue_throughput  # noqa: E402

TOLERANCE = 1e-3
NO_BATCHING = {"ALLOW_AUTO_BATCHING": False}


def measure(core: ov.Core, device: str, config: dict, inputs: dict, seconds: float) -> tuple:
    """(requests per second, the compiled model's configuration reason)."""
    compiled = core.compile_model(models.resnet18(), device, config)
    try:
        rate = queue_throughput(compiled, inputs, seconds)
        return rate, compiled.get_property("OVLITE_CONFIGURATION_REASON")
    finally:
        compiled.close()


def standin_core() -> ov.Core:
    """A core whose GPU device is two stand-ins on ONNX Runtime's CPU provider."""
    from ovlite_gpu import GPUDevice
    from ovlite_gpu.backends import CPU_STANDIN
    from ovlite_gpu.enumeration import GPUInfo

    from ovlite.testing import StandInPlugin

    gpus = [
        GPUInfo(
            str(i),
            CPU_STANDIN,
            None,
            f"CPU stand-in GPU {i}",
            memory_bytes=8 << 30,
            source="stand-in",
        )
        for i in range(2)
    ]
    core = ov.Core()
    note = "CPU STAND-IN: ONNX Runtime's CPU provider in place of a GPU; figures mean nothing"
    core.register_plugin(StandInPlugin(GPUDevice(lambda: (gpus, note))), name="gpu-standin")
    return core


def check(label: str, value: float, target: float, unit: str = "x") -> bool:
    ok = value >= target
    print(f"  {label}: {value:.2f}{unit} (target >= {target:g}{unit}) {'PASS' if ok else 'FAIL'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-t", "--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("-d", "--device", default="GPU", help="the GPU to check (GPU.1, ...)")
    parser.add_argument(
        "--cpu-standin",
        action="store_true",
        help="run on ONNX Runtime's CPU provider standing in for a GPU (plumbing check only)",
    )
    args = parser.parse_args()
    core = standin_core() if args.cpu_standin else ov.Core()

    print("1. devices")
    gpu = core.devices().get("GPU")
    if gpu is None:
        print("  no GPU device installed: pip install -e plugins/ovlite-gpu[cuda]")
        return 2
    availability = gpu.availability()
    if not availability:
        print(f"  GPU unavailable: {availability.reason}")
        return 2
    print(f"  {availability.reason}")
    for index in gpu.device_ids():
        name = f"GPU.{index}"
        memory = (
            core.get_property(name, "GPU_DEVICE_TOTAL_MEM_SIZE")
            if gpu.gpu(index).memory_bytes
            else None
        )
        print(
            f"  {name}: {core.get_property(name, 'FULL_DEVICE_NAME')}, "
            f"{f'{memory / 2**30:.1f} GiB' if memory else 'memory unknown'}, "
            f"bus {core.get_property(name, 'OVLITE_GPU_PCI_BUS_ID') or '?'}, "
            f"driver {core.get_property(name, 'OVLITE_GPU_DRIVER_VERSION') or '?'}, "
            f"listed by {core.get_property(name, 'OVLITE_GPU_ENUMERATED_BY')}"
        )

    print("2. outputs against CPU")
    image = np.random.default_rng(0).random((1, 3, 224, 224), np.float32)
    proto = models.resnet18()
    on_gpu = np.asarray(core.compile_model(proto, args.device, NO_BATCHING)(image)[0])
    on_cpu = np.asarray(core.compile_model(proto, "CPU")(image)[0])
    difference = float(np.max(np.abs(on_gpu - on_cpu)))
    passed = difference <= TOLERANCE
    print(
        f"  max |GPU - CPU| = {difference:.2e} (tolerance {TOLERANCE:g}) {'PASS' if passed else 'FAIL'}"
    )

    inputs = {"input": image}
    print(f"3. batch-1 requests on {args.device}, {args.seconds:g} s each (requests/s)")
    rates = {}
    for label, config in (
        ("LATENCY", {"PERFORMANCE_HINT": "LATENCY", **NO_BATCHING}),
        ("THROUGHPUT", {"PERFORMANCE_HINT": "THROUGHPUT", **NO_BATCHING}),
        ("THROUGHPUT + automatic batching", {"PERFORMANCE_HINT": "THROUGHPUT"}),
    ):
        started = time.perf_counter()
        rates[label], reason = measure(core, args.device, config, inputs, args.seconds)
        print(
            f"  {label:32s} {rates[label]:8.1f}   ({time.perf_counter() - started:.0f} s; {reason})"
        )
    passed &= check(
        "THROUGHPUT + batching / LATENCY",
        rates["THROUGHPUT + automatic batching"] / rates["LATENCY"],
        3.0,
    )
    print(f"  THROUGHPUT / LATENCY: {rates['THROUGHPUT'] / rates['LATENCY']:.2f}x (no target)")

    print("4. MULTI:GPU,CPU against its children alone (THROUGHPUT)")
    throughput = {"PERFORMANCE_HINT": "THROUGHPUT"}
    alone_gpu, _ = measure(core, args.device, throughput, inputs, args.seconds)
    alone_cpu, _ = measure(core, "CPU", throughput, inputs, args.seconds)
    multi, _ = measure(core, f"MULTI:{args.device},CPU", throughput, inputs, args.seconds)
    print(f"  GPU {alone_gpu:.1f}, CPU {alone_cpu:.1f}, MULTI {multi:.1f} requests/s")
    passed &= check("MULTI / (GPU + CPU)", multi / (alone_gpu + alone_cpu), 0.9)

    print("all checks passed" if passed else "SOME CHECKS FAILED")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
