"""Performance hints: what the application wants, for the device to translate into settings."""

from __future__ import annotations

import enum

from ._keys import define, enum_of, int_at_least, to_bool, to_element_type


class PerformanceMode(enum.StrEnum):
    """``PERFORMANCE_HINT`` values; each plugin documents what it makes of them."""

    LATENCY = "LATENCY"
    THROUGHPUT = "THROUGHPUT"
    CUMULATIVE_THROUGHPUT = "CUMULATIVE_THROUGHPUT"


class ExecutionMode(enum.StrEnum):
    """``EXECUTION_MODE_HINT`` values: favour speed or exact f32 accuracy."""

    PERFORMANCE = "PERFORMANCE"
    ACCURACY = "ACCURACY"


performance_mode = define(
    "PERFORMANCE_HINT",
    enum_of(PerformanceMode),
    doc="LATENCY (default), THROUGHPUT or CUMULATIVE_THROUGHPUT.",
)
num_requests = define(
    "PERFORMANCE_HINT_NUM_REQUESTS",
    int_at_least(0),
    doc="How many requests the application keeps in flight; caps the streams a hint chooses (0: no cap).",
)
inference_precision = define(
    "INFERENCE_PRECISION_HINT",
    to_element_type,
    doc="Precision the device computes in (f32, bf16, f16); reported back as what was used.",
)
execution_mode = define("EXECUTION_MODE_HINT", enum_of(ExecutionMode))
enable_cpu_pinning = define("ENABLE_CPU_PINNING", to_bool, doc="Pin inference threads to cores.")
enable_hyper_threading = define(
    "ENABLE_HYPER_THREADING", to_bool, doc="Use both logical cores of each physical core."
)
allow_auto_batching = define(
    "ALLOW_AUTO_BATCHING", to_bool, doc="Let a THROUGHPUT hint batch requests automatically."
)
