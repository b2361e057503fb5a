"""``Setting``: one writable device property declared once: its key, default and check.

A device lists its settings in ``Device.settings``; from that one list the core derives
``config_keys`` (what ``compile_model`` and ``set_property`` accept), the defaults that
``get_property`` and ``SUPPORTED_PROPERTIES`` report, and the checks ``check_config`` runs.
The key's own converter (see :mod:`ovlite.properties`) already checks the value's type; a
setting's ``check`` refuses values the device cannot honour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import properties as props

if TYPE_CHECKING:
    from .device import Device

#: A default that depends on the device: called with the device and the device id.
DefaultFunction = Callable[["Device", "str | None"], Any]


@dataclass(frozen=True)
class Setting:
    """A writable property of a device.

    ``key``: the property (a key from :mod:`ovlite.properties` or its string).
    ``default``: the value the device uses when the setting is not given; or
    ``default_from``: a function of ``(device, device_id)`` computing it.
    ``check``: called with a converted value the device was given; raises
    :class:`ovlite.PropertyValueError` naming the value and what the device takes.
    """

    key: Any
    default: Any = None
    check: Callable[[Any], None] | None = None
    default_from: DefaultFunction | None = None

    @property
    def name(self) -> str:
        return props.lookup_key(self.key).name

    def default_for(self, device: Device, device_id: str | None) -> Any:
        if self.default_from is not None:
            return self.default_from(device, device_id)
        return self.default


__all__ = ["Setting"]
