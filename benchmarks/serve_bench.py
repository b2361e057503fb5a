"""``ovlite serve`` against the same device in-process, on the tiny MLP and resnet18.

    python benchmarks/serve_bench.py [-d CPU] [-t SECONDS] [-c 1 2 4 8] [--models mlp resnet18]

For each model and concurrency C: (1) in-process, an ``AsyncInferQueue`` of C requests on
the compiled model kept full (the queue driver in ``_timing.py``); (2) over the network, a
real ``ovlite serve`` process on 127.0.0.1 (same device, same THROUGHPUT hint) driven in
closed loop by C client threads, each with its own ``tritonclient.http`` client sending
binary tensors (what perf_analyzer's ``--concurrency-range C`` does).  Prints throughput,
p50 and p99 for both, their ratio, and for each row the server's own time per request (from
its ``/metrics`` histogram); at C=1 the overhead in µs: the server's time minus the
in-process latency (``s``), and the client's round trip minus the in-process latency (``rt``,
which adds HTTP parsing, loopback TCP and the Python client).

With ``--pytriton PYTHON`` (a separate venv with ``nvidia-pytriton`` and ``onnxruntime``) the
anchor follows each model: the real Triton server from that wheel serving the same model
through an ONNX Runtime session (``_pytriton_anchor.py``), driven by the same client.

perf_analyzer (``pip install perf-analyzer``; a C++ client) is used instead of the Python
client when it is on PATH; its command line is printed.  Results: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import onnx
from _timing import loop_driver, measure, queue_driver

import ovlite as ov
from ovlite import models

MODELS = {
    "mlp": lambda batch=1: models.tiny_mlp(batch=batch),
    "resnet18": lambda batch=1: models.resnet18(batch=batch),
}


def in_process(path: Path, device: str, inputs: dict, concurrency: int, seconds: float):
    compiled = ov.Core().compile_model(str(path), device, {"PERFORMANCE_HINT": "THROUGHPUT"})
    try:
        return measure(queue_driver(ov.AsyncInferQueue(compiled, concurrency), inputs), seconds)
    finally:
        compiled.close()


def served(url: str, name: str, inputs: dict, concurrency: int, seconds: float):
    import tritonclient.http as httpclient

    tensors = []
    for key, array in inputs.items():
        tensor = httpclient.InferInput(key, list(array.shape), "FP32")
        tensor.set_data_from_numpy(array, binary_data=True)
        tensors.append(tensor)
    local = threading.local()  # tritonclient.http is gevent-based: one client per thread

    def call() -> None:
        if not hasattr(local, "client"):
            local.client = httpclient.InferenceServerClient(url)
        local.client.infer(name, tensors)

    return measure(loop_driver([call] * concurrency), seconds)


def server_seconds_per_request(url: str, name: str) -> tuple[float, float]:
    """(sum, count) of the server's request-duration histogram for ``name``."""
    import urllib.request

    page = urllib.request.urlopen(f"http://{url}/metrics", timeout=10).read().decode()
    values = {}
    for key in ("sum", "count"):
        pattern = (
            rf'^ovlite_serve_request_duration_seconds_{key}{{[^}}]*model="{name}"[^}}]*}} (\S+)$'
        )
        match = re.search(pattern, page, re.M)  # absent before the first request
        values[key] = float(match.group(1)) if match else 0.0
    return values["sum"], values["count"]


def perf_analyzer(url: str, name: str, concurrency: int, seconds: float) -> str:
    command = [
        "perf_analyzer", "-m", name, "-u", url, "-i", "http",
        f"--concurrency-range={concurrency}", f"--measurement-interval={int(seconds * 1000)}",
        "--percentile=99",
    ]  # fmt: skip
    print("  $", " ".join(command))
    return subprocess.run(command, capture_output=True, text=True, timeout=600).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-d", "--device", default="CPU")
    parser.add_argument("-t", "--seconds", type=float, default=3.0)
    parser.add_argument("-c", "--concurrency", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument(
        "--pytriton",
        metavar="PYTHON",
        help="a Python with nvidia-pytriton and onnxruntime: also measure Triton as the anchor",
    )
    args = parser.parse_args()
    from ovlite_serve.process import ServerProcess

    folder = Path(tempfile.mkdtemp(prefix="serve-bench-"))
    print(
        f"device {args.device}, THROUGHPUT hint, {args.seconds:g} s per row, python {sys.version.split()[0]}"
    )
    for name in args.models:
        path = folder / f"{name}.onnx"
        onnx.save(MODELS[name](), path)
        port = ov.Core().read_model(str(path)).inputs[0]
        shape = [int(d) for d in port.get_partial_shape()]
        inputs = {port.any_name: np.random.default_rng(0).standard_normal(shape, np.float32)}
        flags = ["-m", f"{name}={path}", "-d", args.device, "--hint", "throughput"]
        server = ServerProcess(flags, folder / f"{name}.log", ready_s=120)
        print(f"\n{name} {shape}")
        print(f"{'C':>3} {'in-process/s':>13} {'p50 ms':>8} {'p99 ms':>8} | {'served/s':>9} "
              f"{'p50 ms':>8} {'p99 ms':>8} | {'ratio':>6} {'server us/req':>14} {'overhead us s/rt':>16}")  # fmt: skip
        served_rows = {}
        try:
            for c in args.concurrency:
                local = in_process(path, args.device, inputs, c, args.seconds)
                if shutil.which("perf_analyzer"):
                    print(perf_analyzer(server.url, name, c, args.seconds))
                    continue
                before = server_seconds_per_request(server.url, name)
                remote = served(server.url, name, inputs, c, args.seconds)
                after = server_seconds_per_request(server.url, name)
                served_rows[c] = remote
                server_us = (after[0] - before[0]) / max(1.0, after[1] - before[1]) * 1e6
                # Overhead at C=1 (beyond C the server's time includes waiting for a slot): the
                # server's time per request beyond the device's own latency, and the client's.
                overhead = (
                    f"{server_us - local.median_ms * 1e3:.0f} / {(remote.median_ms - local.median_ms) * 1e3:.0f}"
                    if c == 1
                    else "-"
                )
                print(f"{c:>3} {local.throughput:>13.1f} {local.median_ms:>8.2f} {local.p99_ms:>8.2f} | "
                      f"{remote.throughput:>9.1f} {remote.median_ms:>8.2f} {remote.p99_ms:>8.2f} | "
                      f"{remote.throughput / local.throughput:>6.2f} {server_us:>14.0f} {overhead:>16}")  # fmt: skip
        finally:
            server.stop()
        if args.pytriton:
            anchor(args.pytriton, folder, name, inputs, args.concurrency, args.seconds, served_rows)
        time.sleep(0.5)


def anchor(python: str, folder: Path, name: str, inputs: dict, levels, seconds, ours) -> None:
    """Triton from nvidia-pytriton on the same model (batch dimension dynamic, Triton's
    dynamic batching up to 8), driven by the same client; prints ovlite serve / Triton."""
    import urllib.request

    from ovlite_serve.process import free_port

    path = folder / "anchor" / f"{name}.onnx"
    path.parent.mkdir(exist_ok=True)
    onnx.save(MODELS[name](batch=None), path)
    port = free_port()
    script = Path(__file__).with_name("_pytriton_anchor.py")
    log = (folder / f"{name}.triton.log").open("wb")
    process = subprocess.Popen([python, str(script), str(path), str(port)], stdout=log, stderr=log)
    url = f"127.0.0.1:{port}"
    try:
        for _ in range(1200):  # 120 s at most
            try:
                urllib.request.urlopen(f"http://{url}/v2/models/{name}/ready", timeout=1)
                break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(f"Triton exited; see {log.name}") from None
                time.sleep(0.1)
        print(f"{'C':>3} {'Triton/s':>13} {'p50 ms':>8} {'p99 ms':>8} | ovlite serve / Triton")
        for c in levels:
            row = served(url, name, inputs, c, seconds)
            ratio = ours[c].throughput / row.throughput if c in ours else float("nan")
            print(
                f"{c:>3} {row.throughput:>13.1f} {row.median_ms:>8.2f} {row.p99_ms:>8.2f} | {ratio:.2f}"
            )
    finally:
        process.terminate()
        process.wait(60)


if __name__ == "__main__":
    main()
