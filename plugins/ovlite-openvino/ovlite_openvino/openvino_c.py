"""OpenVINO's own C API, reached through the library the ONNX Runtime wheel ships.

The onnxruntime-openvino wheel carries OpenVINO itself (``libopenvino.so``, its device
plugins and ``libopenvino_c.so``) in ``onnxruntime/capi/``.  ONNX Runtime does not hand out
what OpenVINO chose when it compiled a model (streams, threads, precision, requests), so the
OPENVINO device asks the same OpenVINO library directly: it compiles the model once more
with the same properties through the C API and reads the compiled model's properties back.
This module wraps the few C calls needed, with ctypes; it never imports the ``openvino``
Python package, which may be absent or a different OpenVINO version.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Iterable, Mapping
from functools import cache

from ovlite import CompileError

LIBRARY = "libopenvino_c.so"


class OpenVINOCError(CompileError):
    """A call into OpenVINO's C API failed; the message is OpenVINO's."""


class OpenVINOLibrary:
    """One ``ov_core`` of the OpenVINO inside the ONNX Runtime wheel, shared by the process.

    Thread-safe: OpenVINO's core is; the lazy set-up takes a lock.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._lib = ctypes.CDLL(path)
        self._lib.ov_get_last_err_msg.restype = ctypes.c_char_p
        self._core = ctypes.c_void_p()
        self._check(self._lib.ov_core_create(ctypes.byref(self._core)), "ov_core_create")

    # ---- the calls the device makes ----------------------------------------------------------

    def version(self) -> str:
        """OpenVINO's build number, e.g. ``2025.4.1-20426-...``."""

        class Version(ctypes.Structure):
            _fields_ = [("build_number", ctypes.c_char_p), ("description", ctypes.c_char_p)]

        found = Version()
        self._check(self._lib.ov_get_openvino_version(ctypes.byref(found)), "version")
        try:
            return (found.build_number or b"?").decode()
        finally:
            self._lib.ov_version_free(ctypes.byref(found))

    def device_property(self, device: str, key: str) -> str:
        """A device's property as OpenVINO prints it (``INFERENCE_PRECISION_HINT`` -> ``bf16``)."""
        value = ctypes.c_char_p()
        self._check(
            self._lib.ov_core_get_property(
                self._core, device.encode(), key.encode(), ctypes.byref(value)
            ),
            f"get_property({device}, {key})",
        )
        return self._take_string(value)

    def compiled_properties(
        self, onnx_bytes: bytes, device: str, config: Mapping[str, str], keys: Iterable[str]
    ) -> dict[str, str]:
        """Compile an ONNX model for ``device`` with ``config`` and read ``keys`` back.

        A key the compiled model does not report is left out.  The compiled model is freed
        before returning.
        """
        model = ctypes.c_void_p()
        self._check(
            self._lib.ov_core_read_model_from_memory_buffer(
                self._core,
                ctypes.c_char_p(onnx_bytes),
                ctypes.c_size_t(len(onnx_bytes)),
                None,
                ctypes.byref(model),
            ),
            "read_model",
        )
        compiled = ctypes.c_void_p()
        try:
            pairs: list[ctypes.c_char_p] = []
            for key, value in config.items():
                pairs += [ctypes.c_char_p(key.encode()), ctypes.c_char_p(str(value).encode())]
            self._check(
                self._lib.ov_core_compile_model(
                    self._core,
                    model,
                    ctypes.c_char_p(device.encode()),
                    ctypes.c_size_t(len(pairs)),
                    ctypes.byref(compiled),
                    *pairs,
                ),
                f"compile_model on {device}",
            )
            found = {}
            for key in keys:
                value = ctypes.c_char_p()
                status = self._lib.ov_compiled_model_get_property(
                    compiled, key.encode(), ctypes.byref(value)
                )
                if status == 0:
                    found[key] = self._take_string(value)
            return found
        finally:
            if compiled:
                self._lib.ov_compiled_model_free(compiled)
            self._lib.ov_model_free(model)

    # ---- plumbing ----------------------------------------------------------------------------

    def _take_string(self, value: ctypes.c_char_p) -> str:
        try:
            return (value.value or b"").decode()
        finally:
            if value:
                self._lib.ov_free(value)

    def _check(self, status: int, what: str) -> None:
        if status != 0:
            message = (self._lib.ov_get_last_err_msg() or b"").decode(errors="replace").strip()
            raise OpenVINOCError(f"OpenVINO {what} failed (status {status}): {message}")


_lock = threading.Lock()


@cache
def _load(folder: str) -> OpenVINOLibrary | None:
    path = os.path.join(folder, LIBRARY)
    if not os.path.exists(path):
        return None
    return OpenVINOLibrary(path)


def library() -> OpenVINOLibrary | None:
    """The OpenVINO C library beside the imported onnxruntime, or ``None`` when the wheel
    has none (a build of the OpenVINO EP linked against a system OpenVINO)."""
    import onnxruntime.capi

    with _lock:
        return _load(os.path.dirname(onnxruntime.capi.__file__))
