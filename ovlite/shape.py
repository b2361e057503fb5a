"""``Dimension`` and ``PartialShape``: shapes whose dimensions may be dynamic or bounded.

A :class:`Dimension` is an ``int`` (its length, or ``-1`` when dynamic) that also knows its
bounds, so ``d < 0`` keeps meaning "dynamic" in code that treats shapes as lists of ints:

    Dimension(5)        # 5
    Dimension()         # ?      any length
    Dimension(1, 8)     # 1..8   (also Dimension("1..8"))

A :class:`PartialShape` is a mutable list of dimensions that compares equal to any sequence of
the same lengths: ``shape[3] = -1`` or ``shape[0] = Dimension(1, 8)``, then ``model.reshape(shape)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, SupportsIndex

from .errors import ArgumentError


def _parse_bound(text: str, whole: str) -> int:
    text = text.strip()
    if not text:
        return -1
    if not text.isdigit():
        raise ArgumentError(f"bad dimension {whole!r}: expected 5, ?, 1..8, ..8 or 2..")
    return int(text)


class Dimension(int):
    """One dimension: static (``Dimension(5)``), dynamic (``Dimension()``, ``-1``) or bounded
    (``Dimension(1, 8)``, ``"1..8"``, ``"..8"``, ``"2.."``).  Its int value is its length, or
    ``-1`` when dynamic."""

    _min: int
    _max: int  # -1: unbounded

    def __new__(
        cls, min_or_length: int | str | Dimension = -1, max_length: int | None = None
    ) -> Dimension:
        if isinstance(min_or_length, Dimension) and max_length is None:
            low, high = min_or_length._min, min_or_length._max
        elif isinstance(min_or_length, str) and max_length is None:
            text = min_or_length.strip()
            if text == "?" or text == "-1":
                low, high = 0, -1
            elif ".." in text:
                first, _, second = text.partition("..")
                low, high = max(_parse_bound(first, text), 0), _parse_bound(second, text)
            else:
                low = high = _parse_bound(text, text)
        elif max_length is None:
            length = int(min_or_length)
            low, high = (0, -1) if length < 0 else (length, length)
        else:
            low, high = max(int(min_or_length), 0), int(max_length)
            high = -1 if high < 0 else high
            if high >= 0 and low > high:
                raise ArgumentError(
                    f"bad dimension range {low}..{high}: the minimum exceeds the maximum"
                )
        dimension = super().__new__(cls, low if low == high else -1)
        dimension._min, dimension._max = low, high
        return dimension

    @property
    def is_dynamic(self) -> bool:
        return self._min != self._max

    @property
    def is_static(self) -> bool:
        return self._min == self._max

    @property
    def min_length(self) -> int:
        return self._min

    @property
    def max_length(self) -> int:
        """The upper bound, ``-1`` when there is none."""
        return self._max

    def get_min_length(self) -> int:
        return self._min

    def get_max_length(self) -> int:
        return self._max

    def get_length(self) -> int:
        """The length of a static dimension; a dynamic one has none (``ArgumentError``)."""
        if self.is_dynamic:
            raise ArgumentError(f"dimension {self} is dynamic: it has no single length")
        return self._min

    def contains(self, length: int) -> bool:
        """True when a concrete ``length`` fits this dimension."""
        return length >= self._min and (self._max < 0 or length <= self._max)

    def compatible(self, other: int | Dimension) -> bool:
        """True when some length fits both dimensions."""
        other = Dimension(other)
        low = max(self._min, other._min)
        highs = [h for h in (self._max, other._max) if h >= 0]
        return not highs or low <= min(highs)

    def _contains(self, other: Dimension) -> bool:
        """True when every length ``other`` allows is one this dimension allows."""
        if other._min < self._min:
            return False
        return self._max < 0 or (0 <= other._max <= self._max)

    def same_scheme(self, other: int | Dimension) -> bool:
        """True when both are dynamic, or both static with one length."""
        other = Dimension(other)
        return (self._min, self._max) == (other._min, other._max) or (
            self.is_dynamic and other.is_dynamic
        )

    def relaxes(self, other: int | Dimension) -> bool:
        """True when this dimension allows every length ``other`` allows (or more)."""
        return self._contains(Dimension(other))

    def refines(self, other: int | Dimension) -> bool:
        """True when ``other`` allows every length this dimension allows."""
        return Dimension(other)._contains(self)

    def __len__(self) -> int:
        """``len(Dimension(5))`` is 5, as in openvino; a dynamic dimension has no length."""
        return self.get_length()

    def to_string(self) -> str:
        return str(self)

    def __str__(self) -> str:
        if self.is_static:
            return str(self._min)
        if self._max < 0:
            return f"{self._min}.." if self._min else "?"
        return f"{self._min}..{self._max}" if self._min else f"..{self._max}"

    def __repr__(self) -> str:
        return f"<Dimension: {self}>"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Dimension):
            return (self._min, self._max) == (other._min, other._max)
        return int.__eq__(self, other)  # type: ignore[no-any-return]

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = int.__hash__

    def __reduce__(self) -> Any:
        return (Dimension, (self._min, self._max))


def _dimension(dim: Any) -> tuple[Dimension, str | None]:
    """A dimension from an int, ``None``, ``"?"``, ``"1..8"``, ``(1, 8)`` or a symbolic name."""
    if isinstance(dim, Dimension):
        return dim, None
    if dim is None:
        return Dimension(), None
    if isinstance(dim, str):
        text = dim.strip()
        if text == "?" or text.lstrip("-").isdigit() or ".." in text:
            return Dimension(text), None
        return Dimension(), text  # a symbolic name, such as "batch"
    if isinstance(dim, tuple | list):
        if len(dim) != 2:
            raise ArgumentError(f"a dimension range is (min, max), not {dim!r}")
        return Dimension(dim[0], dim[1]), None
    return Dimension(int(dim)), None


class PartialShape(list):
    """A shape whose dimensions may be dynamic or bounded; a mutable list of :class:`Dimension`.

    ``PartialShape([1, 3, -1, (1, 8)])``, ``PartialShape("[1,3,?,1..8]")``; it compares equal
    to any sequence of the same lengths.  ``names`` keeps symbolic dimension names from the ONNX
    file (``"batch"``), ``None`` where the dimension has none; ``rank_is_dynamic`` is true when
    even the rank is unknown.
    """

    names: tuple[str | None, ...]
    rank_is_dynamic: bool

    def __init__(
        self,
        dims: Iterable[Any] | str = (),
        names: Sequence[str | None] | None = None,
        rank_is_dynamic: bool = False,
    ) -> None:
        if isinstance(dims, str):
            text = dims.strip().removeprefix("[").removesuffix("]").strip()
            if text == "...":
                dims, rank_is_dynamic = (), True
            else:
                dims = [part for part in text.split(",") if part.strip()] if text else []
        pairs = [_dimension(dim) for dim in dims]
        super().__init__(dim for dim, _ in pairs)
        self.names = tuple(names) if names is not None else tuple(name for _, name in pairs)
        self.rank_is_dynamic = rank_is_dynamic

    @classmethod
    def dynamic(cls, rank: int | None = None) -> PartialShape:
        """A shape of ``rank`` dynamic dimensions, or of dynamic rank."""
        if rank is None:
            return cls((), rank_is_dynamic=True)
        return cls([-1] * rank)

    def copy(self) -> PartialShape:  # type: ignore[override]
        return PartialShape(self, names=self.names, rank_is_dynamic=self.rank_is_dynamic)

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            raise ArgumentError("set dimensions one at a time: shape[i] = value")
        dimension, name = _dimension(value)
        super().__setitem__(index, dimension)
        names = list(self.names)
        names[index] = name
        self.names = tuple(names)

    @property
    def is_dynamic(self) -> bool:
        return self.rank_is_dynamic or any(dim < 0 for dim in self)

    @property
    def is_static(self) -> bool:
        return not self.is_dynamic

    @property
    def rank(self) -> int | None:
        return None if self.rank_is_dynamic else len(self)

    def to_shape(self) -> tuple[int, ...]:
        """The static shape as a plain tuple; ``ArgumentError`` if some dimension is dynamic."""
        if self.is_dynamic:
            raise ArgumentError(f"shape {self} is dynamic")
        return tuple(int(dim) for dim in self)

    get_shape = to_shape

    def get_dimension(self, index: int) -> Dimension:
        return self[index]

    def get_min_shape(self) -> list[int]:
        return [dim.min_length for dim in self]

    def get_max_shape(self) -> list[int]:
        """The largest lengths; ``-1`` where a dimension has no upper bound."""
        return [dim.max_length for dim in self]

    def accepts(self, shape: Sequence[int]) -> bool:
        """True when a concrete ``shape`` fits: same rank, each length within its dimension."""
        if self.rank_is_dynamic:
            return True
        return len(shape) == len(self) and all(
            dim.contains(length) for dim, length in zip(self, shape, strict=True)
        )

    def compatible(self, other: Sequence[Any]) -> bool:
        """True when some concrete shape fits both."""
        other = other if isinstance(other, PartialShape) else PartialShape(other)
        if self.rank_is_dynamic or other.rank_is_dynamic:
            return True
        return len(self) == len(other) and all(
            a.compatible(b) for a, b in zip(self, other, strict=True)
        )

    def to_string(self) -> str:
        return str(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PartialShape) and other.rank_is_dynamic != self.rank_is_dynamic:
            return False
        if isinstance(other, str) or not isinstance(other, Sequence | PartialShape):
            return False
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:  # type: ignore[override]
        return hash((self.rank_is_dynamic, *(int(dim) for dim in self)))

    def __str__(self) -> str:
        if self.rank_is_dynamic:
            return "[...]"
        return "[" + ",".join(str(dim) for dim in self) + "]"

    __repr__ = __str__

    def __reduce__(self) -> Any:
        return (PartialShape, (list(self), self.names, self.rank_is_dynamic))


class Shape(list):
    """A static shape: a mutable list of non-negative ints, like openvino's ``Shape``.

    ``Shape([1, 3, 224, 224])``; it compares equal to any sequence of the same lengths
    (``tensor.shape == (1, 3)`` and ``== [1, 3]`` both hold), prints as ``[1,3]``, and
    ``to_string()`` gives the same text.
    """

    def __init__(self, dims: Iterable[Any] = ()) -> None:
        dims = list(dims)
        super().__init__(_length(dim, dims) for dim in dims)

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            raise ArgumentError("set dimensions one at a time: shape[i] = value")
        super().__setitem__(index, _length(value, self))

    def to_string(self) -> str:
        return str(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str) or not isinstance(other, Sequence):
            return False
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self))

    def __str__(self) -> str:
        return "[" + ",".join(str(dim) for dim in self) + "]"

    def __repr__(self) -> str:
        return f"<Shape: {self}>"

    def __reduce__(self) -> Any:
        return (Shape, (list(self),))


def _length(value: Any, whole: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | SupportsIndex):
        raise ArgumentError(f"bad dimension {value!r} in shape {whole!r}: expected an int >= 0")
    length = int(value)
    if length < 0 or (isinstance(value, Dimension) and value.is_dynamic):
        raise ArgumentError(
            f"bad dimension {value!r} in shape {whole!r}: a static shape needs lengths >= 0"
        )
    return length


__all__ = ["Dimension", "PartialShape", "Shape"]
