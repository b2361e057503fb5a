"""``ovlite serve`` as a subcommand of the core CLI, and the core staying light."""

from __future__ import annotations

import subprocess
import sys

import pytest

import ovlite.cli


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import sys, ovlite.cli; sys.exit(ovlite.cli.main())", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_serve_is_a_subcommand_of_ovlite(capsys):
    with pytest.raises(SystemExit):
        ovlite.cli.main(["serve", "--help"])
    out = capsys.readouterr().out
    for flag in (
        "-m NAME=PATH",
        "--http-port",
        "--hint",
        "--queue-size",
        "--timeout",
        "--model-config",
    ):
        assert flag in out


def test_without_the_package_the_command_names_it(monkeypatch, capsys):
    monkeypatch.setattr(ovlite.cli, "entry_points", lambda group: [])
    assert ovlite.cli.main(["serve", "-m", "x=y.onnx"]) == 2
    assert "needs the package ovlite-serve" in capsys.readouterr().err


def test_import_ovlite_loads_nothing_of_the_server():
    code = (
        "import sys, ovlite, ovlite_serve; "
        "print(sorted(m for m in ('ovlite_serve.app', 'starlette', 'uvicorn', "
        "'prometheus_client', 'tritonclient') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr


def test_bad_model_flags_and_devices_are_clear_errors(model_files):
    missing = _run("serve", "-m", "a=/nonexistent.onnx")
    assert missing.returncode != 0 and "no file '/nonexistent.onnx'" in missing.stderr
    twice = _run("serve", "-m", f"a={model_files['mlp']}", "-m", f"a={model_files['two']}")
    assert "model name 'a' is given twice" in twice.stderr
    device = _run("serve", "-m", f"a={model_files['mlp']}", "-d", "NOPE", "--http-port", "1")
    assert device.returncode == 2
    assert "ovlite: error:" in device.stderr and "NOPE" in device.stderr
    assert "Traceback" not in device.stderr
