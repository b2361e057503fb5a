"""``CPUCompiledModel``: a model compiled into one ONNX Runtime session per stream."""

from __future__ import annotations

import logging
import shutil
import tempfile
import weakref
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

import ovlite.properties as props
from ovlite import CompileError, Model, Type
from ovlite.plugin import (
    CompiledModel,
    StreamBatching,
    StreamsExecutor,
    session_runner,
    stoppable_session_runner,
)
from ovlite.properties.hint import ExecutionMode, PerformanceMode

from . import batching, topology
from .cache import ModelCache, OptimizedModel, build_temporary, cache_key
from .hints import Settings, StreamPlan, model_cost, plan_streams
from .profiling import ProfiledStream
from .sessions import (
    SHARED_MIN_BYTES,
    apply_settings,
    create_session,
    optimizer_options,
    stream_options,
)
from .weights import SharedWeights, load_shared_weights

log = logging.getLogger("ovlite.cpu")

#: Settings that change the optimized graph, and so the cache key.
GRAPH_SETTINGS = {"optimization": "ORT_ENABLE_ALL", "shared_min_bytes": SHARED_MIN_BYTES}

#: In the configuration reason when the streams could not share the optimized graph.
UNSHARED_NOTE = (
    "ONNX Runtime could not load the optimized graph it wrote, so each stream optimizes the "
    "model itself and holds its own weights"
)


#: What compiling gives: the optimized model, its shared weights, one session per stream, and
#: a note on what the cache did.
Compiled = tuple[OptimizedModel, SharedWeights, list[Any], str]


class CPUCompiledModel(CompiledModel):
    """A model on ONNX Runtime's CPU provider, run by ``NUM_STREAMS`` sessions.

    The sessions share one copy of the weights; ``submit`` queues jobs for the first free
    stream, ``run`` runs in the calling thread.  ``OVLITE_CONFIGURATION_REASON`` says
    how streams and threads were chosen.
    """

    def __init__(self, model: Model, device_name: str, config: dict[str, Any]) -> None:
        import onnxruntime as ort

        settings = Settings.from_config(config)
        cost = model_cost(model.proto)
        plan = plan_streams(settings, topology.detect(), cost)
        self._plan = plan
        self._profiling = bool(config.get(props.enable_profiling.name, False))
        denormals = bool(config.get(props.intel_cpu.denormals_optimization.name, False))
        log_level = config.get(props.log.level.name, props.log.Level.NO)
        execution_mode = config.get(props.hint.execution_mode.name, ExecutionMode.PERFORMANCE)
        self._session_config = {
            props.intel_cpu.denormals_optimization.name: denormals,
            props.log.level.name: config.get(props.log.level.name),
        }
        cache_dir = config.get(props.cache_dir.name) or None
        self._temp_dirs: list[str] = []
        self._finalizer = weakref.finalize(self, _remove_dirs, self._temp_dirs)

        allow_batching = bool(config.get(props.hint.allow_auto_batching.name, True))
        candidate = batching.candidate(
            model,
            throughput=settings.hint != PerformanceMode.LATENCY,
            allowed=allow_batching,
            accuracy=execution_mode == ExecutionMode.ACCURACY,
            profiling=self._profiling,
            flops=cost.flops,
        )
        compiled = self._compile(model, plan, cache_dir, ort.__version__)

        output_names = [port.any_name for port in model.outputs]
        input_names = [port.any_name for port in model.inputs]
        run_stoppable = None  # how a timeout stops a sync run in the caller's thread
        # the ports' element types: bf16 ones are fed and fetched as words
        types = (
            [port.element_type for port in model.inputs],
            [port.element_type for port in model.outputs],
        )
        info = MappingProxyType({"device": device_name})
        run = session_runner(output_names, input_names, info, *types)
        batched, batching_note = False, candidate.note
        if candidate.batched_model is not None:
            compiled, batching_note, batched = self._try_batching(
                model, candidate.batched_model, run, compiled, (plan, cache_dir, ort.__version__)
            )
        optimized, weights, streams, note = compiled
        #: The one copy of the weights every stream's session reads.
        self.weights: SharedWeights = weights
        self._streams: list[Any] = streams
        if self._profiling:
            contexts: list[Any] = streams
            run = _profiled_run(
                session_runner(output_names, input_names, None, *types), device_name
            )
        else:
            contexts = [_session(stream) for stream in streams]
            run_stoppable = stoppable_session_runner(output_names, input_names, info, *types)
        requests = plan.optimal_requests
        if batched:
            requests = max(requests, batching.BATCHED_REQUESTS)
            if settings.num_requests:  # the application keeps no more in flight
                requests = max(plan.streams, min(requests, settings.num_requests))
        reason = "; ".join(part for part in (plan.reason, note, batching_note) if part)
        log.debug("CPU: compiled %r: %s", model.friendly_name, reason)
        executor = StreamsExecutor(
            contexts=contexts,
            run=run,
            name=f"{device_name}:{model.friendly_name}",
            run_stoppable=run_stoppable,
            batching=StreamBatching(batching.MAX_ROWS) if batched else None,
        )

        super().__init__(
            model,
            device_name,
            {
                props.hint.performance_mode.name: settings.hint,
                props.hint.num_requests.name: settings.num_requests,
                props.streams.num.name: plan.streams,
                props.inference_num_threads.name: plan.total_threads,
                props.hint.enable_cpu_pinning.name: plan.pinning is not None,
                props.hint.enable_hyper_threading.name: settings.hyper_threading,
                props.hint.inference_precision.name: Type.f32,
                props.hint.execution_mode.name: execution_mode,
                props.cache_dir.name: cache_dir or "",
                props.loaded_from_cache.name: optimized.loaded_from_cache,
                props.enable_profiling.name: self._profiling,
                props.intel_cpu.denormals_optimization.name: denormals,
                props.log.level.name: log_level,
                props.optimal_number_of_infer_requests.name: requests,
                props.hint.allow_auto_batching.name: allow_batching,
                props.configuration_reason.name: reason,
                props.execution_devices.name: [device_name],
            },
            executor,
        )

    # ---- compiling -------------------------------------------------------------------------

    def _try_batching(
        self,
        model: Model,
        batched_model: Model,
        run: Any,
        compiled: Compiled,
        compile_args: tuple[StreamPlan, str | None, str],
    ) -> tuple[Compiled, str, bool]:
        """Probe a batching candidate (see batching.py): ``(what to run, note, batched)``.

        One inference on the model's own sessions is timed first; a short one gets sessions
        of ``batched_model`` (when it is a copy with a dynamic dim 0) and the rows probe.
        Refused, the model runs on its own sessions, compiled as without batching."""
        streams = compiled[2]
        try:
            seconds = batching.time_one_run(model, run, _session(streams[0]))
        except Exception as exc:
            return compiled, batching.not_batched(f"a probe run failed ({exc})"), False
        if seconds >= batching.SHORT_RUN_S:
            return compiled, batching.too_slow(seconds), False
        on_copy = (
            compiled if batched_model is model else self._compile(batched_model, *compile_args)
        )
        try:
            refused = batching.rows_independent(batched_model, run, _session(on_copy[2][0]))
        except Exception as exc:
            refused = batching.not_batched(f"a probe run failed ({exc})")
        if refused:
            return compiled, refused, False
        return on_copy, batching.batched(seconds), True

    def _compile(
        self, model: Model, plan: StreamPlan, cache_dir: str | None, ort_version: str
    ) -> Compiled:
        model_bytes = model.to_bytes()
        optimize = _optimizer(model.friendly_name)
        if cache_dir is None:
            optimized = build_temporary(model_bytes, optimize)
            return (optimized, *self._sessions(model, plan, optimized, ""))

        cache = ModelCache(cache_dir)
        key = cache_key(model_bytes, ort_version, GRAPH_SETTINGS)
        note = ""
        optimized = cache.lookup(key, ort_version)
        if optimized is not None:
            try:
                return (optimized, *self._sessions(model, plan, optimized, "loaded from cache"))
            except Exception as exc:  # whatever fails with a cached entry, rebuild it
                log.warning(
                    "CPU: cache entry %s for %r failed to load (%s); rebuilding",
                    key,
                    model.friendly_name,
                    exc,
                )
                cache.invalidate(key)
                note = "cache entry failed to load and was rebuilt"
        try:
            optimized = cache.store(key, ort_version, model_bytes, optimize)
            note = note or "cache entry written"
        except OSError as exc:
            log.warning(
                "CPU: cannot write to CACHE_DIR %s (%s); compiling without it", cache_dir, exc
            )
            optimized = build_temporary(model_bytes, optimize)
            note = f"cache not written ({exc})"
        return (optimized, *self._sessions(model, plan, optimized, note))

    def _sessions(
        self, model: Model, plan: StreamPlan, optimized: OptimizedModel, note: str
    ) -> tuple[SharedWeights, list[Any], str]:
        """Load the shared weights and create one session (or profiled stream) per stream;
        returns them with ``note`` (what the cache did) for the configuration reason.

        When ONNX Runtime cannot read back the optimized graph it wrote (Silero VAD: the
        functions it inlined into ``If`` branches repeat initializer names), each stream
        optimizes the original model itself instead, with weights of its own, and the note
        says so."""
        try:
            weights = load_shared_weights(
                optimized.graph_path, optimized.weights_path, optimized.weights_sha256
            )
            try:
                sessions = self._stream_sessions(model, plan, optimized.graph_path, weights)
            except CompileError as exc:
                log.warning(
                    "CPU: ONNX Runtime cannot load its optimized graph of %r (%s); each "
                    "stream optimizes the model itself, without shared weights",
                    model.friendly_name,
                    exc,
                )
                weights = SharedWeights()
                sessions = self._stream_sessions(model, plan, model.to_bytes(), weights)
                note = f"{note}; {UNSHARED_NOTE}" if note else UNSHARED_NOTE
        finally:
            if optimized._tempdir is not None:
                if self._profiling:  # profiled streams recreate sessions from these files
                    self._temp_dirs.append(optimized._tempdir)
                    optimized._tempdir = None
                else:
                    optimized.discard()
        return weights, sessions, note

    def _stream_sessions(
        self, model: Model, plan: StreamPlan, graph: str | bytes, weights: SharedWeights
    ) -> list[Any]:
        """One session (or profiled stream) per stream on ``graph``: the optimized graph's
        path (loaded as it is), or the original model's bytes (optimized by each session)."""
        name = model.friendly_name
        optimize = isinstance(graph, bytes)

        def factory(stream: int, prefix: str | None = None) -> Any:
            options = stream_options(plan, stream, prefix, optimize=optimize)
            apply_settings(options, self._session_config)
            weights.add_to(options)
            return create_session(graph, options, name)

        if not self._profiling:
            return [factory(i) for i in range(plan.streams)]
        folder = tempfile.mkdtemp(prefix="ovlite-cpu-profile-")
        self._temp_dirs.append(folder)
        return [
            ProfiledStream(lambda prefix, i=i: factory(i, prefix), folder, i)
            for i in range(plan.streams)
        ]

    # ---- what it chose ---------------------------------------------------------------------

    @property
    def plan(self) -> StreamPlan:
        """The streams, threads, spinning and pinning this model runs with."""
        return self._plan

    @property
    def sessions(self) -> list[Any]:
        """Each stream's current ``onnxruntime.InferenceSession`` (empty once closed)."""
        return [getattr(stream, "session", stream) for stream in self._streams]

    def close(self) -> None:
        """Stop the streams after the queued jobs and release the sessions."""
        super().close()  # stops the executor after the queued jobs
        self._streams = []
        self._finalizer()


def _session(stream: Any) -> Any:
    """The pybind session a runner calls (the executor's context for this stream)."""
    return getattr(stream, "_sess", stream)


def _optimizer(model_name: str) -> Any:
    def optimize(model_bytes: bytes, graph_path: str, weights_name: str) -> None:
        create_session(model_bytes, optimizer_options(graph_path, weights_name), model_name)

    return optimize


def _profiled_run(run_session: Any, device_name: str) -> Any:
    def run(stream: ProfiledStream, inputs: Sequence[np.ndarray]) -> tuple[Any, dict]:
        outputs, timings = stream.run(run_session, inputs)
        return outputs, {"device": device_name, "profiling": timings}

    return run


def _remove_dirs(folders: list[str]) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    folders.clear()


__all__ = ["CPUCompiledModel"]
