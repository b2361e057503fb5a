"""The KServe v2 protocol over gRPC: Triton's ``GRPCInferenceService``.

The messages and the servicer base are the stubs generated from the protocol's official
``grpc_service.proto`` and ``model_config.proto`` that Triton ships in ``tritonclient.grpc``
(``pip install ovlite-serve[grpc]``); this module only maps them to the served models.
Tensors travel in ``raw_input_contents`` / ``raw_output_contents`` or in typed contents.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc
import numpy as np
from google.protobuf import json_format
from tritonclient.grpc import model_config_pb2, service_pb2_grpc
from tritonclient.grpc import service_pb2 as pb

from . import __version__
from .codec import InferRequestBody
from .datatypes import from_dtype, to_dtype
from .errors import BadRequestError, ServeError
from .model import ServedModel, find_model

log = logging.getLogger("ovlite_serve")
GRACE_S = 60.0  # how long a stopping server waits for RPCs in flight
_CODES = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    404: grpc.StatusCode.NOT_FOUND,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    503: grpc.StatusCode.UNAVAILABLE,
    504: grpc.StatusCode.DEADLINE_EXCEEDED,
}
# The typed-contents field that carries each datatype (FP16 and BYTES travel raw only).
_CONTENTS = {
    "BOOL": "bool_contents",
    "INT8": "int_contents",
    "INT16": "int_contents",
    "INT32": "int_contents",
    "INT64": "int64_contents",
    "UINT8": "uint_contents",
    "UINT16": "uint_contents",
    "UINT32": "uint_contents",
    "UINT64": "uint64_contents",
    "FP32": "fp32_contents",
    "FP64": "fp64_contents",
}


def grpc_service(host: str, port: int, max_message_bytes: int) -> Any:
    """A service for :func:`ovlite_serve.app.build_app`: gRPC on ``host:port`` while the
    application runs; on shutdown it refuses new RPCs and finishes those in flight."""

    @contextlib.asynccontextmanager
    async def run(state: Any) -> AsyncIterator[None]:
        options = [
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max_message_bytes),
        ]
        server = grpc.aio.server(options=options)
        service_pb2_grpc.add_GRPCInferenceServiceServicer_to_server(InferenceService(state), server)
        address = f"{host}:{port}"
        if server.add_insecure_port(address) == 0:
            raise OSError(f"gRPC cannot listen on {address}")
        await server.start()
        log.info("gRPC on %s", address)
        try:
            yield
        finally:
            await server.stop(GRACE_S)

    return run


class InferenceService(service_pb2_grpc.GRPCInferenceServiceServicer):
    """The RPCs of the KServe v2 core protocol and Triton's ModelConfig."""

    def __init__(self, state: Any) -> None:
        self.state = state  # models, metrics, stopping

    async def _model(self, name: str, version: str, context: Any) -> ServedModel:
        try:
            return find_model(self.state.models, name, version)
        except ServeError as error:
            await context.abort(_CODES[error.status], error.message)
            raise  # not reached: abort raises

    async def ServerLive(self, request: Any, context: Any) -> Any:
        return pb.ServerLiveResponse(live=True)

    async def ServerReady(self, request: Any, context: Any) -> Any:
        return pb.ServerReadyResponse(ready=not self.state.stopping)

    async def ModelReady(self, request: Any, context: Any) -> Any:
        model = self.state.models.get(request.name)
        ready = model is not None and not model.closing and request.version in ("", model.version)
        return pb.ModelReadyResponse(ready=ready)

    async def ServerMetadata(self, request: Any, context: Any) -> Any:
        from .app import EXTENSIONS

        return pb.ServerMetadataResponse(name="ovlite", version=__version__, extensions=EXTENSIONS)

    async def ModelMetadata(self, request: Any, context: Any) -> Any:
        metadata = (await self._model(request.name, request.version, context)).metadata()
        return json_format.ParseDict(metadata, pb.ModelMetadataResponse())

    async def ModelConfig(self, request: Any, context: Any) -> Any:
        config = (await self._model(request.name, request.version, context)).config()
        return pb.ModelConfigResponse(config=json_format.ParseDict(config, model_config_pb2.ModelConfig()))  # fmt: skip

    async def ModelInfer(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        model = await self._model(request.model_name, request.model_version, context)
        start = time.perf_counter()
        try:
            outputs = await model.answer(decode_infer_request(request))
        except ServeError as error:
            self.state.metrics.observe(model, error.status, None)
            await context.abort(_CODES.get(error.status, grpc.StatusCode.INTERNAL), error.message)
        except Exception as error:  # never a stack trace to the client; one in the log
            log.exception("model %r: inference failed", model.name)
            self.state.metrics.observe(model, 500, None)
            await context.abort(grpc.StatusCode.INTERNAL, f"{type(error).__name__}: {error}")
        response = pb.ModelInferResponse(
            model_name=model.name, model_version=model.version, id=request.id
        )
        for name, array, _ in outputs:
            array = np.ascontiguousarray(array)
            response.outputs.add(name=name, datatype=from_dtype(array.dtype), shape=array.shape)
            response.raw_output_contents.append(
                array.astype(array.dtype.newbyteorder("<")).tobytes()
            )
        self.state.metrics.observe(model, 200, time.perf_counter() - start)
        return response


def decode_infer_request(request: Any) -> InferRequestBody:
    """A ModelInferRequest as the inputs and outputs :class:`ServedModel` takes."""
    raw = request.raw_input_contents
    if raw and len(raw) != len(request.inputs):
        raise BadRequestError(f"{len(raw)} raw_input_contents for {len(request.inputs)} inputs")
    inputs: dict[str, np.ndarray] = {}
    for index, tensor in enumerate(request.inputs):
        if tensor.name in inputs:
            raise BadRequestError(f"input {tensor.name!r} is given twice")
        inputs[tensor.name] = _array(tensor, raw[index] if raw else None)
    if not inputs:
        raise BadRequestError("the request has no inputs")
    outputs = [(o.name, True) for o in request.outputs] or None
    return InferRequestBody(
        id=request.id or None, inputs=inputs, outputs=outputs, binary_default=True
    )


def _array(tensor: Any, raw: bytes | None) -> np.ndarray:
    dtype = to_dtype(tensor.datatype)
    shape = list(tensor.shape)
    if any(d < 0 for d in shape):
        raise BadRequestError(f"input {tensor.name!r}: shape {shape} has a negative dimension")
    count = math.prod(shape)
    if raw is not None:
        if len(raw) != count * dtype.itemsize:
            raise BadRequestError(
                f"input {tensor.name!r}: {len(raw)} bytes do not make shape {shape} of {tensor.datatype}"
            )
        return np.frombuffer(raw, dtype=dtype).reshape(shape)
    field = _CONTENTS.get(tensor.datatype)
    if field is None:
        raise BadRequestError(
            f"input {tensor.name!r}: {tensor.datatype} travels in raw_input_contents only"
        )
    values = getattr(tensor.contents, field)
    if len(values) != count:
        raise BadRequestError(
            f"input {tensor.name!r}: {len(values)} values do not fill shape {shape} ({count} values)"
        )
    return np.asarray(values, dtype=dtype).reshape(shape)
