"""CACHE_DIR: the optimized model is reused, and a damaged entry is rebuilt, never trusted."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import ovlite

X = np.random.default_rng(5).standard_normal((2, 16), dtype=np.float32)


def compile_cached(model, folder, **extra):
    compiled = ovlite.Core().compile_model(model, "CPU", {"CACHE_DIR": str(folder), **extra})
    return compiled, compiled.get_property("LOADED_FROM_CACHE")


def entry(folder: Path, suffix: str) -> Path:
    (found,) = (folder / "ovlite-cpu").glob(f"*{suffix}")
    return found


@pytest.fixture
def warm(tmp_path, mlp, raw):
    """A cache folder holding one entry for the MLP, and the expected output."""
    compiled, cached = compile_cached(mlp, tmp_path)
    assert cached is False
    expected = raw(mlp, {"x": X})[0]
    np.testing.assert_array_equal(compiled(X)["y"], expected)
    compiled.close()
    return tmp_path, expected


def test_second_compile_loads_from_cache(warm, mlp):
    folder, expected = warm
    compiled, cached = compile_cached(mlp, folder, PERFORMANCE_HINT="THROUGHPUT")
    assert cached is True
    assert "loaded from cache" in compiled.get_property("OVLITE_CONFIGURATION_REASON")
    np.testing.assert_array_equal(compiled(X)["y"], expected)
    sidecar = json.loads(entry(folder, ".json").read_text())
    assert sidecar["onnxruntime"] and len(sidecar["graph_sha256"]) == 64
    assert not list((folder / "ovlite-cpu").glob(".tmp-*"))  # no temporary folders left


def test_a_different_model_gets_its_own_entry(warm, two):
    folder, _ = warm
    _, cached = compile_cached(two, folder)
    assert cached is False
    assert len(list((folder / "ovlite-cpu").glob("*.json"))) == 2


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda f: entry(f, ".onnx").write_bytes(b"not a model"), id="graph-garbage"),
        pytest.param(lambda f: _flip_byte(entry(f, ".bin")), id="weights-flipped-byte"),
        pytest.param(lambda f: entry(f, ".bin").write_bytes(b""), id="weights-truncated"),
        pytest.param(lambda f: entry(f, ".json").write_text("{"), id="sidecar-garbage"),
        pytest.param(lambda f: entry(f, ".json").unlink(), id="sidecar-missing"),
        pytest.param(lambda f: _edit_sidecar(f, onnxruntime="0.0.1"), id="other-onnxruntime"),
        pytest.param(lambda f: _edit_sidecar(f, graph_sha256="0" * 64), id="hash-mismatch"),
    ],
)
def test_a_damaged_entry_is_rebuilt(warm, mlp, damage):
    folder, expected = warm
    damage(folder)
    compiled, cached = compile_cached(mlp, folder)
    assert cached is False
    np.testing.assert_array_equal(compiled(X)["y"], expected)
    again, cached = compile_cached(mlp, folder)
    assert cached is True
    np.testing.assert_array_equal(again(X)["y"], expected)


def test_an_entry_that_fails_to_load_is_rebuilt(warm, mlp, monkeypatch):
    """Hashes match but ONNX Runtime refuses the graph: the entry is not trusted."""
    folder, expected = warm
    graph = entry(folder, ".onnx")
    graph.write_bytes(b"\x08\x07" + b"\xff" * 64)  # a ModelProto ONNX Runtime cannot load
    _edit_sidecar(folder, graph_sha256=_sha256(graph))
    compiled, cached = compile_cached(mlp, folder)
    assert cached is False
    assert "rebuilt" in compiled.get_property("OVLITE_CONFIGURATION_REASON")
    np.testing.assert_array_equal(compiled(X)["y"], expected)


def test_cache_dir_that_cannot_be_written_compiles_anyway_and_says_so(tmp_path, mlp):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    compiled, cached = compile_cached(mlp, blocker)
    assert cached is False
    assert "cache not written" in compiled.get_property("OVLITE_CONFIGURATION_REASON")
    assert compiled(X)["y"].shape == (2, 8)


def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _edit_sidecar(folder: Path, **changes) -> None:
    sidecar = entry(folder, ".json")
    meta = json.loads(sidecar.read_text())
    meta.update(changes)
    sidecar.write_text(json.dumps(meta))
