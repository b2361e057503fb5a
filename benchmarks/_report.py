"""Results, targets and the text tables the benchmark prints."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from _timing import Sample

# Row keys the tables and targets refer to.
ORT_PLAIN = "ort.plain"
ORT_GRID_BEST = "ort.grid.best"
OVLITE_LATENCY = "ovlite.latency"
OVLITE_THROUGHPUT = "ovlite.throughput"
OPENVINO_F32_THROUGHPUT = "openvino.f32.throughput"
#: Prefix of the rows measured again in alternation; a target judges them when it has both.
CONFIRMED = "confirm."


class NotRun(Exception):
    """A configuration that cannot run here; its message goes in the table instead.

    It lives here, not in the script, so that it pickles across the child processes.
    """


@dataclass
class Row:
    """One configuration of one model: its measurement, or a note saying why there is none."""

    key: str
    label: str
    settings: str
    sample: Sample | None = None
    note: str = ""
    facts: dict[str, str] = field(default_factory=dict)

    @property
    def throughput(self) -> float | None:
        return self.sample.throughput if self.sample else None

    @property
    def median_ms(self) -> float | None:
        return self.sample.median_ms if self.sample else None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if self.sample:
            data["sample"]["throughput"] = self.sample.throughput
        return data


@dataclass(frozen=True)
class Target:
    """``numerator / denominator >= threshold`` (or ``<=``) on one metric of two rows."""

    description: str
    models: tuple[str, ...] | None  # None: every model
    metric: str  # "throughput" or "median_ms"
    numerator: str
    denominator: str
    threshold: float
    at_most: bool = False  # True: the ratio must stay <= threshold (latency)

    def applies_to(self, model: str) -> bool:
        return self.models is None or model in self.models


@dataclass(frozen=True)
class Verdict:
    model: str
    target: Target
    status: str  # PASS, FAIL or n/a
    ratio: float | None
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "target": self.target.description,
            "status": self.status,
            "ratio": self.ratio,
            "threshold": self.target.threshold,
            "reason": self.reason,
        }


#: The models that run in a few microseconds, where issue 16 asks for less of THROUGHPUT.
SMALL_MODELS = ("tiny_mlp", "silero_vad")
LARGE_MODELS = ("resnet18", "ocr_det", "ocr_rec")

TARGETS = (
    Target(
        "ovlite THROUGHPUT hint >= 0.97x best raw ORT grid configuration (req/s)",
        LARGE_MODELS,
        "throughput",
        OVLITE_THROUGHPUT,
        ORT_GRID_BEST,
        0.97,
    ),
    Target(
        "ovlite THROUGHPUT hint >= 0.5x best raw ORT grid configuration (req/s)",
        SMALL_MODELS,
        "throughput",
        OVLITE_THROUGHPUT,
        ORT_GRID_BEST,
        0.5,
    ),
    Target(
        "ovlite LATENCY hint median latency <= 1.05x one plain ORT session",
        None,
        "median_ms",
        OVLITE_LATENCY,
        ORT_PLAIN,
        1.05,
        at_most=True,
    ),
    Target(
        "ovlite AsyncInferQueue >= 3x openvino AsyncInferQueue (f32, req/s)",
        ("tiny_mlp",),
        "throughput",
        OVLITE_THROUGHPUT,
        OPENVINO_F32_THROUGHPUT,
        3.0,
    ),
    Target(
        "ovlite sync infer loop >= 0.9x raw session.run loop (req/s)",
        ("tiny_mlp",),
        "throughput",
        OVLITE_LATENCY,
        ORT_PLAIN,
        0.9,
    ),
    Target(
        "ovlite AsyncInferQueue >= 2.5x openvino AsyncInferQueue (f32, req/s)",
        ("silero_vad",),
        "throughput",
        OVLITE_THROUGHPUT,
        OPENVINO_F32_THROUGHPUT,
        2.5,
    ),
)


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0 or math.isnan(a) or math.isnan(b):
        return None
    return a / b


def judge(model: str, rows: Sequence[Row], target: Target) -> Verdict:
    """Check one target against one model's rows."""
    by_key = {row.key: row for row in rows}
    parts = [by_key.get(target.numerator), by_key.get(target.denominator)]
    alternated = [by_key.get(CONFIRMED + key) for key in (target.numerator, target.denominator)]
    if all(row is not None and row.sample is not None for row in alternated):
        parts = alternated
    missing = [row for row in parts if row is None or row.sample is None]
    if missing:
        reason = "; ".join(f"{row.label}: {row.note}" for row in missing if row is not None)
        return Verdict(model, target, "n/a", None, reason or "configuration not run")
    value = ratio(*(getattr(row, target.metric) for row in parts))
    if value is None:
        return Verdict(model, target, "n/a", None, "nothing was measured")
    passed = value <= target.threshold if target.at_most else value >= target.threshold
    how = "alternated" if parts is alternated else ""
    return Verdict(model, target, "PASS" if passed else "FAIL", value, how)


def judge_all(results: dict[str, list[Row]]) -> list[Verdict]:
    """Every target that applies, model by model."""
    return [
        judge(model, rows, target)
        for model, rows in results.items()
        for target in TARGETS
        if target.applies_to(model)
    ]


# ---- text ----------------------------------------------------------------------------------------


def _number(value: float | None, digits: int = 1) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def _ms(value: float | None) -> str:
    """Milliseconds with enough digits for sub-millisecond models."""
    return _number(value, 2 if value is None or value >= 1 else 4)


def _times(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


TABLE_HEADER = (
    f"  {'configuration':<34} {'settings':<34} {'req/s':>10} {'x plain':>8} {'x best':>7}"
    f" {'median ms':>10} {'lat x plain':>11}"
)


def format_row(row: Row, plain: Row | None, best: Row | None) -> str:
    """One table line; ratios compare with the plain ORT loop and the best ORT grid entry."""
    if row.sample is None:
        return f"  {row.label:<34} {row.settings:<34} {row.note}"
    return (
        f"  {row.label:<34} {row.settings:<34} {_number(row.throughput):>10}"
        f" {_times(ratio(row.throughput, plain and plain.throughput)):>8}"
        f" {_times(ratio(row.throughput, best and best.throughput)):>7}"
        f" {_ms(row.median_ms):>10}"
        f" {_times(ratio(row.median_ms, plain and plain.median_ms)):>11}"
    )


def format_table(title: str, rows: Sequence[Row]) -> str:
    by_key = {row.key: row for row in rows}
    plain, best = by_key.get(ORT_PLAIN), by_key.get(ORT_GRID_BEST)
    lines = [title, TABLE_HEADER, "  " + "-" * (len(TABLE_HEADER) - 2)]
    lines += [format_row(row, plain, best) for row in rows]
    notes = [row for row in rows if row.sample is not None and (row.note or row.facts)]
    for row in notes:
        facts = ", ".join(f"{k}={v}" for k, v in row.facts.items())
        lines.append(f"  * {row.label}: {'; '.join(p for p in (facts, row.note) if p)}")
    return "\n".join(lines)


def format_verdicts(verdicts: Sequence[Verdict]) -> str:
    lines = ["Targets"]
    for v in verdicts:
        measured = "" if v.ratio is None else f" (measured {v.ratio:.2f}x)"
        why = f" [{v.reason}]" if v.reason else ""
        lines.append(f"  {v.status:<4} {v.model:<11} {v.target.description}{measured}{why}")
    return "\n".join(lines)


def format_versions(versions: dict[str, str]) -> str:
    width = max(map(len, versions))
    return "\n".join(f"{name:<{width}} : {value}" for name, value in versions.items())
