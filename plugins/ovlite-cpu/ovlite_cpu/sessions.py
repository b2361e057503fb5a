"""ONNX Runtime sessions for the CPU device: options from a stream plan, errors made ovlite's.

onnxruntime is imported inside these functions, never when the plugin module loads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ovlite.properties as props

from .hints import StreamPlan, affinity_string

PROVIDER = "CPUExecutionProvider"

#: Initializers from this size up are moved to the weights file and shared by the streams.
#: Smaller ones stay in the graph: ONNX shape inference must read small constants (Slice
#: starts, Reshape shapes) while a session loads, and cannot read them from another file.
SHARED_MIN_BYTES = 1024


def optimizer_options(graph_path: str, weights_name: str) -> Any:
    """Options for the one session that optimizes the model and writes it to ``graph_path``,
    every initializer of :data:`SHARED_MIN_BYTES` or more moved to the file ``weights_name``."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.optimized_model_filepath = graph_path
    options.intra_op_num_threads = 1
    # The saved graph may use this CPU's NCHWc layout; ONNX Runtime warns about that, but
    # the cache key includes the CPU's instruction set, so the warning is noise here.
    options.log_severity_level = 3
    options.add_session_config_entry(
        "session.optimized_model_external_initializers_file_name", weights_name
    )
    options.add_session_config_entry(
        "session.optimized_model_external_initializers_min_size_in_bytes", str(SHARED_MIN_BYTES)
    )
    return options


def stream_options(
    plan: StreamPlan, stream: int, profile_prefix: str | None = None, optimize: bool = False
) -> Any:
    """Options for stream ``stream``'s session over an already optimized graph, or with
    ``optimize`` over the original model (which the session then optimizes itself)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = (
        ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if optimize
        else ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    )
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.intra_op_num_threads = plan.threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry(
        "session.intra_op.allow_spinning", "1" if plan.spinning else "0"
    )
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    if plan.pinning is not None and plan.threads > 1:
        options.add_session_config_entry(
            "session.intra_op_thread_affinities", affinity_string(plan.pinning[stream])
        )
    if profile_prefix is not None:
        options.enable_profiling = True
        options.profile_file_prefix = profile_prefix
    return options


#: openvino's LOG_LEVEL as ONNX Runtime's log severity (0 verbose ... 4 fatal).
_SEVERITY = {"NO": 4, "ERR": 3, "WARNING": 2, "INFO": 1, "DEBUG": 0, "TRACE": 0}


def apply_settings(options: Any, config: Mapping[str, Any]) -> None:
    """``CPU_DENORMALS_OPTIMIZATION`` and ``LOG_LEVEL`` on a stream's session options."""
    if config.get(props.intel_cpu.denormals_optimization.name):
        options.add_session_config_entry("session.set_denormal_as_zero", "1")
    level = config.get(props.log.level.name)
    if level is not None:
        options.log_severity_level = _SEVERITY[level.name]


def create_session(source: str | bytes, options: Any, model_name: str) -> Any:
    """An ``InferenceSession`` on the CPU provider, or :class:`CompileError` saying why not."""
    from ovlite.plugin import create_session as create

    return create(source, options, [(PROVIDER, {})], f"CPU could not compile model {model_name!r}")
