"""Test helpers: a stand-in device for core tests, and deterministic input data."""

from __future__ import annotations

from .data import random_inputs
from .standin import StandInCompiledModel, StandInDevice, StandInPlugin

__all__ = ["StandInCompiledModel", "StandInDevice", "StandInPlugin", "random_inputs"]
