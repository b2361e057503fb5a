"""Plugin discovery, isolation of broken plugins, and the plugin API version check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import ovlite as ov
from ovlite.testing import StandInDevice, StandInPlugin


class RaisingPlugin:
    OVLITE_PLUGIN_API = ov.PLUGIN_API_VERSION

    @ov.hookimpl
    def ovlite_devices(self) -> list:
        raise RuntimeError("driver exploded")


class FuturePlugin(StandInPlugin):
    OVLITE_PLUGIN_API = ov.PLUGIN_API_VERSION + 1


def test_plugin_that_raises_is_reported_and_the_core_goes_on(core: ov.Core) -> None:
    with pytest.raises(ov.PluginError, match="driver exploded"):
        core.register_plugin(RaisingPlugin(), name="raising")
    assert any(f.name == "raising" and "driver exploded" in f.error for f in core.plugin_failures)
    assert "STANDIN" in core.available_devices


def test_incompatible_plugin_api_names_both_versions(core: ov.Core) -> None:
    with pytest.raises(ov.PluginError) as info:
        core.register_plugin(FuturePlugin(StandInDevice("NEWER")), name="future")
    message = str(info.value)
    assert f"plugin API {ov.PLUGIN_API_VERSION + 1}" in message
    assert f"implements plugin API {ov.PLUGIN_API_VERSION}" in message
    assert "NEWER" not in core.devices()


def test_two_plugins_claiming_one_device_is_reported(core: ov.Core) -> None:
    with pytest.raises(ov.PluginError, match="STANDIN is provided by both"):
        core.register_plugin(StandInPlugin(StandInDevice("STANDIN")), name="second")


def test_unload_plugin_removes_its_devices(core: ov.Core) -> None:
    core.register_plugin(StandInPlugin(StandInDevice("TEMP")), name="temp")
    assert "TEMP" in core.available_devices
    core.unload_plugin("temp")
    assert "TEMP" not in core.available_devices
    with pytest.raises(ov.PluginError):
        core.unload_plugin("temp")


def test_in_process_plugins_stay_in_their_core(core: ov.Core) -> None:
    assert "STANDIN" in core.available_devices
    assert "STANDIN" not in ov.Core().available_devices


def test_device_without_a_name_is_refused() -> None:
    class Nameless(StandInPlugin):
        pass

    nameless = StandInDevice("")
    with pytest.raises(ov.PluginError, match="not a named ovlite.plugin.Device"):
        ov.Core().register_plugin(Nameless(nameless), name="nameless")


# ---- real entry points: a throwaway package pip-installed into this environment -------------

PACKAGE = "ovlite-throwaway-plugins"

MODULES = {
    "throwaway_good.py": """
        from ovlite.hookspecs import hookimpl
        from ovlite.testing import StandInDevice

        OVLITE_PLUGIN_API = 1

        @hookimpl
        def ovlite_devices():
            return [StandInDevice("THROWAWAY")]
    """,
    "throwaway_broken.py": """
        raise ImportError("this plugin is broken on purpose")
    """,
    "throwaway_old.py": """
        from ovlite.hookspecs import hookimpl
        from ovlite.testing import StandInDevice

        OVLITE_PLUGIN_API = 0

        @hookimpl
        def ovlite_devices():
            return [StandInDevice("OLDAPI")]
    """,
}


@pytest.fixture(scope="module")
def throwaway_package(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    root = tmp_path_factory.mktemp("throwaway")
    for name, source in MODULES.items():
        (root / name).write_text(textwrap.dedent(source))
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""
            [build-system]
            requires = ["setuptools"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{PACKAGE}"
            version = "1.2.3"

            [tool.setuptools]
            py-modules = ["throwaway_good", "throwaway_broken", "throwaway_old"]

            [project.entry-points.ovlite]
            good = "throwaway_good"
            broken = "throwaway_broken"
            old = "throwaway_old"
            """
        )
    )
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--no-build-isolation", "--no-deps", str(root)], check=True)
    yield PACKAGE
    subprocess.run([*pip, "uninstall", "-y", PACKAGE], check=True)


def discover(env: dict[str, str] | None = None) -> dict:
    code = textwrap.dedent(
        """
        import json, ovlite
        core = ovlite.Core()
        print(json.dumps({
            "devices": core.available_devices,
            "plugins": {p.name: [p.package, p.version, p.devices] for p in core.plugins},
            "failures": {f.name: f.error for f in core.plugin_failures},
        }))
        """
    )
    environment = {**os.environ, **(env or {})}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=environment
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_entry_point_plugins_are_found_and_broken_ones_isolated(throwaway_package: str) -> None:
    found = discover()
    assert "THROWAWAY" in found["devices"]
    assert found["plugins"]["good"] == [PACKAGE, "1.2.3", ["THROWAWAY"]]
    assert "broken on purpose" in found["failures"]["broken"]
    assert "declares plugin API 0" in found["failures"]["old"]
    assert "OLDAPI" not in found["devices"]


def test_allow_list_narrows_loading(throwaway_package: str) -> None:
    # the meta devices built into ovlite itself always load
    only_good = discover({"OVLITE_PLUGINS": "good"})
    assert "THROWAWAY" in only_good["devices"]
    assert set(only_good["failures"]) == set()
    assert set(only_good["plugins"]) == {"good", "meta"}
    none = discover({"OVLITE_PLUGINS": "none"})
    assert set(none["plugins"]) == {"meta"} and none["failures"] == {}


def test_trace_prints_discovery_to_stderr(throwaway_package: str) -> None:
    code = "import ovlite; ovlite.Core().available_devices"
    env = {**os.environ, "OVLITE_TRACE_PLUGINS": "1", "OVLITE_PLUGINS": "good,broken"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert "load good = throwaway_good" in result.stderr
    assert "FAILED broken" in result.stderr
    assert "skip old" in result.stderr


def test_plugin_path_is_not_in_the_sdist_root() -> None:
    # guard: the throwaway modules must not leak into the repository
    assert not (Path(__file__).parent.parent / "throwaway_good.py").exists()
