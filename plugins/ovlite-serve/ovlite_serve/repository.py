"""Which models to serve: ``-m NAME=PATH`` flags and a model repository folder.

A repository folder holds, for each model, either ``NAME.onnx`` or Triton's and OpenVINO
Model Server's layout ``NAME/<version>/model.onnx`` (any one ``.onnx`` file in the version
folder); the highest numeric version is served.  ``NAME/config.pbtxt`` beside the version
folders is the model's Triton configuration (see ``model_config.py``; ``--model-config
NAME=FILE`` gives one to any model).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .model import DEFAULT_VERSION


class ModelSourceError(ValueError):
    """A model flag or repository folder that names no usable model file."""


@dataclass(frozen=True)
class ModelSource:
    """One model to serve: its name, ONNX file, version and Triton config file, if any."""

    name: str
    path: str
    version: str = DEFAULT_VERSION
    config: str | None = None


def from_flags(values: Sequence[str]) -> list[ModelSource]:
    """``["a=x.onnx", "y.onnx"]`` -> models ``a`` and ``y`` (named after the file)."""
    sources = []
    for value in values:
        name, sep, path = value.partition("=")
        if not sep:
            name, path = Path(value).stem, value
        if not name or not path:
            raise ModelSourceError(f"-m {value!r} is not NAME=PATH")
        if not Path(path).is_file():
            raise ModelSourceError(f"model {name!r}: no file {path!r}")
        sources.append(ModelSource(name, path))
    return sources


def from_repository(folder: str) -> list[ModelSource]:
    """Every model in a repository folder (see the module's docstring)."""
    root = Path(folder)
    if not root.is_dir():
        raise ModelSourceError(f"no model repository folder {folder!r}")
    sources = [ModelSource(p.stem, str(p)) for p in sorted(root.glob("*.onnx"))]
    for model_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        versions = sorted((int(v.name), v) for v in model_dir.iterdir() if v.name.isdigit())
        for number, version_dir in reversed(versions):
            files = sorted(version_dir.glob("*.onnx"))
            if len(files) > 1:
                raise ModelSourceError(f"{version_dir} holds several .onnx files: {files}")
            if files:
                triton_config = model_dir / "config.pbtxt"
                config = str(triton_config) if triton_config.is_file() else None
                sources.append(ModelSource(model_dir.name, str(files[0]), str(number), config))
                break
        else:
            raise ModelSourceError(f"{model_dir} has no <version>/model.onnx")
    return sources


def collect(
    flags: Sequence[str], repository: str | None, model_configs: Sequence[str] = ()
) -> list[ModelSource]:
    """The models of the flags and the repository folder, each name once, with the config
    files of ``--model-config NAME=FILE`` (which take the place of a repository's)."""
    sources = from_flags(flags) + (from_repository(repository) if repository else [])
    if not sources:
        raise ModelSourceError("no models: give -m NAME=PATH or --model-repository DIR")
    seen: set[str] = set()
    for source in sources:
        if source.name in seen:
            raise ModelSourceError(f"model name {source.name!r} is given twice")
        seen.add(source.name)
    configs = {}
    for value in model_configs:
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            raise ModelSourceError(f"--model-config {value!r} is not NAME=FILE")
        if name not in seen:
            raise ModelSourceError(
                f"--model-config {value!r}: no model {name!r}; served: {sorted(seen)}"
            )
        if not Path(path).is_file():
            raise ModelSourceError(f"--model-config {value!r}: no file {path!r}")
        configs[name] = path
    return [replace(s, config=configs.get(s.name, s.config)) for s in sources]
