"""A real ``ovlite serve`` process on 127.0.0.1 for the tests, and the models it serves."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
from ovlite_serve.process import GRACEFUL, ServerProcess

import ovlite
import ovlite.models


@pytest.fixture(scope="session")
def model_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("serve-models")
    protos = {
        "mlp": ovlite.models.tiny_mlp(batch=None),
        "two": ovlite.models.two_inputs(),
        "resnet": ovlite.models.resnet18(batch=None, image_size=64, num_classes=10),
    }
    paths = {}
    for name, proto in protos.items():
        paths[name] = folder / f"{name}.onnx"
        onnx.save(proto, paths[name])
    return paths


@pytest.fixture(scope="module")
def server(model_files, tmp_path_factory):
    """One server for the read-only tests: mlp, two and resnet on CPU."""
    models = [f"{name}={path}" for name, path in model_files.items()]
    args = [a for m in models for a in ("-m", m)]
    proc = ServerProcess(
        [*args, "-d", "CPU", "--max-body-bytes", str(1 << 20)],
        tmp_path_factory.mktemp("log") / "server.log",
    )
    yield proc
    assert proc.stop() in GRACEFUL, proc.log.read_text()


@pytest.fixture(scope="module")
def local(model_files):
    """The served models compiled in-process on CPU: what the server's answers must equal."""
    core = ovlite.Core()
    return {name: core.compile_model(str(path), "CPU") for name, path in model_files.items()}
