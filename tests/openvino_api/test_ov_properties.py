"""Properties in openvino's forms: key(value) pairs, enum values and reprs, the CPU listing."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import ovlite as ov
import ovlite.properties as props
from ovlite import models

#: (module under ``properties``, key function) pairs whose names must be openvino's.
KEYS = [
    ("", "enable_profiling"), ("", "cache_mode"), ("", "cache_dir"), ("", "workload_type"),
    ("", "compilation_num_threads"), ("", "enable_mmap"), ("", "weights_path"),
    ("", "num_streams"), ("", "inference_num_threads"), ("", "model_name"),
    ("hint", "performance_mode"), ("hint", "model_priority"), ("hint", "scheduling_core_type"),
    ("hint", "enable_cpu_reservation"), ("hint", "model_distribution_policy"),
    ("hint", "dynamic_quantization_group_size"), ("hint", "kv_cache_precision"),
    ("intel_cpu", "denormals_optimization"), ("intel_cpu", "sparse_weights_decompression_rate"),
    ("intel_cpu", "tbb_partitioner"), ("intel_gpu", "device_total_mem_size"),
    ("intel_gpu", "uarch_version"), ("intel_gpu", "execution_units_count"),
    ("intel_gpu", "enable_loop_unrolling"), ("intel_gpu", "disable_winograd_convolution"),
    ("intel_gpu.hint", "queue_throttle"), ("intel_gpu.hint", "queue_priority"),
    ("intel_gpu.hint", "host_task_priority"), ("intel_gpu.hint", "available_device_mem"),
    ("log", "level"), ("device", "type"), ("device", "gops"), ("device", "uuid"),
    ("streams", "num"), ("", "force_tbb_terminate"), ("", "key_cache_group_size"),
    ("", "value_cache_precision"), ("hint", "activations_scale_factor"),
    ("intel_auto", "schedule_policy"), ("intel_auto", "device_bind_buffer"),
    ("intel_auto", "enable_startup_fallback"), ("intel_auto", "enable_runtime_fallback"),
]  # fmt: skip

ENUMS = [
    ("hint", "PerformanceMode"), ("hint", "ExecutionMode"), ("hint", "Priority"),
    ("hint", "SchedulingCoreType"), ("hint", "ModelDistributionPolicy"), ("", "CacheMode"),
    ("", "WorkloadType"), ("log", "Level"), ("device", "Type"), ("intel_cpu", "TbbPartitioner"),
    ("intel_auto", "SchedulePolicy"),
]  # fmt: skip

#: Properties openvino's CPU device lists that ovlite's does not, and why.
NOT_LISTED = {
    "COMPATIBILITY_CHECK": "openvino itself cannot read it back",
    "ENABLE_TENSOR_PARALLEL": "no tensor parallelism over ONNX Runtime",
    "TBB_PARTITIONER": "ONNX Runtime does not use TBB",
    "KV_CACHE_PRECISION": "LLM KV caches are openvino-internal",
    "KEY_CACHE_PRECISION": "LLM KV caches are openvino-internal",
    "VALUE_CACHE_PRECISION": "LLM KV caches are openvino-internal",
    "KEY_CACHE_GROUP_SIZE": "LLM KV caches are openvino-internal",
    "VALUE_CACHE_GROUP_SIZE": "LLM KV caches are openvino-internal",
    "ENABLE_WEIGHTLESS": "ONNX keeps weights in or beside the model file",
    "WEIGHTS_PATH": "ONNX keeps weights in or beside the model file",
}


def _module(root, path: str):
    return importlib.import_module(root.__name__ + ("." + path if path else ""))


def test_a_key_value_pair_sets_a_property_like_a_dict() -> None:
    core = ov.Core()
    assert props.enable_profiling(True) == ("PERF_COUNT", True)
    assert props.enable_profiling(1)[1].value is True  # an OVAny, as in openvino
    assert isinstance(props.enable_profiling(1)[1], ov.OVAny)
    core.set_property("CPU", props.enable_profiling(True))
    assert core.get_property("CPU", props.enable_profiling) is True
    core.set_property(props.hint.performance_mode(props.hint.PerformanceMode.THROUGHPUT))
    assert core.get_property("CPU", props.hint.performance_mode) == "THROUGHPUT"
    with pytest.raises(RuntimeError, match="LOUD"):
        core.set_property("CPU", props.log.level("LOUD"))


def test_enum_values_read_like_openvinos() -> None:
    mode = props.hint.PerformanceMode.THROUGHPUT
    assert repr(mode) == "<PerformanceMode.THROUGHPUT: 2>" and mode.value == 2 and int(mode) == 2
    assert str(mode) == "PerformanceMode.THROUGHPUT" and f"{mode}" == "THROUGHPUT"
    assert mode == "THROUGHPUT" and mode.name == "THROUGHPUT"
    assert props.hint.PerformanceMode("throughput") is mode
    assert props.hint.Priority.DEFAULT is props.hint.Priority.MEDIUM
    assert props.streams.Num(4).to_integer() == 4 and props.streams.Num().to_integer() == -1
    assert props.streams.Num.AUTO.to_integer() == -1 and props.streams.Num.NUMA.to_integer() == -2


@pytest.mark.parametrize(("where", "name"), ENUMS)
def test_enums_have_openvinos_members_values_and_reprs(where: str, name: str) -> None:
    openvino = pytest.importorskip("openvino.properties")
    ours, theirs = getattr(_module(props, where), name), getattr(_module(openvino, where), name)
    for member, value in theirs.__members__.items():
        assert repr(ours[member]) == repr(value) and ours[member].value == value.value
        assert str(ours[member]) == str(value) and int(ours[member]) == int(value)


@pytest.mark.parametrize(("where", "name"), KEYS)
def test_keys_have_openvinos_names(where: str, name: str) -> None:
    openvino = pytest.importorskip("openvino.properties")
    ours = getattr(_module(props, where), name)
    assert ours() == getattr(_module(openvino, where), name)()


def test_a_config_built_from_pairs_is_checked_like_a_dict() -> None:
    pairs = dict([props.enable_profiling(True), props.streams.num(5), props.cache_dir("./")])
    config = props.normalize_config(pairs)
    assert config == {"PERF_COUNT": True, "NUM_STREAMS": 5, "CACHE_DIR": "./"}
    assert props.lookup_key("MULTI_DEVICE_PRIORITIES") is props.device.priorities


def test_the_cpu_lists_what_openvinos_cpu_lists_and_reads_each_back() -> None:
    core = ov.Core()
    listed = core.get_property("CPU", props.supported_properties)
    assert listed["PERF_COUNT"] == "RW" and listed["DEVICE_TYPE"] == "RO"  # as openvino
    for key in listed:  # what hello_query_device does
        core.get_property("CPU", key)
    assert repr(core.get_property("CPU", props.device.type)) == "<Type.INTEGRATED: 0>"
    openvino = pytest.importorskip("openvino")
    theirs = set(openvino.Core().get_property("CPU", "SUPPORTED_PROPERTIES"))
    assert theirs - set(listed) - set(NOT_LISTED) == set()


def test_cpu_denormals_and_log_level_reach_the_compiled_model() -> None:
    core = ov.Core()
    config = {props.intel_cpu.denormals_optimization: True, props.log.level: "ERR"}
    compiled = core.compile_model(ov.read_model(models.tiny_mlp(batch=1)), "CPU", config)
    assert compiled.get_property(props.intel_cpu.denormals_optimization) is True
    assert compiled.get_property(props.log.level) == props.log.Level.ERR
    x = np.ones(list(compiled.input(0).shape), np.float32)
    assert compiled(x)[0].shape == tuple(compiled.output(0).shape)
    assert compiled.get_property(props.supported_properties)["PERF_COUNT"] == "RO"


def test_a_fact_the_cpu_cannot_change_is_refused_by_name() -> None:
    core = ov.Core()
    pcore = props.hint.scheduling_core_type(props.hint.SchedulingCoreType.PCORE_ONLY)
    with pytest.raises(RuntimeError, match="SCHEDULING_CORE_TYPE"):
        core.set_property("CPU", pcore)


def test_enum_entries_list_members_and_aliases_as_openvinos_enums_do() -> None:
    entries = props.hint.Priority.__entries
    assert list(entries) == ["LOW", "MEDIUM", "HIGH", "DEFAULT"]
    assert entries["DEFAULT"][0] is props.hint.Priority.MEDIUM
    first = next(iter(props.log.Level.__entries.values()))[0]
    assert first is props.log.Level.NO and int(first) == -1


def test_a_read_only_key_given_a_value_is_a_type_error_naming_it() -> None:
    with pytest.raises(TypeError) as info:
        props.supported_properties("something")
    assert isinstance(info.value, ov.ReadOnlyPropertyError)
    assert "SUPPORTED_PROPERTIES" in str(info.value) and "'something'" in str(info.value)


def test_a_value_of_the_wrong_type_is_a_type_error_naming_value_and_key() -> None:
    with pytest.raises(TypeError) as info:
        props.cache_dir(6)
    assert isinstance(info.value, ov.PropertyValueError) and isinstance(info.value, RuntimeError)
    assert "6" in str(info.value) and "CACHE_DIR" in str(info.value)


def test_npu_compiled_blob_and_model_keys_have_openvinos_names() -> None:
    from ovlite.properties import intel_npu

    assert intel_npu.turbo(True) == ("NPU_TURBO", True)
    assert intel_npu.max_tiles(4)[1].value == 4
    assert intel_npu.driver_version() == "NPU_DRIVER_VERSION" and intel_npu.driver_version.read_only
    blob = ov.Tensor(ov.Type.u8, [2, 5])
    name, value = props.hint.compiled_blob(blob)
    assert name == "COMPILED_BLOB" and value.value is blob
    assert props.hint.model() == "MODEL_PTR"
    with pytest.raises(RuntimeError, match="NPU_TURBO"):  # defined, not honoured: refused by name
        ov.Core().set_property("CPU", intel_npu.turbo(True))
