"""When and how BATCH applies: the batch size a device reports, BATCH's share of the config
for its child, and automatic batching (:func:`auto_batch`, THROUGHPUT on a device that reports
an ``OPTIMAL_BATCH_SIZE`` above 1)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .. import properties as props
from ..device import CompiledModel, Device
from ..device_string import DeviceSpec
from ..errors import CompileError, OvliteError
from ..host import DeviceHost
from ..model import Model
from .batch_collector import BatchCompiledModel
from .batch_plan import plan_batching
from .multi import child_config

log = logging.getLogger("ovlite.meta")

#: OpenVINO's default for ``AUTO_BATCH_TIMEOUT``, in milliseconds.
DEFAULT_TIMEOUT_MS = 1000
TIMEOUT = props.auto_batch_timeout.name
ALLOW = props.hint.allow_auto_batching.name
OPTIMAL_BATCH_SIZE = props.optimal_batch_size.name


def batch_size_for(
    host: DeviceHost, spec: DeviceSpec, child: DeviceSpec, model: Model, config: dict[str, Any]
) -> tuple[int, str]:
    """The batch size of ``BATCH:child`` and where it comes from: the count in
    ``BATCH:DEV(N)``, else the child's ``OPTIMAL_BATCH_SIZE``; :class:`CompileError` when
    neither gives one."""
    size = child.count
    origin = f"BATCH:{child.full_name}({size})" if size else ""
    if size is None:
        size = reported_batch_size(host, child, model, config)
        if size is None and child.is_composite:
            raise CompileError(
                f"{spec}: {child} reports no OPTIMAL_BATCH_SIZE and a composite device "
                f"cannot take a count; batch a device inside it instead: "
                f"{child.name}:...,BATCH:CPU(4)"
            )
        if size is None:
            raise CompileError(
                f"{spec}: {child} reports no OPTIMAL_BATCH_SIZE, so the batch size is "
                f"unknown; give it as BATCH:{child.full_name}(N)"
            )
        origin = f"OPTIMAL_BATCH_SIZE of {child}"
    return size, origin


def batch_child_config(config: dict[str, Any], child: DeviceSpec, device: Device) -> dict[str, Any]:
    """The child's share of BATCH's config: without BATCH's own keys, and with no automatic
    batching of the child on top of this one."""
    child_cfg = child_config(config, child, device, None)
    child_cfg.pop(TIMEOUT, None)
    child_cfg[ALLOW] = False
    return child_cfg


def reported_batch_size(
    host: DeviceHost,
    spec: DeviceSpec,
    model: Model | None = None,
    config: dict[str, Any] | None = None,
) -> int | None:
    """The ``OPTIMAL_BATCH_SIZE`` a device reports (for ``model`` when the device sizes
    batches per model, see :meth:`Device.model_batch_size`), or ``None`` when it reports none."""
    if model is not None and not spec.is_composite:
        size = host.device(spec).model_batch_size(model, spec.id, config or {})
        if size is not None:
            return int(size)
    try:
        value = host.get_property(
            str(spec) if spec.is_composite else spec.full_name, OPTIMAL_BATCH_SIZE
        )
    except OvliteError:
        return None
    try:
        size = int(value)
    except (TypeError, ValueError):
        return None
    return size if size >= 1 else None


def auto_batch(
    model: Model,
    spec: DeviceSpec,
    config: dict[str, Any],
    timeout_ms: int | None,
    compile_on_device: Callable[[Model], CompiledModel],
    host: DeviceHost,
) -> CompiledModel | None:
    """Automatic batching, for ``Core.compile_model`` (THROUGHPUT on a plain device).

    Returns ``None`` when the device reports no ``OPTIMAL_BATCH_SIZE`` above 1 (the core then
    compiles as usual).  Otherwise returns the model compiled on the device and wrapped in
    BATCH, or, for a model that cannot be batched, compiled on the device alone with the reason
    added to its ``OVLITE_CONFIGURATION_REASON``.  It compiles through ``compile_on_device``
    (the device itself, with the core's checked ``config`` and error handling), so it never
    recurses into itself.
    """
    size = reported_batch_size(host, spec, model, config)
    if size is None or size < 2:
        return None
    name = f"BATCH:{spec.full_name}({size})"
    try:
        plan = plan_batching(model, name)
    except CompileError as exc:
        compiled = compile_on_device(model)
        reason = props.configuration_reason.name
        note = f"automatic batching not applied: {exc}"
        previous = compiled.properties.get(reason)
        compiled.properties[reason] = f"{previous}; {note}" if previous else note
        log.info("%s: %s", spec.full_name, note)
        return compiled
    child = compile_on_device(plan.child_model)
    timeout = DEFAULT_TIMEOUT_MS if timeout_ms is None else int(timeout_ms)
    return BatchCompiledModel(
        model,
        name,
        child,
        size,
        timeout,
        plan,
        f"automatic: THROUGHPUT on {spec.full_name}, which reports OPTIMAL_BATCH_SIZE {size}",
    )
