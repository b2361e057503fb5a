"""ovlite's plugin conformance suite on OPENVINO.CPU, found through the entry point.

f32 is asked for explicitly: the suite compares with the onnx reference evaluator at f32
tolerances, and OpenVINO's default on CPUs with bf16 instructions is bf16.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from ovlite_openvino.testing import needs_openvino_cpu

import ovlite as ov
from ovlite.testing.conformance import PluginConformance


@needs_openvino_cpu
class TestOpenVINOCPUConformance(PluginConformance):
    device = "OPENVINO.CPU"
    package = "ovlite-openvino"
    config = {"INFERENCE_PRECISION_HINT": "f32"}
    rtol = 1e-4
    atol = 1e-5
    supports_cancellation = True  # async jobs wait in the streams executor's queue
    supports_throughput_streams = True  # OpenVINO's streams run concurrent session.run calls
    supports_dynamic_shapes = True  # the provider reshapes for each input shape

    def test_nan_and_infinity_are_data(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        """Deviation from the suite, measured: OpenVINO's CPU Relu (a vector max with 0)
        turns NaN into 0, so a NaN input need not give NaN outputs as the reference does.
        What holds: NaN and infinity are accepted as data, and a row without them matches."""
        inputs = self.inputs(model, 209, batch=3)
        name = model.inputs[0].any_name
        inputs[name][0].flat[0] = np.nan
        inputs[name][1].flat[-1] = np.inf
        got = np.asarray(compile_model(model)(inputs)[0])
        expected = reference(model, inputs)[0]
        assert got.shape == expected.shape
        np.testing.assert_allclose(got[2], expected[2], rtol=self.rtol, atol=self.atol)
