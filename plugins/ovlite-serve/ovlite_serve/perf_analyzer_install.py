"""Install Triton's perf_analyzer into this environment (``make install`` runs this).

    python -m ovlite_serve.perf_analyzer_install [--prefix DIR] [--force]

Why it takes work: the ``perf-analyzer`` wheels from 2.58 on, and ``tritonclient`` from 2.52
on, bundle a perf_analyzer built for glibc 2.38, so on older systems (Debian 12 has 2.36) pip
offers only the 0.1.0 placeholder.  The ``tritonclient==2.51.0`` wheel still bundles a binary
built for glibc <= 2.34.  It links two libraries such systems lack: ``libb64.so.0d`` (Debian
package ``libb64-0d``) and ``libcudart.so.12`` (PyPI wheel ``nvidia-cuda-runtime-cu12``; only
CUDA shared memory uses it).  This module fetches them with the ordinary clients (``pip
download``, ``apt-get download``), takes the binary and the two libraries out, and puts into
``<prefix>/perf_analyzer/`` (``prefix`` defaults to this venv)::

    perf_analyzer            the binary from tritonclient 2.51.0
    lib/libb64.so.0d         from libb64-0d; our own stand-in (libb64_shim.py) compiled with
                             cc when apt-get cannot fetch it
    lib/libcudart.so.12      from nvidia-cuda-runtime-cu12

and ``<prefix>/bin/perf_analyzer``, a wrapper that puts ``lib/`` on ``LD_LIBRARY_PATH``.  The
Python package ``tritonclient`` installed in the environment is left as it is.

It never fails the caller: it prints what it did, or why it could not, and exits 0 (1 with
``--strict``).  Tests that need perf_analyzer skip, saying why, when it is missing.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from . import libb64_shim
from .perf_analyzer import PerfAnalyzerMissing, installed_wrapper, version

TRITONCLIENT = "tritonclient==2.51.0"  # the last release whose perf_analyzer needs glibc <= 2.34
CUDA_RUNTIME = "nvidia-cuda-runtime-cu12==12.9.79"
LIBB64_DEB = "libb64-0d"
BINARY_MEMBER = "tritonclient-2.51.0.data/data/bin/perf_analyzer"
CUDART_MEMBER = "nvidia/cuda_runtime/lib/libcudart.so.12"

WRAPPER = """#!/bin/sh
# Written by `python -m ovlite_serve.perf_analyzer_install`: Triton's perf_analyzer from
# {package} with the libraries it links that this system lacks.
LD_LIBRARY_PATH="{lib}${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}}" exec "{binary}" "$@"
"""


class InstallError(RuntimeError):
    """One step of the installation failed; the message says which and why."""


def _run(args: list[str], cwd: Path) -> None:
    try:
        done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise InstallError(f"{' '.join(args)}: {error}") from None
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise InstallError(f"{' '.join(args)} exits {done.returncode}: {' / '.join(last)}")


def _from_wheel(requirement: str, member: str, target: Path, work: Path) -> None:
    """``pip download`` one wheel and copy one file out of it to ``target``."""
    folder = work / requirement.split("=")[0]
    folder.mkdir()
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
    _run([*pip, "--only-binary=:all:", "--dest", str(folder), requirement], work)
    wheels = list(folder.glob("*.whl"))
    if len(wheels) != 1:
        raise InstallError(f"pip download {requirement} gave {wheels}, not one wheel")
    with zipfile.ZipFile(wheels[0]) as wheel:
        if member not in wheel.namelist():
            raise InstallError(f"{wheels[0].name} has no {member}")
        with wheel.open(member) as source, target.open("wb") as sink:
            shutil.copyfileobj(source, sink)


def _libb64_from_debian(target: Path, work: Path) -> None:
    """``apt-get download libb64-0d`` (after ``apt-get update`` when the lists lack it and we
    may update them) and take ``libb64.so.0d`` out of the package."""
    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        raise InstallError("no apt-get/dpkg-deb (not a Debian-based system)")
    folder = work / "deb"
    folder.mkdir()
    try:
        _run(["apt-get", "download", LIBB64_DEB], folder)
    except InstallError as first:
        if os.geteuid() != 0:
            raise InstallError(f"{first} (apt-get update needs root)") from None
        _run(["apt-get", "update", "-qq"], folder)
        _run(["apt-get", "download", LIBB64_DEB], folder)
    packages = list(folder.glob(f"{LIBB64_DEB}_*.deb"))
    if len(packages) != 1:
        raise InstallError(f"apt-get download {LIBB64_DEB} gave {packages}, not one package")
    tree = folder / "tree"
    _run(["dpkg-deb", "-x", str(packages[0]), str(tree)], folder)
    found = sorted(tree.rglob(libb64_shim.SONAME))
    if not found:
        raise InstallError(f"{packages[0].name} holds no {libb64_shim.SONAME}")
    shutil.copyfile(found[0].resolve(), target)


def _libb64(target: Path, work: Path) -> str:
    """libb64 from Debian, else our own stand-in compiled here; says which."""
    try:
        _libb64_from_debian(target, work)
        return f"{LIBB64_DEB} (apt-get download)"
    except InstallError as debian:
        try:
            built = libb64_shim.build(work / "shim")
        except RuntimeError as shim:
            raise InstallError(f"libb64: {debian}; no stand-in either: {shim}") from None
        shutil.copyfile(built, target)
        return f"ovlite's libb64 stand-in, compiled here ({LIBB64_DEB}: {debian})"


def install(prefix: Path, force: bool = False) -> str:
    """Install perf_analyzer under ``prefix``; returns its version line.  InstallError says
    which step failed and why."""
    wrapper = installed_wrapper(str(prefix))
    if wrapper.exists() and not force:
        try:
            return f"already installed: {version(str(wrapper))}"
        except PerfAnalyzerMissing as broken:
            print(f"reinstalling: {broken}")
    if platform.system() != "Linux" or platform.machine() != "x86_64":
        raise InstallError(
            f"the bundled perf_analyzer is for Linux x86_64, not {platform.system()} {platform.machine()}"
        )
    home = prefix / "perf_analyzer"
    with tempfile.TemporaryDirectory(prefix="perf-analyzer-") as scratch:
        work = Path(scratch)
        staging = work / "staging"
        (staging / "lib").mkdir(parents=True)
        binary = staging / "perf_analyzer"
        _from_wheel(TRITONCLIENT, BINARY_MEMBER, binary, work)
        binary.chmod(0o755)
        _from_wheel(CUDA_RUNTIME, CUDART_MEMBER, staging / "lib" / "libcudart.so.12", work)
        libb64_origin = _libb64(staging / "lib" / libb64_shim.SONAME, work)
        shutil.rmtree(home, ignore_errors=True)
        shutil.copytree(staging, home)
    wrapper.parent.mkdir(parents=True, exist_ok=True)
    wrapper.write_text(
        WRAPPER.format(package=TRITONCLIENT, lib=home / "lib", binary=home / "perf_analyzer")
    )
    wrapper.chmod(0o755)
    try:
        line = version(str(wrapper))
    except PerfAnalyzerMissing as error:
        raise InstallError(f"installed, but it does not run: {error}") from None
    return f"{line} at {wrapper}; libb64 from {libb64_origin}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ovlite_serve.perf_analyzer_install",
        description="Install Triton's perf_analyzer (from tritonclient 2.51.0) into this venv.",
    )
    parser.add_argument("--prefix", type=Path, default=Path(sys.prefix), help="(this venv)")
    parser.add_argument("--force", action="store_true", help="reinstall even if it runs")
    parser.add_argument("--strict", action="store_true", help="exit 1 when it cannot install")
    args = parser.parse_args(argv)
    try:
        print(f"perf_analyzer: {install(args.prefix.resolve(), args.force)}")
        return 0
    except InstallError as error:
        print(f"perf_analyzer not installed (tests that need it will skip): {error}")
        return 1 if args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
