"""``SimulatedDevice``: stands in for hardware this machine lacks (a GPU, a second card).

It is a simulation, named as such: it really runs the model on ONNX Runtime's CPU provider
(one thread per stream, so results are real), and adds what a test needs to imitate other
hardware: a fixed extra time per inference (``delay_ms``, spent sleeping, so the simulated
device does not take CPU from the others), a number of parallel slots
(``throughput_streams``), a compile delay, a priority for AUTO, and injected failures.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..model import Model
from .standin import StandInDevice


class SimulatedDevice(StandInDevice):
    """A simulated device over ONNX Runtime; see the module docstring for its knobs."""

    engine = "onnxruntime"

    def make_context(self, model: Model) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(model.to_bytes(), options, providers=["CPUExecutionProvider"])

    @staticmethod
    def run_context(context: Any, output_names: list[str], feeds: dict[str, np.ndarray]) -> list:
        return context.run(output_names, feeds)

    def full_device_name(self, device_id: str | None = None) -> str:
        return f"simulated device {self.name} (ONNX Runtime CPU + {self.delay_ms} ms per inference)"
