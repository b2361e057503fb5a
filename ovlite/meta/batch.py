"""``BATCH``: automatic batching.  N requests share one batched execution on a child device.

``BATCH:GPU(8)`` compiles the model once on ``GPU`` with a dynamic batch dimension (dim 0) and
collects asynchronous requests: when 8 rows are pending they run as one execution, and each
request gets its own rows of the batched outputs as views (no copies).  A batch that does not
fill within ``AUTO_BATCH_TIMEOUT`` milliseconds (default 1000, as in OpenVINO) runs what it
has.  A bare ``BATCH:GPU`` takes the batch size from the child's ``OPTIMAL_BATCH_SIZE``.

The pieces: what can be batched (``batch_plan.py``), the batch size and when automatic
batching applies (``batch_policy.py``), and the runtime that collects jobs into batches
(``batch_collector.py``, whose docstring lists BATCH's choices).
"""

from __future__ import annotations

from typing import Any

from .. import properties as props
from ..device import CompiledModel, Device
from ..device_string import DeviceSpec, single_child, without_count
from ..host import DeviceHost
from ..model import Model
from ..settings import Setting
from .batch_collector import BatchCompiledModel
from .batch_plan import BatchPlan, plan_batching
from .batch_policy import (
    DEFAULT_TIMEOUT_MS,
    TIMEOUT,
    auto_batch,
    batch_child_config,
    batch_size_for,
    reported_batch_size,
)


class BatchDevice(Device):
    """Batches requests on one child: ``BATCH:GPU(8)``; bare ``BATCH:GPU`` uses the child's
    ``OPTIMAL_BATCH_SIZE``.  Takes ``AUTO_BATCH_TIMEOUT`` (ms); the rest goes to the child."""

    name = "BATCH"
    is_meta = True
    settings = (Setting(props.auto_batch_timeout, DEFAULT_TIMEOUT_MS),)

    def full_device_name(self, device_id: str | None = None) -> str:
        return "BATCH (automatic batching of requests)"

    def compile_model(
        self, model: Model, spec: DeviceSpec, config: dict[str, Any], host: DeviceHost
    ) -> CompiledModel:
        child = self.child_spec(spec)
        device = host.device(child)
        size, origin = batch_size_for(host, spec, child, model, config)
        name = str(spec)
        plan = plan_batching(model, name)
        timeout = int(config.get(TIMEOUT, DEFAULT_TIMEOUT_MS))
        child_cfg = batch_child_config(config, child, device)
        target = without_count(child)
        compiled = host.compile_child(plan.child_model, target, child_cfg)
        return BatchCompiledModel(
            model, name, compiled, size, timeout, plan, f"batch size from {origin}"
        )

    @staticmethod
    def child_spec(spec: DeviceSpec) -> DeviceSpec:
        """The one child of ``BATCH:DEV``; a clear error for anything else."""
        return single_child(
            spec,
            "BATCH needs a device to batch on: BATCH:GPU(8) or BATCH:CPU(4)",
            "BATCH batches on one device; use MULTI:BATCH:... for several",
        )

    #: Automatic batching for the core (see :class:`ovlite.plugin.AutomaticBatching`).
    batch_automatically = staticmethod(auto_batch)


__all__ = [
    "BatchCompiledModel",
    "BatchDevice",
    "BatchPlan",
    "auto_batch",
    "plan_batching",
    "reported_batch_size",
]
