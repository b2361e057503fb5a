"""``ovlite serve`` (and the ``ovlite-serve`` script): parse the flags, then serve.

This module imports only argparse, so ``ovlite --help`` stays fast; the server is imported
when the command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

HINTS = ("latency", "throughput", "cumulative_throughput")


def register(commands: Any) -> None:
    """Add ``serve`` to the ``ovlite`` command's subparsers (entry point ``ovlite.commands``)."""
    parser = commands.add_parser(
        "serve",
        help="serve models over the KServe v2 (Triton) inference protocol",
        description="Serve ONNX models on an ovlite device over the KServe v2 protocol (HTTP).",
    )
    add_arguments(parser)
    parser.set_defaults(run=run)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("-m", "--model", dest="models", action="append", default=[], metavar="NAME=PATH",
        help="a model to serve: NAME=model.onnx, or model.onnx (named after the file); repeatable")  # fmt: skip
    add("--model-repository", metavar="DIR",
        help="serve every model in DIR: NAME.onnx or NAME/<version>/model.onnx (Triton's layout)")  # fmt: skip
    add("--model-config", dest="model_configs", action="append", default=[], metavar="NAME=FILE",
        help="a model's Triton config.pbtxt: dynamic_batching { max_queue_delay_microseconds } "
             "and max_batch_size serve it on BATCH with that latency budget; repeatable")  # fmt: skip
    add("-d", "--device", default="CPU", help="device string (default: CPU), e.g. AUTO, MULTI:CPU,OPENVINO.CPU, BATCH:CPU(8)")  # fmt: skip
    add("--hint", type=str.lower, choices=HINTS, help="performance hint")
    add("--config", dest="config_file", metavar="FILE", help="JSON file of compile properties")
    add("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    add("--http-port", type=int, default=8000, help="HTTP port (default: 8000)")
    add("--grpc-port", type=int, default=8001, help="gRPC port; 0 for none (default: 8001)")
    add("--queue-size", type=int, default=64,
        help="requests per model waiting for a device slot before 503 (default: 64)")  # fmt: skip
    add("--timeout", type=float, default=30.0,
        help="seconds a request may wait and run before 504; 0 for none (default: 30)")  # fmt: skip
    add("--max-body-bytes", type=int, default=64 << 20, help="request body limit (default: 64 MiB)")
    add("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))


def run(args: argparse.Namespace) -> int:
    from .model_config import ModelConfigError
    from .repository import ModelSourceError, collect
    from .server import ServeConfig, load_models, serve

    try:
        models = collect(args.models, args.model_repository, args.model_configs)
    except ModelSourceError as error:
        print(f"ovlite serve: error: {error}", file=sys.stderr)
        return 2
    config = ServeConfig(
        models=models,
        device=args.device,
        hint=args.hint,
        config_file=args.config_file,
        host=args.host,
        http_port=args.http_port,
        grpc_port=args.grpc_port,
        queue_size=args.queue_size,
        timeout_s=args.timeout or None,
        max_body_bytes=args.max_body_bytes,
        log_level=args.log_level,
    )
    try:
        served = load_models(config)
    except ModelConfigError as error:
        print(f"ovlite serve: error: {error}", file=sys.stderr)
        return 2
    serve(config, served)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The ``ovlite-serve`` script: the same flags as ``ovlite serve``."""
    parser = argparse.ArgumentParser(prog="ovlite-serve", description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    from ovlite import OvliteError

    try:
        return run(args)
    except OvliteError as error:
        print(f"ovlite serve: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
