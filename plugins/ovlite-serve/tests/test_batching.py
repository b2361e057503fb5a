"""Dynamic batching per model: Triton's ``dynamic_batching { max_queue_delay_microseconds }``
in a model's config.pbtxt serves it on BATCH with that latency budget."""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import sys
import urllib.request

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
from ovlite_serve.model_config import ModelConfigError, read
from ovlite_serve.process import GRACEFUL, ServerProcess
from ovlite_serve.repository import ModelSource
from ovlite_serve.server import ServeConfig, load_models

import ovlite


def _config(folder, text: str, name: str = "config.pbtxt"):
    path = folder / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("device", "text", "served_on", "batch", "timeout_ms"),
    [
        ("CPU", "max_batch_size: 4\ndynamic_batching { max_queue_delay_microseconds: 2500 }",
         "BATCH:CPU(4)", 4, 3),  # µs rounded up to BATCH's whole milliseconds
        ("CPU", "max_batch_size: 8\ndynamic_batching { max_queue_delay_microseconds: 0 }",
         "BATCH:CPU(8)", 8, 0),
        ("BATCH:CPU(2)", "max_batch_size: 8\ndynamic_batching { max_queue_delay_microseconds: 7000 }",
         "BATCH:CPU(2)", 2, 7),  # the device string's own batch size stays
    ],
)  # fmt: skip
def test_the_latency_budget_reaches_the_compiled_model(
    model_files, tmp_path, device, text, served_on, batch, timeout_ms
):
    source = ModelSource("mlp", str(model_files["mlp"]), config=str(_config(tmp_path, text)))
    [model] = load_models(ServeConfig(models=[source], device=device)).values()
    try:
        assert model.device == served_on
        assert model.compiled.get_property("AUTO_BATCH_TIMEOUT") == timeout_ms
        assert model.compiled.get_property("OPTIMAL_BATCH_SIZE") == batch
        config = model.config()
        assert config["dynamic_batching"] == {
            "max_queue_delay_microseconds": str(timeout_ms * 1000)
        }
        assert config["parameters"]["batch_size"] == {"string_value": str(batch)}
    finally:
        model.close()


def test_a_config_without_dynamic_batching_changes_nothing(model_files, tmp_path):
    path = _config(tmp_path, 'name: "mlp"\nmax_batch_size: 8\n')
    assert read(path) is None
    source = ModelSource("mlp", str(model_files["mlp"]), config=str(path))
    [model] = load_models(ServeConfig(models=[source])).values()
    try:
        assert model.device == "CPU" and "dynamic_batching" not in model.config()
    finally:
        model.close()


def test_json_form_and_bad_files(tmp_path):
    path = _config(
        tmp_path,
        json.dumps(
            {"max_batch_size": 3, "dynamic_batching": {"max_queue_delay_microseconds": 100}}
        ),
        "config.json",
    )
    assert read(path).placement("CPU") == ("BATCH:CPU(3)", {"AUTO_BATCH_TIMEOUT": 1})
    with pytest.raises(ModelConfigError, match=r"bad.pbtxt is not a Triton model config"):
        read(_config(tmp_path, "dynamic_batching { max_queue_delay_microseconds: x }", "bad.pbtxt"))
    with pytest.raises(ModelConfigError, match=r"max_batch_size is -2, not >= 0"):
        read(_config(tmp_path, "max_batch_size: -2\ndynamic_batching {}", "neg.pbtxt"))


def _serve(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ovlite_serve.cli", "--http-port", "1", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_model_config_flag_errors_name_the_fault(model_files, tmp_path):
    mlp = f"mlp={model_files['mlp']}"
    unknown = _serve("-m", mlp, "--model-config", "other=x.pbtxt")
    assert unknown.returncode == 2
    assert "no model 'other'; served: ['mlp']" in unknown.stderr
    bad = _config(tmp_path, "dynamic_batching { nonsense", "bad.pbtxt")
    broken = _serve("-m", mlp, "--model-config", f"mlp={bad}")
    assert broken.returncode == 2 and f"{bad} is not a Triton model config" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_batched_answers_equal_unbatched_ones(model_files, tmp_path):
    # A repository in Triton's layout; the budget (10 min) is far beyond the test's wait, so
    # the answers can only come from batches filled to max_batch_size: 1 + 2 + 3 + 2 rows.
    root = tmp_path / "repo"
    (root / "mlp" / "1").mkdir(parents=True)
    shutil.copy(model_files["mlp"], root / "mlp" / "1" / "model.onnx")
    _config(
        root / "mlp",
        "max_batch_size: 8\ndynamic_batching { max_queue_delay_microseconds: 600000000 }",
    )
    local = ovlite.Core().compile_model(str(model_files["mlp"]), "CPU")
    rows = [1, 2, 3, 2]
    inputs = [
        np.random.default_rng(seed).standard_normal((n, 16), dtype=np.float32)
        for seed, n in enumerate(rows)
    ]
    server = ServerProcess(
        ["--model-repository", str(root), "-d", "CPU", "--timeout", "0"], tmp_path / "server.log"
    )
    try:
        url = f"http://{server.url}/v2/models/mlp/config"
        with urllib.request.urlopen(url, timeout=10) as response:
            config = json.load(response)
        assert config["parameters"]["device"]["string_value"] == "BATCH:CPU(8)"
        assert config["dynamic_batching"]["max_queue_delay_microseconds"] == "600000000"
        answers: queue.Queue = queue.Queue()
        with grpcclient.InferenceServerClient(server.grpc_url) as client:
            for index, array in enumerate(inputs):
                tensor = grpcclient.InferInput("x", list(array.shape), "FP32")
                tensor.set_data_from_numpy(array)
                client.async_infer(
                    "mlp",
                    [tensor],
                    lambda result, error, i=index: answers.put((i, result, error)),
                    client_timeout=60,
                )
            got = sorted((answers.get(timeout=90) for _ in inputs), key=lambda a: a[0])
        for (_, result, error), array in zip(got, inputs, strict=True):
            assert error is None, error
            np.testing.assert_allclose(
                result.as_numpy("y"), local({"x": array})["y"], rtol=1e-5, atol=1e-6
            )
    finally:
        assert server.stop() in GRACEFUL
