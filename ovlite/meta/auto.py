"""``AUTO``: run the model on the fastest device here, chosen by measurement.

Candidates come from ``AUTO:GPU,CPU`` (in that order), else every available device ordered
by the priority its plugin reports, less ``AUTO:-CPU`` exclusions.  A candidate that cannot
compile the model is skipped and the reason recorded.

- LATENCY and THROUGHPUT: AUTO serves at once from the quickest device to compile
  (``Device.quick_compile``, CPU), compiles the other candidates in the background, times
  each on the model under the hint (``OVLITE_AUTO_MEASURE_MS`` each; see
  :mod:`.auto_measure`), then routes everything to the winner and frees the others.  The
  decision is remembered (:mod:`.auto_cache`): the next compile of the same model goes
  straight to the winner.  With ``OVLITE_AUTO_MEASURE_MS`` 0, the first candidate by
  priority is chosen, as OpenVINO's AUTO does.
- Precision follows ``EXECUTION_MODE_HINT``: PERFORMANCE (the default) lets each candidate
  run its default precision (bf16/f16 where the hardware accelerates it); ACCURACY gives
  every candidate that takes it ``INFERENCE_PRECISION_HINT`` f32; an explicit
  ``INFERENCE_PRECISION_HINT`` is passed on.  Each candidate's output on the calibration
  input is compared with an f32 candidate's; ``OVLITE_AUTO_MAX_RELATIVE_ERROR`` refuses
  candidates beyond a bound.
- CUMULATIVE_THROUGHPUT: every candidate that compiles, balanced as MULTI.
- Start-up fallback (``ENABLE_STARTUP_FALLBACK``, on by default): without it,
  ``compile_model`` returns only once the choice is made.
- Runtime fallback (``ENABLE_RUNTIME_FALLBACK``, on by default): a request that fails is
  re-run on the next candidate, compiled when first needed.

Requests cost nothing extra: sync inferences call the serving device's ``run`` in the
caller's thread and async jobs go straight to its ``submit``.  ``EXECUTION_DEVICES`` names
the serving device, ``OVLITE_CONFIGURATION_REASON`` says why (each candidate's figure,
precision and verdict), ``OVLITE_AUTO_MEASUREMENTS`` holds the figures.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

import numpy as np

from .. import properties as props
from ..availability import probe
from ..device import CompiledModel, Device, run_job
from ..device_string import DeviceSpec, without_count
from ..element_type import Type
from ..errors import (
    DeviceClosedError,
    DeviceUnavailableError,
    OvliteError,
    RequestCancelledError,
)
from ..host import DeviceHost
from ..jobs import Job
from ..model import Model
from ..properties.hint import ExecutionMode, PerformanceMode
from ..streams import in_worker_thread
from . import auto_cache
from .auto_measure import (
    Measurement,
    calibration_inputs,
    choose,
    compare_to_reference,
    measure,
    precision_of,
    reported_precision,
)
from .multi import MultiCompiledModel, child_config, make_child
from .scheduler import Child

log = logging.getLogger("ovlite.meta")

#: ``OVLITE_AUTO_MEASURE_MS`` when not set.
DEFAULT_MEASURE_MS = 1000
#: How long AUTO lets the first request have the machine before it compiles and times the
#: other candidates beside it (compiling takes cores, and in some runtimes the GIL).
FIRST_REQUEST_WAIT_S = 2.0
#: Models choosing in the background, stopped at interpreter exit.
_choosing: weakref.WeakSet[AutoCompiledModel] = weakref.WeakSet()


class AutoDevice(Device):
    """Picks a device: ``AUTO``, ``AUTO:GPU,CPU``, ``AUTO:-CPU``."""

    name = "AUTO"
    is_meta = True

    def full_device_name(self, device_id: str | None = None) -> str:
        return "AUTO (automatic device selection)"

    def compile_model(
        self, model: Model, spec: DeviceSpec, config: dict[str, Any], host: DeviceHost
    ) -> CompiledModel:
        candidates, notes = self.candidates(spec, config, host)
        hint = config.get(props.hint.performance_mode.name, PerformanceMode.LATENCY)
        if hint == PerformanceMode.CUMULATIVE_THROUGHPUT:
            return self._compile_all(model, spec, config, host, candidates, notes)
        return AutoCompiledModel(model, str(spec), candidates, notes, hint, config, host)

    def candidates(
        self, spec: DeviceSpec, config: dict[str, Any], host: DeviceHost
    ) -> tuple[list[DeviceSpec], list[str]]:
        """Candidates in order, and notes on the devices left out."""
        notes: list[str] = []
        listed = [c for c in (spec.children or ()) if not c.excluded]
        excluded = {c.full_name for c in (spec.children or ()) if c.excluded} | {
            c.name for c in (spec.children or ()) if c.excluded
        }
        if not listed and config.get(props.device.priorities.name):
            from ..device_string import parse_device

            listed = [parse_device(name) for name in config[props.device.priorities.name]]
        if not listed:
            devices = [
                (name, device)
                for name, device in host.devices().items()
                if not device.is_meta and name not in excluded
            ]
            devices.sort(key=lambda item: (-item[1].priority, item[0]))
            listed = []
            for name, device in devices:
                availability = probe(device)
                if not availability:
                    notes.append(f"{name} unavailable: {availability.reason}")
                    continue
                # each physical device by its id: a bare name may mean the plugin's own
                # automatic choice (OPENVINO is OpenVINO's AUTO), not one device to time
                ids = device.device_ids()
                listed.extend(DeviceSpec(name, i) for i in ids or [None])
        listed = [c for c in listed if c.full_name not in excluded and c.name not in excluded]
        if not listed:
            raise DeviceUnavailableError(
                f"{spec}: no candidate device is left for AUTO"
                + (f" once {', '.join(sorted(excluded))} are excluded" if excluded else "")
                + f"; devices that can run here: {', '.join(host.available_devices) or 'none'}"
                + ("; " + "; ".join(notes) if notes else "")
            )
        return listed, notes

    def _compile_all(self, model, spec, config, host, candidates, notes):  # noqa: ANN001, ANN202
        children = []
        for candidate in candidates:
            compiled = try_compile(
                model, candidate, config, host, PerformanceMode.THROUGHPUT, notes
            )
            if compiled is not None:
                children.append(make_child(candidate, compiled))
        if not children:
            raise DeviceUnavailableError(
                "AUTO: no candidate compiled the model: " + "; ".join(notes)
            )
        multi = MultiCompiledModel(
            model, str(spec), children, PerformanceMode.CUMULATIVE_THROUGHPUT
        )
        reason = f"CUMULATIVE_THROUGHPUT: all of {', '.join(c.name for c in children)} as MULTI"
        multi.properties[props.configuration_reason.name] = "; ".join([reason, *notes])
        return multi


def precision_config(config: dict[str, Any], device: Device) -> dict[str, Any]:
    """``config`` with AUTO's precision policy applied for ``device``: under
    ``EXECUTION_MODE_HINT`` ACCURACY, ``INFERENCE_PRECISION_HINT`` f32 for a device that
    takes it (unless one was given); otherwise the config as it is."""
    precision = props.hint.inference_precision.name
    mode = config.get(props.hint.execution_mode.name, ExecutionMode.PERFORMANCE)
    if (
        mode == ExecutionMode.ACCURACY
        and precision not in config
        and precision in device.config_keys
    ):
        return {**config, precision: Type.f32}
    return config


def try_compile(
    model: Model,
    candidate: DeviceSpec,
    config: dict[str, Any],
    host: DeviceHost,
    hint: Any,
    notes: list[str],
) -> CompiledModel | None:
    """Compile on one candidate, or record why it cannot run the model."""
    try:
        device = host.device(candidate)
        config_share = child_config(precision_config(config, device), candidate, device, hint)
        return host.compile_child(model, without_count(candidate), config_share)
    except OvliteError as exc:
        notes.append(f"{candidate.full_name} skipped: {exc}")
        log.debug("AUTO: %s cannot run %s: %s", candidate.full_name, model.friendly_name, exc)
        return None


class AutoCompiledModel(MultiCompiledModel):
    """Serves from one device, the measured winner once known (see the module docstring)."""

    def __init__(
        self,
        model: Model,
        name: str,
        candidates: list[DeviceSpec],
        notes: list[str],
        hint: Any,
        config: dict[str, Any],
        host: DeviceHost,
    ) -> None:
        self._model_for_fallback = model
        self._config = config
        self._host = host
        self._hint = hint
        self._notes = notes
        self._candidates = list(candidates)
        self._remaining = list(candidates)  # not compiled yet: for the runtime fallback
        self._spare_lock = threading.Lock()
        self._runtime_fallback = config.get(props.intel_auto.enable_runtime_fallback.name, True)
        startup = config.get(props.intel_auto.enable_startup_fallback.name, True)
        budget_ms = config.get(props.intel_auto.measure_ms.name, DEFAULT_MEASURE_MS)
        self._budget_s = budget_ms / 1000.0
        self._bound = config.get(props.intel_auto.max_relative_error.name)
        self._measurements: list[Measurement] = []
        self._compile_ms: dict[str, float] = {}
        self._decision = ""  # how the serving device was chosen, for the reason
        self._calibration: list[np.ndarray] | None = None
        self._calibrated = threading.Event()
        self._wants_calibration = False  # the next request's inputs calibrate
        self._calibrated_from_ports = False
        self._settle_lock = threading.Lock()
        self._settling = False  # compiling, measuring or switching in the background
        self._stop = threading.Event()  # set by close() and at interpreter exit
        self._first_served = threading.Event()
        self._served = False  # the same, read on every request without a lock

        measuring = self._measuring = budget_ms > 0 and len(candidates) > 1
        chosen = self._remaining[0]
        quick = self._quick_candidate() if startup else None
        first: Child | None = None
        if quick is not None and (measuring or not host.device(chosen).quick_compile):
            first = self._compile(quick)
        if first is None:
            first = self._compile_first_that_works()
        super().__init__(model, name, [first], hint, probe=False)
        self.balancer.spare = self._spare if self._runtime_fallback else None
        self._direct: Child | None = first  # the child requests go to, bypassing the balancer
        self._choice = first.name if measuring else chosen.full_name
        self.properties[props.device.priorities.name] = [c.full_name for c in candidates]
        self.properties[props.hint.execution_mode.name] = config.get(
            props.hint.execution_mode.name, ExecutionMode.PERFORMANCE
        )
        self._background: threading.Thread | None = None
        if measuring:
            self._decision = "measuring the candidates"
            calibration = calibration_inputs(model.inputs)
            self._calibrated_from_ports = calibration is not None
            if calibration is None:
                self._wants_calibration = True
            else:
                self._set_calibration(calibration)
            if startup or self._wants_calibration:
                self._start_background(self._choose_by_measurement)
            else:
                self._first_served.set()  # nothing runs before compile_model returns
                self._settle(self._choose_by_measurement)
        elif first.name != chosen.full_name:
            self._decision = f"{first.name} serves while {chosen.full_name} compiles"
            self._start_background(self._switch_when_compiled)
        else:
            self._decision = "the first candidate by priority"
        self._describe()

    # ---- serving: straight to the serving child --------------------------------------------

    def run(self, inputs: Sequence[np.ndarray]) -> tuple[Sequence[np.ndarray], Any]:
        if self._wants_calibration:
            self._set_calibration(inputs)
        child = self._direct
        if child is None or not child.enabled or self._closed:
            return super().run(inputs)  # through the balancer
        try:
            outputs, info = child.compiled.run(inputs)
        except DeviceClosedError:
            if self._closed or child is self._direct:
                raise
            return self.run(inputs)  # replaced by the winner while this call started
        except Exception as error:
            if not self._runtime_fallback:
                raise
            if in_worker_thread():  # a callback: waiting on the balancer could wait for itself
                return self.balancer.run_here(inputs)
            return self._retry_elsewhere(inputs, child, error)
        return outputs, self._served_by(child, info)

    def _served_by(self, child: Child, info: Any) -> Any:
        """Bookkeeping for a request ``child`` ran directly: its failure streak ends, the
        first request is noted, and the info names the device; returns the info."""
        if child.failures_in_a_row:
            child.failures_in_a_row = 0
        if not self._served:
            self._served = True
            self._first_served.set()
        if info is None or "device" not in info:
            return {**(info or {}), "device": child.name}
        return info

    def _retry_elsewhere(
        self, inputs: Sequence[np.ndarray], failed_on: Child, error: Exception
    ) -> tuple[Sequence[np.ndarray], Any]:
        """Runtime fallback for a sync inference the serving child failed."""

        def retry(job: Job) -> None:
            job.begin()
            self.balancer.take_over(job, failed_on, error)

        return run_job(retry, inputs)

    def submit(self, job: Job) -> None:
        if self._wants_calibration:
            self._set_calibration(job.inputs)
        child = self._direct
        if child is None or not child.enabled or self._closed:
            super().submit(job)
            return
        # the job itself goes to the device, its completion through _direct_done first: no
        # second job, and cancelling or expiring it works as on the device itself
        on_done = job.on_done
        job.on_done = partial(self._direct_done, on_done, child)
        try:
            child.compiled.submit(job)
        except Exception as exc:  # a device that cannot even queue the job
            if not job.started:
                job.on_done = on_done
                super().submit(job)
            elif not job.done:
                job.set_error(exc)

    def _direct_done(self, on_done: Any, child: Child, job: Job) -> None:
        """A job the serving device finished: passed on, or retried when it failed."""
        error = job.error
        if error is None:
            job.info = self._served_by(child, job.info)
        elif isinstance(error, DeviceClosedError) and child is not self._direct:
            if not self._closed:  # the device was replaced and closed as the job reached it
                job.reopen(on_done)
                self.balancer.take_over(job)
                return
        elif self._runtime_fallback and not isinstance(error, RequestCancelledError):
            job.reopen(on_done)
            self.balancer.take_over(job, child, error)
            return
        if on_done is not None:
            on_done(job)

    # ---- choosing --------------------------------------------------------------------------

    def _quick_candidate(self) -> DeviceSpec | None:
        """The candidate to serve from while the others compile: the first that compiles
        quickly (CPU), if any."""
        return next((c for c in self._remaining if self._host.device(c).quick_compile), None)

    def _compile(self, candidate: DeviceSpec) -> Child | None:
        """Compile one candidate (taking it off the remaining list), timing the compile."""
        try:
            self._remaining.remove(candidate)
        except ValueError:  # taken off already (by the runtime fallback, or the start-up)
            pass
        started = time.perf_counter()
        compiled = try_compile(
            self._model_for_fallback,
            candidate,
            self._config,
            self._host,
            self._hint,
            self._notes,
        )
        if compiled is None:
            return None
        self._compile_ms[candidate.full_name] = (time.perf_counter() - started) * 1000.0
        return make_child(candidate, compiled)

    def _next_candidate(self, skip: set[str] | frozenset[str] = frozenset()) -> Child | None:
        """Compile the next remaining candidate not in ``skip``; ``None`` when none is left."""
        for candidate in list(self._remaining):
            if candidate.full_name in skip:
                continue
            child = self._compile(candidate)
            if child is not None:
                return child
        return None

    def _compile_first_that_works(self) -> Child:
        child = self._next_candidate()
        if child is None:
            raise DeviceUnavailableError(
                "AUTO: no candidate compiled the model: " + "; ".join(self._notes)
            )
        return child

    def _start_background(self, target: Any) -> None:
        self._settling = True
        self._background = threading.Thread(
            target=self._settle, args=(target,), name="ovlite-auto", daemon=True
        )
        _choosing.add(self)
        self._background.start()

    def _settle(self, target: Any) -> None:
        self._settling = True
        try:
            target()
        except Exception as exc:  # the serving device keeps serving; say what went wrong
            log.warning("AUTO: could not finish choosing a device: %s", exc)
            self._notes.append(f"choosing stopped: {type(exc).__name__}: {exc}")
        finally:
            self._settling = False
            self._describe()

    def _switch_when_compiled(self) -> None:
        """Without measuring: compile the first candidate by priority that ranks above the
        start-up device serving now, then serve from it; the start-up device stays when none
        of those compiles."""
        helper = self._direct
        assert helper is not None
        ranks = [c.full_name for c in self._candidates]
        above = {name for name in ranks[: ranks.index(helper.name)]}
        chosen = self._next_candidate(skip=set(ranks) - above)
        if chosen is None:
            self._notes.append(f"staying on {helper.name}: no candidate above it compiled")
            self._decision = "the first candidate by priority that compiled"
            return
        self._decision = "the first candidate by priority"
        self._switch_to(chosen, [helper])

    def _choose_by_measurement(self) -> None:
        serving = self._direct
        assert serving is not None
        self._first_served.wait(FIRST_REQUEST_WAIT_S)
        if self._closed:
            return
        key = folder = None
        if self._config.get(props.intel_auto.cache_decision.name, True):
            folder = auto_cache.cache_folder(self._config)
            key = auto_cache.decision_key(
                self._model_for_fallback, self._config, self._describe_candidates()
            )
            record = auto_cache.load(folder, key)
            if record is not None and self._follow_cached(record, serving):
                return
        children: dict[str, Child] = {serving.name: serving}
        outputs = self._measure_all(children)
        if outputs is None:
            return
        if not outputs and self._calibrated_from_ports and not self._closed:
            # every candidate failed on made-up inputs (a model with data-dependent shapes,
            # say): measure again on the user's first request
            with self._settle_lock:
                self._calibrated.clear()
                self._wants_calibration = True
            self._describe()
            outputs = self._measure_all(children)
            if outputs is None:
                return
        compare_to_reference(self._measurements, outputs)
        winner = choose(self._measurements, serving.name, self._bound)
        if self._closed:
            self._close_all(children.values(), keep=serving)
            return
        if winner is None:
            self._decision = f"no candidate qualified; {serving.name} keeps serving"
            self._close_all(children.values(), keep=serving)
            self._describe()
            return
        self._decision = "measured"
        losers = [c for c in children.values() if c.name != winner.device]
        self._switch_to(children[winner.device], losers)
        if folder is not None and key is not None:
            auto_cache.store(
                folder,
                key,
                {
                    "winner": winner.device,
                    "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "hint": str(self._hint),
                    "measurements": [m.to_dict() for m in self._measurements],
                },
            )

    def _measure_all(self, children: dict[str, Child]) -> dict[str, Sequence[np.ndarray]] | None:
        """Compile (into ``children``) and time every candidate on the calibration inputs;
        the outputs of those that ran, or ``None`` when the model was closed meanwhile."""
        self._calibrated.wait()
        if self._closed:
            self._close_all(children.values(), keep=self._direct)  # type: ignore[arg-type]
            return None
        for candidate in self._candidates:
            if self._closed:
                break
            if candidate.full_name not in children:
                child = self._compile(candidate)
                if child is not None:
                    children[candidate.full_name] = child
        in_order = [c.full_name for c in self._candidates if c.full_name in children]
        timed = [
            (
                children[name].compiled,
                Measurement(
                    name, precision_of(children[name].compiled), self._compile_ms.get(name, 0.0)
                ),
            )
            for name in in_order
        ]
        self._measurements = [figures for _, figures in timed]
        outputs = measure(timed, self._calibration, self._hint, self._budget_s, self._stop)  # type: ignore[arg-type]
        for figures in self._measurements:
            log.info("AUTO: %s: %s at %s", figures.device, figures.figure(), figures.precision)
        return outputs

    def _follow_cached(self, record: dict[str, Any], serving: Child) -> bool:
        """Serve from the remembered winner; ``False`` when it is no candidate any more or
        no longer compiles (then AUTO measures again)."""
        by_name = {c.full_name: c for c in self._candidates}
        winner = by_name.get(record["winner"])
        if winner is None:
            return False
        if winner.full_name == serving.name:
            chosen = serving
        else:
            chosen = self._compile(winner)  # type: ignore[assignment]
            if chosen is None:
                return False
        try:
            self._measurements = [Measurement.from_dict(m) for m in record.get("measurements", [])]
        except (TypeError, ValueError):
            self._measurements = []
        self._decision = (
            f"remembered from the measurement of {record.get('measured_at', 'an earlier run')}"
            f"; OVLITE_AUTO_CACHE_DECISION NO measures again"
        )
        self._switch_to(chosen, [] if chosen is serving else [serving])
        return True

    def _describe_candidates(self) -> list[tuple[str, str, str]]:
        described = []
        for candidate in self._candidates:
            device = self._host.device(candidate)
            described.append(
                (
                    candidate.full_name,
                    f"{device.package} {device.version}",
                    device.full_device_name(candidate.id),
                )
            )
        return described

    def _set_calibration(self, inputs: Sequence[Any]) -> None:
        """Calibrate on these inputs (the ports' own, or the user's first request)."""
        with self._settle_lock:
            if self._calibrated.is_set():
                return
            arrays = []
            for value in inputs:
                if not isinstance(value, np.ndarray):
                    return  # a device tensor: wait for a request with host arrays
                arrays.append(value.copy())  # the caller may reuse its buffer
            self._calibration = arrays
            self._calibrated_from_ports = not self._wants_calibration
            self._wants_calibration = False
            self._calibrated.set()

    def _switch_to(self, winner: Child, losers: Sequence[Child]) -> None:
        """Serve from ``winner`` from now on; close ``losers`` (their running jobs finish)."""
        if winner not in self.balancer.children:
            self.balancer.add_child(winner, first=True)
        self._direct = winner  # before the old one closes, so no new request reaches it
        self._choice = winner.name
        self._remaining = [c for c in self._candidates if c.full_name != winner.name]
        for loser in losers:
            if loser is winner:
                continue
            if loser in self.balancer.children:
                self.balancer.remove_child(loser)
            else:
                loser.compiled.close()
        self.properties[props.hint.inference_precision.name] = reported_precision(winner.compiled)
        log.info(
            "AUTO: serving %s from %s (%s)", self.model.friendly_name, winner.name, self._decision
        )
        self._describe()

    def _close_all(self, children: Any, keep: Child) -> None:
        for child in children:
            if child is not keep and child not in self.balancer.children:
                child.compiled.close()

    def _spare(self, failed: set[str]) -> Child | None:
        """Runtime fallback: compile the next candidate when every compiled one failed a job."""
        with self._spare_lock:
            child = self._next_candidate(failed | {c.name for c in self.balancer.children})
        if child is not None:
            log.info("AUTO: runtime fallback to %s", child.name)
        return child

    def wait_until_ready(self, timeout: float | None = None) -> bool:
        """Wait until AUTO has settled on a device (compiled, measured, switched); ``True``
        when nothing is left running in the background.  A model that calibrates on its
        first request (see the module docstring) is not ready before one has run: then this
        returns ``False`` at once instead of waiting for a request that may never come."""
        if self._background is not None:
            if self._wants_calibration:
                return False  # waiting for the first request, whose inputs calibrate
            self._background.join(timeout)
            return not self._background.is_alive()
        return True

    def close(self) -> None:
        super().close()
        self._stop.set()
        self._first_served.set()
        self._calibrated.set()  # a measurement waiting for its first request gives up

    def _stop_choosing(self, timeout: float) -> None:
        """At interpreter exit: end the measurement, so no thread is left inside a device."""
        self._stop.set()
        self._first_served.set()
        self._calibrated.set()
        self.wait_until_ready(timeout)

    def _describe(self) -> None:
        serving = ", ".join(self.balancer.active_names())
        parts = [
            f"{self._hint}: chose {self._choice} ({self._decision})",
            f"serving from {serving}",
        ]
        if self._settling:
            if self._wants_calibration:
                parts.append("the measurement waits for the first request (its inputs calibrate)")
            elif self._measuring:
                parts.append("still choosing: the other candidates compile and are measured")
            else:
                parts.append("the chosen device is still compiling (start-up fallback)")
        for m in self._measurements:
            details = ", ".join(x for x in (m.figure(), m.precision, m.accuracy()) if x)
            parts.append(f"{m.device}: {details}: {m.verdict}")
        self.properties[props.configuration_reason.name] = "; ".join(parts + self._notes)
        self.properties[props.intel_auto.measurements.name] = [
            m.to_dict() for m in self._measurements
        ]
        if props.hint.inference_precision.name not in self.properties:
            self.properties[props.hint.inference_precision.name] = reported_precision(
                self._direct.compiled  # type: ignore[union-attr]
            )
        self._refresh()


def _stop_choosing_at_exit() -> None:
    from ..streams import EXIT_WAIT_S

    for model in list(_choosing):
        model._stop_choosing(EXIT_WAIT_S)


atexit.register(_stop_choosing_at_exit)
