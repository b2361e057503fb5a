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
    """``device.availability()``, with a probe that raises counted as unavailable (and why)."""
    try:
        return device.availability()
    except Exception as exc:  # a plugin bug must not break the device list for everyone
        return Availability(False, f"its availability() raised {type(exc).__name__}: {exc}")
