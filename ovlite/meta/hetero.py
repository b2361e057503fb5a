"""``HETERO``: one model split over several ORT-backed devices, first device first.

``HETERO:GPU,CPU`` gives each node to the first device in the list that supports it; the
last device takes the rest.  The children must run on ONNX Runtime
(:meth:`Device.onnxruntime_provider`): HETERO builds ONE session over their execution
providers in the list's order, and ONNX Runtime's own partitioner does the split.  A node
no listed device takes is an error, not a silent run on ONNX Runtime's CPU fallback
(list ``CPU`` last to have one).

Settings: ``PERFORMANCE_HINT`` (LATENCY: one stream; THROUGHPUT: two), ``NUM_STREAMS``
(how many inferences run on the session at once), ``PERFORMANCE_HINT_NUM_REQUESTS`` (caps
the streams a hint picks), ``INFERENCE_NUM_THREADS`` (the session's intra-op threads; else
the last child's ``INFERENCE_NUM_THREADS`` from ``DEVICE_PROPERTIES``; else ONNX Runtime's
default, one per physical host), ``DEVICE_PRIORITIES`` (the children for a bare
``HETERO``) and ``DEVICE_PROPERTIES`` (each child's own settings, checked by the child and
handed to its ``onnxruntime_provider``).
"""

from __future__ import annotations

import logging
from typing import Any

from .. import properties as props
from ..availability import probe
from ..device import CompiledModel, Device
from ..device_string import DeviceSpec
from ..errors import (
    ChildDeviceError,
    CompileError,
    DeviceStringError,
    DeviceUnavailableError,
    UnknownPropertyError,
    close_matches,
)
from ..host import DeviceHost
from ..model import Model
from ..properties.hint import PerformanceMode
from ..properties.streams import Num
from ..settings import Setting
from ..streams import StreamsExecutor
from .multi import child_specs

log = logging.getLogger("ovlite.meta")

#: Streams a THROUGHPUT hint runs on the one session.
THROUGHPUT_STREAMS = 2


class HeteroDevice(Device):
    """Splits a model over ORT-backed devices: ``HETERO:OPENVINO.GPU,CPU``."""

    name = "HETERO"
    is_meta = True
    settings = (
        Setting(props.hint.performance_mode, PerformanceMode.LATENCY),
        Setting(props.hint.num_requests, 0),
        Setting(props.streams.num, 1),
        Setting(props.inference_num_threads, 0),
        Setting(props.device.priorities, []),
        Setting(props.device.properties, {}),
    )

    def full_device_name(self, device_id: str | None = None) -> str:
        return "HETERO (one model split over several devices)"

    def check_config(self, config: Any) -> None:
        """Refuse settings HETERO does not take; children take theirs in DEVICE_PROPERTIES."""
        unsupported = [k for k in config if k not in self.config_keys and k not in props.BATCH_KEYS]
        if unsupported:
            raise UnknownPropertyError(
                f"device HETERO does not take {', '.join(unsupported)}"
                f"{close_matches(unsupported[0], self.config_keys)}; it takes "
                f"{', '.join(sorted(self.config_keys))}; give a child its own settings in "
                f"DEVICE_PROPERTIES, e.g. {{'DEVICE_PROPERTIES': {{'CPU': {{...}}}}}}"
            )

    def providers(
        self, spec: DeviceSpec, config: dict[str, Any], host: DeviceHost
    ) -> tuple[list[DeviceSpec], list[tuple[str, dict[str, str]]]]:
        """The children and, in the same order, the execution provider each stands for."""
        self.check_config(config)
        children = child_specs(spec, config, "HETERO")
        per_device = config.get(props.device.properties.name, {})
        providers: list[tuple[str, dict[str, str]]] = []
        for child in children:
            if child.excluded or child.count is not None or child.is_composite:
                raise DeviceStringError(
                    str(spec), 0, f"HETERO takes plain devices, not {child} (HETERO:GPU,CPU)"
                )
            device = host.device(child)
            if device.is_meta:
                raise ChildDeviceError(
                    f"HETERO cannot use {child.full_name}: it is a meta device; HETERO splits "
                    "a model over devices that each run on an ONNX Runtime execution provider "
                    "(CPU, GPU, OPENVINO.*)"
                )
            availability = probe(device)
            if not availability:
                raise DeviceUnavailableError(
                    f"HETERO child {child.full_name} ({device.package}) cannot run here: "
                    f"{availability.reason}"
                )
            share = {**per_device.get(child.name, {}), **per_device.get(child.full_name, {})}
            device.check_config(share)
            provider = device.onnxruntime_provider(child.id, share)
            if provider is None:
                raise ChildDeviceError(
                    f"HETERO cannot use {child.full_name}: it does not run on ONNX Runtime "
                    f"({device.package} gives no onnxruntime_provider), so it cannot share one "
                    "session with the other devices"
                )
            taken = [c for c, p in zip(children, providers, strict=False) if p[0] == provider[0]]
            if taken:
                raise ChildDeviceError(
                    f"HETERO cannot use {child.full_name} beside {taken[0].full_name}: both run "
                    f"on {provider[0]}, and one ONNX Runtime session holds each provider once"
                )
            providers.append((provider[0], dict(provider[1])))
        return children, providers

    def compile_model(
        self, model: Model, spec: DeviceSpec, config: dict[str, Any], host: DeviceHost
    ) -> CompiledModel:
        children, providers = self.providers(spec, config, host)
        return HeteroCompiledModel(model, spec, children, providers, config)

    def query_model(
        self, model: Model, spec: DeviceSpec, config: dict[str, Any], host: DeviceHost
    ) -> dict[str, str]:
        """Each node and the child device ONNX Runtime's partitioner gives it."""
        from ..onnxruntime import query_placement

        children, providers = self.providers(spec, config, host)
        names = [child.full_name for child in children]
        what = f"{spec} could not query model {model.friendly_name!r}"
        return query_placement(model.proto, providers, names, what)


class HeteroCompiledModel(CompiledModel):
    """One ONNX Runtime session over the children's providers, run by a streams executor."""

    def __init__(
        self,
        model: Model,
        spec: DeviceSpec,
        children: list[DeviceSpec],
        providers: list[tuple[str, dict[str, str]]],
        config: dict[str, Any],
    ) -> None:
        import onnxruntime as ort

        from ..onnxruntime import (
            CPU_PROVIDER,
            assigned_providers,
            create_session,
            record_assignment,
            session_runner,
            with_node_names,
        )

        name = str(spec)
        hint = config.get(props.hint.performance_mode.name, PerformanceMode.LATENCY)
        streams, streams_why = _streams(config, hint)
        threads, threads_why = _threads(config, children)

        options = record_assignment(ort.SessionOptions())
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        strict = CPU_PROVIDER not in [p for p, _ in providers]
        if strict:
            # a node no listed device takes must fail the compile, as in OpenVINO's HETERO
            options.add_session_config_entry("session.disable_cpu_ep_fallback", "1")
        named = with_node_names(model.proto)
        what = f"{name} could not compile model {model.friendly_name!r}"
        try:
            self.session = create_session(named.SerializeToString(), options, providers, what)
        except CompileError as exc:
            if strict:
                _explain_unsupported(named, providers, children, what, exc)
            raise

        devices = {p: child.full_name for (p, _), child in zip(providers, children, strict=True)}
        assigned = assigned_providers(self.session)
        execution = [devices[p] for p, _ in providers if p in assigned.values()]
        node_counts = _count_nodes(assigned, devices)

        run = session_runner(
            [port.any_name for port in model.outputs],
            [port.any_name for port in model.inputs],
            {"device": name},
            [port.element_type for port in model.inputs],
            [port.element_type for port in model.outputs],
        )
        executor = StreamsExecutor([self.session._sess] * streams, run, name)

        split = ", ".join(f"{device} {count} nodes" for device, count in node_counts.items())
        reason = (
            f"one ONNX Runtime session over {', '.join(p for p, _ in providers)} "
            f"(ONNX Runtime's partitioner split the nodes: {split}); {streams_why}; {threads_why}"
        )
        log.debug("HETERO: compiled %r: %s", model.friendly_name, reason)
        super().__init__(
            model,
            name,
            {
                props.hint.performance_mode.name: hint,
                props.hint.num_requests.name: int(config.get(props.hint.num_requests.name, 0)),
                props.streams.num.name: streams,
                props.inference_num_threads.name: threads,
                props.device.priorities.name: [child.full_name for child in children],
                props.execution_devices.name: execution,
                props.optimal_number_of_infer_requests.name: 2 * streams,
                props.configuration_reason.name: reason,
            },
            executor,
        )

    def close(self) -> None:
        """Stop the streams after the queued jobs."""
        super().close()
        self.session = None


def _explain_unsupported(
    named: Any,
    providers: list[tuple[str, dict[str, str]]],
    children: list[DeviceSpec],
    what: str,
    error: CompileError,
) -> None:
    """Raise a CompileError naming the nodes no child takes, when that is what failed."""
    from ..onnxruntime import query_placement

    try:
        placed = query_placement(named, providers, [c.full_name for c in children], what)
    except CompileError:
        return
    left = [f"{n.name} ({n.op_type})" for n in named.graph.node if n.name not in placed]
    if left:
        raise CompileError(
            f"{what}: no device in the list takes {', '.join(left)}; put a device that "
            "does (CPU takes every operator ONNX Runtime knows) last in the list"
        ) from error


def _streams(config: dict[str, Any], hint: Any) -> tuple[int, str]:
    """Inferences that run on the session at once, and why."""
    explicit = config.get(props.streams.num.name)
    if explicit is not None and int(explicit) >= 1:
        return int(explicit), f"NUM_STREAMS={int(explicit)}"
    if hint == PerformanceMode.LATENCY and explicit != Num.AUTO:
        return 1, "LATENCY: one inference at a time"
    streams = THROUGHPUT_STREAMS
    cap = int(config.get(props.hint.num_requests.name, 0))
    why = f"{hint if explicit is None else 'NUM_STREAMS=AUTO'}: {streams} inferences at once"
    if cap and cap < streams:
        streams, why = cap, f"{why}, capped at {cap} by PERFORMANCE_HINT_NUM_REQUESTS"
    return streams, why


def _threads(config: dict[str, Any], children: list[DeviceSpec]) -> tuple[int, str]:
    """The session's intra-op threads, and why (0: ONNX Runtime's default)."""
    key = props.inference_num_threads.name
    if config.get(key):
        return int(config[key]), f"{key}={int(config[key])}"
    per_device = config.get(props.device.properties.name, {})
    last = children[-1]
    share = {**per_device.get(last.name, {}), **per_device.get(last.full_name, {})}
    if share.get(key):
        return int(share[key]), f"{key}={int(share[key])} from {last.full_name}'s settings"
    return 0, "ONNX Runtime's default threads (one per physical host)"


def _count_nodes(assigned: dict[str, str], devices: dict[str, str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for provider in assigned.values():
        device = devices.get(provider, provider)
        counts[device] = counts.get(device, 0) + 1
    return counts


__all__ = ["HeteroCompiledModel", "HeteroDevice"]
