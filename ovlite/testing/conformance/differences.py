"""Expected differences: inherited conformance tests a plugin's test class skips, with a reason.

A device that differs from the suite on purpose declares it instead of overriding the test::

    class TestMyDevice(PluginConformance):
        device = "MYDEV"
        expected_differences = {
            "test_latency_hint_runs_one_stream": "MYDEV has one fixed stream per core",
            "test_compiled_model_reports_the_required_properties[LATENCY]": "why",
        }

Each key names a test of the class (a parametrized one alone skips every case; with its
``[id]`` only that case).  A key that names no test is an error when the class is defined,
so that a typo fails loudly instead of hiding nothing.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from ovlite import ArgumentError


class ExpectedDifferenceError(ArgumentError):
    """A conformance class's ``expected_differences`` names no test of the suite, or gives no
    reason."""


def check_expected_differences(cls: type, never_skipped: tuple[str, ...] = ()) -> None:
    """Raise :class:`ExpectedDifferenceError` unless every key of ``cls.expected_differences``
    names a test of ``cls`` (optionally with a ``[case]`` id) and every value is a reason."""
    differences = getattr(cls, "expected_differences", None) or {}
    where = f"{cls.__name__}.expected_differences"
    if not isinstance(differences, Mapping):
        raise ExpectedDifferenceError(
            f"{where} must be a mapping {{test name: reason}}, got {type(differences).__name__}"
        )
    tests = sorted(name for name in dir(cls) if name.startswith("test_"))
    for key, reason in differences.items():
        name = str(key).split("[", 1)[0]
        if name not in tests:
            close = difflib.get_close_matches(name, tests, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ExpectedDifferenceError(
                f"{where} names {key!r}, but {cls.__name__} has no test of that name{hint}"
            )
        if name in never_skipped:
            raise ExpectedDifferenceError(
                f"{where} names {key!r}: that test cannot be skipped, it reports a device that "
                "is missing or refused"
            )
        if not isinstance(reason, str) or not reason.strip():
            raise ExpectedDifferenceError(
                f"{where}[{key!r}] must say why the device differs, got {reason!r}"
            )


def expected_difference(cls: type, node: Any) -> str | None:
    """The reason ``cls`` declares for the test item ``node`` (its case id first), or None."""
    differences: Mapping[str, str] = getattr(cls, "expected_differences", None) or {}
    for key in (node.name, getattr(node, "originalname", node.name)):
        if key in differences:
            return differences[key]
    return None
