"""Core: reading models from file objects and with a config, the core's own properties,
compile_model's openvino-style ``weights``."""

from __future__ import annotations

import io

import numpy as np
import pytest

import ovlite as ov
from ovlite import models


def test_read_model_takes_a_binary_file_object() -> None:
    model = ov.Core().read_model(io.BytesIO(models.tiny_mlp(batch=1).SerializeToString()))
    assert model.input(0).get_any_name() == "x"
    with pytest.raises(ov.ModelTypeError, match="'rb'"):
        ov.Core().read_model(io.StringIO("text"))


def test_read_model_config_creates_the_cache_dir_and_leaves_the_core_as_it_was(tmp_path) -> None:
    core = ov.Core()
    path = tmp_path / "m.onnx"
    path.write_bytes(models.tiny_mlp(batch=1).SerializeToString())
    assert core.get_property("CACHE_DIR") == ""
    cache = tmp_path / "cache"
    assert isinstance(core.read_model(path, config={"CACHE_DIR": str(cache)}), ov.Model)
    assert cache.is_dir() and core.get_property("CACHE_DIR") == ""
    with pytest.raises(ov.UnknownPropertyError, match="NOPE"):
        core.read_model(path, config={"NOPE": 1})


def test_the_cores_own_properties_are_read_without_a_device() -> None:
    core = ov.Core()
    core.set_property({"CACHE_DIR": "./cache"})
    assert core.get_property("CACHE_DIR") == "./cache"
    assert "CPU" in core.get_property("AVAILABLE_DEVICES")
    with pytest.raises(ov.UnknownPropertyError, match="FULL_DEVICE_NAME.*name a device"):
        core.get_property("FULL_DEVICE_NAME")


def test_compile_model_takes_model_bytes_with_empty_weights_and_refuses_real_ones() -> None:
    data = models.tiny_mlp(batch=1).SerializeToString()
    compiled = ov.Core().compile_model(model=data, weights=b"", device_name="CPU")
    assert compiled(np.ones((1, 16), np.float32))[0].shape == (1, 8)
    with pytest.raises(ov.UnsupportedModelFormatError, match="weights"):
        ov.Core().compile_model(model=data, weights=b"\x00", device_name="CPU")


def test_an_exported_compiled_model_imports_with_its_settings_and_layouts() -> None:
    core = ov.Core()
    model = ov.read_model(models.tiny_mlp(batch=1))
    ov.layout_helpers.set_layout(model.input(0), ov.Layout("NC"))
    compiled = core.compile_model(model, "CPU", {"NUM_STREAMS": 2, "PERF_COUNT": True})
    assert "EXPORT_IMPORT" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    stream = io.BytesIO()
    compiled.export_model(stream)  # openvino's form: written into a stream, read from its start
    imported = core.import_model(stream, "CPU", {"PERF_COUNT": False})
    assert (
        imported.get_property("NUM_STREAMS") == 2 and imported.get_property("PERF_COUNT") is False
    )
    assert ov.layout_helpers.get_layout(imported.input(0)) == ov.Layout("NC")
    x = np.random.default_rng(0).standard_normal((1, 16)).astype(np.float32)
    assert np.array_equal(imported(x)[0], compiled(x)[0])
    assert core.import_model(compiled.export_model(), "CPU").input(0).get_any_name() == "x"


def test_import_model_names_what_it_was_given_when_it_is_not_an_export() -> None:
    with pytest.raises(ov.ModelError, match="not an ovlite export.*export_model"):
        ov.Core().import_model(models.tiny_mlp(batch=1).SerializeToString(), "CPU")
    with pytest.raises(ov.ModelError, match="int"):
        ov.Core().import_model(7, "CPU")
