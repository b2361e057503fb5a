"""``ovlite conformance DEVICE``: the suite run on an installed device, summarized for people
and as JSON (a refused plugin's report is in test_conformance_declarations.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from ovlite import cli
from ovlite.testing.conformance import CLAIMS

PROFILING_TESTS = {
    "test_profiling_info_lists_timings_when_enabled",
    "test_no_profiling_info_when_disabled",
}


def conformance(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["conformance", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_suite_runs_on_cpu_and_the_json_names_package_version_and_outcomes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "cpu.json"
    selection = "profiling or beside_cpu or infer_matches or plugin_loads"
    code, out, _ = conformance(
        capsys, "CPU", "--claims", "profiling", "-k", selection, "--json", str(path)
    )
    assert code == 0, out
    report = json.loads(path.read_text())
    assert report["device"] == "CPU"
    assert report["package"] == "ovlite-cpu"
    assert report["version"] == metadata.version("ovlite-cpu")
    assert report["claims"] == ["profiling"]
    assert report["ok"] is True
    outcomes = {test["name"]: (test["area"], test["outcome"]) for test in report["tests"]}
    assert outcomes == {
        "test_the_plugin_loads_and_provides_the_device": ("base", "passed"),
        "test_infer_matches_the_reference": ("inference", "passed"),
        "test_profiling_info_lists_timings_when_enabled": ("profiling", "passed"),
        "test_no_profiling_info_when_disabled": ("profiling", "passed"),
        "test_runs_beside_cpu_in_multi": ("meta_devices", "skipped"),
    }
    skipped = next(t for t in report["tests"] if t["outcome"] == "skipped")
    assert skipped["reason"] == "the device under test is CPU itself"
    assert report["summary"] == {"passed": 4, "failed": 0, "skipped": 1}
    assert "conformance of CPU (ovlite-cpu " in out
    assert "SKIPPED test_runs_beside_cpu_in_multi (meta_devices): the device under test" in out
    assert "4 passed, 0 failed, 1 skipped" in out
    assert f"JSON summary written to {path}" in out


def test_unclaimed_features_are_skipped_with_the_claim_to_set(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = conformance(capsys, "CPU", "-k", "profiling", "--json", "-")
    assert code == 0
    report = json.loads(out)  # with --json -, stdout is the JSON alone
    assert report["claims"] == []
    assert {test["name"] for test in report["tests"]} == PROFILING_TESTS
    for test in report["tests"]:
        assert test["outcome"] == "skipped"
        assert "CPU does not claim profiling (set supports_profiling = True" in test["reason"]


def test_claims_take_commas_dashes_and_all(capsys: pytest.CaptureFixture[str]) -> None:
    from ovlite.testing.conformance.runner import parse_claims

    assert parse_claims(["cancellation,dynamic-shapes", "supports_profiling"]) == [
        "cancellation",
        "dynamic_shapes",
        "profiling",
    ]
    assert parse_claims(["all"]) == list(CLAIMS)
    code, out, err = conformance(capsys, "CPU", "--claims", "profilng")
    assert code == 2 and not out
    assert "unknown claim 'profilng' (did you mean 'profiling'?)" in err


def test_a_device_no_plugin_provides_is_one_failure(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = conformance(capsys, "NOSUCH", "-k", "infer or read_only", "--json", "-")
    assert code == 1
    report = json.loads(out)
    failed = [test for test in report["tests"] if test["outcome"] == "failed"]
    assert len(failed) == 1, report  # the presence test is deselected: the first test reports
    assert "unknown device 'NOSUCH'" in failed[0]["reason"]
    assert "plugin_failures" in failed[0]["reason"]
    others = [test for test in report["tests"] if test is not failed[0]]
    assert others and all(test["outcome"] == "skipped" for test in others)
    assert all("see the failure of" in test["reason"] for test in others)
    assert report["package"] is None and report["ok"] is False


def test_help_lists_every_claim_of_the_suite(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["conformance", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for claim in CLAIMS:
        assert claim in text


def test_the_ovlite_command_starts_without_pytest() -> None:
    check = "import sys, ovlite.cli; print('pytest' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, timeout=120
    )
    assert result.stdout.strip() == "False", result.stderr


def test_a_selection_that_matches_no_test_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = conformance(capsys, "CPU", "-k", "no_such_conformance_test")
    assert code == 2 and not out
    assert "-k 'no_such_conformance_test' selects none of the conformance tests" in err
