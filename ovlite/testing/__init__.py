"""Test helpers: a stand-in device for core tests, and deterministic input data."""

from __future__ import annotations

from .data import random_inputs
from .simulated import SimulatedDevice
from .standin import StandInCompiledModel, StandInDevice, StandInPlugin

__all__ = [
    "SimulatedDevice",
    "StandInCompiledModel",
    "StandInDevice",
    "StandInPlugin",
    "random_inputs",
]
