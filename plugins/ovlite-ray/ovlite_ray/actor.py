"""The replica: a Ray actor, on some node of the cluster, holding one compiled model.

It receives the model as bytes once, when it starts, compiles it through ovlite on its node
(so the node needs ovlite and the replica device's plugin installed), and then runs one
inference per ``infer`` call.  Calls run in the actor's threads, at most as many at once as
the driver keeps in flight (the replica's ``OPTIMAL_NUMBER_OF_INFER_REQUESTS``).
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

#: Threads a replica accepts calls on; the driver never sends more than a replica's capacity.
MAX_CONCURRENCY = 64


class Replica:
    """One compiled model on a Ray worker (wrapped by ``ray.remote`` in :mod:`ovlite_ray.replica`)."""

    def __init__(
        self, model_bytes: bytes, device: str, config: dict[str, Any], cpus: float
    ) -> None:
        import ovlite
        import ovlite.properties as props

        core = ovlite.Core()
        config = dict(config)
        target = core.devices().get(ovlite.parse_device(device).name)
        threads = props.inference_num_threads.name
        if cpus >= 1 and target is not None and threads in target.config_keys:
            # a replica owns the CPUs it reserved, not the whole node
            config.setdefault(threads, math.ceil(cpus))
        # the device's own compiled model: inputs arrive checked by the driver, in port order
        self._compiled = core.compile_child(ovlite.read_model(model_bytes), device, config)
        self._model_bytes = len(model_bytes)

    def describe(self) -> dict[str, Any]:
        """Where the replica runs and what its compiled model chose."""
        import ray

        compiled = self._compiled
        return {
            "node": ray.get_runtime_context().get_node_id(),
            "pid": os.getpid(),
            "optimal_requests": compiled.optimal_number_of_requests,
            "execution_devices": compiled.get_property("EXECUTION_DEVICES"),
            "reason": compiled.get_property("OVLITE_CONFIGURATION_REASON"),
            "model_bytes": self._model_bytes,
        }

    def infer(self, *inputs: np.ndarray) -> list[np.ndarray]:
        """One inference; inputs in the model's input order, outputs in its output order."""
        outputs, _ = self._compiled.run(inputs)
        return [np.asarray(output) for output in outputs]
