"""The plugin API: the one module a device plugin imports, besides ``ovlite`` (errors, types,
``Model``) and ``ovlite.properties`` (keys).  Its ``__all__`` is the contract; anything else
in ovlite may change without notice.

- Devices: :class:`Device` (with :class:`Setting` declarations and :class:`Availability`),
  and the device's :class:`CompiledModel`, which runs :class:`Job` objects, usually on a
  :class:`StreamsExecutor` handed to its constructor.
- The core, as a device sees it: :class:`DeviceHost` (compile a child, find a device, read
  its properties).
- Meta devices: :class:`LoadBalancer` and :class:`Child` share jobs between compiled models;
  :func:`single_child`, :func:`without_count` read device strings.
- ONNX Runtime helpers for ORT-backed devices: :func:`provider_availability`,
  :func:`create_session`, :func:`session_runner`, :func:`stoppable_session_runner`,
  :func:`query_placement`, and the
  installed-flavour checks of :mod:`ovlite.onnxruntime_install`
  (:func:`inspect_onnxruntime_install`, :func:`onnxruntime_use_commands`,
  :func:`same_version`, :func:`canonical_name`).
- Model statistics for hints (:func:`flops`, :func:`parameter_bytes`,
  :func:`activation_bytes`; these load ``onnx``, so import them where they are used).
- Batching: :class:`StreamBatching` makes a :class:`StreamsExecutor` stack queued jobs into
  one run; :func:`plan_batching` checks that a model carries the batch in dim 0 (it loads
  ``onnx`` too).
- ``hookimpl`` marks a plugin's ``ovlite_devices`` hook; ``PLUGIN_API_VERSION`` is the
  contract version this core implements (declare ``OVLITE_PLUGIN_API = 2`` in the plugin).

See docs/plugins.md for the contract and a walk-through.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .availability import Availability
from .binding import is_device_tensor
from .device import CompiledModel, Device, run_job
from .device_string import DeviceSpec, parse_device, single_child, without_count
from .fork import reset_after_fork
from .hookspecs import PLUGIN_API_VERSION, hookimpl
from .host import AutomaticBatching, DeviceHost
from .jobs import Job
from .meta.scheduler import CHILD_COMING, Child, LoadBalancer
from .model import Model, Port
from .onnxruntime import (
    create_session,
    provider_availability,
    query_placement,
    session_runner,
    stoppable_session_runner,
)
from .onnxruntime_install import InstallReport, canonical_name, same_version
from .onnxruntime_install import inspect as inspect_onnxruntime_install
from .onnxruntime_install import use_commands as onnxruntime_use_commands
from .settings import Setting
from .stream_batching import StreamBatching
from .streams import StreamsExecutor, in_worker_thread

if TYPE_CHECKING:
    from .meta.batch_plan import plan_batching
    from .models import activation_bytes, flops

#: Loaded on first use: these import onnx.
_MODEL_STATISTICS = ("activation_bytes", "flops", "parameter_bytes")


def __getattr__(name: str) -> Any:
    if name in _MODEL_STATISTICS:
        from . import models

        return getattr(models, name)
    if name == "plan_batching":
        from .meta.batch_plan import plan_batching

        return plan_batching
    raise AttributeError(f"module 'ovlite.plugin' has no attribute {name!r}")


__all__ = [
    "CHILD_COMING",
    "PLUGIN_API_VERSION",
    "AutomaticBatching",
    "Availability",
    "Child",
    "CompiledModel",
    "Device",
    "DeviceHost",
    "DeviceSpec",
    "InstallReport",
    "Job",
    "LoadBalancer",
    "Model",
    "Port",
    "Setting",
    "StreamBatching",
    "StreamsExecutor",
    "activation_bytes",
    "canonical_name",
    "create_session",
    "flops",
    "hookimpl",
    "in_worker_thread",
    "inspect_onnxruntime_install",
    "is_device_tensor",
    "parse_device",
    "plan_batching",
    "provider_availability",
    "query_placement",
    "reset_after_fork",
    "run_job",
    "same_version",
    "session_runner",
    "single_child",
    "stoppable_session_runner",
    "onnxruntime_use_commands",
    "without_count",
]
