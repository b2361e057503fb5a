"""Cases that raised raw Python exceptions now raise typed ovlite errors naming the bad value
and what was expected."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from _reliability import MLP, MLP_PROTO, make_core

import ovlite as ov
from ovlite.testing import SimulatedDevice


def core() -> ov.Core:
    return make_core(SimulatedDevice("SIMX"))


def fresh_request() -> ov.InferRequest:
    return core().compile_model(MLP, "SIMX").create_infer_request()


def queue_of(jobs: object) -> ov.AsyncInferQueue:
    return ov.AsyncInferQueue(core().compile_model(MLP, "SIMX"), jobs)  # type: ignore[arg-type]


def model_with_input_shape(shape: list[int]) -> ov.Model:
    proto = type(MLP_PROTO)()
    proto.CopyFrom(MLP_PROTO)
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    for dim, value in zip(dims, shape, strict=True):
        dim.ClearField("dim_param")
        dim.dim_value = value
    return ov.read_model(proto)


def model_without_outputs() -> None:
    proto = type(MLP_PROTO)()
    proto.CopyFrom(MLP_PROTO)
    del proto.graph.output[:]
    ov.read_model(proto)


CASES: dict[str, tuple[Callable[[], object], type[ov.OvliteError], str]] = {
    "results before any inference": (
        lambda: fresh_request().results,
        ov.NoResultsError,
        "no results yet",
    ),
    "output tensor before any inference": (
        lambda: fresh_request().get_output_tensor(0),
        ov.NoResultsError,
        "no results yet",
    ),
    "get_tensor(output) before any inference": (
        lambda: fresh_request().get_tensor("y"),
        ov.NoResultsError,
        "no results yet",
    ),
    "read_model with weights": (
        lambda: core().read_model("model.onnx", "model.bin"),
        ov.UnsupportedModelFormatError,
        "'model.bin'",
    ),
    "queue of 1.5 requests": (
        lambda: queue_of(1.5),
        ov.ArgumentError,
        "got 1.5",
    ),
    "queue of '4' requests": (
        lambda: queue_of("4"),
        ov.ArgumentError,
        "got '4'",
    ),
    "queue of None requests": (
        lambda: queue_of(None),
        ov.ArgumentError,
        "got None",
    ),
    "tensor with a negative dimension": (
        lambda: ov.Tensor(ov.Type.f32, [-1, 3]),
        ov.ArgumentError,
        "[-1, 3]",
    ),
    "input tensor too large to allocate": (
        lambda: (
            core()
            .compile_model(model_with_input_shape([2**40, 2**40]), "SIMX")
            .create_infer_request()
            .get_tensor("x")
        ),
        ov.InputShapeError,
        "too large",
    ),
    "register_plugin(object())": (
        lambda: core().register_plugin(object()),
        ov.PluginError,
        "ovlite_devices",
    ),
    "a model without outputs": (model_without_outputs, ov.ModelError, "no outputs"),
}


@pytest.mark.parametrize("case", CASES)
def test_each_case_raises_a_typed_error_naming_the_value(case: str) -> None:
    call, kind, named = CASES[case]
    with pytest.raises(kind) as info:
        call()
    assert named in str(info.value), str(info.value)


@pytest.mark.parametrize(
    "key",
    ["NUM_STREAMS", "INFERENCE_NUM_THREADS", "PERFORMANCE_HINT_NUM_REQUESTS", "AUTO_BATCH_TIMEOUT"],
)
def test_infinity_for_a_numeric_setting_is_a_property_value_error(key: str) -> None:
    with pytest.raises(ov.PropertyValueError) as info:
        core().compile_model(MLP, "SIMX", {key: math.inf})
    assert key in str(info.value) and "inf" in str(info.value) and "expected" in str(info.value)


def test_numpy_scalars_are_taken_like_python_ones() -> None:
    config = {"NUM_STREAMS": np.int64(2), "PERF_COUNT": np.False_}
    compiled = core().compile_model(MLP, "SIMX", config)
    assert compiled.get_property("NUM_STREAMS") == 2
    assert compiled.get_property("PERF_COUNT") is False


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_pipe_named_like_a_model_is_not_called_missing(tmp_path: Path) -> None:
    pipe = tmp_path / "model.onnx"
    os.mkfifo(pipe)
    with pytest.raises(ov.ModelError) as info:
        ov.read_model(pipe)
    assert "not a regular file" in str(info.value) and "model.onnx" in str(info.value)
