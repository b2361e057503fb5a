"""Conformance: sync and async inference, callbacks and userdata, asyncio, close."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

import ovlite as ov

from .base import ConformanceBase

if TYPE_CHECKING:
    from ovlite.binding import Results


class InferenceConformance(ConformanceBase):
    """Synchronous and asynchronous inference, callbacks and userdata, asyncio, close."""

    def test_infer_matches_the_reference(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        request = compile_model(model).create_infer_request()
        inputs = self.inputs(model, 1)
        results = request.infer(inputs)
        self.assert_outputs(results, reference(model, inputs), "infer()")
        self.assert_outputs(request.results, reference(model, inputs), "request.results")

    def test_calling_the_compiled_model_matches_the_reference(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        inputs = self.inputs(model, 2)
        self.assert_outputs(compile_model(model)(inputs), reference(model, inputs), "compiled()")

    def test_mixed_input_types_and_several_outputs_match_the_reference(
        self,
        two_inputs_model: ov.Model,
        compile_model: Callable[..., ov.CompiledModel],
        reference: Any,
    ) -> None:
        compiled = compile_model(two_inputs_model)
        inputs = self.inputs(two_inputs_model, 3)
        expected = reference(two_inputs_model, inputs)
        results = compiled(inputs)
        self.assert_outputs(results, expected)
        for index, port in enumerate(compiled.outputs):
            np.testing.assert_array_equal(results[port.any_name], results[index])

    def test_start_async_and_wait_match_the_reference(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        request = compile_model(model).create_infer_request()
        inputs = self.inputs(model, 4)
        request.start_async(inputs)
        self.finish(request)
        self.assert_outputs(request.results, reference(model, inputs), "start_async()")

    def test_callback_gets_the_userdata_of_each_start(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        request = compile_model(model).create_infer_request()
        seen: list[Any] = []
        request.set_callback(seen.append, "fixed")
        request.start_async(self.inputs(model, 5))
        self.finish(request)
        inputs = self.inputs(model, 6)
        request.start_async(inputs, userdata="per call")
        self.finish(request)
        assert seen == ["fixed", "per call"], f"the callback saw {seen}"
        self.assert_outputs(request.results, reference(model, inputs))

    def test_executed_on_names_this_device(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel]
    ) -> None:
        request = compile_model(model).create_infer_request()
        request.infer(self.inputs(model, 7))
        assert request.executed_on is not None, 'set_result info must name the "device"'
        assert ov.parse_device(request.executed_on).name == self.family

    def test_a_request_runs_many_inferences_in_turn(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        request = compile_model(model).create_infer_request()
        for seed in range(10, 16):
            inputs = self.inputs(model, seed)
            if seed % 2:
                request.start_async(inputs)
                self.finish(request)
            else:
                request.infer(inputs)
            self.assert_outputs(request.results, reference(model, inputs), f"inference {seed}")

    def test_results_stay_valid_after_the_next_inference(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        request = compile_model(model).create_infer_request()
        first_inputs = self.inputs(model, 20)
        first = request.infer(first_inputs)[0]  # no copy: the plugin must not reuse its buffer
        request.infer(self.inputs(model, 21))
        self.assert_outputs([first], reference(model, first_inputs)[:1], "an earlier result")

    def test_asyncio_inferences_match_the_reference(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        compiled = compile_model(model)
        request = compiled.create_infer_request()
        a, b = self.inputs(model, 22), self.inputs(model, 23)

        async def both() -> tuple[Results, Results]:
            first = await asyncio.wait_for(compiled.infer_async(a), self.timeout_s)
            second = await asyncio.wait_for(request.infer_async(b), self.timeout_s)
            return first, second

        first, second = asyncio.run(both())
        self.assert_outputs(first, reference(model, a), "compiled.infer_async()")
        self.assert_outputs(second, reference(model, b), "request.infer_async()")

    def test_each_inference_may_have_its_own_batch_size(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        self.require("dynamic_shapes")
        if not model.is_dynamic():
            pytest.skip("the model has no dynamic dimension")
        compiled = compile_model(model)
        request = compiled.create_infer_request()
        for batch in (1, 3, 8):
            inputs = self.inputs(model, 30 + batch, batch=batch)
            expected = reference(model, inputs)
            self.assert_outputs(request.infer(inputs), expected, f"batch {batch}")
            self.assert_outputs(compiled(inputs), expected, f"batch {batch}")

    def test_jobs_started_before_close_still_finish(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        compiled = compile_model(model)
        requests = [compiled.create_infer_request() for _ in range(3)]
        inputs = [self.inputs(model, 40 + i) for i in range(3)]
        for request, data in zip(requests, inputs, strict=True):
            request.start_async(data)
        compiled.close()
        for request, data in zip(requests, inputs, strict=True):
            self.finish(request)
            self.assert_outputs(request.results, reference(model, data), "a job before close")

    def test_an_inference_after_close_ends_without_hanging(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        compiled = compile_model(model)
        request = compiled.create_infer_request()
        compiled.close()
        inputs = self.inputs(model, 45)
        try:
            request.start_async(inputs)
            self.finish(request)
        except ov.OvliteError:
            return  # refusing work after close is right
        self.assert_outputs(request.results, reference(model, inputs), "a job after close")
