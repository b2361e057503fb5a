"""Hints to streams and requests, batch sizes from the model and the GPU's memory, and
automatic batching using them (run on GPUs of the CPU stand-in backend)."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from ovlite_gpu.hints import MAX_BATCH, OPTIMAL_CAP, batch_sizes, plan_streams

import ovlite as ov
from ovlite import models
from ovlite.meta.batch import BatchCompiledModel
from ovlite.properties.hint import PerformanceMode
from ovlite.properties.streams import Num

HINT, STREAMS, NUM_REQUESTS = "PERFORMANCE_HINT", "NUM_STREAMS", "PERFORMANCE_HINT_NUM_REQUESTS"


@pytest.mark.parametrize(
    ("config", "streams", "requests"),
    [
        ({}, 1, 2),
        ({HINT: PerformanceMode.LATENCY}, 1, 2),
        ({HINT: PerformanceMode.THROUGHPUT}, 2, 4),
        ({HINT: PerformanceMode.CUMULATIVE_THROUGHPUT}, 2, 4),
        ({HINT: PerformanceMode.LATENCY, STREAMS: Num(3)}, 3, 6),
        ({STREAMS: Num.AUTO}, 2, 4),
        ({HINT: PerformanceMode.THROUGHPUT, NUM_REQUESTS: 1}, 1, 1),
        ({HINT: PerformanceMode.THROUGHPUT, NUM_REQUESTS: 3}, 2, 3),
        (
            {HINT: PerformanceMode.THROUGHPUT, STREAMS: Num(4), NUM_REQUESTS: 2},
            4,
            8,
        ),  # explicit wins
    ],
)
def test_hints_become_streams_and_twice_as_many_requests(config, streams, requests):
    plan = plan_streams(config)
    assert (plan.streams, plan.optimal_requests) == (streams, requests)
    assert plan.reason


def test_resnet18_batch_sizes_on_an_8_gib_gpu():
    sizes = batch_sizes(models.resnet18(), 8 << 30, streams=2)
    # 3.6 GFLOP a sample: 8 samples reach the 16 GFLOP target
    assert sizes.optimal == 8
    per_sample = models.activation_bytes(models.resnet18())
    expected_max = int(
        (0.8 * (8 << 30) - 2 * models.parameter_bytes(models.resnet18())) // (2 * per_sample)
    )
    assert sizes.maximum == expected_max
    assert "8.0 GiB" in sizes.reason


def test_a_small_gpu_limits_both_batch_sizes():
    sizes = batch_sizes(models.resnet18(), 200 << 20, streams=2)
    assert sizes.maximum < 8
    assert sizes.optimal == sizes.maximum


def test_tiny_models_get_the_cap_and_unknown_memory_the_global_maximum():
    sizes = batch_sizes(models.tiny_mlp(batch=None), None)
    assert (sizes.optimal, sizes.maximum) == (OPTIMAL_CAP, MAX_BATCH)
    assert "memory unknown" in sizes.reason


def test_a_model_with_a_fixed_batch_above_one_is_not_batched():
    sizes = batch_sizes(models.tiny_mlp(batch=4), 8 << 30)
    assert (sizes.optimal, sizes.maximum) == (1, 1)
    assert "fixed dim 0 of 4" in sizes.reason


def test_compiled_model_reports_its_choices(standin_core):
    compiled = standin_core.compile_model(
        models.resnet18(), "GPU.0", {HINT: "THROUGHPUT", "ALLOW_AUTO_BATCHING": False}
    )
    assert compiled.get_property(STREAMS) == 2
    assert compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS") == 4
    assert compiled.get_property("OPTIMAL_BATCH_SIZE") == 8
    assert compiled.get_property("MAX_BATCH_SIZE") >= 8
    reason = compiled.get_property("OVLITE_CONFIGURATION_REASON")
    assert "2 streams" in reason and "CPU stand-in" in reason
    assert (
        len(compiled.device_model.sessions) == 2
        and compiled.device_model.sessions[0] is not compiled.device_model.sessions[1]
    )


def test_throughput_uses_automatic_batching_with_the_reported_size(standin_core):
    compiled = standin_core.compile_model(models.resnet18(), "GPU.1", {HINT: "THROUGHPUT"})
    assert isinstance(compiled.device_model, BatchCompiledModel)
    assert compiled.get_property("OPTIMAL_BATCH_SIZE") == 8
    assert compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS") == 8 * 4
    queue = ov.AsyncInferQueue(compiled)
    results = {}
    queue.set_callback(lambda request, i: results.__setitem__(i, request.results[0].copy()))
    images = [np.random.default_rng(i).random((1, 3, 224, 224), np.float32) for i in range(8)]
    for i, image in enumerate(images):
        queue.start_async({"input": image}, userdata=i)
    queue.wait_all()
    alone = standin_core.compile_model(models.resnet18(), "GPU.1")
    for i, image in enumerate(images):
        np.testing.assert_allclose(results[i], alone(image)[0], rtol=1e-4, atol=1e-4)


def test_bare_batch_on_gpu_takes_the_models_batch_size(standin_core):
    compiled = standin_core.compile_model(models.tiny_mlp(batch=None), "BATCH:GPU")
    assert compiled.get_property("OPTIMAL_BATCH_SIZE") == OPTIMAL_CAP


def test_latency_is_not_batched(standin_core):
    compiled = standin_core.compile_model(models.resnet18(), "GPU", {HINT: "LATENCY"})
    assert not isinstance(compiled.device_model, BatchCompiledModel)
    assert compiled.get_property(STREAMS) == 1


def test_unbatchable_models_compile_without_batching(standin_core):
    proto = models.tiny_mlp(batch=4)
    onnx.checker.check_model(proto)
    compiled = standin_core.compile_model(proto, "GPU", {HINT: "THROUGHPUT"})
    assert not isinstance(compiled.device_model, BatchCompiledModel)
    assert compiled.get_property("OPTIMAL_BATCH_SIZE") == 1
