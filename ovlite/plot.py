"""``ovlite benchmark --plot``: latency over time, its histogram, and each device's share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .benchmark import BenchmarkResult
from .errors import OvliteError


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise OvliteError("--plot needs matplotlib: pip install 'ovlite[plot]'") from exc
    return plt


def plot_result(result: BenchmarkResult, path: str) -> None:
    """Draw the run to a PNG; needs matplotlib (``pip install 'ovlite[plot]'``)."""
    plt = _pyplot()
    shares = result.executed_on
    columns = 3 if len(shares) > 1 else 2
    figure, axes = plt.subplots(1, columns, figsize=(5 * columns, 4))
    title = f"{result.model_name} on {result.config.device} ({result.config.hint or 'no hint'})"
    figure.suptitle(f"{title}: {result.throughput:.1f} FPS")
    axes[0].plot(result.finish_times_s, result.latencies_ms, ".", markersize=2)
    axes[0].set(xlabel="time (s)", ylabel="latency (ms)", title="latency over time")
    axes[1].hist(result.latencies_ms, bins=50)
    axes[1].set(xlabel="latency (ms)", ylabel="requests", title="latency histogram")
    if columns == 3:
        axes[2].bar(list(shares), list(shares.values()))
        axes[2].set(ylabel="requests", title="requests per device")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def plot_comparison(results: Sequence[BenchmarkResult], path: str) -> None:
    """``--compare ... --plot``: throughput and median latency (with p90) per configuration."""
    plt = _pyplot()
    labels = [r.config.label for r in results]
    positions = range(len(results))
    figure, (left, right) = plt.subplots(1, 2, figsize=(max(8, 2.2 * len(results)), 4.5))
    figure.suptitle(f"{results[0].model_name}: configurations compared")
    bars = left.bar(positions, [r.throughput for r in results], color="tab:blue")
    left.bar_label(bars, fmt="%.1f")
    left.set(ylabel="inferences per second", title="throughput (higher is better)")
    medians = [r.latency("median") for r in results]
    spread = [max(0.0, r.latency("p90") - m) for r, m in zip(results, medians, strict=True)]
    bars = right.bar(
        positions, medians, yerr=[[0.0] * len(results), spread], color="tab:orange", capsize=4
    )
    right.bar_label(bars, fmt="%.2f", label_type="center")
    right.set(ylabel="latency (ms)", title="median latency, bar to p90 (lower is better)")
    for axis in (left, right):
        axis.set_xticks(list(positions), labels, rotation=20, ha="right")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
