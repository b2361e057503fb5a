"""``Layout``: what each dimension of a tensor means (``"NCHW"``, ``"[N,?,C]"``, ``"NC..."``).

A layout names dimensions with letters (``"NCHW"``) or, in brackets, with words
(``"[batch,seq,C]"``); ``?`` is a dimension with no name and ``...`` stands for any number of
them.  Names are case-insensitive and stored upper-case; ``batch``, ``channels``, ``depth``,
``height`` and ``width`` are the long names of ``N``, ``C``, ``D``, ``H`` and ``W``, as in openvino.
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import LayoutError

_ALIASES = {"BATCH": "N", "CHANNELS": "C", "DEPTH": "D", "HEIGHT": "H", "WIDTH": "W"}
_SCALAR = "**SCALAR**"


class Layout:
    """A tensor layout such as ``Layout("NCHW")``; ``Layout()`` is the empty (unknown) layout.

    ``Layout("NCHW") == Layout("[N,C,H,W]") == "nchw"``; ``str()`` gives ``"[N,C,H,W]"``.
    """

    __slots__ = ("_dynamic", "_left", "_right", "_scalar")

    def __init__(self, layout: str | Layout = "") -> None:
        if isinstance(layout, Layout):
            self._left, self._right = layout._left, layout._right
            self._dynamic, self._scalar = layout._dynamic, layout._scalar
            return
        if not isinstance(layout, str):
            raise LayoutError(f"a layout is a string such as 'NCHW', not {type(layout).__name__}")
        self._scalar = layout.strip() == _SCALAR
        self._left, self._right, self._dynamic = (), (), not self._scalar
        if not self._scalar:
            self._left, self._right, self._dynamic = _parse(layout)

    @classmethod
    def scalar(cls) -> Layout:
        """The layout of a scalar (rank 0)."""
        return cls(_SCALAR)

    @property
    def empty(self) -> bool:
        """True for the layout that says nothing (``Layout()``, printed ``[...]``)."""
        return self._dynamic and not self._left and not self._right

    @property
    def rank(self) -> int | None:
        """The number of dimensions, or ``None`` when the layout has ``...``."""
        if self._scalar:
            return 0
        return None if self._dynamic else len(self._left)

    def has_name(self, name: str) -> bool:
        """True when the layout has a dimension called ``name`` (``"C"``, ``"channels"``)."""
        key = _name(name)
        return key in self._left or key in self._right

    def get_index_by_name(self, name: str) -> int:
        """The index of dimension ``name``; negative when it is counted from the end (after ``...``)."""
        key = _name(name)
        if key in self._left:
            return self._left.index(key)
        if key in self._right:
            return self._right.index(key) - len(self._right)
        raise LayoutError(f"layout {self} has no dimension {name!r}")

    def names_for_rank(self, rank: int) -> list[str | None]:
        """The name of each of ``rank`` dimensions (``None`` where unnamed)."""
        if self.rank is not None and self.rank != rank:
            raise LayoutError(f"layout {self} has rank {self.rank}, the tensor has rank {rank}")
        fixed = len(self._left) + len(self._right)
        if rank < fixed:
            raise LayoutError(
                f"layout {self} needs at least {fixed} dimensions, the tensor has {rank}"
            )
        return [*self._left, *([None] * (rank - fixed)), *self._right]

    def to_string(self) -> str:
        """The bracketed form, ``"[N,C,H,W]"``."""
        if self._scalar:
            return _SCALAR
        parts = ["?" if n is None else n for n in self._left]
        if self._dynamic:
            parts.append("...")
        parts += ["?" if n is None else n for n in self._right]
        return "[" + ",".join(parts) + "]"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = Layout(other)
            except LayoutError:
                return False
        return isinstance(other, Layout) and self.to_string() == other.to_string()

    def __hash__(self) -> int:
        return hash(self.to_string())

    def __str__(self) -> str:
        return self.to_string()

    def __repr__(self) -> str:
        return f"<Layout: {self.to_string()}>"


def _name(name: str) -> str:
    key = str(name).strip().upper()
    return _ALIASES.get(key, key)


def _tokens(text: str) -> list[str]:
    """Split ``"NC..."`` or ``"[N,C,...]"`` into dimension tokens."""
    if text.startswith("["):
        if not text.endswith("]"):
            raise LayoutError(f"layout {text!r} opens '[' without closing it")
        inner = text[1:-1].strip()
        return [t.strip() for t in inner.split(",")] if inner else []
    tokens, i = [], 0
    while i < len(text):
        if text.startswith("...", i):
            tokens.append("...")
            i += 3
        else:
            tokens.append(text[i])
            i += 1
    return tokens


def _parse(text: str) -> tuple[tuple[str | None, ...], tuple[str | None, ...], bool]:
    text = text.strip()
    left: list[str | None] = []
    right: list[str | None] = []
    dynamic = False
    seen: set[str] = set()
    for token in _tokens(text):
        if token == "...":
            if dynamic:
                raise LayoutError(f"layout {text!r} has '...' more than once")
            dynamic = True
            continue
        if token == "?":
            (right if dynamic else left).append(None)
            continue
        if not token or not all(c.isascii() and (c.isalnum() or c == "_") for c in token):
            raise LayoutError(
                f"Layout name is invalid ({token!r} in {text!r}): dimension names are English "
                "letters, digits and '_', '?' for an unnamed dimension, '...' for any number"
            )
        name = _name(token)
        if name in seen:
            raise LayoutError(f"layout {text!r} names dimension {name!r} more than once")
        seen.add(name)
        (right if dynamic else left).append(name)
    if not text:
        dynamic = True
    return tuple(left), tuple(right), dynamic


def as_layout(value: str | Layout | Sequence[int]) -> Layout:
    """A :class:`Layout` from a layout or its string."""
    return value if isinstance(value, Layout) else Layout(value)  # type: ignore[arg-type]


__all__ = ["Layout", "as_layout"]
