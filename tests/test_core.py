"""Core: devices, properties, per-device configuration, versions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

import ovlite as ov
import ovlite.properties as props
from ovlite import models
from ovlite.properties.hint import PerformanceMode
from ovlite.testing import StandInDevice, StandInPlugin


def test_available_devices_suffix_ids_only_for_several() -> None:
    core = ov.Core()
    core.register_plugin(
        StandInPlugin(
            StandInDevice("MANY", ids=["0", "1"]),
            StandInDevice("ONE", ids=["0"]),
            StandInDevice("GONE", available=False, reason="no driver"),
        ),
        name="mix",
    )
    devices = core.available_devices
    assert {"MANY.0", "MANY.1", "ONE"} <= set(devices)
    assert "MANY" not in devices and "GONE" not in devices
    assert core.get_available_devices() == devices
    assert core.get_property("MANY", "AVAILABLE_DEVICES") == ["0", "1"]


def test_unavailable_device_says_why(core: ov.Core) -> None:
    core.register_plugin(
        StandInPlugin(StandInDevice("GONE", available=False, reason="no driver")), name="gone"
    )
    with pytest.raises(ov.DeviceUnavailableError, match="GONE.*no driver"):
        core.compile_model(models.tiny_mlp(), "GONE")


def test_unknown_device_suggests_lists_and_names_the_package(core: ov.Core) -> None:
    with pytest.raises(ov.DeviceNotFoundError) as info:
        core.compile_model(models.tiny_mlp(), "STANDIM")
    message = str(info.value)
    assert "'STANDIM'" in message and "did you mean 'STANDIN'" in message and "STANDIN" in message


def test_a_device_whose_plugin_is_not_loaded_names_the_package() -> None:
    """GPU is installed here (make install), so load only the CPU plugin, as a machine
    without ovlite-gpu would."""
    script = (
        "import ovlite as ov\n"
        "from ovlite import models\n"
        "try:\n"
        "    ov.Core().compile_model(models.tiny_mlp(), 'GPU')\n"
        "except ov.DeviceNotFoundError as error:\n"
        "    print(error)\n"
    )
    environment = {**os.environ, "OVLITE_PLUGINS": "cpu"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=environment, timeout=120
    )
    assert "'GPU'" in result.stdout and "ovlite-gpu" in result.stdout, result.stdout + result.stderr


def test_unknown_device_id(core: ov.Core) -> None:
    core.register_plugin(StandInPlugin(StandInDevice("MANY", ids=["0", "1"])), name="many")
    assert core.compile_model(models.tiny_mlp(), "MANY.1").device_name == "MANY.1"
    with pytest.raises(ov.DeviceNotFoundError, match="MANY.7.*MANY.0, MANY.1"):
        core.compile_model(models.tiny_mlp(), "MANY.7")


def test_malformed_device_string_is_reported_before_compiling(core: ov.Core) -> None:
    with pytest.raises(ov.DeviceStringError, match="MULTI:"):
        core.compile_model(models.tiny_mlp(), "MULTI:")


def test_compiled_model_reports_what_the_hint_chose(core: ov.Core) -> None:
    latency = core.compile_model(models.tiny_mlp(), "STANDIN")
    throughput = core.compile_model(
        models.tiny_mlp(), "STANDIN", {props.hint.performance_mode: PerformanceMode.THROUGHPUT}
    )
    assert latency.get_property(props.streams.num) == 1
    assert throughput.get_property("NUM_STREAMS") == 2
    assert throughput.get_property(props.optimal_number_of_infer_requests) == 2
    assert throughput.get_property(props.execution_devices) == ["STANDIN"]
    assert throughput.get_property(props.model_name) == "tiny_mlp"
    assert "THROUGHPUT" in throughput.get_property(props.configuration_reason)
    assert "NUM_STREAMS" in throughput.get_property(props.supported_properties)
    with pytest.raises(ov.UnknownPropertyError, match="OPTIMAL_BATCH_SIZE"):
        throughput.get_property(props.optimal_batch_size)
    with pytest.raises(ov.ReadOnlyPropertyError):
        throughput.set_property({props.hint.performance_mode: "LATENCY"})
    capped = core.compile_model(
        models.tiny_mlp(),
        "STANDIN",
        {"PERFORMANCE_HINT": "THROUGHPUT", "PERFORMANCE_HINT_NUM_REQUESTS": 1},
    )
    assert capped.get_property("NUM_STREAMS") == 1


def test_set_property_per_device_and_globally(core: ov.Core) -> None:
    assert core.get_property("STANDIN", props.hint.performance_mode) == PerformanceMode.LATENCY
    core.set_property("STANDIN", {props.hint.performance_mode: "THROUGHPUT"})
    assert core.get_property("STANDIN", "PERFORMANCE_HINT") == PerformanceMode.THROUGHPUT
    assert core.compile_model(models.tiny_mlp(), "STANDIN").get_property("NUM_STREAMS") == 2
    # the compile config wins over the device setting
    assert (
        core.compile_model(models.tiny_mlp(), "STANDIN", {"NUM_STREAMS": 3}).get_property(
            "NUM_STREAMS"
        )
        == 3
    )
    core.set_property({props.enable_profiling: True})
    assert (
        core.compile_model(models.tiny_mlp(), "STANDIN").get_property(props.enable_profiling)
        is True
    )
    assert "ovlite stand-in" in core.get_property("STANDIN", props.device.full_name)
    assert "PERFORMANCE_HINT" in core.get_property("STANDIN", props.supported_properties)


def test_properties_a_device_does_not_take_are_refused(core: ov.Core) -> None:
    with pytest.raises(
        ov.UnknownPropertyError, match="STANDIN does not support the property CACHE_DIR"
    ):
        core.compile_model(models.tiny_mlp(), "STANDIN", {"CACHE_DIR": "/tmp/x"})
    with pytest.raises(ov.UnknownPropertyError, match="STANDIN"):
        core.set_property("STANDIN", {"CACHE_DIR": "/tmp/x"})
    with pytest.raises(ov.UnknownPropertyError, match="NUM_STREAMZ"):
        core.compile_model(models.tiny_mlp(), "STANDIN", {"NUM_STREAMZ": 2})
    with pytest.raises(ov.PropertyValueError, match="NUM_STREAMS"):
        core.compile_model(models.tiny_mlp(), "STANDIN", {"NUM_STREAMS": 0})
    with pytest.raises(ov.UnknownPropertyError, match="no property"):
        core.get_property("STANDIN", "CACHE_DIR")


def test_device_properties_give_each_device_its_share(core: ov.Core) -> None:
    core.register_plugin(StandInPlugin(StandInDevice("OTHER")), name="other")
    config = {
        "PERFORMANCE_HINT": "THROUGHPUT",
        "DEVICE_PROPERTIES": {"STANDIN": {"NUM_STREAMS": 3}, "OTHER": {"NUM_STREAMS": 4}},
    }
    assert core.compile_model(models.tiny_mlp(), "STANDIN", config).get_property("NUM_STREAMS") == 3
    assert core.compile_model(models.tiny_mlp(), "OTHER", config).get_property("NUM_STREAMS") == 4


def test_compile_from_a_path_and_versions(core: ov.Core, tmp_path: Path) -> None:
    path = tmp_path / "mlp.onnx"
    onnx.save(models.tiny_mlp(), path)
    compiled = core.compile_model(str(path), "STANDIN")
    assert compiled({"x": np.zeros((1, 16), np.float32)})[0].shape == (1, 8)
    versions = core.get_versions("STANDIN")
    assert versions["STANDIN"].description == "(in-process)"


def test_query_model_defaults_to_every_node_on_the_device(core: ov.Core) -> None:
    placement = core.query_model(models.tiny_mlp(), "STANDIN")
    assert len(placement) == len(models.tiny_mlp().graph.node)
    assert set(placement.values()) == {"STANDIN"}


def test_importing_ovlite_does_not_import_onnxruntime() -> None:
    code = "import sys, ovlite; print('onnxruntime' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
