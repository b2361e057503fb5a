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
