"""The base of every conformance class: the device under test, its claims, fixtures, helpers,
expected differences and the check that the plugin under test is there at all."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pytest

import ovlite as ov
from ovlite import models
from ovlite import properties as props
from ovlite.testing.data import random_inputs

from . import differences, presence
from .oracle import ReferenceOracle


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

    #: Inherited tests this device differs from on purpose, each with the reason:
    #: ``{"test_latency_hint_runs_one_stream": "MYDEV has one fixed stream"}``.  They are
    #: skipped with that reason; a name that is no test of the class is an error.
    expected_differences: ClassVar[Mapping[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        differences.check_expected_differences(cls, never_skipped=(presence.PRESENCE_TEST,))

    @pytest.fixture(autouse=True)
    def _conformance_gate(self, request: pytest.FixtureRequest) -> None:
        """Skip an expected difference; fail once and skip the rest when the device is absent."""
        reason = differences.expected_difference(type(self), request.node)
        if reason is not None:
            pytest.skip(f"expected difference on {self.device}: {reason}")
        presence.require_device(self, request)

    def test_the_plugin_loads_and_provides_the_device(self, request: pytest.FixtureRequest) -> None:
        """Every device the class names is installed, its plugin loaded, and it can run here."""
        problem = presence.verdict(type(self), request, self.device)
        if problem is not None:
            pytest.fail(problem, pytrace=False)

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
        assert self.family in devices, presence.why_untestable(core, self.family)
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


#: The features a device may claim, each a ``supports_<claim>`` class attribute.
CLAIMS = tuple(
    name.removeprefix("supports_") for name in vars(ConformanceBase) if name.startswith("supports_")
)
