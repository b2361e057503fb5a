"""``GPUCompiledModel``: a model compiled into one GPU session per stream.

Each stream is a separate ONNX Runtime session, so each has its own compute stream on the
GPU (the CUDA provider creates one per session); the core's :class:`ovlite.plugin.StreamsExecutor`
hands jobs to the first free session, and ``infer()`` runs in the caller's thread.

Device tensors: when a request's inputs include ``onnxruntime.OrtValue`` objects, the run
goes through IO binding: those inputs are bound where they are (no copy to the host and
back), host arrays are bound as host inputs, and the outputs are allocated on the GPU (in
host memory for backends without a device memory name, ``Backend.memory``) and returned as
``OrtValue`` objects (``.numpy()`` copies one to the host).  Requests of plain
numpy arrays take ONNX Runtime's ordinary path and get numpy outputs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

import ovlite.properties as props
from ovlite import Model
from ovlite.plugin import CompiledModel, StreamsExecutor, is_device_tensor, session_runner

from .enumeration import GPUInfo
from .hints import BatchSizes, GPUPlan, batch_sizes, plan_streams
from .keys import TENSORRT
from .sessions import create_gpu_session

log = logging.getLogger("ovlite.gpu")


class GPUCompiledModel(CompiledModel):
    """A model on one GPU, run by ``NUM_STREAMS`` sessions; see the module docstring."""

    def __init__(
        self, model: Model, device_name: str, config: dict[str, Any], gpu: GPUInfo
    ) -> None:
        plan = plan_streams(config)
        sizes = batch_sizes(model.proto, gpu.memory_bytes, plan.streams)
        what = f"{device_name} could not compile model {model.friendly_name!r}"
        source = model.to_bytes()
        accelerate = bool(config.get(TENSORRT.name, True))
        sessions, providers, note = [], [], ""
        for _ in range(plan.streams):
            session, providers, note = create_gpu_session(
                source, gpu.backend, gpu.ordinal, what, accelerate
            )
            sessions.append(session)
            accelerate = accelerate and not note  # the other streams like the first
        #: The providers the sessions run on, as ONNX Runtime reports them.
        self.providers: list[str] = providers
        self.gpu = gpu
        self._plan = plan
        self._sessions = sessions
        reason = f"{plan.reason}; {gpu.backend.name} on {', '.join(providers)}"
        if note:
            reason += f" ({note})"
        log.debug("GPU: compiled %r on %s: %s", model.friendly_name, device_name, reason)

        run = _runner(
            [port.any_name for port in model.outputs],
            [port.any_name for port in model.inputs],
            MappingProxyType({"device": device_name}),
            gpu,
        )
        executor = StreamsExecutor(
            contexts=sessions, run=run, name=f"{device_name}:{model.friendly_name}"
        )
        accelerated = bool(gpu.backend.accelerator) and gpu.backend.accelerator in providers
        super().__init__(
            model,
            device_name,
            _properties(plan, sizes, reason, device_name, accelerated),
            executor,
        )

    @property
    def plan(self) -> GPUPlan:
        """The streams and requests this model runs with."""
        return self._plan

    @property
    def sessions(self) -> list[Any]:
        """Each stream's ``onnxruntime.InferenceSession`` (empty once closed)."""
        return list(self._sessions)

    def close(self) -> None:
        """Stop the streams after the queued jobs and release the sessions."""
        super().close()  # stops the executor after the queued jobs
        self._sessions = []


def _properties(
    plan: GPUPlan, sizes: BatchSizes, reason: str, device_name: str, accelerated: bool
) -> dict[str, Any]:
    return {
        props.hint.performance_mode.name: plan.hint,
        props.hint.num_requests.name: plan.num_requests,
        props.streams.num.name: plan.streams,
        props.optimal_number_of_infer_requests.name: plan.optimal_requests,
        props.optimal_batch_size.name: sizes.optimal,
        props.max_batch_size.name: sizes.maximum,
        props.configuration_reason.name: f"{reason}; {sizes.reason}",
        props.execution_devices.name: [device_name],
        TENSORRT.name: accelerated,
    }


def _runner(output_names: list[str], input_names: list[str], info: Any, gpu: GPUInfo) -> Any:
    """``run(session, inputs)``: the shared host path (:func:`ovlite.onnxruntime.session_runner`)
    for host arrays, IO binding when any input is a device tensor."""
    memory = gpu.backend.memory or "cpu"
    device_id = (gpu.ordinal or 0) if gpu.backend.memory else 0
    run_on_host = session_runner(output_names, input_names, info)

    def run(session: Any, inputs: Sequence[Any]) -> tuple[list[Any], Any]:
        if any(is_device_tensor(value) for value in inputs):
            return _run_bound(session, inputs), info
        return run_on_host(session._sess, inputs)

    def _run_bound(session: Any, inputs: Sequence[Any]) -> list[Any]:
        binding = session.io_binding()
        for name, value in zip(input_names, inputs, strict=True):
            if is_device_tensor(value):
                binding.bind_ortvalue_input(name, value)
            else:
                binding.bind_cpu_input(name, np.ascontiguousarray(value))
        for name in output_names:
            binding.bind_output(name, memory, device_id)
        session.run_with_iobinding(binding)
        return binding.get_outputs()

    return run


__all__ = ["GPUCompiledModel"]
