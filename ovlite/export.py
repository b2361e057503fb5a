"""``CompiledModel.export_model`` / ``Core.import_model``: a compiled model as bytes and back.

ONNX Runtime keeps no compiled form to save, so an export holds what compiling needs: the
model (ONNX, port layouts in its metadata) and the settings it was compiled with.  Importing
compiles it again on the device named then, with those settings and any given on import
(which win).  The format::

    b"OVLITE-EXPORT/1\\n" + a JSON line {"device": ..., "config": {...}} + the ONNX bytes
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from typing import Any

from .errors import ModelError

MAGIC = b"OVLITE-EXPORT/1\n"


def _plain(value: Any) -> Any:
    """A setting as JSON: enums and element types by name, sets as lists."""
    if isinstance(value, set | frozenset):
        return sorted(_plain(v) for v in value)
    if isinstance(value, enum.Enum):
        return value.name
    return format(value)


def export_bytes(model_proto: Any, device_name: str, config: Mapping[str, Any]) -> bytes:
    """The export of ``model_proto`` compiled for ``device_name`` with ``config``."""
    header = json.dumps({"device": device_name, "config": dict(config)}, default=_plain)
    return MAGIC + header.encode() + b"\n" + model_proto.SerializeToString()


def read_export(model_stream: Any) -> tuple[bytes, str, dict[str, Any]]:
    """``(onnx bytes, device name, config)`` from an export given as bytes, a ``Tensor`` of
    bytes or a binary stream (read whole: ``io.BytesIO`` from its start)."""
    if hasattr(model_stream, "getvalue"):
        blob = model_stream.getvalue()
    elif hasattr(model_stream, "read"):
        blob = model_stream.read()
    elif hasattr(model_stream, "data") and hasattr(model_stream, "element_type"):
        blob = model_stream.data.tobytes()
    else:
        blob = model_stream
    if not isinstance(blob, bytes | bytearray | memoryview):
        raise ModelError(
            f"import_model takes the bytes export_model gave (bytes, a binary stream or a u8 "
            f"Tensor), not {type(model_stream).__name__}"
        )
    blob = bytes(blob)
    if not blob.startswith(MAGIC):
        raise ModelError(
            f"import_model: not an ovlite export (it starts {blob[:16]!r}, expected "
            f"{MAGIC!r}); exports come from compiled_model.export_model()"
        )
    header, _, model = blob[len(MAGIC) :].partition(b"\n")
    try:
        fields = json.loads(header)
        return model, str(fields["device"]), dict(fields["config"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"import_model: the export's header is damaged ({exc})") from None
