"""The template plugin (examples/reference-plugin) and the guide's worked example, for real.

The in-process half runs the conformance suite and the template's own device tests against
the source folder.  The fresh-venv half does what docs/plugins.md tells a plugin author to
do: build the template as a wheel, install it beside ovlite and ovlite-cpu in a new virtual
environment (dependencies from the package index), list it with ``ovlite devices``, run it
as ``MULTI:REFERENCE,CPU`` and run its own tests there with pytest; then write the files of
the guide's worked example (``MYDEV``) from the page itself and follow its steps.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import types
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

import ovlite as ov
from ovlite.testing.conformance import PluginConformance

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "examples" / "reference-plugin"
GUIDE = ROOT / "docs" / "plugins.md"
BUILD_LITTER = shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__", ".*")


def load_template() -> types.ModuleType:
    """Import ``ovlite_reference`` from the source folder (it need not be installed)."""
    loaded = sys.modules.get("ovlite_reference")
    if loaded is not None:
        return loaded
    package = TEMPLATE / "ovlite_reference"
    spec = importlib.util.spec_from_file_location(
        "ovlite_reference", package / "__init__.py", submodule_search_locations=[str(package)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["ovlite_reference"] = module
    spec.loader.exec_module(module)
    return module


def core_with_template() -> ov.Core:
    core = ov.Core()
    if "REFERENCE" not in core.devices():  # unless the template is installed here
        core.register_plugin(load_template(), name="reference")
    return core


class TestReferenceTemplateInProcess(PluginConformance):
    device = "REFERENCE"
    supports_cancellation = True
    supports_profiling = True
    supports_throughput_streams = True
    supports_dynamic_shapes = True

    @pytest.fixture
    def core(self) -> ov.Core:
        return core_with_template()


#: What a plugin of API 2 imports from ovlite (and the modules of ``ovlite.properties``):
#: nothing else of ovlite is the plugin API.
PLUGIN_SURFACE = {"ovlite", "ovlite.plugin", "ovlite.properties"}


def outside_the_surface(names: set[str]) -> set[str]:
    return {
        name
        for name in names
        if name not in PLUGIN_SURFACE and not name.startswith("ovlite.properties.")
    }


def ovlite_imports(folder: Path) -> set[str]:
    """Every ``ovlite...`` module the Python files under ``folder`` import."""
    found = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            found.update(name for name in names if name.split(".")[0] == "ovlite")
    return found


def test_the_template_is_written_for_plugin_api_2() -> None:
    """It declares API 2, imports only the plugin API, and loads without a warning."""
    template = load_template()
    assert template.OVLITE_PLUGIN_API == 2 == ov.PLUGIN_API_VERSION
    assert outside_the_surface(ovlite_imports(TEMPLATE / "ovlite_reference")) == set()
    tests = ovlite_imports(TEMPLATE / "tests")
    assert {
        name for name in outside_the_surface(tests) if not name.startswith("ovlite.testing")
    } == set()
    core = ov.Core()
    assert core.devices()  # the installed plugins load first, with their own warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        core.register_plugin(template, name="reference-api2")
    assert "REFERENCE" in core.available_devices


def load_template_device_tests() -> types.ModuleType:
    path = TEMPLATE / "tests" / "test_reference_device.py"
    spec = importlib.util.spec_from_file_location("template_device_tests", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_DEVICE_TESTS = load_template_device_tests()
_DEVICE_TEST_NAMES = sorted(name for name in vars(_DEVICE_TESTS) if name.startswith("test_"))


@pytest.mark.parametrize("name", _DEVICE_TEST_NAMES)
def test_template_device_behaviour_in_process(name: str) -> None:
    """The template's own device tests (tests/test_reference_device.py), on its source."""
    from ovlite import models

    test = getattr(_DEVICE_TESTS, name)
    fixtures = {"core": core_with_template, "mlp": lambda: ov.read_model(models.tiny_mlp(None))}
    test(**{fixture: fixtures[fixture]() for fixture in inspect.signature(test).parameters})


# ---- from wheel to MULTI:REFERENCE,CPU in a fresh virtual environment ------------------------

MULTI_PROGRAM = textwrap.dedent(
    """
    import json
    import numpy as np
    import ovlite
    from ovlite import models

    core = ovlite.Core()
    model = core.read_model(models.tiny_mlp(batch=None))
    multi = core.compile_model(model, "MULTI:REFERENCE,CPU")
    cpu = core.compile_model(model, "CPU")
    inputs = [np.random.default_rng(i).standard_normal((3, 16), np.float32) for i in range(40)]
    queue = ovlite.AsyncInferQueue(multi)
    ran_on, differences = [], []

    def check(request, i):
        differences.append(float(np.max(np.abs(request.results[0] - cpu(inputs[i])[0]))))
        ran_on.append(request.executed_on)

    queue.set_callback(check)
    for i, x in enumerate(inputs):
        queue.start_async({"x": x}, userdata=i)
    queue.wait_all()
    print(json.dumps({
        "children": sorted(multi.device_model.children()),
        "ran_on": sorted(set(ran_on)),
        "count": len(ran_on),
        "worst": max(differences),
    }))
    """
)


def run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    assert result.returncode == 0, (
        f"{' '.join(map(str, command))} failed ({result.returncode}):\n"
        f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return result


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """A new venv with ovlite, ovlite-cpu and the template installed from wheels, and pytest.

    Sources are copied first so that building leaves nothing in the repository; the venv
    (a few hundred MB) is removed after the module's tests.
    """
    work = tmp_path_factory.mktemp("template-venv")
    sources = work / "src"
    (sources / "ovlite").mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, sources / "ovlite" / name)
    shutil.copytree(ROOT / "ovlite", sources / "ovlite" / "ovlite", ignore=BUILD_LITTER)
    shutil.copytree(
        ROOT / "plugins" / "ovlite-cpu",
        sources / "ovlite-cpu",
        ignore=shutil.ignore_patterns("tests", "benchmarks", "build", "*.egg-info", "__pycache__"),
    )
    shutil.copytree(TEMPLATE, sources / "reference-plugin", ignore=BUILD_LITTER)

    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    wheels = work / "wheels"
    run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels)]
        + [str(sources / name) for name in ("ovlite", "ovlite-cpu", "reference-plugin")]
    )

    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "OVLITE_PLUGINS")
    }
    venv = work / "venv"
    run([sys.executable, "-m", "venv", str(venv)], env=env)
    python = venv / "bin" / "python"
    run(
        [str(python), "-m", "pip", "--disable-pip-version-check", "-q", "install"]
        + sorted(str(wheel) for wheel in wheels.glob("*.whl"))
        + ["pytest"],
        env=env,
        timeout=900,
    )
    yield venv, env
    shutil.rmtree(work, ignore_errors=True)


def test_installed_template_is_listed_by_ovlite_devices(
    fresh_venv: tuple[Path, dict[str, str]],
) -> None:
    venv, env = fresh_venv
    listed = json.loads(run([str(venv / "bin" / "ovlite"), "devices", "--json"], env=env).stdout)
    rows = {row["device"]: row for row in listed}
    assert rows["REFERENCE"]["available"], rows["REFERENCE"]["reason"]
    assert rows["REFERENCE"]["package"] == "ovlite-reference"
    assert rows["REFERENCE"]["priority"] < 0
    assert rows["CPU"]["available"], rows["CPU"]["reason"]
    plugins = json.loads(run([str(venv / "bin" / "ovlite"), "plugins", "--json"], env=env).stdout)
    assert plugins["failures"] == []


def test_installed_template_works_in_multi_beside_cpu(
    fresh_venv: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    venv, env = fresh_venv
    found = json.loads(
        run([str(venv / "bin" / "python"), "-c", MULTI_PROGRAM], env=env, cwd=tmp_path).stdout
    )
    assert found["children"] == ["CPU", "REFERENCE"]
    assert found["count"] == 40
    assert "REFERENCE" in found["ran_on"]  # the first child in the string takes the first job
    assert set(found["ran_on"]) <= {"REFERENCE", "CPU"}
    assert found["worst"] < 1e-4


def test_installed_template_passes_its_own_tests(
    fresh_venv: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    venv, env = fresh_venv
    # only the tests are copied, so they import the installed package, not the source folder
    shutil.copytree(TEMPLATE / "tests", tmp_path / "tests", ignore=BUILD_LITTER)
    pytest_passes(venv, env, tmp_path)


def pytest_passes(venv: Path, env: dict[str, str], cwd: Path, *args: str) -> str:
    """Run pytest with the venv's Python in ``cwd``; assert that it passed; its output."""
    command = [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider"]
    output = run([*command, *args], env=env, cwd=cwd, timeout=600).stdout
    summary = output.strip().splitlines()[-1]
    assert "passed" in summary and "failed" not in summary and "error" not in summary, output
    return output


def guide_files() -> dict[str, str]:
    """The files of the guide's worked example: code blocks starting ``# file: PATH``."""
    blocks = re.findall(r"```\w*\n# file: (\S+)\n(.*?)```", GUIDE.read_text(), re.S)
    return dict(blocks)


def test_the_guides_worked_example_works(
    fresh_venv: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    venv, env = fresh_venv
    files = guide_files()
    assert "ovlite-mydevice/pyproject.toml" in files, sorted(files)
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    project = tmp_path / "ovlite-mydevice"
    python, ovlite_command = str(venv / "bin" / "python"), str(venv / "bin" / "ovlite")
    pip = [python, "-m", "pip", "--disable-pip-version-check", "-q"]
    run([*pip, "install", "-e", "."], env=env, cwd=project, timeout=600)
    try:
        listed = json.loads(run([ovlite_command, "devices", "--json"], env=env).stdout)
        rows = {row["device"]: row for row in listed}
        assert rows["MYDEV"]["available"] and rows["MYDEV"]["package"] == "ovlite-mydevice"

        tests = pytest_passes(venv, env, project, "tests")
        assert "MYDEV does not claim profiling" in tests, tests

        claims = "cancellation,throughput_streams,dynamic_shapes"  # as the guide's step 4
        command = [ovlite_command, "conformance", "MYDEV", "--claims", claims, "--json", "-"]
        report = json.loads(run(command, env=env).stdout)
        assert report["ok"] and report["package"] == "ovlite-mydevice", report
        assert report["summary"]["passed"] > 50, report["summary"]

        counts = run([python, "try_multi.py"], env=env, cwd=project).stdout
        assert "'MYDEV':" in counts, counts

        run([*pip, "wheel", "--no-deps", "-w", "dist", "."], env=env, cwd=project, timeout=600)
        assert list((project / "dist").glob("ovlite_mydevice-0.1.0-*.whl"))
    finally:
        run([*pip, "uninstall", "-y", "ovlite-mydevice"], env=env)


def test_new_plugin_passes_conformance_as_generated(
    fresh_venv: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """``ovlite new-plugin``, ``pip install -e .``, ``pytest tests``: nothing edited."""
    venv, env = fresh_venv
    project = tmp_path / "ovlite-scaffolded"
    ovlite_command = str(venv / "bin" / "ovlite")
    run([ovlite_command, "new-plugin", "scaffolded", "--dir", str(project)], env=env)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    run([*pip, "install", "-e", "."], env=env, cwd=project, timeout=600)
    try:
        listed = json.loads(run([ovlite_command, "devices", "--json"], env=env).stdout)
        rows = {row["device"]: row for row in listed}
        assert rows["SCAFFOLDED"]["available"], rows["SCAFFOLDED"]["reason"]
        assert rows["SCAFFOLDED"]["package"] == "ovlite-scaffolded"
        tests = pytest_passes(venv, env, project, "tests")
        assert "SCAFFOLDED does not claim profiling" in tests, tests
    finally:
        run([*pip, "uninstall", "-y", "ovlite-scaffolded"], env=env)
