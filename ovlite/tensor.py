"""``Tensor``: a numpy array with OpenVINO's tensor interface."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .element_type import Type
from .errors import ArgumentError, InputShapeError, InputTypeError
from .shape import Shape


class Tensor:
    """A tensor over a numpy array, built in any of openvino's ways:

    - ``Tensor(array)`` copies the array; ``Tensor(array, shared_memory=True)`` wraps it.
    - ``Tensor(type=Type.f32, shape=[1, 3])`` (or ``Tensor(np.float32, (1, 3))``) allocates a
      zero-filled tensor; packed types (``u1``, ``u4``, ``i4``, ``nf4``) take whole bytes.
    - ``Tensor(array, shape, type)`` views ``array``'s memory as ``type`` elements of ``shape``
      (bf16 from ``uint16`` words, ``u4`` from packed bytes); the memory is shared.
    - ``Tensor(port)`` allocates for a port's type and static shape; ``Tensor(port, array)``
      views ``array`` with the port's type.
    - ``Tensor(other, begin, end)`` is a region of ``other`` (shared memory, not continuous).

    ``data`` is a writable numpy view of the tensor's memory.
    """

    __slots__ = ("_array", "_type", "_shape", "_owns")

    def __init__(
        self,
        array: Any = None,
        shape: Sequence[int] | None = None,
        type: Any = None,  # noqa: A002 - openvino's keyword
        *,
        shared_memory: bool = False,
        begin: Sequence[int] | None = None,
        end: Sequence[int] | None = None,
    ) -> None:
        self._type: Type | None = None
        self._shape: tuple[int, ...] | None = None
        self._owns = True  # False over memory the caller holds: it may shrink, not grow
        if isinstance(array, Tensor) and (begin is not None or shape is not None):
            self._region(array, begin if begin is not None else shape, end if end else type)
        elif _is_port(array):
            self._from_port(array, shape)
        elif array is None or _is_element_type(array):
            if shape is None:
                raise ArgumentError(
                    "Tensor(type=..., shape=...) needs a shape, e.g. Tensor(Type.f32, [1, 3])"
                )
            self._allocate(Type.parse(type if array is None else array), shape)
        elif shape is not None:
            self._view(_as_ndarray(array), shape, Type.parse(type) if type is not None else None)
        else:
            if isinstance(array, Tensor):
                array = array.data
            array = _as_ndarray(array)
            self._array = array if shared_memory else np.array(array, copy=True, order="C")
            self._owns = not shared_memory

    # ---- the ways to build one ----------------------------------------------------------------

    def _allocate(self, element_type: Type, shape: Sequence[int]) -> None:
        dims = tuple(Shape(shape))
        self._type = element_type
        if element_type is Type.string:
            self._array = np.full(dims, b"", dtype=object)
        elif element_type.bitwidth < 8:
            self._shape = dims
            count = int(np.prod(dims, dtype=np.int64))
            self._array = np.zeros(_packed_bytes(element_type, count), element_type.to_dtype())
        else:
            self._array = np.zeros(dims, dtype=element_type.to_dtype())

    def _view(self, array: np.ndarray, shape: Sequence[int], element_type: Type | None) -> None:
        self._owns = False
        dims = tuple(Shape(shape))
        element_type = element_type or Type.from_dtype(array.dtype)
        count = int(np.prod(dims, dtype=np.int64))
        if element_type.bitwidth >= 8 and element_type is not Type.string:
            storage = element_type.to_dtype()
            if array.dtype != storage and array.flags.c_contiguous:
                array = array.reshape(-1).view(storage)
            if array.dtype != storage or array.size != count:
                raise InputShapeError(
                    f"Tensor(array, {list(dims)}, {element_type}): the array holds {array.size} "
                    f"{array.dtype} values, expected {count} {element_type} values"
                )
            self._type, self._array = element_type, array.reshape(dims)
            return
        if element_type is Type.string:
            if array.size != count:
                raise InputShapeError(
                    f"Tensor(array, {list(dims)}, string): the array holds {array.size} "
                    f"strings, expected {count}"
                )
            self._type, self._array = element_type, array.reshape(dims)
            return
        needed = _packed_bytes(element_type, count)
        if array.nbytes < needed or not array.flags.c_contiguous:
            raise InputShapeError(
                f"Tensor(array, {list(dims)}, {element_type}): expected a contiguous array of at "
                f"least {needed} bytes, got {array.nbytes} ({array.dtype}, {list(array.shape)})"
            )
        self._type, self._shape = element_type, dims
        self._array = array.reshape(-1).view(np.uint8)[:needed].view(element_type.to_dtype())

    def _from_port(self, port: Any, array: Any) -> None:
        """openvino's rules: the port's type and static shape; a dynamic port gives shape [0];
        an array is viewed with the port's type and shape (a larger one, or one of another
        type, warns; a smaller one is refused)."""
        element_type = Type.parse(port.get_element_type())
        shape = port.get_partial_shape()
        dims = [0] if shape.is_dynamic else list(shape)
        if array is None or shape.is_dynamic:
            self._allocate(element_type, dims)
            return
        array = _as_ndarray(array)
        count = int(np.prod(dims, dtype=np.int64))
        needed = count * element_type.to_dtype().itemsize
        if element_type.bitwidth < 8:
            needed = _packed_bytes(element_type, count)
        if array.nbytes < needed:
            raise InputShapeError(
                f"Tensor(port, array): port {port.get_any_name()!r} needs {element_type} "
                f"{list(dims)} ({needed} bytes), the array has {array.nbytes} bytes "
                f"({array.dtype}, {list(array.shape)})"
            )
        if element_type.bitwidth >= 8 and array.dtype != element_type.to_dtype():
            warnings.warn(
                f"Tensor(port, array): the array's type {array.dtype} is not port "
                f"{port.get_any_name()!r}'s {element_type}; the tensor views its bytes as "
                f"{element_type}",
                RuntimeWarning,
                stacklevel=3,
            )
        if array.nbytes > needed:
            warnings.warn(
                f"Tensor(port, array): the array ({list(array.shape)}) is larger than port "
                f"{port.get_any_name()!r} ({list(dims)}); the tensor views its first elements",
                RuntimeWarning,
                stacklevel=3,
            )
        flat = np.ascontiguousarray(array).reshape(-1).view(np.uint8)[:needed]
        self._view(flat, dims, element_type)

    def _region(self, other: Tensor, begin: Sequence[int] | None, end: Any) -> None:
        shape = other.get_shape()
        begin, end = list(begin or []), list(end or [])
        if (
            len(begin) != len(shape)
            or len(end) != len(shape)
            or not all(0 <= b < e <= s for b, e, s in zip(begin, end, shape, strict=True))
        ):
            raise ArgumentError(
                f"bad region begin={begin}, end={end} of a tensor of shape {shape}: expected "
                f"{len(shape)} coordinates each, 0 <= begin < end <= the tensor's length"
            )
        if other._shape is not None:
            raise ArgumentError(
                f"a region of a {other.element_type} tensor is not supported: regions need "
                "element types of 8 bits or more"
            )
        self._array = other._array[tuple(slice(b, e) for b, e in zip(begin, end, strict=True))]
        self._type, self._owns = other._type, False

    @classmethod
    def wrap(cls, array: np.ndarray, element_type: Type | None = None) -> Tensor:
        """A tensor sharing ``array``'s memory (used internally on hot paths); ``element_type``
        where the array's dtype does not say it (bf16 words in a ``float16`` array)."""
        tensor = cls.__new__(cls)
        tensor._array, tensor._type, tensor._shape, tensor._owns = array, element_type, None, True
        return tensor

    # ---- contents ------------------------------------------------------------------------------

    @property
    def data(self) -> np.ndarray:
        """The tensor's memory as a numpy array; writing to it changes the tensor.

        Packed types (``u1``, ``u4``, ``i4``, ``nf4``, ...) give their bytes.
        """
        return self._array

    @property
    def str_data(self) -> np.ndarray:
        """A string tensor's elements as ``str`` (decoded as UTF-8)."""
        return np.char.decode(self.bytes_data, "utf-8") if self._array.size else self._array

    @property
    def bytes_data(self) -> np.ndarray:
        """A string tensor's elements as ``bytes`` (encoded as UTF-8)."""
        if self.element_type is not Type.string:
            raise InputTypeError(
                f"bytes_data needs a string tensor; this one is {self.element_type}"
            )
        if self._array.dtype.kind == "S":
            return self._array
        return np.char.encode(self._array.astype(str), "utf-8")

    def copy_to(self, target: Tensor) -> None:
        """Copy this tensor's elements into ``target`` (same type; reshaped to fit if needed)."""
        if not isinstance(target, Tensor):
            raise InputTypeError(f"copy_to needs an ovlite.Tensor, got {type(target).__name__}")
        if target.element_type is not self.element_type:
            raise InputTypeError(
                f"copy_to: cannot copy a {self.element_type} tensor into a "
                f"{target.element_type} tensor"
            )
        if target.get_shape() != self.get_shape():
            target.set_shape(self.get_shape())
        np.copyto(target._array, self._array)

    def copy_from(self, source: Any) -> None:
        """Copy a tensor's (or an array's) elements into this tensor."""
        if not isinstance(source, Tensor):
            source = Tensor(_as_ndarray(source), shared_memory=True)
        source.copy_to(self)

    # ---- shape and type ------------------------------------------------------------------------

    @property
    def shape(self) -> Shape:
        """The tensor's shape (a :class:`Shape`, equal to lists and tuples of the same lengths)."""
        return self.get_shape()

    @shape.setter
    def shape(self, new_shape: Sequence[int]) -> None:
        self.set_shape(new_shape)

    def get_shape(self) -> Shape:
        return Shape(self._shape if self._shape is not None else self._array.shape)

    def set_shape(self, new_shape: Sequence[int]) -> None:
        """Give the tensor a new shape.  A tensor that owns its memory reallocates when the
        size changes; one over memory the caller holds (``shared_memory=True``, views,
        regions) may only shrink or keep its size, as in openvino."""
        dims = tuple(Shape(new_shape))
        count = int(np.prod(dims, dtype=np.int64))
        if count == self.get_size():
            if self._shape is not None:
                self._shape = dims
            else:
                self._array = self._array.reshape(dims)
            return
        if not self._owns:
            if count > self.get_size() or self._shape is not None or not self.is_continuous():
                raise InputShapeError(
                    f"set_shape({list(dims)}) failed: the tensor is over memory it does not own "
                    f"({self.get_shape()}, {self.get_size()} elements) and cannot grow past it"
                )
            self._array = self._array.reshape(-1)[:count].reshape(dims)
        elif self._shape is not None:
            self._allocate(self.element_type, dims)
        else:
            self._array = np.zeros(dims, dtype=self._array.dtype)

    @property
    def element_type(self) -> Type:
        return self._type if self._type is not None else Type.from_dtype(self._array.dtype)

    def get_element_type(self) -> Type:
        return self.element_type

    @property
    def size(self) -> int:
        """Number of elements."""
        return self.get_size()

    def get_size(self) -> int:
        """Number of elements."""
        if self._shape is not None:
            return int(np.prod(self._shape, dtype=np.int64))
        return int(self._array.size)

    @property
    def byte_size(self) -> int:
        return self.get_byte_size()

    def get_byte_size(self) -> int:
        """Bytes the elements take (packed types: rounded up to whole bytes)."""
        element_type = self.element_type
        if element_type is Type.string:
            return self.get_size() * element_type.size
        if self._shape is not None:
            return (self.get_size() * element_type.bitwidth + 7) // 8
        return int(self._array.nbytes)

    @property
    def strides(self) -> list[int]:
        """Bytes between consecutive elements along each dimension."""
        return self.get_strides()

    def get_strides(self) -> list[int]:
        """Byte strides; packed types (``u1``, ``u4``, ``i4``, ...) have none and raise."""
        if self._shape is not None:
            raise ArgumentError(
                f"a {self.element_type} tensor has no strides: its elements are smaller than a byte"
            )
        return [int(s) for s in self._array.strides]

    def is_continuous(self) -> bool:
        """False for a region of a larger tensor whose rows are not adjacent in memory."""
        return bool(self._array.flags.c_contiguous)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self._array if dtype is None else self._array.astype(dtype)

    def __repr__(self) -> str:
        return f"<Tensor: shape{self.get_shape()} type: {self.element_type}>"


def _packed_bytes(element_type: Type, count: int) -> int:
    """How many bytes ``count`` elements of a sub-byte type take."""
    return (count * element_type.bitwidth + 7) // 8


def _is_element_type(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in Type._by_name
    if isinstance(value, Type) or value is bytes:
        return True
    return isinstance(value, np.dtype) or (
        isinstance(value, type) and issubclass(value, np.generic)
    )


def _is_port(value: Any) -> bool:
    return hasattr(value, "get_partial_shape") and hasattr(value, "get_element_type")


def _as_ndarray(array: Any) -> np.ndarray:
    if isinstance(array, np.ndarray):
        return array
    if isinstance(array, Tensor):
        return array.data
    if hasattr(array, "__array__") or hasattr(array, "__array_interface__"):
        return np.asarray(array)
    raise InputTypeError(
        f"Tensor needs a numpy array (or an object with __array__), a Type and a shape, a port "
        f"or a Tensor and a region, got {type(array).__name__} {array!r:.60}"
    )
