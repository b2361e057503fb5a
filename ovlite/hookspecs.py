"""The plugin contract as pluggy hooks.

A plugin is a module (or object) named by an entry point in the ``ovlite`` group::

    [project.entry-points.ovlite]
    mydevice = "ovlite_mydevice"

The module declares ``OVLITE_PLUGIN_API = 2`` (the contract version it was written for) and
implements the hooks below with ``@ovlite.plugin.hookimpl``.  Loading it must be cheap: import heavy
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

#: The plugin contract version this core implements.
PLUGIN_API_VERSION = 2
#: Older contract versions still loaded, through aliases and with a deprecation warning.
DEPRECATED_PLUGIN_APIS = frozenset({1})
#: What a plugin of an older contract changes to declare the current one.
UPGRADE_NOTES = {
    1: "import the plugin API from ovlite.plugin; subclass ovlite.plugin.CompiledModel and "
    "pass the StreamsExecutor to its constructor instead of calling serve_with or assigning "
    "_executor; declare the device's settings once as Device.settings = (Setting(key, "
    "default), ...) instead of config_keys plus defaults in device_properties(); meta devices "
    "compile children with host.compile_child(...) instead of core.compile_model(...); then "
    "declare OVLITE_PLUGIN_API = 2",
}


@hookspec
def ovlite_devices() -> Iterable[Device]:
    """Return the devices this plugin provides, one :class:`ovlite.Device` per family.

    Called once when the plugin is loaded.  Creating a device must not probe hardware or
    import a runtime; do that in ``Device.availability()``, which the core calls when needed.
    """
