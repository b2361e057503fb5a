"""Conformance: ``request.cancel()`` is best effort."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ovlite as ov

from .base import ConformanceBase


class CancellationConformance(ConformanceBase):
    """``request.cancel()`` is best effort: a job is cancelled, or completes correctly."""

    def test_cancelling_a_queued_inference_cancels_it_or_lets_it_complete(
        self,
        core: ov.Core,
        model: ov.Model,
        compile_model: Callable[..., ov.CompiledModel],
        reference: Any,
    ) -> None:
        self.require("cancellation")
        compiled = compile_model(model, self.one_stream(core))
        victim = compiled.create_infer_request()
        inputs = self.inputs(model, 800)
        with self.stream_held(compiled, model):
            victim.start_async(inputs)
            victim.cancel()
        if self.outcome(victim) == "completed":
            self.assert_outputs(victim.results, reference(model, inputs), "a job cancel() missed")
        again = self.inputs(model, 801)
        self.assert_outputs(victim.infer(again), reference(model, again), "after cancel()")

    def test_cancelling_some_inferences_leaves_the_others_intact(
        self,
        core: ov.Core,
        model: ov.Model,
        compile_model: Callable[..., ov.CompiledModel],
        reference: Any,
    ) -> None:
        self.require("cancellation")
        compiled = compile_model(model, self.one_stream(core))
        requests = [compiled.create_infer_request() for _ in range(8)]
        inputs = [self.inputs(model, 810 + i) for i in range(len(requests))]
        callbacks: list[int] = []
        for index, request in enumerate(requests):
            request.set_callback(callbacks.append, index)
        with self.stream_held(compiled, model):
            for request, data in zip(requests, inputs, strict=True):
                request.start_async(data)
            for request in requests[1::2]:
                request.cancel()
        completed = []
        for index, (request, data) in enumerate(zip(requests, inputs, strict=True)):
            outcome = self.outcome(request)
            assert outcome == "completed" or index % 2, (
                f"request {index} was cancelled, but only odd requests were"
            )
            if outcome == "completed":
                completed.append(index)
                self.assert_outputs(request.results, reference(model, data), f"request {index}")
        assert sorted(callbacks) == completed, (
            f"callbacks ran for {sorted(callbacks)}, but the completed requests are {completed}"
        )

    def test_cancel_after_an_inference_keeps_its_results(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        request = compile_model(model).create_infer_request()
        request.cancel()  # nothing in flight: nothing happens
        inputs = self.inputs(model, 820)
        request.infer(inputs)
        request.cancel()
        self.assert_outputs(request.results, reference(model, inputs), "after a late cancel()")
