"""Which ONNX Runtime is installed, and is it whole?  Answered from package metadata alone.

ONNX Runtime comes in flavours (``onnxruntime``, ``onnxruntime-openvino``,
``onnxruntime-gpu``, ...) that are separate pip distributions all installing the same
``onnxruntime/`` package folder.  pip does not know they conflict: installing a second
flavour writes over the first one's files, and uninstalling either then deletes files the
other needs.  This module reads the installed distributions' metadata (never importing
``onnxruntime``) and says which flavours are installed, which one the importable module
belongs to, and what is wrong, with the commands that fix it::

    from ovlite import onnxruntime_install
    report = onnxruntime_install.inspect()
    if not report.ok:
        print(report.describe())          # the problems and the fix commands

From the command line: ``python -m ovlite.onnxruntime_install`` prints the report;
``python -m ovlite.onnxruntime_install use onnxruntime-openvino`` removes every installed
flavour and installs the one named, so exactly one is left (``--dry-run`` prints the pip
commands instead).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import shlex
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: The import name every flavour installs.
MODULE = "onnxruntime"
#: Execution providers each known flavour adds to the CPU provider (for messages only).
KNOWN_FLAVOURS = {
    "onnxruntime": "CPU",
    "onnxruntime-openvino": "OpenVINO",
    "onnxruntime-gpu": "CUDA, TensorRT",
    "onnxruntime-directml": "DirectML",
    "onnxruntime-qnn": "QNN",
    "onnxruntime-rocm": "ROCm",
    "onnxruntime-migraphx": "MIGraphX",
    "onnxruntime-training": "CPU (training)",
}
_VERSION_LINE = re.compile(r"""^__version__\s*=\s*["']([^"']+)["']""", re.MULTILINE)


@dataclass(frozen=True)
class Flavour:
    """One installed distribution that ships the ``onnxruntime`` package folder."""

    name: str
    version: str
    location: str
    #: Files its RECORD lists under ``onnxruntime/`` that are gone from disk.
    missing_files: tuple[str, ...] = ()
    #: How many files its RECORD lists under ``onnxruntime/``.
    file_count: int = 0


@dataclass
class InstallReport:
    """What :func:`inspect` found.  ``ok`` is true when exactly one flavour is installed,
    whole, and the importable module is that flavour's."""

    flavours: list[Flavour]
    #: The folder ``import onnxruntime`` would load (``None``: not importable).
    module_path: str | None
    #: ``__version__`` as written in that folder's ``__init__.py`` (``None``: unreadable).
    module_version: str | None
    #: The flavour whose files the module is, judged by version and RECORD (``None``: unknown).
    module_owner: str | None
    problems: list[str] = field(default_factory=list)
    #: Shell commands that leave one whole flavour (the importable one, or plain onnxruntime).
    fix: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def installed(self) -> list[str]:
        """``name==version`` of each installed flavour."""
        return [f"{f.name}=={f.version}" for f in self.flavours]

    def flavour(self, name: str) -> Flavour | None:
        """The installed flavour called ``name`` (any spelling pip accepts), or ``None``."""
        wanted = canonical_name(name)
        return next((f for f in self.flavours if canonical_name(f.name) == wanted), None)

    def describe(self) -> str:
        """A few lines for people: what is installed, what is wrong, how to fix it."""
        where = self.module_path or "not importable"
        owner = self.module_owner or "no known distribution"
        lines = [
            "ONNX Runtime: "
            + (", ".join(self.installed) or "no distribution installed")
            + f"; module {MODULE} {self.module_version or '?'} at {where} (from {owner})"
        ]
        lines += [f"problem: {problem}" for problem in self.problems]
        if self.fix:
            lines.append("fix: " + " && ".join(self.fix))
        return "\n".join(lines)


def canonical_name(name: str) -> str:
    """A distribution name as pip compares them (``ONNXRuntime_OpenVINO`` -> ``onnxruntime-openvino``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def inspect(paths: Sequence[str] | None = None, python: str | None = None) -> InstallReport:
    """Read the installed ONNX Runtime flavours from metadata on ``paths`` (``sys.path``).

    ``python`` is the interpreter named in the fix commands (``sys.executable``).
    """
    search = list(sys.path if paths is None else paths)
    flavours = _flavours(importlib.metadata.distributions(path=search))
    module_path = _module_folder(search)
    module_version = _module_version(module_path)
    owner = _owner(flavours, module_path, module_version)
    report = InstallReport(flavours, module_path, module_version, owner)
    report.problems = _problems(report)
    if report.problems:
        keep = owner or (flavours[0].name if len(flavours) == 1 else "onnxruntime")
        keep_flavour = report.flavour(keep)
        requirement = f"{keep}=={keep_flavour.version}" if keep_flavour else keep
        report.fix = use_commands(requirement, [f.name for f in flavours], python)
    return report


def use_commands(
    requirement: str, installed: Iterable[str] = (), python: str | None = None
) -> list[str]:
    """The pip commands that leave only the flavour ``requirement`` (``name`` or
    ``name==version``): uninstall every installed flavour (so no file of one is left
    overwritten by another), then install the one wanted afresh."""
    interpreter = shlex.quote(python or sys.executable)
    names = sorted({canonical_name(name) for name in installed})
    commands = []
    if names:
        commands.append(f"{interpreter} -m pip uninstall -y {' '.join(names)}")
    commands.append(f"{interpreter} -m pip install {shlex.quote(requirement)}")
    return commands


def use(requirement: str, dry_run: bool = False, python: str | None = None) -> list[str]:
    """Make ``requirement`` the only installed flavour; does nothing when it already is.

    Returns the commands run (or, with ``dry_run``, the ones that would run).
    """
    name = re.split(r"[=<>!~\[ ]", requirement, maxsplit=1)[0]
    report = inspect(python=python)
    current = report.flavour(name)
    pinned = requirement.split("==", 1)[1] if "==" in requirement else None
    if (
        report.ok
        and current is not None
        and report.module_owner == current.name
        and (pinned is None or pinned == current.version)
    ):
        return []
    commands = use_commands(requirement, [f.name for f in report.flavours], python)
    if not dry_run:
        for command in commands:
            subprocess.run(shlex.split(command), check=True)
    return commands


# ---- reading metadata -------------------------------------------------------------------------


def _flavours(distributions: Iterable[importlib.metadata.Distribution]) -> list[Flavour]:
    found: dict[str, Flavour] = {}
    for dist in distributions:
        name = dist.metadata.get("Name") or ""
        if not canonical_name(name).startswith(("onnxruntime", "ort-")):
            continue  # skip reading the RECORD of every unrelated package
        files = [f for f in (dist.files or []) if f.parts and f.parts[0] == MODULE]
        if not files:
            continue  # e.g. onnxruntime-ep-openvino: a plugin library beside the module
        location = str(dist.locate_file(""))
        missing = tuple(str(f) for f in files if not Path(dist.locate_file(f)).exists())
        key = canonical_name(name)
        if key not in found:  # the first on the path wins, as for imports
            found[key] = Flavour(name, dist.version, location, missing, len(files))
    return list(found.values())


def _module_folder(paths: Sequence[str]) -> str | None:
    for entry in paths:
        candidate = Path(entry or ".") / MODULE / "__init__.py"
        if candidate.is_file():
            return str(candidate.parent)
    return None


def _module_version(folder: str | None) -> str | None:
    if folder is None:
        return None
    try:
        text = (Path(folder) / "__init__.py").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    match = _VERSION_LINE.search(text)
    return match.group(1) if match else None


def _owner(flavours: list[Flavour], folder: str | None, version: str | None) -> str | None:
    if folder is None:
        return None
    site = str(Path(folder).parent)
    here = [f for f in flavours if str(Path(f.location)) == site] or flavours
    matching = [f for f in here if version is not None and same_version(f.version, version)]
    if len(matching) == 1:
        return matching[0].name
    if len(here) == 1 and version is None:
        return here[0].name
    return None


def same_version(distribution: str, module: str) -> bool:
    """Whether a distribution's version and its module's ``__version__`` agree; a local build
    suffix (``1.24.1+openvino``) is not a different version."""
    return distribution.split("+")[0] == module.split("+")[0]


def _problems(report: InstallReport) -> list[str]:
    problems = []
    flavours = report.flavours
    if not flavours and report.module_path is None:
        return ["no ONNX Runtime is installed"]
    if len(flavours) > 1:
        problems.append(
            f"{len(flavours)} ONNX Runtime flavours are installed ({', '.join(report.installed)}); "
            f"they share the folder {MODULE}/, so the last one installed overwrote the others' "
            f"files, and uninstalling any of them deletes files the rest need"
        )
    if report.module_path is None:
        problems.append(
            f"{', '.join(report.installed)} is installed but {MODULE} is not importable"
        )
    elif not flavours:
        problems.append(
            f"{MODULE} at {report.module_path} belongs to no installed distribution "
            f"(copied in by hand or left behind by an uninstall)"
        )
    elif report.module_owner is None:
        versions = ", ".join(report.installed)
        problems.append(
            f"the module's version {report.module_version or '(unreadable)'} matches no installed "
            f"distribution ({versions}): the files are a mix of flavours"
        )
    for flavour in flavours:
        if flavour.missing_files:
            shown = ", ".join(flavour.missing_files[:3])
            more = len(flavour.missing_files) - 3
            problems.append(
                f"{flavour.name} {flavour.version} is missing {len(flavour.missing_files)} of its "
                f"{flavour.file_count} files ({shown}{f' and {more} more' if more > 0 else ''}); "
                f"another flavour's uninstall probably deleted them"
            )
    return problems


# ---- command line -----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ovlite.onnxruntime_install",
        description="Report the installed ONNX Runtime flavours, or switch to one.",
    )
    commands = parser.add_subparsers(dest="command")
    switch = commands.add_parser("use", help="leave exactly one flavour installed")
    switch.add_argument("requirement", help="e.g. onnxruntime-openvino or onnxruntime==1.32.0")
    switch.add_argument("--dry-run", action="store_true", help="print the pip commands only")
    args = parser.parse_args(argv)
    if args.command == "use":
        ran = use(args.requirement, dry_run=args.dry_run)
        for command in ran:
            print(command)
        if not ran:
            print(f"{args.requirement} is already the one ONNX Runtime installed")
        return 0
    report = inspect()
    print(report.describe())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
