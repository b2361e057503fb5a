"""Serve the tiny MLP with ``ovlite serve`` and talk to it with Triton's own client.

    python examples/serve_client.py [-d CPU] [-n 32] [--url HOST:PORT]

Without ``--url`` it saves the built-in tiny MLP, starts ``ovlite serve -m mlp=...`` on
127.0.0.1 (a free port), and stops it with SIGTERM at the end; with ``--url`` it talks to a
server you started (serving the tiny MLP as ``mlp``).  It reads the server's and model's
metadata, runs one request with JSON tensors and one with binary tensors, checks both against
the same model run in-process, sends ``-n`` requests concurrently, and prints the server's
request counter from ``/metrics``.  Needs ``pip install -e plugins/ovlite-serve[test]``.
"""

from __future__ import annotations

import argparse
import tempfile
import urllib.request
from pathlib import Path

import numpy as np
import onnx
import tritonclient.http as httpclient

import ovlite as ov
from ovlite import models


def infer(client: httpclient.InferenceServerClient, x: np.ndarray, binary: bool) -> np.ndarray:
    tensor = httpclient.InferInput("x", list(x.shape), "FP32")
    tensor.set_data_from_numpy(x, binary_data=binary)
    output = httpclient.InferRequestedOutput("y", binary_data=binary)
    return client.infer("mlp", [tensor], outputs=[output]).as_numpy("y")


def talk(url: str, model_path: Path, requests: int) -> None:
    local = ov.Core().compile_model(str(model_path), "CPU")
    with httpclient.InferenceServerClient(url, concurrency=8) as client:
        server = client.get_server_metadata()
        print(f"server {server['name']} {server['version']}, extensions {server['extensions']}")
        for tensor in client.get_model_metadata("mlp")["inputs"]:
            print(f"mlp input {tensor['name']}: {tensor['datatype']} {tensor['shape']}")
        x = np.random.default_rng(0).standard_normal((4, 16), np.float32)
        for binary in (False, True):
            y = infer(client, x, binary)
            same = np.allclose(y, local({"x": x})["y"], rtol=1e-5, atol=1e-6)
            print(
                f"{'binary' if binary else 'JSON'} tensors: y {list(y.shape)}, same as in-process: {same}"
            )
        inputs = []
        for i in range(requests):
            tensor = httpclient.InferInput("x", [1, 16], "FP32")
            tensor.set_data_from_numpy(x[i % 4 : i % 4 + 1])
            inputs.append([tensor])
        pending = [client.async_infer("mlp", tensors) for tensors in inputs]
        answered = sum(1 for request in pending if request.get_result(timeout=60) is not None)
        print(f"{answered} of {requests} concurrent requests answered")
    page = urllib.request.urlopen(f"http://{url}/metrics", timeout=10).read().decode()
    for line in page.splitlines():
        if line.startswith("ovlite_serve_requests_total"):
            print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-d", "--device", default="CPU")
    parser.add_argument("-n", "--requests", type=int, default=32)
    parser.add_argument("--url", help="a running server (HOST:PORT); default: start one")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="serve-client-"))
    model_path = folder / "mlp.onnx"
    onnx.save(models.tiny_mlp(batch=None), model_path)
    if args.url:
        talk(args.url, model_path, args.requests)
        return
    from ovlite_serve.process import ServerProcess

    server = ServerProcess(["-m", f"mlp={model_path}", "-d", args.device], folder / "server.log")
    print(f"ovlite serve -m mlp={model_path.name} -d {args.device} on {server.url}")
    try:
        talk(server.url, model_path, args.requests)
    finally:
        print(f"stopped with SIGTERM: exit {server.stop()}")


if __name__ == "__main__":
    main()
