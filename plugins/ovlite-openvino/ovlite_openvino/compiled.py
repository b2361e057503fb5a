"""``OpenVINOCompiledModel``: one ONNX Runtime session on the OpenVINO provider.

How a model is compiled:

1. the config becomes OpenVINO properties of the same names (:mod:`.settings`);
2. OpenVINO itself compiles the model with those properties through its C API, and the
   compiled model's properties are read back: the streams, threads, precision and requests
   OpenVINO chose (:mod:`.openvino_c`);
3. the ONNX Runtime session is created on the OpenVINO provider with the chosen values
   written out (``load_config``), so the provider compiles exactly what was read back
   (the EP would otherwise put its own defaults in: one stream, f32 on CPU).

One session is thread-safe and OpenVINO runs concurrent ``run`` calls on its streams, so
the streams executor gets the same session ``OPTIMAL_NUMBER_OF_INFER_REQUESTS`` times:
that many inferences are in flight at once.
"""

from __future__ import annotations

import logging
import os
import threading
from types import MappingProxyType
from typing import Any

import ovlite.properties as props
from ovlite import InferenceError, Model, Type
from ovlite.plugin import (
    CompiledModel,
    Job,
    StreamsExecutor,
    create_session,
    reset_after_fork,
    session_runner,
)
from ovlite.properties.hint import ExecutionMode, PerformanceMode

from . import openvino_c, settings
from .runtime import RUNTIME_DISTRIBUTION

log = logging.getLogger("ovlite.openvino")

#: What OpenVINO is asked about its compiled model.
READ_BACK = (
    props.hint.performance_mode.name,
    props.streams.num.name,
    props.inference_num_threads.name,
    props.hint.inference_precision.name,
    props.optimal_number_of_infer_requests.name,
    props.execution_devices.name,
    props.loaded_from_cache.name,
)
#: Chosen values written out for the provider (not for AUTO, which takes no stream counts).
PINNED = (
    props.streams.num.name,
    props.inference_num_threads.name,
    props.hint.inference_precision.name,
)


class OpenVINOCompiledModel(CompiledModel):
    """A model on ONNX Runtime's OpenVINO provider; properties are OpenVINO's choices."""

    def __init__(
        self,
        model: Model,
        device_name: str,
        target: str,
        config: dict[str, Any],
    ) -> None:
        import onnxruntime as ort

        requested = settings.openvino_properties(config)
        cache_dir = config.get(props.cache_dir.name) or None
        model_bytes = model.to_bytes()
        chosen, source = _read_back(model_bytes, target, requested, cache_dir)

        given = dict(requested)
        if not settings.is_automatic(target):
            given.update({key: chosen[key] for key in PINNED if key in chosen})
        provider, options = settings.PROVIDER, settings.provider_options(target, given, cache_dir)
        session_options = ort.SessionOptions()
        # a node OpenVINO cannot run fails the compile instead of running on ONNX Runtime's
        # CPU provider unannounced: what runs is what the properties say
        session_options.add_session_config_entry("session.disable_cpu_ep_fallback", "1")
        session_options.log_severity_level = 3
        session = create_session(
            model_bytes,
            session_options,
            [(provider, options)],
            f"{device_name} could not compile model {model.friendly_name!r}",
        )
        self.provider_options: dict[str, str] = options
        self._session = session

        requests = max(1, int(chosen.get(props.optimal_number_of_infer_requests.name, "1")))
        executes_on = chosen.get(props.execution_devices.name, target)
        run = session_runner(
            [port.any_name for port in model.outputs],
            [port.any_name for port in model.inputs],
            MappingProxyType({"device": device_name}),
            [port.element_type for port in model.inputs],
            [port.element_type for port in model.outputs],
        )
        executor = StreamsExecutor(
            contexts=[session._sess] * requests,
            run=run,
            name=f"{device_name}:{model.friendly_name}",
        )
        #: the thread that forked this process, in a forked child (see _after_fork)
        self._forked_by: int | None = None
        reset_after_fork(self)

        reason = _reason(target, config, chosen, source, options, requests)
        log.debug("%s: compiled %r: %s", device_name, model.friendly_name, reason)
        super().__init__(
            model,
            device_name,
            {
                props.hint.performance_mode.name: PerformanceMode(
                    chosen.get(props.hint.performance_mode.name)
                    or config.get(props.hint.performance_mode.name, PerformanceMode.LATENCY)
                ),
                props.hint.num_requests.name: int(config.get(props.hint.num_requests.name, 0)),
                props.streams.num.name: _int(chosen.get(props.streams.num.name), 1),
                props.inference_num_threads.name: _int(
                    chosen.get(props.inference_num_threads.name), 0
                ),
                props.hint.inference_precision.name: _precision(chosen, config),
                props.hint.execution_mode.name: config.get(
                    props.hint.execution_mode.name, ExecutionMode.PERFORMANCE
                ),
                props.cache_dir.name: cache_dir or "",
                props.loaded_from_cache.name: chosen.get(props.loaded_from_cache.name) == "YES",
                props.optimal_number_of_infer_requests.name: requests,
                props.execution_devices.name: [
                    f"OPENVINO.{name.strip()}" for name in executes_on.split(",") if name.strip()
                ],
                props.configuration_reason.name: reason,
            },
            executor,
        )

    def submit(self, job: Job) -> None:
        """Queue ``job``; up to ``OPTIMAL_NUMBER_OF_INFER_REQUESTS`` run at once."""
        if self._forked_by is not None:
            self._submit_in_forked_child(job)
        else:
            super().submit(job)

    @property
    def session(self) -> Any:
        """The ``onnxruntime.InferenceSession`` on the OpenVINO provider."""
        return self._session

    def _after_fork(self) -> None:
        """In a forked child, jobs run in the thread that forked, or fail at once: OpenVINO
        keeps state per thread, and a new thread of the child can take the id of one of the
        parent's threads and then fails OpenVINO's checks."""
        self._forked_by = threading.get_ident()

    def _submit_in_forked_child(self, job: Job) -> None:
        if threading.get_ident() != self._forked_by:
            job.refuse(
                InferenceError(
                    f"{self.device_name} runs only in the thread that forked this process "
                    f"(OpenVINO keeps state per thread of the parent); to use it from other "
                    f"threads, start processes with the 'spawn' or 'forkserver' method"
                )
            )
            return
        if not job.begin():
            return
        try:
            outputs, info = self.executor.call(job.inputs)
        except BaseException as error:
            job.set_error(error)
            if not isinstance(error, Exception):
                raise
        else:
            job.set_result(outputs, info)

    def close(self) -> None:
        """Stop after the queued jobs and release the session."""
        super().close()  # stops the executor after the queued jobs
        self._session = None


def _read_back(
    model_bytes: bytes, target: str, requested: dict[str, str], cache_dir: str | None
) -> tuple[dict[str, str], str]:
    """OpenVINO's choices for this model and these properties, and where they came from."""
    library = openvino_c.library()
    if library is None:
        return dict(requested), (
            f"not read back: {openvino_c.LIBRARY} is not in this onnxruntime wheel, so the "
            f"values shown are the ones requested"
        )
    config = dict(requested)
    if cache_dir:
        os.makedirs(cache_dir, exist_ok=True)
        config[props.cache_dir.name] = str(cache_dir)
    chosen = library.compiled_properties(model_bytes, target, config, READ_BACK)
    return chosen, (
        f"read back from OpenVINO {library.version()} (the library inside {RUNTIME_DISTRIBUTION}, "
        f"the one the provider runs) after compiling the model with the same properties"
    )


def _reason(
    target: str,
    config: dict[str, Any],
    chosen: dict[str, str],
    source: str,
    options: dict[str, str],
    requests: int,
) -> str:
    hint = config.get(props.hint.performance_mode.name, PerformanceMode.LATENCY)
    precision_key = props.hint.inference_precision.name
    if precision_key in config:
        precision_note = f"INFERENCE_PRECISION_HINT {config[precision_key]} as asked"
    else:
        precision_note = (
            f"INFERENCE_PRECISION_HINT not set: OpenVINO's default for {target}, "
            f"{chosen.get(precision_key, '?')}"
        )
    if precision_key in config and chosen.get(precision_key) not in (
        None,
        str(config[precision_key]),
    ):
        precision_note += f" (but OpenVINO computes in {chosen[precision_key]})"
    unreported = "? (not reported by OpenVINO's AUTO)"
    streams = chosen.get(props.streams.num.name, unreported)
    threads = chosen.get(props.inference_num_threads.name, unreported)
    return (
        f"{hint} on OpenVINO {target}: OpenVINO chose {streams} stream(s), {threads} thread(s), "
        f"{requests} request(s) in flight, on {chosen.get(props.execution_devices.name, target)}; "
        f"{precision_note}; {source}; the ONNX Runtime session got "
        f"device_type={options['device_type']} load_config={options.get('load_config', '{}')}"
    )


def _precision(chosen: dict[str, str], config: dict[str, Any]) -> Any:
    value = chosen.get(props.hint.inference_precision.name)
    if value:
        try:
            return Type.parse(value)
        except Exception:
            return value
    return config.get(props.hint.inference_precision.name, "")


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default
