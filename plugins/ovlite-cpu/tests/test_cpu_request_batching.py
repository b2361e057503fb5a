"""THROUGHPUT on a small model: streams stack queued requests into one inference.

What a user relies on: every request still gets exactly its own result (same values as run
alone), a model whose rows are not independent is never batched, ``ALLOW_AUTO_BATCHING``
turns it off, and ``OVLITE_CONFIGURATION_REASON`` says what was chosen and why.

Whether a model runs "short" enough to be batched is timed at compile; these tests fix the
threshold (``SHORT_RUN_S``) instead, so that no outcome depends on this machine's speed.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import ovlite
from ovlite import models

BATCHES = "a stream batches up to"


@pytest.fixture(autouse=True)
def every_run_is_short(monkeypatch):
    import ovlite_cpu.batching

    monkeypatch.setattr(ovlite_cpu.batching, "SHORT_RUN_S", 10.0)


def _model(nodes, inputs, outputs, initializers=()) -> ovlite.Model:
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(proto)
    return ovlite.read_model(proto)


def row_mixing() -> ovlite.Model:
    """``y = x - mean(x over the batch)``: each row's output depends on the others."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["m"], axes=[0], keepdims=1),
        helper.make_node("Sub", ["x", "m"], ["y"]),
    ]
    return _model(nodes, [x], [y])


def lookup() -> ovlite.Model:
    """``y = table[ids]``: ids out of the table's 10 rows make ONNX Runtime fail the run."""
    ids = helper.make_tensor_value_info("ids", TensorProto.INT64, ["N", 1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1, 4])
    table = numpy_helper.from_array(np.arange(40, dtype=np.float32).reshape(10, 4), "table")
    return _model([helper.make_node("Gather", ["table", "ids"], ["y"])], [ids], [y], [table])


def data_dependent_length() -> ovlite.Model:
    """``y = x[x > 0]``: the output's length depends on the values, not on the batch."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["K"])
    zero = numpy_helper.from_array(np.zeros((), np.float32), "zero")
    nodes = [
        helper.make_node("Greater", ["x", "zero"], ["mask"]),
        helper.make_node("Compress", ["x", "mask"], ["y"]),
    ]
    return _model(nodes, [x], [y], [zero])


def shift_by_two() -> ovlite.Model:
    """``y[t] = x[t] + x[t - 2]`` along dim 0: rows mix only two apart."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])
    consts = [
        numpy_helper.from_array(np.array(v, np.int64), n)
        for n, v in (("pads", [2, 0, 0, 0]), ("st", [0]), ("en", [-2]), ("ax", [0]))
    ]
    nodes = [
        helper.make_node("Pad", ["x", "pads"], ["p"]),
        helper.make_node("Slice", ["p", "st", "en", "ax"], ["s"]),
        helper.make_node("Add", ["x", "s"], ["y"]),
    ]
    return _model(nodes, [x], [y], consts)


def free_width() -> ovlite.Model:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", "W"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", "W"])
    return _model([helper.make_node("Relu", ["x"], ["y"])], [x], [y])


def throughput(core, model, **extra) -> ovlite.CompiledModel:
    return core.compile_model(model, "CPU", {"PERFORMANCE_HINT": "THROUGHPUT", **extra})


def reason(compiled) -> str:
    return compiled.get_property("OVLITE_CONFIGURATION_REASON")


def run_queue(compiled, inputs: list[dict]) -> dict[int, list[np.ndarray]]:
    """Every input through an AsyncInferQueue of the optimal size; results by index."""
    queue = ovlite.AsyncInferQueue(compiled)
    results: dict[int, list[np.ndarray]] = {}

    def keep(request, index):
        assert index not in results, f"request {index} finished twice"
        results[index] = [tensor.data.copy() for tensor in request.output_tensors]

    queue.set_callback(keep)
    for index, feeds in enumerate(inputs):
        queue.start_async(feeds, index)
    queue.wait_all()
    return results


def test_small_static_batch_1_model_batches_queued_requests_and_says_so(core):
    model = ovlite.read_model(models.tiny_mlp())  # x: [1, 16]
    compiled = throughput(core, model)
    assert BATCHES in reason(compiled)
    assert compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS") >= 64
    assert compiled.get_property("ALLOW_AUTO_BATCHING") is True
    # the ports users see keep their shapes: a request still takes [1, 16] only
    assert compiled.input(0).partial_shape == ovlite.PartialShape([1, 16])
    with pytest.raises(ovlite.OvliteError, match="x"):
        compiled.create_infer_request().infer({"x": np.zeros((2, 16), np.float32)})


def test_every_request_gets_its_own_result_as_computed_alone(core):
    model = ovlite.read_model(models.tiny_mlp())
    compiled = throughput(core, model)
    rng = np.random.default_rng(1)
    inputs = [{"x": rng.standard_normal((1, 16), dtype=np.float32)} for _ in range(300)]
    alone = throughput(core, model, ALLOW_AUTO_BATCHING=False)
    expected = [alone.create_infer_request().infer(feeds)[0].copy() for feeds in inputs]
    results = run_queue(compiled, inputs)
    assert sorted(results) == list(range(300))
    for index, want in enumerate(expected):
        np.testing.assert_allclose(results[index][0], want, rtol=1e-5, atol=1e-6)


def test_requests_of_several_rows_come_back_with_their_rows(core):
    compiled = throughput(core, ovlite.read_model(models.tiny_mlp(batch=None)))
    assert BATCHES in reason(compiled)
    rng = np.random.default_rng(2)
    inputs = [{"x": rng.standard_normal((1 + i % 4, 16), dtype=np.float32)} for i in range(120)]
    results = run_queue(compiled, inputs)
    request = compiled.create_infer_request()
    for index, feeds in enumerate(inputs):
        assert results[index][0].shape == (feeds["x"].shape[0], 8)
        np.testing.assert_allclose(results[index][0], request.infer(feeds)[0], rtol=1e-5, atol=1e-6)


def test_a_failing_request_fails_alone(core):
    compiled = throughput(core, lookup())
    assert BATCHES in reason(compiled)
    queue = ovlite.AsyncInferQueue(compiled)
    outcome: dict[int, object] = {}

    def keep(request, index):
        outcome[index] = request.get_output_tensor(0).data.copy()

    queue.set_callback(keep)
    errors = []
    for index in range(200):
        ids = np.array([[99 if index == 57 else index % 10]], np.int64)
        try:  # the queue raises a failed request's error at the next call, which it refuses
            queue.start_async({"ids": ids}, index)
        except ovlite.InferenceError as exc:
            errors.append(exc)
            queue.start_async({"ids": ids}, index)
    try:
        queue.wait_all()
    except ovlite.InferenceError as exc:
        errors.append(exc)
    assert len(errors) == 1 and "idx=99" in str(errors[0])
    assert 57 not in outcome
    assert sorted(outcome) == [i for i in range(200) if i != 57]
    for index, value in outcome.items():
        np.testing.assert_array_equal(value, np.arange(40.0).reshape(10, 4)[[[index % 10]]])


def test_a_model_that_mixes_rows_is_not_batched(core):
    compiled = throughput(core, row_mixing())
    text = reason(compiled)
    assert BATCHES not in text and "rows are not independent" in text
    assert compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS") == 2 * compiled.get_property(
        "NUM_STREAMS"
    )
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    results = run_queue(compiled, [{"x": x}] * 20)
    for value in results.values():
        np.testing.assert_allclose(value[0], x - x.mean(axis=0))


def test_rows_that_mix_two_apart_are_caught_by_the_probe(core):
    compiled = throughput(core, shift_by_two())
    assert "rows are not independent" in reason(compiled)
    inputs = [{"x": np.full((1, 4), i, np.float32)} for i in range(200)]
    results = run_queue(compiled, inputs)
    for index in range(200):
        np.testing.assert_array_equal(results[index][0], inputs[index]["x"])


def test_an_output_whose_length_depends_on_the_values_is_not_batched(core):
    compiled = throughput(core, data_dependent_length())
    assert BATCHES not in reason(compiled) and "shape inference cannot tell" in reason(compiled)
    a = np.array([[1, 1, -1, -1]], np.float32)
    b = -np.ones((1, 4), np.float32)
    results = run_queue(compiled, [{"x": a if i % 2 == 0 else b} for i in range(200)])
    for index in range(200):
        assert results[index][0].shape == ((2,) if index % 2 == 0 else (0,))


def test_a_slow_model_is_not_batched_and_runs_its_own_static_shapes(core, monkeypatch):
    import ovlite_cpu.batching

    monkeypatch.setattr(ovlite_cpu.batching, "SHORT_RUN_S", 0.0)
    compiled = throughput(core, ovlite.read_model(models.tiny_mlp()))
    assert BATCHES not in reason(compiled) and "one inference takes" in reason(compiled)
    # refused, the streams run the model as written, not the copy with a dynamic dim 0
    assert compiled.device_model.sessions[0].get_inputs()[0].shape == [1, 16]
    assert compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS") == 2 * compiled.get_property(
        "NUM_STREAMS"
    )


def test_accuracy_mode_does_not_batch(core):
    compiled = throughput(
        core, ovlite.read_model(models.tiny_mlp()), EXECUTION_MODE_HINT="ACCURACY"
    )
    assert "not batched (EXECUTION_MODE_HINT=ACCURACY)" in reason(compiled)


def test_hint_num_requests_caps_the_requests_a_batched_model_asks_for(core):
    compiled = throughput(
        core, ovlite.read_model(models.tiny_mlp()), PERFORMANCE_HINT_NUM_REQUESTS=8
    )
    assert BATCHES in reason(compiled)
    assert compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS") == 8


def test_dynamic_dimensions_besides_the_batch_are_not_batched(core):
    text = reason(throughput(core, free_width()))
    assert BATCHES not in text and "dynamic dimensions besides the batch" in text


def test_allow_auto_batching_false_turns_it_off(core):
    compiled = throughput(core, ovlite.read_model(models.tiny_mlp()), ALLOW_AUTO_BATCHING=False)
    assert BATCHES not in reason(compiled)
    assert "not batched (ALLOW_AUTO_BATCHING)" in reason(compiled)
    assert compiled.get_property("ALLOW_AUTO_BATCHING") is False
    assert compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS") == 2 * compiled.get_property(
        "NUM_STREAMS"
    )


def test_latency_never_batches(core):
    compiled = core.compile_model(ovlite.read_model(models.tiny_mlp()), "CPU")
    assert "batch" not in reason(compiled)
