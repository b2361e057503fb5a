"""The plugin conformance suite: plain pytest test classes that a plugin's tests subclass.

A plugin's test module names its device and states what it claims; nothing else is needed
(no conftest, no pytest plugin)::

    from ovlite.testing.conformance import PluginConformance

    class TestMyDevice(PluginConformance):
        device = "MYDEV"
        package = "ovlite-mydevice"          # the distribution get_versions should name
        supports_cancellation = True          # jobs wait in a queue, so cancel() can win
        supports_profiling = True             # PERF_COUNT gives request.profiling_info
        supports_throughput_streams = True    # NUM_STREAMS > 1 runs requests side by side
        supports_dynamic_shapes = True        # one compiled model, any batch size

Results are compared with the ``onnx`` package's reference evaluator (the oracle), within
``rtol``/``atol``.  A test of a feature the class does not claim, or of a setting the device
does not take, is skipped with a reason that says so; no test depends on timings.

Fixtures a subclass may override: ``core`` (default ``ovlite.Core()``, which finds installed
plugins; override it to register an in-process plugin), ``model`` (default
``ovlite.models.tiny_mlp(batch=None)``), ``two_inputs_model`` (default
``ovlite.models.two_inputs()``) and ``reference`` (the oracle).  Class attributes:
``config`` (extra settings for every compile), ``rtol``, ``atol``, ``batch`` (the batch size
of generated inputs) and ``timeout_s`` (how long the suite waits before calling a lost job a
failure instead of hanging; not a performance limit).

The suite is split by area so that a plugin may run only some of it:
:class:`PropertiesConformance`, :class:`InferenceConformance`, :class:`JobConformance`,
:class:`AsyncQueueConformance`, :class:`BadInputConformance`,
:class:`ConcurrencyConformance`, :class:`CancellationConformance`,
:class:`ProfilingConformance` and :class:`MetaDeviceConformance`;
:class:`PluginConformance` is all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pytest

import ovlite as ov
from ovlite import models
from ovlite import properties as props
from ovlite.binding import Results
from ovlite.testing.data import random_inputs

#: What every compiled model must report (docs/plugins.md, "Properties a compiled model reports").
REQUIRED_COMPILED_PROPERTIES = (
    props.optimal_number_of_infer_requests.name,
    props.hint.performance_mode.name,
    props.configuration_reason.name,
    props.execution_devices.name,
    props.supported_properties.name,
)

#: Writable settings with a value each accepts: used to find one a device does not take.
_SAMPLE_SETTINGS = {
    props.cache_dir.name: "ovlite-conformance-cache",
    props.hint.enable_cpu_pinning.name: True,
    props.hint.enable_hyper_threading.name: True,
    props.inference_num_threads.name: 1,
    props.enable_profiling.name: True,
    props.streams.num.name: 1,
    props.hint.execution_mode.name: "ACCURACY",
    props.intel_auto.enable_startup_fallback.name: True,  # AUTO's; plain devices refuse it
}


class ReferenceOracle:
    """Expected outputs of a model, computed with ``onnx.reference.ReferenceEvaluator``.

    ``oracle(model, inputs)`` returns the outputs in the model's output order.  Evaluators
    are built once per model and used under a lock, so the oracle may be called from threads.
    """

    def __init__(self) -> None:
        self._evaluators: dict[int, tuple[ov.Model, Any]] = {}
        self._lock = threading.Lock()

    def __call__(self, model: ov.Model, inputs: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        from onnx.reference import ReferenceEvaluator

        with self._lock:
            entry = self._evaluators.get(id(model))
            if entry is None:  # the model is kept with its evaluator, so its id stays unique
                entry = self._evaluators[id(model)] = (model, ReferenceEvaluator(model.proto))
            names = [port.any_name for port in model.outputs]
            with np.errstate(all="ignore"):  # NaN and infinity in inputs are data here too
                outputs = entry[1].run(names, dict(inputs))
            return [np.asarray(value) for value in outputs]


class ConformanceBase:
    """Fixtures, claims and helpers shared by every conformance class."""

    #: The device under test, as a user types it: ``"MYDEV"`` (or ``"MYDEV.1"``).
    device: ClassVar[str] = ""
    #: The distribution that provides the device; ``None`` accepts any (in-process plugins).
    package: ClassVar[str | None] = None
    #: Extra settings passed to every ``compile_model`` of the suite.
    config: ClassVar[Mapping[str, Any]] = {}
    #: Tolerances against the reference evaluator (float32 arithmetic in another order).
    rtol: ClassVar[float] = 1e-4
    atol: ClassVar[float] = 1e-5
    #: The batch size of generated inputs for dynamic dimensions.
    batch: ClassVar[int] = 2
    #: How long the suite waits for an inference before calling it lost (a hang guard).
    timeout_s: ClassVar[float] = 120.0

    # Claims: features a device may have.  A test of an unclaimed feature is skipped.
    supports_cancellation: ClassVar[bool] = False
    supports_profiling: ClassVar[bool] = False
    supports_throughput_streams: ClassVar[bool] = False
    supports_dynamic_shapes: ClassVar[bool] = False

    # ---- fixtures a plugin's test class may override ---------------------------------------

    @pytest.fixture
    def core(self) -> ov.Core:
        """The Core the suite compiles on; installed plugins are found through entry points."""
        return ov.Core()

    @pytest.fixture
    def model(self) -> ov.Model:
        """A one-input, one-output model (a small MLP) most tests run."""
        return self.fit_model(ov.read_model(models.tiny_mlp(batch=None)))

    @pytest.fixture
    def two_inputs_model(self) -> ov.Model:
        """A model with an f32 and an i64 input and two outputs."""
        return self.fit_model(ov.read_model(models.two_inputs()))

    @pytest.fixture
    def reference(self) -> Callable[[ov.Model, Mapping[str, np.ndarray]], list[np.ndarray]]:
        """The oracle: ``reference(model, inputs)`` gives the expected outputs."""
        return ReferenceOracle()

    @pytest.fixture
    def compile_model(self, core: ov.Core) -> Iterator[Callable[..., ov.CompiledModel]]:
        """``compile_model(model, config=None, device=None)`` on the device under test.

        The class's ``config`` is added to every compile (for a meta device string, as the
        device's ``DEVICE_PROPERTIES`` entry); compiled models are closed after the test.
        """
        opened: list[ov.CompiledModel] = []

        def compile_model(
            model: ov.Model, config: Mapping[str, Any] | None = None, device: str | None = None
        ) -> ov.CompiledModel:
            target = device or self.device
            merged: dict[str, Any] = dict(config or {})
            if target == self.device:
                merged = {**self.config, **merged}
            elif self.config:
                merged.setdefault(props.device.properties.name, {})[self.family] = dict(self.config)
            compiled = core.compile_model(model, target, merged)
            opened.append(compiled)
            return compiled

        yield compile_model
        for compiled in opened:
            compiled.close()

    # ---- helpers ---------------------------------------------------------------------------

    @property
    def family(self) -> str:
        """The device family (``MYDEV`` for ``MYDEV.1``)."""
        if not self.device:
            raise AssertionError(
                f"{type(self).__name__} does not name its device: set device = 'MYDEV'"
            )
        return ov.parse_device(self.device).name

    def fit_model(self, model: ov.Model) -> ov.Model:
        """Fix dynamic dimensions to ``batch`` unless the device claims dynamic shapes."""
        if not self.supports_dynamic_shapes and model.is_dynamic():
            model.reshape(
                {
                    port.any_name: [self.batch if d < 0 else d for d in port.partial_shape]
                    for port in model.inputs
                }
            )
        return model

    def plugin_device(self, core: ov.Core) -> ov.Device:
        """The plugin's ``Device`` object for the family under test."""
        devices = core.devices()
        assert self.family in devices, (
            f"no installed plugin provides {self.family}; devices: {', '.join(sorted(devices))}; "
            f"plugin failures: {[(f.name, f.error) for f in core.plugin_failures]}"
        )
        return devices[self.family]

    def require(self, claim: str) -> None:
        """Skip the test unless the class claims ``supports_<claim>``."""
        if not getattr(self, f"supports_{claim}"):
            pytest.skip(
                f"{self.family} does not claim {claim.replace('_', ' ')} "
                f"(set supports_{claim} = True to test it)"
            )

    def require_setting(self, core: ov.Core, key: str) -> None:
        """Skip the test unless the device takes the setting ``key``."""
        if key not in self.plugin_device(core).config_keys:
            pytest.skip(f"{self.family} does not take {key} (it is not in its config_keys)")

    def inputs(self, model: ov.Model, seed: int, batch: int | None = None) -> dict[str, np.ndarray]:
        """Seeded inputs for every port of ``model``, by input name."""
        return random_inputs(model.inputs, seed, dynamic_dim=batch or self.batch)

    def assert_outputs(
        self, actual: Any, expected: Sequence[np.ndarray], what: str = "the inference"
    ) -> None:
        """Compare outputs (a ``Results`` or a list) with the oracle's, output by output."""
        actual = [np.asarray(actual[i]) for i in range(len(expected))]
        for index, (got, want) in enumerate(zip(actual, expected, strict=True)):
            assert got.shape == want.shape, (
                f"{what}: output {index} has shape {got.shape}, expected {want.shape}"
            )
            assert got.dtype == want.dtype, (
                f"{what}: output {index} has element type {got.dtype}, expected {want.dtype}"
            )
            np.testing.assert_allclose(
                got,
                want,
                rtol=self.rtol,
                atol=self.atol,
                equal_nan=True,
                err_msg=f"{what}: output {index} differs from the reference evaluator's",
            )

    def finish(self, request: ov.InferRequest) -> None:
        """Wait for ``request``; raise its error; fail (instead of hanging) if it is lost."""
        assert request.wait_for(self.timeout_s * 1000), (
            f"an inference on {self.device} did not finish within {self.timeout_s} s: "
            "a job handed to submit() must always be finished (set_result or set_error)"
        )

    def outcome(self, request: ov.InferRequest) -> str:
        """``"completed"`` or ``"cancelled"``; any other error is raised."""
        try:
            self.finish(request)
        except ov.RequestCancelledError:
            return "cancelled"
        return "completed"

    def wait_all(self, queue: ov.AsyncInferQueue) -> None:
        """``queue.wait_all()`` with the hang guard; its pending error is raised."""
        self.in_threads(lambda _: queue.wait_all(), 1)

    def in_threads(self, target: Callable[[int], Any], count: int) -> None:
        """Run ``target(i)`` in ``count`` threads; re-raise the first exception of any."""
        errors: list[BaseException] = []

        def guarded(index: int) -> None:
            try:
                target(index)
            except BaseException as exc:  # reported in the test's thread below
                errors.append(exc)

        threads = [
            threading.Thread(target=guarded, args=(i,), name=f"conformance-{i}", daemon=True)
            for i in range(count)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(self.timeout_s)
        stuck = [t.name for t in threads if t.is_alive()]
        assert not stuck, f"threads {stuck} did not finish within {self.timeout_s} s"
        if errors:
            raise errors[0]

    def throughput(self) -> dict[str, Any]:
        return {props.hint.performance_mode.name: "THROUGHPUT"}

    def one_stream(self, core: ov.Core) -> dict[str, Any]:
        """LATENCY, and one stream when the device takes NUM_STREAMS: jobs queue up."""
        config: dict[str, Any] = {props.hint.performance_mode.name: "LATENCY"}
        if props.streams.num.name in self.plugin_device(core).config_keys:
            config[props.streams.num.name] = 1
        return config

    @contextlib.contextmanager
    def stream_held(self, compiled: ov.CompiledModel, model: ov.Model) -> Iterator[None]:
        """Keep a stream busy: a request whose callback waits until the block exits.

        Devices built on ``StreamsExecutor`` run callbacks on the stream's worker, so with one
        stream, jobs started inside the block queue behind it.  Other designs may run them at
        once; tests using this accept both.
        """
        entered, release = threading.Event(), threading.Event()

        def hold(_: Any) -> None:
            entered.set()
            release.wait(self.timeout_s)

        holder = compiled.create_infer_request()
        holder.set_callback(hold)
        holder.start_async(self.inputs(model, 999))
        assert entered.wait(self.timeout_s), f"the first inference on {self.device} never ended"
        try:
            yield
        finally:
            release.set()
            self.finish(holder)


class _RecordingJob(ov.Job):
    """A job that records how the plugin finished it and in which thread."""

    def __init__(self, inputs: Sequence[np.ndarray]) -> None:
        super().__init__(inputs, self._on_done)
        self.finished = threading.Event()
        self.finish_calls = 0
        self.done_in: int | None = None

    def set_result(self, outputs: Sequence[np.ndarray], info: dict[str, Any] | None = None) -> None:
        self.finish_calls += 1
        super().set_result(outputs, info)

    def set_error(self, error: BaseException, info: dict[str, Any] | None = None) -> None:
        self.finish_calls += 1
        super().set_error(error, info)

    def _on_done(self, job: ov.Job) -> None:
        self.done_in = threading.get_ident()
        self.finished.set()


def _in_port_order(model: ov.Model, inputs: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    return [inputs[port.any_name] for port in model.inputs]


def _unconvertible(dtype: np.dtype) -> np.dtype:
    """An element type that does not convert safely to ``dtype``."""
    if dtype.kind == "f":
        return np.dtype(np.complex64)
    if dtype.kind in "iu":
        return np.dtype(np.float32)
    return np.dtype(np.float32) if dtype.kind == "b" else np.dtype(np.complex128)


# ==== the areas ================================================================================


class PropertiesConformance(ConformanceBase):
    """Availability, versions, device settings, and what a compiled model must report."""

    def test_device_is_installed_available_and_listed(self, core: ov.Core) -> None:
        device = self.plugin_device(core)
        availability = device.availability()
        assert isinstance(availability, ov.Availability), (
            f"availability() returned {availability!r}, not an ovlite.Availability"
        )
        assert availability.available, f"{self.family} cannot run here: {availability.reason}"
        assert isinstance(availability.reason, str)
        if device.is_meta:  # as in OpenVINO, meta devices are not in available_devices
            assert self.family in core.devices(), f"{self.family} missing from core.devices()"
            return
        listed = {name.split(".")[0] for name in core.available_devices}
        assert self.family in listed, f"{self.family} missing from {core.available_devices}"

    def test_get_versions_names_the_package(self, core: ov.Core) -> None:
        name = ov.parse_device(self.device).full_name
        version = core.get_versions(self.device)[name]
        if self.package is None:
            assert version.description, f"get_versions({self.device!r}) names no package"
        else:
            assert version.description == self.package, (
                f"{self.device} comes from {version.description!r}, expected {self.package!r}"
            )

    def test_full_name_and_priority_are_reported(self, core: ov.Core) -> None:
        full_name = core.get_property(self.device, props.device.full_name)
        assert isinstance(full_name, str) and full_name, "FULL_DEVICE_NAME must be a string"
        priority = core.get_property(self.device, props.device.priority)
        assert isinstance(priority, int), f"priority must be an int, got {priority!r}"

    def test_device_takes_the_performance_hint(self, core: ov.Core) -> None:
        keys = self.plugin_device(core).config_keys
        assert props.hint.performance_mode.name in keys, (
            f"{self.family} must take PERFORMANCE_HINT; its config_keys: {sorted(keys)}"
        )

    def test_every_supported_property_of_the_device_can_be_read(self, core: ov.Core) -> None:
        keys = core.get_property(self.device, props.supported_properties)
        unreadable = {}
        for key in keys:
            try:
                core.get_property(self.device, key)
            except ov.OvliteError as exc:
                unreadable[key] = str(exc)
        assert not unreadable, (
            f"{self.family} lists properties it cannot report (each key in config_keys needs "
            f"its default in device_properties()): {unreadable}"
        )

    def test_a_setting_the_device_does_not_take_is_refused(
        self, core: ov.Core, model: ov.Model, compile_model: Callable[..., ov.CompiledModel]
    ) -> None:
        taken = self.plugin_device(core).config_keys
        foreign = {k: v for k, v in _SAMPLE_SETTINGS.items() if k not in taken}
        if not foreign:
            pytest.skip(f"{self.family} takes every sample setting")
        key, value = next(iter(foreign.items()))
        with pytest.raises(ov.UnknownPropertyError, match=self.family):
            compile_model(model, {key: value})

    @pytest.mark.parametrize("hint", ["LATENCY", "THROUGHPUT", "CUMULATIVE_THROUGHPUT"])
    def test_compiled_model_reports_the_required_properties(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], hint: str
    ) -> None:
        compiled = compile_model(model, {props.hint.performance_mode.name: hint})
        supported = compiled.get_property(props.supported_properties)
        missing = [key for key in REQUIRED_COMPILED_PROPERTIES if key not in supported]
        assert not missing, f"the compiled model does not report {missing}"
        for key in supported:
            compiled.get_property(key)  # each listed property can be read
        optimal = compiled.get_property(props.optimal_number_of_infer_requests)
        assert isinstance(optimal, int) and optimal >= 1, (
            f"OPTIMAL_NUMBER_OF_INFER_REQUESTS must be an int >= 1, got {optimal!r}"
        )
        applied = compiled.get_property(props.hint.performance_mode)
        accepted = {hint, "THROUGHPUT"} if hint == "CUMULATIVE_THROUGHPUT" else {hint}
        assert applied in accepted, f"asked for {hint}, the compiled model reports {applied}"
        reason = compiled.get_property(props.configuration_reason)
        assert isinstance(reason, str) and reason.strip(), (
            "OVLITE_CONFIGURATION_REASON must say why these streams, threads and requests"
        )
        devices = compiled.get_property(props.execution_devices)
        assert isinstance(devices, list) and devices, f"EXECUTION_DEVICES is {devices!r}"
        assert all(ov.parse_device(d).name == self.family for d in devices), (
            f"EXECUTION_DEVICES {devices} should name {self.family}"
        )

    def test_properties_of_a_compiled_model_are_read_only(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel]
    ) -> None:
        compiled = compile_model(model)
        with pytest.raises(ov.ReadOnlyPropertyError):
            compiled.set_property({props.hint.performance_mode.name: "THROUGHPUT"})

    def test_latency_hint_runs_one_stream(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel]
    ) -> None:
        compiled = compile_model(model, {props.hint.performance_mode.name: "LATENCY"})
        if props.streams.num.name not in compiled.get_property(props.supported_properties):
            pytest.skip(f"{self.family} does not report NUM_STREAMS")
        assert compiled.get_property(props.streams.num) == 1

    def test_throughput_keeps_at_least_as_many_requests_in_flight_as_latency(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel]
    ) -> None:
        latency = compile_model(model, {props.hint.performance_mode.name: "LATENCY"})
        throughput = compile_model(model, self.throughput())
        key = props.optimal_number_of_infer_requests
        assert throughput.get_property(key) >= latency.get_property(key)

    def test_explicit_num_streams_wins_over_the_hint(
        self, core: ov.Core, model: ov.Model, compile_model: Callable[..., ov.CompiledModel]
    ) -> None:
        self.require("throughput_streams")
        self.require_setting(core, props.streams.num.name)
        compiled = compile_model(
            model, {props.hint.performance_mode.name: "LATENCY", props.streams.num.name: 2}
        )
        assert compiled.get_property(props.streams.num) == 2
        assert compiled.get_property(props.optimal_number_of_infer_requests) >= 2

    def test_num_requests_caps_the_streams_a_hint_picks(
        self, core: ov.Core, model: ov.Model, compile_model: Callable[..., ov.CompiledModel]
    ) -> None:
        self.require("throughput_streams")
        self.require_setting(core, props.hint.num_requests.name)
        compiled = compile_model(model, {**self.throughput(), props.hint.num_requests.name: 1})
        if props.streams.num.name not in compiled.get_property(props.supported_properties):
            pytest.skip(f"{self.family} does not report NUM_STREAMS")
        assert compiled.get_property(props.streams.num) == 1


class InferenceConformance(ConformanceBase):
    """Synchronous and asynchronous inference, callbacks and userdata, asyncio, close."""

    def test_infer_matches_the_reference(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        request = compile_model(model).create_infer_request()
        inputs = self.inputs(model, 1)
        results = request.infer(inputs)
        self.assert_outputs(results, reference(model, inputs), "infer()")
        self.assert_outputs(request.results, reference(model, inputs), "request.results")

    def test_calling_the_compiled_model_matches_the_reference(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        inputs = self.inputs(model, 2)
        self.assert_outputs(compile_model(model)(inputs), reference(model, inputs), "compiled()")

    def test_mixed_input_types_and_several_outputs_match_the_reference(
        self,
        two_inputs_model: ov.Model,
        compile_model: Callable[..., ov.CompiledModel],
        reference: Any,
    ) -> None:
        compiled = compile_model(two_inputs_model)
        inputs = self.inputs(two_inputs_model, 3)
        expected = reference(two_inputs_model, inputs)
        results = compiled(inputs)
        self.assert_outputs(results, expected)
        for index, port in enumerate(compiled.outputs):
            np.testing.assert_array_equal(results[port.any_name], results[index])

    def test_start_async_and_wait_match_the_reference(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        request = compile_model(model).create_infer_request()
        inputs = self.inputs(model, 4)
        request.start_async(inputs)
        self.finish(request)
        self.assert_outputs(request.results, reference(model, inputs), "start_async()")

    def test_callback_gets_the_userdata_of_each_start(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        request = compile_model(model).create_infer_request()
        seen: list[Any] = []
        request.set_callback(seen.append, "fixed")
        request.start_async(self.inputs(model, 5))
        self.finish(request)
        inputs = self.inputs(model, 6)
        request.start_async(inputs, userdata="per call")
        self.finish(request)
        assert seen == ["fixed", "per call"], f"the callback saw {seen}"
        self.assert_outputs(request.results, reference(model, inputs))

    def test_executed_on_names_this_device(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel]
    ) -> None:
        request = compile_model(model).create_infer_request()
        request.infer(self.inputs(model, 7))
        assert request.executed_on is not None, 'set_result info must name the "device"'
        assert ov.parse_device(request.executed_on).name == self.family

    def test_a_request_runs_many_inferences_in_turn(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        request = compile_model(model).create_infer_request()
        for seed in range(10, 16):
            inputs = self.inputs(model, seed)
            if seed % 2:
                request.start_async(inputs)
                self.finish(request)
            else:
                request.infer(inputs)
            self.assert_outputs(request.results, reference(model, inputs), f"inference {seed}")

    def test_results_stay_valid_after_the_next_inference(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        request = compile_model(model).create_infer_request()
        first_inputs = self.inputs(model, 20)
        first = request.infer(first_inputs)[0]  # no copy: the plugin must not reuse its buffer
        request.infer(self.inputs(model, 21))
        self.assert_outputs([first], reference(model, first_inputs)[:1], "an earlier result")

    def test_asyncio_inferences_match_the_reference(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        compiled = compile_model(model)
        request = compiled.create_infer_request()
        a, b = self.inputs(model, 22), self.inputs(model, 23)

        async def both() -> tuple[Results, Results]:
            first = await asyncio.wait_for(compiled.infer_async(a), self.timeout_s)
            second = await asyncio.wait_for(request.infer_async(b), self.timeout_s)
            return first, second

        first, second = asyncio.run(both())
        self.assert_outputs(first, reference(model, a), "compiled.infer_async()")
        self.assert_outputs(second, reference(model, b), "request.infer_async()")

    def test_each_inference_may_have_its_own_batch_size(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        self.require("dynamic_shapes")
        if not model.is_dynamic():
            pytest.skip("the model has no dynamic dimension")
        compiled = compile_model(model)
        request = compiled.create_infer_request()
        for batch in (1, 3, 8):
            inputs = self.inputs(model, 30 + batch, batch=batch)
            expected = reference(model, inputs)
            self.assert_outputs(request.infer(inputs), expected, f"batch {batch}")
            self.assert_outputs(compiled(inputs), expected, f"batch {batch}")

    def test_jobs_started_before_close_still_finish(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        compiled = compile_model(model)
        requests = [compiled.create_infer_request() for _ in range(3)]
        inputs = [self.inputs(model, 40 + i) for i in range(3)]
        for request, data in zip(requests, inputs, strict=True):
            request.start_async(data)
        compiled.close()
        for request, data in zip(requests, inputs, strict=True):
            self.finish(request)
            self.assert_outputs(request.results, reference(model, data), "a job before close")

    def test_an_inference_after_close_ends_without_hanging(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        compiled = compile_model(model)
        request = compiled.create_infer_request()
        compiled.close()
        inputs = self.inputs(model, 45)
        try:
            request.start_async(inputs)
            self.finish(request)
        except ov.OvliteError:
            return  # refusing work after close is right
        self.assert_outputs(request.results, reference(model, inputs), "a job after close")


class JobConformance(ConformanceBase):
    """The plugin side of the contract, driven directly: ``submit``, ``run``, jobs."""

    def test_submit_finishes_a_job_exactly_once_with_outputs_in_output_order(
        self,
        two_inputs_model: ov.Model,
        compile_model: Callable[..., ov.CompiledModel],
        reference: Any,
    ) -> None:
        compiled = compile_model(two_inputs_model)
        inputs = self.inputs(two_inputs_model, 50)
        job = _RecordingJob(_in_port_order(two_inputs_model, inputs))
        compiled.submit(job)
        assert job.finished.wait(self.timeout_s), "submit() never finished the job"
        assert job.error is None, f"the job failed: {job.error!r}"
        assert job.finish_calls == 1, f"the job was finished {job.finish_calls} times"
        self.assert_outputs(list(job.outputs or []), reference(two_inputs_model, inputs))
        assert job.info is None or isinstance(job.info, Mapping), "info must be a mapping"

    def test_submit_runs_the_job_in_another_thread(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel]
    ) -> None:
        compiled = compile_model(model)
        job = _RecordingJob(_in_port_order(model, self.inputs(model, 51)))
        compiled.submit(job)
        assert job.finished.wait(self.timeout_s), "submit() never finished the job"
        assert job.done_in != threading.get_ident(), (
            "submit() ran the job in the caller's thread; it must return at once and run the "
            "job elsewhere (run() is the place for running in the caller's thread)"
        )

    def test_run_returns_outputs_in_output_order_and_a_mapping_of_info(
        self,
        two_inputs_model: ov.Model,
        compile_model: Callable[..., ov.CompiledModel],
        reference: Any,
    ) -> None:
        compiled = compile_model(two_inputs_model)
        inputs = self.inputs(two_inputs_model, 52)
        outputs, info = compiled.run(_in_port_order(two_inputs_model, inputs))
        self.assert_outputs(list(outputs), reference(two_inputs_model, inputs), "run()")
        assert info is None or isinstance(info, Mapping), "info must be a mapping"

    def test_a_job_cancelled_before_submit_is_dropped_not_run(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel]
    ) -> None:
        compiled = compile_model(model)
        cancelled = _RecordingJob(_in_port_order(model, self.inputs(model, 53)))
        assert cancelled.cancel()
        compiled.submit(cancelled)
        # jobs after it give the plugin time to reach it (most devices take jobs in order)
        later = [
            _RecordingJob(_in_port_order(model, self.inputs(model, 54 + i)))
            for i in range(2 * compiled.optimal_number_of_requests + 1)
        ]
        for job in later:
            compiled.submit(job)
        for job in later:
            assert job.finished.wait(self.timeout_s), "submit() never finished a job"
        assert cancelled.finish_calls == 0, (
            "the plugin finished a cancelled job: call job.begin() first and drop the job "
            "when it returns False"
        )
        assert isinstance(cancelled.error, ov.RequestCancelledError)

    def test_a_callback_may_start_the_next_inference(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        compiled = compile_model(model)
        chain = [compiled.create_infer_request() for _ in range(8)]
        inputs = [self.inputs(model, 60 + i) for i in range(len(chain))]
        for index, request in enumerate(chain[:-1]):
            following, data = chain[index + 1], inputs[index + 1]
            request.set_callback(lambda _, nxt=following, d=data: nxt.start_async(d))
        chain[0].start_async(inputs[0])
        for request, data in zip(chain, inputs, strict=True):
            self.finish(request)
            self.assert_outputs(request.results, reference(model, data), "a chained inference")


class AsyncQueueConformance(ConformanceBase):
    """``AsyncInferQueue`` over the device: sizes, userdata, callbacks, errors, reuse."""

    def test_default_size_is_the_optimal_number_of_requests(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel]
    ) -> None:
        compiled = compile_model(model, self.throughput())
        queue = ov.AsyncInferQueue(compiled)
        assert len(queue) == compiled.get_property(props.optimal_number_of_infer_requests)

    @pytest.mark.parametrize("size", [0, 1, 5])
    def test_every_job_is_answered_once_with_its_own_userdata(
        self,
        model: ov.Model,
        compile_model: Callable[..., ov.CompiledModel],
        reference: Any,
        size: int,
    ) -> None:
        queue = ov.AsyncInferQueue(compile_model(model, self.throughput()), size)
        inputs = [self.inputs(model, 100 + i) for i in range(3 * len(queue) + 5)]
        answers: dict[int, list[np.ndarray]] = {}
        repeated: list[int] = []
        lock = threading.Lock()

        def on_done(request: ov.InferRequest, userdata: int) -> None:
            outputs = [np.array(request.results[i]) for i in range(len(request.model_outputs))]
            with lock:
                if userdata in answers:
                    repeated.append(userdata)
                answers[userdata] = outputs

        queue.set_callback(on_done)
        for index, data in enumerate(inputs):
            queue.start_async(data, userdata=index)
        self.wait_all(queue)
        assert not repeated, f"userdata answered twice: {repeated}"
        assert sorted(answers) == list(range(len(inputs))), "some jobs were never answered"
        for index, data in enumerate(inputs):
            self.assert_outputs(answers[index], reference(model, data), f"job {index}")

    def test_set_inputs_on_the_idle_request_then_start_without_inputs(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        queue = ov.AsyncInferQueue(compile_model(model, self.throughput()))
        results: dict[int, np.ndarray] = {}
        queue.set_callback(
            lambda request, userdata: results.__setitem__(userdata, np.array(request.results[0]))
        )
        inputs = [self.inputs(model, 120 + i) for i in range(2 * len(queue) + 1)]
        for index, data in enumerate(inputs):
            request = queue[queue.get_idle_request_id()]
            for name, array in data.items():
                request.set_tensor(name, array)
            queue.start_async(userdata=index)
        self.wait_all(queue)
        for index, data in enumerate(inputs):
            self.assert_outputs([results[index]], reference(model, data)[:1], f"job {index}")

    def test_a_failing_callback_is_raised_once_and_the_queue_goes_on(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel]
    ) -> None:
        queue = ov.AsyncInferQueue(compile_model(model, self.throughput()), 2)
        seen: list[int] = []

        def callback(request: ov.InferRequest, userdata: int) -> None:
            seen.append(userdata)
            if userdata == 1:
                raise KeyError("raised by the callback for job 1")

        queue.set_callback(callback)
        raised: list[KeyError] = []
        for index in range(4):
            while True:  # start_async may raise the error first; the job then did not start
                try:
                    queue.start_async(self.inputs(model, 130 + index), userdata=index)
                    break
                except KeyError as exc:
                    raised.append(exc)
        while True:
            try:
                self.wait_all(queue)
                break
            except KeyError as exc:
                raised.append(exc)
        assert len(raised) == 1 and "callback for job 1" in str(raised[0]), raised
        queue.start_async(self.inputs(model, 134), userdata=4)
        self.wait_all(queue)
        assert sorted(seen) == [0, 1, 2, 3, 4]
        assert queue.is_ready()


class BadInputConformance(ConformanceBase):
    """Bad inputs raise typed errors before reaching the device; the request stays usable."""

    def _first_input_replaced(self, model: ov.Model, seed: int, value: Any) -> dict[str, Any]:
        inputs: dict[str, Any] = dict(self.inputs(model, seed))
        inputs[model.inputs[0].any_name] = value
        return inputs

    def _still_usable(
        self, request: ov.InferRequest, model: ov.Model, reference: Any, seed: int
    ) -> None:
        assert not request.is_busy, "a refused input left the request busy"
        inputs = self.inputs(model, seed)
        self.assert_outputs(request.infer(inputs), reference(model, inputs), "after a bad input")

    def test_wrong_shape_is_an_input_shape_error(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        request = compile_model(model).create_infer_request()
        good = self.inputs(model, 200)[model.inputs[0].any_name]
        bad = self._first_input_replaced(model, 200, good[..., np.newaxis])
        with pytest.raises(ov.InputShapeError, match=re.escape(model.inputs[0].any_name)):
            request.infer(bad)
        with pytest.raises(ov.InputShapeError):
            request.start_async(bad)
        self._still_usable(request, model, reference, 201)

    def test_unconvertible_element_type_is_an_input_type_error(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        request = compile_model(model).create_infer_request()
        good = self.inputs(model, 202)[model.inputs[0].any_name]
        bad = self._first_input_replaced(model, 202, good.astype(_unconvertible(good.dtype)))
        with pytest.raises(ov.InputTypeError, match=re.escape(model.inputs[0].any_name)):
            request.infer(bad)
        self._still_usable(request, model, reference, 203)

    def test_missing_input_is_a_missing_input_error(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        request = compile_model(model).create_infer_request()
        with pytest.raises(ov.MissingInputError):
            request.infer({})
        self._still_usable(request, model, reference, 204)

    def test_unknown_input_name_is_an_input_name_error(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        request = compile_model(model).create_infer_request()
        inputs: dict[str, Any] = dict(self.inputs(model, 205))
        inputs["no_such_input"] = next(iter(inputs.values()))
        with pytest.raises(ov.InputNameError, match="no_such_input"):
            request.infer(inputs)
        self._still_usable(request, model, reference, 206)

    def test_bad_input_to_a_queue_leaves_the_request_in_the_pool(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel]
    ) -> None:
        queue = ov.AsyncInferQueue(compile_model(model), 1)
        good = self.inputs(model, 207)[model.inputs[0].any_name]
        with pytest.raises(ov.InputShapeError):
            queue.start_async(self._first_input_replaced(model, 207, good[..., np.newaxis]))
        assert queue.is_ready()
        queue.start_async(self.inputs(model, 208))
        self.wait_all(queue)

    def test_nan_and_infinity_are_data(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        inputs = self.inputs(model, 209)
        name = model.inputs[0].any_name
        if inputs[name].dtype.kind != "f":
            pytest.skip("the model's first input is not floating point")
        inputs[name].flat[0] = np.nan
        inputs[name].flat[-1] = np.inf
        self.assert_outputs(compile_model(model)(inputs), reference(model, inputs), "NaN input")

    def test_same_kind_conversions_are_applied(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        inputs = self.inputs(model, 210)
        wider = {
            name: array.astype(np.float64) if array.dtype.kind == "f" else array
            for name, array in inputs.items()
        }
        if all(array.dtype.kind != "f" for array in inputs.values()):
            pytest.skip("the model has no floating-point input")
        self.assert_outputs(compile_model(model)(wider), reference(model, inputs), "f64 input")


class ConcurrencyConformance(ConformanceBase):
    """Many requests from many threads at once: each gets its own, correct, result."""

    threads: ClassVar[int] = 8
    per_thread: ClassVar[int] = 10

    def _cases(self, model: ov.Model, reference: Any, first_seed: int, count: int) -> list:
        cases = []
        for seed in range(first_seed, first_seed + count):
            inputs = self.inputs(model, seed)
            cases.append((inputs, reference(model, inputs)))
        return cases

    def test_many_threads_calling_one_compiled_model(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        compiled = compile_model(model, self.throughput())
        cases = self._cases(model, reference, 300, self.threads * self.per_thread)

        def worker(index: int) -> None:
            for inputs, expected in cases[index :: self.threads]:
                self.assert_outputs(compiled(inputs), expected, "a concurrent call")

        self.in_threads(worker, self.threads)

    def test_many_threads_each_with_its_own_request(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        compiled = compile_model(model, self.throughput())
        cases = self._cases(model, reference, 400, self.threads * self.per_thread)

        def worker(index: int) -> None:
            request = compiled.create_infer_request()
            for turn, (inputs, expected) in enumerate(cases[index :: self.threads]):
                if turn % 2:
                    request.start_async(inputs)
                    self.finish(request)
                    self.assert_outputs(request.results, expected, "a concurrent start_async")
                else:
                    self.assert_outputs(request.infer(inputs), expected, "a concurrent infer")

        self.in_threads(worker, self.threads)

    def test_many_threads_sharing_one_async_queue(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        queue = ov.AsyncInferQueue(compile_model(model, self.throughput()))
        producers = 4
        cases = self._cases(model, reference, 500, producers * self.per_thread)
        answers: dict[int, list[np.ndarray]] = {}
        lock = threading.Lock()

        def on_done(request: ov.InferRequest, userdata: int) -> None:
            outputs = [np.array(request.results[i]) for i in range(len(request.model_outputs))]
            with lock:
                answers[userdata] = outputs

        queue.set_callback(on_done)

        def producer(index: int) -> None:
            for case in range(index, len(cases), producers):
                queue.start_async(cases[case][0], userdata=case)

        self.in_threads(producer, producers)
        self.wait_all(queue)
        assert sorted(answers) == list(range(len(cases))), "some jobs were never answered"
        for case, (_, expected) in enumerate(cases):
            self.assert_outputs(answers[case], expected, f"queued job {case}")

    def test_many_requests_in_flight_at_once(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        compiled = compile_model(model, self.throughput())
        count = 4 * compiled.optimal_number_of_requests + 3
        cases = self._cases(model, reference, 600, count)
        requests = [compiled.create_infer_request() for _ in range(count)]
        for request, (inputs, _) in zip(requests, cases, strict=True):
            request.start_async(inputs)
        for request, (_, expected) in zip(requests, cases, strict=True):
            self.finish(request)
            self.assert_outputs(request.results, expected, "one of many requests in flight")

    def test_many_asyncio_inferences_at_once(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        compiled = compile_model(model, self.throughput())
        cases = self._cases(model, reference, 700, 32)

        async def everything() -> list[Results]:
            pending = [compiled.infer_async(inputs) for inputs, _ in cases]
            return await asyncio.wait_for(asyncio.gather(*pending), self.timeout_s)

        for results, (_, expected) in zip(asyncio.run(everything()), cases, strict=True):
            self.assert_outputs(results, expected, "an asyncio inference")


class CancellationConformance(ConformanceBase):
    """``request.cancel()`` is best effort: a job is cancelled, or completes correctly."""

    def test_cancelling_a_queued_inference_cancels_it_or_lets_it_complete(
        self,
        core: ov.Core,
        model: ov.Model,
        compile_model: Callable[..., ov.CompiledModel],
        reference: Any,
    ) -> None:
        self.require("cancellation")
        compiled = compile_model(model, self.one_stream(core))
        victim = compiled.create_infer_request()
        inputs = self.inputs(model, 800)
        with self.stream_held(compiled, model):
            victim.start_async(inputs)
            victim.cancel()
        if self.outcome(victim) == "completed":
            self.assert_outputs(victim.results, reference(model, inputs), "a job cancel() missed")
        again = self.inputs(model, 801)
        self.assert_outputs(victim.infer(again), reference(model, again), "after cancel()")

    def test_cancelling_some_inferences_leaves_the_others_intact(
        self,
        core: ov.Core,
        model: ov.Model,
        compile_model: Callable[..., ov.CompiledModel],
        reference: Any,
    ) -> None:
        self.require("cancellation")
        compiled = compile_model(model, self.one_stream(core))
        requests = [compiled.create_infer_request() for _ in range(8)]
        inputs = [self.inputs(model, 810 + i) for i in range(len(requests))]
        callbacks: list[int] = []
        for index, request in enumerate(requests):
            request.set_callback(callbacks.append, index)
        with self.stream_held(compiled, model):
            for request, data in zip(requests, inputs, strict=True):
                request.start_async(data)
            for request in requests[1::2]:
                request.cancel()
        completed = []
        for index, (request, data) in enumerate(zip(requests, inputs, strict=True)):
            outcome = self.outcome(request)
            assert outcome == "completed" or index % 2, (
                f"request {index} was cancelled, but only odd requests were"
            )
            if outcome == "completed":
                completed.append(index)
                self.assert_outputs(request.results, reference(model, data), f"request {index}")
        assert sorted(callbacks) == completed, (
            f"callbacks ran for {sorted(callbacks)}, but the completed requests are {completed}"
        )

    def test_cancel_after_an_inference_keeps_its_results(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        request = compile_model(model).create_infer_request()
        request.cancel()  # nothing in flight: nothing happens
        inputs = self.inputs(model, 820)
        request.infer(inputs)
        request.cancel()
        self.assert_outputs(request.results, reference(model, inputs), "after a late cancel()")


class ProfilingConformance(ConformanceBase):
    """``PERF_COUNT``: per-node timings in ``request.profiling_info``, none when off."""

    def test_profiling_info_lists_timings_when_enabled(
        self, core: ov.Core, model: ov.Model, compile_model: Callable[..., ov.CompiledModel]
    ) -> None:
        self.require("profiling")
        self.require_setting(core, props.enable_profiling.name)
        compiled = compile_model(model, {props.enable_profiling.name: True})
        if props.enable_profiling.name in compiled.get_property(props.supported_properties):
            assert compiled.get_property(props.enable_profiling) is True, "PERF_COUNT as applied"
        request = compiled.create_infer_request()
        for start in (request.infer, request.start_async):
            start(self.inputs(model, 900))
            self.finish(request)
            info = request.profiling_info
            assert info, "PERF_COUNT is on, but request.profiling_info is empty"
            for entry in info:
                assert isinstance(entry, ov.ProfilingInfo), f"{entry!r} is not a ProfilingInfo"
                assert isinstance(entry.node_name, str) and entry.node_name
                assert entry.real_time_us >= 0 and entry.cpu_time_us >= 0, f"negative time: {entry}"

    def test_no_profiling_info_when_disabled(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel]
    ) -> None:
        self.require("profiling")
        request = compile_model(model).create_infer_request()
        request.infer(self.inputs(model, 901))
        assert request.profiling_info == []


class MetaDeviceConformance(ConformanceBase):
    """The device under the built-in meta devices: ``MULTI:YOURS``, ``MULTI:YOURS,CPU``, AUTO."""

    def _run_many(
        self, compiled: ov.CompiledModel, model: ov.Model, reference: Any, seed: int
    ) -> set[str]:
        count = 2 * compiled.optimal_number_of_requests + 2  # more than MULTI has slots
        requests = [compiled.create_infer_request() for _ in range(count)]
        cases = [self.inputs(model, seed + i) for i in range(len(requests))]
        for request, inputs in zip(requests, cases, strict=True):
            request.start_async(inputs)
        ran_on = set()
        for request, inputs in zip(requests, cases, strict=True):
            self.finish(request)
            self.assert_outputs(request.results, reference(model, inputs), "under a meta device")
            ran_on.add(ov.parse_device(request.executed_on or "?").name)
        return ran_on

    def test_runs_as_the_only_child_of_multi(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        compiled = compile_model(model, device=f"MULTI:{self.device}")
        assert self._run_many(compiled, model, reference, 1000) == {self.family}

    def test_runs_beside_cpu_in_multi(
        self,
        core: ov.Core,
        model: ov.Model,
        compile_model: Callable[..., ov.CompiledModel],
        reference: Any,
    ) -> None:
        if self.family == "CPU":
            pytest.skip("the device under test is CPU itself")
        if "CPU" not in core.available_devices:
            pytest.skip("no CPU device here (pip install ovlite-cpu to test MULTI beside it)")
        if ov.parse_device(self.device).children:
            # "MULTI:HETERO:CPU,CPU" would give both to the nested device (a nested list takes
            # the rest of the string): name the two children in DEVICE_PRIORITIES instead
            priorities = {props.device.priorities.name: [self.device, "CPU"]}
            compiled = compile_model(model, priorities, device="MULTI")
        else:
            compiled = compile_model(model, device=f"MULTI:{self.device},CPU")
        assert self._run_many(compiled, model, reference, 1100) <= {self.family, "CPU"}

    def test_auto_with_only_this_device_uses_it(
        self, model: ov.Model, compile_model: Callable[..., ov.CompiledModel], reference: Any
    ) -> None:
        compiled = compile_model(model, device=f"AUTO:{self.device}")
        devices = compiled.get_property(props.execution_devices)
        assert {ov.parse_device(d).name for d in devices} == {self.family}, devices
        inputs = self.inputs(model, 1200)
        self.assert_outputs(compiled(inputs), reference(model, inputs), "under AUTO")


# pytest collects a class's bases last to first: listed in reverse, the areas run from
# properties (is the device there at all?) to meta devices.
class PluginConformance(
    MetaDeviceConformance,
    ProfilingConformance,
    CancellationConformance,
    ConcurrencyConformance,
    BadInputConformance,
    AsyncQueueConformance,
    JobConformance,
    InferenceConformance,
    PropertiesConformance,
):
    """The whole conformance suite; subclass it as ``TestMyDevice`` and set ``device``."""


__all__ = [
    "REQUIRED_COMPILED_PROPERTIES",
    "AsyncQueueConformance",
    "BadInputConformance",
    "CancellationConformance",
    "ConcurrencyConformance",
    "ConformanceBase",
    "InferenceConformance",
    "JobConformance",
    "MetaDeviceConformance",
    "PluginConformance",
    "ProfilingConformance",
    "PropertiesConformance",
    "ReferenceOracle",
]
