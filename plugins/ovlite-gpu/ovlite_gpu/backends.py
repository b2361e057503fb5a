"""The GPU backends: which ONNX Runtime execution provider drives a GPU, in preference order.

Each ONNX Runtime flavour offers one of them (``onnxruntime-gpu``: CUDA and TensorRT,
``onnxruntime-migraphx``: MIGraphX, ``onnxruntime-directml``: DirectML, the macOS wheel of
plain ``onnxruntime``: CoreML).  The plugin uses the first one the installed flavour offers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Backend:
    """One way of running a model on a GPU through ONNX Runtime.

    ``provider`` is the execution provider that must run the model; ``accelerator`` an
    optional provider tried before it (TensorRT before CUDA) that may drop out without
    failing the compile; ``extra`` the ``ovlite-gpu[...]`` extra that installs the flavour;
    ``memory`` the device name ONNX Runtime gives this backend's memory in IO binding
    (``"cuda"``), empty where outputs are bound in host memory; ``device_option`` the
    provider option that picks the physical device, empty where the provider has none;
    ``memory_pattern`` False where the provider refuses ONNX Runtime's memory-pattern
    optimization (DirectML).
    """

    name: str
    provider: str
    extra: str
    flavour: str
    memory: str = ""
    device_option: str = "device_id"
    accelerator: str = ""
    memory_pattern: bool = True

    def provider_options(self, ordinal: int | None) -> dict[str, str]:
        """The options that put a session on the device with this ordinal."""
        if ordinal is None or not self.device_option:
            return {}
        return {self.device_option: str(ordinal)}


CUDA = Backend(
    "CUDA",
    "CUDAExecutionProvider",
    "cuda",
    "onnxruntime-gpu",
    memory="cuda",
    accelerator="TensorrtExecutionProvider",
)
MIGRAPHX = Backend("MIGraphX", "MIGraphXExecutionProvider", "migraphx", "onnxruntime-migraphx")
DIRECTML = Backend(
    "DirectML", "DmlExecutionProvider", "directml", "onnxruntime-directml", memory_pattern=False
)
COREML = Backend("CoreML", "CoreMLExecutionProvider", "coreml", "onnxruntime", device_option="")

#: Preference order: the first backend whose provider the installed onnxruntime offers wins.
BACKENDS: tuple[Backend, ...] = (CUDA, MIGRAPHX, DIRECTML, COREML)

#: PCI vendor ids, for names when a record carries no vendor string.
VENDORS = {0x10DE: "NVIDIA", 0x1002: "AMD", 0x8086: "Intel", 0x106B: "Apple"}


def backend_for(providers: list[str] | tuple[str, ...]) -> Backend | None:
    """The preferred backend among ``providers`` (ONNX Runtime's available providers)."""
    return next((backend for backend in BACKENDS if backend.provider in providers), None)


def backend_named(provider: str) -> Backend | None:
    """The backend whose provider (or accelerator) is ``provider``."""
    return next((b for b in BACKENDS if provider in (b.provider, b.accelerator) and provider), None)


def install_hint() -> str:
    """How to get a GPU execution provider, for availability messages."""
    return (
        "install ovlite-gpu[cuda] for NVIDIA GPUs (ovlite-gpu[migraphx] for AMD, "
        "ovlite-gpu[directml] on Windows, ovlite-gpu[coreml] on macOS)"
    )


#: Not a GPU: ONNX Runtime's CPU provider standing in for a GPU backend in tests and on
#: machines without one, so the plugin's sessions, streams and IO binding run for real.
#: Never chosen by enumeration; tests build devices on it explicitly.
CPU_STANDIN = Backend(
    "CPU stand-in for a GPU",
    "CPUExecutionProvider",
    "",
    "onnxruntime",
    memory="cpu",
    device_option="",
)
