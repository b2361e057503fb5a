"""``OVAny``: a property value as openvino's ``key(value)`` hands it out."""

from __future__ import annotations

from typing import Any


class OVAny:
    """Holds one property value: ``props.enable_profiling(True)[1].value`` is ``True``.

    It equals its value (and another ``OVAny`` of an equal value), so the pair
    ``props.x(v)`` equals ``("X", v)``; configs built from pairs (``dict([props.x(v), ...])``)
    are unwrapped when they are checked.
    """

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value.value if isinstance(value, OVAny) else value

    def get(self) -> Any:
        return self.value

    def astype(self, kind: type) -> Any:
        """The value converted to ``kind`` (``int``, ``str``, ...)."""
        return kind(self.value)

    def __eq__(self, other: object) -> bool:
        return bool(self.value == (other.value if isinstance(other, OVAny) else other))

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self.value)

    def __str__(self) -> str:
        return str(self.value)

    def __repr__(self) -> str:
        return f"<OVAny {self.value!r}>"
