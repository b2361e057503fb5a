"""Conformance: availability, versions, device settings, and what a compiled model reports."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import ovlite as ov
from ovlite import properties as props

from .base import ConformanceBase

#: What every compiled model must report (docs/plugins.md, "Properties a compiled model reports").
REQUIRED_COMPILED_PROPERTIES = (
    props.optimal_number_of_infer_requests.name,
    props.hint.performance_mode.name,
    props.configuration_reason.name,
    props.execution_devices.name,
    props.supported_properties.name,
)

#: Writable settings with a value each accepts: used to find one a device does not take.
_SAMPLE_SETTINGS = {
    props.cache_dir.name: "ovlite-conformance-cache",
    props.hint.enable_cpu_pinning.name: True,
    props.hint.enable_hyper_threading.name: True,
    props.inference_num_threads.name: 1,
    props.enable_profiling.name: True,
    props.streams.num.name: 1,
    props.hint.execution_mode.name: "ACCURACY",
    props.intel_auto.enable_startup_fallback.name: True,  # AUTO's; plain devices refuse it
}


class PropertiesConformance(ConformanceBase):
    """Availability, versions, device settings, and what a compiled model must report."""

    def test_device_is_installed_available_and_listed(self, core: ov.Core) -> None:
        device = self.plugin_device(core)
        availability = device.availability()
        assert isinstance(availability, ov.Availability), (
            f"availability() returned {availability!r}, not an ovlite.Availability"
        )
        assert availability.available, f"{self.family} cannot run here: {availability.reason}"
        assert isinstance(availability.reason, str)
        if device.is_meta:  # as in OpenVINO, meta devices are not in available_devices
            assert self.family in core.devices(), f"{self.family} missing from core.devices()"
            return
        listed = {name.split(".")[0] for name in core.available_devices}
        assert self.family in listed, f"{self.family} missing from {core.available_devices}"

    def test_get_versions_names_the_package(self, core: ov.Core) -> None:
        name = ov.parse_device(self.device).full_name
        version = core.get_versions(self.device)[name]
        if self.package is None:
            assert version.description, f"get_versions({self.device!r}) names no package"
        else:
            assert version.description == self.package, (
                f"{self.device} comes from {version.description!r}, expected {self.package!r}"
            )

    def test_full_name_and_priority_are_reported(self, core: ov.Core) -> None:
        full_name = core.get_property(self.device, props.device.full_name)
        assert isinstance(full_name, str) and full_name, "FULL_DEVICE_NAME must be a string"
        priority = core.get_property(self.device, props.device.priority)
        assert isinstance(priority, int), f"priority must be an int, got {priority!r}"

    def test_device_takes_the_performance_hint(self, core: ov.Core) -> None:
        keys = self.plugin_device(core).config_keys
        assert props.hint.performance_mode.name in keys, (
            f"{self.family} must take PERFORMANCE_HINT; its config_keys: {sorted(keys)}"
        )

    def test_every_supported_property_of_the_device_can_be_read(self, core: ov.Core) -> None:
        keys = core.get_property(self.device, props.supported_properties)
        unreadable = {}
        for key in keys:
            try:
                core.get_property(self.device, key)
            except ov.OvliteError as exc:
                unreadable[key] = str(exc)
        assert not unreadable, (
            f"{self.family} lists properties it cannot report (each key in config_keys needs "
            f"its default in device_properties()): {unreadable}"
        )

    def test_a_setting_the_device_does_not_take_is_refused(
        self, core: ov.Core, model: ov.Model, compile_model: Callable[..., ov.CompiledModel]
    ) -> None:
        taken = self.plugin_device(core).config_keys
        foreign = {k: v for k, v in _SAMPLE_SETTINGS.items() if k not in taken}
        if not foreign:
            pytest.skip(f"{self.family} takes every sample setting")
        key, value = next(iter(foreign.items()))
        with pytest.raises(ov.UnknownPropertyError, match=self.family):
            compile_model(model, {key: value})

    @pytest.mark.parametrize("hint", ["LATENCY", "THROUGHPUT", "CUMULATIVE_THROUGHPUT"])
    def test_compiled_model_reports_the_required_properties(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], hint: str
    ) -> None:
        compiled = compile_model(model, {props.hint.performance_mode.name: hint})
        supported = compiled.get_property(props.supported_properties)
        missing = [key for key in REQUIRED_COMPILED_PROPERTIES if key not in supported]
        assert not missing, f"the compiled model does not report {missing}"
        for key in supported:
            compiled.get_property(key)  # each listed property can be read
        optimal = compiled.get_property(props.optimal_number_of_infer_requests)
        assert isinstance(optimal, int) and optimal >= 1, (
            f"OPTIMAL_NUMBER_OF_INFER_REQUESTS must be an int >= 1, got {optimal!r}"
        )
        applied = compiled.get_property(props.hint.performance_mode)
        accepted = {hint, "THROUGHPUT"} if hint == "CUMULATIVE_THROUGHPUT" else {hint}
        assert applied in accepted, f"asked for {hint}, the compiled model reports {applied}"
        reason = compiled.get_property(props.configuration_reason)
        assert isinstance(reason, str) and reason.strip(), (
            "OVLITE_CONFIGURATION_REASON must say why these streams, threads and requests"
        )
        devices = compiled.get_property(props.execution_devices)
        assert isinstance(devices, list) and devices, f"EXECUTION_DEVICES is {devices!r}"
        assert all(ov.parse_device(d).name == self.family for d in devices), (
            f"EXECUTION_DEVICES {devices} should name {self.family}"
        )

    def test_properties_of_a_compiled_model_are_read_only(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel]
    ) -> None:
        compiled = compile_model(model)
        with pytest.raises(ov.ReadOnlyPropertyError):
            compiled.set_property({props.hint.performance_mode.name: "THROUGHPUT"})

    def test_latency_hint_runs_one_stream(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel]
    ) -> None:
        compiled = compile_model(model, {props.hint.performance_mode.name: "LATENCY"})
        if props.streams.num.name not in compiled.get_property(props.supported_properties):
            pytest.skip(f"{self.family} does not report NUM_STREAMS")
        assert compiled.get_property(props.streams.num) == 1

    def test_throughput_keeps_at_least_as_many_requests_in_flight_as_latency(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel]
    ) -> None:
        latency = compile_model(model, {props.hint.performance_mode.name: "LATENCY"})
        throughput = compile_model(model, self.throughput())
        key = props.optimal_number_of_infer_requests
        assert throughput.get_property(key) >= latency.get_property(key)

    def test_explicit_num_streams_wins_over_the_hint(
        self, core: ov.Core, model: ov.Model, compile_model: Callable[..., ov.CompiledModel]
    ) -> None:
        self.require("throughput_streams")
        self.require_setting(core, props.streams.num.name)
        compiled = compile_model(
            model, {props.hint.performance_mode.name: "LATENCY", props.streams.num.name: 2}
        )
        assert compiled.get_property(props.streams.num) == 2
        assert compiled.get_property(props.optimal_number_of_infer_requests) >= 2

    def test_num_requests_caps_the_streams_a_hint_picks(
        self, core: ov.Core, model: ov.Model, compile_model: Callable[..., ov.CompiledModel]
    ) -> None:
        self.require("throughput_streams")
        self.require_setting(core, props.hint.num_requests.name)
        compiled = compile_model(model, {**self.throughput(), props.hint.num_requests.name: 1})
        if props.streams.num.name not in compiled.get_property(props.supported_properties):
            pytest.skip(f"{self.family} does not report NUM_STREAMS")
        assert compiled.get_property(props.streams.num) == 1
