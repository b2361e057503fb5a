"""``ovlite benchmark --plot``: latency over time, its histogram, and each device's share."""

from __future__ import annotations

from .benchmark import BenchmarkResult
from .errors import OvliteError


def plot_result(result: BenchmarkResult, path: str) -> None:
    """Draw the run to a PNG; needs matplotlib (``pip install 'ovlite[plot]'``)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise OvliteError("--plot needs matplotlib: pip install 'ovlite[plot]'") from exc
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
