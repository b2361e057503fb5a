"""``OpenVINODevice``: the ``OPENVINO`` device family, on ONNX Runtime's OpenVINO provider.

Device ids are OpenVINO's own device names: ``OPENVINO.CPU``, ``OPENVINO.GPU.0``,
``OPENVINO.NPU``; ``OPENVINO`` alone lets OpenVINO choose (its ``AUTO`` device).
``NPUDevice`` is the same device under the name ``NPU`` (``OPENVINO.NPU``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import ovlite.properties as props
from ovlite import DeviceNotFoundError, Model
from ovlite.plugin import Availability, CompiledModel, Device

from . import settings
from .runtime import RuntimeProbe, probe_runtime
from .settings import SETTINGS


class OpenVINODevice(Device):
    """OpenVINO's devices through ONNX Runtime's OpenVINO execution provider.

    Settings (``settings``) are OpenVINO properties passed to OpenVINO as they are:
    the performance hints, ``NUM_STREAMS``, ``INFERENCE_NUM_THREADS``,
    ``INFERENCE_PRECISION_HINT`` (f32, bf16, f16; unset: OpenVINO's default for the device,
    bf16 on CPUs with bf16 instructions), ``EXECUTION_MODE_HINT``, ``ENABLE_CPU_PINNING``,
    ``ENABLE_HYPER_THREADING`` and ``CACHE_DIR``.  A compiled model reports the values
    OpenVINO chose under the same names.
    """

    name: ClassVar[str] = "OPENVINO"
    #: Below CPU (10): on the host CPU, AUTO keeps ovlite's own CPU device (f32, quicker to
    #: compile); OPENVINO runs when asked for by name.
    priority: ClassVar[int] = 5
    settings = SETTINGS
    #: The OpenVINO device this family name stands for when no id is given (None: AUTO).
    fixed_id: ClassVar[str | None] = None

    def __init__(self) -> None:
        self._probe: RuntimeProbe | None = None

    def runtime(self) -> RuntimeProbe:
        """What the provider probe found (done once per process)."""
        if self._probe is None:
            self._probe = probe_runtime()
        return self._probe

    def availability(self) -> Availability:
        """Available when the onnxruntime-openvino flavour is installed whole and OpenVINO
        lists at least one device; otherwise the reason says what to run."""
        found = self.runtime()
        if found.available and self.fixed_id and self.fixed_id not in found.devices:
            return Availability(
                False,
                f"OpenVINO lists no {self.fixed_id} here (it lists {', '.join(found.devices)})",
            )
        return Availability(found.available, found.reason)

    def device_ids(self) -> list[str]:
        """OpenVINO's device names (``CPU``, ``GPU.0``, ``NPU``); none when unavailable."""
        return [] if self.fixed_id else list(self.runtime().devices)

    def full_device_name(self, device_id: str | None = None) -> str:
        target = self.resolve_id(device_id)
        if target is None:
            return "OpenVINO AUTO (OpenVINO picks among " + ", ".join(self.runtime().devices) + ")"
        library = _library()
        if library is not None:
            try:
                return library.device_property(target, "FULL_DEVICE_NAME")
            except Exception:  # the name is decoration; never fail the device list for it
                pass
        return f"OpenVINO {target}"

    def device_properties(self, device_id: str | None = None) -> dict[str, Any]:
        return {
            props.device.architecture.name: self.resolve_id(device_id) or settings.AUTOMATIC,
        }

    def default_precision(self, device_id: str | None = None) -> str:
        """OpenVINO's default ``INFERENCE_PRECISION_HINT`` for the device (``bf16`` on a CPU
        with bf16 instructions, ``f32`` on others, ``f16`` on GPUs); ``""`` if unknown."""
        target = self.resolve_id(device_id)
        library = _library()
        if target is None or library is None:
            return ""
        try:
            return library.device_property(target, props.hint.inference_precision.name)
        except Exception:
            return ""

    def resolve_id(self, device_id: str | None) -> str | None:
        """The OpenVINO device an id names (``None``: OpenVINO's automatic choice)."""
        return device_id or self.fixed_id

    def onnxruntime_provider(
        self, device_id: str | None, config: Mapping[str, Any]
    ) -> tuple[str, dict[str, str]]:
        """The ONNX Runtime provider name and options that run this device for ``config``.

        For HETERO, which puts parts of a model on several providers in one session.  The
        options carry every setting as an OpenVINO property; under a throughput hint without
        ``NUM_STREAMS``, ``NUM_STREAMS`` is ``AUTO`` (the EP would otherwise fix it to 1);
        without ``INFERENCE_PRECISION_HINT`` the device's default precision is written out
        (the EP would otherwise force f32 on CPU).  Raises ``DeviceNotFoundError`` for an id
        OpenVINO does not list.
        """
        self.check_config(config)
        target = self._check_id(device_id)
        properties = settings.openvino_properties(config)
        automatic = settings.is_automatic(target)
        if settings.wants_throughput(config) and not automatic:
            properties.setdefault(props.streams.num.name, "AUTO")
        precision = props.hint.inference_precision.name
        if precision not in properties and not automatic:
            default = self.default_precision(target)
            if default:
                properties[precision] = default
        cache_dir = config.get(props.cache_dir.name) or None
        return settings.PROVIDER, settings.provider_options(target, properties, cache_dir)

    def compile_model(
        self, model: Model, spec: Any, config: dict[str, Any], host: Any
    ) -> CompiledModel:
        from .compiled import OpenVINOCompiledModel

        target = self._check_id(spec.id)
        return OpenVINOCompiledModel(model, spec.full_name, target, config)

    def _check_id(self, device_id: str | None) -> str:
        """The OpenVINO device name for ``device_id``, or ``DeviceNotFoundError``."""
        target = self.resolve_id(device_id)
        devices = self.runtime().devices
        if target is None:
            return settings.openvino_device(None, devices)
        if target not in devices:
            raise DeviceNotFoundError(
                f"OPENVINO.{target}", [f"OPENVINO.{name}" for name in devices] or ["OPENVINO"]
            )
        return target


class NPUDevice(OpenVINODevice):
    """``NPU``: OpenVINO's NPU through the OpenVINO provider (the same as ``OPENVINO.NPU``)."""

    name: ClassVar[str] = "NPU"
    priority: ClassVar[int] = 100
    fixed_id: ClassVar[str | None] = "NPU"

    def compile_model(
        self, model: Model, spec: Any, config: dict[str, Any], host: Any
    ) -> CompiledModel:
        from .compiled import OpenVINOCompiledModel

        target = self._check_id(None)
        return OpenVINOCompiledModel(model, spec.full_name, target, config)


def _library() -> Any:
    from .openvino_c import library

    try:
        return library()
    except Exception:
        return None
