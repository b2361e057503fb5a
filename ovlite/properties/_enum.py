"""``OvEnum``: property values with openvino's numbers and reprs that still equal their names."""

from __future__ import annotations

import enum
from typing import Any


class _OvEnumType(enum.EnumMeta):
    def __getattr__(cls, name: str) -> Any:
        # pybind11 enums (openvino's) list their members, aliases included, in ``__entries``:
        # name -> (member, docstring).  Code that walks it runs on these enums too.
        if name == "__entries":
            return {key: (member, None) for key, member in cls.__members__.items()}
        raise AttributeError(name)


class OvEnum(enum.Enum, metaclass=_OvEnumType):
    """An enum value as openvino has it: ``.value`` and ``int()`` are openvino's number,
    ``repr`` is ``<PerformanceMode.THROUGHPUT: 2>`` and ``str`` ``PerformanceMode.THROUGHPUT``.

    It also equals its name as a string (``== "THROUGHPUT"``, any case), and formats as the
    bare name in f-strings and ``format()`` (``f"{mode}"`` is ``THROUGHPUT``), which is how
    ovlite's own messages and the settings handed to runtimes spell it.
    """

    @classmethod
    def _missing_(cls, value: Any) -> Any:
        """``PerformanceMode("THROUGHPUT")``: a name (any case) also picks its member."""
        if isinstance(value, str):
            return cls.__members__.get(value.strip().upper())
        return None

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, str):
            return other.upper() == self.name
        return self is other

    def __ne__(self, other: Any) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self.name)

    def __int__(self) -> int:
        return int(self.value)

    def __str__(self) -> str:
        return f"{type(self).__name__}.{self.name}"

    def __format__(self, spec: str) -> str:
        return format(self.name, spec)

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (type(self), (self.value,))
