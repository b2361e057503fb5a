"""The KServe v2 HTTP protocol against a real server, driven by Triton's own client."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request

import numpy as np
import pytest
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException


@pytest.fixture(scope="module")
def client(server):
    with httpclient.InferenceServerClient(server.url) as c:
        yield c


def _input(name: str, array: np.ndarray, binary: bool) -> httpclient.InferInput:
    tensor = httpclient.InferInput(name, list(array.shape), _datatype(array))
    tensor.set_data_from_numpy(array, binary_data=binary)
    return tensor


def _datatype(array: np.ndarray) -> str:
    return {"float32": "FP32", "int64": "INT64", "float64": "FP64", "int32": "INT32"}[
        str(array.dtype)
    ]


def _error(call, *args, **kwargs) -> InferenceServerException:
    with pytest.raises(InferenceServerException) as info:
        call(*args, **kwargs)
    return info.value


def test_server_health_and_metadata(client):
    assert client.is_server_live()
    assert client.is_server_ready()
    metadata = client.get_server_metadata()
    assert metadata["name"] == "ovlite"
    assert "binary_tensor_data" in metadata["extensions"]


def test_model_metadata_and_config(client):
    assert client.is_model_ready("mlp")
    assert client.is_model_ready("mlp", "1")
    metadata = client.get_model_metadata("two")
    assert metadata["inputs"] == [
        {"name": "a", "datatype": "FP32", "shape": [-1, 4]},
        {"name": "b", "datatype": "INT64", "shape": [-1, 4]},
    ]
    assert [o["name"] for o in metadata["outputs"]] == ["sum", "scaled"]
    config = client.get_model_config("mlp")
    assert config["input"] == [{"name": "x", "data_type": "TYPE_FP32", "dims": [-1, 16]}]
    assert config["parameters"]["device"]["string_value"] == "CPU"
    assert config["instance_group"][0]["count"] >= 1


def test_unknown_model_and_version(client):
    assert not client.is_model_ready("nope")
    assert "unknown model 'nope'" in _error(client.get_model_metadata, "nope").message()
    assert "no version '7'" in _error(client.get_model_metadata, "mlp", "7").message()
    x = np.zeros((1, 16), np.float32)
    error = _error(client.infer, "nope", [_input("x", x, True)])
    assert error.status() == "404"


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_infer_equals_local_inference(client, local, binary):
    rng = np.random.default_rng(0)
    for batch in (1, 3):
        x = rng.standard_normal((batch, 16), dtype=np.float32)
        output = httpclient.InferRequestedOutput("y", binary_data=binary)
        result = client.infer("mlp", [_input("x", x, binary)], outputs=[output], request_id="r1")
        np.testing.assert_allclose(result.as_numpy("y"), local["mlp"]({"x": x})["y"], rtol=1e-6)
        assert result.get_response()["id"] == "r1"


def test_infer_mixed_dtypes_and_mixed_encodings(client, local):
    a = np.arange(8, dtype=np.float32).reshape(2, 4)
    b = np.arange(8, dtype=np.int64).reshape(2, 4) * 3
    outputs = [
        httpclient.InferRequestedOutput("scaled", binary_data=True),
        httpclient.InferRequestedOutput("sum", binary_data=False),
    ]
    result = client.infer("two", [_input("a", a, False), _input("b", b, True)], outputs=outputs)
    expected = local["two"]({"a": a, "b": b})
    np.testing.assert_allclose(result.as_numpy("sum"), expected["sum"], rtol=1e-6)
    np.testing.assert_allclose(result.as_numpy("scaled"), expected["scaled"], rtol=1e-6)
    assert [o["name"] for o in result.get_response()["outputs"]] == ["scaled", "sum"]


def test_all_outputs_when_none_requested(client, local):
    x = np.ones((1, 3, 64, 64), np.float32)
    result = client.infer("resnet", [_input("input", x, True)])
    np.testing.assert_allclose(
        result.as_numpy("logits"), local["resnet"]({"input": x})["logits"], rtol=1e-4, atol=1e-5
    )


@pytest.mark.parametrize(
    "inputs, message",
    [
        ([("x", np.zeros((1, 15), np.float32))], "takes shape [-1, 16], not [1, 15]"),
        ([("x", np.zeros((16,), np.float32))], "takes shape [-1, 16], not [16]"),
        ([("x", np.zeros((1, 16), np.float64))], "input 'x' is FP32, not FP64"),
        ([("x", np.zeros((1, 16), np.int32))], "input 'x' is FP32, not INT32"),
        ([("z", np.zeros((1, 16), np.float32))], "has no input 'z'"),
    ],
    ids=["shape", "rank", "fp64", "int32", "name"],
)
def test_bad_inputs_are_400_with_a_message(client, inputs, message):
    for binary in (True, False):
        tensors = [_input(n, a, binary) for n, a in inputs]
        error = _error(client.infer, "mlp", tensors)
        assert error.status() == "400"
        assert message in error.message()
        assert "Traceback" not in error.message()


def test_missing_input_and_unknown_output(client):
    a = np.zeros((1, 4), np.float32)
    assert "needs inputs ['b']" in _error(client.infer, "two", [_input("a", a, True)]).message()
    x = np.zeros((1, 16), np.float32)
    outputs = [httpclient.InferRequestedOutput("nope")]
    error = _error(client.infer, "mlp", [_input("x", x, True)], outputs=outputs)
    assert "has no output 'nope'" in error.message()


def _post(server, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://{server.url}/v2/models/mlp/infer", body, headers or {}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


_BINARY_HEADER = (
    b'{"inputs": [{"name": "x", "shape": [1, 16], "datatype": "FP32", '
    b'"parameters": {"binary_data_size": 64}}]}'
)


@pytest.mark.parametrize(
    "body, headers, message",
    [
        (b"{not json", {}, "cannot be parsed"),
        (b"[]", {}, "not an object"),
        (b'{"inputs": []}', {}, "no 'inputs'"),
        (b'{"inputs": [{"name": "x", "shape": [1, 16], "datatype": "FP32"}]}', {}, "neither"),
        (
            b'{"inputs": [{"name": "x", "shape": [1, 16], "datatype": "FP32", "data": [1]}]}',
            {},
            "1 values do not fill shape [1, 16]",
        ),  # fmt: skip
        (
            b'{"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP32", "data": ["a", 2]}]}',
            {},
            "data is not FP32",
        ),  # fmt: skip
        (
            b'{"inputs": [{"name": "x", "shape": [1, 16], "datatype": "BF16", "data": []}]}',
            {},
            "unsupported datatype 'BF16'",
        ),  # fmt: skip
        (
            _BINARY_HEADER + b"\0" * 60,
            {"Inference-Header-Content-Length": str(len(_BINARY_HEADER))},
            "binary_data_size 64 exceeds",
        ),  # fmt: skip
        (b"{}", {"Inference-Header-Content-Length": "99"}, "outside the body"),
    ],
    ids=["json", "array", "empty", "nodata", "count", "values", "bf16", "binary-size", "header"],
)
def test_malformed_requests_are_400_kserve_errors(server, body, headers, message):
    status, answer = _post(server, body, headers)
    assert status == 400
    assert list(answer) == ["error"]
    assert message in answer["error"]


def test_body_size_limit(server):
    # The module's server has --max-body-bytes 1 MiB: a larger body is refused from its
    # Content-Length, before it is sent.
    head = (
        "POST /v2/models/mlp/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n"
        "Connection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(head.encode())
        answer = s.makefile("rb").read()
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b'"error":"the body of 2097152 bytes exceeds the limit of 1048576"' in answer
    status, body = _post(server, b" " * ((1 << 20) - 10) + b"{}")  # under the limit: parsed
    assert status == 400 and "no 'inputs'" in body["error"]


def test_metrics_per_model_and_device(client, server):
    x = np.zeros((1, 16), np.float32)
    client.infer("mlp", [_input("x", x, True)])
    _error(client.infer, "mlp", [_input("x", np.zeros((1, 2), np.float32), True)])
    page = server.get("/metrics").decode()
    assert 'ovlite_serve_requests_total{device="CPU",model="mlp",status="200"}' in page
    assert 'ovlite_serve_requests_total{device="CPU",model="mlp",status="400"}' in page
    assert (
        'ovlite_serve_request_duration_seconds_bucket{device="CPU",le="0.001",model="mlp"}' in page
    )
    assert 'ovlite_serve_queue_depth{device="CPU",model="mlp"} 0.0' in page
    assert 'ovlite_serve_slots{device="CPU",model="resnet"}' in page
