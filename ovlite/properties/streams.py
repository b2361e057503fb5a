"""Streams: independent execution contexts that run requests side by side."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ._keys import PropertyValueError, define


class Num(int):
    """A ``NUM_STREAMS`` value: a count, or the special ``Num.AUTO`` / ``Num.NUMA``."""

    AUTO: ClassVar[Num]
    NUMA: ClassVar[Num]

    def __new__(cls, value: int = -1) -> Num:
        """``Num()`` is ``AUTO``, as in openvino."""
        return super().__new__(cls, value)

    def __repr__(self) -> str:
        return {-1: "Num.AUTO", -2: "Num.NUMA"}.get(int(self), f"Num({int(self)})")

    __str__ = __repr__

    def to_integer(self) -> int:
        """The count, or ``-1`` for ``AUTO`` and ``-2`` for ``NUMA``, as openvino gives."""
        return int(self)


Num.AUTO = Num(-1)
Num.NUMA = Num(-2)


def to_num_streams(value: Any) -> Num:
    if isinstance(value, str):
        special = {"AUTO": Num.AUTO, "NUMA": Num.NUMA}.get(value.upper())
        if special is not None:
            return special
        if value.strip().isdigit():
            value = int(value)
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        if value >= 1 or value in (-1, -2):
            return Num(int(value))
    raise PropertyValueError("expected a whole number >= 1, 'AUTO' or 'NUMA'")


num = define(
    "NUM_STREAMS",
    to_num_streams,
    doc="Number of streams; overrides the performance hint. AUTO lets the device choose.",
)
