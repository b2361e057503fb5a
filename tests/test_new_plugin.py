"""``ovlite new-plugin``: the package it writes, and its refusals.

That the written package passes the conformance suite once installed with ``pip install -e``
is proved in a fresh virtual environment by tests/test_plugin_template.py
(``test_new_plugin_passes_conformance_as_generated``); here it is loaded in-process.
"""

from __future__ import annotations

import importlib
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import ovlite as ov
from ovlite.cli import main
from ovlite.scaffold import PluginDirectoryError, PluginNameError, new_plugin, plugin_names


def test_the_names_of_a_plugin() -> None:
    names = plugin_names("my-dev")
    assert (names.name, names.distribution, names.module, names.device, names.classname) == (
        "my-dev",
        "ovlite-my-dev",
        "ovlite_my_dev",
        "MY_DEV",
        "MyDev",
    )
    assert plugin_names("ovlite-mydevice").distribution == "ovlite-mydevice"
    assert plugin_names("mydevice", device="mydev").device == "MYDEV"


@pytest.mark.parametrize("name", ["", "2fast", "my device", "my--dev", "dev-", "café", "a.b"])
def test_a_bad_name_is_refused_naming_it(name: str, tmp_path: Path) -> None:
    with pytest.raises(PluginNameError, match=f"bad plugin name {name!r}"):
        new_plugin(name, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("device", ["MY.DEV", "MY:DEV", "9DEV", "MY DEV"])
def test_a_bad_device_name_is_refused_naming_it(device: str) -> None:
    with pytest.raises(PluginNameError, match=f"bad device name {device!r}"):
        plugin_names("mydevice", device=device)


@pytest.mark.parametrize("device", ["MULTI", "AUTO", "CPU"])
def test_a_device_name_ovlite_uses_is_refused(device: str) -> None:
    with pytest.raises(PluginNameError, match=f"device name {device!r} is taken"):
        plugin_names("mydevice", device=device)


def test_a_folder_with_files_is_refused_and_left_alone(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(PluginDirectoryError, match=str(tmp_path)):
        new_plugin("mydevice", tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]
    a_file = tmp_path / "keep.txt"
    with pytest.raises(PluginDirectoryError, match="it is a file"):
        new_plugin("mydevice", a_file)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert new_plugin("mydevice", empty) == empty  # an empty folder is fine


def test_the_command_writes_the_package_and_refuses_with_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "plugin"
    assert main(["new-plugin", "mydevice", "--dir", str(folder), "--device", "MYDEV"]) == 0
    out = capsys.readouterr().out
    assert "ovlite-mydevice (device MYDEV)" in out and "pip install -e" in out
    project = tomllib.loads((folder / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["ovlite"] == {"mydevice": "ovlite_mydevice"}
    assert project["project"]["name"] == "ovlite-mydevice"
    assert (folder / "src" / "ovlite_mydevice" / "device.py").is_file()
    assert 'device = "MYDEV"' in (folder / "tests" / "test_conformance.py").read_text()

    assert main(["new-plugin", "mydevice", "--dir", str(folder)]) == 2
    assert "is a folder that is not empty" in capsys.readouterr().err
    assert main(["new-plugin", "my device", "--dir", str(tmp_path / "other")]) == 2
    assert "bad plugin name 'my device'" in capsys.readouterr().err


@pytest.fixture
def generated(tmp_path: Path) -> Iterator[object]:
    """The generated module, imported from its src folder."""
    new_plugin("scaffolded", tmp_path / "ovlite-scaffolded")
    sys.path.insert(0, str(tmp_path / "ovlite-scaffolded" / "src"))
    try:
        yield importlib.import_module("ovlite_scaffolded")
    finally:
        sys.path.remove(str(tmp_path / "ovlite-scaffolded" / "src"))
        for name in [n for n in sys.modules if n.startswith("ovlite_scaffolded")]:
            del sys.modules[name]


def test_the_generated_device_runs_models_on_plugin_api_2(generated: object) -> None:
    from onnx.reference import ReferenceEvaluator

    from ovlite import models

    assert generated.OVLITE_PLUGIN_API == ov.PLUGIN_API_VERSION  # type: ignore[attr-defined]
    core = ov.Core()
    core.register_plugin(generated, name="scaffolded")
    assert "SCAFFOLDED" in core.available_devices
    proto = models.tiny_mlp(batch=None)
    compiled = core.compile_model(proto, "SCAFFOLDED", {"PERFORMANCE_HINT": "THROUGHPUT"})
    assert compiled.get_property("NUM_STREAMS") == 2
    x = np.random.default_rng(1).standard_normal((3, 16)).astype(np.float32)
    expected = ReferenceEvaluator(proto).run(None, {"x": x})[0]
    np.testing.assert_allclose(compiled(x)[0], expected, rtol=1e-4, atol=1e-5)
    with pytest.raises(ov.UnknownPropertyError, match="PERF_COUNT"):
        core.compile_model(proto, "SCAFFOLDED", {"PERF_COUNT": True})
