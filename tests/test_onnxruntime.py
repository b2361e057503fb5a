"""Shared ONNX Runtime plumbing (ovlite/onnxruntime.py) as every ORT-backed device uses it."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import ovlite as ov

pytestmark = pytest.mark.skipif(
    "CPU" not in ov.Core().available_devices, reason="the ovlite-cpu plugin is not installed here"
)


@pytest.fixture
def core() -> ov.Core:
    return ov.Core()


def relu_model(elem_type: int = TensorProto.FLOAT) -> onnx.ModelProto:
    """Saved with onnx's newest IR version (its default), opset 17."""
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "relu",
        [helper.make_tensor_value_info("x", elem_type, [1, 4])],
        [helper.make_tensor_value_info("y", elem_type, [1, 4])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("device", ["CPU", "HETERO:CPU"])
def test_a_model_with_onnxs_newest_ir_version_compiles(core: ov.Core, device: str) -> None:
    """onnx stamps its newest IR version, which an older ONNX Runtime refuses to read although
    the model needs nothing new: ovlite lowers the number then."""
    compiled = core.compile_model(relu_model(), device)
    x = np.array([[-1.0, 2.0, -3.0, 4.0]], np.float32)
    np.testing.assert_array_equal(compiled(x)[0], np.maximum(x, 0))


def test_the_ir_version_is_lowered_only_when_the_model_needs_nothing_newer() -> None:
    from ovlite.onnxruntime import _with_readable_ir_version

    error = "... Unsupported model IR version: 14, max supported IR version: 13"
    lowered = _with_readable_ir_version(relu_model().SerializeToString(), error)
    assert lowered is not None and onnx.ModelProto.FromString(lowered).ir_version == 13
    newer_type = relu_model(TensorProto.FLOAT4E2M1).SerializeToString()
    assert _with_readable_ir_version(newer_type, error) is None
    assert _with_readable_ir_version(relu_model().SerializeToString(), "another error") is None


class _RecordedStop:
    """A stand-in for the watchdog's stop signal: keeps what the runner registers, and can
    fire it at once when ``expired`` (a deadline that passed before the run began)."""

    def __init__(self, expired: bool = False) -> None:
        self.expired = expired
        self.stops: list = []

    def on_stop(self, stop) -> None:
        self.stops.append(stop)
        if self.expired:
            stop()


def test_a_stop_that_fires_after_its_run_never_stops_a_later_run() -> None:
    """Runs under a timeout reuse the RunOptions of runs that ended unstopped: the watchdog
    may call a run's stop after the run returned, and that must not reach the next run."""
    import onnxruntime as ort

    from ovlite.models import tiny_mlp
    from ovlite.onnxruntime import stoppable_session_runner

    proto = tiny_mlp()
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    outputs = [output.name for output in session.get_outputs()]
    x = np.random.default_rng(7).standard_normal((1, 16), dtype=np.float32)
    expected = session.run(outputs, {"x": x})[0]
    run = stoppable_session_runner(outputs, ["x"], {"device": "CPU"})

    first = _RecordedStop()
    run(session._sess, [x], first)
    first.stops[0]()  # the deadline passed just after the run returned
    for _ in range(3):  # the next runs (reusing the first run's options) run to the end
        result, _ = run(session._sess, [x], _RecordedStop())
        np.testing.assert_allclose(result[0], expected, rtol=1e-6)

    with pytest.raises(Exception, match="terminate"):  # a stopped run is stopped ...
        run(session._sess, [x], _RecordedStop(expired=True))
    result, _ = run(session._sess, [x], _RecordedStop())  # ... and its options not reused
    np.testing.assert_allclose(result[0], expected, rtol=1e-6)
