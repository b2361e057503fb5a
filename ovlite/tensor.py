"""``Tensor``: a numpy array with OpenVINO's tensor interface."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .element_type import Type
from .errors import ArgumentError, InputTypeError


class Tensor:
    """A tensor over a numpy array.

    ``Tensor(array)`` copies the array, as openvino does; ``Tensor(array, shared_memory=True)``
    wraps it without a copy.  ``Tensor(Type.f32, [1, 3])`` or ``Tensor(np.float32, (1, 3))``
    allocates a zero-filled one.  ``data`` is a writable numpy view of the tensor's memory.
    """

    __slots__ = ("_array",)

    def __init__(
        self, array: Any, shape: Sequence[int] | None = None, *, shared_memory: bool = False
    ) -> None:
        if shape is not None:
            dtype = Type.parse(array).to_dtype()
            try:
                self._array = np.zeros(tuple(shape), dtype=dtype)
            except (TypeError, ValueError, MemoryError) as exc:
                raise ArgumentError(
                    f"Tensor shape {list(shape)!r} is not a shape of whole numbers >= 0 that "
                    f"fits in memory: {exc}"
                ) from None
            return
        if isinstance(array, Tensor):
            array = array.data
        if not isinstance(array, np.ndarray):
            if not (hasattr(array, "__array__") or hasattr(array, "__array_interface__")):
                raise InputTypeError(
                    f"Tensor needs a numpy array (or an object with __array__), "
                    f"got {type(array).__name__}"
                )
            array = np.asarray(array)
        self._array = array if shared_memory else np.array(array, copy=True, order="C")

    @classmethod
    def wrap(cls, array: np.ndarray) -> Tensor:
        """A tensor sharing ``array``'s memory (used internally on hot paths)."""
        tensor = cls.__new__(cls)
        tensor._array = array
        return tensor

    @property
    def data(self) -> np.ndarray:
        """The tensor's memory as a numpy array; writing to it changes the tensor."""
        return self._array

    @property
    def shape(self) -> tuple[int, ...]:
        return self._array.shape

    @shape.setter
    def shape(self, new_shape: Sequence[int]) -> None:
        self.set_shape(new_shape)

    def set_shape(self, new_shape: Sequence[int]) -> None:
        """Give the tensor a new shape; its memory is reallocated when the size changes."""
        new_shape = tuple(new_shape)
        if int(np.prod(new_shape)) == self._array.size:
            self._array = self._array.reshape(new_shape)
        else:
            self._array = np.zeros(new_shape, dtype=self._array.dtype)

    def get_shape(self) -> tuple[int, ...]:
        return self._array.shape

    @property
    def element_type(self) -> Type:
        return Type.from_dtype(self._array.dtype)

    def get_element_type(self) -> Type:
        return self.element_type

    @property
    def size(self) -> int:
        return int(self._array.size)

    def get_size(self) -> int:
        """Number of elements."""
        return int(self._array.size)

    @property
    def byte_size(self) -> int:
        return int(self._array.nbytes)

    def get_byte_size(self) -> int:
        return int(self._array.nbytes)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self._array if dtype is None else self._array.astype(dtype)

    def __repr__(self) -> str:
        return f"<Tensor: shape{list(self.shape)} type: {self.element_type}>"
