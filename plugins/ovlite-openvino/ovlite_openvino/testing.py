"""Skip marks for tests that run ONNX Runtime's OpenVINO provider for real (imports pytest).

A test skips only where the provider is genuinely not installed, with the probe's reason;
``make install`` installs it, so the project's own test run skips nothing.
"""

from __future__ import annotations

import pytest

from .runtime import probe_runtime

_PROBE = probe_runtime()
#: Why the OpenVINO provider cannot run here ("" when it can).
OPENVINO_MISSING = "" if _PROBE.available else _PROBE.reason

needs_openvino = pytest.mark.skipif(
    bool(OPENVINO_MISSING),
    reason=f"ONNX Runtime's OpenVINO provider is not installed: {OPENVINO_MISSING}",
)
needs_openvino_cpu = pytest.mark.skipif(
    bool(OPENVINO_MISSING) or "CPU" not in _PROBE.devices,
    reason=f"OpenVINO's CPU device is not available here: {OPENVINO_MISSING or _PROBE.devices}",
)
