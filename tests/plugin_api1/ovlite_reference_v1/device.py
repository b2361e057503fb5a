"""The REFERENCE device: ONNX models run by the ``onnx`` package's reference evaluator.

This module is the whole device, in the order ovlite uses it:

1. :class:`ReferenceDevice` says whether it can run here (``availability``), which settings
   it takes (``config_keys``) and their defaults (``device_properties``), refuses settings it
   cannot honour (``check_config``) and compiles models (``compile_model``).
2. :func:`plan_streams` turns the performance hint into a number of streams, with the
   sentence reported as ``OVLITE_CONFIGURATION_REASON``.
3. :class:`ReferenceCompiledModel` holds one evaluator per stream, reports what it chose,
   and hands jobs to an ``ovlite.StreamsExecutor``, which runs them and finishes each job
   exactly once.

The reference evaluator is pure Python over numpy: it runs anywhere ``onnx`` installs and
follows the ONNX specification to the letter, which makes REFERENCE a correctness oracle for
other devices.  It is also slow, so its AUTO priority is below every real device.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

import ovlite
import ovlite.properties as props
from ovlite.properties.hint import PerformanceMode
from ovlite.properties.streams import Num

log = logging.getLogger("ovlite.reference")

#: Streams the THROUGHPUT hint picks.  More would not help: see plan_streams.
THROUGHPUT_STREAMS = 2

#: What the evaluator calls ``exec_type`` in profiling entries.
ENGINE = "onnx.reference"


class ReferenceDevice(ovlite.Device):
    """ONNX models run exactly, and slowly, by ``onnx.reference.ReferenceEvaluator``.

    Settings: ``PERFORMANCE_HINT``, ``PERFORMANCE_HINT_NUM_REQUESTS``, ``NUM_STREAMS``,
    ``PERF_COUNT`` (per-node timings) and ``INFERENCE_PRECISION_HINT`` (``f32`` only).
    """

    name = "REFERENCE"
    # AUTO tries devices by priority, highest first: accelerators use 100 and more, CPU 10.
    # A pure-Python evaluator is orders of magnitude slower than any of them, so it comes
    # last: AUTO picks REFERENCE only when no other device can run the model.
    priority = -50
    # Compiling is quick, but serving from this device while a faster one compiles would
    # be slower than waiting, so it does not offer itself for AUTO's start-up fallback.
    quick_compile = False
    config_keys = frozenset(
        {
            props.hint.performance_mode.name,
            props.hint.num_requests.name,
            props.streams.num.name,
            props.enable_profiling.name,
            props.hint.inference_precision.name,
        }
    )

    def availability(self) -> ovlite.Availability:
        """Available wherever ``onnx.reference`` imports; the reason names the onnx version."""
        try:
            import onnx
            from onnx.reference import ReferenceEvaluator  # noqa: F401
        except Exception as exc:  # a missing or broken onnx fails in many ways
            return ovlite.Availability(
                False,
                f"the onnx reference evaluator cannot be imported ({type(exc).__name__}: {exc}); "
                "pip install 'onnx>=1.15'",
            )
        return ovlite.Availability(
            True, f"onnx {onnx.__version__} reference evaluator: pure Python, exact and slow"
        )

    def full_device_name(self, device_id: str | None = None) -> str:
        return "ONNX reference evaluator (pure Python, exact, slow)"

    def device_properties(self, device_id: str | None = None) -> dict[str, Any]:
        """Facts about the device, and the default of every setting in ``config_keys``.

        ``core.get_property("REFERENCE", key)`` and ``ovlite devices -v`` read every key in
        ``SUPPORTED_PROPERTIES``, which includes ``config_keys``: each needs a default here.
        """
        return {
            props.device.capabilities.name: [props.device.Capability.FP32],
            props.device.architecture.name: "python",
            props.range_for_streams.name: (1, os.cpu_count() or 1),
            props.hint.performance_mode.name: PerformanceMode.LATENCY,
            props.hint.num_requests.name: 0,
            props.streams.num.name: 1,
            props.enable_profiling.name: False,
            props.hint.inference_precision.name: ovlite.Type.f32,
        }

    def check_config(self, config: Mapping[str, Any]) -> None:
        """Refuse settings outside ``config_keys`` (the base class) and any precision but f32.

        The core calls this before ``compile_model`` and on ``core.set_property``; values
        arrive converted already (``INFERENCE_PRECISION_HINT`` is an ``ovlite.Type``).
        """
        super().check_config(config)
        precision = config.get(props.hint.inference_precision.name)
        if precision is not None and precision != ovlite.Type.f32:
            raise ovlite.PropertyValueError(
                f"INFERENCE_PRECISION_HINT {precision} is not supported by the {self.name} "
                "device: the reference evaluator computes in the model's own types (f32 for "
                "f32 models); pass f32 or leave the hint unset"
            )

    def compile_model(
        self, model: ovlite.Model, spec: ovlite.DeviceSpec, config: dict[str, Any], core: Any
    ) -> ovlite.CompiledModel:
        """Compile for ``spec`` (``REFERENCE``) with a config the core has checked."""
        return ReferenceCompiledModel(model, spec.full_name, config)


def plan_streams(config: Mapping[str, Any]) -> tuple[int, str]:
    """The number of streams for a config, and the sentence that explains it.

    - ``NUM_STREAMS`` given as a number wins over the hint.
    - ``LATENCY`` (the default): one stream.
    - ``THROUGHPUT``, ``CUMULATIVE_THROUGHPUT``, ``NUM_STREAMS=AUTO`` or ``NUMA``:
      :data:`THROUGHPUT_STREAMS` streams, capped by ``PERFORMANCE_HINT_NUM_REQUESTS``.

    The evaluator is pure Python, so streams overlap only inside numpy calls that release
    the GIL (large matrix products, convolutions): more streams mostly add waiting.
    """
    hint = config.get(props.hint.performance_mode.name, PerformanceMode.LATENCY)
    requested = config.get(props.streams.num.name)
    cap = int(config.get(props.hint.num_requests.name, 0))
    if requested is not None and int(requested) >= 1:
        streams = int(requested)
        why = f"NUM_STREAMS={streams} (explicit, wins over the {hint} hint)"
    elif requested is None and hint == PerformanceMode.LATENCY:
        streams, why = 1, "LATENCY: 1 stream"
    else:
        if requested == Num.NUMA:
            label = "NUM_STREAMS=NUMA (no NUMA placement here, treated as AUTO)"
        elif requested == Num.AUTO:
            label = "NUM_STREAMS=AUTO"
        else:
            label = str(hint)
        streams = THROUGHPUT_STREAMS
        why = f"{label}: {streams} streams"
        if 0 < cap < streams:
            streams = cap
            why += f", capped to {cap} by PERFORMANCE_HINT_NUM_REQUESTS"
    if streams > 1:
        why += (
            "; the reference evaluator is pure Python and holds the GIL, so streams overlap "
            "only inside large numpy operations: expect little speed-up over one stream"
        )
    return streams, why


class ReferenceCompiledModel(ovlite.CompiledModel):
    """A model compiled for REFERENCE: one reference evaluator per stream.

    ``submit`` queues a job for the first free stream and returns at once; ``run`` runs
    one inference in the caller's thread on an idle stream.  Both go through the streams
    executor: for a job it calls ``job.begin()``, runs :meth:`_run` and finishes the job.
    """

    def __init__(self, model: ovlite.Model, device_name: str, config: Mapping[str, Any]) -> None:
        streams, reason = plan_streams(config)
        profiling = bool(config.get(props.enable_profiling.name, False))
        log.debug("%s: compiling %r: %s", device_name, model.friendly_name, reason)
        super().__init__(
            model,
            device_name,
            {
                # what every compiled model must report
                props.hint.performance_mode.name: config.get(
                    props.hint.performance_mode.name, PerformanceMode.LATENCY
                ),
                props.optimal_number_of_infer_requests.name: streams,
                props.configuration_reason.name: reason,
                props.execution_devices.name: [device_name],
                # what it may report: the settings as applied
                props.streams.num.name: streams,
                props.hint.num_requests.name: int(config.get(props.hint.num_requests.name, 0)),
                props.enable_profiling.name: profiling,
                props.hint.inference_precision.name: ovlite.Type.f32,
            },
        )
        self._input_names = [port.any_name for port in model.inputs]
        self._output_names = [port.any_name for port in model.outputs]
        self._output_types = [_dtype_of(port) for port in model.outputs]
        contexts = [_Stream(model, device_name, profiling) for _ in range(streams)]
        self._executor = ovlite.StreamsExecutor(contexts, self._run, device_name)

    def _run(
        self, stream: _Stream, inputs: Sequence[np.ndarray]
    ) -> tuple[list[np.ndarray], dict[str, Any]]:
        """Run one job's inputs (arrays in input order) on ``stream``; one thread at a time.

        An exception raised here fails the job with ``ovlite.InferenceError`` (the streams
        executor keeps the original as its cause); the stream stays usable.
        """
        feeds = dict(zip(self._input_names, inputs, strict=True))
        values, profiling = stream.run(self._output_names, feeds)
        outputs = []
        for value, dtype in zip(values, self._output_types, strict=True):
            array = np.asarray(value) if dtype is None else np.asarray(value, dtype=dtype)
            # An output may be an input passed through (Identity, Reshape): copy it, since
            # the caller may overwrite its input tensor while still holding these results.
            if any(np.may_share_memory(array, given) for given in inputs):
                array = array.copy()
            outputs.append(array)
        info: dict[str, Any] = {"device": self.device_name}
        if profiling is not None:
            info["profiling"] = profiling
        return outputs, info

    def submit(self, job: ovlite.Job) -> None:
        """Queue ``job`` for the first free stream; never blocks."""
        self._executor.submit(job)

    def run(self, inputs: Sequence[np.ndarray]) -> tuple[Sequence[np.ndarray], Any]:
        """Run one inference in the calling thread on an idle stream (waits for one if all
        are busy); ``infer()`` and ``compiled(...)`` use it."""
        return self._executor.call(inputs)

    def close(self) -> None:
        """Finish the jobs already queued, then stop the streams; later jobs are cancelled."""
        super().close()
        self._executor.close()


class _Stream:
    """One execution context: a reference evaluator, used by one thread at a time.

    With profiling on, each node's ``run`` is wrapped to time it, so a run reports one
    ``ovlite.ProfilingInfo`` per node, in execution order.
    """

    def __init__(self, model: ovlite.Model, device_name: str, profiling: bool) -> None:
        from onnx.reference import ReferenceEvaluator

        try:
            self.evaluator = ReferenceEvaluator(model.proto)
        except Exception as exc:  # unknown operator, unsupported opset, invalid attribute
            raise ovlite.CompileError(
                f"{device_name} cannot compile {model.friendly_name!r}: the onnx reference "
                f"evaluator refused it: {type(exc).__name__}: {exc}"
            ) from exc
        self.profiling = profiling
        self._timings: list[ovlite.ProfilingInfo] = []
        if profiling:
            # rt_nodes_ is the evaluator's list of node implementations; when a future onnx
            # renames it, profiling falls back to one entry for the whole graph.
            for index, node in enumerate(getattr(self.evaluator, "rt_nodes_", [])):
                name = node.onnx_node.name or f"{node.op_type}_{index}"
                node.run = self._timed(node.run, name, node.op_type)

    def _timed(self, run: Any, node_name: str, node_type: str) -> Any:
        def timed_run(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return run(*args, **kwargs)
            finally:
                self._timings.append(
                    ovlite.ProfilingInfo(
                        node_name,
                        node_type,
                        real_time=(time.perf_counter() - wall) * 1e6,
                        cpu_time=(time.thread_time() - cpu) * 1e6,
                        exec_type=ENGINE,
                    )
                )

        return timed_run

    def run(
        self, output_names: list[str], feeds: dict[str, np.ndarray]
    ) -> tuple[list[Any], list[ovlite.ProfilingInfo] | None]:
        """The outputs, and the profiling entries of this run (``None`` when profiling is off).

        NaN and infinity are data: numpy's warnings about them are silenced for the run.
        """
        if not self.profiling:
            with np.errstate(all="ignore"):
                return self.evaluator.run(output_names, feeds), None
        self._timings = []
        wall, cpu = time.perf_counter(), time.thread_time()
        with np.errstate(all="ignore"):
            outputs = self.evaluator.run(output_names, feeds)
        timings = self._timings or [
            ovlite.ProfilingInfo(
                "graph",
                "whole model",
                real_time=(time.perf_counter() - wall) * 1e6,
                cpu_time=(time.thread_time() - cpu) * 1e6,
                exec_type=ENGINE,
            )
        ]
        return outputs, timings


def _dtype_of(port: ovlite.Port) -> np.dtype | None:
    """The numpy type of a port, or ``None`` when the model leaves it undefined."""
    try:
        return np.dtype(port.element_type.to_dtype())
    except Exception:
        return None
