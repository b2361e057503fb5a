"""Is ONNX Runtime's OpenVINO execution provider here, and which OpenVINO devices does it see?

The provider comes only with the ``onnxruntime-openvino`` flavour of ONNX Runtime, which
replaces the plain ``onnxruntime`` module (see :mod:`ovlite.onnxruntime_install`).  When it
is missing or the install is broken, the reason says what is installed and gives the pip
commands that switch to the OpenVINO flavour.
"""

from __future__ import annotations

from dataclasses import dataclass

from ovlite.plugin import (
    InstallReport,
    inspect_onnxruntime_install,
    onnxruntime_use_commands,
)

from .settings import PROVIDER

#: The distribution that carries the OpenVINO execution provider.
RUNTIME_DISTRIBUTION = "onnxruntime-openvino"


@dataclass(frozen=True)
class RuntimeProbe:
    """What the probe found: whether the provider runs, why not, and OpenVINO's devices."""

    available: bool
    reason: str
    devices: tuple[str, ...] = ()
    onnxruntime_version: str = ""


def switch_command(report: InstallReport | None = None) -> str:
    """The shell command that leaves ``onnxruntime-openvino`` as the one ONNX Runtime."""
    report = report or inspect_onnxruntime_install()
    installed = [flavour.name for flavour in report.flavours]
    return " && ".join(onnxruntime_use_commands(RUNTIME_DISTRIBUTION, installed))


def probe_runtime(paths: list[str] | None = None) -> RuntimeProbe:
    """Check the install from metadata first, then import onnxruntime and ask the provider.

    ``paths`` are where to look for installed distributions (``sys.path``); the import is
    always the real one.
    """
    report = inspect_onnxruntime_install(paths)
    if not report.ok:
        return RuntimeProbe(
            False,
            f"the ONNX Runtime install is broken: {'; '.join(report.problems)}. "
            f"To use OPENVINO run: {switch_command(report)}",
        )
    if report.flavour(RUNTIME_DISTRIBUTION) is None:
        current = ", ".join(report.installed) or "no ONNX Runtime"
        return RuntimeProbe(
            False,
            f"{PROVIDER} comes with the {RUNTIME_DISTRIBUTION} distribution, but {current} is "
            f"installed (its flavours replace each other's onnxruntime module, so only one can "
            f"be installed); to switch run: {switch_command(report)}",
        )
    try:
        import onnxruntime as ort
        from onnxruntime.capi import _pybind_state

        providers = ort.get_available_providers()
        version = ort.__version__
    except Exception as exc:  # a broken install can fail in many ways
        return RuntimeProbe(
            False,
            f"onnxruntime cannot be imported ({type(exc).__name__}: {exc}); "
            f"reinstall with: {switch_command(report)}",
        )
    if PROVIDER not in providers:
        return RuntimeProbe(
            False, f"onnxruntime {version} offers {', '.join(providers)} but not {PROVIDER}"
        )
    try:
        devices = tuple(_pybind_state.get_available_openvino_device_ids())
    except Exception as exc:
        return RuntimeProbe(
            False, f"{PROVIDER} could not list OpenVINO's devices ({type(exc).__name__}: {exc})"
        )
    if not devices:
        return RuntimeProbe(False, f"OpenVINO (onnxruntime {version}) finds no device here")
    return RuntimeProbe(
        True,
        f"{RUNTIME_DISTRIBUTION} {version}, {PROVIDER}; OpenVINO devices: {', '.join(devices)}",
        devices,
        version,
    )
