"""bf16 inputs and outputs, as openvino has them: the data are 16-bit words (bit patterns)
in ``uint16`` or ``float16`` arrays, results come back as ``float16`` arrays of bf16 words,
and the request's tensors report ``Type.bf16``.  The model casts its bf16 input to f32,
doubles it and casts back, so every value below is exact in bf16."""

from __future__ import annotations

import threading

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import ovlite as ov

VALUES = np.array([[1.0, 2.0, 3.0], [4.0, -5.0, 6.5]], dtype=np.float32)


def to_bf16(values: np.ndarray) -> np.ndarray:
    """bf16 words of float32 values that bf16 holds exactly."""
    return (values.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)


def from_bf16(words: np.ndarray) -> np.ndarray:
    return (words.view(np.uint16).astype(np.uint32) << 16).view(np.float32)


def bf16_doubler(batch: int | str = 2) -> onnx.ModelProto:
    """x: bf16[batch, 3] -> y: bf16[batch, 3] = 2 * x, computed in f32."""
    x = helper.make_tensor_value_info("x", TensorProto.BFLOAT16, [batch, 3])
    y = helper.make_tensor_value_info("y", TensorProto.BFLOAT16, [batch, 3])
    nodes = [
        helper.make_node("Cast", ["x"], ["x32"], to=TensorProto.FLOAT),
        helper.make_node("Add", ["x32", "x32"], ["y32"]),
        helper.make_node("Cast", ["y32"], ["y"], to=TensorProto.BFLOAT16),
    ]
    graph = helper.make_graph(nodes, "bf16_doubler", [x], [y])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)


@pytest.fixture(scope="module")
def compiled_cpu() -> ov.CompiledModel:
    return ov.Core().compile_model(ov.read_model(bf16_doubler()), "CPU")


def assert_doubled(result: np.ndarray, values: np.ndarray = VALUES) -> None:
    assert result.dtype == np.float16  # openvino's storage for bf16 results
    np.testing.assert_array_equal(from_bf16(result), 2 * values)


def test_ports_of_a_bf16_model_are_bf16(compiled_cpu) -> None:
    assert compiled_cpu.input(0).element_type == ov.Type.bf16
    assert compiled_cpu.output(0).element_type == ov.Type.bf16


needs_openvino = pytest.mark.skipif(
    "OPENVINO" not in ov.Core().available_devices, reason="OPENVINO is not available here"
)


@pytest.mark.parametrize(
    "device",
    ["CPU", "AUTO", "MULTI:CPU", pytest.param("HETERO:OPENVINO,CPU", marks=needs_openvino)],
)
@pytest.mark.parametrize("storage", [np.uint16, np.float16])
def test_infer_takes_bf16_words_and_returns_bf16_words(device, storage) -> None:
    compiled = ov.Core().compile_model(ov.read_model(bf16_doubler()), device)
    words = to_bf16(VALUES).view(storage)
    assert_doubled(compiled({0: words})[0])
    assert_doubled(compiled.create_infer_request().infer({"x": words})["y"])


def test_a_dynamic_batch_of_bf16_words_comes_back_whole() -> None:
    compiled = ov.Core().compile_model(ov.read_model(bf16_doubler("batch")), "CPU")
    values = np.arange(-12, 12, dtype=np.float32).reshape(8, 3)
    assert_doubled(compiled(to_bf16(values))[0], values)


def test_request_tensors_are_bf16_and_written_in_place(compiled_cpu) -> None:
    request = compiled_cpu.create_infer_request()
    tensor = request.get_input_tensor()
    assert tensor.element_type == ov.Type.bf16
    assert tensor.data.dtype == np.float16
    tensor.data[:] = to_bf16(VALUES).view(np.float16)
    request.infer()
    output = request.get_output_tensor()
    assert output.element_type == ov.Type.bf16
    assert_doubled(output.data)


def test_set_tensor_binds_a_bf16_tensor_over_uint16_words(compiled_cpu) -> None:
    request = compiled_cpu.create_infer_request()
    words = to_bf16(VALUES)
    tensor = ov.Tensor(words, [2, 3], ov.Type.bf16)
    request.set_tensor("x", tensor)
    request.infer()
    assert_doubled(request.get_tensor("y").data)
    words[0, 0] = to_bf16(np.array([10.0]))[0]  # the request reads the bound memory
    request.infer()
    assert from_bf16(request.get_tensor("y").data)[0, 0] == 20.0


def test_set_output_tensor_receives_the_bf16_result(compiled_cpu) -> None:
    request = compiled_cpu.create_infer_request()
    out = ov.Tensor(ov.Type.bf16, [2, 3])
    request.set_output_tensor(0, out)
    request.infer({0: to_bf16(VALUES)})
    assert_doubled(out.data)


def test_start_async_and_wait(compiled_cpu) -> None:
    request = compiled_cpu.create_infer_request()
    done = threading.Event()
    request.set_callback(lambda _: done.set())
    request.start_async({0: to_bf16(VALUES)})
    request.wait()
    assert done.is_set()
    assert_doubled(request.results[0])


def test_async_infer_queue_runs_bf16_jobs_with_callbacks(compiled_cpu) -> None:
    queue = ov.AsyncInferQueue(compiled_cpu, 2)
    results: dict[int, np.ndarray] = {}

    def keep(request: ov.InferRequest, job: int) -> None:
        results[job] = from_bf16(request.get_output_tensor().data.copy())

    queue.set_callback(keep)
    for job in range(6):
        queue.start_async({0: to_bf16(VALUES + job)}, job)
    queue.wait_all()
    assert sorted(results) == list(range(6))
    for job, result in results.items():
        np.testing.assert_array_equal(result, 2 * (VALUES + job))


def test_float32_values_for_a_bf16_input_are_refused_with_the_conversion(compiled_cpu) -> None:
    with pytest.raises(ov.InputTypeError, match=r"'x' is bf16.*uint16 or float16.*float32"):
        compiled_cpu({0: VALUES})
    with pytest.raises(ov.InputTypeError, match="int32"):
        compiled_cpu({0: VALUES.astype(np.int32)})


def test_a_profiled_bf16_model_runs_and_reports_its_nodes() -> None:
    compiled = ov.Core().compile_model(ov.read_model(bf16_doubler()), "CPU", {"PERF_COUNT": True})
    request = compiled.create_infer_request()
    request.infer({0: to_bf16(VALUES)})
    assert_doubled(request.results[0])
    assert {info.node_type for info in request.profiling_info} >= {"Cast", "Add"}
