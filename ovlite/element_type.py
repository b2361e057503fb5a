"""Element types of tensors and ports, with OpenVINO's short names (``f32``, ``i64``, ...).

``Type(np.float32)`` (or a dtype, ``"f32"``, ``str``/``bytes``) gives the one ``Type.f32``
object; ``to_dtype()`` gives numpy's dtype as openvino does: packed types (``u1``, ``u4``,
``i4``, ``nf4``, the f8/f4 types) travel as bytes, ``bf16`` as 16-bit words (``float16``) and
``string`` as ``numpy.bytes_``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .errors import ElementTypeError

_STRING_KINDS = ("U", "S", "O")


class Type:
    """An element type: ``Type.f32``, ``Type.i64``, ...; compares equal to its numpy dtype.

    ``Type(x)`` accepts a numpy type or dtype, a short name or another ``Type`` and returns
    the one shared object for that type.  Arrays of ``Type.bf16`` are 16-bit words
    (``uint16`` or ``float16`` arrays holding the bits), as models' bf16 inputs take them and
    their bf16 outputs give them (see :mod:`ovlite.onnxruntime_words`).
    """

    _by_name: ClassVar[dict[str, Type]] = {}
    _by_onnx: ClassVar[dict[int, Type]] = {}
    _by_dtype: ClassVar[dict[np.dtype, Type]] = {}

    f32: ClassVar[Type]
    f16: ClassVar[Type]
    bf16: ClassVar[Type]
    f64: ClassVar[Type]
    i4: ClassVar[Type]
    i8: ClassVar[Type]
    i16: ClassVar[Type]
    i32: ClassVar[Type]
    i64: ClassVar[Type]
    u1: ClassVar[Type]
    u4: ClassVar[Type]
    u8: ClassVar[Type]
    u16: ClassVar[Type]
    u32: ClassVar[Type]
    u64: ClassVar[Type]
    nf4: ClassVar[Type]
    f8e4m3: ClassVar[Type]
    f8e5m2: ClassVar[Type]
    f4e2m1: ClassVar[Type]
    f8e8m0: ClassVar[Type]
    boolean: ClassVar[Type]
    string: ClassVar[Type]
    dynamic: ClassVar[Type]

    name: str
    dtype: np.dtype | None  # arrays of this dtype *are* this type (None: only as raw storage)
    onnx_type: int  # ONNX TensorProto number; -1 where ONNX has none
    bitwidth: int
    _storage: np.dtype | None  # what to_dtype() gives
    _c_name: str
    _kind: str  # "real", "int", "uint", "bool", "string", "dynamic"
    _quantized: bool

    def __new__(cls, value: Any) -> Type:
        """The element type of ``value`` (a numpy type or dtype, a name, or a ``Type``)."""
        return cls.parse(value)

    @classmethod
    def _add(
        cls,
        name: str,
        c_name: str,
        kind: str,
        bitwidth: int,
        onnx_type: int,
        dtype: str | None,
        storage: Any = None,
        quantized: bool = False,
    ) -> Type:
        t = object.__new__(cls)
        t.name, t._c_name, t._kind, t.bitwidth, t.onnx_type = (
            name,
            c_name,
            kind,
            bitwidth,
            onnx_type,
        )
        t.dtype = np.dtype(dtype) if dtype else None
        t._storage = np.dtype(storage) if storage is not None else t.dtype
        t._quantized = quantized
        cls._by_name[name] = t
        if onnx_type >= 0:
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
    def from_dtype(cls, dtype: Any) -> Type:
        """The type for a numpy dtype (any ``str``/``bytes`` dtype is ``string``)."""
        try:
            np_dtype = np.dtype(dtype)
        except TypeError:
            raise ElementTypeError(f"no ovlite element type for {dtype!r}") from None
        if np_dtype.kind in _STRING_KINDS:
            return cls.string
        found = cls._by_dtype.get(np_dtype)
        if found is None:
            raise ElementTypeError(
                f"no ovlite element type for numpy dtype {np_dtype}: expected one of "
                f"{', '.join(sorted({str(d) for d in cls._by_dtype}))} or a string dtype"
            )
        return found

    @classmethod
    def parse(cls, value: object) -> Type:
        """Accept a :class:`Type`, its name (``"f32"``, ``"bf16"``), or a numpy type/dtype."""
        if isinstance(value, Type):
            return value
        if isinstance(value, str) and value.lower() in cls._by_name:
            return cls._by_name[value.lower()]
        if value is str or value is bytes:
            return cls.string
        try:  # numpy types, dtypes and their strings ("float32", "|S", "str_")
            return cls.from_dtype(value)
        except ElementTypeError:
            pass
        names = ", ".join(n for n in cls._by_name if n != "dynamic")
        raise ElementTypeError(
            f"bad element type {value!r}: expected a numpy dtype or one of {names}"
        )

    # ---- openvino's methods ----------------------------------------------------------------

    def to_dtype(self) -> np.dtype:
        """The numpy dtype that holds this type's data (packed types: bytes)."""
        if self._storage is None:
            raise ElementTypeError(f"element type {self.name} has no numpy dtype")
        return self._storage

    def get_type_name(self) -> str:
        return self.name

    @property
    def type_name(self) -> str:
        return self.name

    def to_string(self) -> str:
        return self.name

    def get_bitwidth(self) -> int:
        return self.bitwidth

    @property
    def size(self) -> int:
        """Bytes per element, rounded up (1 for the packed 1- and 4-bit types)."""
        return (self.bitwidth + 7) // 8

    def get_size(self) -> int:
        return self.size

    def is_static(self) -> bool:
        return self is not Type.dynamic

    def is_dynamic(self) -> bool:
        return self is Type.dynamic

    def is_real(self) -> bool:
        return self._kind == "real"

    def is_integral(self) -> bool:
        return self._kind != "real"

    def is_integral_number(self) -> bool:
        return self._kind in ("int", "uint", "string", "dynamic")

    def is_signed(self) -> bool:
        return self._kind in ("real", "int", "bool")

    def is_quantized(self) -> bool:
        return self._quantized

    real = property(is_real)
    integral = property(is_integral)
    integral_number = property(is_integral_number)
    signed = property(is_signed)
    quantized = property(is_quantized)

    def compatible(self, other: Any) -> bool:
        """True when the types are equal or either is ``dynamic``."""
        other = Type.parse(other)
        return self is other or Type.dynamic in (self, other)

    def merge(self, other: Any) -> Type | None:
        """The type both can be (the static one of a static and ``dynamic``); ``None`` if none."""
        other = Type.parse(other)
        if self is Type.dynamic:
            return other
        if other is Type.dynamic or other is self:
            return self
        return None

    # ---- comparison and printing -----------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Type):
            return self is other
        if isinstance(other, str):
            return other.lower() == self.name
        if self.dtype is None and self is not Type.string:
            return False
        try:
            other_dtype = np.dtype(other)  # type: ignore[call-overload]
        except TypeError:
            return False
        if self is Type.string:
            return other_dtype.kind in _STRING_KINDS
        return other_dtype == self.dtype

    def __hash__(self) -> int:
        return hash(self.name)

    def __reduce__(self) -> Any:
        return (Type.parse, (self.name,))

    def __copy__(self) -> Type:
        return self

    def __deepcopy__(self, memo: Any) -> Type:
        return self

    def __repr__(self) -> str:
        return f"<Type: '{self._c_name}'>"

    def __str__(self) -> str:
        return self.name


# ONNX TensorProto element type numbers, written out so this module does not import onnx.
# name, openvino's C name, kind, bits, ONNX number, numpy dtype, to_dtype() storage, quantized
Type._add("f32", "float32", "real", 32, 1, "float32")
Type._add("u8", "uint8_t", "uint", 8, 2, "uint8", quantized=True)
Type._add("i8", "int8_t", "int", 8, 3, "int8", quantized=True)
Type._add("u16", "uint16_t", "uint", 16, 4, "uint16")
Type._add("i16", "int16_t", "int", 16, 5, "int16")
Type._add("i32", "int32_t", "int", 32, 6, "int32", quantized=True)
Type._add("i64", "int64_t", "int", 64, 7, "int64")
Type._add("string", "string", "string", 256, 8, "object", storage=np.bytes_)
Type._add("boolean", "char", "bool", 8, 9, "bool")
Type._add("f16", "float16", "real", 16, 10, "float16")
Type._add("f64", "double64", "real", 64, 11, "float64")
Type._add("u32", "uint32_t", "uint", 32, 12, "uint32")
Type._add("u64", "uint64_t", "uint", 64, 13, "uint64")
Type._add("bf16", "bfloat16", "real", 16, 16, None, storage="float16")
Type._add("f8e4m3", "f8e4m3", "real", 8, 17, None, storage="uint8", quantized=True)
Type._add("f8e5m2", "f8e5m2", "real", 8, 19, None, storage="uint8", quantized=True)
Type._add("u4", "uint4_t", "uint", 4, 21, None, storage="uint8")
Type._add("i4", "int4_t", "int", 4, 22, None, storage="int8", quantized=True)
Type._add("f4e2m1", "f4e2m1", "real", 4, 23, None, storage="uint8", quantized=True)
Type._add("f8e8m0", "f8e8m0", "real", 8, 24, None, storage="uint8", quantized=True)
# No ONNX element type: usable in tensors, never in an ONNX model's ports.
Type._add("u1", "uint1_t", "uint", 1, -1, None, storage="uint8")
Type._add("nf4", "nfloat4", "uint", 4, -1, None, storage="uint8", quantized=True)
Type._add("dynamic", "dynamic", "dynamic", 0, 0, None)
