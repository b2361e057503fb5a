"""Shared fixtures: a Core with the STANDIN device registered in-process, and small models."""

from __future__ import annotations

import pytest

import ovlite as ov
from ovlite import models
from ovlite.testing import StandInDevice, StandInPlugin


@pytest.fixture
def standin() -> StandInDevice:
    return StandInDevice()


@pytest.fixture
def core(standin: StandInDevice) -> ov.Core:
    """A fresh Core with the stand-in device; the plugin goes away with the Core."""
    core = ov.Core()
    core.register_plugin(StandInPlugin(standin), name="standin")
    return core


@pytest.fixture(scope="session")
def two_inputs_model() -> ov.Model:
    return ov.read_model(models.two_inputs())


@pytest.fixture(scope="session")
def mlp_model() -> ov.Model:
    return ov.read_model(models.tiny_mlp(batch=None))
