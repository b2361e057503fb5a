"""Meta devices behind the server: each concurrent request gets its own answer back."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import tritonclient.http as httpclient
from ovlite_serve.process import GRACEFUL, ServerProcess

import ovlite
import ovlite.models


@pytest.mark.parametrize("device", ["BATCH:CPU(4)", "MULTI:CPU,OPENVINO.CPU", "AUTO"])
def test_concurrent_requests_on_meta_devices(tmp_path, device):
    if "OPENVINO" in device and "OPENVINO" not in ovlite.Core().available_devices:
        pytest.skip("the ovlite-openvino plugin is not installed here")
    path = tmp_path / "mlp1.onnx"
    onnx.save(ovlite.models.tiny_mlp(batch=1), path)  # BATCH batches requests of batch 1
    local = ovlite.Core().compile_model(str(path), "CPU")
    server = ServerProcess(["-m", f"mlp={path}", "-d", device], tmp_path / "server.log")
    try:
        with httpclient.InferenceServerClient(server.url, concurrency=12) as client:
            config = client.get_model_config("mlp")
            assert config["parameters"]["device"]["string_value"] == device
            xs = [np.full((1, 16), i, np.float32) for i in range(24)]
            pending = []
            for x in xs:
                tensor = httpclient.InferInput("x", [1, 16], "FP32")
                tensor.set_data_from_numpy(x)
                pending.append(client.async_infer("mlp", [tensor]))
            for x, request in zip(xs, pending, strict=True):
                y = request.get_result(timeout=60).as_numpy("y")
                # loose enough for bf16 (AUTO or OPENVINO.CPU may choose it), far tighter than
                # the distance between two requests' answers
                np.testing.assert_allclose(y, local({"x": x})["y"], rtol=2e-2, atol=2e-2)
    finally:
        assert server.stop() in GRACEFUL, server.log.read_text()
