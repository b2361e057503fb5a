"""Fixtures for the CPU plugin's tests: a Core that finds the plugin through its entry point,
small built-in models, and raw ONNX Runtime sessions to compare against."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
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
def two() -> ovlite.Model:
    return ovlite.read_model(models.two_inputs())


@pytest.fixture(scope="session")
def resnet() -> ovlite.Model:
    """ResNet-18 at 64x64: the real layer shapes and 47 MB of weights, little compute."""
    return ovlite.read_model(models.resnet18(batch=None, image_size=64))


class Raw:
    """Plain ONNX Runtime sessions (default options), one per model, to compare against."""

    def __init__(self) -> None:
        self._sessions: dict[int, ort.InferenceSession] = {}

    def __call__(self, model: ovlite.Model, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        session = self._sessions.get(id(model))
        if session is None:
            session = ort.InferenceSession(model.to_bytes(), providers=["CPUExecutionProvider"])
            self._sessions[id(model)] = session
        return session.run(None, feeds)


@pytest.fixture(scope="session")
def raw() -> Raw:
    return Raw()
