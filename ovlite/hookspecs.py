"""The plugin contract as pluggy hooks.

A plugin is a module (or object) named by an entry point in the ``ovlite`` group::

    [project.entry-points.ovlite]
    mydevice = "ovlite_mydevice"

The module declares ``OVLITE_PLUGIN_API = 1`` (the contract version it was written for) and
implements the hooks below with ``@ovlite.hookimpl``.  Loading it must be cheap: import heavy
runtimes (onnxruntime, drivers) inside the device's methods, not at module level.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .device import Device

hookspec = pluggy.HookspecMarker("ovlite")
hookimpl = pluggy.HookimplMarker("ovlite")

#: The plugin contract version this core implements; a plugin declaring another is refused.
PLUGIN_API_VERSION = 1


@hookspec
def ovlite_devices() -> Iterable[Device]:
    """Return the devices this plugin provides, one :class:`ovlite.Device` per family.

    Called once when the plugin is loaded.  Creating a device must not probe hardware or
    import a runtime; do that in ``Device.availability()``, which the core calls when needed.
    """
