"""Device strings: one parser, one canonical form, a round trip back to text.

Grammar (family names are case-insensitive and canonicalised to upper case)::

    spec   := item | composite
    composite := NAME ":" child ("," child)*     e.g. MULTI:GPU,CPU  AUTO:-CPU  RAY:MULTI:GPU,CPU
    child  := "-" device | item | composite      a nested composite takes the rest of the list
    item   := device ["(" INT ")"]               GPU(4): 4 requests for MULTI, batch 8 for BATCH:GPU(8)
    device := NAME ["." ID]                      GPU.1, OPENVINO.GPU.0 (id "GPU.0")

``NAME`` is a letter or underscore followed by letters, digits and underscores; ``ID`` is
letters, digits, underscores and dots.  The parser knows nothing about which names are meta
devices: ``AUTO:-CPU`` parses anywhere, and the meta device itself rejects what it cannot use.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from .errors import DeviceStringError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ID = re.compile(r"[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*")
_INT = re.compile(r"[0-9]+")
#: Longer counts are refused before int() would (Python limits int parsing to 4300 digits).
MAX_COUNT_DIGITS = 18


@dataclass(frozen=True)
class DeviceSpec:
    """A parsed device string.

    ``name`` is the family (``"GPU"``), ``id`` the optional instance (``"1"`` in ``GPU.1``),
    ``count`` the number in parentheses, ``excluded`` the leading ``-`` of ``AUTO:-CPU``, and
    ``children`` the list after ``:`` for composite (meta) devices, ``None`` for a plain device.
    """

    name: str
    id: str | None = None
    count: int | None = None
    excluded: bool = False
    children: tuple[DeviceSpec, ...] | None = field(default=None)

    @property
    def full_name(self) -> str:
        """Family and id: ``"GPU.1"``, or just ``"CPU"``."""
        return self.name if self.id is None else f"{self.name}.{self.id}"

    @property
    def is_composite(self) -> bool:
        """True for ``NAME:children`` strings (meta devices)."""
        return self.children is not None

    def __str__(self) -> str:
        text = ("-" if self.excluded else "") + self.full_name
        if self.children is not None:
            return text + ":" + ",".join(str(child) for child in self.children)
        if self.count is not None:
            text += f"({self.count})"
        return text


def parse_device(text: str | DeviceSpec) -> DeviceSpec:
    """Parse a device string into a :class:`DeviceSpec`; raise :class:`DeviceStringError`."""
    if isinstance(text, DeviceSpec):
        return text
    if not isinstance(text, str):
        raise DeviceStringError(repr(text), 0, f"expected a str, got {type(text).__name__}")
    parser = _Parser(text)
    spec = parser.parse_spec(allow_exclusion=False)
    parser.expect_end()
    return spec


def single_child(spec: DeviceSpec, missing: str, several: str) -> DeviceSpec:
    """The one child of a meta device that wraps exactly one device (``BATCH:GPU(8)``,
    ``RAY:CPU``); :class:`DeviceStringError` saying ``missing`` when there is none,
    ``several`` when there are more, and naming an excluded child."""
    text = str(spec)
    if not spec.children:
        raise DeviceStringError(text, len(text), missing)
    if len(spec.children) > 1:
        raise DeviceStringError(text, 0, several)
    child = spec.children[0]
    if child.excluded:
        raise DeviceStringError(
            text, 0, f"{spec.name} cannot exclude devices ('-{child.full_name}')"
        )
    return child


def without_count(spec: DeviceSpec) -> DeviceSpec:
    """``spec`` less its count: what a meta device compiles for ``MULTI:CPU(4)``'s child (the
    count is the meta device's to use, not the child's)."""
    return dataclasses.replace(spec, count=None) if spec.count is not None else spec


def canonical(text: str | DeviceSpec) -> str:
    """The canonical spelling of a device string: ``"multi:gpu(4), cpu"`` -> ``"MULTI:GPU(4),CPU"``."""
    return str(parse_device(text))


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, problem: str, at: int | None = None) -> DeviceStringError:
        return DeviceStringError(self.text, self.pos if at is None else at, problem)

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] == " ":
            self.pos += 1

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def match(self, pattern: re.Pattern[str], what: str) -> str:
        self.skip_spaces()
        found = pattern.match(self.text, self.pos)
        if not found:
            got = repr(self.peek()) if self.peek() else "the end of the string"
            raise self.fail(f"expected {what}, found {got}")
        self.pos = found.end()
        return found.group()

    def parse_spec(self, allow_exclusion: bool) -> DeviceSpec:
        self.skip_spaces()
        start = self.pos
        excluded = False
        if self.peek() == "-":
            if not allow_exclusion:
                raise self.fail(
                    "'-' (exclusion) is only allowed inside a device list, as in AUTO:-CPU"
                )
            excluded = True
            self.pos += 1
        name = self.match(_NAME, "a device name").upper()
        device_id = None
        if self.peek() == ".":
            self.pos += 1
            device_id = self.match(_ID, "a device id after '.'")
        self.skip_spaces()
        if self.peek() == ":":
            if excluded:
                raise self.fail("an excluded device cannot have a device list", at=start)
            self.pos += 1
            return DeviceSpec(name, device_id, None, False, self.parse_children())
        count = None
        if self.peek() == "(":
            if excluded:
                raise self.fail("an excluded device cannot have a count")
            self.pos += 1
            digits_at = self.pos
            digits = self.match(_INT, "a whole number in parentheses")
            if len(digits) > MAX_COUNT_DIGITS:
                raise self.fail("the number in parentheses is too large", at=digits_at)
            count = int(digits)
            if count < 1:
                raise self.fail("the number in parentheses must be at least 1", at=digits_at)
            self.skip_spaces()
            if self.peek() != ")":
                raise self.fail("expected ')'")
            self.pos += 1
        return DeviceSpec(name, device_id, count, excluded, None)

    def parse_children(self) -> tuple[DeviceSpec, ...]:
        children = [self.parse_spec(allow_exclusion=True)]
        while children[-1].children is None:
            self.skip_spaces()
            if self.peek() != ",":
                break
            self.pos += 1
            children.append(self.parse_spec(allow_exclusion=True))
        return tuple(children)

    def expect_end(self) -> None:
        self.skip_spaces()
        if self.pos != len(self.text):
            raise self.fail(f"unexpected {self.peek()!r}")
