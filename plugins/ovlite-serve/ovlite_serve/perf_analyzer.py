"""Triton's perf_analyzer as ovlite's tests and benchmarks run it: where it is, one run, its CSV.

``locate()`` finds a perf_analyzer that runs here: first the one
``python -m ovlite_serve.perf_analyzer_install`` put in this environment
(``<venv>/bin/perf_analyzer``), then any on PATH.  ``run()`` drives a server with it and reads
the rows of its ``-f`` CSV report (latencies in µs, throughput in inferences/s; the server-side
columns stay out: they come from Triton's statistics extension, which ``ovlite serve`` does not
answer).
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = "python -m ovlite_serve.perf_analyzer_install (make install runs it)"


class PerfAnalyzerMissing(RuntimeError):
    """No perf_analyzer that runs on this machine; the message says what was tried."""


def installed_wrapper(prefix: str | None = None) -> Path:
    """Where the installer writes its ``perf_analyzer`` wrapper: ``<prefix>/bin``."""
    return Path(prefix or sys.prefix) / "bin" / "perf_analyzer"


def version(executable: str) -> str:
    """``perf_analyzer --version``'s line; PerfAnalyzerMissing with its output when it fails."""
    try:
        done = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=60)
    except OSError as error:
        raise PerfAnalyzerMissing(f"{executable}: {error}") from None
    text = (done.stdout + done.stderr).strip()
    if done.returncode != 0 or "Perf Analyzer Version" not in text:
        raise PerfAnalyzerMissing(f"{executable} --version exits {done.returncode}: {text[-300:]}")
    return text.splitlines()[-1]


def locate() -> str:
    """The path of a perf_analyzer that runs here, or PerfAnalyzerMissing saying why none."""
    tried = []
    candidates = [str(installed_wrapper())] if installed_wrapper().exists() else []
    on_path = shutil.which("perf_analyzer")
    if on_path and on_path not in candidates:
        candidates.append(on_path)
    for candidate in candidates:
        try:
            version(candidate)
            return candidate
        except PerfAnalyzerMissing as error:
            tried.append(str(error))
    found = "; ".join(tried) if tried else "none in this environment or on PATH"
    raise PerfAnalyzerMissing(f"no working perf_analyzer ({found}); install it: {INSTALL_HINT}")


@dataclass(frozen=True)
class Row:
    """One concurrency level of a perf_analyzer report."""

    concurrency: int
    throughput: float  # inferences per second
    p50_us: float
    p99_us: float


@dataclass(frozen=True)
class Result:
    """A finished perf_analyzer run: its exit status, output and report rows."""

    command: list[str]
    returncode: int
    output: str
    rows: list[Row]


def command(
    executable: str,
    url: str,
    model: str,
    protocol: str = "http",
    concurrency: str = "1",
    shapes: Sequence[str] = (),
    extra: Sequence[str] = (),
) -> list[str]:
    """The perf_analyzer command line for a closed-loop run: ``concurrency`` is its
    ``--concurrency-range`` (``"2"``, ``"1:4"``, ``"1:8:2"``), ``shapes`` its ``--shape``
    values (``"input:1,64"``) for the model's dynamic dimensions."""
    args = [executable, "-m", model, "-u", url, "-i", protocol]
    args.append(f"--concurrency-range={concurrency}")
    args += [f"--shape={shape}" for shape in shapes]
    return args + list(extra)


def run(args: Sequence[str], report: Path, timeout_s: float = 600.0) -> Result:
    """Run a perf_analyzer command line, its CSV report written to ``report``."""
    full = [*args, "-f", str(report)]
    done = subprocess.run(full, capture_output=True, text=True, timeout=timeout_s)
    rows = read_report(report) if done.returncode == 0 and report.exists() else []
    return Result(full, done.returncode, done.stdout + done.stderr, rows)


def read_report(path: Path) -> list[Row]:
    """The rows of a perf_analyzer ``-f`` CSV file, by increasing concurrency."""
    with path.open(newline="") as file:
        records = list(csv.DictReader(file))
    rows = [
        Row(
            concurrency=int(record["Concurrency"]),
            throughput=float(record["Inferences/Second"]),
            p50_us=float(record["p50 latency"]),
            p99_us=float(record["p99 latency"]),
        )
        for record in records
    ]
    return sorted(rows, key=lambda row: row.concurrency)
