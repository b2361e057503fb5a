"""Settings of the AUTO meta device (OpenVINO keeps them under ``intel_auto``)."""

from __future__ import annotations

from ._keys import define, to_bool

enable_startup_fallback = define(
    "ENABLE_STARTUP_FALLBACK",
    to_bool,
    doc="Serve from CPU while the chosen device compiles.",
)
enable_runtime_fallback = define(
    "ENABLE_RUNTIME_FALLBACK",
    to_bool,
    doc="Re-run a failed request on the next candidate device.",
)
