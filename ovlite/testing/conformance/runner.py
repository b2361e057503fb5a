"""Run the conformance suite on an installed device and summarize it: ``ovlite conformance``.

:func:`run_conformance` writes a one-class test module for the device (``PluginConformance``
with the claims set), runs it with pytest in this process and returns a
:class:`ConformanceReport`: the device, the package and version that provide it, and each
test's outcome with its reason.  pytest's progress goes to stderr, so that stdout carries
only the summary (or the JSON).
"""

from __future__ import annotations

import contextlib
import difflib
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

import ovlite as ov
from ovlite import ArgumentError

from .base import CLAIMS

OUTCOMES = ("passed", "failed", "skipped")
_MODULE = "test_conformance.py"
_CLASS = "TestConformance"


@dataclass
class ConformanceTestResult:
    """One test of the suite: its name (with its case id), area, outcome and reason."""

    name: str
    area: str
    outcome: str  # "passed", "failed" or "skipped"
    reason: str | None = None  # why it failed or was skipped


@dataclass
class ConformanceReport:
    """What ``ovlite conformance`` found; :meth:`to_json` is the ``--json`` document."""

    device: str
    package: str | None
    version: str | None
    claims: list[str]
    tests: list[ConformanceTestResult] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(test.outcome for test in self.tests)
        return {outcome: counted[outcome] for outcome in OUTCOMES}

    @property
    def ok(self) -> bool:
        """True when tests ran and none failed."""
        return bool(self.tests) and not self.counts["failed"]

    def to_json(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "package": self.package,
            "version": self.version,
            "ovlite": ov.__version__,
            "claims": self.claims,
            "ok": self.ok,
            "summary": self.counts,
            "tests": [asdict(test) for test in self.tests],
        }

    def describe(self) -> str:
        """A readable summary: counts by area, then each failure and skip with its reason."""
        source = f"{self.package} {self.version}" if self.package else "no installed package"
        claims = ", ".join(self.claims) or "none"
        lines = [f"conformance of {self.device} ({source}); claims: {claims}"]
        for area in dict.fromkeys(test.area for test in self.tests):
            counted = Counter(test.outcome for test in self.tests if test.area == area)
            parts = ", ".join(f"{counted[o]} {o}" for o in OUTCOMES if counted[o])
            lines.append(f"  {area:14} {parts}")
        for outcome in ("failed", "skipped"):
            for test in self.tests:
                if test.outcome == outcome:
                    reason = (test.reason or "").strip().replace("\n", "\n      ")
                    lines.append(f"{outcome.upper()} {test.name} ({test.area}): {reason}")
        counts = self.counts
        lines.append(", ".join(f"{counts[o]} {o}" for o in OUTCOMES))
        return "\n".join(lines)


def parse_claims(values: Iterable[str]) -> list[str]:
    """``["cancellation,profiling", "dynamic-shapes"]`` -> claim names; ``all`` is every claim.

    Raises :class:`ovlite.ArgumentError` for a name that is not one of :data:`CLAIMS`.
    """
    claims: list[str] = []
    for value in values:
        for part in value.split(","):
            name = part.strip().lower().replace("-", "_").removeprefix("supports_")
            if not name:
                continue
            if name == "all":
                claims.extend(CLAIMS)
                continue
            if name not in CLAIMS:
                close = difflib.get_close_matches(name, CLAIMS, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ArgumentError(
                    f"unknown claim {part.strip()!r}{hint}; claims: {', '.join(CLAIMS)}, all"
                )
            claims.append(name)
    return list(dict.fromkeys(claims))


def suite_module(device: str, claims: Sequence[str]) -> str:
    """The source of a test module running the whole suite on ``device`` with ``claims``."""
    lines = [
        "from ovlite.testing.conformance import PluginConformance",
        "",
        "",
        f"class {_CLASS}(PluginConformance):",
        f"    device = {device!r}",
    ]
    lines.extend(f"    supports_{claim} = True" for claim in claims)
    return "\n".join(lines) + "\n"


def run_conformance(
    device: str, claims: Sequence[str] = (), select: str | None = None
) -> ConformanceReport:
    """Run :class:`PluginConformance` on the installed ``device`` with pytest, in-process.

    ``claims`` are :data:`CLAIMS` names set to True; ``select`` is a ``pytest -k`` expression.
    Raises :class:`ovlite.OvliteError` when pytest cannot run the suite at all.
    """
    spec = ov.parse_device(device)  # a bad device string is refused before pytest starts
    installed = ov.Core().devices().get(spec.name)
    report = ConformanceReport(
        str(spec),
        installed.package if installed else None,
        installed.version if installed else None,
        list(claims),
    )
    collector = _Collector()
    with tempfile.TemporaryDirectory(prefix="ovlite-conformance-") as folder:
        (Path(folder) / "pytest.ini").write_text("[pytest]\n")  # no project settings apply
        module = Path(folder) / _MODULE
        module.write_text(suite_module(str(spec), claims))
        args = [str(module), "-q", "-p", "no:cacheprovider", "--rootdir", folder]
        args += ["-c", str(Path(folder) / "pytest.ini"), "--import-mode=importlib"]
        if select:
            args += ["-k", select]
        try:
            with contextlib.redirect_stdout(sys.stderr):
                code = pytest.main(args, plugins=[collector])
        finally:  # pytest keeps imported test modules: the next run's module has the same name
            for name, loaded in list(sys.modules.items()):
                if str(getattr(loaded, "__file__", "") or "").startswith(folder):
                    del sys.modules[name]
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        if code == pytest.ExitCode.NO_TESTS_COLLECTED and select:
            raise ArgumentError(f"-k {select!r} selects none of the conformance tests")
        raise ov.OvliteError(f"pytest could not run the conformance suite (exit code {code})")
    report.tests = collector.outcomes()
    return report


class _Collector:
    """A pytest plugin that keeps each test's final outcome, area and reason."""

    def __init__(self) -> None:
        self.areas: dict[str, str] = {}
        self.results: dict[str, ConformanceTestResult] = {}

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            self.areas[item.nodeid] = _area(item)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        name = report.nodeid.rsplit("::", 1)[-1]
        area = self.areas.get(report.nodeid, "")
        known = self.results.get(report.nodeid)
        if known is not None and known.outcome != "passed":
            return  # the first failure or skip of a test is its outcome (not its teardown's)
        if report.failed:
            self.results[report.nodeid] = ConformanceTestResult(
                name, area, "failed", _reason(report)
            )
        elif report.skipped:
            self.results[report.nodeid] = ConformanceTestResult(
                name, area, "skipped", _reason(report)
            )
        elif report.when == "call":
            self.results[report.nodeid] = ConformanceTestResult(name, area, "passed")

    def outcomes(self) -> list[ConformanceTestResult]:
        return list(self.results.values())


def _area(item: pytest.Item) -> str:
    """The suite module that defines the test: ``properties``, ``jobs``, ``base`` ..."""
    name = getattr(item, "originalname", item.name)
    cls = getattr(item, "cls", None)
    for owner in cls.__mro__ if cls is not None else ():
        if name in vars(owner):
            return owner.__module__.rsplit(".", 1)[-1]
    return ""


def _reason(report: pytest.TestReport) -> str:
    if hasattr(report, "wasxfail"):
        return f"expected to fail: {report.wasxfail}"
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):  # a skip: (path, line, "Skipped: reason")
        return str(longrepr[2]).removeprefix("Skipped: ")
    crash = getattr(longrepr, "reprcrash", None)
    message = getattr(crash, "message", None) if crash is not None else None
    return (message or str(longrepr)).removeprefix("Failed: ")
