"""PERF_COUNT (per-request node timings) and ENABLE_CPU_PINNING on real sessions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from ovlite_cpu import topology
from ovlite_cpu.profiling import parse_trace

import ovlite

X = np.random.default_rng(7).standard_normal((1, 16), dtype=np.float32)


def test_profiling_info_lists_the_nodes_of_each_request(core, mlp, raw):
    compiled = core.compile_model(mlp, "CPU", {"PERF_COUNT": True})
    assert compiled.get_property("PERF_COUNT") is True
    request = compiled.create_infer_request()
    for _ in range(3):  # each request reports its own run, not an accumulation
        result = request.infer(X)
        info = request.profiling_info
        assert 1 <= len(info) <= len(mlp.proto.graph.node)
        assert all(node.exec_type == "CPUExecutionProvider" for node in info)
        assert all(node.node_name and node.node_type and node.real_time_us >= 0 for node in info)
    np.testing.assert_array_equal(result["y"], raw(mlp, {"x": X})[0])
    names = {node.node_name for node in info}
    assert any("fc1" in name for name in names) and any(name.startswith("y") for name in names)
    compiled.close()


def test_profiling_through_the_queue_on_several_streams(core, two):
    compiled = core.compile_model(two, "CPU", {"PERF_COUNT": True, "NUM_STREAMS": 2})
    queue = ovlite.AsyncInferQueue(compiled)
    seen = []
    queue.set_callback(
        lambda request, _: seen.append([n.node_type for n in request.profiling_info])
    )
    feed = {"a": np.ones((2, 4), np.float32), "b": np.ones((2, 4), np.int64)}
    for _ in range(10):
        queue.start_async(feed)
    queue.wait_all()
    assert len(seen) == 10
    assert all(set(types) >= {"Add", "MatMul"} for types in seen)
    compiled.close()


def test_no_profiling_info_without_perf_count(core, mlp):
    compiled = core.compile_model(mlp, "CPU")
    request = compiled.create_infer_request()
    request.infer(X)
    assert request.profiling_info == []


def test_trace_parsing(tmp_path):
    trace = tmp_path / "trace.json"
    events = [
        {"cat": "Session", "name": "model_run", "dur": 50, "ts": 1},
        {"cat": "Node", "name": "b_kernel_time", "dur": 7, "ts": 20,
         "args": {"op_name": "Relu", "provider": "CPUExecutionProvider"}},
        {"cat": "Node", "name": "a_kernel_time", "dur": 12, "ts": 10,
         "args": {"op_name": "Conv", "provider": "CPUExecutionProvider"}},
        {"cat": "Node", "name": "a_fence_before", "dur": 0, "ts": 9, "args": {}},
    ]  # fmt: skip
    trace.write_text(json.dumps(events))
    info = parse_trace(trace)
    assert [(n.node_name, n.node_type, n.real_time_us) for n in info] == [
        ("a", "Conv", 12.0),
        ("b", "Relu", 7.0),
    ]
    assert info[0].exec_type == "CPUExecutionProvider" and info[0].cpu_time_us == 12.0


def test_pinned_multithreaded_stream_sets_onnxruntime_affinities(core, mlp, raw):
    cores = topology.detect().physical_cores
    if cores < 2:
        pytest.skip("needs 2 cores to pin a pool thread")
    compiled = core.compile_model(
        mlp, "CPU", {"ENABLE_CPU_PINNING": True, "INFERENCE_NUM_THREADS": 2}
    )
    assert compiled.get_property("ENABLE_CPU_PINNING") is True
    (session,) = compiled.device_model.sessions
    cpus = compiled.device_model.plan.pinning[0]
    expected = str(cpus[1] + 1)
    options = session.get_session_options()
    assert options.get_session_config_entry("session.intra_op_thread_affinities") == expected
    assert "pinned" in compiled.get_property("OVLITE_CONFIGURATION_REASON")
    np.testing.assert_array_equal(compiled(X)["y"], raw(mlp, {"x": X})[0])


def test_pinning_with_one_thread_per_stream_says_so(core, mlp):
    compiled = core.compile_model(
        mlp, "CPU", {"ENABLE_CPU_PINNING": True, "NUM_STREAMS": 1, "INFERENCE_NUM_THREADS": 1}
    )
    assert "no thread to pin" in compiled.get_property("OVLITE_CONFIGURATION_REASON")
    assert compiled(X)["y"].shape == (1, 8)


def _light_model() -> ovlite.Model:
    """onnx's own ``light_inception_v2`` test model (IR 3): its weights come from
    ConstantOfShape nodes fed by initializers also listed as graph inputs.  ONNX Runtime
    folds them, and its optimized graph keeps those names as graph inputs without consumers."""
    import onnx

    path = Path(onnx.__file__).parent / "backend/test/data/light/light_inception_v2.onnx"
    if not path.is_file():
        pytest.skip(f"{path} is not shipped with this onnx")
    return ovlite.read_model(path)


@pytest.mark.parametrize("perf", [False, True])
def test_graph_inputs_left_without_consumers_by_the_optimizer(core, raw, perf):
    model = _light_model()
    compiled = core.compile_model(model, "CPU", {"PERF_COUNT": perf})
    x = np.random.default_rng(3).standard_normal((1, 3, 224, 224), dtype=np.float32)
    request = compiled.create_infer_request()
    result = request.infer(x)
    np.testing.assert_allclose(
        result[0], raw(model, {model.inputs[0].any_name: x})[0], rtol=1e-5, atol=1e-6
    )
    assert bool(request.profiling_info) is perf
    compiled.close()
