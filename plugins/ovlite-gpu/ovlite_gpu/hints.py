"""From hints to streams, requests and batch sizes on a GPU.

- ``LATENCY``: one stream (one session, one compute stream), two requests in flight so the
  next request's inputs are ready when the GPU finishes.
- ``THROUGHPUT`` / ``CUMULATIVE_THROUGHPUT``: 2 streams, each a separate session with its own
  compute stream, so one stream's copies and CPU work overlap the other's kernels.
- ``NUM_STREAMS`` overrides the hint; ``PERFORMANCE_HINT_NUM_REQUESTS`` caps streams and
  requests.  ``OPTIMAL_NUMBER_OF_INFER_REQUESTS`` is 2 x streams.

Batch sizes (:func:`batch_sizes`), for automatic batching:

- ``MAX_BATCH_SIZE``: the largest batch whose working memory fits in 80% of the GPU's memory
  next to every stream's copy of the weights, counting all of the model's tensors at once
  (``ovlite.models.activation_bytes``, an upper bound), at most :data:`MAX_BATCH`.
- ``OPTIMAL_BATCH_SIZE``: the smallest power of two whose work reaches
  :data:`TARGET_FLOPS` per execution (enough kernels in flight to fill a discrete GPU), at
  most :data:`OPTIMAL_CAP` and ``MAX_BATCH_SIZE``; 1 for a model that cannot be batched
  (its inputs do not all carry a batch in dim 0).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ovlite.properties as props
from ovlite.properties.hint import PerformanceMode
from ovlite.properties.streams import Num

#: Streams THROUGHPUT uses.
THROUGHPUT_STREAMS = 2
#: Work per execution that fills a discrete GPU (floating-point operations).
TARGET_FLOPS = 16e9
#: The largest OPTIMAL_BATCH_SIZE reported; larger batches add latency for little gain.
OPTIMAL_CAP = 32
#: The largest MAX_BATCH_SIZE reported.
MAX_BATCH = 1024
#: Share of the GPU's memory the plugin plans to use.
MEMORY_SHARE = 0.8


@dataclass(frozen=True)
class GPUPlan:
    """The streams and requests a compiled model runs with, and why."""

    hint: PerformanceMode
    streams: int
    optimal_requests: int
    num_requests: int
    reason: str


def plan_streams(config: Mapping[str, Any]) -> GPUPlan:
    """Translate ``PERFORMANCE_HINT``, ``NUM_STREAMS`` and ``PERFORMANCE_HINT_NUM_REQUESTS``."""
    hint = config.get(props.hint.performance_mode.name, PerformanceMode.LATENCY)
    requested = config.get(props.streams.num.name)
    num_requests = int(config.get(props.hint.num_requests.name, 0) or 0)
    explicit = requested is not None and requested != Num.AUTO and int(requested) >= 1
    if explicit:
        streams, why = int(requested), f"NUM_STREAMS={int(requested)}"
    elif requested == Num.AUTO or hint != PerformanceMode.LATENCY:
        label = "NUM_STREAMS=AUTO" if requested == Num.AUTO else f"{hint}"
        streams = THROUGHPUT_STREAMS
        why = f"{label}: {streams} streams, each a session with its own compute stream"
    else:
        streams, why = 1, f"{hint}: 1 stream"
    optimal = 2 * streams
    if 0 < num_requests < optimal and not explicit:  # an explicit NUM_STREAMS wins
        streams = min(streams, num_requests)
        optimal = num_requests
        why += f", capped by PERFORMANCE_HINT_NUM_REQUESTS={num_requests}"
    why += f"; {optimal} requests in flight (2 per stream)"
    return GPUPlan(hint, streams, optimal, num_requests, why)


@dataclass(frozen=True)
class BatchSizes:
    """``OPTIMAL_BATCH_SIZE`` and ``MAX_BATCH_SIZE`` for one model on one GPU, and why."""

    optimal: int
    maximum: int
    reason: str


def batch_sizes(proto: Any, memory_bytes: int | None, streams: int = 1) -> BatchSizes:
    """The batch sizes to report for model ``proto`` on a GPU with ``memory_bytes``."""
    from ovlite.plugin import activation_bytes, flops, parameter_bytes

    unbatchable = _unbatchable_input(proto)
    if unbatchable:
        return BatchSizes(1, 1, f"no batching: {unbatchable}")
    try:
        per_sample = max(1, activation_bytes(proto, 1))
        work = flops(proto, 1)
        weights = parameter_bytes(proto)
    except Exception as exc:  # shape inference fails on some models: no batching then
        return BatchSizes(1, 1, f"no batching: shapes of the model unknown ({exc})")
    if memory_bytes:
        room = memory_bytes * MEMORY_SHARE - streams * weights
        maximum = max(1, min(MAX_BATCH, int(room // (streams * per_sample))))
        memory_note = (
            f"{maximum} samples of {per_sample / 2**20:.1f} MiB per stream fit in "
            f"{MEMORY_SHARE:.0%} of {memory_bytes / 2**30:.1f} GiB"
        )
    else:
        maximum = MAX_BATCH
        memory_note = "GPU memory unknown, so MAX_BATCH_SIZE is not limited by it"
    wanted = 1 if work <= 0 else 2 ** math.ceil(math.log2(max(1.0, TARGET_FLOPS / work)))
    optimal = max(1, min(wanted, OPTIMAL_CAP, maximum))
    reason = (
        f"batch {optimal}: {work / 1e9:.3g} GFLOP a sample, aiming at {TARGET_FLOPS / 1e9:g} "
        f"GFLOP an execution (at most {OPTIMAL_CAP}); {memory_note}"
    )
    return BatchSizes(optimal, maximum, reason)


def _unbatchable_input(proto: Any) -> str:
    """Why the model's inputs do not carry a batch in dim 0 (``""``: they do)."""
    weights = {t.name for t in proto.graph.initializer}
    for value in proto.graph.input:
        if value.name in weights:
            continue
        dims = value.type.tensor_type.shape.dim
        if not dims:
            return f"input {value.name!r} has no dimensions"
        first = dims[0]
        if first.HasField("dim_value") and first.dim_value != 1:
            return f"input {value.name!r} has a fixed dim 0 of {first.dim_value}"
    return ""


__all__ = ["BatchSizes", "GPUPlan", "batch_sizes", "plan_streams"]
