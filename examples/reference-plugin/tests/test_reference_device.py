"""What the REFERENCE device does beyond the conformance suite: its own settings and errors."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

import ovlite
import ovlite.properties as props
from ovlite import models, plugin
from ovlite.properties.hint import PerformanceMode


@pytest.fixture
def core() -> ovlite.Core:
    return ovlite.Core()


@pytest.fixture
def mlp() -> ovlite.Model:
    return ovlite.read_model(models.tiny_mlp(batch=None))


def test_precision_other_than_f32_is_refused(core: ovlite.Core, mlp: ovlite.Model) -> None:
    with pytest.raises(ovlite.PropertyValueError, match="f16 is not supported by the REFERENCE"):
        core.compile_model(mlp, "REFERENCE", {props.hint.inference_precision: "f16"})
    compiled = core.compile_model(mlp, "REFERENCE", {props.hint.inference_precision: "f32"})
    assert compiled.get_property(props.hint.inference_precision) == ovlite.Type.f32


def test_the_configuration_reason_is_honest_about_streams(
    core: ovlite.Core, mlp: ovlite.Model
) -> None:
    compiled = core.compile_model(mlp, "REFERENCE", {"PERFORMANCE_HINT": "THROUGHPUT"})
    reason = compiled.get_property(props.configuration_reason)
    assert compiled.get_property(props.streams.num) == 2
    assert "THROUGHPUT: 2 streams" in reason
    assert "little speed-up" in reason
    capped = core.compile_model(
        mlp, "REFERENCE", {"PERFORMANCE_HINT": "THROUGHPUT", "PERFORMANCE_HINT_NUM_REQUESTS": 1}
    )
    assert capped.get_property(props.streams.num) == 1
    assert "capped" in capped.get_property(props.configuration_reason)


def test_profiling_times_each_node(core: ovlite.Core, mlp: ovlite.Model) -> None:
    compiled = core.compile_model(mlp, "REFERENCE", {props.enable_profiling: True})
    request = compiled.create_infer_request()
    request.infer({"x": np.ones((2, 16), np.float32)})
    nodes = [(node.name, node.op_type) for node in mlp.proto.graph.node]
    assert [(p.node_name, p.node_type) for p in request.profiling_info] == nodes
    assert all(p.exec_type == "onnx.reference" for p in request.profiling_info)


def test_it_comes_last_for_auto(core: ovlite.Core) -> None:
    assert core.get_property("REFERENCE", props.device.priority) < 0
    if "CPU" in core.available_devices:
        compiled = core.compile_model(models.tiny_mlp(), "AUTO")
        assert compiled.get_property(props.execution_devices) == ["CPU"]


def test_a_model_it_cannot_run_is_a_compile_error(core: ovlite.Core) -> None:
    node = helper.make_node("Frobnicate", ["x"], ["y"], domain="com.example")
    graph = helper.make_graph(
        [node],
        "unknown_op",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)],
    )
    model.ir_version = 8
    with pytest.raises(ovlite.CompileError, match="REFERENCE cannot compile"):
        core.compile_model(model, "REFERENCE")


def test_an_output_that_is_an_input_passed_through_is_copied(core: ovlite.Core) -> None:
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "identity",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    request = core.compile_model(model, "REFERENCE").create_infer_request()
    first = request.infer({"x": np.array([1.0, 2.0], np.float32)})["y"]
    request.infer({"x": np.array([3.0, 4.0], np.float32)})
    np.testing.assert_array_equal(first, [1.0, 2.0])


def test_settings_are_declared_once_with_their_defaults(core: ovlite.Core) -> None:
    supported = core.get_property("REFERENCE", props.supported_properties)
    for key, default in [
        (props.hint.performance_mode, PerformanceMode.LATENCY),
        (props.hint.num_requests, 0),
        (props.streams.num, 1),
        (props.enable_profiling, False),
        (props.hint.inference_precision, ovlite.Type.f32),
    ]:
        assert supported[key.name] == "RW"
        assert core.get_property("REFERENCE", key) == default
    with pytest.raises(ovlite.UnknownPropertyError, match="INFERENCE_NUM_THREADS"):
        core.set_property("REFERENCE", {props.inference_num_threads: 2})


def test_when_it_cannot_run_the_error_gives_the_install_hint() -> None:
    from ovlite_reference import ReferenceDevice

    class Missing(ReferenceDevice):
        def availability(self) -> plugin.Availability:
            return plugin.Availability(False, "onnx cannot be imported")

    class Plugin:
        OVLITE_PLUGIN_API = 2

        @plugin.hookimpl
        def ovlite_devices(self) -> list[plugin.Device]:
            return [Missing()]

    core = ovlite.Core()
    core.register_plugin(Plugin(), name="missing-reference")
    with pytest.raises(ovlite.DeviceUnavailableError, match=r"pip install 'onnx>=1.15'"):
        core.compile_model(models.tiny_mlp(), "REFERENCE")
