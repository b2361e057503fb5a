"""``ovlite serve`` driven by perf_analyzer, against the same device in-process and Triton.

    python benchmarks/serve_bench.py [-d CPU] [--hint THROUGHPUT|LATENCY] [-t SECONDS]
                                     [-c 1 2 4 8] [--models mlp resnet18] [--grpc]
                                     [--pytriton PYTHON]

For each model (batch 1) and concurrency C:

- in-process: an ``AsyncInferQueue`` of C requests on the compiled model kept full
  (``closed_loop``: latencies as perf_analyzer counts them), with ``--hint`` (THROUGHPUT);
- ``ovlite serve`` (same device, same hint) on 127.0.0.1, driven by Triton's perf_analyzer
  (``--concurrency-range C``, time windows of ``-t`` seconds) over HTTP, and over gRPC with
  ``--grpc``; the server's own time per request comes from its ``/metrics`` histogram;
- with ``--pytriton PYTHON`` (a venv with ``nvidia-pytriton`` and ``onnxruntime``), the anchor:
  the real Triton server from that wheel serving the same model through an ONNX Runtime
  session (``_pytriton_anchor.py``), driven by the same perf_analyzer command over HTTP.

One table per model: throughput, p50 and p99 of each; ``/in-proc`` is served throughput over
in-process, ``/Triton`` served over the anchor (both HTTP).  ``srv us`` is the server's mean
time per HTTP request (decoded body to encoded response; past C=1 it includes waiting for a
slot), and at C=1 ``ovh us`` is the per-request overhead: the server's mean time minus the
in-process p50 (``s``), and perf_analyzer's p50 minus the in-process p50 (``rt``, adding HTTP,
loopback TCP and the client).  perf_analyzer: ``python -m ovlite_serve.perf_analyzer_install``.
Results: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import onnx
from _timing import Driver, Recorder, measure
from ovlite_serve import perf_analyzer as pa
from ovlite_serve.process import ServerProcess, free_port

import ovlite as ov
from ovlite import models

MODELS = {
    "mlp": lambda batch=1: models.tiny_mlp(batch=batch),
    "resnet18": lambda batch=1: models.resnet18(batch=batch),
}


def closed_loop(queue: ov.AsyncInferQueue, inputs: dict) -> Driver:
    """Keep every request of ``queue`` busy, as perf_analyzer keeps C requests outstanding; a
    latency runs from the start of an inference on a free request to its callback (not from
    the wait for a free request, which ``_timing.queue_driver`` includes)."""

    def drive(recorder: Recorder, deadline: float) -> None:
        clock = time.perf_counter
        queue.set_callback(lambda _request, began: recorder.record(clock() - began))
        started = 0
        while clock() < deadline:
            queue.get_idle_request_id()  # one feeder: the request stays free until started
            queue.start_async(inputs, clock())
            started += 1
        queue.wait_all()
        recorder.wait_for(started)

    return drive


def in_process(
    path: Path, device: str, hint: str, inputs: dict, levels: list[int], seconds: float
) -> dict:
    compiled = ov.Core().compile_model(str(path), device, {"PERFORMANCE_HINT": hint})
    try:
        return {
            c: measure(closed_loop(ov.AsyncInferQueue(compiled, c), inputs), seconds)
            for c in levels
        }
    finally:
        compiled.close()


def server_seconds(url: str, name: str) -> tuple[float, float]:
    """(sum, count) of the server's request-duration histogram for ``name``."""
    page = urllib.request.urlopen(f"http://{url}/metrics", timeout=10).read().decode()
    values = {}
    for key in ("sum", "count"):
        pattern = (
            rf'^ovlite_serve_request_duration_seconds_{key}{{[^}}]*model="{name}"[^}}]*}} (\S+)$'
        )
        match = re.search(pattern, page, re.M)  # absent before the first request
        values[key] = float(match.group(1)) if match else 0.0
    return values["sum"], values["count"]


class PerfAnalyzerRuns:
    """perf_analyzer at one concurrency with the benchmark's windows; prints each command."""

    def __init__(self, executable: str, seconds: float, folder: Path, args) -> None:
        self.executable = executable
        self.folder = folder
        self.options = [
            f"--measurement-interval={int(seconds * 1000)}",
            f"--stability-percentage={args.stability}",
            f"--max-trials={args.max_trials}",
        ]
        self.shown = False

    def __call__(self, url: str, name: str, protocol: str, c: int, who: str) -> pa.Row | None:
        command = pa.command(self.executable, url, name, protocol, str(c), (), self.options)
        if not self.shown:
            print("  $", " ".join(command[1:]).replace(url, "URL"), "-f report.csv")
            self.shown = True
        result = pa.run(command, self.folder / "report.csv", timeout_s=600)
        if result.returncode != 0 or not result.rows:
            last = result.output.strip().splitlines()[-1:] or ["no output"]
            print(f"  {who} {protocol} C={c}: perf_analyzer exits {result.returncode}: {last[0]}")
            return None
        return result.rows[0]


def serve_rows(
    path: Path, name: str, device: str, hint: str, levels, driver, protocols, folder
) -> dict:
    """{(protocol, C): (Row, server µs per request)} from a real ``ovlite serve``."""
    flags = ["-m", f"{name}={path}", "-d", device, "--hint", hint.lower()]
    server = ServerProcess(flags, folder / f"{name}.log", ready_s=120)
    rows = {}
    try:
        for protocol in protocols:
            url = server.grpc_url if protocol == "grpc" else server.url
            for c in levels:
                before = server_seconds(server.url, name)
                row = driver(url, name, protocol, c, "ovlite serve")
                after = server_seconds(server.url, name)
                count = max(1.0, after[1] - before[1])
                rows[protocol, c] = (row, (after[0] - before[0]) / count * 1e6)
    finally:
        server.stop()
    return rows


def anchor_rows(python: str, folder: Path, name: str, levels, driver) -> dict:
    """{C: Row} for Triton from nvidia-pytriton (dynamic batching up to 8) on the same model."""
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
        return {c: driver(url, name, "http", c, "Triton") for c in levels}
    finally:
        process.terminate()
        process.wait(60)


def _cells(row: pa.Row | None) -> str:
    if row is None:
        return f"{'-':>9} {'-':>7} {'-':>7}"
    return f"{row.throughput:>9.1f} {row.p50_us / 1e3:>7.2f} {row.p99_us / 1e3:>7.2f}"


def _ratio(a: pa.Row | None, b) -> str:
    if a is None or b is None or not b.throughput:
        return f"{'-':>7}"
    return f"{a.throughput / b.throughput:>7.2f}"


def print_table(levels, local, served, triton, protocols) -> None:
    head = f"{'C':>3} | {'in-proc/s':>9} {'p50 ms':>7} {'p99 ms':>7}"
    for protocol in protocols:
        head += f" | {protocol + '/s':>9} {'p50 ms':>7} {'p99 ms':>7}"
    head += f" | {'Triton/s':>9} {'p50 ms':>7} {'p99 ms':>7}" if triton else ""
    head += f" | {'/in-proc':>7}" + (f" {'/Triton':>7}" if triton else "")
    head += f" | {'srv us':>7} {'ovh us s/rt':>12}"
    print(head)
    for c in levels:
        mine = local[c]
        line = f"{c:>3} | {mine.throughput:>9.1f} {mine.median_ms:>7.2f} {mine.p99_ms:>7.2f}"
        for protocol in protocols:
            line += " | " + _cells(served[protocol, c][0])
        if triton:
            line += " | " + _cells(triton[c])
        http, server_us = served["http", c]
        line += f" | {_ratio(http, mine)}" + (f" {_ratio(http, triton[c])}" if triton else "")
        overhead = "-"
        if c == 1 and http is not None:
            local_us = mine.median_ms * 1e3
            overhead = f"{server_us - local_us:.0f} / {http.p50_us - local_us:.0f}"
        print(line + f" | {server_us:>7.0f} {overhead:>12}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-d", "--device", default="CPU")
    parser.add_argument(
        "--hint", default="THROUGHPUT", type=str.upper, choices=["THROUGHPUT", "LATENCY"]
    )
    parser.add_argument("-t", "--seconds", type=float, default=3.0, help="window (s)")
    parser.add_argument("-c", "--concurrency", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--grpc", action="store_true", help="also drive the server over gRPC")
    parser.add_argument("--stability", type=float, default=10.0, help="perf_analyzer's -s (%%)")
    parser.add_argument("--max-trials", type=int, default=10, help="perf_analyzer's -r")
    parser.add_argument(
        "--pytriton",
        metavar="PYTHON",
        help="a Python with nvidia-pytriton and onnxruntime: also measure Triton as the anchor",
    )
    args = parser.parse_args()
    try:
        executable = pa.locate()
    except pa.PerfAnalyzerMissing as error:
        sys.exit(f"serve_bench: {error}")
    folder = Path(tempfile.mkdtemp(prefix="serve-bench-"))
    driver = PerfAnalyzerRuns(executable, args.seconds, folder, args)
    protocols = ["http", "grpc"] if args.grpc else ["http"]
    print(
        f"device {args.device}, {args.hint} hint, {pa.version(executable)}, windows of "
        f"{args.seconds:g} s (-s {args.stability:g} -r {args.max_trials}), "
        f"python {sys.version.split()[0]}"
    )
    for name in args.models:
        path = folder / f"{name}.onnx"
        onnx.save(MODELS[name](), path)
        port = ov.Core().read_model(str(path)).inputs[0]
        shape = [int(d) for d in port.get_partial_shape()]
        inputs = {port.any_name: np.random.default_rng(0).standard_normal(shape, np.float32)}
        print(f"\n{name} {shape}")
        local = in_process(path, args.device, args.hint, inputs, args.concurrency, args.seconds)
        served = serve_rows(
            path, name, args.device, args.hint, args.concurrency, driver, protocols, folder
        )
        triton = None
        if args.pytriton:
            triton = anchor_rows(args.pytriton, folder, name, args.concurrency, driver)
        print_table(args.concurrency, local, served, triton, protocols)


if __name__ == "__main__":
    main()
