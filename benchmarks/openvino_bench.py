"""ovlite's OPENVINO.CPU against the openvino package's own CPU plugin, in one run.

For each model, at f32 and at bf16 (openvino's default on CPUs with bf16 instructions),
THROUGHPUT through ``AsyncInferQueue`` with ``OPTIMAL_NUMBER_OF_INFER_REQUESTS`` jobs:

* ovlite ``OPENVINO.CPU`` (ONNX Runtime's OpenVINO provider, OpenVINO 2025.4 inside the
  onnxruntime-openvino wheel), in this process;
* the ``openvino`` package (its own, newer OpenVINO), in a child process (see _isolate.py);
* raw ONNX Runtime's CPU provider (one default session looped) as the baseline.

The ovlite/openvino pair is measured ``--rounds`` times, interleaved, because the machine
is shared; the target is ovlite OPENVINO.CPU >= 0.95 x openvino at equal precision (best
round of each).  Usage::

    python benchmarks/openvino_bench.py [--models resnet18,ocr_det,ocr_rec,silero_vad]
                                        [-t SECONDS] [--rounds N]

Extra packages (openvino): ``.venv/bin/pip install -r benchmarks/requirements.txt``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

# cpu_bench, _models, _report and _timing sit beside this script (on sys.path).
import _models
import cpu_bench
from _isolate import run_in_child
from _models import ModelCase
from _report import NotRun, Row

import ovlite

DEVICE = "OPENVINO.CPU"
TARGET = 0.95
FACTS = (
    "NUM_STREAMS",
    "INFERENCE_NUM_THREADS",
    "OPTIMAL_NUMBER_OF_INFER_REQUESTS",
    "INFERENCE_PRECISION_HINT",
)


def ovlite_row(case: ModelCase, precision: str, settings: cpu_bench.Settings) -> Row:
    """ovlite OPENVINO.CPU, THROUGHPUT, at ``precision``; the openvino variant of a model
    OpenVINO cannot load as it is (Silero VAD), like the openvino rows."""
    label = f"ovlite {DEVICE} {precision}"
    config = {"PERFORMANCE_HINT": "THROUGHPUT", "INFERENCE_PRECISION_HINT": precision}
    core = cpu_bench.ovlite_core()
    note, feeds = "", case.feeds
    try:
        compiled = core.compile_model(case.path, DEVICE, config)
    except ovlite.OvliteError as exc:
        if case.openvino_path is None:
            raise NotRun(f"does not compile: {cpu_bench.short_reason(exc)}") from exc
        note = f"{case.path.name} does not compile ({cpu_bench.short_reason(exc, 160)}); "
        compiled = core.compile_model(case.openvino_path, DEVICE, config)
        feeds = case.feeds_for([port.any_name for port in compiled.inputs])
        note += f"ran {case.openvino_path.name}"
    try:
        drive = cpu_bench.drive_compiled(compiled, feeds, "THROUGHPUT", ovlite.AsyncInferQueue)
        sample = cpu_bench.timed(drive, settings)
        facts = cpu_bench.read_properties(compiled, FACTS)
    finally:
        compiled.close()
    return Row(f"ovlite.{precision}", label, "AsyncInferQueue, optimal jobs", sample, note, facts)


def openvino_row(case: ModelCase, precision: str, settings: cpu_bench.Settings) -> Row:
    if settings.openvino_missing:
        raise NotRun(settings.openvino_missing)
    key, label = f"openvino.{precision}", f"openvino CPU {precision}"
    return run_in_child(cpu_bench.openvino_row, key, label, precision, "THROUGHPUT", case, settings)


def guarded(function, *args) -> Row:  # type: ignore[no-untyped-def]
    """A row, or a row whose note says why it could not run."""
    try:
        return function(*args)
    except NotRun as exc:
        return Row(function.__name__, function.__name__, "", note=str(exc))
    except Exception as exc:
        reason = f"failed: {type(exc).__name__}: {cpu_bench.short_reason(exc)}"
        return Row(function.__name__, function.__name__, "", note=reason)


def show(row: Row) -> str:
    if row.sample is None:
        return f"  {row.label:<28} {row.note}"
    facts = " ".join(f"{k.split('_')[0].lower()}={v}" for k, v in row.facts.items())
    note = f"  [{row.note}]" if row.note else ""
    return (
        f"  {row.label:<28} {row.throughput:8.1f} inf/s  median {row.median_ms:7.2f} ms  "
        f"{facts}{note}"
    )


def bench(case: ModelCase, settings: cpu_bench.Settings, rounds: int) -> list[str]:
    print(f"\n{case.name}: {case.source}", flush=True)
    baseline = guarded(cpu_bench.ort_plain, case, settings)
    baseline = baseline[0] if isinstance(baseline, list) else baseline
    print(show(baseline), flush=True)
    verdicts = []
    for precision in ("f32", "bf16"):
        best: dict[str, Row] = {}
        for _ in range(rounds):
            for row in (
                guarded(ovlite_row, case, precision, settings),
                guarded(openvino_row, case, precision, settings),
            ):
                print(show(row), flush=True)
                side = row.key.split(".")[0]
                if row.sample and (side not in best or row.throughput > best[side].throughput):
                    best[side] = row
        if "ovlite" in best and "openvino" in best:
            ratio = best["ovlite"].throughput / best["openvino"].throughput
            verdict = "PASS" if ratio >= TARGET else "FAIL"
            verdicts.append(
                f"{verdict} {case.name} {precision}: ovlite {DEVICE} / openvino = {ratio:.3f} "
                f"(target >= {TARGET}; best of {rounds})"
            )
        else:
            verdicts.append(f"n/a  {case.name} {precision}: a side did not run")
    return verdicts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--models", default="resnet18,ocr_det,ocr_rec,silero_vad")
    parser.add_argument("-t", "--seconds", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cache-dir", type=Path, default=_models.DEFAULT_CACHE)
    parser.add_argument("--skip-openvino", action="store_true")
    args = parser.parse_args(argv)
    settings = cpu_bench.start_run(args.seconds, args.warmup, args.skip_openvino)
    verdicts: list[str] = []
    with tempfile.TemporaryDirectory(prefix="ovlite-ov-bench-") as workdir:
        for name in args.models.split(","):
            case = _models.load(name, args.cache_dir, Path(workdir))
            verdicts += bench(case, settings, args.rounds)
    print("\n" + "\n".join(verdicts))
    print(f"load average at the end: {cpu_bench.load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
