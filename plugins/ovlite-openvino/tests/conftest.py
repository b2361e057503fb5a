"""Fixtures for the OPENVINO plugin's tests: a Core that finds the plugin through its entry
point, and small built-in models.  Skip marks are in ``ovlite_openvino.testing``."""

from __future__ import annotations

import pytest

import ovlite
from ovlite import models


@pytest.fixture(scope="session")
def core() -> ovlite.Core:
    return ovlite.Core()


@pytest.fixture(scope="session")
def mlp() -> ovlite.Model:
    return ovlite.read_model(models.tiny_mlp(batch=None))


@pytest.fixture(scope="session")
def resnet() -> ovlite.Model:
    """ResNet-18 at 64x64, batch 1: the real layer shapes, little compute."""
    return ovlite.read_model(models.resnet18(batch=1, image_size=64))
