"""ovlite-reference: the ``REFERENCE`` device, and a template for writing ovlite plugins.

A frozen copy of examples/reference-plugin as it was on plugin API 1, kept to prove that the
core still loads API 1 plugins (tests/test_plugin_api1.py).  Do not modernise it.

ovlite finds this module through the entry point in ``pyproject.toml``::

    [project.entry-points.ovlite]
    reference = "ovlite_reference"

and calls :func:`ovlite_devices` once to learn the devices it provides.  Importing it must
stay cheap: the onnx reference evaluator is imported only when the device is probed or
compiles a model (see ``device.py``).
"""

from __future__ import annotations

import ovlite

from .device import ReferenceCompiledModel, ReferenceDevice, plan_streams

#: The plugin contract this plugin was written for.  Write the number, not
#: ``ovlite.PLUGIN_API_VERSION``: a core implementing another contract must refuse this
#: plugin (with a message naming both versions) rather than load it and fail later.
OVLITE_PLUGIN_API = 1

__all__ = [
    "OVLITE_PLUGIN_API",
    "ReferenceCompiledModel",
    "ReferenceDevice",
    "ovlite_devices",
    "plan_streams",
]


@ovlite.hookimpl
def ovlite_devices() -> list[ovlite.Device]:
    """The devices this plugin provides: one ``REFERENCE``.  Creating it probes nothing."""
    return [ReferenceDevice()]
