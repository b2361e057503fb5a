"""One clear failure when the plugin under test is refused or absent.

When a device named by the class (``device``, and every device inside a meta device string)
has no plugin here, or cannot run here, one test fails with the registry's account of why
(``ovlite.Core().plugin_failures``: an import error, a plugin API mismatch) and every other
test of the class is skipped with a pointer to that failure.
"""

from __future__ import annotations

from typing import Any

import pytest

import ovlite as ov

#: The test that reports a missing or refused plugin (every conformance class has it).
PRESENCE_TEST = "test_the_plugin_loads_and_provides_the_device"

# By conformance class: why its device cannot be tested (None: it can), found once per process.
_verdicts: dict[type, str | None] = {}
# By conformance class: the test that reported the failure when PRESENCE_TEST was not selected.
_reporters: dict[type, str] = {}


def device_families(device: str) -> list[str]:
    """Every device family a device string names: ``MULTI:GPU,CPU`` -> MULTI, GPU, CPU."""
    families: list[str] = []
    pending = [ov.parse_device(device)]
    while pending:
        spec = pending.pop(0)
        if spec.name not in families:
            families.append(spec.name)
        pending.extend(spec.children or ())
    return families


def why_untestable(core: ov.Core, device: str) -> str | None:
    """Why ``device`` cannot be tested on ``core`` (a missing, refused or unavailable plugin's
    device), with the registry's plugin failures; ``None`` when it can be tested."""
    installed = core.devices()
    problems = []
    for family in device_families(device):
        if family not in installed:
            try:
                core.get_versions(family)  # the registry's own message, with an install hint
                problems.append(f"no installed plugin provides {family}")
            except ov.OvliteError as error:
                problems.append(str(error))
            continue
        availability = installed[family].availability()
        if not availability.available:
            problems.append(f"{family} is installed but cannot run here: {availability.reason}")
    if not problems:
        return None
    failures = core.plugin_failures
    lines = [f"{device} cannot be tested: " + "; ".join(problems)]
    if failures:
        lines.append("plugins that failed to load (ovlite.Core().plugin_failures):")
        lines.extend(f"  {f.name} ({f.package}): {f.error}" for f in failures)
    else:
        lines.append("no plugin failed to load (ovlite.Core().plugin_failures is empty)")
    return "\n".join(lines)


def verdict(cls: type, request: pytest.FixtureRequest, device: str) -> str | None:
    """Why the class's device cannot be tested, decided once per class and process."""
    if cls not in _verdicts:
        _verdicts[cls] = _find_verdict(cls, request, device)
    return _verdicts[cls]


def _find_verdict(cls: type, request: pytest.FixtureRequest, device: str) -> str | None:
    if not device:
        return f"{cls.__name__} does not name its device: set device = 'MYDEV'"
    try:
        core = request.getfixturevalue("core")
    except Exception as error:  # the class's own core fixture failed (register_plugin, ...)
        return f"the core fixture of {cls.__name__} failed: {type(error).__name__}: {error}"
    try:
        return why_untestable(core, device)
    except ov.OvliteError as error:  # a bad device string
        return f"{cls.__name__}.device = {device!r}: {error}"


def require_device(test: Any, request: pytest.FixtureRequest) -> None:
    """Before each test: go on when the device is there; else fail once, skip the rest."""
    cls = type(test)
    problem = verdict(cls, request, test.device)
    if problem is None or request.node.originalname == PRESENCE_TEST:
        return  # PRESENCE_TEST fails with the problem itself
    reporter = next(
        (
            item.nodeid
            for item in request.session.items
            if item.cls is cls and getattr(item, "originalname", "") == PRESENCE_TEST
        ),
        None,
    )
    if reporter is None:  # deselected (pytest -k): the first test to get here reports
        reporter = _reporters.setdefault(cls, request.node.nodeid)
        if reporter == request.node.nodeid:
            pytest.fail(problem, pytrace=False)
    pytest.skip(f"{test.device} cannot be tested here: see the failure of {reporter}")
