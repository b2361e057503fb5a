"""Production behaviour of a real server: a full queue, timeouts, SIGTERM with work in flight."""

from __future__ import annotations

import json
import queue
import re
import threading
import urllib.error
import urllib.request

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from ovlite_serve.process import GRACEFUL, ServerProcess
from tritonclient.utils import InferenceServerException

import ovlite

BATCH = 16


def _images(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((BATCH, 3, 64, 64), dtype=np.float32)


def _input(array: np.ndarray) -> list[httpclient.InferInput]:
    tensor = httpclient.InferInput("input", list(array.shape), "FP32")
    tensor.set_data_from_numpy(array, binary_data=True)
    return [tensor]


def _raw_post(url: str, array: np.ndarray) -> tuple[int, dict[str, str], bytes]:
    """One binary-extension infer request without tritonclient, to see status and headers."""
    header = json.dumps(
        {
            "inputs": [
                {
                    "name": "input",
                    "shape": list(array.shape),
                    "datatype": "FP32",
                    "parameters": {"binary_data_size": array.nbytes},
                }
            ],
            "outputs": [{"name": "logits", "parameters": {"binary_data": False}}],
        }
    ).encode()
    request = urllib.request.Request(
        f"http://{url}/v2/models/resnet/infer",
        header + array.tobytes(),
        {"Inference-Header-Content-Length": str(len(header))},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _gauge(server: ServerProcess, name: str, labels: str = "") -> float:
    page = server.get("/metrics").decode()
    match = re.search(rf'^{name}{{device="CPU",model="resnet"{labels}}} (\S+)$', page, re.M)
    return float(match.group(1)) if match else 0.0


def _in_flight(server: ServerProcess) -> float:
    return _gauge(server, "ovlite_serve_queue_depth") + _gauge(
        server, "ovlite_serve_requests_running"
    )


@pytest.fixture(scope="module")
def expected(model_files):
    compiled = ovlite.Core().compile_model(str(model_files["resnet"]), "CPU")
    return lambda seed: compiled({"input": _images(seed)})["logits"]


def _start(model_files, tmp_path, *flags: str) -> ServerProcess:
    args = ["-m", f"resnet={model_files['resnet']}", "-d", "CPU", *flags]
    return ServerProcess(args, tmp_path / "server.log")


def test_full_queue_answers_503_with_retry_after_and_grpc_unavailable(
    model_files, tmp_path, expected
):
    # No queue beyond the device slots: of 12 simultaneous requests some are refused.
    server = _start(model_files, tmp_path, "--hint", "latency", "--queue-size", "0")
    try:
        barrier = threading.Barrier(12)
        answers: dict[int, tuple[int, dict[str, str], bytes]] = {}

        def post(seed: int) -> None:
            barrier.wait(timeout=30)
            answers[seed] = _raw_post(server.url, _images(seed))

        threads = [threading.Thread(target=post, args=(seed,)) for seed in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert sorted(answers) == list(range(12))
        statuses = [answers[seed][0] for seed in range(12)]
        assert set(statuses) <= {200, 503} and 200 in statuses and 503 in statuses
        for seed, (status, headers, body) in answers.items():
            if status == 503:
                assert headers["retry-after"] == "1"
                assert "queued or running (the limit is " in json.loads(body)["error"]
            else:
                logits = np.array(json.loads(body)["outputs"][0]["data"], np.float32)
                np.testing.assert_allclose(
                    logits.reshape(BATCH, 10), expected(seed), rtol=1e-4, atol=1e-5
                )
        _grpc_burst_is_refused_with_unavailable(server, expected)
        with httpclient.InferenceServerClient(server.url) as client:  # the server recovered
            client.infer("resnet", _input(_images(0)))
        assert _in_flight(server) == 0
    finally:
        assert server.stop() in GRACEFUL


def _grpc_burst_is_refused_with_unavailable(server: ServerProcess, expected) -> None:
    answers: queue.Queue = queue.Queue()
    with grpcclient.InferenceServerClient(server.grpc_url) as client:
        for seed in range(8):
            tensor = grpcclient.InferInput("input", [BATCH, 3, 64, 64], "FP32")
            tensor.set_data_from_numpy(_images(seed))
            client.async_infer(
                "resnet", [tensor], lambda result, error, s=seed: answers.put((s, result, error))
            )
        got = [answers.get(timeout=120) for _ in range(8)]
    assert sorted(seed for seed, _, _ in got) == list(range(8))
    refused = [error for _, _, error in got if error is not None]
    assert refused and all(e.status() == "StatusCode.UNAVAILABLE" for e in refused)
    for seed, result, error in got:
        if error is None:
            np.testing.assert_allclose(
                result.as_numpy("logits"), expected(seed), rtol=1e-4, atol=1e-5
            )


def test_timeout_answers_504_and_frees_the_slot(model_files, tmp_path):
    server = _start(model_files, tmp_path, "--timeout", "0.001")
    try:
        with httpclient.InferenceServerClient(server.url) as client:
            for seed in range(3):
                with pytest.raises(InferenceServerException) as info:
                    client.infer("resnet", _input(_images(seed)))
                assert info.value.status() == "504"
                assert "no result within 0.001 s" in info.value.message()
        for _ in range(300):  # the device finishes the timed-out work and frees its slots
            if _in_flight(server) == 0:
                break
            threading.Event().wait(0.1)
        assert _in_flight(server) == 0
    finally:
        assert server.stop() in GRACEFUL


def test_sigterm_finishes_requests_in_flight(model_files, tmp_path, expected):
    # 8 requests over HTTP and 4 over gRPC; SIGTERM once the server holds all 12.
    server = _start(model_files, tmp_path)
    client = httpclient.InferenceServerClient(server.url, concurrency=8)
    grpc_client = grpcclient.InferenceServerClient(server.grpc_url)
    grpc_results: dict[int, queue.Queue] = {seed: queue.Queue() for seed in range(8, 12)}
    try:
        pending = {
            seed: client.async_infer("resnet", _input(_images(seed)), request_id=str(seed))
            for seed in range(8)
        }
        for seed, answers in grpc_results.items():
            tensor = grpcclient.InferInput("input", [BATCH, 3, 64, 64], "FP32")
            tensor.set_data_from_numpy(_images(seed))
            grpc_client.async_infer(
                "resnet", [tensor], lambda result, error, q=answers: q.put((result, error))
            )
        for _ in range(300):  # until the server has received all 12
            in_flight = _in_flight(server)
            answered = _gauge(server, "ovlite_serve_requests_total", ',status="200"')
            if in_flight + answered == 12:
                break
            threading.Event().wait(0.01)
        assert in_flight >= 1 and in_flight + answered == 12
        server.terminate()
        for seed, request in pending.items():
            result = request.get_result(timeout=120)
            assert result.get_response()["id"] == str(seed)
            np.testing.assert_allclose(
                result.as_numpy("logits"), expected(seed), rtol=1e-4, atol=1e-5
            )
        for seed, answers in grpc_results.items():
            result, error = answers.get(timeout=120)
            assert error is None
            np.testing.assert_allclose(
                result.as_numpy("logits"), expected(seed), rtol=1e-4, atol=1e-5
            )
        assert server.process.wait(60) in GRACEFUL
        with pytest.raises((InferenceServerException, OSError)):  # gone: connection refused
            client.is_server_live()
    finally:
        client.close()
        grpc_client.close()
        server.stop()
