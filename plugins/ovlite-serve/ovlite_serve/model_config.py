"""A model's Triton configuration (``config.pbtxt``): the dynamic batching part, mapped on BATCH.

Triton users write dynamic batching per model as::

    max_batch_size: 8
    dynamic_batching { max_queue_delay_microseconds: 2000 }

``ovlite serve`` reads these two fields (from ``NAME/config.pbtxt`` in a model repository, or
``--model-config NAME=FILE``) and serves the model on ``BATCH:<device>(max_batch_size)`` with
``AUTO_BATCH_TIMEOUT`` set to the latency budget.  BATCH counts in whole milliseconds, so the
budget is rounded up to the next millisecond (0 stays 0: each request runs at once, unbatched).
``max_batch_size`` 0 lets BATCH take the device's ``OPTIMAL_BATCH_SIZE``; a device string that
is already ``BATCH:...`` keeps its own batch size and takes the budget alone.  Other fields of
the file are ignored.  The file is parsed with protobuf's text format into Triton's
``ModelConfig`` message from ``tritonclient.grpc`` (the ``[grpc]`` extra).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TIMEOUT = "AUTO_BATCH_TIMEOUT"


class ModelConfigError(ValueError):
    """A model configuration file that cannot be read or holds values out of range."""


@dataclass(frozen=True)
class DynamicBatching:
    """Dynamic batching for one model: up to ``max_batch_size`` rows (0: the device's
    choice), a partial batch waiting at most ``max_queue_delay_us`` before it runs."""

    max_batch_size: int
    max_queue_delay_us: int

    @property
    def timeout_ms(self) -> int:
        """BATCH's ``AUTO_BATCH_TIMEOUT`` for the budget: whole milliseconds, rounded up."""
        return math.ceil(self.max_queue_delay_us / 1000)

    def placement(self, device: str) -> tuple[str, dict[str, Any]]:
        """The device string and compile properties that give this batching on ``device``."""
        if device.upper().startswith("BATCH:"):
            batched = device
        elif self.max_batch_size > 0:
            batched = f"BATCH:{device}({self.max_batch_size})"
        else:
            batched = f"BATCH:{device}"
        return batched, {TIMEOUT: self.timeout_ms}


def read(path: str | Path) -> DynamicBatching | None:
    """The dynamic batching a ``config.pbtxt`` (or its JSON form, ``.json``) asks for; None
    when it has no ``dynamic_batching``.  ModelConfigError names the file and the fault."""
    try:
        from google.protobuf import json_format, text_format
        from tritonclient.grpc import model_config_pb2
    except ImportError as error:
        raise ModelConfigError(
            f"{path}: reading Triton model configs needs ovlite-serve[grpc] ({error})"
        ) from None
    file = Path(path)
    try:
        text = file.read_text()
    except OSError as error:
        raise ModelConfigError(f"cannot read model config {path}: {error}") from None
    config = model_config_pb2.ModelConfig()
    try:
        if file.suffix == ".json":
            json_format.Parse(text, config, ignore_unknown_fields=True)
        else:
            text_format.Parse(text, config, allow_unknown_field=True)
    except (text_format.ParseError, json_format.ParseError) as error:
        raise ModelConfigError(f"{path} is not a Triton model config: {error}") from None
    if not config.HasField("dynamic_batching"):
        return None
    delay = config.dynamic_batching.max_queue_delay_microseconds
    if config.max_batch_size < 0:
        raise ModelConfigError(f"{path}: max_batch_size is {config.max_batch_size}, not >= 0")
    return DynamicBatching(config.max_batch_size, delay)
