"""InferRequest details as openvino has them: a request tensor given a new shape, batched
inputs from several tensors (set_tensors), outputs written into the caller's tensors,
share_outputs, get_compiled_model, release_memory and ProfilingInfo's types."""

from __future__ import annotations

import datetime

import numpy as np
import onnx
import pytest

import ovlite as ov
from ovlite import models

IN, OUT = 16, 8  # tiny_mlp's feature sizes


def _batch_of(count: int, start: float = 0.0) -> list[ov.Tensor]:
    return [ov.Tensor(np.full((1, IN), start + i, np.float32)) for i in range(count)]


@pytest.fixture(scope="module")
def dynamic_mlp() -> onnx.ModelProto:
    return models.tiny_mlp(batch=None)


def _compile(proto: onnx.ModelProto, device: str = "CPU", layout: str | None = None):
    model = ov.read_model(proto)
    if layout is not None:
        ov.layout_helpers.set_layout(model.input(0), ov.Layout(layout))
    return ov.Core().compile_model(model, device)


@pytest.mark.parametrize("device", ["CPU", "MULTI:CPU"])
def test_giving_the_request_input_tensor_a_shape_reallocates_it_for_the_inference(
    dynamic_mlp, device
) -> None:
    compiled = _compile(dynamic_mlp, device)
    request = compiled.create_infer_request()
    tensor = request.get_input_tensor()
    assert tensor.shape == [0, IN]
    tensor.shape = [2, IN]
    tensor.data[:] = 1.0
    results = request.infer()
    assert results[0].shape == (2, OUT)
    np.testing.assert_array_equal(results[0], compiled(np.ones((2, IN), np.float32))[0])
    assert request.get_input_tensor().shape == [2, IN]
    tensor.set_shape([3, IN])
    tensor.data[:] = 2.0
    assert request.infer()[0].shape == (3, OUT)
    assert request.get_output_tensor().shape == [3, OUT]


def test_a_static_input_given_another_shape_fails_the_inference_naming_it() -> None:
    request = _compile(models.tiny_mlp(batch=2)).create_infer_request()
    request.get_input_tensor().shape = [3, IN]  # accepted, as in openvino
    with pytest.raises(RuntimeError, match=r"'x' expects shape \[2,16\], got \[3, 16\]"):
        request.infer()


def test_a_callers_tensor_bound_with_set_tensor_is_read_at_each_inference(dynamic_mlp) -> None:
    compiled = _compile(dynamic_mlp)
    request = compiled.create_infer_request()
    mine = ov.Tensor(np.ones((1, IN), np.float32))
    request.set_tensor("x", mine)
    assert request.infer()[0].shape == (1, OUT)
    mine.shape = [4, IN]
    mine.data[:] = 3.0
    np.testing.assert_array_equal(request.infer()[0], compiled(mine.data)[0])
    # data passed to infer wins over the tensor bound before
    assert request.infer(np.zeros((2, IN), np.float32))[0].shape == (2, OUT)


def test_set_tensors_gathers_one_tensor_per_batch_item_at_each_inference(dynamic_mlp) -> None:
    compiled = _compile(dynamic_mlp, layout="NC")
    request = compiled.create_infer_request()
    items = _batch_of(3)
    request.set_tensors("x", items)
    expected = compiled(np.concatenate([t.data for t in items]))[0]
    np.testing.assert_array_equal(request.infer()[0], expected)
    items[0].data[:] = 5.0  # written after set_tensors: used by the next inference
    np.testing.assert_array_equal(
        request.infer()[0][0], compiled(np.full((1, IN), 5.0, np.float32))[0][0]
    )
    with pytest.raises(RuntimeError, match="set_tensors"):
        request.get_tensor("x")
    request.set_tensors(compiled.input(0), _batch_of(2))  # by port
    assert request.infer()[0].shape == (2, OUT)
    request.set_input_tensors(_batch_of(4))  # the only input
    assert request.infer()[0].shape == (4, OUT)
    request.set_input_tensors(0, _batch_of(1))
    assert request.infer()[0].shape == (1, OUT)
    request.set_tensor("x", ov.Tensor(np.ones((2, IN), np.float32)))  # one tensor again
    assert request.get_tensor("x").shape == [2, IN]


def test_set_tensors_on_a_static_batch_takes_that_many_tensors() -> None:
    compiled = _compile(models.tiny_mlp(batch=2), layout="NC")
    request = compiled.create_infer_request()
    request.set_tensors("x", _batch_of(2))
    assert request.infer()[0].shape == (2, OUT)
    with pytest.raises(RuntimeError, match=r"batch is 2 .* got 3 tensors"):
        request.set_tensors("x", _batch_of(3))


@pytest.mark.parametrize(
    ("layout", "key", "tensors", "words"),
    [
        (None, "x", _batch_of(2), "batch dimension 'N'.*no layout"),
        ("NC", "x", [], "at least one tensor"),
        ("NC", "x", [ov.Tensor(np.ones((2, IN), np.float32))], r"shape \[2, 16\].*length 1"),
        (
            "NC",
            "x",
            [ov.Tensor(np.ones((1, IN), np.float32)), ov.Tensor(np.ones((1, 4), np.float32))],
            r"tensor 1 is f32 \[1, 4\]",
        ),
        ("NC", "x", np.ones((2, IN), np.float32), "list of tensors"),
        ("NC", "y", _batch_of(2), "'y' is an output"),
        ("NC", "nope", _batch_of(2), "no input named 'nope'"),
    ],
)
def test_set_tensors_refuses_what_openvino_refuses(dynamic_mlp, layout, key, tensors, words):
    request = _compile(dynamic_mlp, layout=layout).create_infer_request()
    with pytest.raises(RuntimeError, match=words):
        request.set_tensors(key, tensors)


@pytest.mark.parametrize("asynchronous", [False, True])
def test_set_output_tensor_receives_the_output(dynamic_mlp, asynchronous) -> None:
    compiled = _compile(dynamic_mlp)
    request = compiled.create_infer_request()
    out = ov.Tensor(np.zeros((2, OUT), np.float32), shared_memory=True)
    request.set_output_tensor(out)
    x = np.ones((2, IN), np.float32)
    if asynchronous:
        request.start_async(x)
        request.wait()
    else:
        request.infer(x)
    np.testing.assert_array_equal(out.data, compiled(x)[0])
    assert request.get_output_tensor() is out
    assert np.shares_memory(request.results[0], out.data)


def test_an_output_tensor_takes_the_outputs_shape_if_it_can(dynamic_mlp) -> None:
    request = _compile(dynamic_mlp).create_infer_request()
    owned = ov.Tensor(ov.Type.f32, [1, OUT])
    request.set_output_tensors({"y": owned})
    request.infer(np.ones((3, IN), np.float32))
    assert owned.shape == [3, OUT]
    borrowed = ov.Tensor(np.zeros((2, OUT), np.float32), shared_memory=True)
    request.set_output_tensor(0, borrowed)
    with pytest.raises(RuntimeError, match=r"output 'y' came out \[3, 8\]"):
        request.infer(np.ones((3, IN), np.float32))
    request.start_async(np.ones((3, IN), np.float32))
    with pytest.raises(RuntimeError, match=r"output 'y' came out \[3, 8\]"):
        request.wait()


@pytest.mark.parametrize(
    ("tensor", "words"),
    [
        (ov.Tensor(ov.Type.i32, [2, OUT]), "output 'y' is f32; the tensor set for it is i32"),
        (ov.Tensor(ov.Type.f32, [2, 9]), r"has shape \[\?,8\]; the tensor .* \[2, 9\]"),
        ([1.0], "ovlite.Tensor objects"),
    ],
)
def test_set_output_tensor_refuses_a_tensor_that_cannot_hold_the_output(
    dynamic_mlp, tensor, words
) -> None:
    request = _compile(dynamic_mlp).create_infer_request()
    with pytest.raises(RuntimeError, match=words):
        request.set_output_tensor(tensor)


def test_set_tensor_with_an_output_name_sets_the_output_tensor(dynamic_mlp) -> None:
    request = _compile(dynamic_mlp).create_infer_request()
    out = ov.Tensor(ov.Type.f32, [1, OUT])
    request.set_tensor("y", out)
    request.infer(np.ones((1, IN), np.float32))
    assert request.get_tensor("y") is out and out.data.any()


def test_share_outputs_decides_whether_results_are_the_requests_memory(dynamic_mlp) -> None:
    compiled = _compile(dynamic_mlp)
    request = compiled.create_infer_request()
    x = np.ones((2, IN), np.float32)
    shared = request.infer(x, share_outputs=True)
    assert np.shares_memory(shared[0], request.get_output_tensor().data)
    kept = request.infer(x)
    assert not np.shares_memory(kept[0], request.get_output_tensor().data)
    before = kept[0].copy()
    request.get_output_tensor().data[:] = 0
    request.infer(np.zeros((2, IN), np.float32))
    np.testing.assert_array_equal(kept[0], before)
    np.testing.assert_array_equal(compiled(x, share_outputs=True)[0], before)


def test_get_compiled_model_and_release_memory(dynamic_mlp) -> None:
    compiled = _compile(dynamic_mlp)
    request = compiled.create_infer_request()
    assert request.get_compiled_model() is compiled
    x = np.ones((1, IN), np.float32)
    before = request.infer(x)[0].copy()
    compiled.release_memory()
    np.testing.assert_array_equal(request.infer(x)[0], before)


def test_profiling_info_times_are_timedeltas_and_status_an_enum(dynamic_mlp) -> None:
    compiled = ov.Core().compile_model(dynamic_mlp, "CPU", {"PERF_COUNT": True})
    request = compiled.create_infer_request()
    request.infer(np.ones((1, IN), np.float32))
    info = request.get_profiling_info()
    assert info and all(isinstance(i.real_time, datetime.timedelta) for i in info)
    assert all(i.status == ov.ProfilingInfo.Status.EXECUTED for i in info)
    assert all(i.real_time_us == i.real_time / datetime.timedelta(microseconds=1) for i in info)
    made = ov.ProfilingInfo("conv", "Conv", 12.0, 3, "CPUExecutionProvider")
    assert made.real_time == datetime.timedelta(microseconds=12) and made.cpu_time_us == 3.0
    made.status = "NOT_RUN"
    assert made.status is ov.ProfilingInfo.Status.NOT_RUN and int(made.status) == 0
    assert repr(made.status) == "<Status.NOT_RUN: 0>" and str(made.status) == "Status.NOT_RUN"
    with pytest.raises(RuntimeError, match="timedelta or a number of microseconds"):
        made.real_time = "12us"
    with pytest.raises(RuntimeError, match="EXECUTED"):
        made.status = "DONE"


def test_request_details_match_openvino(dynamic_mlp, tmp_path) -> None:
    openvino = pytest.importorskip("openvino")
    path = tmp_path / "mlp.onnx"
    onnx.save(dynamic_mlp, path)
    runs = {}
    for ovm in (ov, openvino):
        core = ovm.Core()
        config = {"INFERENCE_PRECISION_HINT": "f32"} if ovm is openvino else {}
        model = core.read_model(str(path))
        ovm.layout_helpers.set_layout(model.input(0), ovm.Layout("NC"))
        compiled = core.compile_model(model, "CPU", config)
        request = compiled.create_infer_request()
        seen = []
        tensor = request.get_input_tensor()
        seen.append(list(tensor.shape))
        tensor.shape = [2, IN]
        tensor.data[:] = 1.0
        seen.append(request.infer()[0].copy())
        items = [ovm.Tensor(np.full((1, IN), i, np.float32)) for i in range(3)]
        request.set_tensors("x", items)
        seen.append(request.infer()[0].copy())
        out = ovm.Tensor(np.zeros((3, OUT), np.float32), shared_memory=True)
        request.set_output_tensor(out)
        request.infer()
        seen.append(out.data.copy())
        results = request.infer(share_outputs=True)
        seen.append(np.shares_memory(results[0], out.data))
        results = request.infer(share_outputs=False)
        seen.append(np.shares_memory(results[0], out.data))
        seen.append(request.get_compiled_model().outputs[0].any_name)
        seen.append(sorted(ovm.ProfilingInfo.Status.__members__))
        seen.append(type(ovm.ProfilingInfo().real_time))
        runs[ovm] = seen
    ours, theirs = runs[ov], runs[openvino]
    assert len(ours) == len(theirs)
    for mine, reference in zip(ours, theirs, strict=True):
        if isinstance(mine, np.ndarray):
            np.testing.assert_allclose(mine, reference, rtol=1e-5, atol=1e-5)
        else:
            assert mine == reference


@pytest.mark.parametrize("share_inputs", [True, False])
def test_a_read_only_input_is_copied_even_when_shared(dynamic_mlp, share_inputs) -> None:
    compiled = _compile(dynamic_mlp)
    request = compiled.create_infer_request()
    frozen = np.ones((2, IN), np.float32)
    frozen.setflags(write=False)
    results = request.infer(frozen, share_inputs=share_inputs)
    np.testing.assert_array_equal(results[0], compiled(frozen)[0])
    assert not np.shares_memory(request.get_input_tensor().data, frozen)
    writable = np.ones((2, IN), np.float32)
    request.infer(writable, share_inputs=share_inputs)
    assert np.shares_memory(request.get_input_tensor().data, writable) is share_inputs


@pytest.mark.parametrize("value", [2.0, 2, np.float32(2.0)])
def test_a_python_number_feeds_a_scalar_input(value) -> None:
    import onnx.helper as oh

    graph = oh.make_graph(
        [oh.make_node("Relu", ["s"], ["r"])],
        "scalar",
        [oh.make_tensor_value_info("s", onnx.TensorProto.FLOAT, [])],
        [oh.make_tensor_value_info("r", onnx.TensorProto.FLOAT, [])],
    )
    proto = oh.make_model(graph, opset_imports=[oh.make_opsetid("", 18)], ir_version=9)
    request = _compile(proto).create_infer_request()
    assert request.infer(value)[0] == 2.0 and request.infer({"s": value})[0] == 2.0


def test_inputs_of_an_unknown_kind_are_a_type_error_in_openvinos_words() -> None:
    request = _compile(models.two_inputs()).create_infer_request()
    with pytest.raises(TypeError, match="Incompatible inputs of type: object"):
        request.infer(object())
