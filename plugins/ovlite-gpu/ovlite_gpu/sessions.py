"""ONNX Runtime sessions on a GPU provider, refusing ONNX Runtime's silent CPU fallback.

ONNX Runtime quietly runs a model on its CPU provider when the requested provider is
missing from the installed flavour or fails to initialise (a missing CUDA or cuDNN
library), and also hands single nodes the GPU provider lacks to the CPU.  Each session here
is created with ``session.disable_cpu_ep_fallback=1`` (ONNX Runtime then refuses to create a
session that would put any node on the CPU), and its providers are checked afterwards; both
failures become :class:`~ovlite.errors.CompileError` saying what happened and what to do.
"""

from __future__ import annotations

from typing import Any

from ovlite import CompileError
from ovlite.plugin import create_session

from .backends import Backend, install_hint

#: ONNX Runtime's session option that forbids placing nodes on the CPU provider.
DISABLE_CPU_FALLBACK = "session.disable_cpu_ep_fallback"


def session_providers(
    backend: Backend, ordinal: int | None, available: list[str], accelerate: bool = True
) -> list[tuple[str, dict[str, str]]]:
    """The provider list for a session: the backend's accelerator (TensorRT) first when
    ``accelerate`` and the installed onnxruntime offers it, then the backend's provider, both
    on device ``ordinal``.  The CPU provider is never listed."""
    options = backend.provider_options(ordinal)
    providers = []
    if accelerate and backend.accelerator and backend.accelerator in available:
        providers.append((backend.accelerator, dict(options)))
    providers.append((backend.provider, dict(options)))
    return providers


def session_options(backend: Backend) -> Any:
    """Session options for one stream: one CPU thread (the GPU does the work), no spinning,
    and no CPU fallback unless the backend *is* the CPU stand-in."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.enable_mem_pattern = backend.memory_pattern
    if backend.provider != "CPUExecutionProvider":
        options.add_session_config_entry(DISABLE_CPU_FALLBACK, "1")
    return options


def create_gpu_session(
    source: str | bytes, backend: Backend, ordinal: int | None, what: str, accelerate: bool = True
) -> tuple[Any, list[str], str]:
    """A session on ``backend`` (device ``ordinal``); returns it, the providers it runs on, and
    a note ("" or why the accelerator was left out).

    Built with the core's :func:`ovlite.onnxruntime.create_session`, which refuses a session
    that lacks a listed provider and turns off the Python wrapper's own fallback.  When the
    accelerator (TensorRT) fails to initialise, the session is created again on the backend's
    provider alone, on the same device, and the note says so.  Raises :class:`CompileError`
    when ONNX Runtime cannot create it on the GPU, with the likely cause and the fix; ``what``
    ("GPU.0 could not compile model 'm'") starts the message.
    """
    import onnxruntime as ort

    available = ort.get_available_providers()
    providers = session_providers(backend, ordinal, available, accelerate)
    note = ""
    try:
        session = create_session(source, session_options(backend), providers, what)
    except CompileError as exc:
        if len(providers) == 1:
            raise CompileError(explain_failure(str(exc), backend, available)) from exc
        note = f"{providers[0][0]} left out: {str(exc).strip().splitlines()[0][:300]}"
        try:
            session = create_session(source, session_options(backend), providers[1:], what)
        except CompileError as again:
            raise CompileError(explain_failure(str(again), backend, available)) from again
    return session, session.get_providers(), note


def explain_failure(message: str, backend: Backend, available: list[str]) -> str:
    """``message`` (a refused or fallen-back session) with the likely cause and the fix."""
    message = message.rstrip(". ")
    if backend.provider not in available:
        return f"{message}. {_missing_provider_note(backend, available)}"
    if "fallback to CPU EP has been explicitly disabled" in message:
        return (
            f"{message}. {backend.provider} could not take every node (it failed to "
            f"initialise, or some operators have no {backend.name} kernel), and ovlite does not "
            f"let ONNX Runtime run them on the CPU behind your back; check the {backend.name} "
            f"libraries (CUDA/cuDNN versions matching onnxruntime), or split the model "
            f"explicitly with HETERO:GPU,CPU"
        )
    return f"{message}. {_missing_provider_note(backend, available)}"


def _missing_provider_note(backend: Backend, available: list[str]) -> str:
    if backend.provider in available:
        return (
            f"{backend.provider} is in this onnxruntime but failed to initialise; ONNX "
            f"Runtime's log above says why (usually a missing or mismatched driver library)"
        )
    return (
        f"The installed onnxruntime has no {backend.provider} (it offers "
        f"{', '.join(available)}); {install_hint()}"
    )


__all__ = ["DISABLE_CPU_FALLBACK", "create_gpu_session", "session_providers"]
