"""Conformance: many requests from many threads at once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

import ovlite as ov

from .base import ConformanceBase

if TYPE_CHECKING:
    from ovlite.binding import Results


class ConcurrencyConformance(ConformanceBase):
    """Many requests from many threads at once: each gets its own, correct, result."""

    threads: ClassVar[int] = 8
    per_thread: ClassVar[int] = 10

    def _cases(self, model: ov.Model, reference: Any, first_seed: int, count: int) -> list:
        cases = []
        for seed in range(first_seed, first_seed + count):
            inputs = self.inputs(model, seed)
            cases.append((inputs, reference(model, inputs)))
        return cases

    def test_many_threads_calling_one_compiled_model(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        compiled = compile_model(model, self.throughput())
        cases = self._cases(model, reference, 300, self.threads * self.per_thread)

        def worker(index: int) -> None:
            for inputs, expected in cases[index :: self.threads]:
                self.assert_outputs(compiled(inputs), expected, "a concurrent call")

        self.in_threads(worker, self.threads)

    def test_many_threads_each_with_its_own_request(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        compiled = compile_model(model, self.throughput())
        cases = self._cases(model, reference, 400, self.threads * self.per_thread)

        def worker(index: int) -> None:
            request = compiled.create_infer_request()
            for turn, (inputs, expected) in enumerate(cases[index :: self.threads]):
                if turn % 2:
                    request.start_async(inputs)
                    self.finish(request)
                    self.assert_outputs(request.results, expected, "a concurrent start_async")
                else:
                    self.assert_outputs(request.infer(inputs), expected, "a concurrent infer")

        self.in_threads(worker, self.threads)

    def test_many_threads_sharing_one_async_queue(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        queue = ov.AsyncInferQueue(compile_model(model, self.throughput()))
        producers = 4
        cases = self._cases(model, reference, 500, producers * self.per_thread)
        answers: dict[int, list[np.ndarray]] = {}
        lock = threading.Lock()

        def on_done(request: ov.InferRequest, userdata: int) -> None:
            outputs = [np.array(request.results[i]) for i in range(len(request.model_outputs))]
            with lock:
                answers[userdata] = outputs

        queue.set_callback(on_done)

        def producer(index: int) -> None:
            for case in range(index, len(cases), producers):
                queue.start_async(cases[case][0], userdata=case)

        self.in_threads(producer, producers)
        self.wait_all(queue)
        assert sorted(answers) == list(range(len(cases))), "some jobs were never answered"
        for case, (_, expected) in enumerate(cases):
            self.assert_outputs(answers[case], expected, f"queued job {case}")

    def test_many_requests_in_flight_at_once(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        compiled = compile_model(model, self.throughput())
        count = 4 * compiled.optimal_number_of_requests + 3
        cases = self._cases(model, reference, 600, count)
        requests = [compiled.create_infer_request() for _ in range(count)]
        for request, (inputs, _) in zip(requests, cases, strict=True):
            request.start_async(inputs)
        for request, (_, expected) in zip(requests, cases, strict=True):
            self.finish(request)
            self.assert_outputs(request.results, expected, "one of many requests in flight")

    def test_many_asyncio_inferences_at_once(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        compiled = compile_model(model, self.throughput())
        cases = self._cases(model, reference, 700, 32)

        async def everything() -> list[Results]:
            pending = [compiled.infer_async(inputs) for inputs, _ in cases]
            return await asyncio.wait_for(asyncio.gather(*pending), self.timeout_s)

        for results, (_, expected) in zip(asyncio.run(everything()), cases, strict=True):
            self.assert_outputs(results, expected, "an asyncio inference")
