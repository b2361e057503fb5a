"""Compile the models, then serve them with uvicorn until SIGINT/SIGTERM.

On SIGTERM uvicorn stops accepting connections, lets every request in flight finish and be
answered, then the application's shutdown closes the compiled models.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from . import model_config
from .app import build_app
from .model import ServedModel
from .repository import ModelSource

log = logging.getLogger("ovlite_serve")


@dataclass
class ServeConfig:
    """What ``ovlite serve`` was asked to do."""

    models: list[ModelSource]
    device: str = "CPU"
    hint: str | None = None
    config_file: str | None = None
    host: str = "127.0.0.1"
    http_port: int = 8000
    grpc_port: int = 8001  # 0: no gRPC
    queue_size: int = 64
    timeout_s: float | None = 30.0
    max_body_bytes: int = 64 << 20
    log_level: str = "info"
    properties: dict[str, Any] = field(default_factory=dict)

    def compile_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {}
        if self.config_file:
            config.update(json.loads(Path(self.config_file).read_text()))
        if self.hint:
            config["PERFORMANCE_HINT"] = self.hint.upper()
        config.update(self.properties)
        return config


def load_models(config: ServeConfig) -> dict[str, ServedModel]:
    """Compile every model on the device, on BATCH where its Triton config asks for dynamic
    batching (errors are ovlite's typed errors, and ModelConfigError for a config file)."""
    import ovlite

    core = ovlite.Core()
    compile_config = config.compile_config()
    served = {}
    for source in config.models:
        device, properties = config.device, compile_config
        batching = model_config.read(source.config) if source.config else None
        if batching is not None:
            device, extra = batching.placement(config.device)
            properties = {**compile_config, **extra}
        compiled = core.compile_model(source.path, device, properties)
        model = ServedModel(
            source.name, compiled, device, config.queue_size, config.timeout_s, source.version
        )
        served[source.name] = model
        log.info(
            "model %r version %s from %s on %s: %d concurrent inferences, queue %d%s",
            model.name, model.version, source.path, device, model.slots, config.queue_size,
            f", batches within {model.batch_timeout_ms} ms" if model.batch_timeout_ms is not None else "",
        )  # fmt: skip
    return served


class _Uvicorn(uvicorn.Server):
    """uvicorn's server that marks the application not ready as soon as it is told to stop."""

    def __init__(self, config: uvicorn.Config, on_exit: Any) -> None:
        super().__init__(config)
        self._on_exit = on_exit

    def handle_exit(self, sig: int, frame: Any) -> None:
        self._on_exit()
        super().handle_exit(sig, frame)


def _services(config: ServeConfig) -> list:
    if not config.grpc_port:
        return []
    try:
        from .grpc_service import grpc_service
    except ImportError as error:
        log.warning("no gRPC (%s): pip install ovlite-serve[grpc], or --grpc-port 0", error)
        return []
    return [grpc_service(config.host, config.grpc_port, config.max_body_bytes)]


def serve(config: ServeConfig, models: dict[str, ServedModel] | None = None) -> None:
    """Serve the models (compiled here unless given) until the process is told to stop."""
    models = load_models(config) if models is None else models
    app = build_app(models, config.max_body_bytes, _services(config))

    def stopping() -> None:
        app.state.server.stopping = True

    uvicorn_config = uvicorn.Config(
        app,
        host=config.host,
        port=config.http_port,
        log_level=config.log_level,
        access_log=False,
        http="httptools",
        loop="auto",
        timeout_graceful_shutdown=None,
    )
    _Uvicorn(uvicorn_config, stopping).run()
