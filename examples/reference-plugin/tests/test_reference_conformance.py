"""The ovlite conformance suite on REFERENCE, as installed: found through its entry point.

Run it after ``pip install .`` (or ``pip install -e .``): ``pytest tests``.
"""

from __future__ import annotations

from ovlite.testing.conformance import PluginConformance


class TestReferenceConformance(PluginConformance):
    device = "REFERENCE"
    package = "ovlite-reference"
    supports_cancellation = True  # jobs wait in the streams executor's queue
    supports_profiling = True  # PERF_COUNT times each node
    supports_throughput_streams = True  # NUM_STREAMS > 1 runs evaluators side by side
    supports_dynamic_shapes = True  # the evaluator takes any shape the model allows
