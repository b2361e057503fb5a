"""AUTO against the openvino package, with OpenVINO's own sample patterns, in one run.

For each model and execution mode, the two patterns of OpenVINO's Python samples:

* THROUGHPUT (``throughput_benchmark``): ``AsyncInferQueue`` with
  ``OPTIMAL_NUMBER_OF_INFER_REQUESTS`` jobs; inferences per second;
* LATENCY (``sync_benchmark``): ``request.infer`` in a loop; median latency;

each run on:

* ``openvino`` CPU with its defaults (PERFORMANCE: bf16 where the CPU accelerates it) or, in
  ACCURACY mode, with ``INFERENCE_PRECISION_HINT`` f32, in a child process (see _isolate.py);
* ovlite ``AUTO`` (``EXECUTION_MODE_HINT`` PERFORMANCE or ACCURACY), measured once it has
  chosen (the time it took to choose is printed), and ovlite ``CPU`` and ``OPENVINO.CPU``
  for reference.

Targets: AUTO THROUGHPUT >= 0.95x openvino and AUTO LATENCY p50 <= 1.05x openvino; on the
tiny MLP, AUTO >= 0.95x the better of ovlite CPU and openvino.  Then, on the tiny MLP, the
cost of AUTO per request (its sync ``infer`` against the chosen device's own), and on
ResNet-18 the first inference through AUTO against CPU's and a second compile that follows
the remembered decision.  Usage::

    python benchmarks/auto_bench.py [--models resnet18,ocr_rec,ocr_det,silero_vad,tiny_mlp]
                                    [--modes PERFORMANCE,ACCURACY] [-t SECONDS]

Extra packages (openvino): ``.venv/bin/pip install -r benchmarks/requirements.txt``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

# cpu_bench, _models, _isolate, _report and _timing sit beside this script (on sys.path).
import _models
import cpu_bench
import numpy as np
from _isolate import keep_alive, run_in_child
from _models import ModelCase
from _timing import Sample, loop_driver

import ovlite

HINTS = ("THROUGHPUT", "LATENCY")
#: The detection model at the size of the issue's table (its inputs are dynamic).
OCR_DET_SIDE = 480
FACTS = ("EXECUTION_DEVICES", "INFERENCE_PRECISION_HINT", "OPTIMAL_NUMBER_OF_INFER_REQUESTS")


@dataclass
class Result:
    label: str
    sample: Sample | None
    facts: dict[str, str]
    note: str = ""

    def figure(self, hint: str) -> float | None:
        if self.sample is None:
            return None
        return self.sample.throughput if hint == "THROUGHPUT" else self.sample.median_ms

    def show(self, hint: str) -> str:
        if self.sample is None:
            return f"  {self.label:<24} {self.note}"
        figure = self.figure(hint)
        text = f"{figure:9.1f} inf/s" if hint == "THROUGHPUT" else f"{figure:8.3g} ms p50"
        facts = " ".join(f"{k.split('_')[0].lower()}={v}" for k, v in self.facts.items())
        note = f"  [{self.note}]" if self.note else ""
        return f"  {self.label:<24} {text}  {facts}{note}"


# ---- the engines -------------------------------------------------------------------------------


def openvino_config(hint: str, mode: str) -> dict[str, str]:
    config = {"PERFORMANCE_HINT": hint}
    if mode == "ACCURACY":
        config["INFERENCE_PRECISION_HINT"] = "f32"
    return config


def openvino_side(hint: str, mode: str, case: ModelCase, settings: cpu_bench.Settings) -> Result:
    """openvino CPU with its defaults for ``mode``; runs in a child process."""
    import openvino as ov

    compiled, feeds, note = cpu_bench.openvino_compile(ov, case, openvino_config(hint, mode))
    drive = cpu_bench.drive_compiled(compiled, feeds, hint, cpu_bench.openvino_queue(ov))
    keep_alive(compiled, drive)
    sample = cpu_bench.timed(drive, settings)
    facts = cpu_bench.read_properties(compiled, FACTS[1:])
    return Result("openvino CPU", sample, facts, note)


def ovlite_side(
    device: str, hint: str, mode: str, case: ModelCase, settings: cpu_bench.Settings
) -> Result:
    """ovlite ``device``; AUTO is measured once it has chosen."""
    config: dict[str, Any] = {"PERFORMANCE_HINT": hint, "EXECUTION_MODE_HINT": mode}
    if device == "CPU":
        config.pop("EXECUTION_MODE_HINT")
    if device != "AUTO" and mode == "ACCURACY":
        config["INFERENCE_PRECISION_HINT"] = "f32"
    if device == "AUTO":
        config["OVLITE_AUTO_CACHE_DECISION"] = False  # every run measures afresh
    path = case.openvino_path or case.path  # Silero: the OpenVINO export, as openvino runs
    core = ovlite.Core()
    started = time.perf_counter()
    compiled = core.compile_model(str(path), device, config)
    feeds = case.feeds_for([p.any_name for p in compiled.inputs])
    compiled(feeds)
    note = ""
    if device == "AUTO":
        compiled.wait_until_ready()
        measured = ", ".join(
            f"{m['device']} {m['throughput'] or m['latency_ms'] or 0:.3g}"
            for m in compiled.get_property("OVLITE_AUTO_MEASUREMENTS")
        )
        note = f"chose in {time.perf_counter() - started:.1f} s; measured {measured}"
    try:
        drive = cpu_bench.drive_compiled(compiled, feeds, hint, ovlite.AsyncInferQueue)
        sample = cpu_bench.timed(drive, settings)
        facts = cpu_bench.read_properties(compiled, FACTS)
    finally:
        compiled.close()
    return Result(f"ovlite {device}", sample, facts, note)


def guarded(label: str, function: Any, *args: Any) -> Result:
    try:
        return function(*args)
    except Exception as exc:
        return Result(
            label, None, {}, f"failed: {type(exc).__name__}: {cpu_bench.short_reason(exc)}"
        )


# ---- the comparisons -----------------------------------------------------------------------------


def compare(case: ModelCase, mode: str, settings: cpu_bench.Settings) -> list[str]:
    verdicts = []
    for hint in HINTS:
        print(f"\n{case.name}, {mode}, {hint}:", flush=True)
        results = {}
        for device in ("AUTO", "CPU", "OPENVINO.CPU"):
            results[device] = guarded(
                f"ovlite {device}", ovlite_side, device, hint, mode, case, settings
            )
            print(results[device].show(hint), flush=True)
        if settings.openvino_missing:
            results["openvino"] = Result("openvino CPU", None, {}, settings.openvino_missing)
        else:
            results["openvino"] = guarded(
                "openvino CPU", run_in_child, openvino_side, hint, mode, case, settings
            )
        print(results["openvino"].show(hint), flush=True)
        verdicts.append(verdict(case.name, mode, hint, results))
    return verdicts


def verdict(model: str, mode: str, hint: str, results: dict[str, Result]) -> str:
    auto, openvino = results["AUTO"].figure(hint), results["openvino"].figure(hint)
    if auto is None or openvino is None:
        return f"n/a  {model} {mode} {hint}: a side did not run"
    if hint == "THROUGHPUT":
        against, what = openvino, "openvino"
        cpu = results["CPU"].figure(hint)
        if model == "tiny_mlp" and cpu is not None and cpu > openvino:
            against, what = cpu, "ovlite CPU (the better)"
        ratio, target = auto / against, 0.95
        ok = ratio >= target
        rule = f">= {target}"
    else:
        against, what = openvino, "openvino"
        ratio, target = auto / against, 1.05
        ok = ratio <= target
        rule = f"<= {target} (latency)"
    chosen = results["AUTO"].facts.get("EXECUTION_DEVICES", "?")
    return (
        f"{'PASS' if ok else 'FAIL'} {model} {mode} {hint}: AUTO ({chosen}) / {what} = "
        f"{ratio:.3f} (target {rule})"
    )


def per_request_cost(case: ModelCase, settings: cpu_bench.Settings) -> str:
    """AUTO's sync infer against the chosen device's own, same request pattern."""
    core = ovlite.Core()
    auto = core.compile_model(str(case.path), "AUTO", {"OVLITE_AUTO_CACHE_DECISION": False})
    auto.wait_until_ready()
    chosen = auto.get_property("EXECUTION_DEVICES")[0]
    direct = core.compile_model(str(case.path), chosen)
    rates = {}
    for label, compiled in (("AUTO", auto), (chosen, direct), ("AUTO again", auto)):
        request = compiled.create_infer_request()
        sample = cpu_bench.timed(loop_driver([partial(request.infer, case.feeds)]), settings)
        rates[label] = sample.throughput
        print(f"  sync infer on {label:<12} {sample.throughput:10.0f} inf/s", flush=True)
    auto.close()
    direct.close()
    ratio = max(rates["AUTO"], rates["AUTO again"]) / rates[chosen]
    return (
        f"{'PASS' if ratio >= 0.9 else 'FAIL'} {case.name}: AUTO sync infer / {chosen} sync "
        f"infer = {ratio:.3f} (target >= 0.9)"
    )


def first_inference(case: ModelCase, rounds: int) -> list[str]:
    """Compile + first inference through AUTO against CPU (median of ``rounds``), then a
    second compile that follows the remembered decision."""

    def first_result(device: str, config: dict[str, Any]) -> tuple[float, Any]:
        core = ovlite.Core()
        started = time.perf_counter()
        compiled = core.compile_model(str(case.path), device, config)
        compiled(case.feeds)
        return (time.perf_counter() - started) * 1000, compiled

    times: dict[str, list[float]] = {"AUTO": [], "CPU": []}
    for _ in range(rounds):
        for device in times:
            config = {"OVLITE_AUTO_CACHE_DECISION": False} if device == "AUTO" else {}
            elapsed, compiled = first_result(device, config)
            times[device].append(elapsed)
            if device == "AUTO":  # let its background work end before the next round
                compiled.wait_until_ready()
            compiled.close()
    auto, cpu = (statistics.median(times[d]) for d in ("AUTO", "CPU"))
    print(f"  first inference: AUTO {auto:.0f} ms, CPU {cpu:.0f} ms (median of {rounds})")
    lines = [
        f"{'PASS' if auto <= 1.2 * cpu else 'FAIL'} {case.name}: first inference AUTO / CPU = "
        f"{auto / cpu:.3f} (target <= 1.2)"
    ]
    with tempfile.TemporaryDirectory(prefix="ovlite-auto-cache-") as folder:
        settled = []
        for _ in range(2):
            core = ovlite.Core()
            started = time.perf_counter()
            compiled = core.compile_model(str(case.path), "AUTO", {"CACHE_DIR": folder})
            compiled(case.feeds)
            compiled.wait_until_ready()
            settled.append((time.perf_counter() - started) * 1000)
            reason = compiled.get_property("OVLITE_CONFIGURATION_REASON")
            compiled.close()
        remembered = "remembered" in reason
        print(
            f"  compile to settled: first {settled[0]:.0f} ms, with the decision remembered {settled[1]:.0f} ms"
        )
        lines.append(
            f"{'PASS' if remembered else 'FAIL'} {case.name}: second compile "
            f"{'followed the remembered decision (no measuring)' if remembered else 'measured again'}"
            f", {settled[1]:.0f} ms to settle against {settled[0]:.0f} ms"
        )
    return lines


def load_case(name: str, cache: Path, workdir: Path) -> ModelCase:
    case = _models.load(name, cache, workdir)
    if name == "ocr_det":
        image = np.random.default_rng(0).uniform(-1, 1, (1, 3, OCR_DET_SIDE, OCR_DET_SIDE))
        case = replace(case, feeds={"x": image.astype(np.float32)})
    return case


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--models", default="resnet18,ocr_rec,ocr_det,silero_vad,tiny_mlp")
    parser.add_argument("--modes", default="PERFORMANCE,ACCURACY")
    parser.add_argument("-t", "--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--cache-dir", type=Path, default=_models.DEFAULT_CACHE)
    parser.add_argument("--skip-openvino", action="store_true")
    parser.add_argument("--skip-extras", action="store_true", help="only the comparison tables")
    args = parser.parse_args(argv)
    settings = cpu_bench.start_run(args.seconds, args.warmup, args.skip_openvino)
    verdicts: list[str] = []
    with tempfile.TemporaryDirectory(prefix="ovlite-auto-bench-") as workdir:
        cases = {
            name: load_case(name, args.cache_dir, Path(workdir)) for name in args.models.split(",")
        }
        for case in cases.values():
            for mode in args.modes.split(","):
                verdicts += compare(case, mode, settings)
        if not args.skip_extras:
            mlp = cases.get("tiny_mlp") or load_case("tiny_mlp", args.cache_dir, Path(workdir))
            print("\nper-request cost of AUTO (tiny MLP, sync infer, LATENCY):")
            verdicts.append(per_request_cost(mlp, settings))
            resnet = cases.get("resnet18") or load_case("resnet18", args.cache_dir, Path(workdir))
            print("\nfirst inference and the remembered decision (resnet18):")
            verdicts += first_inference(resnet, rounds=3)
    print("\n" + "\n".join(verdicts))
    print(f"load average at the end: {cpu_bench.load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
