"""``GPUDevice``: the ``GPU`` device family, one ``GPU.N`` per physical GPU."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

import ovlite.properties as props
from ovlite import DeviceNotFoundError, Model
from ovlite.plugin import Availability, CompiledModel, Device, Setting
from ovlite.properties.hint import PerformanceMode

from .backends import backend_for, install_hint
from .enumeration import GPUInfo, enumerate_gpus, read_ep_devices, run_nvidia_smi
from .hints import THROUGHPUT_STREAMS, batch_sizes, plan_streams
from .install import inspect_install
from .keys import BACKEND, DRIVER, ENUMERATED_BY, PCI_BUS_ID, PROVIDERS, TENSORRT, TOTAL_MEMORY

log = logging.getLogger("ovlite.gpu")

Discover = Callable[[], tuple[list[GPUInfo], str]]


def discover_gpus() -> tuple[list[GPUInfo], str]:
    """The GPUs of this machine and a note on the onnxruntime used; ``([], why)`` if none."""
    # CUDA numbers GPUs as we do, by PCI bus, if it reads this before it initialises
    order = os.environ.setdefault("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
    if order != "PCI_BUS_ID":
        log.warning(
            "CUDA_DEVICE_ORDER=%s: GPU.N is numbered by PCI bus, so it may name another GPU "
            "than CUDA device N; unset it or set PCI_BUS_ID",
            order,
        )
    try:
        import onnxruntime as ort

        providers = ort.get_available_providers()
        version = ort.__version__
    except ImportError as exc:
        return [], f"onnxruntime is not installed or cannot be imported ({exc}); {install_hint()}"
    except Exception as exc:  # a clobbered install fails in many ways
        return [], f"onnxruntime is broken ({type(exc).__name__}: {exc}); {install_hint()}"
    install = inspect_install(version, providers)
    if install.errors:
        return [], "; ".join(install.errors)
    backend = backend_for(providers)
    if backend is None:
        return [], (
            f"no GPU execution provider in the installed onnxruntime {version} (it offers "
            f"{', '.join(providers)}); {install_hint()}"
        )
    records = read_ep_devices(ort)
    smi = run_nvidia_smi() if backend.name == "CUDA" else []
    gpus = enumerate_gpus(records, providers, os.environ.get("CUDA_VISIBLE_DEVICES"), smi)
    if not gpus:
        return [], (
            f"onnxruntime {version} offers {backend.provider} but no GPU is visible "
            f"(CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES')!r})"
        )
    notes = [f"onnxruntime {version}, {backend.provider}", *install.notes]
    return gpus, "; ".join(notes)


class GPUDevice(Device):
    """Every GPU ONNX Runtime can drive here, through the first GPU provider the installed
    onnxruntime flavour offers (CUDA with TensorRT, MIGraphX, DirectML, CoreML).

    ``discover`` replaces hardware discovery (tests pass recorded GPU lists, or GPUs on
    the CPU stand-in backend); by default the machine is probed once, when first asked.
    """

    name = "GPU"
    priority = 100
    settings = (
        Setting(props.hint.performance_mode, PerformanceMode.LATENCY),
        Setting(props.hint.num_requests, 0),
        Setting(props.streams.num, 1),
        Setting(TENSORRT, True),
    )

    def __init__(self, discover: Discover | None = None) -> None:
        self._discover = discover or discover_gpus
        self._found: tuple[list[GPUInfo], str] | None = None

    def _gpus(self) -> list[GPUInfo]:
        if self._found is None:
            try:
                self._found = self._discover()
            except Exception as exc:  # a driver tool or onnxruntime failing in a new way
                self._found = [], f"GPU discovery failed: {type(exc).__name__}: {exc}"
            gpus = self._found[0]
            log.debug("GPU: found %s", [f"GPU.{g.index} {g.name} ({g.source})" for g in gpus])
        return self._found[0]

    def availability(self) -> Availability:
        """Available when the installed onnxruntime offers a GPU provider and a GPU is seen."""
        gpus = self._gpus()
        note = self._found[1] if self._found else ""
        return Availability(bool(gpus), note)

    def gpu(self, device_id: str | None) -> GPUInfo:
        """The GPU ``device_id`` names (``None``: the first)."""
        gpus = self._gpus()
        if not gpus:
            raise DeviceNotFoundError("GPU", [])
        if device_id is None:
            return gpus[0]
        for gpu in gpus:
            if gpu.index == device_id:
                return gpu
        raise DeviceNotFoundError(f"GPU.{device_id}", [f"GPU.{g.index}" for g in gpus])

    def device_ids(self) -> list[str]:
        return [gpu.index for gpu in self._gpus()]

    def full_device_name(self, device_id: str | None = None) -> str:
        gpus = self._gpus()
        if not gpus:
            return "GPU (none available)"
        gpu = self.gpu(device_id)
        return f"{gpu.name} ({gpu.backend.name})"

    def device_properties(self, device_id: str | None = None) -> dict[str, Any]:
        gpu = self.gpu(device_id)
        discrete = gpu.metadata.get("Discrete")
        facts: dict[str, Any] = {
            props.device.type.name: {"1": "discrete", "0": "integrated"}.get(discrete or "", ""),
            props.device.architecture.name: f"{gpu.vendor or gpu.backend.name} {gpu.backend.name}",
            props.device.capabilities.name: [props.device.Capability.FP32],
            props.range_for_streams.name: (1, 2 * THROUGHPUT_STREAMS),
            BACKEND.name: gpu.backend.name,
            PROVIDERS.name: [p for p in (gpu.backend.accelerator, gpu.backend.provider) if p],
            DRIVER.name: gpu.driver,
            PCI_BUS_ID.name: gpu.pci_bus_id,
            ENUMERATED_BY.name: gpu.source,
        }
        if gpu.memory_bytes is not None:
            facts[TOTAL_MEMORY.name] = gpu.memory_bytes
        return facts

    def onnxruntime_provider(
        self, device_id: str | None, config: Mapping[str, Any]
    ) -> tuple[str, dict[str, str]] | None:
        """``("CUDAExecutionProvider", {"device_id": "1"})`` for ``GPU.1`` on CUDA, etc."""
        gpu = self.gpu(device_id)
        return gpu.backend.provider, gpu.backend.provider_options(gpu.ordinal)

    def model_batch_size(
        self, model: Model, device_id: str | None, config: Mapping[str, Any]
    ) -> int | None:
        """``OPTIMAL_BATCH_SIZE`` for ``model`` on this GPU (see :mod:`ovlite_gpu.hints`)."""
        gpu = self.gpu(device_id)
        return batch_sizes(model.proto, gpu.memory_bytes, plan_streams(config).streams).optimal

    def compile_model(
        self, model: Model, spec: Any, config: dict[str, Any], host: Any
    ) -> CompiledModel:
        from .compiled import GPUCompiledModel

        return GPUCompiledModel(model, spec.full_name, config, self.gpu(spec.id))


__all__ = ["GPUDevice", "discover_gpus"]
