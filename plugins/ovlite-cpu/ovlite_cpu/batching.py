"""Whether the CPU device batches queued requests of a model, and on which copy of it.

Under ``THROUGHPUT`` or ``CUMULATIVE_THROUGHPUT`` (``ALLOW_AUTO_BATCHING`` left true,
``EXECUTION_MODE_HINT`` not ``ACCURACY``), a model whose single inference takes under
:data:`SHORT_RUN_S` on a stream runs with opportunistic batching
(``ovlite.plugin.StreamBatching``): a stream that takes a queued request also takes the ones
queued behind it, up to :data:`MAX_ROWS` rows in all, and runs them as one inference.  For
such models handing every request between Python threads costs more than running it; one
hand-off per batch is what lets ``AsyncInferQueue`` keep up with a plain ``session.run``
loop.  A model qualifies when

* every input and output carries the batch in dim 0 (dynamic, or 1 everywhere: the streams
  then run a copy with a dynamic dim 0, while the compiled model's ports keep their shapes),
  and ONNX shape inference shows every output's dim 0 following the batch (an output whose
  length depends on the values, such as a ``Compress``, is never batched);
* every other dimension of its inputs is static, so that probes can be run;
* one inference on the original model takes under :data:`SHORT_RUN_S` (best of three);
* :data:`MAX_ROWS` different rows run as one batch give, row by row, what each gives alone
  (within float rounding): a model that mixes rows (a reduction over dim 0, a shift along
  it) fails this.  It is a probe, not a proof: a model that mixes rows only for some values
  can pass it; ``ALLOW_AUTO_BATCHING=False`` is the way out.

Anything else runs each request alone, on sessions of the original model, and
``OVLITE_CONFIGURATION_REASON`` says why.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ovlite import CompileError, Model

#: Most rows (dim 0) a stream stacks into one inference; also how many rows the probe runs.
MAX_ROWS = 64
#: Requests in flight that make batches of a useful size (``OPTIMAL_NUMBER_OF_INFER_REQUESTS``
#: of a batched model, unless ``PERFORMANCE_HINT_NUM_REQUESTS`` says fewer).
BATCHED_REQUESTS = 64
#: A model whose single inference is shorter than this is batched.
SHORT_RUN_S = 0.001
#: Known FLOPs from which a model cannot run under SHORT_RUN_S on one thread (1 TFLOP/s).
MANY_FLOPS = 1e9
#: Element types a probe can make inputs of; other models are not batched.
_PROBE_KINDS = "fiub"

Run = Callable[[Any, Sequence[np.ndarray]], tuple[Sequence[np.ndarray], Any]]


@dataclass(frozen=True)
class Candidate:
    """``batched_model``: the copy the streams load when batching (the model itself when its
    dim 0 is already dynamic), or ``None`` when the model cannot be batched; ``note`` says
    why not, for ``OVLITE_CONFIGURATION_REASON``."""

    batched_model: Model | None
    note: str = ""


def not_batched(why: str) -> str:
    return f"queued requests not batched: {why}"


def too_slow(seconds: float) -> str:
    return not_batched(
        f"one inference takes {_us(seconds)} (batching pays under {_us(SHORT_RUN_S)})"
    )


def batched(seconds: float) -> str:
    return (
        f"a stream batches up to {MAX_ROWS} queued requests into one inference (one alone "
        f"takes {_us(seconds)}); ALLOW_AUTO_BATCHING=False turns it off"
    )


def candidate(
    model: Model,
    *,
    throughput: bool,
    allowed: bool,
    accuracy: bool,
    profiling: bool,
    flops: int | None,
) -> Candidate:
    """Whether ``model`` may be batched, from the settings and its shapes (no session yet)."""
    if not throughput:
        return Candidate(None)
    if not allowed:
        return Candidate(None, "queued requests not batched (ALLOW_AUTO_BATCHING)")
    if accuracy:
        return Candidate(None, "queued requests not batched (EXECUTION_MODE_HINT=ACCURACY)")
    if profiling:
        return Candidate(None, "queued requests not batched (PERF_COUNT)")
    if flops is not None and flops >= MANY_FLOPS:
        return Candidate(None, not_batched(f"one inference is {flops / 1e9:.3g} GFLOP"))
    from ovlite.plugin import plan_batching

    try:
        plan = plan_batching(model, "CPU")
    except CompileError as exc:
        return Candidate(None, not_batched(_why(exc)))
    if plan.notes:  # BATCH checks such outputs per run; a probe could not tell in advance
        notes = "; ".join(note.removesuffix("; checked on every run") for note in plan.notes)
        return Candidate(None, not_batched(f"ONNX {notes}"))
    for port in plan.child_model.inputs:
        shape, kind = port.partial_shape, port.element_type.to_dtype().kind
        if any(dim < 0 for dim in shape[1:]):
            why = f"input {port.any_name!r} {shape} has dynamic dimensions besides the batch"
            return Candidate(None, not_batched(why))
        if kind not in _PROBE_KINDS or port.element_type.get_bitwidth() < 8:
            return Candidate(None, not_batched(f"input {port.any_name!r} is {port.element_type}"))
    return Candidate(plan.child_model)


def time_one_run(model: Model, run: Run, context: Any) -> float:
    """Seconds of one inference on ``context``: the best of three after a warm-up, or the
    first alone when it is ten times :data:`SHORT_RUN_S` (a large model stops there)."""
    inputs = _rows(model, 1, np.random.default_rng(0))
    run(context, inputs)  # the first run of a session pays for allocations
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        run(context, inputs)
        best = min(best, time.perf_counter() - started)
        if best >= 10 * SHORT_RUN_S:
            break
    return best


def rows_independent(model: Model, run: Run, context: Any) -> str:
    """Run :data:`MAX_ROWS` different rows as one batch and each alone; ``""`` when every
    output row matches, else the note saying which output did not."""
    stacked = _rows(model, MAX_ROWS, np.random.default_rng(1))
    together = run(context, stacked)[0]
    for row in range(MAX_ROWS):
        alone = run(context, [array[row : row + 1] for array in stacked])[0]
        for index, (batch_output, output) in enumerate(zip(together, alone, strict=True)):
            if batch_output.shape[:1] != (MAX_ROWS,) or not _close(
                batch_output[row : row + 1], output
            ):
                name = model.outputs[index].any_name
                return not_batched(
                    f"row {row} of output {name!r} differs between a batch of {MAX_ROWS} "
                    f"different requests and that request alone, so rows are not independent"
                )
    return ""


def _rows(model: Model, count: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``count`` rows for every input: random floats; integers and booleans alternate 0
    and 1 from row to row."""
    arrays = []
    for port in model.inputs:
        dtype = port.element_type.to_dtype()
        shape = (count, *(int(dim) for dim in port.partial_shape[1:]))
        if dtype.kind == "f":
            arrays.append(rng.standard_normal(shape).astype(dtype))
        else:
            pattern = (np.arange(count) % 2).reshape((count,) + (1,) * (len(shape) - 1))
            arrays.append(np.broadcast_to(pattern, shape).astype(dtype))
    return arrays


def _close(batched_output: np.ndarray, alone: np.ndarray) -> bool:
    if batched_output.shape != alone.shape:
        return False
    if batched_output.dtype.kind in "fc":
        return bool(np.allclose(batched_output, alone, rtol=1e-4, atol=1e-5, equal_nan=True))
    return bool(np.array_equal(batched_output, alone))


def _why(error: CompileError) -> str:
    """plan_batching's reason, without its model name and its general rule."""
    text = str(error)
    text = text.split(": ", 1)[1] if ": " in text else text
    return text.split(" (BATCH needs", 1)[0]


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f} us" if seconds < 0.001 else f"{seconds * 1e3:.1f} ms"
