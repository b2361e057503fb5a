"""Results through every way of running equal what ONNX Runtime itself computes."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

import ovlite

#: Several streams, within the CPU's RANGE_FOR_STREAMS (1, logical CPUs): the core refuses more.
STREAMS = min(3, ovlite.Core().get_property("CPU", "RANGE_FOR_STREAMS")[1])

CONFIGS = {
    "latency": {},
    "throughput": {"PERFORMANCE_HINT": "THROUGHPUT"},
    "several-streams": {"NUM_STREAMS": STREAMS},
}


@pytest.fixture(scope="module", params=list(CONFIGS))
def config(request):
    return CONFIGS[request.param]


@pytest.fixture(scope="module")
def compiled_mlp(core, mlp, config):
    with core.compile_model(mlp, "CPU", config) as compiled:
        yield compiled


@pytest.fixture(scope="module")
def compiled_two(core, two, config):
    with core.compile_model(two, "CPU", config) as compiled:
        yield compiled


@pytest.fixture(scope="module")
def compiled_resnet(core, resnet):
    with core.compile_model(resnet, "CPU", {"NUM_STREAMS": 2}) as compiled:
        yield compiled


def mlp_input(seed: int, batch: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((batch, 16), dtype=np.float32)


def two_feed(seed: int, batch: int = 2) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "a": rng.standard_normal((batch, 4), dtype=np.float32),
        "b": rng.integers(-5, 5, (batch, 4), dtype=np.int64),
    }


def test_infer_matches_onnxruntime_and_the_reference(compiled_mlp, mlp, raw):
    x = mlp_input(1)
    result = compiled_mlp.create_infer_request().infer({"x": x})
    np.testing.assert_array_equal(result["y"], raw(mlp, {"x": x})[0])
    reference = ReferenceEvaluator(mlp.proto).run(None, {"x": x})[0]
    np.testing.assert_allclose(result["y"], reference, rtol=1e-5, atol=1e-5)


def test_call_matches_onnxruntime(compiled_mlp, mlp, raw):
    for batch in (1, 5):
        x = mlp_input(batch, batch)
        np.testing.assert_array_equal(compiled_mlp(x)["y"], raw(mlp, {"x": x})[0])


def test_two_inputs_and_two_outputs(compiled_two, two, raw):
    feed = two_feed(2)
    expected = raw(two, feed)
    result = compiled_two(feed)
    np.testing.assert_array_equal(result["sum"], expected[0])
    np.testing.assert_array_equal(result["scaled"], expected[1])
    np.testing.assert_array_equal(result["sum"], feed["a"] + feed["b"].astype(np.float32))
    listed = compiled_two.create_infer_request().infer([feed["a"], feed["b"]])
    np.testing.assert_array_equal(listed[1], expected[1])


def test_start_async_and_wait(compiled_two, two, raw):
    request = compiled_two.create_infer_request()
    feed = two_feed(3, batch=4)
    request.start_async(feed)
    request.wait()
    np.testing.assert_array_equal(request.get_output_tensor(1).data, raw(two, feed)[1])
    assert request.executed_on == "CPU"


def test_async_infer_queue_with_many_requests(compiled_mlp, mlp, raw):
    inputs = [mlp_input(seed, batch=1 + seed % 4) for seed in range(200)]
    results: dict[int, np.ndarray] = {}
    queue = ovlite.AsyncInferQueue(compiled_mlp)
    assert len(queue) == compiled_mlp.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")
    queue.set_callback(
        lambda request, index: results.__setitem__(index, request.results["y"].copy())
    )
    for index, x in enumerate(inputs):
        queue.start_async({"x": x}, userdata=index)
    queue.wait_all()
    assert len(results) == len(inputs)
    for index, x in enumerate(inputs):
        np.testing.assert_array_equal(results[index], raw(mlp, {"x": x})[0])


def test_asyncio(compiled_two, two, raw):
    feeds = [two_feed(seed, batch=1 + seed % 3) for seed in range(20)]

    async def main():
        request = compiled_two.create_infer_request()
        first = await request.infer_async(feeds[0])
        rest = await asyncio.gather(*(compiled_two.infer_async(feed) for feed in feeds))
        return first, rest

    first, rest = asyncio.run(main())
    np.testing.assert_array_equal(first["sum"], raw(two, feeds[0])[0])
    for feed, result in zip(feeds, rest, strict=True):
        np.testing.assert_array_equal(result["scaled"], raw(two, feed)[1])


def test_threads_calling_in_parallel(compiled_mlp, mlp, raw):
    from concurrent.futures import ThreadPoolExecutor

    inputs = [mlp_input(seed) for seed in range(64)]
    with ThreadPoolExecutor(4) as pool:
        outputs = list(pool.map(lambda x: compiled_mlp(x)["y"], inputs))
    for x, y in zip(inputs, outputs, strict=True):
        np.testing.assert_array_equal(y, raw(mlp, {"x": x})[0])


def test_resnet18_every_way(compiled_resnet, resnet, raw):
    images = [
        np.random.default_rng(seed).standard_normal((1 + seed % 2, 3, 64, 64), dtype=np.float32)
        for seed in range(6)
    ]
    expected = [raw(resnet, {"input": image})[0] for image in images]

    def check(got, want):  # the optimized graph may fuse ops differently from a fresh session
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)

    check(compiled_resnet(images[0])["logits"], expected[0])
    check(compiled_resnet.create_infer_request().infer(images[1])[0], expected[1])
    queue = ovlite.AsyncInferQueue(compiled_resnet)
    got: dict[int, np.ndarray] = {}
    queue.set_callback(lambda request, i: got.__setitem__(i, request.results[0].copy()))
    for index, image in enumerate(images):
        queue.start_async(image, userdata=index)
    queue.wait_all()
    for index in range(len(images)):
        check(got[index], expected[index])
    result = asyncio.run(compiled_resnet.infer_async(images[2]))
    check(result["logits"], expected[2])


def _offset_model() -> ovlite.Model:
    """y = x + offset, with a 16 kB offset: big enough to be shared, and Add does not
    prepack it, so sessions read the shared buffer itself."""
    offset = numpy_helper.from_array(np.zeros(4096, np.float32), "offset")
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "offset"], ["y"], name="add")],
        "offset",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4096])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4096])],
        [offset],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    return ovlite.read_model(model)


def test_streams_share_one_copy_of_the_weights(core):
    """Every stream's session reads the very buffer the compiled model holds: change the
    weight in place and every session's output moves with it."""
    compiled = core.compile_model(_offset_model(), "CPU", {"NUM_STREAMS": STREAMS})
    shared = compiled.device_model.weights
    assert len(compiled.device_model.sessions) == STREAMS and set(shared.arrays) == {"offset"}
    x = np.ones((2, 4096), np.float32)
    for session in compiled.device_model.sessions:
        np.testing.assert_array_equal(session.run(None, {"x": x})[0], x)
    shared.arrays["offset"] += 2.0
    for session in compiled.device_model.sessions:
        np.testing.assert_array_equal(session.run(None, {"x": x})[0], x + 2.0)
    np.testing.assert_array_equal(compiled(x)["y"], x + 2.0)
    compiled.close()


def test_resnet18_weights_are_shared(compiled_resnet, resnet):
    shared = compiled_resnet.device_model.weights
    big = [t for t in resnet.proto.graph.initializer if t.ByteSize() > 4096]
    assert len(shared) >= len(big) // 2  # the optimized graph fuses some of them
    assert shared.nbytes > 0.95 * sum(t.ByteSize() for t in big)


def test_input_tensors_are_copied_unless_shared(compiled_mlp, mlp, raw):
    request = compiled_mlp.create_infer_request()
    x = mlp_input(9, batch=1)
    first = request.infer(x)["y"].copy()
    x[:] = 0
    np.testing.assert_array_equal(first, raw(mlp, {"x": mlp_input(9, batch=1)})[0])
