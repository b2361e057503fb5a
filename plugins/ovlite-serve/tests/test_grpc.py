"""The KServe v2 protocol over gRPC against a real server, driven by tritonclient.grpc."""

from __future__ import annotations

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
from tritonclient.utils import InferenceServerException


@pytest.fixture(scope="module")
def client(server):
    with grpcclient.InferenceServerClient(server.grpc_url) as c:
        yield c


def _input(name: str, array: np.ndarray, datatype: str = "FP32") -> grpcclient.InferInput:
    tensor = grpcclient.InferInput(name, list(array.shape), datatype)
    tensor.set_data_from_numpy(array)
    return tensor


def _error(call, *args, **kwargs) -> InferenceServerException:
    with pytest.raises(InferenceServerException) as info:
        call(*args, **kwargs)
    return info.value


def test_health_metadata_and_config(client):
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("mlp") and not client.is_model_ready("nope")
    assert client.get_server_metadata(as_json=True)["name"] == "ovlite"
    metadata = client.get_model_metadata("two", as_json=True)
    assert [(t["name"], t["datatype"], t["shape"]) for t in metadata["inputs"]] == [
        ("a", "FP32", ["-1", "4"]),  # int64 fields are strings in protobuf's JSON
        ("b", "INT64", ["-1", "4"]),
    ]
    config = client.get_model_config("mlp").config
    assert config.input[0].name == "x" and list(config.input[0].dims) == [-1, 16]
    assert config.parameters["device"].string_value == "CPU"


def test_infer_equals_local_inference(client, local):
    a = np.arange(8, dtype=np.float32).reshape(2, 4)
    b = np.arange(8, dtype=np.int64).reshape(2, 4)
    outputs = [grpcclient.InferRequestedOutput("scaled")]
    result = client.infer(
        "two", [_input("a", a), _input("b", b, "INT64")], outputs=outputs, request_id="g1"
    )
    np.testing.assert_allclose(result.as_numpy("scaled"), local["two"]({"a": a, "b": b})["scaled"])
    assert result.as_numpy("sum") is None
    assert result.get_response().id == "g1"
    x = np.random.default_rng(1).standard_normal((3, 16), dtype=np.float32)
    result = client.infer("mlp", [_input("x", x)])
    np.testing.assert_allclose(result.as_numpy("y"), local["mlp"]({"x": x})["y"], rtol=1e-6)


def test_errors_have_grpc_status_codes(client):
    x = np.zeros((1, 16), np.float32)
    unknown = _error(client.infer, "nope", [_input("x", x)])
    assert (
        unknown.status() == "StatusCode.NOT_FOUND" and "unknown model 'nope'" in unknown.message()
    )
    shape = _error(client.infer, "mlp", [_input("x", np.zeros((1, 3), np.float32))])
    assert shape.status() == "StatusCode.INVALID_ARGUMENT"
    assert "takes shape [-1, 16], not [1, 3]" in shape.message()
    dtype = _error(client.infer, "mlp", [_input("x", x.astype(np.float64), "FP64")])
    assert "input 'x' is FP32, not FP64" in dtype.message()
    name = _error(client.infer, "mlp", [_input("z", x)])
    assert "has no input 'z'" in name.message()
    assert "no version '3'" in _error(client.get_model_metadata, "mlp", "3").message()


def test_grpc_requests_are_counted_in_metrics(client, server):
    client.infer("mlp", [_input("x", np.ones((1, 16), np.float32))])
    page = server.get("/metrics").decode()
    assert 'ovlite_serve_requests_total{device="CPU",model="mlp",status="200"}' in page
