"""Is the installed ONNX Runtime a GPU flavour, and is it whole?

The GPU flavours of ONNX Runtime (``onnxruntime-gpu``, ``onnxruntime-migraphx``,
``onnxruntime-directml``) install the same ``onnxruntime/`` package folder as plain
``onnxruntime``, which ``ovlite-cpu`` requires.  pip does not know they conflict: whichever
was installed last owns the folder.  :func:`diagnose` is a pure function of what is installed,
so tests feed it recorded cases; :func:`inspect_install` reads the live install (through the
core's :mod:`ovlite.onnxruntime_install`, which reads package metadata).  The fixes name
``python -m ovlite.onnxruntime_install use <flavour>``, which uninstalls every flavour and
installs the one named.

- *clobbered* (an error): a GPU flavour is installed but the module does not offer its
  provider, because a CPU flavour was installed over it;
- *mismatched* (an error): the module's version is not the GPU flavour's version (files of
  two releases mixed);
- *shared* (a note): a GPU flavour and plain ``onnxruntime`` are both installed and the GPU
  one owns the module: it works, but uninstalling either deletes files the other needs.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ovlite.plugin import canonical_name as canonical
from ovlite.plugin import same_version

from .backends import BACKENDS


@dataclass
class InstallDiagnosis:
    """Errors make the GPU unavailable; notes are shown beside an available GPU."""

    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


GPU_FLAVOURS = {canonical(b.flavour): b for b in BACKENDS if b.flavour != "onnxruntime"}


def diagnose(
    installed: Mapping[str, str], module_version: str, providers: Sequence[str]
) -> InstallDiagnosis:
    """``installed``: ``{distribution name: version}`` of the ONNX Runtime flavours;
    ``module_version``: ``onnxruntime.__version__``; ``providers``: what the module offers."""
    result = InstallDiagnosis()
    flavours = {canonical(name): version for name, version in installed.items()}
    python = sys.executable
    for name, version in flavours.items():
        backend = GPU_FLAVOURS.get(name)
        if backend is None:
            continue
        fix = f"{python} -m ovlite.onnxruntime_install use {name}=={version}"
        if backend.provider not in providers:
            others = ", ".join(f"{n} {v}" for n, v in flavours.items() if n != name) or "none"
            result.errors.append(
                f"{name} {version} is installed but the onnxruntime module offers no "
                f"{backend.provider} ({', '.join(providers)}): another flavour installed after "
                f"it ({others}) overwrote its files; fix: {fix}"
            )
        elif not same_version(version, module_version):
            result.errors.append(
                f"{name} {version} is installed but the onnxruntime module is version "
                f"{module_version}: the files of two releases are mixed; fix: {fix}"
            )
        elif len(flavours) > 1:
            result.notes.append(
                f"{name} shares the onnxruntime folder with "
                f"{', '.join(n for n in flavours if n != name)}; it works, but uninstalling "
                f"either breaks the other (to keep one: {fix})"
            )
    return result


def installed_flavours() -> dict[str, str]:
    """``{distribution: version}`` of every installed distribution that ships ``onnxruntime/``
    (read by the core's :mod:`ovlite.onnxruntime_install`, from package metadata)."""
    from ovlite.plugin import inspect_onnxruntime_install

    return {flavour.name: flavour.version for flavour in inspect_onnxruntime_install().flavours}


def inspect_install(module_version: str, providers: Sequence[str]) -> InstallDiagnosis:
    """:func:`diagnose` on this environment."""
    return diagnose(installed_flavours(), module_version, providers)


__all__ = ["InstallDiagnosis", "diagnose", "inspect_install", "installed_flavours"]
