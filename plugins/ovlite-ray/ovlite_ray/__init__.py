"""ovlite-ray: the ``RAY`` device, requests served by replicas on a Ray cluster.

``core.compile_model(model, "RAY:CPU")`` starts replicas (Ray actors), each compiling the
model on ``CPU`` through ovlite on its node, and balances requests over them.  See
``docs/ray.md`` for pointing ovlite at an existing cluster and what runs where.
"""

from __future__ import annotations

from ovlite.plugin import Device, hookimpl

from . import keys
from .device import RayCompiledModel, RayDevice
from .replica import ReplicaLostError

OVLITE_PLUGIN_API = 2


@hookimpl
def ovlite_devices() -> list[Device]:
    return [RayDevice()]


__all__ = ["RayCompiledModel", "RayDevice", "ReplicaLostError", "keys"]
