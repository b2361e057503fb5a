"""How AUTO times a candidate device on the model, and how it chooses among the figures.

Each candidate is timed the way the user's hint says the model will be used:

- LATENCY: synchronous inferences one after another; the figure is the median latency.
- THROUGHPUT: an ``AsyncInferQueue`` of ``OPTIMAL_NUMBER_OF_INFER_REQUESTS`` requests fed
  as fast as it takes them, as an application feeds one; the figure is completed
  inferences per second.  Going through the queue (its callbacks and hand-offs) rather than
  straight to the device matters for models of a few microseconds, where that path, not
  the device, sets the pace and a device with fewer requests in flight loses.

The first output of each candidate is kept, so that its difference from an f32 candidate's
output on the same input can be reported (and, with ``OVLITE_AUTO_MAX_RELATIVE_ERROR``,
bounded).  :func:`choose` picks the winner and writes every candidate's verdict.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from .. import properties as props
from ..device import CompiledModel
from ..model import Port
from ..properties.hint import PerformanceMode

#: Candidates whose figures are within this share of the best count as equally fast; AUTO
#: then keeps the one that is quickest to serve.
TIE_MARGIN = 0.05
#: Inferences run before timing starts (first-run allocations, lazy kernels).
WARMUP_RUNS = 2
#: Rounds the measuring time is split into, taking the candidates in turn.
ROUNDS = 3
#: Timed inferences a LATENCY measurement wants at least, budget or not.
MIN_RUNS = 5
#: And at most, so that a very fast model does not spend the whole budget for nothing.
MAX_RUNS = 2000


@dataclass
class Measurement:
    """What AUTO found out about one candidate."""

    device: str
    precision: str = ""
    compile_ms: float = 0.0
    latency_ms: float | None = None  # median, LATENCY
    throughput: float | None = None  # inferences per second, THROUGHPUT
    runs: int = 0
    max_abs_diff: float | None = None  # against the f32 reference's output
    max_rel_diff: float | None = None  # max_abs_diff / the reference's largest magnitude
    reference: str = ""  # the f32 candidate the differences are against
    error: str = ""  # why the candidate could not be measured
    verdict: str = ""

    @property
    def score(self) -> float:
        """Higher is better: inferences per second, or the inverse of the latency."""
        if self.throughput is not None:
            return self.throughput
        if self.latency_ms:
            return 1000.0 / self.latency_ms
        return 0.0

    def figure(self) -> str:
        if self.error:
            return "not measured"
        if self.throughput is not None:
            return f"{self.throughput:.1f} inf/s"
        return f"{self.latency_ms:.3g} ms median latency"

    def accuracy(self) -> str:
        if self.max_abs_diff is None:
            return ""
        if self.device == self.reference:
            return "the f32 reference"
        return (
            f"max difference from {self.reference} {self.max_abs_diff:.3g} "
            f"({self.max_rel_diff:.2%} of its largest output)"
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Measurement:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def reported_precision(compiled: CompiledModel) -> Any:
    """The ``INFERENCE_PRECISION_HINT`` a compiled model reports, as it reports it (a
    ``Type``), or ``"unreported"``."""
    try:
        return compiled.get_property(props.hint.inference_precision)
    except Exception:  # a device that does not report it
        return "unreported"


def precision_of(compiled: CompiledModel) -> str:
    """The precision a compiled model computes in as text (``"f32"``, ``"bf16"``), or
    ``"unreported"``."""
    return str(reported_precision(compiled)) or "unreported"


def calibration_inputs(ports: Sequence[Port]) -> list[np.ndarray] | None:
    """Inputs made from the ports, in input order: floats uniform in [0, 1), integers 0,
    booleans False, a dynamic first (batch) dimension 1.  ``None`` when another dimension
    is dynamic: a made-up size would time the wrong workload, so the user's first request
    calibrates instead."""
    rng = np.random.default_rng(0)
    arrays = []
    for port in ports:
        shape = port.partial_shape
        if getattr(shape, "rank_is_dynamic", False) or any(d < 0 for d in list(shape)[1:]):
            return None
        dims = [1 if d < 0 else d for d in shape]
        try:
            dtype = port.element_type.to_dtype()
        except TypeError:
            return None
        if dtype.kind == "f":
            arrays.append(rng.random(dims).astype(dtype))
        elif dtype.kind in "iub":
            arrays.append(np.zeros(dims, dtype))
        else:
            return None
    return arrays


def measure(
    candidates: Sequence[tuple[CompiledModel, Measurement]],
    inputs: Sequence[np.ndarray],
    hint: Any,
    budget_s: float,
    stop: threading.Event,
) -> dict[str, Sequence[np.ndarray]]:
    """Time each compiled candidate on ``inputs`` for about ``budget_s`` in all, filling in
    its :class:`Measurement`; returns the first outputs of those that ran, by device.

    The time is spent in :data:`ROUNDS` rounds that take the candidates in turn, and each
    figure is the median of its rounds: load from elsewhere that comes and goes (another
    process, the user's own requests) then spoils one round of each candidate rather than
    all of one.  A candidate that fails gets ``error`` set and is not timed further.  Setting
    ``stop`` (the model closes, the interpreter exits) ends the measurement early."""
    outputs: dict[str, Sequence[np.ndarray]] = {}
    figures: dict[str, list[float]] = {}
    for compiled, into in candidates:
        try:
            first, _ = compiled.run(inputs)
            for _ in range(WARMUP_RUNS - 1):
                compiled.run(inputs)
        except Exception as exc:
            into.error = f"{type(exc).__name__}: {exc}"
            continue
        outputs[into.device] = [np.asarray(o) for o in first]
        figures[into.device] = []
    for _ in range(ROUNDS):
        for compiled, into in candidates:
            if into.error:
                continue
            try:
                if hint == PerformanceMode.THROUGHPUT:
                    figure, runs = _time_queue(compiled, inputs, budget_s / ROUNDS, stop)
                else:
                    figure, runs = _time_latency(compiled, inputs, budget_s / ROUNDS, stop)
            except Exception as exc:
                into.error = f"{type(exc).__name__}: {exc}"
                outputs.pop(into.device, None)
                continue
            figures[into.device].append(figure)
            into.runs += runs
    for _, into in candidates:
        if not into.error and figures.get(into.device):
            middle = statistics.median(figures[into.device])
            if hint == PerformanceMode.THROUGHPUT:
                into.throughput = middle
            else:
                into.latency_ms = middle
    return outputs


def _time_latency(
    compiled: CompiledModel, inputs: Sequence[np.ndarray], budget_s: float, stop: threading.Event
) -> tuple[float, int]:
    times = []
    deadline = time.perf_counter() + budget_s
    while len(times) < MAX_RUNS:
        if stop.is_set():
            raise RuntimeError("stopped: the model was closed")
        started = time.perf_counter()
        compiled.run(inputs)
        ended = time.perf_counter()
        times.append(ended - started)
        if ended >= deadline and len(times) >= MIN_RUNS:
            break
    return statistics.median(times) * 1000.0, len(times)


def _time_queue(
    compiled: CompiledModel, inputs: Sequence[np.ndarray], budget_s: float, stop: threading.Event
) -> tuple[float, int]:
    """Inferences per second through an ``AsyncInferQueue`` fed until the deadline (after
    one warm-up pass of every request), and how many ran."""
    from ..compiled_model import CompiledModel as UserCompiledModel
    from ..requests import AsyncInferQueue

    queue = AsyncInferQueue(UserCompiledModel(compiled))
    feeds = list(inputs)
    lock = threading.Lock()
    completed = [0]

    def count(request: Any, userdata: Any) -> None:
        with lock:
            completed[0] += 1

    for _ in range(len(queue)):
        queue.start_async(feeds)
    queue.wait_all()  # raises the device's error, if any
    queue.set_callback(count)
    started = time.perf_counter()
    deadline = started + budget_s
    while time.perf_counter() < deadline:
        if stop.is_set():
            queue.wait_all()
            raise RuntimeError("stopped: the model was closed")
        queue.start_async(feeds)
    queue.wait_all()
    elapsed = time.perf_counter() - started
    if completed[0] == 0 or elapsed <= 0:
        raise RuntimeError("no inference completed inside the measuring window")
    return completed[0] / elapsed, completed[0]


def difference(
    outputs: Sequence[np.ndarray], reference: Sequence[np.ndarray]
) -> tuple[float, float]:
    """``(max absolute difference, that / the reference's largest magnitude)`` over all
    outputs; infinite when shapes differ or NaNs appear in one and not the other."""
    worst_abs, worst_rel = 0.0, 0.0
    if len(outputs) != len(reference):
        return float("inf"), float("inf")
    for got, want in zip(outputs, reference, strict=True):
        if got.shape != want.shape:
            return float("inf"), float("inf")
        if got.size == 0:
            continue
        got64, want64 = got.astype(np.float64), want.astype(np.float64)
        if np.any(np.isnan(got64) != np.isnan(want64)):
            return float("inf"), float("inf")
        gap = float(np.nanmax(np.abs(got64 - want64), initial=0.0))
        scale = float(np.nanmax(np.abs(want64), initial=0.0))
        worst_abs = max(worst_abs, gap)
        worst_rel = max(worst_rel, gap / scale if scale > 0 else (0.0 if gap == 0 else np.inf))
    return worst_abs, worst_rel


def compare_to_reference(
    measurements: Sequence[Measurement], outputs: dict[str, Sequence[np.ndarray]]
) -> None:
    """Fill in each measured candidate's difference from the first f32 candidate's output."""
    reference = next(
        (m for m in measurements if m.precision == "f32" and m.device in outputs), None
    )
    if reference is None:
        return
    for m in measurements:
        if m.device in outputs:
            m.reference = reference.device
            m.max_abs_diff, m.max_rel_diff = difference(
                outputs[m.device], outputs[reference.device]
            )


def choose(
    measurements: Sequence[Measurement], serving: str, bound: float | None
) -> Measurement | None:
    """The winner among the measured candidates, or ``None`` when none qualifies; every
    candidate's ``verdict`` says why it won or lost.

    The fastest candidate wins; those within :data:`TIE_MARGIN` of it count as equally fast,
    and among them AUTO keeps the one serving now (no switch), else the quickest to compile.
    With ``bound``, a candidate whose output differs from the f32 reference by more than that
    share is refused, and so is one that cannot be compared (no f32 candidate)."""
    eligible = []
    for m in measurements:
        if m.error:
            m.verdict = f"could not be measured: {m.error}"
        elif bound is not None and m.max_rel_diff is None:
            m.verdict = "refused: no f32 candidate to check its accuracy against"
        elif bound is not None and m.max_rel_diff > bound:  # type: ignore[operator]
            m.verdict = (
                f"refused: its output differs from {m.reference}'s by {m.max_rel_diff:.2%} "
                f"of the largest value (max {m.max_abs_diff:.3g}), more than "
                f"OVLITE_AUTO_MAX_RELATIVE_ERROR {bound:g}"
            )
        else:
            eligible.append(m)
    if not eligible:
        return None
    fastest = max(eligible, key=lambda m: m.score)
    close = [m for m in eligible if m.score >= fastest.score * (1.0 - TIE_MARGIN)]
    winner = next((m for m in close if m.device == serving), None) or min(
        close, key=lambda m: m.compile_ms
    )
    for m in eligible:
        if m is winner:
            m.verdict = "chosen: the fastest"
            if m is not fastest:
                m.verdict = (
                    f"chosen: within {TIE_MARGIN:.0%} of the fastest ({fastest.device}, "
                    f"{fastest.figure()}) and quicker to serve"
                )
        elif m in close:
            m.verdict = f"as fast within {TIE_MARGIN:.0%}, but {winner.device} is quicker to serve"
        else:
            m.verdict = f"slower: {m.score / winner.score:.2f}x the winner"
    return winner
