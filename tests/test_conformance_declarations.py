"""What a plugin's conformance class declares, and what it sees when its plugin is not there.

- ``expected_differences`` skips inherited tests with the declared reason; a name that is no
  test of the suite is an error when the class is defined.
- A plugin refused by the registry (here: a real entry point declaring a plugin API from the future) fails one
  test with the registry's reason; every other test is skipped with a pointer to it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import ovlite as ov
import ovlite.testing
from ovlite.testing import conformance
from ovlite.testing.conformance import ExpectedDifferenceError, PluginConformance

PRESENCE_TEST = "test_the_plugin_loads_and_provides_the_device"


def run_pytest(folder: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rfs", *args],
        capture_output=True,
        text=True,
        cwd=folder,
        env=env,
        timeout=300,
    )
    return result.stdout + result.stderr


# ---- the package keeps every name the module had ----------------------------------------------


def test_every_name_of_the_former_module_is_importable_where_it_was() -> None:
    names = [
        "REQUIRED_COMPILED_PROPERTIES",
        "AsyncQueueConformance",
        "BadInputConformance",
        "CancellationConformance",
        "ConcurrencyConformance",
        "ConformanceBase",
        "InferenceConformance",
        "JobConformance",
        "MetaDeviceConformance",
        "PluginConformance",
        "ProfilingConformance",
        "PropertiesConformance",
        "ReferenceOracle",
    ]
    for name in names:
        assert name in conformance.__all__
        if name not in ("REQUIRED_COMPILED_PROPERTIES", "ConformanceBase"):  # lazy re-exports
            assert getattr(ovlite.testing, name) is getattr(conformance, name)
    areas = [getattr(conformance, n) for n in names if n.endswith("Conformance")]
    for area in areas:  # PluginConformance is every area
        assert issubclass(PluginConformance, area)


# ---- expected differences -------------------------------------------------------------------


def define(differences: object) -> type:
    return type(
        "TestMyDevice",
        (PluginConformance,),
        {"device": "MYDEV", "expected_differences": differences},
    )


def test_a_misspelt_expected_difference_fails_when_the_class_is_defined() -> None:
    with pytest.raises(ExpectedDifferenceError, match="did you mean 'test_latency_hint_runs_one"):
        define({"test_latency_hint_runs_one_streams": "MYDEV runs two"})


def test_an_expected_difference_must_give_its_reason() -> None:
    with pytest.raises(ExpectedDifferenceError, match="must say why"):
        define({"test_latency_hint_runs_one_stream": " "})


def test_the_plugin_presence_test_cannot_be_declared_a_difference() -> None:
    with pytest.raises(ExpectedDifferenceError, match="cannot be skipped"):
        define({PRESENCE_TEST: "never installed here"})


def test_an_expected_difference_is_a_typed_ovlite_error() -> None:
    assert issubclass(ExpectedDifferenceError, ov.OvliteError)


DIFFERS = """
import pytest

import ovlite as ov
from ovlite.testing import StandInDevice, StandInPlugin
from ovlite.testing.conformance import PluginConformance


class TestDiffers(PluginConformance):
    device = "STANDIN"
    expected_differences = {
        "test_latency_hint_runs_one_stream": "STANDIN keeps two streams for LATENCY",
        "test_compiled_model_reports_the_required_properties[THROUGHPUT]": "case only",
    }

    @pytest.fixture
    def core(self):
        core = ov.Core()
        core.register_plugin(StandInPlugin(StandInDevice()), name="standin")
        return core


class TestSame(TestDiffers):
    expected_differences = {}
"""


def test_expected_differences_skip_only_the_named_tests_with_their_reason(tmp_path: Path) -> None:
    (tmp_path / "test_differs.py").write_text(DIFFERS)
    output = run_pytest(tmp_path, "-v", "-k", "latency_hint_runs_one_stream or required_properties")
    outcomes = dict(re.findall(r"test_differs\.py::(\S+) (PASSED|SKIPPED|FAILED)", output))
    assert outcomes == {
        "TestDiffers::test_latency_hint_runs_one_stream": "SKIPPED",
        "TestDiffers::test_compiled_model_reports_the_required_properties[LATENCY]": "PASSED",
        "TestDiffers::test_compiled_model_reports_the_required_properties[THROUGHPUT]": "SKIPPED",
        "TestDiffers::test_compiled_model_reports_the_required_properties[CUMULATIVE_THROUGHPUT]": (
            "PASSED"
        ),
        "TestSame::test_latency_hint_runs_one_stream": "PASSED",
        "TestSame::test_compiled_model_reports_the_required_properties[LATENCY]": "PASSED",
        "TestSame::test_compiled_model_reports_the_required_properties[THROUGHPUT]": "PASSED",
        "TestSame::test_compiled_model_reports_the_required_properties[CUMULATIVE_THROUGHPUT]": (
            "PASSED"
        ),
    }, output
    assert "expected difference on STANDIN: STANDIN keeps two streams for LATENCY" in output
    assert "expected difference on STANDIN: case only" in output


# ---- a plugin that is refused ---------------------------------------------------------------


@pytest.fixture(scope="module")
def refused_plugin_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An environment where a real entry point provides OLDDEV from a plugin of API 999."""
    site = tmp_path_factory.mktemp("site")
    (site / "olddev_plugin.py").write_text(
        "OVLITE_PLUGIN_API = 999\n\n\ndef ovlite_devices():\n    return []\n"
    )
    info = site / "olddev_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: olddev-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[ovlite]\nolddev = olddev_plugin\n")
    path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


REFUSED = """
import pytest

import ovlite as ov
from ovlite.testing.conformance import PluginConformance


class TestOldDevice(PluginConformance):
    device = "OLDDEV"


class OldInProcessPlugin:
    OVLITE_PLUGIN_API = 999

    def ovlite_devices(self):
        return []


class TestOldInProcess(PluginConformance):
    device = "OLDDEV"

    @pytest.fixture
    def core(self):
        core = ov.Core()
        core.register_plugin(OldInProcessPlugin(), name="old-in-process")
        return core
"""


def test_a_refused_plugin_is_one_failure_with_the_registrys_reason(
    tmp_path: Path, refused_plugin_env: dict[str, str]
) -> None:
    (tmp_path / "test_refused.py").write_text(REFUSED)
    output = run_pytest(tmp_path, "-q", env=refused_plugin_env)
    failed = set(re.findall(r"FAILED test_refused\.py::(\w+::\w+)", output))
    assert failed == {f"TestOldDevice::{PRESENCE_TEST}", f"TestOldInProcess::{PRESENCE_TEST}"}
    summary = output.strip().splitlines()[-1]
    assert re.search(r"^2 failed, \d+ skipped in ", summary), summary
    assert "olddev (olddev-plugin): olddev-plugin 0.1 declares plugin API 999" in output
    assert "ovlite.Core().plugin_failures" in output
    assert "the core fixture of TestOldInProcess failed: PluginError" in output
    for cls in ("TestOldDevice", "TestOldInProcess"):
        pointer = f"OLDDEV cannot be tested here: see the failure of test_refused.py::{cls}::"
        assert pointer + PRESENCE_TEST in output


def test_ovlite_conformance_reports_a_refused_plugin_in_its_json(
    refused_plugin_env: dict[str, str],
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ovlite.cli", "conformance", "OLDDEV", "--json", "-"],
        capture_output=True,
        text=True,
        env=refused_plugin_env,
        timeout=300,
    )
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    failed = [test for test in report["tests"] if test["outcome"] == "failed"]
    assert [test["name"] for test in failed] == [PRESENCE_TEST]
    assert "olddev-plugin 0.1 declares plugin API 999" in failed[0]["reason"]
    assert report["summary"]["passed"] == 0
    assert report["summary"]["skipped"] == len(report["tests"]) - 1 > 0
    assert report["package"] is None and report["version"] is None
