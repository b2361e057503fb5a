"""From performance hints to streams and threads: the rule, in one place.

The rule (the README states it the same way):

*LATENCY* (the default) runs one stream whose threads fill every physical core.
*THROUGHPUT* and *CUMULATIVE_THROUGHPUT* (and ``NUM_STREAMS=AUTO``) size the streams from the
model's arithmetic intensity, estimated from the ONNX graph as the FLOPs of its Conv, Gemm and
MatMul nodes at batch 1 per byte of weights.  A model doing at least 2 FLOP per weight byte
(convolutions, batched matrix products), or whose weights fit in half the L3 cache, runs as
one single-threaded stream per core.  A memory-bound model with larger weights (a batch-1 MLP
or transformer streaming its weights from memory) gets streams of up to 4 threads, so fewer
streams compete for memory bandwidth.  Cores left over are spread over the streams as extra
threads.  ``PERFORMANCE_HINT_NUM_REQUESTS`` caps the streams a hint picks, the freed cores
going to the remaining streams.  An explicit ``NUM_STREAMS`` (a number, ``AUTO``: the
THROUGHPUT rule, or ``NUMA``: one stream per NUMA node) overrides the hint and shares the
cores out evenly; ``INFERENCE_NUM_THREADS`` replaces the core count as the total number of
threads.  Cores are the physical cores (logical CPUs with ``ENABLE_HYPER_THREADING``) this
process may use after its affinity mask and cgroup quota.  Nothing is oversubscribed unless
asked for explicitly; threads spin while waiting for work only when a single stream runs
within the cores; every stream uses one inter-op thread and sequential execution.

Whether the streams also batch queued requests (THROUGHPUT on a small model) is decided once
the sessions exist, by ``batching.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ovlite.properties as props
from ovlite.properties.hint import PerformanceMode
from ovlite.properties.streams import Num

from .topology import Topology

#: A model doing at least this many FLOPs per byte of weights is compute-bound.
COMPUTE_BOUND_FLOP_PER_BYTE = 2.0
#: Threads per stream for memory-bound models whose weights do not fit in cache.
MEMORY_BOUND_THREADS = 4
#: Weights up to this size count as cache-resident when the L3 size is unknown.
DEFAULT_CACHE_RESIDENT_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class ModelCost:
    """Work and weights of one inference at batch 1 (``flops`` is ``None`` when unknown)."""

    flops: int | None
    weight_bytes: int

    @property
    def flop_per_byte(self) -> float | None:
        if self.flops is None:
            return None
        return self.flops / max(self.weight_bytes, 1)

    def describe(self) -> str:
        weights = _size(self.weight_bytes)
        if self.flops is None:
            return f"FLOPs unknown, {weights} weights"
        return f"{_flops(self.flops)}, {weights} weights, {self.flop_per_byte:.3g} FLOP/byte"


def model_cost(proto: Any) -> ModelCost:
    """Estimate a model's FLOPs (Conv, Gemm, MatMul at batch 1) and weight bytes."""
    from ovlite.plugin import flops, parameter_bytes

    try:
        weight_bytes = parameter_bytes(proto)
    except Exception:  # unusual element types: count raw bytes instead
        weight_bytes = sum(len(t.raw_data) for t in proto.graph.initializer)
    try:
        work: int | None = flops(proto, batch=1)
    except Exception:  # shape inference can fail on custom or dynamic-rank models
        work = None
    return ModelCost(work, weight_bytes)


@dataclass(frozen=True)
class Settings:
    """The CPU device's compile settings, read from a checked config dict."""

    hint: PerformanceMode = PerformanceMode.LATENCY
    num_requests: int = 0
    num_streams: Num | None = None
    threads: int = 0
    pinning: bool = False
    hyper_threading: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        streams = config.get(props.streams.num.name)
        return cls(
            hint=config.get(props.hint.performance_mode.name, PerformanceMode.LATENCY),
            num_requests=int(config.get(props.hint.num_requests.name, 0)),
            num_streams=None if streams is None else Num(streams),
            threads=int(config.get(props.inference_num_threads.name, 0)),
            pinning=bool(config.get(props.hint.enable_cpu_pinning.name, False)),
            hyper_threading=bool(config.get(props.hint.enable_hyper_threading.name, False)),
        )


@dataclass(frozen=True)
class StreamPlan:
    """What the device runs: ``streams`` sessions of ``threads`` intra-op threads each.

    ``pinning`` holds each stream's logical CPUs when threads are pinned (else ``None``);
    ``reason`` is the sentence reported as ``OVLITE_CONFIGURATION_REASON``.
    """

    streams: int
    threads: int
    spinning: bool
    pinning: tuple[tuple[int, ...], ...] | None
    reason: str

    @property
    def total_threads(self) -> int:
        return self.streams * self.threads

    @property
    def optimal_requests(self) -> int:
        """Requests to keep in flight: two per stream, so a stream has its next request
        ready while Python hands the previous one back (see the README's measurements)."""
        return 2 * self.streams


def plan_streams(settings: Settings, topology: Topology, cost: ModelCost) -> StreamPlan:
    """Translate hints and explicit settings into a :class:`StreamPlan` for this machine."""
    unit = "logical CPUs" if settings.hyper_threading else "physical cores"
    cores = topology.logical_cpus if settings.hyper_threading else topology.physical_cores
    budget = settings.threads or cores
    where = (
        f"{_count(budget, 'thread')} (INFERENCE_NUM_THREADS)"
        if settings.threads
        else f"{cores} {unit}"
    )
    numa_groups: list[tuple[int, ...]] | None = None

    if settings.num_streams is not None and settings.num_streams == Num.NUMA:
        numa_groups = _numa_cpu_groups(topology, settings.hyper_threading)
        streams = len(numa_groups)
        threads = max(1, budget // streams) if settings.threads else min(map(len, numa_groups))
        why = f"NUM_STREAMS=NUMA on {len(topology.numa_nodes)} NUMA node(s) with {where}"
    elif settings.num_streams is not None and settings.num_streams != Num.AUTO:
        streams = int(settings.num_streams)
        threads = max(1, budget // streams)
        why = f"NUM_STREAMS={streams} on {where}"
    elif settings.num_streams == Num.AUTO or settings.hint != PerformanceMode.LATENCY:
        label = "NUM_STREAMS=AUTO" if settings.num_streams == Num.AUTO else f"{settings.hint}"
        kind, threads = _throughput_threads(cost, topology, budget)
        streams = max(1, budget // threads)
        threads = budget // streams  # cores left over go to the streams as threads
        why = f"{label} on {where}: model is {kind} ({cost.describe()})"
        if 0 < settings.num_requests < streams:
            streams = settings.num_requests
            threads = max(threads, budget // streams)
            why += f", capped by PERFORMANCE_HINT_NUM_REQUESTS={settings.num_requests}"
    else:
        streams, threads = 1, budget
        why = f"LATENCY on {where}"

    oversubscribed = streams * threads > cores
    spinning = streams == 1 and not oversubscribed
    parts = [
        f"{why} -> {_count(streams, 'stream')} x {_count(threads, 'thread')}",
        "spinning on" if spinning else "spinning off",
    ]
    if oversubscribed:
        parts.append(f"{streams * threads} threads oversubscribe {cores} {unit} (asked for)")
    pinning, pin_note = _pinning(settings, topology, streams, threads, oversubscribed, numa_groups)
    if pin_note:
        parts.append(pin_note)
    return StreamPlan(streams, threads, spinning, pinning, "; ".join(parts))


def _throughput_threads(cost: ModelCost, topology: Topology, budget: int) -> tuple[str, int]:
    resident = topology.l3_bytes // 2 if topology.l3_bytes else DEFAULT_CACHE_RESIDENT_BYTES
    intensity = cost.flop_per_byte
    if intensity is not None and intensity >= COMPUTE_BOUND_FLOP_PER_BYTE:
        return "compute-bound", 1
    if cost.weight_bytes <= resident:
        kind = "memory-bound" if intensity is not None else "of unknown cost"
        return f"{kind} with cache-resident weights", 1
    kind = "memory-bound" if intensity is not None else "of unknown cost"
    return f"{kind} with weights beyond the cache", max(1, min(MEMORY_BOUND_THREADS, budget))


def _numa_cpu_groups(topology: Topology, hyper_threading: bool) -> list[tuple[int, ...]]:
    order = topology.pinning_cpus(hyper_threading)
    groups = []
    for node in topology.numa_nodes:
        members = set(node)
        group = tuple(cpu for cpu in order if cpu in members)
        if group:
            groups.append(group)
    return groups or [tuple(order)]


def _pinning(
    settings: Settings,
    topology: Topology,
    streams: int,
    threads: int,
    oversubscribed: bool,
    numa_groups: list[tuple[int, ...]] | None,
) -> tuple[tuple[tuple[int, ...], ...] | None, str]:
    if not settings.pinning:
        return None, ""
    cpus = topology.pinning_cpus(settings.hyper_threading)
    if oversubscribed or streams * threads > len(cpus):
        return None, "pinning skipped: more threads than cores to give each its own"
    if numa_groups is not None:
        plan = tuple(group[:threads] for group in numa_groups)
    else:
        plan = tuple(tuple(cpus[i * threads : (i + 1) * threads]) for i in range(streams))
    if threads == 1:
        return plan, (
            "pinning on, but with 1 thread per stream ONNX Runtime's pool has no thread to pin "
            "(the calling thread runs the stream and is never pinned)"
        )
    listed = ", ".join(
        f"stream {index} -> CPU {','.join(map(str, group[1:]))}" for index, group in enumerate(plan)
    )
    return plan, (
        f"pinned ONNX Runtime's pool threads ({listed}); the thread calling run is not pinned"
    )


def affinity_string(cpus: tuple[int, ...] | list[int]) -> str:
    """ONNX Runtime's ``session.intra_op_thread_affinities`` for one stream's CPUs.

    ONNX Runtime pins the pool threads only, not the thread that calls ``run`` (which does a
    share of the work too), so a stream of ``n`` threads gets ``n - 1`` entries, separated by
    ``;``, each a 1-based logical processor id: CPUs ``[4, 5, 6]`` give ``"6;7"``.
    """
    return ";".join(str(cpu + 1) for cpu in list(cpus)[1:])


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _flops(value: int) -> str:
    for unit, scale in (("GFLOP", 1e9), ("MFLOP", 1e6), ("kFLOP", 1e3)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value} FLOP"


def _size(value: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value} B"
