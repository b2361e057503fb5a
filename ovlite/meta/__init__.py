"""The meta devices built into ovlite (MULTI, AUTO, BATCH, HETERO), registered through the same entry-point
group as every third-party plugin."""

from __future__ import annotations

from ..hookspecs import PLUGIN_API_VERSION, hookimpl
from .auto import AutoDevice
from .batch import BatchDevice
from .hetero import HeteroDevice
from .multi import MultiDevice

OVLITE_PLUGIN_API = PLUGIN_API_VERSION


@hookimpl
def ovlite_devices() -> list:
    return [MultiDevice(), AutoDevice(), BatchDevice(), HeteroDevice()]
