"""``CompiledModel``: what ``Core.compile_model`` returns, as in OpenVINO's Python API.

It wraps the device's compiled model (:class:`ovlite.plugin.CompiledModel`, kept as
``device_model``) and writes once, for every device, what users call: ``compiled(inputs)``,
requests and queues, ``infer_async`` for asyncio, properties, and the core's
``OVLITE_INFERENCE_TIMEOUT``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import properties as props
from .binding import InputChecker, Results
from .device import CompiledModel as DeviceCompiledModel
from .device import fast_path, run_job
from .errors import ReadOnlyPropertyError, RequestTimeoutError
from .event_loops import post_to_loop, resolve_future
from .jobs import Job
from .model import HasPorts, Model
from .nodes import standalone_node
from .onnxruntime_words import word_types
from .streams import in_worker_thread
from .watchdog import watch_stop

if TYPE_CHECKING:
    import asyncio

    from .requests import InferRequest


class CompiledModel(HasPorts):
    """A model compiled for a device: run it, make requests for it, read its properties.

    Thread-safe: calls from many threads are each their own inference.
    """

    def __init__(self, device_model: DeviceCompiledModel) -> None:
        #: The device plugin's compiled model behind this one (for plugin authors and
        #: diagnostics: ``children()``, the executor, what a meta device chose).
        self.device_model = device_model
        #: The config it was compiled with (checked), which ``export_model`` keeps.
        self.compile_config: dict[str, Any] = {}
        self.inputs = device_model.inputs
        self.outputs = device_model.outputs
        for port in (*self.inputs, *self.outputs):
            port._make_node = standalone_node  # get_node(): the compiled model's Parameter/Result
        #: Checks and converts the inputs of every call; requests share it.
        self.input_checker = InputChecker(self.inputs)
        #: Outputs of element types held as raw words (bf16): {index: type}
        self.output_word_types = word_types([port.element_type for port in self.outputs])
        # OVLITE_INFERENCE_TIMEOUT, which the core wrote into the device model's properties
        self._timeout_ms = int(device_model.properties.get(props.inference_timeout.name, 0))
        self._run = fast_path(device_model, "run")
        self._submit = fast_path(device_model, "submit")
        # a sync call under the timeout runs in the caller's thread where the device can stop
        # a run when the timeout passes; else it is handed to a worker and waited for
        self._run_stoppable: Any = None
        if device_model.stoppable:
            self._run_stoppable = fast_path(device_model, "run_stoppable")
        # made once, and holding neither model: the watchdog keeps it while a job is watched
        timeout, device = self._timeout_ms, device_model.device_name
        self._timeout_error = lambda: RequestTimeoutError(
            f"inference on {device} did not finish within {timeout} ms "
            f"(OVLITE_INFERENCE_TIMEOUT); its result will be discarded"
        )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Plugin API 1: a device's compiled model subclassed ovlite.CompiledModel, which was
        # both sides in one class.  Such a class now derives from the plugin side instead.
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("ovlite."):
            return
        warnings.warn(
            f"{cls.__module__}.{cls.__qualname__} subclasses ovlite.CompiledModel, as plugin "
            f"API 1 did; a device's compiled model subclasses ovlite.plugin.CompiledModel in "
            f"plugin API 2 (it is based on that class for now)",
            DeprecationWarning,
            stacklevel=2,
        )
        cls.__bases__ = tuple(
            DeviceCompiledModel if base is CompiledModel else base for base in cls.__bases__
        )

    @property
    def device_name(self) -> str:
        return self.device_model.device_name

    # ---- running ---------------------------------------------------------------------------

    def start(self, job: Job) -> None:
        """Submit ``job`` to the device, watched by the timeout (requests and asyncio use it)."""
        self.watch(job)
        self._submit(job)

    def watch(self, job: Job) -> None:
        """Expire ``job`` with :class:`RequestTimeoutError` if it outlives the timeout."""
        if self._timeout_ms:
            from .watchdog import watch

            watch(job, self._timeout_ms, self._timeout_error)

    def run_checked(self, arrays: Sequence[np.ndarray]) -> tuple[Sequence[np.ndarray], Any]:
        """One sync inference of checked inputs.

        Without a timeout: in this thread.  With one, on a device that can stop a run
        (:attr:`ovlite.plugin.CompiledModel.stoppable`): in this thread too, and the
        watchdog stops the run when the timeout passes.  On other devices: through a
        watched job handed to a worker, which this thread waits for (the watchdog finishes
        the job with the timeout error while the device still runs it).

        Not from a worker thread (a callback): the watched job would wait for a worker, maybe
        this very one, so the call runs unwatched in this thread instead.
        """
        if not self._timeout_ms or in_worker_thread():
            return self._run(arrays)
        if self._run_stoppable is not None:
            return self._run_until_timeout(arrays)
        return run_job(self.device_model.submit_alone, arrays, self.watch)

    def _run_until_timeout(self, arrays: Sequence[np.ndarray]) -> tuple[Sequence[np.ndarray], Any]:
        """Run in this thread; past the timeout the run is stopped and the timeout error
        raised instead of whatever the run ended with (a result that came too late is
        dropped).  This thread alone reports the inference: exactly once."""
        stop = watch_stop(self._timeout_ms, self._timeout_error)
        try:
            result = self._run_stoppable(arrays, stop)  # type: ignore[misc]
        except BaseException:
            error = stop.end()
            if error is None:
                raise
            raise error from None
        error = stop.end()
        if error is not None:
            raise error
        return result

    def __call__(
        self, inputs: Any = None, share_inputs: bool = True, share_outputs: bool = False
    ) -> Results:
        """Run one inference synchronously; thread-safe (each call is its own job).

        Each call's results are its own arrays, which no later inference writes into, so
        ``share_outputs`` (openvino's choice between that and reusing one request's output
        memory) is accepted and changes nothing.
        """
        arrays = self.input_checker.check_all(inputs if inputs is not None else {})
        outputs, _ = self.run_checked(arrays)
        return Results(self.outputs, outputs)

    def release_memory(self) -> None:
        """openvino's hint to free the memory kept between inferences.  The compiled model
        stays usable; ONNX Runtime keeps its memory arena for the session's life, so the
        call frees nothing here."""

    def infer_new_request(self, inputs: Any = None) -> Results:
        return self(inputs)

    async def infer_async(self, inputs: Any = None) -> Results:
        """``await compiled.infer_async(inputs)``: run without blocking the event loop."""
        arrays = self.input_checker.check_all(inputs if inputs is not None else {})
        import asyncio  # here, not at import: most programs never use it

        loop = asyncio.get_running_loop()
        future: asyncio.Future[Job] = loop.create_future()
        job = Job(arrays, lambda done: post_to_loop(loop, resolve_future, future, done))
        self.start(job)
        job = await future
        if job.error is not None:
            raise job.error
        return Results(self.outputs, job.outputs)

    def create_infer_request(self) -> InferRequest:
        from .requests import InferRequest

        return InferRequest(self)

    # ---- properties and the model ----------------------------------------------------------

    def get_runtime_model(self) -> Model:
        return self.device_model.model

    def export_model(self, model_stream: Any = None) -> bytes | None:
        """The model and the settings it was compiled with, as bytes for ``Core.import_model``
        (written into ``model_stream`` when one is given, as openvino does).

        ONNX Runtime has no compiled form to keep: importing compiles the model again.
        """
        from .export import export_bytes
        from .serialization import proto_with_layouts

        blob = export_bytes(
            proto_with_layouts(self.device_model.model), self.device_name, self.compile_config
        )
        if model_stream is None:
            return blob
        model_stream.write(blob)
        return None

    def get_property(self, key: Any) -> Any:
        """Read a property by typed key or OpenVINO string."""
        return self.device_model.get_property(key)

    def supported_properties(self) -> list[str]:
        return self.device_model.supported_properties()

    def set_property(self, config: Any) -> None:
        """Compiled models are configured at compile time; every property is read-only here."""
        for key in config:
            name = props.lookup_key(key).name
            raise ReadOnlyPropertyError(
                f"property {name} cannot be changed on a compiled model; pass it to compile_model"
            )

    @property
    def optimal_number_of_requests(self) -> int:
        return self.device_model.optimal_number_of_requests

    def children(self) -> dict[str, CompiledModel]:
        """The compiled models a meta device (MULTI, AUTO, BATCH, RAY) runs on, by device
        name, to read what each chose; none for a plain device.  (ovlite's own.)"""
        return {name: CompiledModel(child) for name, child in self.device_model.children().items()}

    # ---- life ------------------------------------------------------------------------------

    def wait_until_ready(self, timeout: float | None = None) -> bool:
        """Wait (at most ``timeout`` seconds) until the device has settled: AUTO compiles,
        measures and switches in the background while it already serves requests.  ``True``
        when nothing is left running; other devices are ready at once.  (ovlite's own.)"""
        return self.device_model.wait_until_ready(timeout)

    def close(self) -> None:
        """Release the device's resources; jobs already started still finish."""
        self.device_model.close()

    def __enter__(self) -> CompiledModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<CompiledModel {self.device_model.model.friendly_name!r} on {self.device_name}>"


__all__ = ["CompiledModel"]
