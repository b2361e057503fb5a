"""Conformance: bad inputs raise typed errors before reaching the device."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import ovlite as ov

from .base import ConformanceBase


def _unconvertible(dtype: np.dtype) -> np.dtype:
    """An element type that does not convert safely to ``dtype``."""
    if dtype.kind == "f":
        return np.dtype(np.complex64)
    if dtype.kind in "iu":
        return np.dtype(np.float32)
    return np.dtype(np.float32) if dtype.kind == "b" else np.dtype(np.complex128)


class BadInputConformance(ConformanceBase):
    """Bad inputs raise typed errors before reaching the device; the request stays usable."""

    def _first_input_replaced(self, model: ov.Model, seed: int, value: Any) -> dict[str, Any]:
        inputs: dict[str, Any] = dict(self.inputs(model, seed))
        inputs[model.inputs[0].any_name] = value
        return inputs

    def _still_usable(
        self, request: ov.InferRequest, model: ov.Model, reference: Any, seed: int
    ) -> None:
        assert not request.is_busy, "a refused input left the request busy"
        inputs = self.inputs(model, seed)
        self.assert_outputs(request.infer(inputs), reference(model, inputs), "after a bad input")

    def test_wrong_shape_is_an_input_shape_error(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        request = compile_model(model).create_infer_request()
        good = self.inputs(model, 200)[model.inputs[0].any_name]
        bad = self._first_input_replaced(model, 200, good[..., np.newaxis])
        with pytest.raises(ov.InputShapeError, match=re.escape(model.inputs[0].any_name)):
            request.infer(bad)
        with pytest.raises(ov.InputShapeError):
            request.start_async(bad)
        self._still_usable(request, model, reference, 201)

    def test_unconvertible_element_type_is_an_input_type_error(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        request = compile_model(model).create_infer_request()
        good = self.inputs(model, 202)[model.inputs[0].any_name]
        bad = self._first_input_replaced(model, 202, good.astype(_unconvertible(good.dtype)))
        with pytest.raises(ov.InputTypeError, match=re.escape(model.inputs[0].any_name)):
            request.infer(bad)
        self._still_usable(request, model, reference, 203)

    def test_missing_input_is_a_missing_input_error(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        request = compile_model(model).create_infer_request()
        with pytest.raises(ov.MissingInputError):
            request.infer({})
        self._still_usable(request, model, reference, 204)

    def test_unknown_input_name_is_an_input_name_error(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        request = compile_model(model).create_infer_request()
        inputs: dict[str, Any] = dict(self.inputs(model, 205))
        inputs["no_such_input"] = next(iter(inputs.values()))
        with pytest.raises(ov.InputNameError, match="no_such_input"):
            request.infer(inputs)
        self._still_usable(request, model, reference, 206)

    def test_bad_input_to_a_queue_leaves_the_request_in_the_pool(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel]
    ) -> None:
        queue = ov.AsyncInferQueue(compile_model(model), 1)
        good = self.inputs(model, 207)[model.inputs[0].any_name]
        with pytest.raises(ov.InputShapeError):
            queue.start_async(self._first_input_replaced(model, 207, good[..., np.newaxis]))
        assert queue.is_ready()
        queue.start_async(self.inputs(model, 208))
        self.wait_all(queue)

    def test_nan_and_infinity_are_data(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        inputs = self.inputs(model, 209)
        name = model.inputs[0].any_name
        if inputs[name].dtype.kind != "f":
            pytest.skip("the model's first input is not floating point")
        inputs[name].flat[0] = np.nan
        inputs[name].flat[-1] = np.inf
        self.assert_outputs(compile_model(model)(inputs), reference(model, inputs), "NaN input")

    def test_same_kind_conversions_are_applied(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        inputs = self.inputs(model, 210)
        wider = {
            name: array.astype(np.float64) if array.dtype.kind == "f" else array
            for name, array in inputs.items()
        }
        if all(array.dtype.kind != "f" for array in inputs.values()):
            pytest.skip("the model has no floating-point input")
        self.assert_outputs(compile_model(model)(wider), reference(model, inputs), "f64 input")
