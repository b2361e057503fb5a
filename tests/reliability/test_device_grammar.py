"""Device strings whose parts a device cannot use are refused, never silently dropped.

A device list after ``:`` belongs to meta devices only, a count in parentheses to a device
inside MULTI or BATCH; every way a string reaches a device (compile_model, get_property,
set_property, query_model) refuses the rest with a DeviceStringError pointing at the part.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from _reliability import MLP, make_core

import ovlite as ov
from ovlite.testing import SimulatedDevice

ENTRY_POINTS: dict[str, Callable[[ov.Core, str], object]] = {
    "compile_model": lambda core, text: core.compile_model(MLP, text),
    "get_property": lambda core, text: core.get_property(text, "FULL_DEVICE_NAME"),
    "set_property": lambda core, text: core.set_property(text, {"PERFORMANCE_HINT": "LATENCY"}),
    "query_model": lambda core, text: core.query_model(MLP, text),
}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize(
    ("text", "at", "expected"),
    [
        ("SIMX:NOSUCH", 4, "SIMX takes no device list after ':'"),
        ("SIMX:SIMY", 4, "SIMX takes no device list after ':'"),
        ("SIMX:-SIMY", 4, "SIMX takes no device list after ':'"),
        ("SIMX:MULTI:SIMY", 4, "SIMX takes no device list after ':'"),
        ("SIMX(4)", 5, "a count in parentheses belongs to a device inside MULTI or BATCH"),
    ],
)
def test_parts_a_device_takes_none_of_are_refused(
    entry: str, text: str, at: int, expected: str
) -> None:
    core = make_core(SimulatedDevice("SIMX"), SimulatedDevice("SIMY"))
    with pytest.raises(ov.DeviceStringError) as info:
        ENTRY_POINTS[entry](core, text)
    assert expected in str(info.value) and text in str(info.value), str(info.value)
    assert info.value.position == at
    if "list" in expected:
        assert "MULTI" in str(info.value), "the message names the devices that take a list"


def test_counts_inside_multi_and_batch_still_count() -> None:
    core = make_core(SimulatedDevice("SIMX"), SimulatedDevice("SIMY"))
    multi = core.compile_model(MLP, "MULTI:SIMX(3),SIMY(2)")
    assert multi.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS") == 5
    assert core.compile_model(MLP, "BATCH:SIMX(4)").get_property("OPTIMAL_BATCH_SIZE") == 4


def test_auto_with_every_candidate_excluded_says_so() -> None:
    core = make_core(SimulatedDevice("SIMX"))
    excluded = ",".join(f"-{name}" for name in core.available_devices)
    with pytest.raises(ov.DeviceUnavailableError) as info:
        core.compile_model(MLP, f"AUTO:{excluded}")
    message = str(info.value)
    assert "no candidate device is left" in message and "excluded" in message, message
    assert "SIMX" in message


def test_device_ids_are_case_insensitive_like_names() -> None:
    """``simx.npu0`` is ``SIMX.NPU0``; the device sees its own spelling of the id."""
    core = make_core(SimulatedDevice("SIMX", ids=["NPU0", "NPU1"]))
    compiled = core.compile_model(MLP, "simx.npu1")
    assert compiled.device_name == "SIMX.NPU1"
    assert core.get_property("simx.npu1", "AVAILABLE_DEVICES") == ["NPU0", "NPU1"]
    core.set_property("Simx.Npu1", {"PERFORMANCE_HINT": "LATENCY"})
    assert core.get_property("SIMX.NPU1", "PERFORMANCE_HINT") == "LATENCY"
    with pytest.raises(ov.DeviceNotFoundError):
        core.compile_model(MLP, "simx.npu2")
