"""OPENVINO: OpenVINO's own kernels through ONNX Runtime, and precision as an explicit choice.

    python examples/openvino_precision.py              # OPENVINO.CPU at its default and f32
    python examples/openvino_precision.py -d OPENVINO.GPU.0

OpenVINO runs bf16 by default on CPUs with bf16 instructions, faster but less exact than f32.
The program compiles the same model at OpenVINO's default precision and at f32, prints what
OpenVINO chose (streams, threads, precision, requests) and how far each is from the CPU
device's f32 outputs, and times a short THROUGHPUT run of each.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import ovlite as ov
import ovlite.properties as props
from ovlite import models

SHOWN = (
    props.streams.num,
    props.inference_num_threads,
    props.hint.inference_precision,
    props.optimal_number_of_infer_requests,
)


def throughput(compiled: ov.CompiledModel, image: np.ndarray, seconds: float) -> float:
    queue = ov.AsyncInferQueue(compiled)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        queue.start_async({"input": image})
        count += 1
    queue.wait_all()
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-d", "--device", default="OPENVINO.CPU")
    parser.add_argument("-t", "--seconds", type=float, default=3.0)
    args = parser.parse_args()

    core = ov.Core()
    model = core.read_model(models.resnet18(batch=1))
    image = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
    expected = core.compile_model(model, "CPU")({"input": image})[0]

    for label, precision in (
        ("default precision", {}),
        ("f32", {"INFERENCE_PRECISION_HINT": "f32"}),
    ):
        config = {"PERFORMANCE_HINT": "THROUGHPUT", **precision}
        compiled = core.compile_model(model, args.device, config)
        chosen = ", ".join(f"{key.name}={compiled.get_property(key)}" for key in SHOWN)
        difference = float(np.max(np.abs(compiled({"input": image})[0] - expected)))
        rate = throughput(compiled, image, args.seconds)
        print(f"{args.device}, {label}: {chosen}")
        print(f"  largest difference from CPU f32: {difference:.1e}; {rate:.1f} inf/s")
        compiled.close()


if __name__ == "__main__":
    main()
