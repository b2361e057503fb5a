"""KServe v2 infer requests and responses: JSON tensors and the binary tensor extension.

A request body is JSON, or (binary extension) JSON of ``Inference-Header-Content-Length``
bytes followed by the raw tensors, in input order, each input that has one saying its size in
``parameters.binary_data_size``.  Outputs go back as JSON ``data`` or, when the client asks
(``parameters.binary_data`` on the output, or ``binary_data_output`` on the request), raw
after the JSON header, in the same way.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .datatypes import from_dtype, to_dtype
from .errors import BadRequestError

HEADER_LENGTH = "inference-header-content-length"


@dataclass
class InferRequestBody:
    """What a decoded infer request asks: inputs by name, which outputs and how."""

    id: str | None
    inputs: dict[str, np.ndarray]
    outputs: list[tuple[str, bool]] | None  # (name, binary); None: every output
    binary_default: bool = False
    parameters: dict[str, Any] = field(default_factory=dict)


def decode_request(body: bytes, header_length: str | None) -> InferRequestBody:
    """Decode an infer request body; BadRequestError says what is wrong with it."""
    if header_length is not None:
        try:
            json_size = int(header_length)
        except ValueError:
            raise BadRequestError(f"{HEADER_LENGTH} is not an integer: {header_length!r}") from None
        if not 0 <= json_size <= len(body):
            raise BadRequestError(
                f"{HEADER_LENGTH} {json_size} is outside the body's {len(body)} bytes"
            )
    else:
        json_size = len(body)
    header = _parse_json(body[:json_size])
    binary = memoryview(body)[json_size:]
    raw_inputs = header.get("inputs")
    if not isinstance(raw_inputs, list) or not raw_inputs:
        raise BadRequestError("the request has no 'inputs' list")
    inputs: dict[str, np.ndarray] = {}
    offset = 0
    for raw in raw_inputs:
        name, array, used = _decode_input(raw, binary[offset:])
        if name in inputs:
            raise BadRequestError(f"input {name!r} is given twice")
        inputs[name] = array
        offset += used
    if offset != len(binary):
        raise BadRequestError(
            f"{len(binary) - offset} bytes of binary data are not claimed by any input"
        )
    parameters = _parameters(header, "request")
    return InferRequestBody(
        id=_optional_str(header.get("id"), "id"),
        inputs=inputs,
        outputs=_requested_outputs(header.get("outputs")),
        binary_default=bool(parameters.get("binary_data_output", False)),
        parameters=parameters,
    )


def _parse_json(data: bytes | memoryview) -> dict[str, Any]:
    try:
        value = json.loads(bytes(data))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadRequestError(f"the request's JSON cannot be parsed: {error}") from None
    if not isinstance(value, dict):
        raise BadRequestError("the request's JSON is not an object")
    return value


def _parameters(obj: dict[str, Any], what: str) -> dict[str, Any]:
    parameters = obj.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise BadRequestError(f"the {what}'s 'parameters' is not an object")
    return parameters


def _optional_str(value: Any, what: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise BadRequestError(f"'{what}' must be a string")


def _decode_input(raw: Any, binary: memoryview) -> tuple[str, np.ndarray, int]:
    if not isinstance(raw, dict):
        raise BadRequestError("each input must be an object with name, shape, datatype")
    name = raw.get("name")
    if not isinstance(name, str):
        raise BadRequestError("an input has no 'name'")
    shape = raw.get("shape")
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise BadRequestError(f"input {name!r}: 'shape' must be a list of non-negative integers")
    dtype = to_dtype(raw.get("datatype"))
    count = math.prod(shape)
    size = _parameters(raw, f"input {name!r}").get("binary_data_size")
    if size is not None:
        if not isinstance(size, int) or size < 0 or size > len(binary):
            raise BadRequestError(
                f"input {name!r}: binary_data_size {size!r} exceeds the binary data"
            )
        if size != count * dtype.itemsize:
            raise BadRequestError(
                f"input {name!r}: {size} bytes of binary data do not make shape {shape} of {raw['datatype']}"
            )
        array = np.frombuffer(binary[:size], dtype=dtype).reshape(shape)
        return name, array, size
    if "data" not in raw:
        raise BadRequestError(f"input {name!r} has neither 'data' nor binary_data_size")
    try:
        array = np.asarray(raw["data"], dtype=dtype)
    except (TypeError, ValueError, OverflowError) as error:
        raise BadRequestError(f"input {name!r}: data is not {raw['datatype']}: {error}") from None
    if array.size != count:
        raise BadRequestError(
            f"input {name!r}: {array.size} values do not fill shape {shape} ({count} values)"
        )
    return name, array.reshape(shape), 0


def _requested_outputs(raw: Any) -> list[tuple[str, bool]] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise BadRequestError("'outputs' must be a list")
    requested = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise BadRequestError("each requested output must be an object with a 'name'")
        binary = _parameters(item, f"output {item['name']!r}").get("binary_data", False)
        requested.append((item["name"], bool(binary)))
    return requested


def encode_response(
    model_name: str,
    model_version: str,
    request_id: str | None,
    outputs: list[tuple[str, np.ndarray, bool]],
) -> tuple[bytes, int | None]:
    """Encode (name, array, binary) outputs; returns the body and the JSON header's length
    when binary data follows it (None for a plain JSON body)."""
    entries = []
    chunks = []
    for name, array, binary in outputs:
        array = np.ascontiguousarray(array)
        entry: dict[str, Any] = {
            "name": name,
            "datatype": from_dtype(array.dtype),
            "shape": list(array.shape),
        }
        if binary:
            data = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
            entry["parameters"] = {"binary_data_size": len(data)}
            chunks.append(data)
        else:
            entry["data"] = array.reshape(-1).tolist()
        entries.append(entry)
    response: dict[str, Any] = {"model_name": model_name, "model_version": model_version}
    if request_id is not None:
        response["id"] = request_id
    response["outputs"] = entries
    header = json.dumps(response, separators=(",", ":")).encode()
    if not chunks:
        return header, None
    return b"".join([header, *chunks]), len(header)
