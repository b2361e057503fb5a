"""``Availability``: whether a device can run on this machine, and why not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .device import Device


@dataclass(frozen=True)
class Availability:
    """Whether a device can run here; ``reason`` says why not (or notes about how it runs)."""

    available: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.available


def probe(device: Device) -> Availability:
    """``device.availability()``, with a probe that raises counted as unavailable (and why),
    and the device's ``install_hint`` after the reason when it cannot run."""
    try:
        found = device.availability()
    except Exception as exc:  # a plugin bug must not break the device list for everyone
        found = Availability(False, f"its availability() raised {type(exc).__name__}: {exc}")
    if found or not device.install_hint:
        return found
    return Availability(False, f"{found.reason}; {device.install_hint}")
