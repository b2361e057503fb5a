"""``DeviceHost``: what a device may ask of the core (OpenVINO's ``ICore``).

``Core`` implements it and hands itself to ``Device.compile_model`` and
``Device.query_model``.  Meta devices (MULTI, AUTO, BATCH, HETERO, RAY) use it to find and
compile their children; nothing else of the core is part of the plugin API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .device import CompiledModel, Device
    from .device_string import DeviceSpec
    from .model import Model


@runtime_checkable
class DeviceHost(Protocol):
    """The core, as devices see it."""

    @property
    def available_devices(self) -> list[str]:
        """Devices that can run here (``CPU``, ``GPU.0``, ...), meta devices left out."""
        ...

    def devices(self) -> dict[str, Device]:
        """Every installed device family, available or not, by name."""
        ...

    def device(self, spec: DeviceSpec | str) -> Device:
        """The device a spec names (:class:`DeviceNotFoundError` with suggestions if none)."""
        ...

    def compile_child(
        self, model: Model, spec: DeviceSpec | str, config: Mapping[Any, Any] | None = None
    ) -> CompiledModel:
        """Compile ``model`` on another device as ``Core.compile_model`` does (the core's
        settings, checks, automatic batching and error wrapping), returning the device's
        compiled model to submit jobs to."""
        ...

    def get_property(self, device_name: str, key: Any) -> Any:
        """A device's property: a setting (set on the core, or its default) or a fact."""
        ...


@runtime_checkable
class AutomaticBatching(Protocol):
    """A device that batches automatically under the THROUGHPUT hint (``BATCH``): the core
    finds it in the registry and asks it before compiling on a plain device."""

    def batch_automatically(
        self,
        model: Model,
        spec: DeviceSpec,
        config: dict[str, Any],
        timeout_ms: int | None,
        compile_on_device: Callable[[Model], CompiledModel],
        host: DeviceHost,
    ) -> CompiledModel | None:
        """The model compiled and batched for ``spec``, or ``None`` to compile it as usual.

        ``compile_on_device(model)`` compiles a model on the device itself, with the core's
        checked ``config`` and error handling.
        """
        ...


__all__ = ["AutomaticBatching", "DeviceHost"]
