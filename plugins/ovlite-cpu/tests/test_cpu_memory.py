"""Four streams of ResNet-18 hold its 47 MB of weights once (measured in fresh processes)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import ovlite

psutil = pytest.importorskip("psutil")

CHILD = """
import gc, json, sys
import numpy as np, psutil, ovlite
from ovlite.models import resnet18, parameter_bytes
streams = int(sys.argv[1])
proto = resnet18(batch=1, image_size=32)
weights = parameter_bytes(proto)
model = ovlite.read_model(proto)
compiled = ovlite.Core().compile_model(model, "CPU", {"NUM_STREAMS": streams})
queue = ovlite.AsyncInferQueue(compiled, streams)
for _ in range(streams):
    queue.start_async(np.ones((1, 3, 32, 32), np.float32))
queue.wait_all()
gc.collect()
print(json.dumps({"rss": psutil.Process().memory_info().rss, "weights": weights}))
"""


def measure(streams: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(streams)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_four_streams_cost_far_less_than_four_copies_of_the_weights():
    # four streams, or as many as this machine's CPU takes (RANGE_FOR_STREAMS: logical CPUs)
    streams = min(4, ovlite.Core().get_property("CPU", "RANGE_FOR_STREAMS")[1])
    if streams < 2:
        pytest.skip("one logical CPU: CPU takes one stream")
    # The kernel may reclaim pages of a process under memory pressure (this host runs DAMON),
    # which only ever lowers RSS: the larger of two runs is the footprint.
    one, four = (max((measure(n) for _ in range(2)), key=lambda m: m["rss"]) for n in (1, streams))
    extra = four["rss"] - one["rss"]
    # Without sharing, each more stream would add 47 MB; allow half of one copy.
    assert extra < 0.5 * one["weights"], (one, four)


def test_shared_weights_sit_on_cache_line_boundaries(core, resnet):
    """Each weight starts on a 64-byte boundary, as in ONNX Runtime's own copy: weights 16
    bytes off a line (numpy's default buffer) made every vector load of them split lines."""
    compiled = core.compile_model(resnet, "CPU", {"NUM_STREAMS": 2})
    arrays = compiled.device_model.weights.arrays
    assert len(arrays) > 20  # the convolutions' weights are shared, not each session's own
    misaligned = [name for name, array in arrays.items() if array.ctypes.data % 64]
    assert misaligned == []
