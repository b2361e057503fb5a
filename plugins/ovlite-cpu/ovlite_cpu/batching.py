"""Whether the CPU device batches queued requests of a model, and on which copy of it.

Under ``THROUGHPUT`` or ``CUMULATIVE_THROUGHPUT`` (and ``ALLOW_AUTO_BATCHING`` left true), a
model whose single inference takes under :data:`SHORT_RUN_S` on a stream runs with
opportunistic batching (``ovlite.plugin.StreamBatching``): a stream that takes a queued
request also takes the ones queued behind it, up to :data:`MAX_JOBS`, and runs them as one
inference.  For such models handing every request between Python threads costs more than
running it; one hand-off per batch is what lets ``AsyncInferQueue`` keep up with a plain
``session.run`` loop.  A model qualifies when

* every input and output carries the batch in dim 0 (dynamic, or 1 everywhere: the streams
  then run a copy with a dynamic dim 0, while the compiled model's ports keep their shapes),
  checked as the ``BATCH`` device checks it;
* every other dimension of its inputs is static, so that a probe can be run;
* the probe agrees: two different rows run as one batch give, row by row, what each gives
  alone (within float rounding), which a model that mixes rows (a batch-wide reduction)
  fails.

Anything else runs each request alone, and ``OVLITE_CONFIGURATION_REASON`` says why.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ovlite import CompileError, Model

#: Most queued requests a stream stacks into one inference.
MAX_JOBS = 64
#: Requests in flight that make batches of a useful size (``OPTIMAL_NUMBER_OF_INFER_REQUESTS``
#: of a batched model, when above two per stream).
BATCHED_REQUESTS = 64
#: A model whose single inference is shorter than this is batched.
SHORT_RUN_S = 0.001
#: Element types a probe can make inputs of; other models are not batched.
_PROBE_KINDS = "fiub"


@dataclass(frozen=True)
class BatchingChoice:
    """``session_model``: what the streams' sessions load (the model, or its copy with a
    dynamic dim 0); ``note``: a clause for ``OVLITE_CONFIGURATION_REASON``."""

    session_model: Model
    candidate: bool
    note: str


def candidate(model: Model, throughput: bool, allowed: bool, profiling: bool) -> BatchingChoice:
    """Whether ``model`` may be batched, before any session exists (shapes only)."""
    if not throughput:
        return BatchingChoice(model, False, "")
    if not allowed:
        return BatchingChoice(model, False, "queued requests not batched (ALLOW_AUTO_BATCHING)")
    if profiling:
        return BatchingChoice(model, False, "queued requests not batched (PERF_COUNT)")
    from ovlite.plugin import plan_batching

    try:
        plan = plan_batching(model, "CPU")
    except CompileError as exc:
        return BatchingChoice(model, False, f"queued requests not batched: {_why(exc)}")
    for port in plan.child_model.inputs:
        shape = port.partial_shape
        dtype = port.element_type.to_dtype()
        if any(dim < 0 for dim in shape[1:]):
            return BatchingChoice(
                model,
                False,
                f"queued requests not batched: input {port.any_name!r} {shape} has dynamic "
                f"dimensions besides the batch",
            )
        if dtype.kind not in _PROBE_KINDS or port.element_type.get_bitwidth() < 8:
            return BatchingChoice(
                model,
                False,
                f"queued requests not batched: input {port.any_name!r} is {port.element_type}",
            )
    return BatchingChoice(plan.child_model, True, "")


def probe(
    model: Model,
    run: Callable[[Any, Sequence[np.ndarray]], tuple[Sequence[np.ndarray], Any]],
    context: Any,
) -> tuple[bool, str]:
    """Run the probe on one stream: ``(batch, note)``."""
    singles, pair = _probe_inputs(model)
    try:
        run(context, singles[0])  # the first run of a session pays for allocations
        seconds = float("inf")
        for _ in range(3):  # the fastest of three; a slow model stops at the first
            started = time.perf_counter()
            first = run(context, singles[0])[0]
            seconds = min(seconds, time.perf_counter() - started)
            if seconds >= SHORT_RUN_S:
                return False, (
                    f"queued requests not batched: one inference takes {_us(seconds)} "
                    f"(batching pays under {_us(SHORT_RUN_S)})"
                )
        second = run(context, singles[1])[0]
        stacked = run(context, pair)[0]
    except Exception as exc:
        return False, f"queued requests not batched: a probe run failed ({exc})"
    for index, output in enumerate(stacked):
        alone = np.concatenate([first[index], second[index]])
        if output.shape != alone.shape or not _close(output, alone):
            name = model.outputs[index].any_name
            return False, (
                f"queued requests not batched: output {name!r} of two requests run as one "
                f"batch differs from their outputs alone, so rows are not independent"
            )
    return True, (
        f"a stream batches up to {MAX_JOBS} queued requests into one inference (one alone "
        f"takes {_us(seconds)}); ALLOW_AUTO_BATCHING=False turns it off"
    )


def _probe_inputs(model: Model) -> tuple[list[list[np.ndarray]], list[np.ndarray]]:
    """Two single-row inputs that differ (random floats; 0 and 1 otherwise), and the pair
    stacked."""
    rng = np.random.default_rng(0)
    rows: list[list[np.ndarray]] = [[], []]
    for port in model.inputs:
        dtype = port.element_type.to_dtype()
        shape = (1, *(int(dim) for dim in port.partial_shape[1:]))
        for row in (0, 1):
            if dtype.kind == "f":
                rows[row].append(rng.standard_normal(shape).astype(dtype))
            else:
                rows[row].append(np.full(shape, row, dtype=dtype))
    return rows, [np.concatenate(pair) for pair in zip(*rows, strict=True)]


def _close(batched: np.ndarray, alone: np.ndarray) -> bool:
    if batched.dtype.kind in "fc":
        return bool(np.allclose(batched, alone, rtol=1e-4, atol=1e-5, equal_nan=True))
    return bool(np.array_equal(batched, alone))


def _why(error: CompileError) -> str:
    """plan_batching's reason, without its model name and its general rule."""
    text = str(error)
    text = text.split(": ", 1)[1] if ": " in text else text
    return text.split(" (BATCH needs", 1)[0]


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f} us" if seconds < 0.001 else f"{seconds * 1e3:.1f} ms"
