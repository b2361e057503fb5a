"""Conformance: ``PERF_COUNT`` and ``request.profiling_info``."""

from __future__ import annotations

from collections.abc import Callable

import ovlite as ov
from ovlite import properties as props

from .base import ConformanceBase


class ProfilingConformance(ConformanceBase):
    """``PERF_COUNT``: per-node timings in ``request.profiling_info``, none when off."""

    def test_profiling_info_lists_timings_when_enabled(
        self, core: ov.Core, model: ov.Model, compile_model: Callable[..., ov.CompiledModel]
    ) -> None:
        self.require("profiling")
        self.require_setting(core, props.enable_profiling.name)
        compiled = compile_model(model, {props.enable_profiling.name: True})
        if props.enable_profiling.name in compiled.get_property(props.supported_properties):
            assert compiled.get_property(props.enable_profiling) is True, "PERF_COUNT as applied"
        request = compiled.create_infer_request()
        for start in (request.infer, request.start_async):
            start(self.inputs(model, 900))
            self.finish(request)
            info = request.profiling_info
            assert info, "PERF_COUNT is on, but request.profiling_info is empty"
            for entry in info:
                assert isinstance(entry, ov.ProfilingInfo), f"{entry!r} is not a ProfilingInfo"
                assert isinstance(entry.node_name, str) and entry.node_name
                assert entry.real_time_us >= 0 and entry.cpu_time_us >= 0, f"negative time: {entry}"

    def test_no_profiling_info_when_disabled(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel]
    ) -> None:
        self.require("profiling")
        request = compile_model(model).create_infer_request()
        request.infer(self.inputs(model, 901))
        assert request.profiling_info == []
