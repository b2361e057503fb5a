"""Importing ovlite stays light: heavy packages load when a model is read or a device used."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("onnx", "onnxruntime", "openvino", "ray", "matplotlib")


def modules_after(statement: str) -> list[str]:
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_import_ovlite_loads_no_heavy_package() -> None:
    loaded = modules_after("import ovlite, ovlite.properties")
    assert [name for name in HEAVY if name in loaded] == []


def test_the_command_line_module_loads_no_heavy_package() -> None:
    loaded = modules_after("import ovlite.cli")
    assert [name for name in HEAVY if name in loaded] == []


def test_reading_a_model_loads_onnx_then() -> None:
    loaded = modules_after(
        "import ovlite\nfrom ovlite import models\novlite.read_model(models.tiny_mlp())"
    )
    assert "onnx" in loaded and "onnxruntime" not in loaded
