"""The plugin registry: finds plugins through entry points, loads them once, isolates failures.

``OVLITE_PLUGINS`` narrows loading to a comma-separated allow-list of entry-point (or
distribution) names; ``OVLITE_PLUGINS=none`` loads no third-party plugin.  Devices built into
the ``ovlite`` distribution itself always load.  A plugin whose import, API version or hook
fails is recorded in :attr:`PluginRegistry.failures` and logged; the others and the core go
on.  ``OVLITE_TRACE_PLUGINS=1`` prints each step of discovery to stderr.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import warnings
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from . import hookspecs
from .device import Device
from .errors import DeviceNotFoundError, PluginError

log = logging.getLogger("ovlite.plugins")

ENTRY_POINT_GROUP = "ovlite"
CORE_DISTRIBUTION = "ovlite"

#: Device families provided by packages of this project, for "pip install" hints.
KNOWN_PACKAGES = {
    "CPU": "ovlite-cpu",
    "GPU": "ovlite-gpu",
    "OPENVINO": "ovlite-openvino",
    "NPU": "ovlite-openvino",
    "RAY": "ovlite-ray",
}


@dataclass
class PluginInfo:
    """One loaded plugin: where it came from and which devices it provides."""

    name: str
    package: str
    version: str
    entry_point: str
    devices: list[str] = field(default_factory=list)
    #: The plugin API the plugin declares (an older one loads with a deprecation warning).
    api_version: int = hookspecs.PLUGIN_API_VERSION


@dataclass
class PluginFailure:
    """A plugin that could not be loaded, or a device claimed by two plugins."""

    name: str
    package: str
    error: str


def _trace(message: str) -> None:
    if os.environ.get("OVLITE_TRACE_PLUGINS", "") not in ("", "0"):
        print(f"[ovlite plugins] {message}", file=sys.stderr)


def _allowed(entry_point: metadata.EntryPoint) -> bool:
    package = entry_point.dist.name if entry_point.dist else ""
    if package == CORE_DISTRIBUTION:
        return True
    setting = os.environ.get("OVLITE_PLUGINS")
    if setting is None:
        return True
    allowed = {part.strip().lower() for part in setting.split(",") if part.strip()}
    return bool(allowed - {"none"}) and (
        entry_point.name.lower() in allowed or package.lower() in allowed
    )


def _warn_deprecated_api(name: str, package: str, api: int) -> None:
    message = (
        f"ovlite plugin {name} ({package}) declares plugin API {api}, which this core still "
        f"loads for one release; plugin API {hookspecs.PLUGIN_API_VERSION} is current. To "
        f"upgrade: {hookspecs.UPGRADE_NOTES[api]}"
    )
    log.warning(message)
    warnings.warn(message, DeprecationWarning, stacklevel=3)


class PluginRegistry:
    """Devices by family name, from plugins registered through the pluggy hooks.

    The process-wide registry (:meth:`shared`) holds the entry-point plugins; each ``Core``
    layers its own registry on top for plugins registered in-process.
    """

    _shared: PluginRegistry | None = None
    _shared_lock = threading.Lock()

    def __init__(self, parent: PluginRegistry | None = None) -> None:
        self.parent = parent
        self._manager = pluggy.PluginManager("ovlite")
        self._manager.add_hookspecs(hookspecs)
        self._devices: dict[str, Device] = {}
        self.plugins: dict[str, PluginInfo] = {}
        self.failures: list[PluginFailure] = []

    @classmethod
    def shared(cls) -> PluginRegistry:
        """The process-wide registry, with every allowed entry-point plugin loaded once."""
        with cls._shared_lock:
            if cls._shared is None:
                registry = cls()
                registry.load_entry_points()
                cls._shared = registry
            return cls._shared

    @classmethod
    def reset_shared(cls) -> None:
        """Forget the process-wide registry so the next use discovers plugins again."""
        with cls._shared_lock:
            cls._shared = None

    def load_entry_points(self) -> None:
        for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
            package = entry_point.dist.name if entry_point.dist else "(unknown)"
            version = entry_point.dist.version if entry_point.dist else ""
            if not _allowed(entry_point):
                _trace(f"skip {entry_point.name} ({package}): not in OVLITE_PLUGINS")
                continue
            _trace(f"load {entry_point.name} = {entry_point.value} ({package} {version})")
            try:
                plugin = entry_point.load()
            except Exception as exc:
                self._fail(entry_point.name, package, f"import failed: {type(exc).__name__}: {exc}")
                continue
            self.register(
                plugin, entry_point.name, package, version, entry_point.value, strict=True
            )

    def register(
        self,
        plugin: Any,
        name: str | None = None,
        package: str = "(in-process)",
        version: str = "",
        entry_point: str = "",
        strict: bool = False,
    ) -> PluginInfo | None:
        """Register a plugin module or object; return its info, or ``None`` if it failed.

        With ``strict`` (entry points), a plugin must declare ``OVLITE_PLUGIN_API``; plugins
        registered in-process are assumed to match this core.
        """
        name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        api = getattr(plugin, "OVLITE_PLUGIN_API", None if strict else hookspecs.PLUGIN_API_VERSION)
        if api in hookspecs.DEPRECATED_PLUGIN_APIS:
            _warn_deprecated_api(name, package, api)
        elif api != hookspecs.PLUGIN_API_VERSION:
            declared = (
                "does not declare OVLITE_PLUGIN_API"
                if api is None
                else f"declares plugin API {api}"
            )
            self._fail(
                name,
                package,
                f"{package} {version} {declared}, but this ovlite core implements plugin API "
                f"{hookspecs.PLUGIN_API_VERSION}; upgrade or downgrade one of them",
            )
            return None
        try:
            self._manager.register(plugin, name=name)
        except Exception as exc:
            self._fail(name, package, f"registration failed: {exc}")
            return None
        info = PluginInfo(name, package, version, entry_point, api_version=api)
        impls = [i for i in self._manager.hook.ovlite_devices.get_hookimpls() if i.plugin is plugin]
        for impl in impls:
            try:
                devices = list(impl.function())
            except Exception as exc:
                self._manager.unregister(plugin)
                self._fail(name, package, f"ovlite_devices() raised {type(exc).__name__}: {exc}")
                return None
            for device in devices:
                self._add_device(device, info)
        _trace(f"{name}: devices {info.devices or 'none'}")
        self.plugins[name] = info
        return info

    def _add_device(self, device: Device, info: PluginInfo) -> None:
        if not isinstance(device, Device) or not device.name:
            self._fail(
                info.name,
                info.package,
                f"ovlite_devices() returned {device!r}, not a named ovlite.plugin.Device",
            )
            return
        family = device.name.upper()
        claimed = self._devices.get(family)  # a Core's own plugins may override shared ones
        if claimed is not None:
            self._fail(
                info.name,
                info.package,
                f"device {family} is provided by both {claimed.package} and {info.package}; "
                f"keeping {claimed.package}'s (narrow OVLITE_PLUGINS to choose)",
            )
            return
        device.package, device.version = info.package, info.version
        self._devices[family] = device
        info.devices.append(family)

    def unregister(self, name: str) -> None:
        """Remove an in-process plugin and its devices."""
        info = self.plugins.pop(name, None)
        if info is None:
            raise PluginError(f"no plugin named {name!r} is registered here")
        plugin = self._manager.get_plugin(name)
        if plugin is not None:
            self._manager.unregister(plugin)
        for family in info.devices:
            self._devices.pop(family, None)

    def _fail(self, name: str, package: str, error: str) -> None:
        log.warning("ovlite plugin %s (%s) not loaded: %s", name, package, error)
        _trace(f"FAILED {name} ({package}): {error}")
        self.failures.append(PluginFailure(name, package, error))

    def find(self, family: str) -> Device | None:
        """The device of a family, or ``None``; in-process plugins win over entry points."""
        device = self._devices.get(family.upper())
        if device is None and self.parent is not None:
            return self.parent.find(family)
        return device

    def device(self, family: str) -> Device:
        """The device of a family, or :class:`DeviceNotFoundError` with suggestions."""
        device = self.find(family)
        if device is None:
            raise DeviceNotFoundError(family, self.devices(), KNOWN_PACKAGES.get(family.upper()))
        return device

    def devices(self) -> dict[str, Device]:
        """Every device family known here, by name."""
        found = dict(self.parent.devices()) if self.parent else {}
        found.update(self._devices)
        return found

    def all_plugins(self) -> list[PluginInfo]:
        return [*(self.parent.all_plugins() if self.parent else []), *self.plugins.values()]

    def all_failures(self) -> list[PluginFailure]:
        return [*(self.parent.all_failures() if self.parent else []), *self.failures]
