"""Conformance: the device under the built-in meta devices (MULTI, AUTO)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import ovlite as ov
from ovlite import properties as props

from .base import ConformanceBase


class MetaDeviceConformance(ConformanceBase):
    """The device under the built-in meta devices: ``MULTI:YOURS``, ``MULTI:YOURS,CPU``, AUTO."""

    def _run_many(
        self, compiled: ov.CompiledModel, model: ov.Model, reference: Any, seed: int
    ) -> set[str]:
        count = 2 * compiled.optimal_number_of_requests + 2  # more than MULTI has slots
        requests = [compiled.create_infer_request() for _ in range(count)]
        cases = [self.inputs(model, seed + i) for i in range(len(requests))]
        for request, inputs in zip(requests, cases, strict=True):
            request.start_async(inputs)
        ran_on = set()
        for request, inputs in zip(requests, cases, strict=True):
            self.finish(request)
            self.assert_outputs(request.results, reference(model, inputs), "under a meta device")
            ran_on.add(ov.parse_device(request.executed_on or "?").name)
        return ran_on

    def test_runs_as_the_only_child_of_multi(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        compiled = compile_model(model, device=f"MULTI:{self.device}")
        assert self._run_many(compiled, model, reference, 1000) == {self.family}

    def test_runs_beside_cpu_in_multi(
        self,
        core: ov.Core,
        model: ov.Model,
        compile_model: Callable[..., ov.CompiledModel],
        reference: Any,
    ) -> None:
        if self.family == "CPU":
            pytest.skip("the device under test is CPU itself")
        if "CPU" not in core.available_devices:
            pytest.skip("no CPU device here (pip install ovlite-cpu to test MULTI beside it)")
        if ov.parse_device(self.device).children:
            # "MULTI:HETERO:CPU,CPU" would give both to the nested device (a nested list takes
            # the rest of the string): name the two children in DEVICE_PRIORITIES instead
            priorities = {props.device.priorities.name: [self.device, "CPU"]}
            compiled = compile_model(model, priorities, device="MULTI")
        else:
            compiled = compile_model(model, device=f"MULTI:{self.device},CPU")
        assert self._run_many(compiled, model, reference, 1100) <= {self.family, "CPU"}

    def test_auto_with_only_this_device_uses_it(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        compiled = compile_model(model, device=f"AUTO:{self.device}")
        devices = compiled.get_property(props.execution_devices)
        assert {ov.parse_device(d).name for d in devices} == {self.family}, devices
        inputs = self.inputs(model, 1200)
        self.assert_outputs(compiled(inputs), reference(model, inputs), "under AUTO")
