"""Plumbing shared by the plugins that run models on ONNX Runtime (CPU, OPENVINO, ...).

Nothing here imports onnxruntime at module import; the functions take sessions made by the
plugin.  See also :mod:`ovlite.onnxruntime_install` for which ONNX Runtime is installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def session_runner(output_names: list[str], input_names: list[str], info: Any) -> Any:
    """A ``run(session, inputs) -> (outputs, info)`` function for a :class:`StreamsExecutor`.

    The hot path: one call into ONNX Runtime's session, nothing per call we can avoid.
    ``session`` is the pybind session under ``InferenceSession._sess``: ovlite has checked
    the inputs already, so the wrapper's own input check would only cost time.  ``info`` is
    returned as is with every result (a read-only mapping naming the device).
    """
    if len(input_names) == 1:
        (only,) = input_names

        def run_one(session: Any, inputs: Sequence[np.ndarray]) -> tuple[list[np.ndarray], Any]:
            return session.run(output_names, {only: inputs[0]}, None), info

        return run_one

    def run(session: Any, inputs: Sequence[np.ndarray]) -> tuple[list[np.ndarray], Any]:
        return session.run(output_names, dict(zip(input_names, inputs, strict=True)), None), info

    return run


__all__ = ["session_runner"]
