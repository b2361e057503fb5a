"""ovlite's CPU device against raw ONNX Runtime and the openvino package, in one run.

Every model is measured, one configuration after another, on the same machine:

* raw ONNX Runtime: one default session looped; a grid of sessions x intra-op threads x
  spinning driven by Python threads; ``run_async`` with ``2 x cores`` inferences in flight;
* ovlite on ``CPU``: the LATENCY hint as a sync ``request.infer`` loop, the THROUGHPUT hint
  through ``AsyncInferQueue`` (``OPTIMAL_NUMBER_OF_INFER_REQUESTS`` requests);
* openvino's CPU plugin at f32 (equal precision) with the same two hints, plus its bf16
  default on CPUs that have it, for information; each in a child process (see _isolate.py).

Then, for the targets that compare ovlite with raw ONNX Runtime (THROUGHPUT against the best
grid point, LATENCY against the plain session), both sides are measured again in alternation
(``--confirm`` rounds each, median round kept): the best of a dozen noisy grid points is
biased high, and alternating cancels the load that drifts over a run.  The targets are judged
on these alternated rows.  Then the targets are printed with PASS/FAIL and the measured ratio.
Usage::

    python benchmarks/cpu_bench.py [--models resnet18,ocr_det,ocr_rec,silero_vad,tiny_mlp]
                                   [-t SECONDS] [--confirm ROUNDS] [--json out.json]
                                   [--skip-openvino]

Extra packages (openvino): ``.venv/bin/pip install -r benchmarks/requirements.txt``.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import importlib.util
import itertools
import json
import os
import platform
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any

# _models, _report and _timing sit beside this script, whose folder Python puts on sys.path.
import _models
import _report
import onnxruntime as ort
from _isolate import keep_alive, run_in_child
from _models import ModelCase
from _report import CONFIRMED, NotRun, Row
from _timing import Driver, Sample, callback_driver, loop_driver, measure, queue_driver

import ovlite

INSTALL_HINT = ".venv/bin/pip install -r benchmarks/requirements.txt"
DEVICE = "CPU"
OVLITE_FACTS = (
    "NUM_STREAMS",
    "INFERENCE_NUM_THREADS",
    "OPTIMAL_NUMBER_OF_INFER_REQUESTS",
    "OVLITE_CONFIGURATION_REASON",
)
OPENVINO_FACTS = (
    "NUM_STREAMS",
    "INFERENCE_NUM_THREADS",
    "OPTIMAL_NUMBER_OF_INFER_REQUESTS",
    "INFERENCE_PRECISION_HINT",
)


@dataclass(frozen=True)
class Settings:
    seconds: float
    warmup_s: float
    cores: int
    openvino_missing: str  # why the openvino rows cannot run; empty when they can
    confirm_rounds: int = 3


@dataclass(frozen=True)
class Config:
    """A benchmark configuration: the row key and label used when it cannot run."""

    key: str
    label: str
    run: Callable[[ModelCase, Settings], list[Row]]


def timed(drive: Driver, settings: Settings) -> Sample:
    return measure(drive, settings.seconds, settings.warmup_s)


def short_reason(exc: BaseException, limit: int = 240) -> str:
    """The most telling line of a (possibly very long) error message.

    openvino's conversion report ends in a "Conversion is failed for: ..." summary; other
    messages keep their start and their end, where ONNX Runtime puts the actual cause.
    """
    lines = [line.strip(" -") for line in str(exc).splitlines() if line.strip(" -")]
    summary = [line for line in lines if "failed for" in line]
    text = summary[-1] if summary else (lines[-1] if lines else type(exc).__name__)
    if len(text) <= limit:
        return text
    half = (limit - 5) // 2
    return f"{text[:half]} ... {text[-half:]}"


def read_properties(compiled: Any, names: tuple[str, ...]) -> dict[str, str]:
    """Properties of a compiled model (ovlite or openvino) as text; "?" for any it lacks."""
    facts = {}
    for name in names:
        try:
            value = compiled.get_property(name)
        except Exception:  # an unknown property: report, don't fail the benchmark
            value = "?"
        # openvino's element types print as "<Type: 'float32'>"; to_string() gives "f32".
        facts[name] = value.to_string() if hasattr(value, "to_string") else str(value)
    return facts


# ---- raw ONNX Runtime ----------------------------------------------------------------------------


def ort_session(path: Path, threads: int = 0, spinning: bool | None = None) -> Any:
    """An ONNX Runtime CPU session; ``threads=0`` and ``spinning=None`` keep the defaults."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    if spinning is not None:
        flag = "1" if spinning else "0"
        options.add_session_config_entry("session.intra_op.allow_spinning", flag)
        options.add_session_config_entry("session.inter_op.allow_spinning", flag)
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def ort_plain(case: ModelCase, settings: Settings) -> list[Row]:
    session = ort_session(case.path)
    sample = timed(loop_driver([partial(session.run, None, case.feeds)]), settings)
    return [Row(_report.ORT_PLAIN, "ORT session.run loop", "1 session, default options", sample)]


@dataclass(frozen=True)
class GridPoint:
    sessions: int
    threads: int  # intra-op threads per session
    loops: int  # Python threads calling each session
    spinning: bool

    @property
    def key(self) -> str:
        spin = "on" if self.spinning else "off"
        return f"ort.grid.s{self.sessions}.t{self.threads}.py{self.loops}.spin-{spin}"

    @property
    def settings(self) -> str:
        spin = "on" if self.spinning else "off"
        loops = self.sessions * self.loops
        return f"{self.sessions} sess x {self.threads} thr, {loops} py thr, spin {spin}"


def grid_points(cores: int) -> list[GridPoint]:
    """Sessions x intra-op threads within the cores (and 1 x 2 always), spinning on and off;
    one Python thread per session, and also two for a single session."""
    sizes = sorted({1, 2, max(1, cores // 2), cores})
    pairs = [(s, t) for s in sizes for t in sizes if s * t <= cores or (s, t) == (1, 2)]
    points = []
    for (sessions, threads), spinning in itertools.product(pairs, (True, False)):
        for loops in (1, 2) if sessions == 1 else (1,):
            points.append(GridPoint(sessions, threads, loops, spinning))
    return points


def ort_grid_point(case: ModelCase, point: GridPoint, settings: Settings) -> Row:
    sessions = [
        ort_session(case.path, point.threads, point.spinning) for _ in range(point.sessions)
    ]
    calls = [partial(s.run, None, case.feeds) for s in sessions for _ in range(point.loops)]
    return Row(point.key, "ORT grid", point.settings, timed(loop_driver(calls), settings))


def ort_grid(case: ModelCase, settings: Settings) -> list[Row]:
    rows = []
    for point in grid_points(settings.cores):
        progress(case, f"ORT grid: {point.settings}")
        rows.append(ort_grid_point(case, point, settings))
        gc.collect()  # drop the sessions (and their spinning pools) before the next point
    best = max(rows, key=lambda row: row.throughput or 0.0)
    rows.append(Row(_report.ORT_GRID_BEST, "ORT grid: best", best.settings, best.sample))
    return rows


def ort_run_async(case: ModelCase, settings: Settings) -> list[Row]:
    session = ort_session(case.path)
    in_flight = 2 * settings.cores

    def start(done: Callable[[str], None]) -> None:
        session.run_async(None, case.feeds, lambda _out, _data, err: done(err), None)

    sample = timed(callback_driver(start, in_flight), settings)
    settings_text = f"1 session, default, {in_flight} in flight"
    return [Row("ort.run_async", "ORT run_async + callback", settings_text, sample)]


# ---- ovlite and openvino ---------------------------------------------------------------------------


def drive_compiled(compiled: Any, feeds: Any, hint: str, make_queue: Callable) -> Driver:
    """LATENCY: a sync ``infer`` loop on one request; THROUGHPUT: an ``AsyncInferQueue``.

    ovlite and openvino share these calls, so both are driven by the same code.
    """
    if hint == "LATENCY":
        return loop_driver([partial(compiled.create_infer_request().infer, feeds)])
    return queue_driver(make_queue(compiled), feeds)


HOW = {"LATENCY": "request.infer loop", "THROUGHPUT": "AsyncInferQueue, optimal jobs"}


@cache
def ovlite_core() -> ovlite.Core:
    return ovlite.Core()


def ovlite_config(hint: str) -> Config:
    key = _report.OVLITE_LATENCY if hint == "LATENCY" else _report.OVLITE_THROUGHPUT
    label = f"ovlite {DEVICE} {hint}"

    def run(case: ModelCase, settings: Settings) -> list[Row]:
        config = {"PERFORMANCE_HINT": hint}
        compiled = ovlite_core().compile_model(case.path, DEVICE, config)
        try:
            sample = timed(
                drive_compiled(compiled, case.feeds, hint, ovlite.AsyncInferQueue), settings
            )
            facts = read_properties(compiled, OVLITE_FACTS)
        finally:
            compiled.close()
        return [Row(key, label, HOW[hint], sample, facts=facts)]

    return Config(key, label, run)


def openvino_queue(ov: Any) -> Callable[[Any], Any]:
    """openvino's ``AsyncInferQueue`` with its ``OPTIMAL_NUMBER_OF_INFER_REQUESTS`` jobs."""
    return lambda compiled: ov.AsyncInferQueue(
        compiled, compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")
    )


def openvino_compile(ov: Any, case: ModelCase, config: dict) -> tuple[Any, dict, str]:
    """Compile ``case`` with openvino: its own file, else the variant made for openvino.

    Returns the compiled model, the inputs it takes and a note naming the variant if used.
    """
    core = ov.Core()
    try:
        return core.compile_model(str(case.path), DEVICE, config), case.feeds, ""
    except Exception as exc:  # openvino raises RuntimeError subclasses of its own
        reason = short_reason(exc)
        if case.openvino_path is None:
            raise NotRun(f"does not load: {reason}") from exc
    compiled = core.compile_model(str(case.openvino_path), DEVICE, config)
    feeds = case.feeds_for([port.any_name for port in compiled.inputs])
    note = f"{case.path.name} does not load ({reason}); ran {case.openvino_path.name}"
    return compiled, feeds, note


def openvino_row(
    key: str, label: str, precision: str, hint: str, case: ModelCase, settings: Settings
) -> Row:
    """Measure openvino with one precision and hint; runs in a child process (see _isolate)."""
    import openvino as ov

    config = {"PERFORMANCE_HINT": hint, "INFERENCE_PRECISION_HINT": precision}
    compiled, feeds, note = openvino_compile(ov, case, config)
    drive = drive_compiled(compiled, feeds, hint, openvino_queue(ov))
    keep_alive(compiled, drive)
    sample = timed(drive, settings)
    return Row(key, label, HOW[hint], sample, note, read_properties(compiled, OPENVINO_FACTS))


def openvino_config(precision: str, hint: str) -> Config:
    key = f"openvino.{precision}.{hint.lower()}"
    label = f"openvino {precision} {hint}" + (" (info)" if precision != "f32" else "")

    def run(case: ModelCase, settings: Settings) -> list[Row]:
        if settings.openvino_missing:
            raise NotRun(settings.openvino_missing)
        return [run_in_child(openvino_row, key, label, precision, hint, case, settings)]

    return Config(key, label, run)


CONFIGS = (
    Config(_report.ORT_PLAIN, "ORT session.run loop", ort_plain),
    Config(_report.ORT_GRID_BEST, "ORT grid", ort_grid),
    Config("ort.run_async", "ORT run_async + callback", ort_run_async),
    ovlite_config("LATENCY"),
    ovlite_config("THROUGHPUT"),
    openvino_config("f32", "LATENCY"),
    openvino_config("f32", "THROUGHPUT"),
    openvino_config("bf16", "LATENCY"),
    openvino_config("bf16", "THROUGHPUT"),
)


# ---- running -----------------------------------------------------------------------------------


def progress(case: ModelCase, what: str) -> None:
    print(f"[{case.name}] {what} ...", file=sys.stderr, flush=True)


def run_config(config: Config, case: ModelCase, settings: Settings) -> list[Row]:
    """Run one configuration; a failure becomes a row with a note, never a crash."""
    progress(case, config.label)
    try:
        return config.run(case, settings)
    except ovlite.DeviceNotFoundError:
        note = f"n/a ({DEVICE} plugin missing)"
    except NotRun as exc:
        note = str(exc)
    except Exception as exc:
        note = f"failed: {type(exc).__name__}: {short_reason(exc)}"
    finally:
        gc.collect()  # sessions and compiled models go before the next configuration
    return [Row(config.key, config.label, "", note=note)]


def bench_model(case: ModelCase, settings: Settings) -> list[Row]:
    rows = [row for config in CONFIGS for row in run_config(config, case, settings)]
    return rows + confirm(case, rows, settings)


# ---- the alternated re-measurement the targets are judged on ------------------------------------


def confirm(case: ModelCase, rows: list[Row], settings: Settings) -> list[Row]:
    """ovlite THROUGHPUT against the best grid point, and ovlite LATENCY against the plain
    session, each pair measured again in alternation; rows keyed ``confirm.<key>``."""
    if settings.confirm_rounds < 1:
        return []
    by_key = {row.key: row for row in rows}
    measured = {key for key, row in by_key.items() if row.sample is not None}
    best = by_key.get(_report.ORT_GRID_BEST)
    point = next(
        (p for p in grid_points(settings.cores) if best and p.settings == best.settings), None
    )
    confirmed: list[Row] = []
    if point and {_report.ORT_GRID_BEST, _report.OVLITE_THROUGHPUT} <= measured:
        sessions = [
            ort_session(case.path, point.threads, point.spinning) for _ in range(point.sessions)
        ]
        calls = [partial(s.run, None, case.feeds) for s in sessions for _ in range(point.loops)]
        confirmed += alternate(
            case,
            settings,
            "throughput",
            (by_key[_report.ORT_GRID_BEST], loop_driver(calls)),
            (by_key[_report.OVLITE_THROUGHPUT], "THROUGHPUT"),
        )
        del sessions, calls
        gc.collect()
    if {_report.ORT_PLAIN, _report.OVLITE_LATENCY} <= measured:
        session = ort_session(case.path)
        confirmed += alternate(
            case,
            settings,
            "median_ms",
            (by_key[_report.ORT_PLAIN], loop_driver([partial(session.run, None, case.feeds)])),
            (by_key[_report.OVLITE_LATENCY], "LATENCY"),
        )
        del session
        gc.collect()
    return confirmed


def alternate(
    case: ModelCase,
    settings: Settings,
    metric: str,
    raw: tuple[Row, Driver],
    ours: tuple[Row, str],
) -> list[Row]:
    """``confirm_rounds`` rounds of (raw, ovlite); each side's median round (by ``metric``)."""
    (raw_row, raw_drive), (our_row, hint) = raw, ours
    progress(case, f"alternating {raw_row.label} and {our_row.label}")
    compiled = ovlite_core().compile_model(case.path, DEVICE, {"PERFORMANCE_HINT": hint})
    try:
        our_drive = drive_compiled(compiled, case.feeds, hint, ovlite.AsyncInferQueue)
        samples: tuple[list[Sample], list[Sample]] = ([], [])
        for _ in range(settings.confirm_rounds):
            samples[0].append(timed(raw_drive, settings))
            samples[1].append(timed(our_drive, settings))
    finally:
        compiled.close()
    rounds = f"median of {settings.confirm_rounds} rounds"
    return [
        Row(CONFIRMED + row.key, f"{row.label} (alt.)", rounds, median_round(taken, metric))
        for row, taken in zip((raw_row, our_row), samples, strict=True)
    ]


def median_round(samples: list[Sample], metric: str) -> Sample:
    ordered = sorted(samples, key=lambda sample: getattr(sample, metric))
    return ordered[len(ordered) // 2]


def describe_inputs(case: ModelCase) -> str:
    return ", ".join(f"{name} {a.dtype}{list(a.shape)}" for name, a in case.feeds.items())


# ---- facts about this machine --------------------------------------------------------------------


def start_run(seconds: float, warmup_s: float, skip_openvino: bool) -> Settings:
    """The settings of a run on every usable core, after printing the CPU and the load
    (for the scripts beside this one that take no ``--cores``)."""
    settings = Settings(seconds, warmup_s, usable_cores(), openvino_missing(skip_openvino))
    print(f"CPU: {cpu_model_name()}, {settings.cores} usable cores")
    print(f"load average at the start: {load_average()}")
    return settings


def usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cpu_model_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def physical_cores() -> str:
    try:
        import psutil
    except ImportError:
        return "?"
    return str(psutil.cpu_count(logical=False))


def load_average() -> str:
    if not hasattr(os, "getloadavg"):
        return "n/a"
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def ovlite_device_version() -> str:
    try:
        return str(ovlite_core().get_versions(DEVICE)[DEVICE])
    except ovlite.OvliteError as exc:
        return f"missing ({short_reason(exc)})"


def openvino_missing(skip: bool) -> str:
    """Why the openvino rows cannot run, or "" when they can (openvino is not imported here:
    it runs in child processes only)."""
    if skip:
        return "n/a (--skip-openvino)"
    if importlib.util.find_spec("openvino") is None:
        return f"n/a (openvino not installed: {INSTALL_HINT})"
    return ""


def versions(settings: Settings) -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "onnxruntime": ort.__version__,
        "openvino": settings.openvino_missing or importlib.metadata.version("openvino"),
        "ovlite": ovlite.__version__,
        f"ovlite {DEVICE} device": ovlite_device_version(),
        "cpu": cpu_model_name(),
        "cpu count": f"{os.cpu_count()} logical, {physical_cores()} physical, "
        f"{settings.cores} used for the grid and in-flight counts",
        "load average": f"{load_average()} (1/5/15 min; high means noisy figures)",
        "per configuration": f"{settings.warmup_s:g} s warm-up + {settings.seconds:g} s measured",
    }


# ---- command line ------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--models",
        default=",".join(_models.LOADERS),
        help=f"comma-separated subset of: {', '.join(_models.LOADERS)}",
    )
    parser.add_argument("-t", "--seconds", type=float, default=10.0, help="measured s per config")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up s per config")
    parser.add_argument(
        "--confirm",
        type=int,
        default=3,
        help="alternated rounds of each ovlite-vs-ORT comparison the targets are judged on "
        "(0: judge the single rows)",
    )
    parser.add_argument("--json", type=Path, help="also write every result to this file")
    parser.add_argument("--skip-openvino", action="store_true", help="leave openvino out")
    parser.add_argument("--cores", type=int, default=usable_cores(), help="cores to plan for")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(os.environ.get("OVLITE_BENCH_CACHE", _models.DEFAULT_CACHE)),
        help="where downloaded wheels and extracted models are kept",
    )
    args = parser.parse_args(argv)
    args.models = [name.strip() for name in args.models.split(",") if name.strip()]
    unknown = sorted(set(args.models) - set(_models.LOADERS))
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(_models.LOADERS)}")
    return args


def write_json(path: Path, info: dict, cases: list[ModelCase], results: dict, verdicts) -> None:
    data = {
        "versions": info,
        "models": {
            case.name: {
                "source": case.source,
                "path": str(case.path),
                "inputs": describe_inputs(case),
                "rows": [row.to_json() for row in results[case.name]],
            }
            for case in cases
        },
        "targets": [verdict.to_json() for verdict in verdicts],
    }
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ort.set_default_logger_severity(3)  # silence load-time warnings of the downloaded models
    missing = openvino_missing(args.skip_openvino)
    settings = Settings(args.seconds, args.warmup, args.cores, missing, args.confirm)
    info = versions(settings)
    print(_report.format_versions(info), flush=True)

    with tempfile.TemporaryDirectory(prefix="ovlite-bench-") as workdir:
        cases = [_models.load(name, args.cache_dir, Path(workdir)) for name in args.models]
        results = {}
        for case in cases:
            results[case.name] = bench_model(case, settings)
            title = f"\n{case.name}: {case.source}; inputs {describe_inputs(case)}"
            print(_report.format_table(title, results[case.name]), flush=True)

    verdicts = _report.judge_all(results)
    print("\n" + _report.format_verdicts(verdicts))
    print(f"\nload average at the end: {load_average()}")
    if args.json:
        write_json(args.json, info, cases, results, verdicts)
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
