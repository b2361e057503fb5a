"""Model repository folders: the layouts found, the errors, and a server over one."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import tritonclient.http as httpclient
from ovlite_serve.process import GRACEFUL, ServerProcess
from ovlite_serve.repository import ModelSource, ModelSourceError, collect, from_repository


@pytest.fixture
def repository(tmp_path, model_files):
    root = tmp_path / "repo"
    for version in ("1", "3", "notes"):
        (root / "mlp" / version).mkdir(parents=True)
    shutil.copy(model_files["mlp"], root / "mlp" / "1" / "model.onnx")
    shutil.copy(model_files["mlp"], root / "mlp" / "3" / "model.onnx")
    shutil.copy(model_files["two"], root / "two.onnx")
    return root


def test_layouts_and_highest_version(repository):
    assert from_repository(str(repository)) == [
        ModelSource("two", str(repository / "two.onnx")),
        ModelSource("mlp", str(repository / "mlp" / "3" / "model.onnx"), "3"),
    ]


def test_errors_name_the_problem(repository, model_files):
    (repository / "empty" / "2").mkdir(parents=True)
    with pytest.raises(ModelSourceError, match="empty has no <version>/model.onnx"):
        from_repository(str(repository))
    shutil.rmtree(repository / "empty")
    with pytest.raises(ModelSourceError, match="model name 'two' is given twice"):
        collect([f"two={model_files['two']}"], str(repository))
    with pytest.raises(ModelSourceError, match="no models"):
        collect([], None)
    with pytest.raises(ModelSourceError, match="no model repository folder"):
        from_repository(str(repository / "nope"))


def test_server_over_a_repository(repository, tmp_path, local):
    server = ServerProcess(["--model-repository", str(repository)], tmp_path / "server.log")
    try:
        with httpclient.InferenceServerClient(server.url) as client:
            assert client.get_model_metadata("mlp")["versions"] == ["3"]
            assert client.is_model_ready("two")
            x = np.ones((2, 16), np.float32)
            tensor = httpclient.InferInput("x", [2, 16], "FP32")
            tensor.set_data_from_numpy(x)
            result = client.infer("mlp", [tensor], model_version="3")
            assert result.get_response()["model_version"] == "3"
            np.testing.assert_allclose(result.as_numpy("y"), local["mlp"]({"x": x})["y"], rtol=1e-6)
    finally:
        assert server.stop() in GRACEFUL
