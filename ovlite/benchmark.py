"""The measurement behind ``ovlite benchmark``: compile, fill requests, run for a time or count.

Separate from the command line so programs and tests can call :func:`run_benchmark` and get
a :class:`BenchmarkResult` back.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import properties as props
from .compiled_model import CompiledModel
from .core import Core
from .device_string import parse_device
from .errors import OvliteError
from .model import Model, PartialShape, read_model
from .requests import AsyncInferQueue, InferRequest, ProfilingInfo

Progress = Callable[[float, int, float], None]  # (elapsed s, completed, running FPS)


class BenchmarkError(OvliteError, ValueError):
    """A benchmark option is inconsistent with the model or the device."""


@dataclass
class BenchmarkConfig:
    """What to measure; the fields mirror the command-line flags."""

    model: str = "resnet18"
    device: str = "CPU"
    hint: str | None = "throughput"  # latency | throughput | cumulative_throughput | None
    nireq: int = 0
    nstreams: str | None = None  # "4" or "CPU:2,GPU:4"
    nthreads: int | None = None
    batch: int | None = None
    shape: str | None = None  # "[1,3,224,224]" or "input[1,3,224,224],other[1,5]"
    data_shape: str | None = None
    seconds: float | None = None
    niter: int | None = None
    api: str = "async"
    input_files: list[str] = field(default_factory=list)
    cache_dir: str | None = None
    device_config: dict[str, dict[str, Any]] = field(default_factory=dict)  # -load_config
    perf_counts: bool = False

    @property
    def label(self) -> str:
        return f"{self.device} {self.hint or 'no hint'}"


@dataclass
class BenchmarkResult:
    """What a run measured."""

    config: BenchmarkConfig
    model_name: str
    compile_ms: float
    first_inference_ms: float
    count: int
    duration_s: float
    latencies_ms: list[float]
    finish_times_s: list[float]
    executed_on: Counter
    properties: dict[str, Any]
    profiling: list[ProfilingInfo]
    #: The shape of the data each input was given, by input name.
    input_shapes: dict[str, list[int]] = field(default_factory=dict)
    #: Time a meta device spent settling after the first inference (AUTO compiling and
    #: measuring its candidates), waited for before measuring; 0 for other devices.
    settle_ms: float = 0.0

    @property
    def throughput(self) -> float:
        """Inferences per second (times the batch for batched inputs is not applied)."""
        return self.count / self.duration_s if self.duration_s > 0 else 0.0

    def latency(self, statistic: str) -> float:
        data = sorted(self.latencies_ms)
        if not data:
            return float("nan")
        if statistic == "median":
            return statistics.median(data)
        if statistic == "average":
            return statistics.fmean(data)
        if statistic == "min":
            return data[0]
        if statistic == "max":
            return data[-1]
        if statistic.startswith("p"):
            return float(np.percentile(data, float(statistic[1:])))
        raise ValueError(statistic)

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model_name,
            "device": self.config.device,
            "hint": self.config.hint,
            "api": self.config.api,
            "compile_ms": self.compile_ms,
            "first_inference_ms": self.first_inference_ms,
            "settle_ms": self.settle_ms,
            "count": self.count,
            "duration_s": self.duration_s,
            "throughput_fps": self.throughput,
            "latency_ms": {
                s: self.latency(s) for s in ("median", "average", "min", "max", "p90", "p99")
            },
            "executed_on": dict(self.executed_on),
            "properties": {k: _jsonable(v) for k, v in self.properties.items()},
            "profiling": [_profiling_entry(p) for p in self.profiling],
        }


def _profiling_entry(info: ProfilingInfo) -> dict[str, Any]:
    """One node's timings for the JSON report: times in microseconds, the status by name."""
    return {
        **dataclasses.asdict(info),
        "real_time": info.real_time_us,
        "cpu_time": info.cpu_time_us,
        "status": info.status.name,
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return f"{value}"  # enums by name: THROUGHPUT


# ---- preparing the model, the config and the data -----------------------------------------------


def load_model(name_or_path: str) -> Model:
    """A path to an ONNX file, or the name of a built-in model (``resnet18``, ``tiny_mlp``)."""
    from . import models

    if Path(name_or_path).exists():
        return read_model(name_or_path)
    if name_or_path in models.BUILTIN:
        return read_model(models.build(name_or_path))
    raise BenchmarkError(
        f"no model file {name_or_path!r}, and it is not a built-in model "
        f"({', '.join(models.BUILTIN)})"
    )


def parse_shapes(text: str, model: Model) -> dict[str, list[int | str]]:
    """``[1,3,224,224]`` (single input) or ``a[1,4],b[1,4]`` -> ``{input name: dims}``."""
    shapes: dict[str, list[int | str]] = {}
    rest = text.strip()
    while rest:
        open_at = rest.find("[")
        close_at = rest.find("]", open_at)
        if open_at < 0 or close_at < 0:
            raise BenchmarkError(f"bad shape {text!r}: expected NAME[d0,d1,...] or [d0,d1,...]")
        name = rest[:open_at].strip().strip(",").strip()
        if not name:
            if len(model.inputs) != 1:
                raise BenchmarkError(
                    f"shape {text!r} has no input name but the model has {len(model.inputs)} inputs"
                )
            name = model.inputs[0].any_name
        model.input(name)  # raises a clear error for an unknown name
        dims = [d.strip() for d in rest[open_at + 1 : close_at].split(",") if d.strip()]
        shapes[name] = [int(d) if d.lstrip("-").isdigit() else d for d in dims]
        rest = rest[close_at + 1 :].lstrip(" ,")
    return shapes


def prepare_model(config: BenchmarkConfig) -> Model:
    """Load the model and apply ``-shape`` and ``-b``.

    Without any of ``-shape``, ``-b`` and ``-data_shape``, a dynamic batch dimension (the
    first) becomes 1, so ``ovlite benchmark -m resnet18`` measures batch-1 requests."""
    model = load_model(config.model)
    if config.shape:
        model.reshape(parse_shapes(config.shape, model))
    if config.batch or not (config.shape or config.data_shape):
        new = {}
        for port in model.inputs:
            dims = list(port.partial_shape)
            if dims and dims[0] < 0:
                dims[0] = config.batch or 1
                new[port.any_name] = dims
        if config.batch and not new:
            raise BenchmarkError(f"-b {config.batch}: the model has no dynamic batch dimension")
        if new:
            model.reshape(new)
    return model


def compile_config(config: BenchmarkConfig) -> dict[str, Any]:
    """The compile_model config for the flags; per-device settings go to DEVICE_PROPERTIES."""
    spec = parse_device(config.device)
    result: dict[str, Any] = {}
    per_device: dict[str, dict[str, Any]] = {
        device: dict(values) for device, values in config.device_config.items()
    }
    if config.hint:
        result[props.hint.performance_mode.name] = config.hint.upper()
    if config.nthreads:
        result[props.inference_num_threads.name] = config.nthreads
    if config.cache_dir:
        result[props.cache_dir.name] = config.cache_dir
    if config.perf_counts:
        result[props.enable_profiling.name] = True
    if config.nstreams:
        if ":" in config.nstreams:
            for part in config.nstreams.split(","):
                device, _, count = part.partition(":")
                per_device.setdefault(device.strip().upper(), {})[props.streams.num.name] = count
        else:
            result[props.streams.num.name] = config.nstreams
    own = per_device.pop(spec.full_name, None) or per_device.pop(spec.name, None) or {}
    result.update(own)
    if per_device:
        result[props.device.properties.name] = per_device
    return result


def load_input_files(paths: list[str], model: Model) -> dict[str, np.ndarray]:
    """``.npy`` files (one per input, in order, or named after the input) and ``.npz`` files."""
    arrays: dict[str, np.ndarray] = {}
    positional = 0
    for path in paths:
        if path.endswith(".npz"):
            with np.load(path) as archive:
                for key in archive.files:
                    arrays[model.input(key).any_name] = archive[key]
        elif path.endswith(".npy"):
            stem = Path(path).stem
            names = {p.any_name for p in model.inputs}
            name = stem if stem in names else model.input(positional).any_name
            positional += 1
            arrays[name] = np.load(path)
        else:
            raise BenchmarkError(f"input file {path!r}: expected a .npy or .npz file")
    return arrays


def make_inputs(model: Model, config: BenchmarkConfig) -> dict[str, np.ndarray]:
    """Data for every input: from files, else deterministic random data of the right shape."""
    arrays = load_input_files(config.input_files, model) if config.input_files else {}
    data_shapes = parse_shapes(config.data_shape, model) if config.data_shape else {}
    rng = np.random.default_rng(0)
    for port in model.inputs:
        if port.any_name in arrays:
            continue
        dims = data_shapes.get(port.any_name) or list(port.partial_shape)
        if any(not isinstance(d, int) or d < 0 for d in dims):
            raise BenchmarkError(
                f"input {port.any_name!r} has dynamic shape {PartialShape(dims)}: give -data_shape, "
                f"-shape or -b"
            )
        dtype = port.element_type.to_dtype()
        if dtype.kind == "f":
            arrays[port.any_name] = rng.standard_normal(dims).astype(dtype)
        else:
            arrays[port.any_name] = rng.integers(0, 2, size=dims).astype(dtype)
    return arrays


# ---- running ---------------------------------------------------------------------------------


def run_benchmark(
    config: BenchmarkConfig, core: Core | None = None, progress: Progress | None = None
) -> BenchmarkResult:
    """Compile, run one first inference, then measure for ``seconds`` or ``niter`` requests."""
    if config.api not in ("sync", "async"):
        raise BenchmarkError(f"-api {config.api!r}: expected 'sync' or 'async'")
    core = core or Core()
    model = prepare_model(config)
    inputs = make_inputs(model, config)
    started = time.perf_counter()
    compiled = core.compile_model(model, config.device, compile_config(config))
    compile_ms = (time.perf_counter() - started) * 1000
    try:
        first = compiled.create_infer_request()
        started = time.perf_counter()
        first.infer(inputs)
        first_ms = (time.perf_counter() - started) * 1000
        settle_ms = _settle(compiled)
        seconds = config.seconds if config.seconds or config.niter else 10.0
        measure = _measure_sync if config.api == "sync" else _measure_async
        outcome = measure(compiled, inputs, config, seconds, progress)
        properties = {key: compiled.get_property(key) for key in compiled.supported_properties()}
    finally:
        compiled.close()
    return BenchmarkResult(
        config=config,
        model_name=model.friendly_name,
        compile_ms=compile_ms,
        first_inference_ms=first_ms,
        properties=properties,
        input_shapes={name: list(array.shape) for name, array in inputs.items()},
        settle_ms=settle_ms,
        **outcome,
    )


def _settle(compiled: CompiledModel) -> float:
    """Wait until a device that settles in the background (AUTO choosing by measurement)
    serves from its final choice, so the run measures that; the milliseconds waited."""
    started = time.perf_counter()
    compiled.wait_until_ready()
    return (time.perf_counter() - started) * 1000


class _Recorder:
    """Collects completions from any thread; reports progress from the measuring thread."""

    def __init__(self, started: float, progress: Progress | None) -> None:
        self.started = started
        self.latencies: list[float] = []
        self.finish_times: list[float] = []
        self.devices: Counter = Counter()
        self.lock = threading.Lock()
        self.progress = progress
        self.next_report = started + 0.25
        self.profiling: list[ProfilingInfo] = []

    def record(self, request: InferRequest) -> None:
        now = time.perf_counter()
        with self.lock:
            self.latencies.append(request.latency)
            self.finish_times.append(now - self.started)
            self.devices[request.executed_on or "?"] += 1

    def maybe_report(self, now: float) -> None:
        if self.progress is not None and now >= self.next_report:
            elapsed = now - self.started
            done = len(self.latencies)
            self.progress(elapsed, done, done / elapsed if elapsed > 0 else 0.0)
            self.next_report = now + 0.25

    def outcome(self, ended: float) -> dict[str, Any]:
        return {
            "count": len(self.latencies),
            "duration_s": ended - self.started,
            "latencies_ms": self.latencies,
            "finish_times_s": self.finish_times,
            "executed_on": self.devices,
            "profiling": self.profiling,
        }


def _keep_going(
    recorder: _Recorder, started_count: int, config: BenchmarkConfig, seconds: float
) -> bool:
    now = time.perf_counter()
    recorder.maybe_report(now)
    if config.niter is not None:
        return started_count < config.niter
    return now - recorder.started < seconds


def _measure_sync(
    compiled: CompiledModel,
    inputs: dict,
    config: BenchmarkConfig,
    seconds: float,
    progress: Progress | None,
) -> dict[str, Any]:
    request = compiled.create_infer_request()
    for name, array in inputs.items():
        request.set_tensor(name, array)
    recorder = _Recorder(time.perf_counter(), progress)
    started_count = 0
    while _keep_going(recorder, started_count, config, seconds):
        request.infer()
        started_count += 1
        recorder.record(request)
    recorder.profiling = request.profiling_info
    return recorder.outcome(time.perf_counter())


def _measure_async(
    compiled: CompiledModel,
    inputs: dict,
    config: BenchmarkConfig,
    seconds: float,
    progress: Progress | None,
) -> dict[str, Any]:
    queue = AsyncInferQueue(compiled, config.nireq)
    for request in queue:  # fill each request's tensors once, then start without inputs
        for name, array in inputs.items():
            request.set_tensor(name, array)
    recorder = _Recorder(time.perf_counter(), progress)
    queue.set_callback(lambda request, _: recorder.record(request))
    started_count = 0
    while _keep_going(recorder, started_count, config, seconds):
        queue.start_async()
        started_count += 1
    queue.wait_all()
    ended = time.perf_counter()
    recorder.profiling = queue[0].profiling_info
    return recorder.outcome(ended)


def write_report(result: BenchmarkResult, folder: str | None, json_path: str | None) -> list[str]:
    """Write ``benchmark_report.json`` into ``folder`` and/or to ``json_path``."""
    written = []
    data = json.dumps(result.to_json(), indent=2)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        path = Path(folder) / "benchmark_report.json"
        path.write_text(data)
        written.append(str(path))
    if json_path:
        Path(json_path).write_text(data)
        written.append(json_path)
    return written
