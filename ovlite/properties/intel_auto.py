"""Settings of the AUTO meta device (OpenVINO keeps them under ``intel_auto``).

The ``OVLITE_AUTO_*`` keys are ovlite's own: AUTO chooses among its candidates by timing
each on the model (see docs/user-guide.md, "AUTO").
"""

from __future__ import annotations

from ._enum import OvEnum
from ._keys import any_value, define, enum_of, float_at_least, int_at_least, to_bool


class SchedulePolicy(OvEnum):
    """``SCHEDULE_POLICY`` values (``DEFAULT`` is ``DEVICE_PRIORITY``)."""

    ROUND_ROBIN = 0
    DEVICE_PRIORITY = 1
    DEFAULT = 1


schedule_policy = define("SCHEDULE_POLICY", enum_of(SchedulePolicy))
device_bind_buffer = define("DEVICE_BIND_BUFFER", to_bool)

enable_startup_fallback = define(
    "ENABLE_STARTUP_FALLBACK",
    to_bool,
    doc="Serve from a quick-compiling device while the chosen one compiles (and is measured).",
)
enable_runtime_fallback = define(
    "ENABLE_RUNTIME_FALLBACK",
    to_bool,
    doc="Re-run a failed request on the next candidate device.",
)
measure_ms = define(
    "OVLITE_AUTO_MEASURE_MS",
    int_at_least(0),
    doc="Milliseconds AUTO times each candidate on the model before choosing (default 1000; "
    "0: no measuring, the first candidate by priority).",
)
max_relative_error = define(
    "OVLITE_AUTO_MAX_RELATIVE_ERROR",
    float_at_least(0.0),
    doc="Refuse candidates whose outputs differ from an f32 candidate's by more than this "
    "share of the output's largest magnitude (unset: no bound, the difference is reported).",
)
cache_decision = define(
    "OVLITE_AUTO_CACHE_DECISION",
    to_bool,
    doc="Remember AUTO's measured choice (in CACHE_DIR, else a per-user cache folder) so the "
    "next compile of the same model goes straight to it (default True).",
)
measurements = define(
    "OVLITE_AUTO_MEASUREMENTS",
    any_value,
    read_only=True,
    doc="What AUTO measured for each candidate: device, precision, latency or throughput, "
    "difference from f32, and the verdict.",
)
