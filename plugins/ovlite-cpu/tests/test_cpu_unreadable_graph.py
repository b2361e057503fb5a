"""A model whose optimized graph ONNX Runtime writes but cannot read back still compiles.

ONNX Runtime inlines a model's local functions while it optimizes; when an ``If`` branch calls
the same function twice, both copies get the same initializer names, and the saved graph is
refused on load ("initializer name is not unique").  Silero VAD is such a model.  The CPU
device then lets each stream optimize the original model itself, and says so.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper
from ovlite_cpu.compiled import UNSHARED_NOTE

import ovlite

WIDTH = 64


def function_called_twice_in_a_branch() -> onnx.ModelProto:
    """``out = If(cond, F(F(x)), F(x))`` with ``F(x) = x + c``, ``c`` a Constant in ``F``."""
    constant = helper.make_tensor("value", TensorProto.FLOAT, [WIDTH], np.arange(WIDTH))
    add_constant = helper.make_function(
        "local",
        "F",
        ["x"],
        ["y"],
        [
            helper.make_node("Constant", [], ["c"], value=constant),
            helper.make_node("Add", ["x", "c"], ["y"]),
        ],
        opset_imports=[helper.make_opsetid("", 17)],
    )

    def branch(name: str, calls: int) -> onnx.GraphProto:
        names = ["x"] + [f"{name}{i}" for i in range(calls)]
        nodes = [
            helper.make_node("F", [names[i]], [names[i + 1]], domain="local") for i in range(calls)
        ]
        output = helper.make_tensor_value_info(names[-1], TensorProto.FLOAT, [1, WIDTH])
        return helper.make_graph(nodes, name, [], [output])

    graph = helper.make_graph(
        [
            helper.make_node(
                "If", ["cond"], ["out"], then_branch=branch("t", 2), else_branch=branch("e", 1)
            )
        ],
        "function_twice",
        [
            helper.make_tensor_value_info("cond", TensorProto.BOOL, []),
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, WIDTH]),
        ],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, WIDTH])],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("local", 1)]
    return helper.make_model(graph, opset_imports=opsets, functions=[add_constant], ir_version=8)


@pytest.fixture(scope="module")
def model_bytes() -> bytes:
    return function_called_twice_in_a_branch().SerializeToString()


def raw_results(model_bytes: bytes, feeds: dict) -> np.ndarray:
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)[0]


@pytest.mark.parametrize("hint", ["LATENCY", "THROUGHPUT"])
def test_compiles_and_every_stream_answers_as_onnx_runtime(
    core: ovlite.Core, model_bytes: bytes, hint: str
) -> None:
    compiled = core.compile_model(model_bytes, "CPU", {"PERFORMANCE_HINT": hint})
    assert UNSHARED_NOTE in compiled.get_property("OVLITE_CONFIGURATION_REASON")
    x = np.random.default_rng(0).standard_normal((1, WIDTH)).astype(np.float32)
    queue = ovlite.AsyncInferQueue(compiled, 4)
    answers: dict[int, np.ndarray] = {}
    queue.set_callback(lambda request, i: answers.__setitem__(i, request.results["out"].copy()))
    for i in range(8):
        queue.start_async({"cond": np.array(i % 2 == 0), "x": x}, i)
    queue.wait_all()
    for i in range(8):
        expected = raw_results(model_bytes, {"cond": np.array(i % 2 == 0), "x": x})
        np.testing.assert_allclose(answers[i], expected, rtol=1e-6)
    compiled.close()


def test_a_cached_entry_that_cannot_be_read_back_still_compiles(
    core: ovlite.Core, model_bytes: bytes, tmp_path
) -> None:
    config = {"CACHE_DIR": str(tmp_path)}
    x = np.ones((1, WIDTH), np.float32)
    expected = raw_results(model_bytes, {"cond": np.array(True), "x": x})
    for _ in range(2):  # writes the cache entry, then reads it
        compiled = core.compile_model(model_bytes, "CPU", config)
        got = compiled({"cond": np.array(True), "x": x})["out"]
        np.testing.assert_allclose(got, expected, rtol=1e-6)
        compiled.close()
