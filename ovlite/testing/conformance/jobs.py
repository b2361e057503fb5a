"""Conformance: the plugin side of the contract (``submit``, ``run``, jobs), driven directly."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

import ovlite as ov

from .base import ConformanceBase


class _RecordingJob(ov.Job):
    """A job that records how the plugin finished it and in which thread."""

    def __init__(self, inputs: Sequence[np.ndarray]) -> None:
        super().__init__(inputs, self._on_done)
        self.finished = threading.Event()
        self.finish_calls = 0
        self.done_in: int | None = None

    def set_result(self, outputs: Sequence[np.ndarray], info: dict[str, Any] | None = None) -> None:
        self.finish_calls += 1
        super().set_result(outputs, info)

    def set_error(self, error: BaseException, info: dict[str, Any] | None = None) -> None:
        self.finish_calls += 1
        super().set_error(error, info)

    def _on_done(self, job: ov.Job) -> None:
        self.done_in = threading.get_ident()
        self.finished.set()


def _in_port_order(model: ov.Model, inputs: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    return [inputs[port.any_name] for port in model.inputs]


class JobConformance(ConformanceBase):
    """The plugin side of the contract, driven directly: ``submit``, ``run``, jobs."""

    def test_submit_finishes_a_job_exactly_once_with_outputs_in_output_order(
        self,
        two_inputs_model: ov.Model,
        compile_model: Callable[..., ov.CompiledModel],
        reference: Any,
    ) -> None:
        compiled = compile_model(two_inputs_model)
        inputs = self.inputs(two_inputs_model, 50)
        job = _RecordingJob(_in_port_order(two_inputs_model, inputs))
        compiled.device_model.submit(job)
        assert job.finished.wait(self.timeout_s), "submit() never finished the job"
        assert job.error is None, f"the job failed: {job.error!r}"
        assert job.finish_calls == 1, f"the job was finished {job.finish_calls} times"
        self.assert_outputs(list(job.outputs or []), reference(two_inputs_model, inputs))
        assert job.info is None or isinstance(job.info, Mapping), "info must be a mapping"

    def test_submit_runs_the_job_in_another_thread(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel]
    ) -> None:
        compiled = compile_model(model)
        job = _RecordingJob(_in_port_order(model, self.inputs(model, 51)))
        compiled.device_model.submit(job)
        assert job.finished.wait(self.timeout_s), "submit() never finished the job"
        assert job.done_in != threading.get_ident(), (
            "submit() ran the job in the caller's thread; it must return at once and run the "
            "job elsewhere (run() is the place for running in the caller's thread)"
        )

    def test_run_returns_outputs_in_output_order_and_a_mapping_of_info(
        self,
        two_inputs_model: ov.Model,
        compile_model: Callable[..., ov.CompiledModel],
        reference: Any,
    ) -> None:
        compiled = compile_model(two_inputs_model)
        inputs = self.inputs(two_inputs_model, 52)
        outputs, info = compiled.device_model.run(_in_port_order(two_inputs_model, inputs))
        self.assert_outputs(list(outputs), reference(two_inputs_model, inputs), "run()")
        assert info is None or isinstance(info, Mapping), "info must be a mapping"

    def test_a_job_cancelled_before_submit_is_dropped_not_run(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel]
    ) -> None:
        compiled = compile_model(model)
        cancelled = _RecordingJob(_in_port_order(model, self.inputs(model, 53)))
        assert cancelled.cancel()
        compiled.device_model.submit(cancelled)
        # jobs after it give the plugin time to reach it (most devices take jobs in order)
        later = [
            _RecordingJob(_in_port_order(model, self.inputs(model, 54 + i)))
            for i in range(2 * compiled.optimal_number_of_requests + 1)
        ]
        for job in later:
            compiled.device_model.submit(job)
        for job in later:
            assert job.finished.wait(self.timeout_s), "submit() never finished a job"
        assert cancelled.finish_calls == 0, (
            "the plugin finished a cancelled job: call job.begin() first and drop the job "
            "when it returns False"
        )
        assert isinstance(cancelled.error, ov.RequestCancelledError)

    def test_a_callback_may_start_the_next_inference(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        compiled = compile_model(model)
        chain = [compiled.create_infer_request() for _ in range(8)]
        inputs = [self.inputs(model, 60 + i) for i in range(len(chain))]
        for index, request in enumerate(chain[:-1]):
            following, data = chain[index + 1], inputs[index + 1]
            request.set_callback(lambda _, nxt=following, d=data: nxt.start_async(d))
        chain[0].start_async(inputs[0])
        for request, data in zip(chain, inputs, strict=True):
            self.finish(request)
            self.assert_outputs(request.results, reference(model, data), "a chained inference")
