"""Checking user inputs against a model's ports, and the results mapping handed back.

Inputs may be a dict keyed by name, index or port, a list or tuple in input order, or a single
array for a single-input model.  Each value must be a numpy array, an ``ovlite.Tensor``, a
numpy scalar, a Python number or an object with ``__array__`` (a torch tensor, say).  An ``onnxruntime.OrtValue``
(a *device tensor*, possibly in GPU memory) is checked for shape and element type and passed
on as it is, never copied: devices that bind inputs in place (``GPU``) take it.  Element types convert when
numpy calls the cast "same kind" (float64 -> float32, int64 -> int32, int -> float); anything
else (float -> int, numbers -> bool, strings) is refused with :class:`InputTypeError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import NoneType
from typing import Any

import numpy as np

from .element_type import Type
from .errors import InputShapeError, InputTypeError, MissingInputError
from .model import Port, find_port
from .onnxruntime_words import word_types
from .tensor import Tensor


def as_array(value: Any, port: Port) -> np.ndarray:
    """``value`` as an ndarray, or :class:`InputTypeError` naming the input."""
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, np.generic | int | float) or hasattr(value, "__array__"):
        return np.asarray(value)  # a Python number is a scalar input, as in openvino
    raise InputTypeError(
        f"input {port.any_name!r} must be a numpy array or ovlite.Tensor, got "
        f"{type(value).__name__}"
        + (" (wrap it in numpy.asarray)" if isinstance(value, list | tuple) else "")
    )


def is_device_tensor(value: Any) -> bool:
    """Whether ``value`` is an ``onnxruntime.OrtValue`` (checked without importing onnxruntime)."""
    kind = type(value)
    return kind.__name__ == "OrtValue" and kind.__module__.startswith("onnxruntime")


def _dims(value: Any) -> Sequence[int]:
    shape = value.shape
    return shape() if callable(shape) else shape  # an OrtValue's shape is a method


class InputChecker:
    """Validates arrays for each input port; built once per compiled model."""

    def __init__(self, ports: Sequence[Port]) -> None:
        self.ports = list(ports)
        self.count = len(self.ports)
        self._dtypes = [p.element_type.dtype for p in self.ports]
        self._static = [
            p.partial_shape.to_shape() if p.partial_shape.is_static else None for p in self.ports
        ]
        self._names = {name: p.index for p in self.ports for name in p.names}
        #: Inputs of element types held as raw words (bf16, f8): {index: type}
        self.word_types = word_types([p.element_type for p in self.ports])
        self.shared_dims = _shared_dimensions(self.ports)

    def check(self, index: int, value: Any) -> np.ndarray:
        """Return the array for input ``index`` converted to its element type, or raise."""
        if type(value) is not np.ndarray and is_device_tensor(value):
            return self._check_device_tensor(index, value)
        array = value if type(value) is np.ndarray else as_array(value, self.ports[index])
        dtype = self._dtypes[index]
        if array.dtype is not dtype and (dtype is None or array.dtype != dtype):
            array = self._convert(index, array, dtype)
        static = self._static[index]
        if array.shape != static and (
            static is not None or not self.ports[index].accepts(array.shape)
        ):
            port = self.ports[index]
            raise InputShapeError(
                f"input {port.any_name!r} expects shape {port.partial_shape}, got {list(array.shape)}"
            )
        return array

    def _check_device_tensor(self, index: int, value: Any) -> Any:
        port = self.ports[index]
        wanted = port.element_type.onnx_type
        got = value.element_type()
        if isinstance(got, int) and wanted and got != wanted:
            raise InputTypeError(
                f"input {port.any_name!r} expects {port.element_type}, got a device tensor of "
                f"{value.data_type()} (device tensors are not converted)"
            )
        shape = list(value.shape())
        if not port.accepts(shape):
            raise InputShapeError(
                f"input {port.any_name!r} expects shape {port.partial_shape}, got {shape}"
            )
        return value

    def _convert(self, index: int, array: np.ndarray, dtype: np.dtype | None) -> np.ndarray:
        if dtype is None:
            words = self.word_types.get(index)
            return array if words is None else self._as_words(index, array, words)
        if not np.can_cast(array.dtype, dtype, casting="same_kind") or dtype == np.bool_:
            port = self.ports[index]
            raise InputTypeError(
                f"input {port.any_name!r} expects {port.element_type} ({dtype}), got an array "
                f"of {array.dtype}, which does not convert safely"
            )
        return array.astype(dtype)

    def _as_words(self, index: int, array: np.ndarray, element_type: Type) -> np.ndarray:
        """An input of a type numpy lacks (bf16) takes its raw words, as openvino does: an
        unsigned-int or float array of the storage's item size, viewed as the storage dtype
        (bf16: ``float16``); its elements are bit patterns, never converted values."""
        storage = element_type.to_dtype()
        if array.dtype.kind in "uf" and array.dtype.itemsize == storage.itemsize:
            return array.view(storage)
        port = self.ports[index]
        bits = storage.itemsize * 8
        raise InputTypeError(
            f"input {port.any_name!r} is {element_type}: expected its {bits}-bit words as a "
            f"uint{bits} or {storage} array, got an array of {array.dtype}"
            + (
                " (bf16 words of float32 values: (a.view(numpy.uint32) >> 16).astype(numpy.uint16))"
                if element_type is Type.bf16 and array.dtype == np.float32
                else ""
            )
        )

    def index_of(self, key: Any) -> int:
        """Input index for a name, index or port; :class:`InputNameError` otherwise."""
        index = self._names.get(key) if type(key) is str else None
        return find_port(self.ports, key, "input").index if index is None else index

    def items(self, inputs: Any) -> Iterable[tuple[Any, Any]]:
        """``(key, raw value)`` pairs from any accepted inputs form; a key is a name, index or
        port (``index_of`` turns it into an index)."""
        if type(inputs) is dict or isinstance(inputs, Mapping):
            return inputs.items()
        if isinstance(inputs, list | tuple):
            if len(inputs) > self.count and all(isinstance(v, int | float) for v in inputs):
                raise InputTypeError(
                    f"got a list of {len(inputs)} numbers for a model with {self.count} "
                    f"input(s) ({', '.join(repr(p.any_name) for p in self.ports)}): "
                    "wrap the data in numpy.asarray, one array per input"
                )
            if len(inputs) > self.count:
                raise MissingInputError(
                    f"got {len(inputs)} inputs for a model with {self.count}: "
                    f"{', '.join(repr(p.any_name) for p in self.ports)}"
                )
            return enumerate(inputs)
        if not _array_like(inputs):
            raise InputTypeError(
                f"Incompatible inputs of type: {type(inputs).__name__} (as openvino says): "
                "pass a dict keyed by input name, index or port, a list or tuple in input "
                "order, or one array for a one-input model"
            )
        if self.count != 1:
            raise MissingInputError(
                f"a single array was given but the model has {self.count} inputs "
                f"({', '.join(repr(p.any_name) for p in self.ports)}): pass a dict or list"
            )
        return ((0, inputs),)

    def check_all(self, inputs: Any) -> list[np.ndarray]:
        """Arrays for every input, in input order; :class:`MissingInputError` if one lacks data."""
        if self.count == 1 and isinstance(inputs, np.ndarray):
            return [self.check(0, inputs)]
        arrays: list[Any] = [None] * self.count
        for key, value in self.items(inputs):
            index = self.index_of(key)
            arrays[index] = self.check(index, value)
        if NoneType in map(type, arrays):
            self.require_all(arrays)
        if self.shared_dims:
            self.check_shared_dims(arrays)
        return arrays

    def check_shared_dims(self, arrays: Sequence[np.ndarray]) -> None:
        """:class:`InputShapeError` when inputs give one symbolic dimension (``batch`` in
        ``a[batch,4]`` and ``b[batch,4]``) different sizes; every array must be present."""
        for name, places in self.shared_dims.items():
            sizes = {(i, axis): _dims(arrays[i])[axis] for i, axis in places}
            if len(set(sizes.values())) > 1:
                given = ", ".join(
                    f"{self.ports[i].any_name!r} axis {axis} = {size}"
                    for (i, axis), size in sizes.items()
                )
                raise InputShapeError(
                    f"dimension {name!r} must have one size across the inputs, got {given}"
                )

    def require_all(self, arrays: Sequence[Any]) -> None:
        missing = [p.any_name for p, a in zip(self.ports, arrays, strict=True) if a is None]
        if missing:
            raise MissingInputError(f"no data for input(s) {', '.join(map(repr, missing))}")


def _array_like(value: Any) -> bool:
    """Whether ``value`` can be one input's data (what :func:`as_array` or the device-tensor
    check takes)."""
    return (
        isinstance(value, np.ndarray | Tensor | np.generic | int | float)
        or hasattr(value, "__array__")
        or is_device_tensor(value)
    )


def _shared_dimensions(ports: Sequence[Port]) -> dict[str, list[tuple[int, int]]]:
    """Symbolic dimension names used at more than one (input, axis), with those places."""
    places: dict[str, list[tuple[int, int]]] = {}
    for port in ports:
        shape = port.partial_shape
        if shape.rank_is_dynamic:
            continue
        for axis, (size, name) in enumerate(zip(shape, shape.names, strict=False)):
            if name is not None and size < 0:
                places.setdefault(name, []).append((port.index, axis))
    return {name: where for name, where in places.items() if len(where) > 1}


class Results(Mapping):
    """Inference results, indexable by output port, index or name (OpenVINO's ``OVDict``).

    Iterating yields the output ports; values are numpy arrays.
    """

    __slots__ = ("_ports", "_arrays", "_names")

    def __init__(self, ports: Sequence[Port], arrays: Sequence[np.ndarray]) -> None:
        self._ports = ports
        self._arrays = arrays
        self._names: dict[str, int] | None = None

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, int) and not isinstance(key, bool):
            if 0 <= key < len(self._arrays):
                return self._arrays[key]
        elif isinstance(key, str):
            if self._names is None:
                self._names = {n: p.index for p in self._ports for n in p.names}
            if key in self._names:
                return self._arrays[self._names[key]]
        return self._arrays[find_port(self._ports, key, "output").index]

    def __iter__(self) -> Iterator[Port]:
        return iter(self._ports)

    def __len__(self) -> int:
        return len(self._arrays)

    def names(self) -> tuple[str, ...]:
        return tuple(p.any_name for p in self._ports)

    def to_tuple(self) -> tuple[np.ndarray, ...]:
        return tuple(self._arrays)

    def to_dict(self) -> dict[Port, np.ndarray]:
        return dict(zip(self._ports, self._arrays, strict=True))

    def __repr__(self) -> str:
        body = ", ".join(
            f"{p.any_name!r}: array{list(a.shape)}"
            for p, a in zip(self._ports, self._arrays, strict=True)
        )
        return f"<Results {{{body}}}>"
