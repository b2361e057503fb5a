"""One copy of the weights for every stream.

The optimized graph keeps its weights in a side file (see :mod:`ovlite_cpu.cache`).  The
plugin reads that file once into one buffer, makes an ``OrtValue`` view of each initializer
on it (no copy), and hands the same ``OrtValue`` objects to every stream's session with
``SessionOptions.add_initializer``.  ONNX Runtime then uses the caller's memory instead of
loading its own copy, so N streams hold the weights once.  The buffer and the ``OrtValue``
objects must outlive the sessions: the compiled model keeps this object.

The buffer starts on a page boundary (:func:`read_aligned`).  ONNX Runtime's writer places
each initializer at a 64-byte aligned offset of the file, and numpy's own buffers start 16
bytes past one (glibc's large allocations), which put every weight 16 bytes off a cache line:
ResNet-18 ran 2-4% slower on such weights than on ONNX Runtime's own copy.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ovlite import CompileError

#: Where the weights buffer starts: a page, so that every 64-byte aligned offset of the file
#: is 64-byte aligned in memory too.
BUFFER_ALIGNMENT = 4096


class CorruptWeightsError(CompileError):
    """The weights file does not match the hash its cache entry promised."""


@dataclass
class SharedWeights:
    """The weights of an optimized graph as ``OrtValue`` objects, by initializer name.

    ``arrays`` holds the numpy view behind each value: the very memory the sessions read.
    """

    values: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    nbytes: int = 0
    _buffer: np.ndarray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.values)

    def add_to(self, options: Any) -> None:
        """Register every shared initializer on an ``onnxruntime.SessionOptions``."""
        for name, value in self.values.items():
            options.add_initializer(name, value)


def load_shared_weights(
    graph_path: str, weights_path: str | None, expected_sha256: str | None = None
) -> SharedWeights:
    """Read the weights file once and wrap each external initializer of the main graph.

    Initializers still stored inside the graph (tiny ones, strings) are left to each session.
    Raises :class:`CorruptWeightsError` when ``expected_sha256`` does not match.
    """
    import onnx
    import onnxruntime as ort

    if weights_path is None:
        return SharedWeights()
    buffer = read_aligned(weights_path)
    if expected_sha256 is not None and hashlib.sha256(buffer).hexdigest() != expected_sha256:
        raise CorruptWeightsError(f"weights file {weights_path} does not match its cache entry")
    graph = onnx.load(graph_path, load_external_data=False)
    location = os.path.basename(weights_path)
    shared = SharedWeights(_buffer=buffer)
    for tensor in graph.graph.initializer:
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        info = {entry.key: entry.value for entry in tensor.external_data}
        if info.get("location") != location:
            continue
        dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type))
        offset, length = int(info.get("offset", 0)), int(info["length"])
        if offset + length > buffer.size:
            raise CorruptWeightsError(
                f"weights file {weights_path} is too short for initializer {tensor.name!r}"
            )
        array = buffer[offset : offset + length].view(dtype).reshape(tuple(tensor.dims))
        if offset % dtype.itemsize:  # never seen, but a misaligned view must not reach a kernel
            array = array.copy()
        shared.values[tensor.name] = ort.OrtValue.ortvalue_from_numpy(array)
        shared.arrays[tensor.name] = array
        shared.nbytes += length
    return shared


def read_aligned(path: str, alignment: int = BUFFER_ALIGNMENT) -> np.ndarray:
    """The file's bytes in a uint8 array whose data starts at a multiple of ``alignment``."""
    size = os.path.getsize(path)
    raw = np.empty(size + alignment, dtype=np.uint8)
    start = -raw.ctypes.data % alignment
    buffer = raw[start : start + size]  # a view: it keeps ``raw`` alive
    with open(path, "rb") as file:
        if file.readinto(memoryview(buffer)) != size:
            raise CorruptWeightsError(f"weights file {path} changed while it was read")
    return buffer
