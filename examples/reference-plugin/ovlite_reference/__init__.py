"""ovlite-reference: the ``REFERENCE`` device, and a template for writing ovlite plugins.

ovlite finds this module through the entry point in ``pyproject.toml``::

    [project.entry-points.ovlite]
    reference = "ovlite_reference"

and calls :func:`ovlite_devices` once to learn the devices it provides.  Importing it must
stay cheap: the onnx reference evaluator is imported only when the device is probed or
compiles a model (see ``device.py``).
"""

from __future__ import annotations

from ovlite import plugin

from .device import ReferenceCompiledModel, ReferenceDevice, plan_streams

#: The plugin contract this plugin was written for.  Write the number, not
#: ``ovlite.plugin.PLUGIN_API_VERSION``: a core implementing another contract must refuse
#: this plugin (with a message naming both versions) rather than load it and fail later.
OVLITE_PLUGIN_API = 2

__all__ = [
    "OVLITE_PLUGIN_API",
    "ReferenceCompiledModel",
    "ReferenceDevice",
    "ovlite_devices",
    "plan_streams",
]


@plugin.hookimpl
def ovlite_devices() -> list[plugin.Device]:
    """The devices this plugin provides: one ``REFERENCE``.  Creating it probes nothing."""
    return [ReferenceDevice()]
