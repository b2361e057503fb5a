"""``InferRequest.infer``'s fast path: a call whose inputs keep the names, element types and
shapes of the request's previous copying call skips checking them again.  Whatever changes
takes the checked path, so every error and every sharing rule stays as without it.

Each test runs on the STANDIN device and on the real CPU plugin (ONNX Runtime).
"""

from __future__ import annotations

import numpy as np
import pytest

import ovlite as ov
from ovlite import models


@pytest.fixture(params=["STANDIN", "CPU"])
def compiled(request: pytest.FixtureRequest, core: ov.Core) -> ov.CompiledModel:
    return core.compile_model(ov.read_model(models.two_inputs()), request.param)


def data(seed: int, batch: int = 2) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "a": rng.standard_normal((batch, 4)).astype(np.float32),
        "b": rng.integers(-5, 5, (batch, 4)).astype(np.int64),
    }


def expected(inputs: dict[str, np.ndarray]) -> np.ndarray:
    return inputs["a"] + inputs["b"].astype(np.float32)


def warmed(compiled: ov.CompiledModel, inputs: dict[str, np.ndarray]) -> ov.InferRequest:
    """A request whose next call with arrays like ``inputs`` takes the fast path."""
    request = compiled.create_infer_request()
    request.infer(inputs)
    request.infer(inputs)
    assert request._same is not None  # the tests below exercise the fast path
    return request


def test_same_inputs_give_each_calls_results(compiled: ov.CompiledModel) -> None:
    request = warmed(compiled, data(0))
    for seed in range(1, 5):
        inputs = data(seed)
        np.testing.assert_allclose(request.infer(inputs)["sum"], expected(inputs))
        np.testing.assert_array_equal(request.get_tensor("a").data, inputs["a"])


def test_an_array_changed_between_calls_gives_the_new_result(compiled: ov.CompiledModel) -> None:
    inputs = data(1)
    request = warmed(compiled, inputs)
    first = request.infer(inputs)["sum"].copy()
    inputs["a"] += 10.0  # the same array, new values
    np.testing.assert_allclose(request.infer(inputs)["sum"], first + 10.0, rtol=1e-6)


def test_results_are_fresh_arrays_on_the_fast_path(compiled: ov.CompiledModel) -> None:
    one, two = data(2), data(3)
    request = warmed(compiled, one)
    kept = request.infer(one)
    kept_sum = kept["sum"]
    tensor = request.get_output_tensor(0).data
    request.infer(two)
    np.testing.assert_allclose(kept["sum"], expected(one))
    np.testing.assert_allclose(kept_sum, expected(one))
    np.testing.assert_allclose(tensor, expected(one))
    np.testing.assert_allclose(request.results["sum"], expected(two))


def test_inputs_are_copied_not_bound_on_the_fast_path(compiled: ov.CompiledModel) -> None:
    inputs = data(4)
    request = warmed(compiled, inputs)
    request.infer(inputs)
    own = request.get_tensor("a").data
    assert not np.shares_memory(own, inputs["a"])
    inputs["a"][:] = 0.0  # the caller may reuse its array at once
    np.testing.assert_array_equal(request.get_tensor("a").data, data(4)["a"])


@pytest.mark.parametrize(
    "change, error, words",
    [
        (lambda d: {**d, "a": d["a"].astype(np.complex64)}, ov.InputTypeError, "does not convert"),
        (lambda d: {**d, "b": d["b"].astype(np.float32)}, ov.InputTypeError, "does not convert"),
        (lambda d: {**d, "a": d["a"][:, :3].copy()}, ov.InputShapeError, "expects shape"),
        (lambda d: {**d, "a": np.zeros((3, 4), np.float32)}, ov.InputShapeError, "'batch'"),
        (lambda d: {"a": d["a"], "c": d["b"]}, ov.InputNameError, "'c'"),
        (lambda d: {**d, "b": d["b"].tolist()}, ov.InputTypeError, "numpy array"),
        (lambda d: [d["a"]] * 3, ov.MissingInputError, "3 inputs"),
    ],
    ids=["type-a", "type-b", "shape", "shared-dimension", "name", "list-value", "count"],
)
def test_a_change_after_same_calls_raises_the_typed_error(
    compiled: ov.CompiledModel, change: object, error: type, words: str
) -> None:
    inputs = data(5)
    request = warmed(compiled, inputs)
    with pytest.raises(error) as info:
        request.infer(change(inputs))  # type: ignore[operator]
    assert words in str(info.value)
    assert not request.is_busy
    np.testing.assert_allclose(request.infer(inputs)["sum"], expected(inputs))
    assert request._same is not None


def test_a_safe_conversion_or_a_new_batch_takes_the_checked_path(
    compiled: ov.CompiledModel,
) -> None:
    inputs = data(6)
    request = warmed(compiled, inputs)
    wide = {"a": inputs["a"].astype(np.float64), "b": inputs["b"].astype(np.int32)}
    np.testing.assert_allclose(request.infer(wide)["sum"], expected(inputs), rtol=1e-6)
    assert request._same is None  # converted values are not compared against
    bigger = data(7, batch=5)
    np.testing.assert_allclose(request.infer(bigger)["sum"], expected(bigger))
    np.testing.assert_allclose(request.infer(bigger)["sum"], expected(bigger))
    assert request.get_tensor("a").shape == (5, 4)


def test_fewer_keys_keep_the_other_input_as_before(compiled: ov.CompiledModel) -> None:
    inputs = data(8)
    request = warmed(compiled, inputs)
    only_a = {"a": inputs["a"] + 1.0}
    for _ in range(3):
        np.testing.assert_allclose(request.infer(only_a)["sum"], expected(inputs) + 1.0)
    np.testing.assert_allclose(request.infer(inputs)["sum"], expected(inputs))


def test_share_inputs_binds_after_same_calls_and_copying_calls_copy_again(
    compiled: ov.CompiledModel,
) -> None:
    inputs = data(9)
    request = warmed(compiled, inputs)
    shared = data(10)
    np.testing.assert_allclose(request.infer(shared, share_inputs=True)["sum"], expected(shared))
    assert np.shares_memory(request.get_tensor("a").data, shared["a"])
    before = shared["a"].copy()
    request.infer(inputs)  # copies into the request's own memory, never into the caller's
    request.infer(inputs)
    np.testing.assert_array_equal(shared["a"], before)
    assert not np.shares_memory(request.get_tensor("a").data, shared["a"])
    np.testing.assert_allclose(request.results["sum"], expected(inputs))


def test_set_tensor_and_tensor_views_between_same_calls(compiled: ov.CompiledModel) -> None:
    inputs = data(11)
    request = warmed(compiled, inputs)
    mine = ov.Tensor(data(12)["a"], shared_memory=True)
    request.set_tensor("a", mine)
    got = request.infer({"b": inputs["b"]})["sum"]
    np.testing.assert_allclose(got, expected({"a": data(12)["a"], "b": inputs["b"]}))
    request.infer(inputs)
    request.infer(inputs)
    np.testing.assert_array_equal(mine.data, data(12)["a"])  # never written into
    # the request's own tensor, written by the caller, is what an inference without data reads
    view = request.get_tensor("a")
    view.data[:] = 3.0
    np.testing.assert_allclose(request.infer()["sum"], 3.0 + inputs["b"])
    # a tensor given a new shape is bound anew
    view.shape = [3, 4]
    view.data[:] = 1.0
    with pytest.raises(ov.InputShapeError):
        request.infer({"b": inputs["b"]})  # 'batch' is 3 for a and 2 for b
    np.testing.assert_allclose(request.infer(inputs)["sum"], expected(inputs))


def test_one_array_for_a_one_input_model(core: ov.Core) -> None:
    compiled = core.compile_model(ov.read_model(models.tiny_mlp()), "CPU")
    request = compiled.create_infer_request()
    rng = np.random.default_rng(13)
    x = rng.standard_normal((1, 16)).astype(np.float32)
    request.infer(x)
    assert request._same_one is not None
    for _ in range(3):
        x = rng.standard_normal((1, 16)).astype(np.float32)
        np.testing.assert_allclose(request.infer(x)[0], compiled(x)[0], rtol=1e-6)
    with pytest.raises(ov.InputShapeError):
        request.infer(np.zeros((2, 16), np.float32))
    with pytest.raises(ov.InputTypeError):
        request.infer(np.zeros((1, 16), np.complex64))
    np.testing.assert_allclose(request.infer(x)[0], compiled(x)[0], rtol=1e-6)


def test_start_async_and_a_queue_with_same_inputs(compiled: ov.CompiledModel) -> None:
    request = warmed(compiled, data(14))
    for seed in range(15, 18):
        inputs = data(seed)
        request.start_async(inputs)
        request.wait()
        np.testing.assert_allclose(request.results["sum"], expected(inputs))
    queue = ov.AsyncInferQueue(compiled, 2)
    got: dict[int, np.ndarray] = {}
    queue.set_callback(lambda r, seed: got.__setitem__(seed, r.results["sum"].copy()))
    for seed in range(20, 30):
        queue.start_async(data(seed), seed)
    queue.wait_all()
    for seed in range(20, 30):
        np.testing.assert_allclose(got[seed], expected(data(seed)))
    with pytest.raises(ov.InputShapeError):
        queue.start_async({"a": np.zeros((2, 3), np.float32), "b": data(0)["b"]})
    queue.wait_all()
