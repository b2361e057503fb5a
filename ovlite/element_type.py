"""Element types of tensors and ports, with OpenVINO's short names (``f32``, ``i64``, ...)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .errors import PropertyValueError


class Type:
    """An element type: ``Type.f32``, ``Type.i64``, ...; compares equal to its numpy dtype.

    ``Type.bf16`` has no numpy dtype; arrays for it are not accepted by ONNX Runtime plugins
    and it is used as a precision hint only.
    """

    _by_name: ClassVar[dict[str, Type]] = {}
    _by_onnx: ClassVar[dict[int, Type]] = {}
    _by_dtype: ClassVar[dict[np.dtype, Type]] = {}

    f32: ClassVar[Type]
    f16: ClassVar[Type]
    bf16: ClassVar[Type]
    f64: ClassVar[Type]
    i8: ClassVar[Type]
    i16: ClassVar[Type]
    i32: ClassVar[Type]
    i64: ClassVar[Type]
    u8: ClassVar[Type]
    u16: ClassVar[Type]
    u32: ClassVar[Type]
    u64: ClassVar[Type]
    boolean: ClassVar[Type]
    string: ClassVar[Type]
    dynamic: ClassVar[Type]

    def __init__(self, name: str, dtype: np.dtype | None, onnx_type: int, bitwidth: int) -> None:
        self.name = name
        self.dtype = dtype
        self.onnx_type = onnx_type
        self.bitwidth = bitwidth

    @classmethod
    def _add(cls, name: str, dtype: str | None, onnx_type: int, bitwidth: int) -> Type:
        t = cls(name, np.dtype(dtype) if dtype else None, onnx_type, bitwidth)
        cls._by_name[name] = t
        cls._by_onnx.setdefault(onnx_type, t)
        if t.dtype is not None:
            cls._by_dtype.setdefault(t.dtype, t)
        setattr(cls, name, t)
        return t

    @classmethod
    def from_onnx(cls, onnx_type: int) -> Type:
        """The type for an ``onnx.TensorProto`` element type number."""
        return cls._by_onnx.get(onnx_type, cls.dynamic)

    @classmethod
    def from_dtype(cls, dtype: np.dtype | type) -> Type:
        """The type for a numpy dtype; raise ``TypeError`` when there is none."""
        found = cls._by_dtype.get(np.dtype(dtype))
        if found is None:
            raise TypeError(f"no ovlite element type for numpy dtype {np.dtype(dtype)}")
        return found

    @classmethod
    def parse(cls, value: object) -> Type:
        """Accept a :class:`Type`, its name (``"f32"``, ``"bf16"``), or a numpy dtype."""
        if isinstance(value, Type):
            return value
        if isinstance(value, str) and value.lower() in cls._by_name:
            return cls._by_name[value.lower()]
        try:
            return cls.from_dtype(value)  # type: ignore[arg-type]
        except TypeError:
            pass
        names = ", ".join(n for n in cls._by_name if n != "dynamic")
        raise PropertyValueError(f"bad element type {value!r}: expected one of {names}")

    def to_dtype(self) -> np.dtype:
        """The numpy dtype of this element type."""
        if self.dtype is None:
            raise TypeError(f"element type {self.name} has no numpy dtype")
        return self.dtype

    def get_type_name(self) -> str:
        return self.name

    @property
    def is_real(self) -> bool:
        return self.name in ("f16", "bf16", "f32", "f64")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Type):
            return self is other
        if isinstance(other, str):
            return other.lower() == self.name
        try:
            return self.dtype is not None and np.dtype(other) == self.dtype  # type: ignore[arg-type]
        except TypeError:
            return False

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"<Type: {self.name}>"

    def __str__(self) -> str:
        return self.name


# ONNX TensorProto element type numbers, written out so this module does not import onnx.
Type._add("f32", "float32", 1, 32)
Type._add("u8", "uint8", 2, 8)
Type._add("i8", "int8", 3, 8)
Type._add("u16", "uint16", 4, 16)
Type._add("i16", "int16", 5, 16)
Type._add("i32", "int32", 6, 32)
Type._add("i64", "int64", 7, 64)
Type._add("string", "object", 8, 0)
Type._add("boolean", "bool", 9, 8)
Type._add("f16", "float16", 10, 16)
Type._add("f64", "float64", 11, 64)
Type._add("u32", "uint32", 12, 32)
Type._add("u64", "uint64", 13, 64)
Type._add("bf16", None, 16, 16)
Type._add("dynamic", None, 0, 0)
