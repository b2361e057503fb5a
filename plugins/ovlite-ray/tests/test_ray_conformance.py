"""ovlite's plugin conformance suite on ``RAY:CPU``: one replica per compiled model (starting
replicas is what costs time here), on the session's local Ray instance."""

from __future__ import annotations

from ovlite.testing.conformance import PluginConformance


class TestRayConformance(PluginConformance):
    device = "RAY:CPU"
    package = "ovlite-ray"
    config = {"RAY_REPLICAS": 1}
    supports_dynamic_shapes = True  # the replicas' CPU device takes any batch size
    supports_cancellation = True  # a job waits in the balancer until a replica slot frees
