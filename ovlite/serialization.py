"""``save_model`` and ``serialize``: write a model (preprocessing and layouts included) as ONNX.

openvino writes its IR (``.xml`` + ``.bin``); ovlite reads and writes ONNX, so both functions
want a ``.onnx`` path.  Port layouts travel in the file's metadata and come back with
``read_model``.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .errors import ModelError, UnsupportedModelFormatError
from .model import LAYOUT_KEY, Model, read_model

F16_MAX = float(np.finfo(np.float16).max)
_EXTERNAL_DATA_ABOVE = 1 << 30  # protobuf cannot hold more than 2 GiB; leave room


def _onnx_path(path: Any, function: str) -> str:
    if isinstance(path, bytes):
        path = path.decode()
    path = os.fspath(path)
    if path.lower().endswith((".xml", ".bin")):
        raise UnsupportedModelFormatError(
            f"{function}({path!r}): ovlite writes ONNX, not OpenVINO IR (.xml/.bin); give a path "
            "ending in .onnx (openvino itself can read the .onnx file)"
        )
    return path


def proto_with_layouts(model: Model) -> Any:
    """A copy of the model's ONNX with its ports' layouts in its metadata (``read_model``
    restores them)."""
    import onnx

    proto = onnx.ModelProto()
    proto.CopyFrom(model.proto)
    kept = [p for p in proto.metadata_props if not p.key.startswith(LAYOUT_KEY.split("{")[0])]
    del proto.metadata_props[:]
    proto.metadata_props.extend(kept)
    for port in model.inputs + model.outputs:
        if not port.layout.empty:
            entry = proto.metadata_props.add()
            entry.key = LAYOUT_KEY.format(kind=port.kind, name=port.any_name)
            entry.value = port.layout.to_string()
    return proto


def compress_weights_to_fp16(proto: Any) -> int:
    """Store the main graph's f32 weights as f16, each followed by a ``Cast`` back to f32.

    Weights with a value beyond f16's range stay f32.  Returns how many were compressed.
    """
    from onnx import TensorProto, helper, numpy_helper

    graph, casts, compressed = proto.graph, [], []
    for init in graph.initializer:
        if init.data_type != TensorProto.FLOAT:
            continue
        values = numpy_helper.to_array(init)
        finite = values[np.isfinite(values)]
        if finite.size and np.abs(finite).max() > F16_MAX:
            continue
        half = numpy_helper.from_array(values.astype(np.float16), f"{init.name}/fp16")
        casts.append(
            helper.make_node(
                "Cast",
                [half.name],
                [init.name],
                to=TensorProto.FLOAT,
                name=f"{init.name}/decompress",
            )
        )
        compressed.append((init, half))
    for init, half in compressed:
        graph.initializer.remove(init)
        graph.initializer.append(half)
    # the Cast outputs take the weights' names, which graph inputs must no longer list
    names = {init.name for init, _ in compressed}
    inputs = [v for v in graph.input if v.name not in names]
    del graph.input[:]
    graph.input.extend(inputs)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    return len(compressed)


def _write(proto: Any, path: str) -> None:
    import onnx

    external = proto.ByteSize() > _EXTERNAL_DATA_ABOVE
    try:
        onnx.save_model(
            proto,
            path,
            save_as_external_data=external,
            location=os.path.basename(path) + ".data" if external else None,
        )
    except OSError as exc:
        raise ModelError(f"cannot write model to {path!r}: {exc}") from exc


def save_model(
    model: Model | Any, output_model: str | os.PathLike, compress_to_fp16: bool = True
) -> None:
    """Write ``model`` to ``output_model`` (a ``.onnx`` path), as ``openvino.save_model`` does.

    With ``compress_to_fp16`` (the default, as in openvino) float weights are stored as f16 and
    cast back to f32 when the model loads: the file is about half the size and results differ
    from the f32 weights' by f16 rounding.  Inputs, outputs and computation stay f32.
    """
    path = _onnx_path(output_model, "save_model")
    proto = proto_with_layouts(read_model(model))
    if compress_to_fp16:
        compress_weights_to_fp16(proto)
    _write(proto, path)


def serialize(
    model: Model | Any, xml_path: str | os.PathLike, bin_path: Any = "", version: str = ""
) -> None:
    """Write ``model`` as it is (no weight compression) to ``xml_path``, a ``.onnx`` path.

    ``bin_path`` and ``version`` are openvino IR options and must be left out.
    """
    if bin_path:
        raise UnsupportedModelFormatError(
            f"serialize(bin_path={bin_path!r}): ovlite writes one ONNX file, with no separate .bin"
        )
    _write(proto_with_layouts(read_model(model)), _onnx_path(xml_path, "serialize"))


__all__ = ["compress_weights_to_fp16", "save_model", "serialize"]
