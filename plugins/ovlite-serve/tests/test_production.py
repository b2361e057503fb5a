"""Production behaviour of a real server: a full queue, timeouts, SIGTERM with work in flight."""

from __future__ import annotations

import http.client
import json
import queue
import re
import socket
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


def _binary_request(array: np.ndarray) -> tuple[bytes, bytes]:
    """The JSON header of a binary-extension infer request for ``array`` as input, and the
    whole body (the header, then the array's bytes)."""
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
    return header, header + array.tobytes()


def _raw_post(url: str, array: np.ndarray) -> tuple[int, dict[str, str], bytes]:
    """One binary-extension infer request without tritonclient, to see status and headers."""
    header, body = _binary_request(array)
    request = urllib.request.Request(
        f"http://{url}/v2/models/resnet/infer",
        body,
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
    match = re.search(rf'^{name}{{device="[^"]+",model="resnet"{labels}}} (\S+)$', page, re.M)
    return float(match.group(1)) if match else 0.0


def _in_flight(server: ServerProcess) -> float:
    return _gauge(server, "ovlite_serve_queue_depth") + _gauge(
        server, "ovlite_serve_requests_running"
    )


@pytest.fixture(scope="module")
def expected(model_files):
    compiled = ovlite.Core().compile_model(str(model_files["resnet"]), "CPU")
    return lambda seed: compiled({"input": _images(seed)})["logits"]


def _image(seed: int) -> np.ndarray:
    return _images(seed)[:1]


@pytest.fixture(scope="module")
def expected_one(model_files):
    compiled = ovlite.Core().compile_model(str(model_files["resnet"]), "CPU")
    return lambda seed: compiled({"input": _image(seed)})["logits"]


def _start_on(model_files, tmp_path, device: str, *flags: str) -> ServerProcess:
    args = ["-m", f"resnet={model_files['resnet']}", "-d", device, *flags]
    return ServerProcess(args, tmp_path / "server.log")


def _start(model_files, tmp_path, *flags: str) -> ServerProcess:
    return _start_on(model_files, tmp_path, "CPU", *flags)


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


def _header_only(url: str, array: np.ndarray) -> tuple[socket.socket, bytes]:
    """Open an infer request with ``Expect: 100-continue`` and send its headers but not its
    body; returns the socket once the server answered 100 Continue (the request is then in
    flight: the application is reading its body), and the body still to send."""
    header, body = _binary_request(array)
    host, port = url.split(":")
    connection = socket.create_connection((host, int(port)), timeout=120)
    connection.sendall(
        f"POST /v2/models/resnet/infer HTTP/1.1\r\nHost: {url}\r\n"
        f"Content-Length: {len(body)}\r\nInference-Header-Content-Length: {len(header)}\r\n"
        "Expect: 100-continue\r\n\r\n".encode()
    )
    answer = b""
    while not answer.endswith(b"\r\n\r\n"):
        answer += connection.recv(1)
    assert answer.startswith(b"HTTP/1.1 100 "), answer
    return connection, body


def _refuses_connections(url: str) -> bool:
    host, port = url.split(":")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
        return False
    except ConnectionRefusedError:
        return True


def _poll(condition, what: str) -> None:
    """Wait for ``condition()`` (checked every 10 ms, 60 s at most)."""
    for _ in range(6000):
        if condition():
            return
        threading.Event().wait(0.01)
    raise AssertionError(f"no {what} within 60 s")


def test_sigterm_finishes_requests_in_flight(model_files, tmp_path, expected_one):
    # Deterministic: BATCH runs its batch of 12 rows only once 12 requests of one row arrived
    # (its timeout, 2 min, is far off).  7 HTTP and 4 gRPC requests wait in the batch; the
    # 12th sends its headers, then SIGTERM, then once the server stops accepting connections
    # it sends its body, which completes the batch: all 12 must be answered.
    config = tmp_path / "batch.json"
    config.write_text(json.dumps({"AUTO_BATCH_TIMEOUT": 120_000}))
    server = _start_on(model_files, tmp_path, "BATCH:CPU(12)", "--config", str(config))
    client = httpclient.InferenceServerClient(server.url, concurrency=7)
    grpc_client = grpcclient.InferenceServerClient(server.grpc_url)
    grpc_results: dict[int, queue.Queue] = {seed: queue.Queue() for seed in range(7, 11)}
    last = 11
    try:
        pending = {
            seed: client.async_infer("resnet", _input(_image(seed)), request_id=str(seed))
            for seed in range(7)
        }
        for seed, answers in grpc_results.items():
            tensor = grpcclient.InferInput("input", [1, 3, 64, 64], "FP32")
            tensor.set_data_from_numpy(_image(seed))
            grpc_client.async_infer(
                "resnet", [tensor], lambda result, error, q=answers: q.put((result, error))
            )
        _poll(lambda: _in_flight(server) == 11, "11 requests in flight")
        connection, body = _header_only(server.url, _image(last))
        assert _in_flight(server) == 11  # none can finish before the 12th row
        server.terminate()
        _poll(lambda: not grpc_client.is_server_ready(), "not-ready after SIGTERM")
        _poll(lambda: _refuses_connections(server.url), "refused connection after SIGTERM")
        connection.sendall(body)
        with connection:
            response = http.client.HTTPResponse(connection)
            response.begin()
            assert response.status == 200
            logits = json.loads(response.read())["outputs"][0]["data"]
        np.testing.assert_allclose(
            np.reshape(logits, (1, 10)), expected_one(last), rtol=1e-4, atol=1e-5
        )
        for seed, request in pending.items():
            result = request.get_result(timeout=120)
            assert result.get_response()["id"] == str(seed)
            np.testing.assert_allclose(
                result.as_numpy("logits"), expected_one(seed), rtol=1e-4, atol=1e-5
            )
        for seed, answers in grpc_results.items():
            result, error = answers.get(timeout=120)
            assert error is None
            np.testing.assert_allclose(
                result.as_numpy("logits"), expected_one(seed), rtol=1e-4, atol=1e-5
            )
        assert server.process.wait(60) in GRACEFUL
        with pytest.raises((InferenceServerException, OSError)):  # gone: connection refused
            client.is_server_live()
    finally:
        client.close()
        grpc_client.close()
        server.stop()
