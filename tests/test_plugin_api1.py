"""A plugin written for plugin API 1 still loads, with a warning that says what to change.

``tests/plugin_api1/ovlite_reference_v1`` is the reference plugin as it was on API 1
(``OVLITE_PLUGIN_API = 1``, a compiled model subclassing ``ovlite.CompiledModel`` that sets
``self._executor``, ``config_keys`` with the defaults in ``device_properties``).  It is loaded
in-process with ``core.register_plugin`` and through a real entry point, runs inferences that
match the onnx reference evaluator, and passes the conformance suite.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pytest

import ovlite as ov
import ovlite.properties as props
from ovlite import models
from ovlite.testing.conformance import PluginConformance

V1_DIR = Path(__file__).resolve().parent / "plugin_api1"
MODULE = "ovlite_reference_v1"


def load_v1() -> tuple[types.ModuleType, list[str]]:
    """Import the API 1 plugin from its folder; the warnings its import gave (first time)."""
    loaded = sys.modules.get(MODULE)
    if loaded is not None:
        return loaded, []
    package = V1_DIR / MODULE
    spec = importlib.util.spec_from_file_location(
        MODULE, package / "__init__.py", submodule_search_locations=[str(package)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE] = module
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        spec.loader.exec_module(module)
    return module, [str(w.message) for w in caught if w.category is DeprecationWarning]


def register_v1(core: ov.Core) -> list[str]:
    """Register the API 1 plugin on ``core``; the DeprecationWarnings registering gave."""
    module, _ = load_v1()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        core.register_plugin(module, name="reference-v1")
    return [
        str(w.message)
        for w in caught
        if w.category is DeprecationWarning and "reference-v1" in str(w.message)
    ]


def test_importing_an_api1_compiled_model_warns_what_to_subclass() -> None:
    if MODULE in sys.modules:  # imported by another test first: import a second copy
        del sys.modules[MODULE]
        for name in [n for n in sys.modules if n.startswith(MODULE + ".")]:
            del sys.modules[name]
    _, messages = load_v1()
    assert any(
        "ReferenceCompiledModel subclasses ovlite.CompiledModel" in m
        and "ovlite.plugin.CompiledModel" in m
        for m in messages
    ), messages


def test_registering_an_api1_plugin_warns_naming_what_to_change() -> None:
    core = ov.Core()
    messages = register_v1(core)
    assert len(messages) == 1, messages
    message = messages[0]
    assert "declares plugin API 1" in message
    assert f"plugin API {ov.PLUGIN_API_VERSION} is current" in message
    for change in ("ovlite.plugin", "Setting(", "OVLITE_PLUGIN_API = 2", "_executor"):
        assert change in message, (change, message)
    assert "REFERENCE" in core.available_devices
    assert core.plugin_failures == []


def test_an_api1_plugin_runs_inferences_correctly() -> None:
    from onnx.reference import ReferenceEvaluator

    core = ov.Core()
    register_v1(core)
    proto = models.tiny_mlp(batch=None)
    oracle = ReferenceEvaluator(proto)
    x = np.random.default_rng(0).standard_normal((3, 16)).astype(np.float32)
    expected = oracle.run(None, {"x": x})[0]

    compiled = core.compile_model(proto, "REFERENCE", {"PERFORMANCE_HINT": "THROUGHPUT"})
    np.testing.assert_allclose(compiled(x)[0], expected, rtol=1e-5, atol=1e-6)
    queue = ov.AsyncInferQueue(compiled)
    results: dict[int, np.ndarray] = {}
    queue.set_callback(lambda request, i: results.__setitem__(i, request.results[0].copy()))
    for i in range(6):
        queue.start_async({"x": x * i}, userdata=i)
    queue.wait_all()
    for i in range(6):
        np.testing.assert_allclose(
            results[i], oracle.run(None, {"x": x * i})[0], rtol=1e-5, atol=1e-6
        )
    # its settings (config_keys, defaults from device_properties) still work as before
    assert core.get_property("REFERENCE", props.streams.num) == 1
    assert compiled.get_property(props.streams.num) == 2
    with pytest.raises(ov.PropertyValueError, match="f16"):
        core.compile_model(proto, "REFERENCE", {"INFERENCE_PRECISION_HINT": "f16"})
    with pytest.raises(ov.UnknownPropertyError, match="NUM_STREAMZ"):
        core.compile_model(proto, "REFERENCE", {"NUM_STREAMZ": 2})


class TestApi1ReferenceConformance(PluginConformance):
    device = "REFERENCE"
    supports_cancellation = True
    supports_profiling = True
    supports_throughput_streams = True
    supports_dynamic_shapes = True

    @pytest.fixture
    def core(self) -> ov.Core:
        core = ov.Core()
        register_v1(core)
        return core


# ---- through a real entry point --------------------------------------------------------------

ENTRY_POINT_PROGRAM = """
import json, warnings
import numpy as np
import ovlite
from ovlite import models

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    core = ovlite.Core()
    devices = core.available_devices
x = np.ones((2, 16), np.float32)
outputs = core.compile_model(models.tiny_mlp(batch=None), "REFERENCE")(x)
print(json.dumps({
    "devices": devices,
    "failures": [f.error for f in core.plugin_failures],
    "plugins": [[p.name, p.package, p.api_version] for p in core.plugins],
    "warnings": [str(w.message) for w in caught if w.category is DeprecationWarning],
    "output": outputs[0].tolist(),
}))
"""


def test_an_api1_plugin_loads_through_its_entry_point(tmp_path: Path) -> None:
    """Installed as a distribution (a dist-info with an ``ovlite`` entry point)."""
    site = tmp_path / "site"
    site.mkdir()
    info = site / "ovlite_reference_v1-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: ovlite-reference-v1\nVersion: 0.1.0\n"
    )
    (info / "entry_points.txt").write_text(f"[ovlite]\nreference-v1 = {MODULE}\n")
    path = os.pathsep.join([str(site), str(V1_DIR)])
    env = {**os.environ, "PYTHONPATH": path, "OVLITE_PLUGINS": "reference-v1"}
    result = subprocess.run(
        [sys.executable, "-c", ENTRY_POINT_PROGRAM],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert "REFERENCE" in found["devices"], found
    assert found["failures"] == []
    assert ["reference-v1", "ovlite-reference-v1", 1] in found["plugins"], found["plugins"]
    assert any(
        "reference-v1 (ovlite-reference-v1) declares plugin API 1" in m
        and "OVLITE_PLUGIN_API = 2" in m
        for m in found["warnings"]
    ), found["warnings"]
    from onnx.reference import ReferenceEvaluator

    expected = ReferenceEvaluator(models.tiny_mlp(batch=None)).run(
        None, {"x": np.ones((2, 16), np.float32)}
    )[0]
    np.testing.assert_allclose(found["output"], expected, rtol=1e-5, atol=1e-6)
