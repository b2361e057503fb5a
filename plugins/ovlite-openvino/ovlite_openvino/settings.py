"""From an ovlite config to OpenVINO properties and the OpenVINO EP's provider options.

Every setting the OPENVINO device takes is an OpenVINO property of the same name, handed
to OpenVINO unchanged (as the string OpenVINO parses).  OpenVINO accepts some values it
cannot honour without a word (an unknown ``INFERENCE_PRECISION_HINT`` becomes ``dynamic``),
so the values are checked here first.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from typing import Any

import ovlite.properties as props
from ovlite import PropertyValueError, Type
from ovlite.plugin import Setting
from ovlite.properties.hint import ExecutionMode, PerformanceMode
from ovlite.properties.streams import Num

PROVIDER = "OpenVINOExecutionProvider"
#: ``device_type`` for OpenVINO's own choice of device (the family name with no id).
AUTOMATIC = "AUTO"
#: Precisions OpenVINO computes in; others are refused before OpenVINO would ignore them.
PRECISIONS = (Type.f32, Type.bf16, Type.f16)


def check_precision(precision: Type) -> None:
    """Refuse a precision OpenVINO would take and ignore, naming it and what is expected."""
    if precision not in PRECISIONS:
        raise PropertyValueError(
            f"INFERENCE_PRECISION_HINT {precision} is not a precision OpenVINO computes in; "
            f"expected one of {', '.join(str(p) for p in PRECISIONS)}"
        )


def _default_precision(device: Any, device_id: str | None) -> str:
    return device.default_precision(device_id)


#: The settings the device takes, each passed to OpenVINO under the same name.  Defaults are
#: what ovlite reports when unset; OpenVINO then applies its own (the precision is read from
#: OpenVINO for the device).
SETTINGS = (
    Setting(props.hint.performance_mode, PerformanceMode.LATENCY),
    Setting(props.hint.num_requests, 0),
    Setting(props.streams.num, 1),
    Setting(props.inference_num_threads, 0),
    Setting(props.hint.inference_precision, check=check_precision, default_from=_default_precision),
    Setting(props.hint.execution_mode, ExecutionMode.PERFORMANCE),
    Setting(props.hint.enable_cpu_pinning, False),
    Setting(props.hint.enable_hyper_threading, False),
    Setting(props.cache_dir, ""),
)


def openvino_device(device_id: str | None, devices: Sequence[str] = ()) -> str:
    """The OpenVINO device name for an ovlite id: ``GPU.0`` -> ``GPU.0``; none ->
    ``AUTO:<devices>``, OpenVINO's automatic choice among them (the EP claims no node for a
    bare ``AUTO``), accelerators first: GPUs, then NPU, then CPU."""
    if device_id and device_id != AUTOMATIC:
        return device_id
    order = sorted(devices, key=lambda name: (_AUTO_ORDER.get(name.split(".")[0], 1), name))
    return f"{AUTOMATIC}:{','.join(order)}" if order else AUTOMATIC


_AUTO_ORDER = {"GPU": 0, "NPU": 1, "CPU": 2}


def is_automatic(device: str) -> bool:
    """True for OpenVINO's AUTO device (which takes no stream or thread counts)."""
    return device.split(":", 1)[0] == AUTOMATIC


def openvino_properties(config: Mapping[str, Any]) -> dict[str, str]:
    """The OpenVINO properties (strings, as OpenVINO parses them) for a checked config.

    ``INFERENCE_NUM_THREADS`` 0 means OpenVINO's default and is left out; ``CACHE_DIR`` is
    left out too (ONNX Runtime's ``cache_dir`` option carries it).
    """
    found: dict[str, str] = {}
    for key, value in config.items():
        if key == props.cache_dir.name:
            continue
        if key == props.inference_num_threads.name and not value:
            continue
        found[key] = _openvino_value(value)
    return found


def provider_options(
    device: str, properties: Mapping[str, str], cache_dir: str | None
) -> dict[str, str]:
    """The OpenVINO EP's options for an OpenVINO device name and OpenVINO properties.

    The properties go in ``load_config`` under the device's base name (``GPU.0`` -> ``GPU``,
    ``AUTO:GPU,CPU`` -> ``AUTO``),
    which the EP applies after its own defaults, so they win over them (the EP otherwise
    sets ``NUM_STREAMS`` 1 and, on CPU, ``INFERENCE_PRECISION_HINT`` f32).
    """
    options = {"device_type": device}
    if properties:
        base = device.split(":", 1)[0].split(".", 1)[0]
        options["load_config"] = json.dumps({base: dict(properties)}, sort_keys=True)
    if cache_dir:
        options["cache_dir"] = str(cache_dir)
    return options


def wants_throughput(config: Mapping[str, Any]) -> bool:
    return config.get(props.hint.performance_mode.name) in (
        PerformanceMode.THROUGHPUT,
        PerformanceMode.CUMULATIVE_THROUGHPUT,
    )


def _openvino_value(value: Any) -> str:
    if isinstance(value, bool):
        return "YES" if value else "NO"
    if isinstance(value, Num):
        return {-1: "AUTO", -2: "NUMA"}.get(int(value), str(int(value)))
    if isinstance(value, Type):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.name  # OpenVINO's strings: THROUGHPUT, ACCURACY, ...
    return str(value)
