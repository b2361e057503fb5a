"""HETERO and query_model: ONNX Runtime's own partitioning, on the real CPU plugin.

The split over two devices needs onnxruntime's OpenVINOExecutionProvider (the
``onnxruntime-openvino`` wheel); that test is skipped where plain onnxruntime is installed.
``make install`` sets that up, with the ovlite-openvino plugin's ``OPENVINO.CPU``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import ovlite as ov
from ovlite import models
from ovlite import properties as props
from ovlite.device import probe
from ovlite.testing.conformance import REQUIRED_COMPILED_PROPERTIES, PluginConformance


@pytest.fixture
def openvino_core(core: ov.Core) -> ov.Core:
    """A Core with the real OPENVINO device (ovlite-openvino on onnxruntime-openvino, which
    ``make install`` sets up); skipped where it is not available."""
    device = core.devices().get("OPENVINO")
    if device is None:
        pytest.skip("ovlite-openvino is not installed")
    availability = probe(device)
    if not availability.available:
        pytest.skip(f"OPENVINO is not available here: {availability.reason}")
    return core


#: OpenVINO runs bf16 by default where the CPU has it; compare with CPU at f32.
F32_OPENVINO = {"DEVICE_PROPERTIES": {"OPENVINO.CPU": {"INFERENCE_PRECISION_HINT": "f32"}}}


def fast_gelu_model() -> onnx.ModelProto:
    """MatMul -> FastGelu -> MatMul -> Relu.  FastGelu is an ONNX Runtime contrib operator
    (domain com.microsoft) that the CPU provider implements and the OpenVINO provider does
    not, so a HETERO split must give nodes to both."""
    rng = np.random.default_rng(0)
    w1 = numpy_helper.from_array(rng.standard_normal((8, 16)).astype(np.float32), "w1")
    w2 = numpy_helper.from_array(rng.standard_normal((16, 4)).astype(np.float32), "w2")
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h"], name="fc1"),
        helper.make_node("FastGelu", ["h"], ["g"], name="gelu", domain="com.microsoft"),
        helper.make_node("MatMul", ["g", "w2"], ["z"], name="fc2"),
        helper.make_node("Relu", ["z"], ["y"]),  # unnamed: reported as Relu_3
    ]
    graph = helper.make_graph(
        nodes,
        "fast_gelu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])],
        [w1, w2],
    )
    opsets = [helper.make_opsetid("", models.OPSET), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=models.IR_VERSION)


# ---- query_model -----------------------------------------------------------------------------


def test_query_model_on_cpu_maps_every_node_to_cpu(core: ov.Core) -> None:
    model = models.resnet18(batch=1, image_size=32)
    placement = core.query_model(model, "CPU")
    assert list(placement) == [node.name for node in model.graph.node]
    assert set(placement.values()) == {"CPU"}


def test_query_model_names_unnamed_nodes_by_op_type_and_index(core: ov.Core) -> None:
    placement = core.query_model(fast_gelu_model(), "CPU")
    assert placement == {"fc1": "CPU", "gelu": "CPU", "fc2": "CPU", "Relu_3": "CPU"}


def test_query_model_reports_nodes_the_optimizer_removed() -> None:
    """Identity is eliminated and MatMul+Add fused before partitioning: every node of the
    original model is still reported, on the device of its neighbours."""
    rng = np.random.default_rng(1)
    w = numpy_helper.from_array(rng.standard_normal((4, 4)).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.standard_normal((4,)).astype(np.float32), "b")
    nodes = [
        helper.make_node("Identity", ["x"], ["xi"], name="ident"),
        helper.make_node("MatMul", ["xi", "w"], ["m"], name="mm"),
        helper.make_node("Add", ["m", "b"], ["a"], name="bias"),
        helper.make_node("Relu", ["a"], ["y"], name="relu"),
    ]
    graph = helper.make_graph(
        nodes,
        "removed",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        [w, b],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", models.OPSET)], ir_version=models.IR_VERSION
    )
    placement = ov.Core().query_model(model, "HETERO:CPU")
    assert placement == {"ident": "CPU", "mm": "CPU", "bias": "CPU", "relu": "CPU"}


def test_query_model_on_hetero_with_only_cpu_here(core: ov.Core) -> None:
    model = fast_gelu_model()
    assert core.query_model(model, "HETERO:CPU") == core.query_model(model, "CPU")


def test_query_model_on_a_device_not_on_onnxruntime_claims_every_node(core: ov.Core) -> None:
    placement = core.query_model(models.tiny_mlp(), "STANDIN")
    assert set(placement.values()) == {"STANDIN"}


# ---- HETERO over one device --------------------------------------------------------------------


def test_hetero_cpu_matches_cpu(core: ov.Core) -> None:
    model = core.read_model(models.tiny_mlp(batch=None))
    hetero = core.compile_model(model, "HETERO:CPU")
    cpu = core.compile_model(model, "CPU")
    x = np.random.default_rng(2).standard_normal((3, 16)).astype(np.float32)
    np.testing.assert_allclose(hetero(x)[0], cpu(x)[0], rtol=1e-5, atol=1e-6)
    assert hetero.get_property(props.execution_devices) == ["CPU"]
    assert hetero.get_property(props.device.priorities) == ["CPU"]


def test_hetero_from_device_priorities(core: ov.Core) -> None:
    compiled = core.compile_model(
        models.tiny_mlp(), "HETERO", {props.device.priorities.name: "CPU"}
    )
    assert compiled.get_property(props.execution_devices) == ["CPU"]


def test_hetero_hints_streams_and_threads(core: ov.Core) -> None:
    latency = core.compile_model(models.tiny_mlp(), "HETERO:CPU")
    assert latency.get_property(props.streams.num) == 1
    throughput = core.compile_model(
        models.tiny_mlp(),
        "HETERO:CPU",
        {
            props.hint.performance_mode.name: "THROUGHPUT",
            props.device.properties.name: {"CPU": {props.inference_num_threads.name: 1}},
        },
    )
    assert throughput.get_property(props.streams.num) == 2
    assert throughput.get_property(props.optimal_number_of_infer_requests) == 4
    assert throughput.get_property(props.inference_num_threads) == 1
    assert "from CPU's settings" in throughput.get_property(props.configuration_reason)


def test_hetero_under_multi_and_an_async_queue(core: ov.Core) -> None:
    model = core.read_model(models.tiny_mlp(batch=None))
    compiled = core.compile_model(model, "MULTI:HETERO:CPU")
    queue = ov.AsyncInferQueue(compiled)
    results: dict[int, np.ndarray] = {}
    queue.set_callback(lambda request, i: results.__setitem__(i, request.results[0].copy()))
    inputs = [np.full((1, 16), i, np.float32) for i in range(10)]
    for i, x in enumerate(inputs):
        queue.start_async({0: x}, userdata=i)
    queue.wait_all()
    cpu = core.compile_model(model, "CPU")
    for i, x in enumerate(inputs):
        np.testing.assert_allclose(results[i], cpu(x)[0], rtol=1e-5, atol=1e-6)


# ---- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize("child", ["MULTI:CPU", "AUTO", "BATCH"])
def test_a_meta_child_is_refused(core: ov.Core, child: str) -> None:
    name = ov.parse_device(child).name
    error = ov.DeviceStringError if ":" in child else ov.ChildDeviceError
    with pytest.raises(error, match=name):
        core.compile_model(models.tiny_mlp(), f"HETERO:{child}")


def test_a_child_not_on_onnxruntime_is_refused(core: ov.Core) -> None:
    with pytest.raises(ov.ChildDeviceError, match="STANDIN.*does not run on ONNX Runtime"):
        core.compile_model(models.tiny_mlp(), "HETERO:STANDIN,CPU")
    with pytest.raises(ov.ChildDeviceError, match="STANDIN"):
        core.query_model(models.tiny_mlp(), "HETERO:CPU,STANDIN")


def test_an_unknown_child_is_refused(core: ov.Core) -> None:
    with pytest.raises(ov.DeviceNotFoundError, match="NOSUCH"):
        core.compile_model(models.tiny_mlp(), "HETERO:NOSUCH,CPU")


def test_an_empty_device_list_is_refused(core: ov.Core) -> None:
    with pytest.raises(ov.DeviceStringError, match="HETERO needs devices"):
        core.compile_model(models.tiny_mlp(), "HETERO")
    with pytest.raises(ov.DeviceStringError):
        core.compile_model(models.tiny_mlp(), "HETERO:")


def test_the_same_provider_twice_is_refused(core: ov.Core) -> None:
    with pytest.raises(ov.ChildDeviceError, match="CPUExecutionProvider"):
        core.compile_model(models.tiny_mlp(), "HETERO:CPU,CPU")


def test_settings_hetero_does_not_take_are_refused(core: ov.Core) -> None:
    with pytest.raises(ov.UnknownPropertyError, match="HETERO.*CACHE_DIR.*DEVICE_PROPERTIES"):
        core.compile_model(models.tiny_mlp(), "HETERO:CPU", {"CACHE_DIR": "x"})
    with pytest.raises(ov.UnknownPropertyError, match="CPU"):
        core.compile_model(
            models.tiny_mlp(), "HETERO:CPU", {"DEVICE_PROPERTIES": {"CPU": {"NO_SUCH_KEY": 1}}}
        )


# ---- HETERO over two providers ------------------------------------------------------------------


def test_hetero_splits_over_openvino_and_cpu(openvino_core: ov.Core) -> None:
    core = openvino_core
    model = core.read_model(fast_gelu_model())
    placement = core.query_model(model, "HETERO:OPENVINO.CPU,CPU")
    assert set(placement) == {"fc1", "gelu", "fc2", "Relu_3"}
    assert placement["gelu"] == "CPU"  # the OpenVINO provider does not take FastGelu
    assert set(placement.values()) == {"OPENVINO.CPU", "CPU"}
    # alone, OPENVINO.CPU lists only the nodes it supports, as OpenVINO's query_model does
    alone = core.query_model(model, "OPENVINO.CPU")
    assert "gelu" not in alone and set(alone.values()) == {"OPENVINO.CPU"}

    hetero = core.compile_model(model, "HETERO:OPENVINO.CPU,CPU", F32_OPENVINO)
    assert hetero.get_property(props.execution_devices) == ["OPENVINO.CPU", "CPU"]
    cpu = core.compile_model(model, "CPU")
    x = np.random.default_rng(3).standard_normal((2, 8)).astype(np.float32)
    np.testing.assert_allclose(hetero(x)[0], cpu(x)[0], rtol=1e-4, atol=1e-5)


def test_hetero_without_cpu_fails_on_a_node_no_device_takes(openvino_core: ov.Core) -> None:
    with pytest.raises(ov.CompileError, match="HETERO:OPENVINO.CPU.*gelu \\(FastGelu\\)"):
        openvino_core.compile_model(fast_gelu_model(), "HETERO:OPENVINO.CPU")


# ---- the conformance suite on HETERO:CPU -----------------------------------------------------------


class TestHeteroConformance(PluginConformance):
    device = "HETERO:CPU"
    package = "ovlite"
    supports_cancellation = True  # async jobs wait in the streams executor's queue
    supports_throughput_streams = True  # NUM_STREAMS inferences run on the session at once
    supports_dynamic_shapes = True  # ONNX Runtime takes any shape the model allows

    @pytest.mark.parametrize("hint", ["LATENCY", "THROUGHPUT", "CUMULATIVE_THROUGHPUT"])
    def test_compiled_model_reports_the_required_properties(
        self, model: ov.Model, compile_model: Any, hint: str
    ) -> None:
        # EXECUTION_DEVICES names the children that got nodes, not HETERO itself
        compiled = compile_model(model, {props.hint.performance_mode.name: hint})
        supported = compiled.get_property(props.supported_properties)
        assert set(REQUIRED_COMPILED_PROPERTIES) <= set(supported)
        assert compiled.get_property(props.execution_devices) == ["CPU"]
        assert compiled.get_property(props.hint.performance_mode) == hint


def test_node_placement_maps_fused_and_removed_nodes_back() -> None:
    """The mapping rules alone, on a made-up assignment (names with '/' as exporters write)."""
    from ovlite.onnxruntime import node_placement

    nodes = [
        helper.make_node("Identity", ["x"], ["a"], name="/in/Identity"),
        helper.make_node("MatMul", ["a", "w"], ["b"], name="/l1/MatMul"),
        helper.make_node("Add", ["b", "c"], ["d"], name="/l1/Add"),
        helper.make_node("Relu", ["d"], ["e"], name="/l2/Relu"),
        helper.make_node("Neg", ["e"], ["y"], name="/l3/Neg"),
    ]
    graph = helper.make_graph(nodes, "g", [], [])
    assigned = {"/l1/MatMul/MatMulAddFusion": "GPUProvider", "/l2/Relu": "CPUProvider"}
    devices = {"GPUProvider": "GPU", "CPUProvider": "CPU"}
    placement = node_placement(helper.make_model(graph), assigned, devices, "CPU")
    assert placement == {
        "/in/Identity": "GPU",  # removed: no producer, its consumer is on GPU
        "/l1/MatMul": "GPU",  # the fused node carries its name
        "/l1/Add": "GPU",  # fused into it: its producer is on GPU
        "/l2/Relu": "CPU",
        "/l3/Neg": "CPU",  # not reported: its producer is on CPU
    }


def test_close_releases_the_session(core: ov.Core) -> None:
    """Sessions hold device memory: after close() nothing in ovlite keeps HETERO's alive."""
    import gc
    import weakref

    compiled = core.compile_model(models.tiny_mlp(batch=1), "HETERO:CPU")
    request = compiled.create_infer_request()
    request.start_async({"x": np.ones((1, 16), np.float32)})  # starts the workers
    request.wait()
    session = weakref.ref(compiled.device_model.session._sess)  # what the streams run on
    compiled.close()
    gc.collect()
    assert session() is None, "the session outlived close()"
    with pytest.raises(ov.RequestCancelledError):
        compiled({"x": np.ones((1, 16), np.float32)})
