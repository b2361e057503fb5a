"""ovlite's plugin conformance suite on ``RAY:CPU``: one replica per compiled model (starting
replicas is what costs time here), on the session's local Ray instance."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ovlite as ov
from ovlite.testing.conformance import PluginConformance


class TestRayConformance(PluginConformance):
    device = "RAY:CPU"
    package = "ovlite-ray"
    config = {"RAY_REPLICAS": 1}
    supports_dynamic_shapes = True  # the replicas' CPU device takes any batch size
    supports_cancellation = True  # a job waits in the balancer until a replica slot frees

    def test_device_is_installed_available_and_listed(self, core: ov.Core) -> None:
        # RAY is a meta device (it compiles on other devices), and like MULTI it is not in
        # available_devices; it must still be installed and available.
        device = self.plugin_device(core)
        assert device.is_meta
        availability = device.availability()
        assert availability.available, availability.reason
        assert "RAY" in core.devices()

    def test_runs_beside_cpu_in_multi(
        self,
        core: ov.Core,
        model: ov.Model,
        compile_model: Callable[..., ov.CompiledModel],
        reference: Any,
    ) -> None:
        # "MULTI:RAY:CPU,CPU" would give RAY both devices (a nested list takes the rest of
        # the string); RAY beside CPU is written with RAY last.
        compiled = compile_model(model, device=f"MULTI:CPU,{self.device}")
        assert self._run_many(compiled, model, reference, 1100) <= {"RAY", "CPU"}
