"""Throughput in the OpenVINO style: a hint, an AsyncInferQueue of the optimal size, callbacks.

    python examples/throughput.py                       # built-in ResNet-18-shaped CNN on CPU
    python examples/throughput.py -m model.onnx -d CPU -n 500

The program is written as one would for ``openvino``; only the import differs.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx

import ovlite as ov
import ovlite.properties as props
from ovlite import models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "-m", "--model", default="resnet18", help="an .onnx path or a built-in name"
    )
    parser.add_argument("-d", "--device", default="CPU")
    parser.add_argument("-n", "--requests", type=int, default=200)
    args = parser.parse_args()

    core = ov.Core()
    model = core.read_model(model_path(args.model))
    config = {props.hint.performance_mode: props.hint.PerformanceMode.THROUGHPUT}
    compiled = core.compile_model(model, args.device, config)

    nireq = compiled.get_property(props.optimal_number_of_infer_requests)
    print(f"{model.friendly_name} on {args.device}: {nireq} requests in flight")
    for key in ("NUM_STREAMS", "INFERENCE_NUM_THREADS", "OVLITE_CONFIGURATION_REASON"):
        if key in compiled.get_property(props.supported_properties):
            print(f"  {key}: {compiled.get_property(key)}")

    queue = ov.AsyncInferQueue(compiled)  # jobs=0: OPTIMAL_NUMBER_OF_INFER_REQUESTS
    latencies: list[float] = []
    queue.set_callback(lambda request, userdata: latencies.append(request.latency))

    rng = np.random.default_rng(0)
    port = compiled.input(0)
    shape = [1 if d < 0 else d for d in port.shape]
    image = rng.standard_normal(shape).astype(port.element_type.to_dtype())

    started = time.perf_counter()
    for _ in range(args.requests):
        request_id = queue.get_idle_request_id()
        queue[request_id].get_tensor(port.any_name).data[:] = image
        queue.start_async()
    queue.wait_all()
    elapsed = time.perf_counter() - started

    print(f"  {len(latencies)} requests in {elapsed:.2f} s: {len(latencies) / elapsed:.1f} FPS")
    print(f"  latency median {np.median(latencies):.2f} ms, max {np.max(latencies):.2f} ms")


def model_path(name: str) -> str:
    """A path for ``name``: an existing file, or a built-in model written to a temp file."""
    if Path(name).exists():
        return name
    path = Path(tempfile.gettempdir()) / f"ovlite-builtin-{name}.onnx"
    if not path.exists():
        onnx.save(models.build(name), path)
    return str(path)


if __name__ == "__main__":
    main()
