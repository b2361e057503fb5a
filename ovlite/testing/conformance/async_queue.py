"""Conformance: ``AsyncInferQueue`` over the device."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import ovlite as ov
from ovlite import properties as props

from .base import ConformanceBase


class AsyncQueueConformance(ConformanceBase):
    """``AsyncInferQueue`` over the device: sizes, userdata, callbacks, errors, reuse."""

    def test_default_size_is_the_optimal_number_of_requests(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel]
    ) -> None:
        compiled = compile_model(model, self.throughput())
        queue = ov.AsyncInferQueue(compiled)
        assert len(queue) == compiled.get_property(props.optimal_number_of_infer_requests)

    @pytest.mark.parametrize("size", [0, 1, 5])
    def test_every_job_is_answered_once_with_its_own_userdata(
        self,
        model: ov.Model,
        compile_model: Callable[..., ov.CompiledModel],
        reference: Any,
        size: int,
    ) -> None:
        queue = ov.AsyncInferQueue(compile_model(model, self.throughput()), size)
        inputs = [self.inputs(model, 100 + i) for i in range(3 * len(queue) + 5)]
        answers: dict[int, list[np.ndarray]] = {}
        repeated: list[int] = []
        lock = threading.Lock()

        def on_done(request: ov.InferRequest, userdata: int) -> None:
            outputs = [np.array(request.results[i]) for i in range(len(request.model_outputs))]
            with lock:
                if userdata in answers:
                    repeated.append(userdata)
                answers[userdata] = outputs

        queue.set_callback(on_done)
        for index, data in enumerate(inputs):
            queue.start_async(data, userdata=index)
        self.wait_all(queue)
        assert not repeated, f"userdata answered twice: {repeated}"
        assert sorted(answers) == list(range(len(inputs))), "some jobs were never answered"
        for index, data in enumerate(inputs):
            self.assert_outputs(answers[index], reference(model, data), f"job {index}")

    def test_set_inputs_on_the_idle_request_then_start_without_inputs(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        queue = ov.AsyncInferQueue(compile_model(model, self.throughput()))
        results: dict[int, np.ndarray] = {}
        queue.set_callback(
            lambda request, userdata: results.__setitem__(userdata, np.array(request.results[0]))
        )
        inputs = [self.inputs(model, 120 + i) for i in range(2 * len(queue) + 1)]
        for index, data in enumerate(inputs):
            request = queue[queue.get_idle_request_id()]
            for name, array in data.items():
                request.set_tensor(name, array)
            queue.start_async(userdata=index)
        self.wait_all(queue)
        for index, data in enumerate(inputs):
            self.assert_outputs([results[index]], reference(model, data)[:1], f"job {index}")

    def test_a_failing_callback_is_raised_once_and_the_queue_goes_on(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel]
    ) -> None:
        queue = ov.AsyncInferQueue(compile_model(model, self.throughput()), 2)
        seen: list[int] = []

        def callback(request: ov.InferRequest, userdata: int) -> None:
            seen.append(userdata)
            if userdata == 1:
                raise KeyError("raised by the callback for job 1")

        queue.set_callback(callback)
        raised: list[KeyError] = []
        for index in range(4):
            while True:  # start_async may raise the error first; the job then did not start
                try:
                    queue.start_async(self.inputs(model, 130 + index), userdata=index)
                    break
                except KeyError as exc:
                    raised.append(exc)
        while True:
            try:
                self.wait_all(queue)
                break
            except KeyError as exc:
                raised.append(exc)
        assert len(raised) == 1 and "callback for job 1" in str(raised[0]), raised
        queue.start_async(self.inputs(model, 134), userdata=4)
        self.wait_all(queue)
        assert sorted(seen) == [0, 1, 2, 3, 4]
        assert queue.is_ready()
