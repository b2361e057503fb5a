"""``AUTO``: choose the best device for the model, with start-up and runtime fallbacks.

Candidates come from ``AUTO:GPU,CPU`` (in that order), else every available device ordered
by the priority its plugin reports (discrete accelerators before CPU), less ``AUTO:-CPU``
exclusions.  A candidate that cannot compile the model is skipped and the reason recorded.

- LATENCY and THROUGHPUT: the first candidate that compiles, with that hint.
- CUMULATIVE_THROUGHPUT: every candidate that compiles, balanced as MULTI.
- Start-up fallback (``ENABLE_STARTUP_FALLBACK``, on by default): when the chosen device does
  not compile quickly and a candidate that does (``Device.quick_compile``) exists, AUTO serves
  from that one while the chosen device compiles in the background, then switches.
- Runtime fallback (``ENABLE_RUNTIME_FALLBACK``, on by default): a request that fails is
  re-run on the next candidate, compiled when first needed.

``OVLITE_CONFIGURATION_REASON`` says what AUTO chose and why; ``EXECUTION_DEVICES`` what
serves now.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from .. import properties as props
from ..device import CompiledModel, Device, probe
from ..device_string import DeviceSpec, without_count
from ..errors import DeviceUnavailableError, OvliteError
from ..model import Model
from ..properties.hint import PerformanceMode
from .multi import MultiCompiledModel, child_config, make_child
from .scheduler import Child

log = logging.getLogger("ovlite.meta")


class AutoDevice(Device):
    """Picks a device: ``AUTO``, ``AUTO:GPU,CPU``, ``AUTO:-CPU``."""

    name = "AUTO"
    is_meta = True

    def full_device_name(self, device_id: str | None = None) -> str:
        return "AUTO (automatic device selection)"

    def compile_model(
        self, model: Model, spec: DeviceSpec, config: dict[str, Any], core: Any
    ) -> CompiledModel:
        candidates, notes = self.candidates(spec, config, core)
        hint = config.get(props.hint.performance_mode.name, PerformanceMode.LATENCY)
        if hint == PerformanceMode.CUMULATIVE_THROUGHPUT:
            return self._compile_all(model, spec, config, core, candidates, notes)
        return AutoCompiledModel(model, str(spec), candidates, notes, hint, config, core)

    def candidates(
        self, spec: DeviceSpec, config: dict[str, Any], core: Any
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
                for name, device in core.devices().items()
                if not device.is_meta and name not in excluded
            ]
            devices.sort(key=lambda item: (-item[1].priority, item[0]))
            listed = []
            for name, device in devices:
                availability = probe(device)
                if not availability:
                    notes.append(f"{name} unavailable: {availability.reason}")
                    continue
                ids = device.device_ids()
                listed.extend(DeviceSpec(name, i) for i in (ids if len(ids) > 1 else [None]))
        listed = [c for c in listed if c.full_name not in excluded and c.name not in excluded]
        if not listed:
            raise DeviceUnavailableError(
                f"{spec}: no candidate device is left for AUTO"
                + (f" once {', '.join(sorted(excluded))} are excluded" if excluded else "")
                + f"; devices that can run here: {', '.join(core.available_devices) or 'none'}"
                + ("; " + "; ".join(notes) if notes else "")
            )
        return listed, notes

    def _compile_all(self, model, spec, config, core, candidates, notes):  # noqa: ANN001, ANN202
        children = []
        for candidate in candidates:
            compiled = try_compile(
                model, candidate, config, core, PerformanceMode.THROUGHPUT, notes
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
        multi._properties[props.configuration_reason.name] = "; ".join([reason, *notes])
        return multi


def try_compile(
    model: Model,
    candidate: DeviceSpec,
    config: dict[str, Any],
    core: Any,
    hint: Any,
    notes: list[str],
) -> CompiledModel | None:
    """Compile on one candidate, or record why it cannot run the model."""
    try:
        device = core._device(candidate)
        config_share = child_config(config, candidate, device, hint)
        return core.compile_model(model, without_count(candidate), config_share)
    except OvliteError as exc:
        notes.append(f"{candidate.full_name} skipped: {exc}")
        log.debug("AUTO: %s cannot run %s: %s", candidate.full_name, model.friendly_name, exc)
        return None


class AutoCompiledModel(MultiCompiledModel):
    """Serves from the chosen device; a quick start-up device until the chosen one is ready."""

    def __init__(
        self,
        model: Model,
        name: str,
        candidates: list[DeviceSpec],
        notes: list[str],
        hint: Any,
        config: dict[str, Any],
        core: Any,
    ) -> None:
        self._model_for_fallback = model
        self._config = config
        self._core = core
        self._hint = hint
        self._notes = notes
        self._remaining = list(candidates)
        self._spare_lock = threading.Lock()
        startup = config.get(props.intel_auto.enable_startup_fallback.name, True)
        self._runtime_fallback = config.get(props.intel_auto.enable_runtime_fallback.name, True)

        chosen = self._remaining[0]
        quick = next((c for c in self._remaining[1:] if core._device(c).quick_compile), None)
        first: Child | None = None
        if startup and quick is not None and not core._device(chosen).quick_compile:
            helper = try_compile(model, quick, config, core, hint, notes)
            if helper is not None:
                first = make_child(quick, helper)
                self._remaining.remove(quick)
        in_background = first is not None
        if first is None:
            first = self._compile_first_that_works()
        super().__init__(model, name, [first], hint, probe=False)
        self.balancer.spare = self._spare if self._runtime_fallback else None
        self._choice = chosen.full_name if in_background else first.name
        self._background: threading.Thread | None = None
        if in_background:
            self._background = threading.Thread(
                target=self._compile_in_background,
                args=(first,),
                name="ovlite-auto-compile",
                daemon=True,
            )
            self._background.start()
        self._describe()

    def _next_candidate(self, skip: set[str] | frozenset[str] = frozenset()) -> Child | None:
        """Compile the next remaining candidate not in ``skip``; ``None`` when none is left."""
        while self._remaining:
            candidate = self._remaining.pop(0)
            if candidate.full_name in skip:
                continue
            compiled = try_compile(
                self._model_for_fallback,
                candidate,
                self._config,
                self._core,
                self._hint,
                self._notes,
            )
            if compiled is not None:
                return make_child(candidate, compiled)
        return None

    def _compile_first_that_works(self) -> Child:
        child = self._next_candidate()
        if child is None:
            raise DeviceUnavailableError(
                "AUTO: no candidate compiled the model: " + "; ".join(self._notes)
            )
        return child

    def _compile_in_background(self, helper: Child) -> None:
        try:
            chosen = self._compile_first_that_works()
        except OvliteError as exc:
            self._notes.append(f"staying on {helper.name}: {exc}")
            self._describe()
            return
        if self._closed:
            chosen.compiled.close()
            return
        self._choice = chosen.name
        self.balancer.add_child(chosen, first=True)
        self.balancer.disable(helper, f"served during start-up until {chosen.name} was compiled")
        helper.dropped_reason = ""  # a planned switch, not a failure; still used for retries
        log.info("AUTO: %s is ready; switched from %s", chosen.name, helper.name)
        self._describe()

    def _spare(self, failed: set[str]) -> Child | None:
        """Runtime fallback: compile the next candidate when every compiled one failed a job."""
        with self._spare_lock:
            child = self._next_candidate(failed)
        if child is not None:
            log.info("AUTO: runtime fallback to %s", child.name)
        return child

    def wait_until_ready(self, timeout: float | None = None) -> bool:
        """Wait for a background compile to end; ``True`` when none is running."""
        if self._background is not None:
            self._background.join(timeout)
            return not self._background.is_alive()
        return True

    def _describe(self) -> None:
        serving = ", ".join(self.balancer.active_names())
        parts = [f"{self._hint}: chose {self._choice}", f"serving from {serving}"]
        if self._background is not None and self._background.is_alive():
            parts.append("the chosen device is still compiling (start-up fallback)")
        self._properties[props.configuration_reason.name] = "; ".join(parts + self._notes)
        self._refresh()
