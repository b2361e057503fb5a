"""Test helpers: a stand-in device for core tests and models to run on it."""

from __future__ import annotations

from .standin import StandInCompiledModel, StandInDevice, StandInPlugin

__all__ = ["StandInCompiledModel", "StandInDevice", "StandInPlugin"]
