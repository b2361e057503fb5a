"""The hint rule on made-up machines and models: no ONNX Runtime needed."""

from __future__ import annotations

import itertools

import pytest
from ovlite_cpu.hints import ModelCost, Settings, affinity_string, model_cost, plan_streams
from ovlite_cpu.topology import Topology, parse_cpu_list

from ovlite import models
from ovlite.properties.hint import PerformanceMode
from ovlite.properties.streams import Num

MB = 1_000_000
CONV = ModelCost(flops=3_600 * MB, weight_bytes=47 * MB)  # compute-bound
MLP_BIG = ModelCost(flops=100 * MB, weight_bytes=200 * MB)  # memory-bound, beyond cache
MLP_SMALL = ModelCost(flops=1536, weight_bytes=2600)  # memory-bound, cache-resident
UNKNOWN = ModelCost(flops=None, weight_bytes=1 * MB)


def machine(cores: int = 8, smt: int = 1, nodes: int = 1, l3_mb: int = 32) -> Topology:
    """``cores`` physical cores with ``smt`` hardware threads each, split over NUMA nodes."""
    groups = tuple(tuple(core + i * cores for i in range(smt)) for core in range(cores))
    per_node = cores // nodes
    numa = tuple(
        tuple(cpu for group in groups[n * per_node : (n + 1) * per_node] for cpu in group)
        for n in range(nodes)
    )
    logical = tuple(sorted(cpu for group in groups for cpu in group))
    return Topology(logical, groups, numa, None, l3_mb * 1024 * 1024)


def plan(cost: ModelCost = CONV, topology: Topology | None = None, **settings):
    return plan_streams(Settings(**settings), topology or machine(), cost)


def test_latency_is_one_stream_on_all_physical_cores():
    result = plan(hint=PerformanceMode.LATENCY, topology=machine(cores=8, smt=2))
    assert (result.streams, result.threads) == (1, 8)
    assert result.spinning
    assert result.reason.startswith("LATENCY on 8 physical cores")


def test_default_settings_are_latency():
    assert plan().streams == 1


@pytest.mark.parametrize(
    "hint", [PerformanceMode.THROUGHPUT, PerformanceMode.CUMULATIVE_THROUGHPUT]
)
def test_throughput_on_a_compute_bound_model_is_one_stream_per_core(hint):
    result = plan(CONV, hint=hint)
    assert (result.streams, result.threads) == (8, 1)
    assert not result.spinning
    assert "compute-bound" in result.reason and "8 streams x 1 thread;" in result.reason


def test_throughput_on_a_memory_bound_model_gives_streams_several_threads():
    result = plan(MLP_BIG, hint=PerformanceMode.THROUGHPUT)
    assert (result.streams, result.threads) == (2, 4)
    assert "memory-bound" in result.reason


def test_cache_resident_weights_count_like_compute():
    assert plan(MLP_SMALL, hint=PerformanceMode.THROUGHPUT).threads == 1


def test_unknown_cost_is_said_so():
    result = plan(UNKNOWN, hint=PerformanceMode.THROUGHPUT)
    assert "FLOPs unknown" in result.reason and result.streams * result.threads <= 8


@pytest.mark.parametrize(
    "cost, cores, smt, hint",
    list(
        itertools.product(
            [CONV, MLP_BIG, MLP_SMALL, UNKNOWN],
            [1, 2, 3, 6, 64],
            [1, 2],
            list(PerformanceMode),
        )
    ),
)
def test_hints_never_oversubscribe_the_cores(cost, cores, smt, hint):
    result = plan(cost, machine(cores=cores, smt=smt), hint=hint)
    assert 1 <= result.streams * result.threads <= cores
    assert result.reason


def test_hyper_threading_counts_logical_cpus():
    result = plan(
        CONV, machine(cores=4, smt=2), hint=PerformanceMode.THROUGHPUT, hyper_threading=True
    )
    assert result.streams == 8 and "logical CPUs" in result.reason


def test_num_requests_caps_the_streams_and_gives_the_cores_to_those_left():
    result = plan(CONV, hint=PerformanceMode.THROUGHPUT, num_requests=3)
    assert (result.streams, result.threads) == (3, 2)
    assert "PERFORMANCE_HINT_NUM_REQUESTS=3" in result.reason
    assert plan(CONV, hint=PerformanceMode.THROUGHPUT, num_requests=20).streams == 8


def test_explicit_num_streams_overrides_the_hint():
    result = plan(CONV, hint=PerformanceMode.LATENCY, num_streams=Num(4))
    assert (result.streams, result.threads) == (4, 2)
    assert result.reason.startswith("NUM_STREAMS=4")
    # NUM_REQUESTS caps only what a hint picks
    assert plan(CONV, num_streams=Num(4), num_requests=1).streams == 4


def test_num_streams_auto_is_the_throughput_rule():
    auto = plan(CONV, hint=PerformanceMode.LATENCY, num_streams=Num.AUTO)
    throughput = plan(CONV, hint=PerformanceMode.THROUGHPUT)
    assert (auto.streams, auto.threads) == (throughput.streams, throughput.threads)
    assert auto.reason.startswith("NUM_STREAMS=AUTO")


def test_num_streams_numa_is_one_stream_per_node():
    two_nodes = plan(CONV, machine(cores=8, nodes=2), num_streams=Num.NUMA)
    assert (two_nodes.streams, two_nodes.threads) == (2, 4)
    one_node = plan(CONV, machine(cores=8, nodes=1), num_streams=Num.NUMA)
    assert (one_node.streams, one_node.threads) == (1, 8)


def test_inference_num_threads_sets_the_budget():
    assert (plan(threads=3).streams, plan(threads=3).threads) == (1, 3)
    throughput = plan(CONV, hint=PerformanceMode.THROUGHPUT, threads=2)
    assert (throughput.streams, throughput.threads) == (2, 1)
    explicit = plan(CONV, num_streams=Num(2), threads=6)
    assert (explicit.streams, explicit.threads) == (2, 3)


def test_explicit_oversubscription_turns_spinning_off_and_says_so():
    result = plan(CONV, machine(cores=2), num_streams=Num(4))
    assert (result.streams, result.threads) == (4, 1)
    assert not result.spinning and "oversubscribe" in result.reason
    single = plan(CONV, machine(cores=2), threads=4)
    assert single.streams == 1 and not single.spinning


def test_pinning_gives_each_stream_its_own_cores():
    result = plan(CONV, machine(cores=8, smt=2), num_streams=Num(2), pinning=True)
    assert result.pinning == ((0, 1, 2, 3), (4, 5, 6, 7))
    assert "pinned" in result.reason


def test_pinning_with_one_thread_per_stream_says_there_is_nothing_to_pin():
    result = plan(CONV, hint=PerformanceMode.THROUGHPUT, pinning=True)
    assert result.pinning is not None and all(len(group) == 1 for group in result.pinning)
    assert "no thread to pin" in result.reason


def test_pinning_is_skipped_when_oversubscribed():
    result = plan(CONV, machine(cores=2), num_streams=Num(4), pinning=True)
    assert result.pinning is None and "pinning skipped" in result.reason


def test_pinning_off_by_default():
    assert plan(CONV, num_streams=Num(2)).pinning is None


def test_affinity_string_lists_pool_threads_with_1_based_ids():
    assert affinity_string([0, 1, 2, 3]) == "2;3;4"
    assert affinity_string((4, 5, 6)) == "6;7"
    assert affinity_string([7]) == ""


def test_cpu_list_format():
    assert parse_cpu_list("0-3,8,10-11") == [0, 1, 2, 3, 8, 10, 11]
    assert parse_cpu_list("") == []


def test_model_cost_of_resnet18_is_compute_bound():
    cost = model_cost(models.resnet18(batch=1))
    assert cost.flops is not None and cost.flops > 3e9
    assert 40e6 < cost.weight_bytes < 50e6
    assert cost.flop_per_byte > 8
