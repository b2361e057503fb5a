"""The CPU device as the core sees it: discovery, availability, properties, config, errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import ovlite
import ovlite.properties as props
from ovlite import models


def run_python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_plugin_is_found_through_its_entry_point(core):
    found = [p for p in core.plugins if p.package == "ovlite-cpu"]
    assert found and found[0].devices == ["CPU"] and found[0].entry_point == "ovlite_cpu"
    assert "CPU" in core.available_devices
    assert core.get_versions("CPU")["CPU"].description == "ovlite-cpu"


def test_loading_the_plugin_does_not_import_onnxruntime():
    out = run_python(
        """
        import sys, ovlite
        core = ovlite.Core()
        assert "CPU" in core.devices()
        print("onnxruntime" in sys.modules)
        """
    )
    assert out.strip() == "False"


def test_without_onnxruntime_the_device_is_listed_unavailable_with_the_reason():
    out = run_python(
        """
        import sys
        sys.modules["onnxruntime"] = None  # any import of it now raises ImportError
        import ovlite
        from ovlite.models import tiny_mlp
        core = ovlite.Core()
        device = core.devices()["CPU"]
        print(device.availability().available)
        print(device.availability().reason)
        print("CPU" in core.available_devices)
        try:
            core.compile_model(tiny_mlp(), "CPU")
        except ovlite.DeviceUnavailableError as exc:
            print("refused:", exc)
        """
    )
    available, reason, listed, refused = out.strip().splitlines()
    assert available == "False" and listed == "False"
    assert "onnxruntime" in reason and "import" in reason
    assert refused.startswith("refused:") and "onnxruntime" in refused


def test_device_properties(core):
    assert core.get_property("CPU", props.device.full_name)
    # EXPORT_IMPORT: the core exports every device's compiled models
    assert core.get_property("CPU", "OPTIMIZATION_CAPABILITIES") == [
        "FP32",
        "INT8",
        "EXPORT_IMPORT",
    ]
    low, high = core.get_property("CPU", "RANGE_FOR_STREAMS")
    assert low == 1 and high >= 1
    assert core.get_property("CPU", "OVLITE_DEVICE_PRIORITY") == 10
    # every setting has a default to read back
    assert core.get_property("CPU", "PERFORMANCE_HINT") == "LATENCY"
    assert core.get_property("CPU", "INFERENCE_PRECISION_HINT") == "f32"
    assert core.get_property("CPU", "ENABLE_CPU_PINNING") is False
    supported = core.get_property("CPU", "SUPPORTED_PROPERTIES")
    assert {"CACHE_DIR", "PERF_COUNT", "NUM_STREAMS", "EXECUTION_MODE_HINT"} <= set(supported)


@pytest.mark.parametrize("precision", ["bf16", "f16", "i8"])
def test_precision_other_than_f32_is_refused_naming_it(core, mlp, precision):
    with pytest.raises(ovlite.PropertyValueError) as error:
        core.compile_model(mlp, "CPU", {"INFERENCE_PRECISION_HINT": precision})
    assert precision in str(error.value) and "f32" in str(error.value)
    with pytest.raises(ovlite.PropertyValueError):
        ovlite.Core().set_property("CPU", {"INFERENCE_PRECISION_HINT": precision})


def test_f32_and_execution_mode_are_accepted_and_reported(core, mlp):
    compiled = core.compile_model(
        mlp, "CPU", {"INFERENCE_PRECISION_HINT": "f32", "EXECUTION_MODE_HINT": "ACCURACY"}
    )
    assert compiled.get_property("INFERENCE_PRECISION_HINT") == "f32"
    assert compiled.get_property("EXECUTION_MODE_HINT") == "ACCURACY"


def test_unknown_setting_is_refused(core, mlp):
    with pytest.raises(ovlite.UnknownPropertyError):
        core.compile_model(mlp, "CPU", {"ENABLE_STARTUP_FALLBACK": True})


def test_compiled_model_reports_its_configuration(core, mlp):
    # without batching: a batched small model reports more (test_cpu_request_batching.py)
    config = {"PERFORMANCE_HINT": "THROUGHPUT", "ALLOW_AUTO_BATCHING": False}
    compiled = core.compile_model(mlp, "CPU", config)
    streams = compiled.get_property("NUM_STREAMS")
    threads = compiled.get_property("INFERENCE_NUM_THREADS")
    assert streams >= 1 and threads >= streams
    assert compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS") == 2 * streams
    reason = compiled.get_property("OVLITE_CONFIGURATION_REASON")
    assert reason.startswith("THROUGHPUT") and f"-> {streams} stream" in reason
    assert compiled.get_property("EXECUTION_DEVICES") == ["CPU"]
    assert compiled.get_property("LOADED_FROM_CACHE") is False
    assert len(compiled.device_model.sessions) == streams


def test_inference_num_threads_and_num_streams_reach_onnxruntime(core, mlp):
    compiled = core.compile_model(mlp, "CPU", {"NUM_STREAMS": 2, "INFERENCE_NUM_THREADS": 2})
    assert compiled.get_property("NUM_STREAMS") == 2
    assert compiled.get_property("INFERENCE_NUM_THREADS") == 2
    for session in compiled.device_model.sessions:
        options = session.get_session_options()
        assert options.intra_op_num_threads == 1 and options.inter_op_num_threads == 1
        assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
        assert session.get_providers() == ["CPUExecutionProvider"]


def test_the_reason_is_logged_at_debug_level(core, mlp, caplog):
    with caplog.at_level("DEBUG", logger="ovlite.cpu"):
        compiled = core.compile_model(mlp, "CPU")
    reason = compiled.get_property("OVLITE_CONFIGURATION_REASON")
    assert any(reason in record.getMessage() for record in caplog.records)


def _model_with(node: onnx.NodeProto, opset: int = 17, domains=()) -> onnx.ModelProto:
    graph = helper.make_graph(
        [node],
        "broken",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    imports = [helper.make_opsetid("", opset), *(helper.make_opsetid(d, 1) for d in domains)]
    return helper.make_model(graph, opset_imports=imports, ir_version=8)


def test_an_operator_onnxruntime_lacks_is_a_compile_error_naming_the_model(core):
    model = _model_with(
        helper.make_node("Frobnicate", ["x"], ["y"], domain="com.example"), domains=["com.example"]
    )
    with pytest.raises(ovlite.CompileError) as error:
        core.compile_model(model, "CPU")
    assert "broken" in str(error.value) and "Frobnicate" in str(error.value)


def test_an_unsupported_opset_is_refused_naming_it(core):
    model = _model_with(helper.make_node("Relu", ["x"], ["y"]), opset=99)
    with pytest.raises((ovlite.CompileError, ovlite.ModelError)) as error:
        core.compile_model(model, "CPU")
    assert "99" in str(error.value) or "opset" in str(error.value).lower()


def test_a_failing_run_is_an_inference_error(core):
    proto = models.two_inputs()
    # b's rows get their own symbolic name, so the core's checks let 2 and 3 rows through
    proto.graph.input[1].type.tensor_type.shape.dim[0].dim_param = "rows_b"
    compiled = core.compile_model(proto, "CPU")
    a = np.ones((2, 4), np.float32)
    b = np.ones((3, 4), np.int64)  # each input fits its port; together they do not broadcast
    with pytest.raises(ovlite.InferenceError):
        compiled({"a": a, "b": b})
    assert compiled({"a": a, "b": b[:2]})["sum"].shape == (2, 4)


def test_query_model_puts_every_node_on_cpu(core, mlp):
    placement = core.query_model(mlp, "CPU")
    assert placement and set(placement.values()) == {"CPU"}


def test_close_stops_the_streams(core, mlp):
    compiled = core.compile_model(mlp, "CPU", {"NUM_STREAMS": 2})
    request = compiled.create_infer_request()
    request.start_async(np.ones((1, 16), np.float32))
    request.wait()
    compiled.close()
    with pytest.raises(ovlite.RequestCancelledError):
        request.infer(np.ones((1, 16), np.float32))


def test_resnet18_flops_drive_the_throughput_choice(core):
    # ResNet-18 at 224x224 is compute-bound: one thread per stream.
    compiled = core.compile_model(
        models.resnet18(batch=1, image_size=224), "CPU", {"PERFORMANCE_HINT": "THROUGHPUT"}
    )
    reason = compiled.get_property("OVLITE_CONFIGURATION_REASON")
    assert "compute-bound" in reason and "x 1 thread;" in reason
