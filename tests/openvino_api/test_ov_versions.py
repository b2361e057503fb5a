"""ov.get_version, core.get_versions(...).major/minor, core.unload_plugin by device name."""

from __future__ import annotations

import pytest

import ovlite as ov


def test_get_version_is_ovlites_version_string() -> None:
    assert ov.get_version() == ov.__version__ and isinstance(ov.get_version(), str)


def test_device_versions_have_major_minor_and_patch() -> None:
    version = ov.Core().get_versions("CPU")["CPU"]
    assert version.description == "ovlite-cpu"
    numbers = [int(part) for part in version.build_number.split(".")[:3]]
    assert [version.major, version.minor, version.patch] == numbers + [0] * (3 - len(numbers))
    assert ov.Version("x", "2026.4").patch == 0 and ov.Version("x", "").major == 0


def test_unloading_a_device_keeps_the_cores_settings_for_it() -> None:
    core = ov.Core()
    core.set_property("CPU", {"PERF_COUNT": True})
    core.unload_plugin("CPU")
    assert core.get_property("CPU", "PERF_COUNT") is True
    core.unload_plugin("CPU")  # nothing held, nothing to fail


def test_unloading_an_unknown_name_is_a_runtime_error_naming_it() -> None:
    with pytest.raises(RuntimeError, match="'NOPE'"):
        ov.Core().unload_plugin("NOPE")


def test_versions_read_like_openvinos() -> None:
    openvino = pytest.importorskip("openvino")
    theirs = openvino.Core().get_versions("CPU")["CPU"]
    ours = ov.Core().get_versions("CPU")["CPU"]
    for field in ("major", "minor", "patch", "build_number", "description"):
        assert isinstance(getattr(ours, field), type(getattr(theirs, field))), field
