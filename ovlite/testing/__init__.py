"""Test helpers: a stand-in device for core tests, deterministic input data, and the plugin
conformance suite (:mod:`ovlite.testing.conformance`, which needs pytest and is imported only
when one of its names is used)."""

from __future__ import annotations

from typing import Any

from .data import random_inputs
from .simulated import SimulatedDevice
from .standin import StandInCompiledModel, StandInDevice, StandInPlugin

_CONFORMANCE = (
    "AsyncQueueConformance",
    "BadInputConformance",
    "CancellationConformance",
    "ConcurrencyConformance",
    "InferenceConformance",
    "JobConformance",
    "MetaDeviceConformance",
    "PluginConformance",
    "ProfilingConformance",
    "PropertiesConformance",
    "ReferenceOracle",
)

__all__ = [
    "SimulatedDevice",
    "StandInCompiledModel",
    "StandInDevice",
    "StandInPlugin",
    "random_inputs",
    *_CONFORMANCE,
]


def __getattr__(name: str) -> Any:
    if name in _CONFORMANCE:
        from . import conformance

        return getattr(conformance, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
