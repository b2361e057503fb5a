from __future__ import annotations

import pytest

import ovlite as ov
import ovlite.properties as props
from ovlite.properties import hint, streams


def test_typed_keys_are_their_openvino_strings() -> None:
    assert props.hint.performance_mode == "PERFORMANCE_HINT"
    assert props.hint.performance_mode() == "PERFORMANCE_HINT"
    assert props.streams.num() == "NUM_STREAMS"
    assert props.optimal_number_of_infer_requests() == "OPTIMAL_NUMBER_OF_INFER_REQUESTS"
    assert props.enable_profiling() == "PERF_COUNT"
    assert props.hint.performance_mode(hint.PerformanceMode.THROUGHPUT) == (
        "PERFORMANCE_HINT",
        hint.PerformanceMode.THROUGHPUT,
    )
    assert {props.hint.performance_mode: 1} == {"PERFORMANCE_HINT": 1}


def test_keys_and_values_accept_enums_and_strings() -> None:
    typed = props.normalize_config({hint.performance_mode: hint.PerformanceMode.THROUGHPUT})
    text = props.normalize_config({"PERFORMANCE_HINT": "throughput"})
    assert typed == text == {"PERFORMANCE_HINT": hint.PerformanceMode.THROUGHPUT}
    config = props.normalize_config(
        {
            "NUM_STREAMS": "AUTO",
            "ENABLE_CPU_PINNING": "YES",
            "INFERENCE_PRECISION_HINT": "bf16",
            "DEVICE_PRIORITIES": "GPU, CPU",
            "PERFORMANCE_HINT_NUM_REQUESTS": "4",
            "enable_profiling": True,
        }
    )
    assert config["NUM_STREAMS"] == streams.Num.AUTO == -1
    assert config["ENABLE_CPU_PINNING"] is True
    assert config["INFERENCE_PRECISION_HINT"] == ov.Type.bf16
    assert config["DEVICE_PRIORITIES"] == ["GPU", "CPU"]
    assert config["PERFORMANCE_HINT_NUM_REQUESTS"] == 4
    assert config["PERF_COUNT"] is True


def test_misspelt_key_quotes_it_and_suggests() -> None:
    with pytest.raises(ov.UnknownPropertyError) as info:
        props.normalize_config({"PERFORMANCE_HNT": "LATENCY"})
    assert "'PERFORMANCE_HNT'" in str(info.value)
    assert "did you mean 'PERFORMANCE_HINT'" in str(info.value)
    assert "NUM_STREAMS" in str(info.value)  # lists what is known


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("PERFORMANCE_HINT", "FAST", "LATENCY, THROUGHPUT, CUMULATIVE_THROUGHPUT"),
        ("NUM_STREAMS", 0, "'AUTO' or 'NUMA'"),
        ("NUM_STREAMS", -3, ">= 1"),
        ("PERFORMANCE_HINT_NUM_REQUESTS", -1, ">= 0"),
        ("PERFORMANCE_HINT_NUM_REQUESTS", 2.5, "whole number"),
        ("ENABLE_CPU_PINNING", "maybe", "True/False"),
        ("INFERENCE_PRECISION_HINT", "f31", "f32"),
        ("DEVICE_PROPERTIES", "CPU", "dict"),
    ],
)
def test_bad_values_quote_the_value_and_the_expectation(
    key: str, value: object, expected: str
) -> None:
    with pytest.raises(ov.PropertyValueError) as info:
        props.normalize_config({key: value})
    assert repr(value) in str(info.value)
    assert key in str(info.value)
    assert expected in str(info.value)


def test_read_only_keys_cannot_be_set() -> None:
    assert props.optimal_number_of_infer_requests.read_only
    assert not props.hint.performance_mode.read_only
    with pytest.raises(ov.ReadOnlyPropertyError, match="OPTIMAL_NUMBER_OF_INFER_REQUESTS"):
        props.normalize_config({props.optimal_number_of_infer_requests: 4})


def test_device_properties_are_checked_per_device() -> None:
    config = props.normalize_config(
        {"DEVICE_PROPERTIES": {"cpu": {"NUM_STREAMS": 2}, "GPU.1": {"PERFORMANCE_HINT": "LATENCY"}}}
    )
    assert config["DEVICE_PROPERTIES"] == {
        "CPU": {"NUM_STREAMS": 2},
        "GPU.1": {"PERFORMANCE_HINT": hint.PerformanceMode.LATENCY},
    }
    with pytest.raises(ov.UnknownPropertyError):
        props.normalize_config({"DEVICE_PROPERTIES": {"CPU": {"NUM_STREAM": 2}}})


def test_a_config_must_be_a_dict() -> None:
    with pytest.raises(ov.PropertyValueError, match="dict"):
        props.normalize_config([("PERFORMANCE_HINT", "LATENCY")])  # type: ignore[arg-type]
