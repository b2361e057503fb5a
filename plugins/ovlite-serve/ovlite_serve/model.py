"""One served model: compiled once, its KServe metadata and config, and admission control.

Requests run on the compiled model's async path with at most
``OPTIMAL_NUMBER_OF_INFER_REQUESTS`` in flight on the device; up to ``queue_size`` more wait
for a slot, and past that a request is refused at once (:class:`QueueFullError`, 503).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import numpy as np

from ovlite import InputError, OvliteError

from .codec import InferRequestBody
from .datatypes import from_dtype, triton_type
from .errors import (
    BadRequestError,
    InferenceFailedError,
    ModelNotFoundError,
    QueueFullError,
    RequestTimeoutError,
    ShuttingDownError,
)

DEFAULT_VERSION = "1"


@dataclass(frozen=True)
class TensorSpec:
    """A model input or output as the protocol describes it (-1 for a dynamic dimension)."""

    name: str
    datatype: str
    shape: list[int]

    @classmethod
    def of(cls, port: Any) -> TensorSpec:
        dtype = port.get_element_type().to_dtype()
        shape = [int(d) if d.is_static else -1 for d in port.get_partial_shape()]
        return cls(port.any_name, from_dtype(dtype), shape)

    def accepts(self, shape: tuple[int, ...]) -> bool:
        return len(shape) == len(self.shape) and all(
            want in (-1, got) for want, got in zip(self.shape, shape, strict=True)
        )

    def metadata(self) -> dict[str, Any]:
        return {"name": self.name, "datatype": self.datatype, "shape": self.shape}


class ServedModel:
    """A compiled model behind the protocol: validates, queues and runs infer requests."""

    def __init__(
        self,
        name: str,
        compiled: Any,
        device: str,
        queue_size: int,
        timeout_s: float | None,
        version: str = DEFAULT_VERSION,
    ) -> None:
        self.name = name
        self.version = version
        self.compiled = compiled
        self.device = device
        self.inputs = [TensorSpec.of(p) for p in compiled.inputs]
        self.outputs = [TensorSpec.of(p) for p in compiled.outputs]
        self.slots = max(1, int(compiled.optimal_number_of_requests))
        self.batch_size, self.batch_timeout_ms = _batching(compiled)
        self.capacity = self.slots + max(0, queue_size)
        self.timeout_s = timeout_s
        self.admitted = 0  # waiting + running; read by the queue-depth metric
        self.running = 0
        self.closing = False
        self._slots: asyncio.Semaphore | None = None

    # -- protocol descriptions -------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "versions": [self.version],
            "platform": "onnxruntime_onnx",
            "inputs": [t.metadata() for t in self.inputs],
            "outputs": [t.metadata() for t in self.outputs],
        }

    def config(self) -> dict[str, Any]:
        """The model's configuration in Triton's JSON form (what perf_analyzer reads)."""

        def tensor(t: TensorSpec) -> dict[str, Any]:
            return {"name": t.name, "data_type": triton_type(t.datatype), "dims": t.shape}

        config = {
            "name": self.name,
            "platform": "onnxruntime_onnx",
            "backend": "ovlite",
            "max_batch_size": 0,
            "input": [tensor(t) for t in self.inputs],
            "output": [tensor(t) for t in self.outputs],
            "instance_group": [{"count": self.slots, "kind": "KIND_MODEL"}],
            "parameters": {"device": {"string_value": self.device}},
        }
        if self.batch_timeout_ms is not None:  # read back from the compiled model
            delay = str(self.batch_timeout_ms * 1000)  # uint64 fields are strings in JSON
            config["dynamic_batching"] = {"max_queue_delay_microseconds": delay}
            config["parameters"]["batch_size"] = {"string_value": str(self.batch_size)}
        return config

    # -- inference -------------------------------------------------------------------------

    def validate(self, request: InferRequestBody) -> list[tuple[str, bool]]:
        """Check inputs against the model; returns the (output, binary) pairs to send back."""
        expected = {t.name: t for t in self.inputs}
        for name, array in request.inputs.items():
            spec = expected.get(name)
            if spec is None:
                raise BadRequestError(
                    f"model {self.name!r} has no input {name!r}; its inputs are {sorted(expected)}"
                )
            if from_dtype(array.dtype) != spec.datatype:
                raise BadRequestError(
                    f"input {name!r} is {spec.datatype}, not {from_dtype(array.dtype)}"
                )
            if not spec.accepts(array.shape):
                raise BadRequestError(
                    f"input {name!r} takes shape {spec.shape}, not {list(array.shape)}"
                )
        missing = sorted(set(expected) - set(request.inputs))
        if missing:
            raise BadRequestError(f"model {self.name!r} needs inputs {missing}")
        if request.outputs is None:
            return [(t.name, request.binary_default) for t in self.outputs]
        known = {t.name for t in self.outputs}
        for name, _ in request.outputs:
            if name not in known:
                raise BadRequestError(
                    f"model {self.name!r} has no output {name!r}; its outputs are {sorted(known)}"
                )
        return request.outputs

    async def answer(self, request: InferRequestBody) -> list[tuple[str, np.ndarray, bool]]:
        """Validate, run and pick the outputs asked for: (name, array, binary) in order."""
        wanted = self.validate(request)
        results = await self.infer(request.inputs)
        return [(name, results[name], binary) for name, binary in wanted]

    async def infer(self, inputs: dict[str, np.ndarray]) -> Any:
        """Run one inference: refused when the queue is full, RequestTimeoutError past the
        timeout (a request already on the device keeps its slot until the device is done)."""
        if self.closing:
            raise ShuttingDownError(
                f"the server is shutting down; model {self.name!r} takes no requests"
            )
        if self.admitted >= self.capacity:
            raise QueueFullError(
                f"model {self.name!r} has {self.admitted} requests queued or running (the limit is {self.capacity})"
            )
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.slots)
        self.admitted += 1
        started = asyncio.Event()
        task = asyncio.ensure_future(self._run(inputs, started))
        try:
            return await asyncio.wait_for(asyncio.shield(task), self.timeout_s)
        except TimeoutError:
            if not started.is_set():
                task.cancel()
            else:  # let the device finish; its result is dropped, its slot freed after it
                task.add_done_callback(_consume)
            raise RequestTimeoutError(
                f"model {self.name!r}: no result within {self.timeout_s} s"
            ) from None
        finally:
            self.admitted -= 1

    async def _run(self, inputs: dict[str, np.ndarray], started: asyncio.Event) -> Any:
        assert self._slots is not None
        async with self._slots:
            started.set()
            self.running += 1
            try:
                return await self.compiled.infer_async(inputs)
            except InputError as error:
                raise BadRequestError(str(error)) from None
            except OvliteError as error:
                raise InferenceFailedError(f"{type(error).__name__}: {error}") from None
            finally:
                self.running -= 1

    def close(self) -> None:
        self.closing = True
        self.compiled.close()


def find_model(models: dict[str, ServedModel], name: str, version: str | None) -> ServedModel:
    """The served model called ``name``; ModelNotFoundError names the ones served."""
    model = models.get(name)
    if model is None:
        raise ModelNotFoundError(f"unknown model {name!r}; served: {sorted(models)}")
    if version not in (None, "", model.version):
        raise ModelNotFoundError(
            f"model {name!r} has no version {version!r} (only {model.version})"
        )
    return model


def _batching(compiled: Any) -> tuple[int | None, int | None]:
    """(batch size, AUTO_BATCH_TIMEOUT ms) of a model compiled on BATCH, else (None, None)."""
    if "AUTO_BATCH_TIMEOUT" not in compiled.supported_properties():
        return None, None
    size = int(compiled.get_property("OPTIMAL_BATCH_SIZE"))
    return size, int(compiled.get_property("AUTO_BATCH_TIMEOUT"))


def _consume(task: asyncio.Future) -> None:
    if not task.cancelled():
        task.exception()
