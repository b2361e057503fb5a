"""ovlite's plugin conformance suite on CPU, found through the ``ovlite-cpu`` entry point."""

from __future__ import annotations

from ovlite.testing.conformance import PluginConformance


class TestCPUConformance(PluginConformance):
    device = "CPU"
    package = "ovlite-cpu"
    supports_cancellation = True  # async jobs wait in the streams executor's queue
    supports_profiling = True  # PERF_COUNT: ONNX Runtime's per-node kernel times
    supports_throughput_streams = True  # one ONNX Runtime session per stream
    supports_dynamic_shapes = True  # ONNX Runtime takes any shape the model allows
