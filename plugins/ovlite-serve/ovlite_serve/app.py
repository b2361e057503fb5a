"""The KServe v2 HTTP endpoints as a Starlette application over served models."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import __version__
from .codec import HEADER_LENGTH, decode_request, encode_response
from .errors import PayloadTooLargeError, ServeError
from .metrics import CONTENT_TYPE, Metrics
from .model import ServedModel, find_model

log = logging.getLogger("ovlite_serve")
EXTENSIONS = ["binary_tensor_data", "model_configuration"]


Service = Callable[[Any], AbstractAsyncContextManager[Any]]


def build_app(
    models: Mapping[str, ServedModel], max_body_bytes: int = 64 << 20, services: list[Service] = ()
) -> Starlette:
    """The ASGI application serving ``models`` (name -> ServedModel); closes them on shutdown.

    Each of ``services`` is called with the server's state (``models``, ``metrics``,
    ``stopping``) and entered while the application runs (the gRPC endpoint is one).
    """
    server = _Server(dict(models), max_body_bytes, list(services))
    m = "/v2/models/{name}"
    v = "/v2/models/{name}/versions/{version}"
    routes = [
        Route("/v2", server.server_metadata),
        Route("/v2/health/live", server.live),
        Route("/v2/health/ready", server.ready),
        Route("/v2/repository/index", server.repository_index, methods=["POST"]),
        Route("/metrics", server.metrics_page),
    ]
    for prefix in (m, v):
        routes += [
            Route(prefix, server._with_model(server.model_metadata)),
            Route(prefix + "/ready", server._with_model(server.model_ready)),
            Route(prefix + "/config", server._with_model(server.model_config)),
            Route(prefix + "/infer", server._with_model(server.infer), methods=["POST"]),
        ]
    app = Starlette(routes=routes, lifespan=server.lifespan)
    app.state.server = server
    return app


def _error(error: ServeError) -> JSONResponse:
    return JSONResponse({"error": error.message}, error.status, headers=error.headers())


class _Server:
    def __init__(
        self, models: dict[str, ServedModel], max_body_bytes: int, services: list[Service]
    ) -> None:
        self.models = models
        self.services = services
        self.max_body_bytes = max_body_bytes
        self.metrics = Metrics(models.values())
        self.stopping = False

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for service in self.services:
                await stack.enter_async_context(service(self))
            yield
        # uvicorn and the services have finished their requests in flight; stop the devices.
        for model in self.models.values():
            model.close()

    def _model(self, request: Request) -> ServedModel:
        params = request.path_params
        return find_model(self.models, params["name"], params.get("version"))

    async def server_metadata(self, request: Request) -> Response:
        return JSONResponse({"name": "ovlite", "version": __version__, "extensions": EXTENSIONS})

    async def live(self, request: Request) -> Response:
        return Response(status_code=200)

    async def ready(self, request: Request) -> Response:
        return Response(status_code=503 if self.stopping else 200)

    async def repository_index(self, request: Request) -> Response:
        index = [
            {"name": n, "version": m.version, "state": "READY"} for n, m in self.models.items()
        ]
        return JSONResponse(index)

    async def metrics_page(self, request: Request) -> Response:
        return Response(self.metrics.render(), media_type=CONTENT_TYPE)

    def _with_model(self, handler: Callable[[ServedModel, Request], Awaitable[Response]]) -> Any:
        """A route handler that finds the request's model first (404 for an unknown one)."""

        async def route(request: Request) -> Response:
            try:
                model = self._model(request)
            except ServeError as error:
                return _error(error)
            return await handler(model, request)

        return route

    async def model_metadata(self, model: ServedModel, request: Request) -> Response:
        return JSONResponse(model.metadata())

    async def model_ready(self, model: ServedModel, request: Request) -> Response:
        return Response(status_code=503 if model.closing else 200)

    async def model_config(self, model: ServedModel, request: Request) -> Response:
        return JSONResponse(model.config())

    async def infer(self, model: ServedModel, request: Request) -> Response:
        start = time.perf_counter()
        try:
            response = await self._infer(model, request)
        except ServeError as error:
            self.metrics.observe(model, error.status, None)
            return _error(error)
        except Exception as error:  # never a stack trace to the client; one in the log
            log.exception("model %r: inference failed", model.name)
            self.metrics.observe(model, 500, None)
            return JSONResponse({"error": f"internal error: {type(error).__name__}: {error}"}, 500)
        self.metrics.observe(model, 200, time.perf_counter() - start)
        return response

    async def _infer(self, model: ServedModel, request: Request) -> Response:
        body = await self._body(request)
        decoded = decode_request(body, request.headers.get(HEADER_LENGTH))
        outputs = await model.answer(decoded)
        data, header_length = encode_response(model.name, model.version, decoded.id, outputs)
        if header_length is None:
            return Response(data, media_type="application/json")
        return Response(
            data,
            media_type="application/octet-stream",
            headers={HEADER_LENGTH: str(header_length)},
        )

    async def _body(self, request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            raise PayloadTooLargeError(
                f"the body of {declared} bytes exceeds the limit of {self.max_body_bytes}"
            )
        chunks = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body_bytes:
                raise PayloadTooLargeError(
                    f"the body exceeds the limit of {self.max_body_bytes} bytes"
                )
            chunks.append(chunk)
        return b"".join(chunks)
