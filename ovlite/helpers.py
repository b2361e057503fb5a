"""``ov.helpers``: packing values of the 1-, 2- and 4-bit element types into bytes and back.

The layout is openvino's helpers': the first value sits in the highest bits of its byte
(``[7, 8]`` as ``u4`` is the byte ``0x78``), and a byte that is not filled is padded with zeros.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .element_type import Type
from .errors import ArgumentError

_PACKED = ("u1", "u2", "u4", "i4", "nf4", "f4e2m1")


def _packed_type(element_type: Type | str) -> Type:
    element_type = Type(element_type)
    if element_type.name not in _PACKED:
        raise ArgumentError(
            f"cannot pack values as {element_type}: packing is for the types stored in "
            f"1, 2 or 4 bits ({', '.join(_PACKED)})"
        )
    return element_type


def _shifts(bits: int) -> np.ndarray:
    per_byte = 8 // bits
    return np.array([8 - bits * (i + 1) for i in range(per_byte)], dtype=np.uint8)


def pack_data(array: np.ndarray, type: Type | str) -> np.ndarray:  # noqa: A002  (openvino's name)
    """The values of ``array`` as ``type`` (u1, u2, u4, i4, nf4, f4e2m1), packed into uint8s.

    Raises :class:`~ovlite.ArgumentError` naming the values when they do not fit the type.
    """
    element_type = _packed_type(type)
    bits = element_type.bitwidth
    values = np.asarray(array)
    low, high = (-8, 7) if element_type.name == "i4" else (0, (1 << bits) - 1)
    if values.size and (
        not np.array_equal(values, np.round(values)) or values.min() < low or values.max() > high
    ):
        raise ArgumentError(
            f"cannot pack {values.ravel()[:8].tolist()}... as {element_type}: "
            f"expected whole numbers in {low}..{high}"
        )
    codes = (values.astype(np.int16).ravel() & ((1 << bits) - 1)).astype(np.uint8)
    per_byte = 8 // bits
    padded = np.zeros(-(-codes.size // per_byte) * per_byte, dtype=np.uint8)
    padded[: codes.size] = codes
    groups = padded.reshape(-1, per_byte) << _shifts(bits)
    return np.bitwise_or.reduce(groups, axis=1).astype(np.uint8)


def unpack_data(
    array: np.ndarray,
    type: Type | str,  # noqa: A002  (openvino's name)
    shape: Sequence[int],
) -> np.ndarray:
    """The values packed in ``array`` as ``type``, in an array of ``shape`` (int8 for i4,
    else uint8)."""
    element_type = _packed_type(type)
    bits = element_type.bitwidth
    raw = np.ascontiguousarray(array).view(np.uint8).ravel()
    codes = ((raw[:, None] >> _shifts(bits)) & ((1 << bits) - 1)).ravel()
    count = int(np.prod([int(d) for d in shape]))
    if count > codes.size:
        raise ArgumentError(
            f"cannot unpack {count} values of {element_type} from {raw.size} bytes "
            f"(they hold {codes.size})"
        )
    codes = codes[:count]
    if element_type.name == "i4":
        return (
            np.where(codes >= 8, codes.astype(np.int16) - 16, codes).astype(np.int8).reshape(shape)
        )
    return codes.astype(np.uint8).reshape(list(shape))
