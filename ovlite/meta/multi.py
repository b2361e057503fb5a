"""``MULTI``: one compiled model per child device, jobs balanced over all of them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import properties as props
from ..device import CompiledModel, Device
from ..device_string import DeviceSpec, parse_device, without_count
from ..errors import DeviceClosedError, DeviceStringError
from ..host import DeviceHost
from ..jobs import Job
from ..model import Model
from ..properties.hint import PerformanceMode
from ..streams import in_worker_thread
from .scheduler import Child, LoadBalancer

#: Keys MULTI and AUTO use themselves rather than hand to their children.
META_KEYS = frozenset(
    {
        props.device.priorities.name,
        props.device.properties.name,
        props.intel_auto.enable_startup_fallback.name,
        props.intel_auto.enable_runtime_fallback.name,
        props.intel_auto.measure_ms.name,
        props.intel_auto.max_relative_error.name,
        props.intel_auto.cache_decision.name,
    }
)


def child_specs(spec: DeviceSpec, config: dict[str, Any], meta: str) -> list[DeviceSpec]:
    """The children from ``MULTI:A,B`` or, for a bare ``MULTI``, from DEVICE_PRIORITIES."""
    if spec.children:
        children = list(spec.children)
    elif config.get(props.device.priorities.name):
        children = [parse_device(name) for name in config[props.device.priorities.name]]
    else:
        raise DeviceStringError(
            meta, len(meta), f"{meta} needs devices: {meta}:GPU,CPU or a DEVICE_PRIORITIES setting"
        )
    return children


def child_config(
    config: dict[str, Any], child: DeviceSpec, device: Device, hint: Any
) -> dict[str, Any]:
    """A child's share: the settings it takes, the hint, then its DEVICE_PROPERTIES entry."""
    shared = {k: v for k, v in config.items() if k not in META_KEYS}
    if not device.is_meta:  # the core takes the automatic-batching keys for any device
        shared = {
            k: v for k, v in shared.items() if k in device.config_keys or k in props.BATCH_KEYS
        }
    if hint is not None and (
        device.is_meta or props.hint.performance_mode.name in device.config_keys
    ):
        shared[props.hint.performance_mode.name] = hint
    per_device = config.get(props.device.properties.name, {})
    shared.update(per_device.get(child.name, {}))
    shared.update(per_device.get(child.full_name, {}))
    if device.is_meta and per_device:
        shared[props.device.properties.name] = per_device
    return shared


class MultiDevice(Device):
    """Load-balances requests over several devices: ``MULTI:GPU,CPU``, ``MULTI:GPU(4),CPU(2)``."""

    name = "MULTI"
    is_meta = True

    def full_device_name(self, device_id: str | None = None) -> str:
        return "MULTI (load balancing over several devices)"

    def compile_model(
        self, model: Model, spec: DeviceSpec, config: dict[str, Any], host: DeviceHost
    ) -> CompiledModel:
        specs = child_specs(spec, config, "MULTI")
        for child in specs:
            if child.excluded:
                raise DeviceStringError(
                    str(spec), 0, f"MULTI cannot exclude devices ('-{child.full_name}'); use AUTO"
                )
        hint = config.get(props.hint.performance_mode.name, PerformanceMode.THROUGHPUT)
        if hint == PerformanceMode.CUMULATIVE_THROUGHPUT:
            hint = PerformanceMode.THROUGHPUT
        children = []
        for child in specs:
            device = host.device(child)
            config_share = child_config(config, child, device, hint)
            compiled = host.compile_child(model, without_count(child), config_share)
            children.append(make_child(child, compiled))
        return MultiCompiledModel(
            model, str(spec), children, config.get(props.hint.performance_mode.name, hint)
        )


def make_child(spec: DeviceSpec, compiled: CompiledModel) -> Child:
    capacity = spec.count or compiled.optimal_number_of_requests
    return Child(spec.full_name if not spec.is_composite else str(spec), compiled, capacity)


class MultiCompiledModel(CompiledModel):
    """Jobs go to children through a :class:`LoadBalancer`."""

    def __init__(
        self, model: Model, name: str, children: list[Child], hint: Any, probe: bool = True
    ) -> None:
        names = ", ".join(f"{c.name} ({c.capacity} requests)" for c in children)
        super().__init__(
            model,
            name,
            {
                props.hint.performance_mode.name: hint,
                props.device.priorities.name: [c.name for c in children],
                props.configuration_reason.name: f"MULTI over {names}; children compiled with the THROUGHPUT hint unless configured otherwise",
            },
        )
        self.balancer = LoadBalancer(children, name, probe=probe, on_change=self._refresh)
        self._refresh()

    def _refresh(self) -> None:
        self.properties[props.execution_devices.name] = self.balancer.active_names()
        self.properties[props.optimal_number_of_infer_requests.name] = self.balancer.capacity
        self.properties[props.dropped_devices.name] = self.balancer.dropped()

    def submit(self, job: Job) -> None:
        if self._closed:
            job.refuse(DeviceClosedError(f"{self.device_name} is closed"))
            return
        self.balancer.submit(job)

    def run(self, inputs: Sequence[np.ndarray]) -> tuple[Sequence[np.ndarray], Any]:
        """Submit and wait, or from a worker thread (a callback) run on a child in this
        thread, since waiting for a child's worker could wait for this very thread."""
        if in_worker_thread():
            if self._closed:
                raise DeviceClosedError(f"{self.device_name} is closed")
            return self.balancer.run_here(inputs)
        return super().run(inputs)

    def children(self) -> dict[str, CompiledModel]:
        return {c.name: c.compiled for c in self.balancer.children}

    def close(self) -> None:
        """Refuse new jobs; close the children once every job already submitted has been
        handed to one (their own close then lets those jobs finish)."""
        super().close()
        self.balancer.close(self._close_children)

    def _close_children(self) -> None:
        for child in self.balancer.children:
            child.compiled.close()
