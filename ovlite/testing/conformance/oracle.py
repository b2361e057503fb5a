"""The conformance suite's oracle: expected outputs from the ``onnx`` reference evaluator."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import numpy as np

import ovlite as ov


class ReferenceOracle:
    """Expected outputs of a model, computed with ``onnx.reference.ReferenceEvaluator``.

    ``oracle(model, inputs)`` returns the outputs in the model's output order.  Evaluators
    are built once per model and used under a lock, so the oracle may be called from threads.
    """

    def __init__(self) -> None:
        self._evaluators: dict[int, tuple[ov.Model, Any]] = {}
        self._lock = threading.Lock()

    def __call__(self, model: ov.Model, inputs: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        from onnx.reference import ReferenceEvaluator

        with self._lock:
            entry = self._evaluators.get(id(model))
            if entry is None:  # the model is kept with its evaluator, so its id stays unique
                entry = self._evaluators[id(model)] = (model, ReferenceEvaluator(model.proto))
            names = [port.any_name for port in model.outputs]
            with np.errstate(all="ignore"):  # NaN and infinity in inputs are data here too
                outputs = entry[1].run(names, dict(inputs))
            return [np.asarray(value) for value in outputs]
