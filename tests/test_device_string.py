from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ovlite import DeviceSpec, DeviceStringError, parse_device
from ovlite.device_string import canonical


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CPU", "CPU"),
        ("gpu", "GPU"),
        ("GPU.1", "GPU.1"),
        ("MULTI:GPU,CPU", "MULTI:GPU,CPU"),
        ("multi: gpu(4) , cpu(2)", "MULTI:GPU(4),CPU(2)"),
        ("AUTO", "AUTO"),
        ("AUTO:GPU,CPU", "AUTO:GPU,CPU"),
        ("AUTO:-CPU", "AUTO:-CPU"),
        ("HETERO:GPU,CPU", "HETERO:GPU,CPU"),
        ("BATCH:GPU(8)", "BATCH:GPU(8)"),
        ("OPENVINO.GPU.0", "OPENVINO.GPU.0"),
        ("RAY:MULTI:GPU,CPU", "RAY:MULTI:GPU,CPU"),
    ],
)
def test_canonical_form(text: str, expected: str) -> None:
    assert canonical(text) == expected
    assert canonical(expected) == expected


def test_parts_of_a_spec() -> None:
    spec = parse_device("MULTI:GPU.1(4),CPU")
    assert spec.name == "MULTI" and spec.is_composite
    gpu, cpu = spec.children
    assert (gpu.name, gpu.id, gpu.count, gpu.full_name) == ("GPU", "1", 4, "GPU.1")
    assert (cpu.name, cpu.id, cpu.count) == ("CPU", None, None)
    assert parse_device("AUTO:-CPU").children[0].excluded
    nested = parse_device("RAY:MULTI:GPU,CPU")
    assert str(nested.children[0]) == "MULTI:GPU,CPU"
    assert not parse_device("AUTO").is_composite


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        ("", 0, "expected a device name"),
        ("MULTI:", 6, "expected a device name"),
        ("MULTI:GPU,,CPU", 10, "expected a device name"),
        ("GPU.", 4, "device id"),
        ("GPU(0)", 4, "at least 1"),
        ("GPU(x)", 4, "whole number"),
        ("GPU(4", 5, "')'"),
        ("-CPU", 0, "only allowed inside a device list"),
        ("AUTO:-CPU(2)", 9, "excluded device cannot have a count"),
        ("CPU GPU", 4, "unexpected 'G'"),
        ("1CPU", 0, "expected a device name"),
    ],
)
def test_malformed_strings_point_at_the_problem(text: str, position: int, words: str) -> None:
    with pytest.raises(DeviceStringError) as info:
        parse_device(text)
    error = info.value
    assert error.position == position
    assert words in str(error)
    assert repr(text) in str(error)
    assert isinstance(error, ValueError)


def test_non_string_is_refused() -> None:
    with pytest.raises(DeviceStringError, match="expected a str"):
        parse_device(42)  # type: ignore[arg-type]


names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True)
ids = st.from_regex(r"[A-Za-z0-9_]{1,3}(\.[A-Za-z0-9_]{1,3})?", fullmatch=True)


@st.composite
def device_specs(draw: st.DrawFn, depth: int = 0, in_list: bool = False) -> DeviceSpec:
    name = draw(names).upper()
    device_id = draw(st.none() | ids)
    if depth < 2 and draw(st.booleans()):
        children = draw(
            st.lists(device_specs(depth=depth + 1, in_list=True), min_size=1, max_size=3)
        )
        # A nested composite takes the rest of its list, so only the last child may be one.
        children = [c for c in children[:-1] if not c.is_composite] + children[-1:]
        return DeviceSpec(name, device_id, children=tuple(children))
    excluded = in_list and draw(st.booleans())
    count = None if excluded else draw(st.none() | st.integers(1, 64))
    return DeviceSpec(name, device_id, count, excluded)


@given(device_specs())
def test_round_trip_over_the_grammar(spec: DeviceSpec) -> None:
    assert parse_device(str(spec)) == spec


@given(st.text(alphabet="ABCgpu.,:()-0123 ", max_size=20))
def test_any_text_parses_or_raises_a_device_string_error(text: str) -> None:
    try:
        spec = parse_device(text)
    except DeviceStringError as error:
        assert 0 <= error.position <= len(text)
    else:
        assert parse_device(str(spec)) == spec
