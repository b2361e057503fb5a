"""KServe v2 datatype names and their numpy dtypes and Triton config names."""

from __future__ import annotations

import numpy as np

from .errors import BadRequestError

_TABLE = {
    "BOOL": np.dtype(np.bool_),
    "UINT8": np.dtype(np.uint8),
    "UINT16": np.dtype(np.uint16),
    "UINT32": np.dtype(np.uint32),
    "UINT64": np.dtype(np.uint64),
    "INT8": np.dtype(np.int8),
    "INT16": np.dtype(np.int16),
    "INT32": np.dtype(np.int32),
    "INT64": np.dtype(np.int64),
    "FP16": np.dtype(np.float16),
    "FP32": np.dtype(np.float32),
    "FP64": np.dtype(np.float64),
}
_NAMES = {dtype: name for name, dtype in _TABLE.items()}


def to_dtype(datatype: str) -> np.dtype:
    """The little-endian numpy dtype of a KServe datatype; BadRequestError for others."""
    try:
        return _TABLE[datatype].newbyteorder("<")
    except (KeyError, TypeError):
        supported = ", ".join(_TABLE)
        raise BadRequestError(
            f"unsupported datatype {datatype!r}; this server takes {supported}"
        ) from None


def from_dtype(dtype: np.dtype) -> str:
    """The KServe datatype name of a numpy dtype."""
    try:
        return _NAMES[np.dtype(dtype).newbyteorder("=")]
    except KeyError:
        raise BadRequestError(f"numpy dtype {dtype} has no KServe datatype") from None


def triton_type(datatype: str) -> str:
    """Triton's model-config name for a datatype: ``FP32`` -> ``TYPE_FP32``."""
    return f"TYPE_{datatype}"
