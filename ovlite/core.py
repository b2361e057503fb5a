"""``Core``: the entry point of the API, as in OpenVINO."""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import properties as props
from .availability import probe
from .compiled_model import CompiledModel
from .device import CompiledModel as DeviceCompiledModel
from .device import Device
from .device_string import DeviceSpec, parse_device
from .errors import (
    CompileError,
    DeviceNotFoundError,
    DeviceStringError,
    DeviceUnavailableError,
    OvliteError,
    PluginError,
    PropertyValueError,
    UnknownPropertyError,
    UnsupportedModelFormatError,
)
from .host import AutomaticBatching
from .model import IR_HINT, Model, check_model_argument, read_model
from .plugins import PluginFailure, PluginInfo, PluginRegistry
from .properties.hint import PerformanceMode

log = logging.getLogger("ovlite")

DEVICE_PROPERTIES = props.device.properties.name
_GLOBAL = ""
CORE_KEYS = props.CORE_KEYS
BATCH_KEYS = props.BATCH_KEYS


#: ``NUM_STREAMS`` and ``INFERENCE_NUM_THREADS`` may be at most this many per logical CPU:
#: more only adds switching, and thousands of threads make compiling and closing crawl.
MAX_THREADS_PER_CPU = 4


@dataclass(frozen=True)
class Version:
    """What ``Core.get_versions`` reports for a device: its package (``description``) and
    version (``build_number``), with openvino's ``major``/``minor``/``patch`` read from it."""

    description: str
    build_number: str

    def _part(self, index: int) -> int:
        digits = re.match(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?", self.build_number or "")
        return int(digits.group(index + 1) or 0) if digits else 0

    @property
    def major(self) -> int:
        return self._part(0)

    @property
    def minor(self) -> int:
        return self._part(1)

    @property
    def patch(self) -> int:
        return self._part(2)

    def __str__(self) -> str:
        return f"{self.description} {self.build_number}"


class Core:
    """Finds devices, reads models and compiles them; one per application is plenty.

    Plugins installed as packages are discovered on first use.  ``register_plugin`` adds a
    plugin (a module or object with ``ovlite_devices``) to this ``Core`` only.  Devices reach
    the core through :class:`ovlite.plugin.DeviceHost`, which it implements.
    """

    def __init__(self) -> None:
        self._registry_instance: PluginRegistry | None = None
        self._settings: dict[str, dict[str, Any]] = {}

    @property
    def _registry(self) -> PluginRegistry:
        if self._registry_instance is None:
            self._registry_instance = PluginRegistry(parent=PluginRegistry.shared())
        return self._registry_instance

    # ---- devices ---------------------------------------------------------------------------

    @property
    def available_devices(self) -> list[str]:
        """Devices that can run here: ``CPU``, ``GPU.0``, ``GPU.1`` (ids only when several)."""
        names = []
        for family, device in sorted(self._registry.devices().items()):
            if device.is_meta or not probe(device):
                continue
            ids = device.device_ids()
            names.extend([f"{family}.{i}" for i in ids] if len(ids) > 1 else [family])
        return names

    def get_available_devices(self) -> list[str]:
        return self.available_devices

    def devices(self) -> dict[str, Device]:
        """Every installed device family, available or not, meta devices included."""
        return self._registry.devices()

    @property
    def plugins(self) -> list[PluginInfo]:
        """Loaded plugins: name, package, version, entry point and devices."""
        return self._registry.all_plugins()

    @property
    def plugin_failures(self) -> list[PluginFailure]:
        """Plugins that could not be loaded, with the error."""
        return self._registry.all_failures()

    def register_plugin(self, plugin: Any, name: str | None = None) -> PluginInfo:
        """Register an in-process plugin (module or object implementing ``ovlite_devices``)."""
        if not callable(getattr(plugin, "ovlite_devices", None)):
            raise PluginError(
                f"register_plugin takes a module or object with an ovlite_devices() hook, "
                f"got {type(plugin).__name__} {plugin!r}"
            )
        before = len(self._registry.failures)
        info = self._registry.register(plugin, name)
        if info is None or len(self._registry.failures) > before:
            raise PluginError(self._registry.failures[-1].error)
        return info

    def unload_plugin(self, name: str) -> None:
        """Remove a plugin registered with :meth:`register_plugin` (by its name), or, as
        openvino's ``unload_plugin``, unload a device (``"CPU"``): ovlite's devices hold
        nothing between compiles, so this checks the name and keeps the core's settings for
        the device, as openvino does.  Any other name raises :class:`PluginError`."""
        if name in self._registry.plugins:
            self._registry.unregister(name)
            return
        try:
            self._device(parse_device(name))
        except (DeviceNotFoundError, DeviceStringError) as exc:
            raise PluginError(
                f"cannot unload {name!r}: no plugin of that name is registered in this Core, "
                f"and it is no device ({exc})"
            ) from None

    def _named_device(self, spec: DeviceSpec) -> tuple[Device, DeviceSpec]:
        """The device of a string a user gave, and its spec with the id spelt as the device
        spells it.  As :meth:`_device`, and with no count, which only a device inside MULTI
        or BATCH takes (``MULTI:CPU(4)``, ``BATCH:CPU(4)``)."""
        device = self._device(spec)
        if spec.count is not None:
            raise DeviceStringError(
                str(spec),
                len(spec.full_name) + 1,
                f"a count in parentheses belongs to a device inside MULTI or BATCH "
                f"(MULTI:{spec}, BATCH:{spec}); {spec.full_name} alone takes none",
            )
        device_id = _device_id(device, spec)
        return device, spec if device_id == spec.id else dataclasses.replace(spec, id=device_id)

    def device(self, spec: DeviceSpec | str) -> Device:
        """The device a spec or device string names (``"CPU"``, ``"GPU.1"``): a
        :class:`DeviceNotFoundError` with suggestions when none is installed, and a
        :class:`DeviceStringError` for a device list after ``:`` on a device that is not
        meta.  Part of :class:`ovlite.plugin.DeviceHost`."""
        return self._device(parse_device(spec) if isinstance(spec, str) else spec)

    def _device(self, spec: DeviceSpec) -> Device:
        """The device ``spec`` names; a device list after ``:`` only for a meta device."""
        device = self._registry.device(spec.name)
        if spec.children is not None and not device.is_meta:
            metas = sorted(name for name, d in self.devices().items() if d.is_meta)
            raise DeviceStringError(
                str(spec),
                len(spec.full_name),
                f"{spec.full_name} takes no device list after ':'; only meta devices do "
                f"({', '.join(metas)})",
            )
        _device_id(device, spec)
        return device

    # ---- properties ------------------------------------------------------------------------

    def set_property(self, device_name: Any, config: Mapping[Any, Any] | None = None) -> None:
        """``set_property({...})`` for every device, or ``set_property("CPU", {...})``."""
        if config is None:
            self._settings.setdefault(_GLOBAL, {}).update(props.normalize_config(device_name))
            return
        spec = parse_device(device_name)
        device, spec = self._named_device(spec)
        checked = props.normalize_config(config)
        if not device.is_meta:
            device.check_config(
                {
                    k: v
                    for k, v in checked.items()
                    if k != DEVICE_PROPERTIES and k not in CORE_KEYS and k not in BATCH_KEYS
                }
            )
        self._settings.setdefault(spec.full_name, {}).update(checked)

    def get_property(self, device_name: Any, key: Any = None) -> Any:
        """A device's property: a setting (set here or its default) or a read-only fact.

        ``get_property(key)`` alone reads the core's own: a setting given to every device
        with ``set_property({...})``, ``CACHE_DIR`` (``""`` when unset) or
        ``AVAILABLE_DEVICES``.
        """
        if key is None:
            return self._core_property(device_name)
        spec = parse_device(device_name)
        device, spec = self._named_device(spec)
        name = props.lookup_key(key).name
        facts = self._device_facts(device, spec)
        settings = self._settings_for(device, spec)
        if name in settings:
            return settings[name]
        if name in facts:
            return facts[name]
        raise UnknownPropertyError(
            f"device {spec.full_name} has no property {name}; it has: {', '.join(sorted(facts))}"
        )

    def _core_property(self, key: Any) -> Any:
        name = props.lookup_key(key).name
        settings = self._settings.get(_GLOBAL, {})
        if name in settings:
            return settings[name]
        if name == props.cache_dir.name:
            return ""
        if name == props.available_devices.name:
            return self.available_devices
        known = sorted({props.cache_dir.name, props.available_devices.name, *settings})
        raise UnknownPropertyError(
            f"the core has no property {name} of its own (name a device: "
            f"get_property('CPU', {name!r})); it has: {', '.join(known)}"
        )

    def _device_facts(self, device: Device, spec: DeviceSpec) -> dict[str, Any]:
        availability = probe(device)
        facts: dict[str, Any] = {
            props.device.full_name.name: device.full_device_name(spec.id),
            props.available_devices.name: device.device_ids(),
            props.device.priority.name: device.priority,
        }
        facts.update(device.setting_defaults(spec.id))
        if availability:
            facts.update(device.device_properties(spec.id))
        capabilities = facts.get(props.device.capabilities.name)
        if (
            isinstance(capabilities, list)
            and props.device.Capability.EXPORT_IMPORT not in capabilities
        ):
            # the core exports and imports every device's compiled models (ovlite/export.py)
            facts[props.device.capabilities.name] = [
                *capabilities,
                props.device.Capability.EXPORT_IMPORT,
            ]
        supported = props.supported_properties.name
        names = sorted({*facts, *device.config_keys, supported})
        # as openvino: name -> "RW" (a setting the device takes) or "RO" (a fact)
        facts[supported] = {n: "RW" if n in device.config_keys else "RO" for n in names}
        return facts

    def _settings_for(self, device: Device, spec: DeviceSpec) -> dict[str, Any]:
        merged = {
            key: value
            for key, value in self._settings.get(_GLOBAL, {}).items()
            if device.is_meta or key in device.config_keys or key in CORE_KEYS or key in BATCH_KEYS
        }
        merged.update(self._settings.get(spec.name, {}))
        if spec.id is not None:
            merged.update(self._settings.get(spec.full_name, {}))
        return merged

    def get_versions(self, device_name: str) -> dict[str, Version]:
        """The package and version behind each device named in ``device_name``."""
        spec = parse_device(device_name)
        versions = {}
        for part in [spec, *(spec.children or ())]:
            if part.excluded:
                continue
            device = self._device(part)
            versions[part.full_name] = Version(device.package, device.version)
        return versions

    # ---- models ----------------------------------------------------------------------------

    def read_model(
        self, model: Any, weights: Any = None, config: Mapping[Any, Any] | None = None
    ) -> Model:
        """Read an ONNX model from a path, bytes, a binary file object or ``onnx.ModelProto``.

        ``weights`` belong to OpenVINO IR, which ovlite does not read: leave them out (an empty
        ``b""`` is accepted, as ported code passes it with model bytes).  ``config`` holds
        properties for this read only, as in openvino: they are checked, a ``CACHE_DIR`` is
        created, and the core's own settings stay as they were.
        """
        check_model_argument(model)
        _check_no_weights("read_model", weights)
        settings = props.normalize_config(config)
        if props.cache_dir.name in settings:
            os.makedirs(settings[props.cache_dir.name], exist_ok=True)
        return read_model(model)  # an IR path fails here, naming the converter to use

    def compile_model(
        self,
        model: Model | str | os.PathLike | bytes | Any,
        device_name: str | DeviceSpec | None = None,
        config: Mapping[Any, Any] | None = None,
        weights: Any = None,
    ) -> CompiledModel:
        """Compile a model (or a path to one, or its bytes) for a device string; ``AUTO``
        when omitted.

        ``config`` takes property keys or their strings; ``DEVICE_PROPERTIES`` gives each
        device its own share (``{"DEVICE_PROPERTIES": {"CPU": {...}}}``).  ``weights`` is
        there for code written for openvino's IR: only ``None`` or an empty ``b""``.
        """
        _check_no_weights("compile_model", weights)
        device_model, checked = self._compile(model, device_name, config)
        compiled = CompiledModel(device_model)
        compiled.compile_config = checked
        return compiled

    def import_model(
        self,
        model_stream: Any,
        device_name: str | DeviceSpec | None = None,
        config: Mapping[Any, Any] | None = None,
    ) -> CompiledModel:
        """Compile what ``compiled.export_model()`` gave (bytes, a binary stream or a u8
        ``Tensor``) on ``device_name`` (the exporting device when omitted), with the exported
        settings and ``config`` on top."""
        from .export import read_export

        onnx_bytes, exported_device, exported_config = read_export(model_stream)
        merged = {**props.normalize_config(exported_config), **props.normalize_config(config)}
        device = device_name if device_name is not None else exported_device
        return self.compile_model(onnx_bytes, device, merged)

    def compile_child(
        self, model: Model, spec: DeviceSpec | str, config: Mapping[Any, Any] | None = None
    ) -> DeviceCompiledModel:
        """Compile ``model`` for a meta device's child as :meth:`compile_model` does, and
        return the device's compiled model (part of :class:`ovlite.plugin.DeviceHost`)."""
        return self._compile(model, spec, config)[0]

    def _compile(
        self, model: Any, device_name: str | DeviceSpec | None, config: Mapping[Any, Any] | None
    ) -> tuple[DeviceCompiledModel, dict[str, Any]]:
        """The device's compiled model, with the settings the core applies itself
        (``OVLITE_INFERENCE_TIMEOUT``) in its properties, and ``config`` as checked (which
        ``export_model`` keeps: it can be checked only once the device's plugin is loaded)."""
        model = read_model(model)
        spec = parse_device(device_name if device_name is not None else "AUTO")
        device, spec = self._named_device(spec)  # first: loading plugins registers its keys
        checked = props.normalize_config(config)
        availability = probe(device)
        if not availability:
            raise DeviceUnavailableError(
                f"device {spec.full_name} ({device.package}) cannot run here: {availability.reason}"
            )
        merged = self._compile_config(device, spec, checked)
        core_settings = {key: merged.pop(key) for key in CORE_KEYS & merged.keys()}
        batching = {} if device.is_meta else {k: merged[k] for k in BATCH_KEYS & merged.keys()}
        for key in batching.keys() - device.config_keys:  # a device may batch on its own too
            del merged[key]
        if not device.is_meta:
            device.check_config(merged)
        self._check_bounds(device, spec, merged)
        started = time.perf_counter()
        compiled: DeviceCompiledModel | None = None
        if (
            not device.is_meta
            and merged.get(props.hint.performance_mode.name) == PerformanceMode.THROUGHPUT
            and batching.get(props.hint.allow_auto_batching.name, True)
        ):
            compiled = self._batch_automatically(
                device, model, spec, merged, batching.get(props.auto_batch_timeout.name)
            )
        if compiled is None:
            compiled = _compile_on(device, model, spec, merged, self)
        # converted with the rest of the config (normalize_config)
        compiled.properties[props.inference_timeout.name] = core_settings.get(
            props.inference_timeout.name, 0
        )
        if log.isEnabledFor(logging.DEBUG):  # reading every property is not free
            log.debug(
                "compiled %r for %s in %.1f ms: %s",
                model.friendly_name,
                spec,
                (time.perf_counter() - started) * 1000,
                {k: compiled.get_property(k) for k in compiled.supported_properties()},
            )
        return compiled, checked

    def _batch_automatically(
        self,
        device: Device,
        model: Model,
        spec: DeviceSpec,
        config: dict[str, Any],
        timeout_ms: int | None,
    ) -> DeviceCompiledModel | None:
        """``BATCH:<device>(OPTIMAL_BATCH_SIZE)`` when the BATCH device is installed, the
        device reports a batch size and the model can be batched; ``None`` otherwise."""
        batching = self._registry.find("BATCH")
        if not isinstance(batching, AutomaticBatching):
            return None

        def compile_on_device(to_compile: Model) -> DeviceCompiledModel:
            return _compile_on(device, to_compile, spec, config, self)

        return batching.batch_automatically(
            model, spec, config, timeout_ms, compile_on_device, self
        )

    def _check_bounds(self, device: Device, spec: DeviceSpec, config: dict[str, Any]) -> None:
        """``NUM_STREAMS`` at most the upper bound of the device's ``RANGE_FOR_STREAMS``;
        ``INFERENCE_NUM_THREADS`` (and the streams of a device that reports no range, as meta
        devices, whose children are checked as they compile) at most
        :data:`MAX_THREADS_PER_CPU` per logical CPU: every stream runs at least one thread."""
        cap = MAX_THREADS_PER_CPU * (os.cpu_count() or 1)
        streams = config.get(props.streams.num.name)
        span = None if device.is_meta else _streams_range(device, spec.id)
        if streams is not None and span is not None and streams > span[1]:
            raise PropertyValueError(
                f"bad value {int(streams)} for {props.streams.num.name} on {spec.full_name}: "
                f"at most {span[1]}, the upper bound of the device's "
                f"{props.range_for_streams.name} {span}"
            )
        for key in (props.streams.num.name, props.inference_num_threads.name):
            value = config.get(key)
            if value is not None and value > cap:
                raise PropertyValueError(
                    f"bad value {int(value)} for {key} on {spec.full_name}: at most {cap} "
                    f"({MAX_THREADS_PER_CPU} per logical CPU of this machine)"
                )

    def _compile_config(
        self, device: Device, spec: DeviceSpec, config: dict[str, Any]
    ) -> dict[str, Any]:
        merged = self._settings_for(device, spec)
        per_device = dict(merged.pop(DEVICE_PROPERTIES, {}))
        per_device.update(config.get(DEVICE_PROPERTIES, {}))
        merged.update({k: v for k, v in config.items() if k != DEVICE_PROPERTIES})
        if device.is_meta:
            if per_device:
                merged[DEVICE_PROPERTIES] = per_device
        else:
            merged.update(per_device.get(spec.name, {}))
            if spec.id is not None:
                merged.update(per_device.get(spec.full_name, {}))
        return merged

    def query_model(
        self, model: Any, device_name: str, config: Mapping[Any, Any] | None = None
    ) -> dict[str, str]:
        """Which device runs each node of ``model`` on ``device_name``: ``{node: device}``.

        As in OpenVINO, a device lists the nodes it supports; nodes it does not take are
        left out.  ORT-backed devices answer from ONNX Runtime's own partitioning of the
        model; ``HETERO:A,B`` shows its split over A and B.  Unnamed nodes are reported as
        ``<OpType>_<index>``.
        """
        model = read_model(model)
        spec = parse_device(device_name)
        device, spec = self._named_device(spec)
        availability = probe(device)
        if not availability:
            raise DeviceUnavailableError(
                f"device {spec.full_name} ({device.package}) cannot run here: {availability.reason}"
            )
        checked = self._compile_config(device, spec, props.normalize_config(config))
        if not device.is_meta:
            checked = {k: v for k, v in checked.items() if k not in CORE_KEYS | BATCH_KEYS}
            device.check_config(checked)
        return device.query_model(model, spec, checked, self)


def _device_id(device: Device, spec: DeviceSpec) -> str | None:
    """``spec.id`` as ``device`` spells it: ids are case-insensitive, as names are
    (``openvino.cpu`` is ``OPENVINO.CPU``); :class:`DeviceNotFoundError` for an unknown id."""
    if spec.id is None:
        return None
    ids = device.device_ids()
    if spec.id in ids:
        return spec.id
    for known in ids:
        if known.upper() == spec.id.upper():
            return known
    raise DeviceNotFoundError(spec.full_name, [f"{spec.name}.{i}" for i in ids] or [spec.name])


def _streams_range(device: Device, device_id: str | None) -> tuple[int, int] | None:
    """The device's ``RANGE_FOR_STREAMS`` ``(low, high)``, if it reports one."""
    reported = device.device_properties(device_id).get(props.range_for_streams.name)
    if not isinstance(reported, (tuple, list)) or len(reported) != 2:
        return None
    try:
        return int(reported[0]), int(reported[1])
    except (TypeError, ValueError):
        return None


def _compile_on(
    device: Device, model: Model, spec: DeviceSpec, config: dict[str, Any], core: Core
) -> DeviceCompiledModel:
    """``device.compile_model``, with an unexpected exception from the plugin turned into a
    :class:`CompileError` naming the device (so AUTO can move on to the next candidate)."""
    try:
        compiled = device.compile_model(model, spec, config, core)
    except OvliteError:
        raise
    except Exception as exc:
        raise CompileError(
            f"device {spec} ({device.package}) failed to compile {model.friendly_name!r}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(compiled, DeviceCompiledModel):
        raise PluginError(
            f"device {spec} ({device.package}) returned {type(compiled).__name__} from "
            f"compile_model; a device returns an ovlite.plugin.CompiledModel"
        )
    return compiled


_default_core: Core | None = None


def default_core() -> Core:
    """The ``Core`` behind the module-level :func:`compile_model`."""
    global _default_core
    if _default_core is None:
        _default_core = Core()
    return _default_core


def _check_no_weights(call: str, weights: Any) -> None:
    """Refuse IR weights, naming them; ``None`` and an empty ``b""`` pass."""
    if weights is not None and not (isinstance(weights, bytes | bytearray) and not weights):
        raise UnsupportedModelFormatError(
            f"{call}(weights={weights!r}): separate weights belong to OpenVINO IR; ONNX "
            f"models keep their weights inside the file (or in external data beside it). "
            f"{IR_HINT[0].upper()}{IR_HINT[1:]}"
        )


def compile_model(
    model: Any, device_name: str | None = None, config: Mapping[Any, Any] | None = None
) -> CompiledModel:
    """``ovlite.compile_model(path_or_model, "CPU", {...})`` on a shared default ``Core``."""
    return default_core().compile_model(model, device_name, config)
